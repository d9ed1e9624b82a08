//! Test helpers: a temp dir per test and a runner for the real binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repo's fixtures folder (real Stack Exchange data, see tests/data/README.md).
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// A test's own folder, removed when dropped.
pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// `stackmine ARGS` run in this folder.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_stackmine"));
        c.current_dir(self.tmp.path()).args(args);
        c
    }

    /// Runs and returns the output, whatever the exit status.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run stackmine")
    }

    /// Runs, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "stackmine {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs, asserts exit code 2 (an error, not a panic), returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(2),
            "stackmine {args:?} should fail with exit 2:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }

    /// `init` a study named `name` here.
    pub fn study(&self, name: &str) -> String {
        self.ok(&["init", name]);
        name.to_string()
    }

    /// `stats --json` of a study, parsed.
    pub fn stats(&self, study: &str) -> serde_json::Value {
        let out = self.ok(&["stats", "--json", "--study", study]);
        serde_json::from_str(&out).expect("stats JSON")
    }

    /// Opens a study's store for checks.
    pub fn db(&self, study: &str) -> rusqlite::Connection {
        rusqlite::Connection::open(self.path(study).join("study.db")).expect("open study.db")
    }

    /// A query's single integer.
    pub fn count(&self, study: &str, sql: &str) -> i64 {
        self.db(study)
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Writes a file here and returns its path as a string.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> String {
        let p = self.path(rel);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::fs::write(&p, bytes).expect("write");
        p.to_string_lossy().into_owned()
    }
}

/// Asserts two floats agree to 1e-9 relative.
pub fn close(a: &serde_json::Value, b: f64, what: &str) {
    let a = a
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {a} is not a number"));
    assert!(
        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        "{what}: got {a}, want {b}"
    );
}

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

/// A fixture's path as a string, for command lines.
pub fn path(rel: &str) -> String {
    data(rel).to_string_lossy().into_owned()
}

/// A test's own folder, removed when dropped. Its commands run without the
/// sentence encoder (so the built-in linear model is the default and results
/// do not depend on what the machine has) unless made by `with_encoder`.
pub struct Dir {
    pub tmp: tempfile::TempDir,
    encoder: Option<PathBuf>,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
            encoder: None,
        }
    }

    /// A folder whose commands see the encoder; `None` (after a notice)
    /// when it is not installed, see [`encoder_dir`].
    pub fn with_encoder() -> Option<Dir> {
        let encoder = encoder_dir()?;
        Some(Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
            encoder: Some(encoder),
        })
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// `stackmine ARGS` run in this folder.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_stackmine"));
        c.current_dir(self.tmp.path()).args(args);
        match &self.encoder {
            Some(dir) => c.env("STACKMINE_ENCODER", dir),
            None => c.env("STACKMINE_ENCODER", self.tmp.path().join("no-encoder")),
        };
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

    /// `eval --json ARGS`, parsed.
    pub fn eval_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["eval", "--json"];
        all.extend(args);
        serde_json::from_str(&self.ok(&all)).expect("eval JSON")
    }

    /// `eval --json` of a new model of `kind` on label set dl-questions of
    /// study `s`, by `protocol` (study or cv5), parsed.
    pub fn eval_protocol(&self, s: &str, kind: &str, protocol: &str) -> serde_json::Value {
        self.eval_json(&[
            "--study",
            s,
            "--labels",
            "dl-questions",
            "--kind",
            kind,
            "--protocol",
            protocol,
        ])
    }

    /// A study named `s` of the 630 real PyTorch questions, all kept.
    pub fn pytorch_study(&self) -> String {
        let s = self.study("s");
        self.ok(&[
            "ingest",
            &path("stackoverflow-pytorch-labeled/Posts.xml"),
            "--all-questions",
            "--study",
            &s,
        ]);
        s
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

/// Asserts two JSON values have the same shape and strings, and numbers
/// that agree to `rel` relative or 1e-12 absolute: two runs of a numpy
/// reference on different CPUs (BLAS kernels, summation order) differ in the
/// last bits, more where the problem is ill-conditioned.
pub fn json_close(a: &serde_json::Value, b: &serde_json::Value, rel: f64, what: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-12_f64.max(rel * y.abs()),
                "{what}: {x} vs {y}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{what}: lengths");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                json_close(x, y, rel, &format!("{what}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(x), keys(y), "{what}: keys");
            for (k, v) in x {
                json_close(v, &y[k], rel, &format!("{what}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{what}"),
    }
}

/// A `stackmine label serve` process on a free loopback port, killed on drop.
pub struct Server {
    pub child: std::process::Child,
    pub url: String,
    pub port: u16,
}

impl Server {
    pub fn start(dir: &Dir, study: &str) -> Server {
        use std::io::BufRead;
        let mut child = dir
            .cmd(&["label", "serve", "--study", study, "--port", "0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .trim_end_matches('/')
            .to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        let port = url.rsplit(':').next().unwrap().parse().unwrap();
        Server { child, url, port }
    }

    /// Kills the server as `kill -9` would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A raw HTTP/1.1 request to 127.0.0.1:port; returns (status, headers, body).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_lowercase(), body.to_string())
}

/// A small real dump: the first `questions` questions of the PyTorch export
/// (with the answers among them), the first question's body carrying an XSS
/// payload, so the UI's sanitization and CSP are tested on a real post.
pub fn payload_dump(dir: &Dir, questions: usize) -> String {
    let text = std::fs::read_to_string(data("stackoverflow-pytorch-labeled/Posts.xml")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = lines[..2].iter().map(|s| s.to_string()).collect();
    let mut seen = 0;
    for l in &lines[2..] {
        if l.contains("PostTypeId=\"1\"") {
            if seen == questions {
                break;
            }
            seen += 1;
            if seen == 1 {
                let payload = "&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=&quot;x&quot; onerror=&quot;window.__pwned=2&quot;&gt;&lt;a id=&quot;bad&quot; href=&quot;javascript:window.__pwned=3&quot;&gt;click me&lt;/a&gt;";
                out.push(l.replacen(" Body=\"", &format!(" Body=\"{payload}"), 1));
                continue;
            }
        }
        if l.contains("<row ") {
            out.push(l.to_string());
        }
    }
    out.push("</posts>".into());
    dir.write("payload/Posts.xml", out.join("\n").as_bytes())
}

/// A study holding the payload dump as site `stackoverflow.com`, with batch
/// `b1` drawn from all three of its questions.
pub fn study_with_batch(d: &Dir) -> String {
    let s = d.study("s");
    let dump = payload_dump(d, 3);
    d.ok(&[
        "ingest",
        &dump,
        "--site",
        "stackoverflow.com",
        "--all-questions",
        "--study",
        &s,
    ]);
    d.ok(&[
        "sample", "--study", &s, "--name", "b1", "--size", "3", "--seed", "0",
    ]);
    s
}

/// `1234567` → `1,234,567`, as the binary prints counts.
pub fn thousands(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A study holding the three dumps the shared labels come from (every
/// question kept); with `set`, the 820 shared labels imported under that name.
pub fn labeled_study(d: &Dir, set: Option<&str>) -> String {
    let s = d.study("s");
    d.ok(&[
        "ingest",
        &path("stackoverflow-pytorch-labeled/Posts.xml"),
        &path("stackoverflow-dl-deploy/Posts.xml"),
        &path("ai.stackexchange.com-2017"),
        "--all-questions",
        "--study",
        &s,
    ]);
    if let Some(set) = set {
        d.ok(&[
            "label",
            "import",
            &path("labels/dl-questions.csv"),
            "--set",
            set,
            "--study",
            &s,
        ]);
    }
    s
}

/// The sentence encoder's folder if its files are there (scripts/fetch-encoder.sh);
/// otherwise a notice and `None`, except under CI=true, where it fails.
pub fn encoder_dir() -> Option<PathBuf> {
    let dir = stackmine::classify::encoder::default_dir();
    if dir.join("model.safetensors").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but no encoder at {}: .ci/run runs scripts/fetch-encoder.sh",
            dir.display()
        );
    }
    eprintln!(
        "NOTICE: encoder test skipped: no encoder at {} (run scripts/fetch-encoder.sh)",
        dir.display()
    );
    None
}

/// Trains on study `s`'s label set dl-questions as scripts/build-default-model.sh
/// does (`train_args` are its kind and settings), asserts the result is byte for
/// byte the shipped `models/NAME.json`, and that `eval` with no model scores the
/// built-in `NAME` on these labels with a training-set warning.
pub fn check_built_in(d: &Dir, s: &str, train_args: &[&str], name: &str) {
    let out = d.path(&format!("{name}.json"));
    let mut args = vec!["train", "--study", s, "--labels", "dl-questions"];
    args.extend(train_args);
    args.extend(["--validate", "--name", name, "--out", out.to_str().unwrap()]);
    d.ok(&args);
    let shipped =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("models/{name}.json")))
            .expect("shipped model");
    assert!(
        std::fs::read(&out).expect("trained model") == shipped,
        "models/{name}.json is stale: run scripts/build-default-model.sh"
    );
    let e = d.eval_json(&["--study", s, "--labels", "dl-questions"]);
    assert_eq!(e["model"], name);
    assert!(
        e["warning"]
            .as_str()
            .unwrap_or_default()
            .contains("trained on these very labels"),
        "{e}"
    );
}

/// Every file under `dir`, by its path below `dir`, with its bytes.
pub fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            for (k, v) in files(&p) {
                out.insert(
                    format!("{}/{k}", p.file_name().unwrap().to_string_lossy()),
                    v,
                );
            }
        } else {
            out.insert(
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            );
        }
    }
    out
}

/// The Python of the reference packages (scipy, statsmodels, scikit-learn,
/// lifelines, ppi-python), from `STACKMINE_PYTHON`; `None` after a notice
/// saying what is `skipped` when it is unset.
pub fn reference_python(skipped: &str) -> Option<String> {
    match std::env::var("STACKMINE_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            eprintln!("notice: STACKMINE_PYTHON is not set: {skipped}");
            None
        }
    }
}

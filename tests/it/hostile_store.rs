//! Hostile and careless input to the store, the study file, label sets,
//! sampling and the report writer (issue 9), through the real binary and the
//! real SQLite file: foreign and damaged study.db files are refused
//! untouched, read-only studies are readable, output files are all or
//! nothing, names and keys follow one rule, text is escaped in every
//! Markdown writer, and every error prints each cause once, in words.
//!
//! Tests that need `mount` (a read-only bind mount, a small tmpfs) print a
//! notice and skip when the process may not mount (they run as root here).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Dir, labeled_study, path, study_with_batch};
use proptest::prelude::*;
use stackmine::store::{Found, Plan, ReadMode, Refusal, Store, plan, read_mode};
use stackmine::study::Study;

const DEPLOY: &str = "stackoverflow-dl-deploy/Posts.xml";

// ---------------------------------------------------------------- helpers

/// A mount made for a test, unmounted when dropped.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn run_ok(cmd: &mut Command) -> bool {
    cmd.stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `src` mounted read-only at `dst`; `None` (after a notice) when this
/// process may not mount.
fn read_only_view(src: &Path, dst: &Path) -> Option<Mount> {
    std::fs::create_dir_all(dst).unwrap();
    if !run_ok(Command::new("mount").arg("--bind").arg(src).arg(dst)) {
        eprintln!("notice: cannot bind-mount here (not root?); read-only study test skipped");
        return None;
    }
    let m = Mount(dst.to_path_buf());
    if !run_ok(
        Command::new("mount")
            .args(["-o", "remount,ro,bind"])
            .arg(dst),
    ) {
        eprintln!("notice: cannot remount read-only here; read-only study test skipped");
        return None;
    }
    Some(m)
}

/// A tmpfs of `kib` KiB at `dst`; `None` (after a notice) when not permitted.
fn small_disk(dst: &Path, kib: u64) -> Option<Mount> {
    std::fs::create_dir_all(dst).unwrap();
    let ok = run_ok(
        Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dst),
    );
    if !ok {
        eprintln!("notice: cannot mount a tmpfs here (not root?); full-disk test skipped");
        return None;
    }
    Some(Mount(dst.to_path_buf()))
}

/// Every file under `dir` with its bytes, by path relative to `dir`.
fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The files of a folder (names only).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Asserts an error message says each cause once, in words: no segment
/// between ": " repeats and no Rust Debug form shows.
fn says_each_cause_once(err: &str) {
    for line in err.lines().filter(|l| !l.trim().is_empty()) {
        let segments: Vec<&str> = line.split(": ").map(str::trim).collect();
        for (i, s) in segments.iter().enumerate() {
            assert!(
                s.len() < 4 || !segments[..i].contains(s),
                "cause {s:?} printed twice in:\n{err}"
            );
        }
    }
    for debug in [
        "Custom {", "kind:", "Some(", "[1, 2", "Error {", "Os {", "code:",
    ] {
        assert!(!err.contains(debug), "Debug form {debug:?} in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

// ------------------------------------------------- defect 7: foreign files

/// A foreign SQLite file (tables but no stackmine meta row, or a newer
/// user_version, or in WAL mode) is refused by every command before any
/// write or PRAGMA: its bytes stay the same and no -wal, -shm or -journal
/// file appears. Its message names a few tables, never the schema's SQL.
#[test]
fn foreign_sqlite_files_are_refused_untouched() {
    let d = Dir::new();
    let s = d.study("s");
    let db = d.path("s/study.db");
    let csv = d.write("l.csv", b"post_id,primary\n1,crash\n");
    let dump = path(DEPLOY);
    let commands: Vec<Vec<&str>> = vec![
        vec!["info", "--study", &s],
        vec!["stats", "--study", &s],
        vec!["ingest", &dump, "--study", &s],
        vec!["label", "export", "--set", "x", "--study", &s],
        vec!["label", "import", &csv, "--set", "x", "--study", &s],
        vec!["report", "--study", &s, "--out", "rep"],
        vec!["sample", "--study", &s, "--name", "b", "--size", "3"],
        vec!["agree", "--study", &s, "--set", "x"],
    ];
    type Setup = fn(&rusqlite::Connection);
    let cases: [(&str, Setup, &str); 6] = [
        (
            "only a view",
            |c| c.execute_batch("CREATE VIEW v AS SELECT 1;").unwrap(),
            "not a stackmine study store (it has no tables but view v)",
        ),
        (
            "a table of its own",
            |c| {
                c.execute_batch("CREATE TABLE foo(x); INSERT INTO foo VALUES (1);")
                    .unwrap()
            },
            "not a stackmine study store (it has table \"foo\" but no stackmine meta row)",
        ),
        (
            "a newer user_version",
            |c| {
                c.execute_batch(
                    "CREATE TABLE meta(key TEXT, value TEXT); PRAGMA user_version = 99;",
                )
                .unwrap()
            },
            "made by a newer stackmine (schema version 99",
        ),
        (
            "a meta table of another program",
            |c| {
                c.execute_batch(
                    "CREATE TABLE meta(key TEXT, value TEXT); INSERT INTO meta VALUES ('created_by', 'otherapp 2');",
                )
                .unwrap()
            },
            "its meta table was not written by stackmine",
        ),
        (
            "WAL mode",
            |c| {
                c.pragma_update(None, "journal_mode", "WAL").unwrap();
                c.execute_batch("CREATE TABLE foo(x); INSERT INTO foo VALUES (1);")
                    .unwrap();
            },
            "not a stackmine study store",
        ),
        (
            "kilobytes of schema",
            |c| {
                for i in 0..300 {
                    let cols: Vec<String> = (0..20).map(|j| format!("column_{j} TEXT")).collect();
                    c.execute_batch(&format!(
                        "CREATE TABLE table_with_a_long_name_{i}({});",
                        cols.join(", ")
                    ))
                    .unwrap();
                }
            },
            "and 295 more",
        ),
    ];
    for (what, setup, want) in cases {
        let _ = std::fs::remove_file(&db);
        {
            let c = rusqlite::Connection::open(&db).unwrap();
            setup(&c);
        }
        let before = std::fs::read(&db).unwrap();
        let files = names(&d.path("s"));
        assert_eq!(files, ["study.db", "study.toml"], "{what}");
        for args in &commands {
            let err = d.fails(args);
            assert!(err.contains(want), "{what}, {args:?}:\n{err}");
            assert!(err.len() < 600, "{what}: a long message:\n{err}");
            assert!(!err.contains("CREATE"), "{what}: schema SQL in:\n{err}");
            says_each_cause_once(&err);
            assert_eq!(
                std::fs::read(&db).unwrap(),
                before,
                "{what}, {args:?}: changed"
            );
            assert_eq!(
                names(&d.path("s")),
                files,
                "{what}, {args:?}: files appeared"
            );
        }
        assert!(!d.path("rep").exists(), "{what}: a report folder");
    }
}

/// A file that is not an SQLite database, a damaged one, and a folder named
/// study.db are clear errors; an empty file is a new study; a missing one
/// too (for ingest) or "no study store yet" (for the rest).
#[test]
fn damaged_empty_and_odd_store_files() {
    let d = Dir::new();
    let s = d.study("s");
    let db = d.path("s/study.db");
    let mut header = b"SQLite format 3\0".to_vec();
    header.extend(std::iter::repeat_n(0xAB, 4096 - 16));
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "text",
            b"hello, this is not a database\n".to_vec(),
            "not an SQLite database (file is not a database)",
        ),
        (
            "short",
            b"SQLite format 3\0".to_vec(),
            "not an SQLite database (file is not a database)",
        ),
        (
            "a gzip file",
            vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3],
            "not an SQLite database",
        ),
        ("a damaged header", header, "not an SQLite database"),
    ];
    for (what, bytes, want) in cases {
        std::fs::write(&db, &bytes).unwrap();
        for args in [
            vec!["info", "--study", &s],
            vec!["ingest", &path(DEPLOY), "--study", &s],
        ] {
            let err = d.fails(&args);
            assert!(err.contains(want), "{what}: {err}");
            says_each_cause_once(&err);
            assert_eq!(std::fs::read(&db).unwrap(), bytes, "{what}: changed");
            assert_eq!(names(&d.path("s")), ["study.db", "study.toml"], "{what}");
        }
    }
    std::fs::remove_file(&db).unwrap();
    std::fs::create_dir(&db).unwrap();
    let err = d.fails(&["info", "--study", &s]);
    assert!(err.contains("a folder or a special file"), "{err}");
    std::fs::remove_dir(&db).unwrap();
    // Empty: "no study store yet" for reading, a new study for ingest.
    std::fs::write(&db, b"").unwrap();
    let err = d.fails(&["info", "--study", &s]);
    assert!(err.contains("no study store yet"), "{err}");
    d.ok(&["ingest", &path(DEPLOY), "--study", &s]);
    assert!(d.count(&s, "SELECT COUNT(*) FROM questions") > 2000);
}

/// Tables a user adds to a real study are left alone by ingest, migration
/// and every other command; an older study is still migrated.
#[test]
fn tables_a_user_adds_are_left_alone() {
    let d = Dir::new();
    let s = study_with_batch(&d);
    d.db(&s)
        .execute_batch("CREATE TABLE my_notes(note TEXT); INSERT INTO my_notes VALUES ('mine');")
        .unwrap();
    d.ok(&["info", "--study", &s]);
    d.ok(&["stats", "--study", &s]);
    d.ok(&["ingest", &path(DEPLOY), "--study", &s]);
    d.ok(&["report", "--study", &s]);
    let note: String = d
        .db(&s)
        .query_row("SELECT note FROM my_notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(note, "mine");
}

/// Damaged values in a store (an older release, another tool) do not
/// panic the readers: a creation date with multi-byte characters.
#[test]
fn odd_values_in_the_store_do_not_panic_the_readers() {
    let d = Dir::new();
    let s = study_with_batch(&d);
    d.db(&s)
        .execute("UPDATE questions SET created = '２０２０-０１-０２'", [])
        .unwrap();
    let out = d.ok(&["info", "--study", &s]);
    assert!(
        out.contains("questions from ２０２０-０１-０２ to ２０２０-０１-０２"),
        "{out}"
    );
    d.ok(&["report", "--study", &s, "--out", "rep"]);
}

/// A study folder whose name needs escaping in SQLite's `file:` URIs (the
/// store is inspected through one) works like any other.
#[test]
fn a_study_folder_with_uri_characters() {
    let d = Dir::new();
    let s = d.study("a b?#%é&=;");
    let dump = crate::util::payload_dump(&d, 3);
    d.ok(&["ingest", &dump, "--all-questions", "--study", &s]);
    let out = d.ok(&["info", "--study", &s]);
    assert!(out.contains("3 questions"), "{out}");
    assert_eq!(d.stats(&s)["all"]["questions"], 3);
}

/// The decision logic without files: what each kind of file leads to.
#[test]
fn the_open_decision() {
    let v = stackmine::store::SCHEMA_VERSION;
    let ours = |user_version| Found {
        exists: true,
        user_version,
        tables: vec!["meta".into(), "questions".into()],
        others: vec!["index questions_site".into()],
        created_by: Some("stackmine 0.1.0".into()),
    };
    assert_eq!(plan(&Found::default()), Ok(Plan::Create));
    assert_eq!(plan(&ours(v)), Ok(Plan::Current));
    assert_eq!(plan(&ours(1)), Ok(Plan::Migrate { from: 1 }));
    assert_eq!(plan(&ours(v + 1)), Err(Refusal::Newer(v + 1)));
    assert!(matches!(plan(&ours(0)), Err(Refusal::Foreign(_))));
    let foreign = Found {
        exists: true,
        user_version: 0,
        tables: vec!["foo".into()],
        others: Vec::new(),
        created_by: None,
    };
    assert!(matches!(plan(&foreign), Err(Refusal::Foreign(_))));
    // A file with only a view (or a trigger) is not an empty one.
    let view_only = Found {
        exists: true,
        others: vec!["view v".into()],
        ..Found::default()
    };
    assert_eq!(
        plan(&view_only),
        Err(Refusal::Foreign("it has no tables but view v".into()))
    );
    // An empty SQLite file with no tables: a new study.
    let empty = Found {
        exists: true,
        ..Found::default()
    };
    assert_eq!(plan(&empty), Ok(Plan::Create));
    // A newer version with no tables at all is still refused.
    let newer_empty = Found {
        exists: true,
        user_version: 7,
        ..Found::default()
    };
    assert_eq!(plan(&newer_empty), Err(Refusal::Newer(7)));
    // Reading: writable folder → normal read-only; read-only folder →
    // immutable unless a log holds data, which needs its -shm to be read.
    assert_eq!(read_mode(true, true, false), Some(ReadMode::QueryOnly));
    assert_eq!(read_mode(true, false, false), Some(ReadMode::QueryOnly));
    assert_eq!(read_mode(false, false, false), Some(ReadMode::Immutable));
    assert_eq!(read_mode(false, false, true), Some(ReadMode::Immutable));
    assert_eq!(read_mode(false, true, true), Some(ReadMode::ReadOnly));
    assert_eq!(read_mode(false, true, false), None);
}

// ---------------------------------------------- defect 12: read-only study

/// On a read-only mount, commands that only read work and give what they
/// give on the writable study, without -wal or -shm files; commands that
/// write, and a study that needs a migration, say the folder is read-only.
#[test]
fn a_read_only_study_is_readable() {
    let d = Dir::new();
    let s = labeled_study(&d, Some("shared"));
    d.ok(&["sample", "--study", &s, "--name", "b1", "--size", "5"]);
    let want_stats = d.ok(&["stats", "--json", "--study", &s]);
    let want_info = d.ok(&["info", "--json", "--study", &s]);
    let want_export = d.ok(&["label", "export", "--set", "shared", "--study", &s]);
    d.ok(&["report", "--study", &s, "--out", "rep-rw"]);
    assert_eq!(names(&d.path("s")), ["study.db", "study.toml"]);
    let ro = d.path("ro");
    let Some(_mount) = read_only_view(&d.path("s"), &ro) else {
        return;
    };
    assert_eq!(d.ok(&["stats", "--json", "--study", "ro"]), want_stats);
    assert_eq!(d.ok(&["info", "--json", "--study", "ro"]), want_info);
    assert_eq!(
        d.ok(&["label", "export", "--set", "shared", "--study", "ro"]),
        want_export
    );
    d.ok(&[
        "label", "export", "--set", "shared", "--study", "ro", "--out", "x.csv",
    ]);
    assert_eq!(
        std::fs::read_to_string(d.path("x.csv")).unwrap(),
        want_export
    );
    d.ok(&["report", "--study", "ro", "--out", "rep-ro"]);
    assert_eq!(tree(&d.path("rep-ro")), tree(&d.path("rep-rw")));
    assert_eq!(names(&ro), ["study.db", "study.toml"]);
    // Commands that write say why they cannot.
    let csv = d.write("l.csv", b"post_id,primary\n61702825,crash\n");
    for args in [
        vec!["ingest", &path(DEPLOY), "--study", "ro"],
        vec!["sample", "--study", "ro", "--name", "b2", "--size", "3"],
        vec!["label", "import", &csv, "--set", "y", "--study", "ro"],
        vec!["agree", "--study", "ro", "--set", "shared"],
        vec!["classify", "--study", "ro"],
        vec!["report", "--study", "ro"],
    ] {
        let err = d.fails(&args);
        assert!(err.to_lowercase().contains("read-only"), "{args:?}: {err}");
        assert!(!err.contains("Error code"), "{args:?}: {err}");
        says_each_cause_once(&err);
    }
}

/// A WAL-mode study whose changes are still in study.db-wal (a process that
/// died before a checkpoint) is read correctly on a read-only mount; without
/// its -shm file it is a clear error, not a silently older study.
#[test]
fn a_read_only_study_with_a_leftover_log_is_read_in_full() {
    let d = Dir::new();
    let s = study_with_batch(&d);
    let before = d.stats(&s)["all"]["questions"].as_u64().unwrap();
    // Add a question and keep the connection open past the test's end: the
    // change stays in study.db-wal, never checkpointed.
    let conn = rusqlite::Connection::open(d.path("s/study.db")).unwrap();
    conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    conn.execute(
        "INSERT INTO questions (site, id, body_text, code_text, tags, created, created_ms)
         VALUES ('stackoverflow.com', 999999, '', '', '[]', '2020-01-01T00:00:00.000', 1577836800000)",
        [],
    )
    .unwrap();
    let db = d.path("s/study.db");
    let wal = d.path("s/study.db-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    // Copies, as a crashed process leaves them, with and without the index.
    for (name, with_shm) in [("copy", true), ("noshm", false)] {
        let dir = d.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(d.path("s/study.toml"), dir.join("study.toml")).unwrap();
        std::fs::copy(&db, dir.join("study.db")).unwrap();
        std::fs::copy(&wal, dir.join("study.db-wal")).unwrap();
        if with_shm {
            std::fs::copy(d.path("s/study.db-shm"), dir.join("study.db-shm")).unwrap();
        }
    }
    std::mem::forget(conn);
    let Some(_m1) = read_only_view(&d.path("copy"), &d.path("ro")) else {
        return;
    };
    assert_eq!(
        d.stats("ro")["all"]["questions"].as_u64().unwrap(),
        before + 1
    );
    let Some(_m2) = read_only_view(&d.path("noshm"), &d.path("ro2")) else {
        return;
    };
    let err = d.fails(&["stats", "--study", "ro2"]);
    assert!(err.contains("study.db-wal without study.db-shm"), "{err}");
    says_each_cause_once(&err);
    // Where it is writable, the log is folded in as usual.
    assert_eq!(
        d.stats("noshm")["all"]["questions"].as_u64().unwrap(),
        before + 1
    );
}

/// An older study on a read-only mount needs a migration: said so.
#[test]
fn a_read_only_study_that_needs_a_migration_says_so() {
    let d = Dir::new();
    let s = d.study("s");
    {
        let db = rusqlite::Connection::open(d.path("s/study.db")).unwrap();
        db.execute_batch(include_str!("../../src/store/schema.sql"))
            .unwrap();
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('created_by', 'stackmine 0.0.1')",
            [],
        )
        .unwrap();
        db.pragma_update(None, "user_version", 1).unwrap();
    }
    let Some(_m) = read_only_view(&d.path(&s), &d.path("ro")) else {
        return;
    };
    let err = d.fails(&["stats", "--study", "ro"]);
    assert!(
        err.contains("read-only, and its store (schema version 1) must be migrated"),
        "{err}"
    );
    says_each_cause_once(&err);
}

// ---------------------------------------------- defect 13: atomic outputs

/// `index.html` a folder: a clear error before anything is written, so no
/// tables/ folder; the files a user keeps in the report folder survive a
/// report; no temporary file is left.
#[test]
fn a_report_is_written_all_or_nothing() {
    let d = Dir::new();
    let s = study_with_batch(&d);
    std::fs::create_dir_all(d.path("s/rep/index.html")).unwrap();
    let err = d.fails(&["report", "--study", &s, "--out", "s/rep"]);
    assert!(err.contains("rep/index.html: it is a folder"), "{err}");
    says_each_cause_once(&err);
    assert_eq!(names(&d.path("s/rep")), ["index.html"]);
    assert!(names(&d.path("s/rep/index.html")).is_empty());
    // A file where the tables folder goes.
    std::fs::remove_dir(d.path("s/rep/index.html")).unwrap();
    std::fs::write(d.path("s/rep/tables"), b"mine").unwrap();
    let err = d.fails(&["report", "--study", &s, "--out", "s/rep"]);
    assert!(err.contains("tables: it is not a folder"), "{err}");
    assert_eq!(names(&d.path("s/rep")), ["tables"]);
    std::fs::remove_file(d.path("s/rep/tables")).unwrap();
    // Files of the user's in --out are kept.
    std::fs::create_dir_all(d.path("s/rep/tables")).unwrap();
    std::fs::write(d.path("s/rep/notes.txt"), b"mine").unwrap();
    std::fs::write(d.path("s/rep/tables/extra.csv"), b"mine").unwrap();
    d.ok(&["report", "--study", &s, "--out", "s/rep"]);
    assert_eq!(std::fs::read(d.path("s/rep/notes.txt")).unwrap(), b"mine");
    assert_eq!(
        std::fs::read(d.path("s/rep/tables/extra.csv")).unwrap(),
        b"mine"
    );
    assert!(d.path("s/rep/tables/sites.csv").is_file());
    let all = tree(&d.path("s/rep"));
    assert!(all.keys().all(|k| !k.contains(".tmp")), "{:?}", all.keys());
    assert!(all.values().all(|v| !v.is_empty()));
    // stats.md and stats.json (run), study.toml (init), a label export.
    std::fs::create_dir_all(d.path("t/stats.md")).unwrap();
    let err = d.fails(&["run", &path(DEPLOY), "--study", "t", "--out", "t", "-q"]);
    assert!(err.contains("stats.md: it is a folder"), "{err}");
    assert!(!d.path("t/stats.json").exists());
    std::fs::create_dir_all(d.path("u/study.toml")).unwrap();
    let err = d.fails(&["init", "u", "--force"]);
    assert!(err.contains("study.toml: it is a folder"), "{err}");
    std::fs::create_dir_all(d.path("out.csv")).unwrap();
    let err = d.fails(&[
        "label", "export", "--set", "b1", "--study", &s, "--out", "out.csv",
    ]);
    assert!(err.contains("out.csv: it is a folder"), "{err}");
}

/// A full disk: the report, the exported labels and study.toml fail with
/// "No space left", leave no empty or partial file and no temporary file,
/// and the previous files stay as they were.
#[test]
fn a_full_disk_leaves_the_previous_files_intact() {
    let d = Dir::new();
    let s = labeled_study(&d, Some("shared"));
    d.ok(&["agree", "--study", &s, "--set", "shared"]);
    d.ok(&["report", "--study", &s, "--out", "big"]);
    let report_bytes: usize = tree(&d.path("big")).values().map(Vec::len).sum();
    let disk = d.path("disk");
    // Room for the report once and a little more.
    let kib = (report_bytes as u64 / 1024) * 3 + 256;
    let Some(_m) = small_disk(&disk, kib) else {
        return;
    };
    d.ok(&["report", "--study", &s, "--out", "disk/rep"]);
    d.ok(&[
        "label",
        "export",
        "--set",
        "shared",
        "--study",
        &s,
        "--out",
        "disk/l.csv",
    ]);
    d.ok(&["init", "disk/st"]);
    std::fs::write(disk.join("mine.txt"), b"mine").unwrap();
    let old = tree(&disk);
    // Fill the disk.
    let mut filler = std::fs::File::create(disk.join("filler")).unwrap();
    let chunk = vec![0u8; 4096];
    loop {
        use std::io::Write;
        if filler.write_all(&chunk).is_err() {
            break;
        }
    }
    drop(filler);
    for args in [
        vec!["report", "--study", &s, "--out", "disk/rep"],
        vec![
            "label",
            "export",
            "--set",
            "shared",
            "--study",
            &s,
            "--out",
            "disk/l.csv",
        ],
        vec!["init", "disk/st", "--force"],
    ] {
        let err = d.fails(&args);
        assert!(err.contains("No space left on device"), "{args:?}: {err}");
        says_each_cause_once(&err);
        let mut now = tree(&disk);
        now.remove("filler");
        let mut was = old.clone();
        was.remove("filler");
        assert_eq!(now, was, "{args:?}: files changed");
    }
}

/// An ingest that runs out of disk fails with the cause in words and leaves
/// the study as it was: its posts, and no staging file behind.
#[test]
fn an_ingest_on_a_full_disk_leaves_the_study_as_it_was() {
    let d = Dir::new();
    let disk = d.path("disk");
    let Some(_m) = small_disk(&disk, 96 * 1024) else {
        return;
    };
    let s = "disk/s";
    d.ok(&["init", s]);
    d.ok(&[
        "ingest",
        &path("stackoverflow-pytorch-labeled/Posts.xml"),
        "--all-questions",
        "--study",
        s,
    ]);
    let questions = |d: &Dir| {
        let db = rusqlite::Connection::open(d.path("disk/s/study.db")).unwrap();
        db.query_row("SELECT COUNT(*) FROM questions", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    let before = questions(&d);
    assert!(before > 0);
    // Fill the disk, then ingest another site into the same study.
    let mut filler = std::fs::File::create(disk.join("filler")).unwrap();
    let chunk = vec![0u8; 4096];
    loop {
        use std::io::Write;
        if filler.write_all(&chunk).is_err() {
            break;
        }
    }
    drop(filler);
    let err = d.fails(&[
        "ingest",
        &path("stackoverflow-dl-deploy/Posts.xml"),
        "--study",
        s,
    ]);
    assert!(
        err.contains("disk/s/study.db") && err.contains("full"),
        "{err}"
    );
    says_each_cause_once(&err);
    std::fs::remove_file(disk.join("filler")).unwrap();
    assert_eq!(questions(&d), before);
    let left: Vec<String> = std::fs::read_dir(d.path("disk/s"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".ingest-"))
        .collect();
    assert!(left.is_empty(), "staging files left: {left:?}");
    // And the study still takes the ingest once there is room.
    d.ok(&[
        "ingest",
        &path("stackoverflow-dl-deploy/Posts.xml"),
        "--study",
        s,
    ]);
    assert!(questions(&d) > before);
}

// --------------------------------------------- defect 8: label CSV import

/// Hostile and careless label CSVs: each is refused with a message that says
/// what is wrong, and nothing is imported.
#[test]
fn hostile_label_csvs_are_refused_with_reasons() {
    let d = Dir::new();
    let s = d.pytorch_study();
    let huge = format!("post_id,primary\n61702825,{}\n", "x".repeat(100_000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "an HTML annotator name",
            b"post_id,annotator_<img src=x onerror=alert(1)>\n61702825,crash\n".to_vec(),
            "column 2: annotator name \"<img src=x onerror=alert(1)>\" is not valid: a name is 1–64 letters, digits, '_', '.' or '-'",
        ),
        (
            "an empty annotator name",
            b"post_id,annotator_\n61702825,crash\n".to_vec(),
            "annotator name \"\" is not valid",
        ),
        (
            "an annotator name with a space",
            b"post_id,annotator_a b\n61702825,crash\n".to_vec(),
            "annotator name \"a b\" is not valid",
        ),
        (
            "duplicated columns",
            b"post_id,primary,primary,annotator_a,annotator_a\n61702825,crash,crash,crash,crash\n"
                .to_vec(),
            "columns used more than once: primary, annotator_a",
        ),
        (
            "post_id twice",
            b"post_id,post_id,primary\n1,2,crash\n".to_vec(),
            "columns used more than once: post_id",
        ),
        ("an empty file", Vec::new(), "the file is empty"),
        ("only blank lines", b"\n\n\n".to_vec(), "the file is empty"),
        (
            "a header only",
            b"post_id,primary\n".to_vec(),
            "a header but no rows",
        ),
        (
            "a post listed twice",
            b"post_id,primary\n61702825,crash\n61702825,training\n".to_vec(),
            "line 3: post stackoverflow-pytorch-labeled/61702825 is listed twice",
        ),
        (
            "a huge field",
            huge.into_bytes(),
            "line 2: field 2 is 100000 bytes long (at most 4096)",
        ),
        (
            "a huge column name",
            format!("post_id,{}\n1,2\n", "p".repeat(5000)).into_bytes(),
            "a column name is 5000 bytes long",
        ),
        (
            "invalid UTF-8",
            b"post_id,primary\n61702825,cr\xffash\n".to_vec(),
            "line 2: field 2 is not valid UTF-8",
        ),
        (
            "a short row",
            b"post_id,primary,secondary\n61702825,crash\n".to_vec(),
            "line 2: it has 2 fields, the header has 3",
        ),
        (
            "no post_id",
            b"id,primary\n1,crash\n".to_vec(),
            "no post_id column",
        ),
        (
            "no labels",
            b"post_id,note\n61702825,x\n".to_vec(),
            "no primary or annotator_NAME column",
        ),
        (
            "both site and dump",
            b"post_id,site,dump,primary\n61702825,a,b,crash\n".to_vec(),
            "both a site and a dump column",
        ),
        (
            "a category with a separator",
            b"post_id,primary\n61702825,crash;training\n".to_vec(),
            "unknown category \"crash;training\"",
        ),
        (
            "a long unknown category",
            format!("post_id,primary\n61702825,{}\n", "k".repeat(3000)).into_bytes(),
            "unknown category \"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\"…",
        ),
    ];
    for (what, bytes, want) in &cases {
        let f = d.write("bad.csv", bytes);
        let err = d.fails(&["label", "import", &f, "--set", "x", "--study", &s]);
        assert!(err.contains(want), "{what}:\n{err}");
        assert!(
            err.len() < 1000,
            "{what}: a long message ({} bytes)",
            err.len()
        );
        says_each_cause_once(&err);
        assert_eq!(d.count(&s, "SELECT COUNT(*) FROM label_sets"), 0, "{what}");
    }
    // Post Ids that are not positive integers.
    for id in [
        "-5",
        "0",
        "+7",
        "0x10",
        "1e3",
        "99999999999999999999",
        "7.0",
        "",
        " ",
        "١٢",
    ] {
        let f = d.write(
            "bad.csv",
            format!("post_id,primary\n{id},crash\n").as_bytes(),
        );
        let err = d.fails(&["label", "import", &f, "--set", "x", "--study", &s]);
        assert!(
            err.contains("is not a post Id (a positive whole number")
                || err.contains("is not a number"),
            "{id:?}: {err}"
        );
        assert!(err.contains("line 2: post_id"), "{id:?}: {err}");
    }
    // A BOM and CRLF line ends are fine.
    let f = d.write(
        "ok.csv",
        b"\xef\xbb\xbfpost_id,primary,annotator_a\r\n61702825,crash,crash\r\n",
    );
    let out = d.ok(&["label", "import", &f, "--set", "ok", "--study", &s]);
    assert!(
        out.contains("1 posts, 1 final labels, 1 annotator labels (annotators a)"),
        "{out}"
    );
    // A bad set name, with the one rule.
    let err = d.fails(&["label", "import", &f, "--set", "a/b", "--study", &s]);
    assert!(
        err.contains("label set name \"a/b\" is not valid: a name is 1–64 letters"),
        "{err}"
    );
    let err = d.fails(&["sample", "--study", &s, "--name", "<b>", "--size", "1"]);
    assert!(err.contains("batch name \"<b>\" is not valid"), "{err}");
}

/// Names that reached the store before the rules (an older release) are
/// escaped in agree's Markdown and in the report's tables and page.
#[test]
fn stored_names_are_escaped_in_markdown_and_html() {
    let d = Dir::new();
    let s = d.pytorch_study();
    let f = d.write(
        "ok.csv",
        b"post_id,annotator_a,annotator_b\n61702825,crash,crash\n61702826,training,crash\n",
    );
    let ids: Vec<i64> = d
        .db(&s)
        .prepare("SELECT id FROM questions ORDER BY id LIMIT 2")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let csv = String::from_utf8(std::fs::read(&f).unwrap())
        .unwrap()
        .replace("61702825", &ids[0].to_string())
        .replace("61702826", &ids[1].to_string());
    let f = d.write("ok.csv", csv.as_bytes());
    d.ok(&["label", "import", &f, "--set", "x", "--study", &s]);
    let hostile = "<img src=x onerror=alert(1)>|a\\b";
    d.db(&s)
        .execute(
            "UPDATE labels SET annotator = ?1 WHERE annotator = 'a'",
            [hostile],
        )
        .unwrap();
    let md = d.ok(&["agree", "--study", &s, "--set", "x"]);
    assert!(!md.contains("<img"), "{md}");
    assert!(
        md.contains("&lt;img src=x onerror=alert(1)>\\|a\\\\b"),
        "{md}"
    );
    d.ok(&["report", "--study", &s, "--out", "rep"]);
    for (name, bytes) in tree(&d.path("rep")) {
        let text = String::from_utf8_lossy(&bytes);
        if name.ends_with(".md") || name.ends_with(".html") {
            assert!(!text.contains("<img"), "{name}: {text}");
        }
    }
    let agreement = std::fs::read_to_string(d.path("rep/tables/agreement.md")).unwrap();
    assert!(agreement.contains("&lt;img"), "{agreement}");
}

// ------------------------------------------------ defects 9, 3: study keys

/// Keys follow one rule, duplicates are refused, and a study needs two
/// categories; each is refused when the study loads, saying why.
#[test]
fn study_keys_follow_one_rule() {
    let d = Dir::new();
    let s = d.study("s");
    let toml = std::fs::read_to_string(d.path("s/study.toml")).unwrap();
    let one_category = {
        let start = toml.find("[[categories]]").unwrap();
        let second = start + 1 + toml[start + 1..].find("[[categories]]").unwrap();
        let after_published = toml[second..].find("[published]").map(|i| second + i);
        match after_published {
            Some(p) => format!("{}{}", &toml[..second], &toml[p..]),
            None => toml[..second].to_string(),
        }
    };
    let no_category = {
        let start = toml.find("[[categories]]").unwrap();
        let p = toml[start..].find("[published]").map(|i| start + i);
        match p {
            Some(p) => format!("{}{}", &toml[..start], &toml[p..]),
            None => toml[..start].to_string(),
        }
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "a ; in a category",
            toml.replace("key = \"crash\"", "key = \"crash;bug\""),
            "category key \"crash;bug\" is not valid: a key is 1–32 of a-z, 0-9, '_' and '-'",
        ),
        (
            "a , in a category",
            toml.replace("key = \"crash\"", "key = \"crash,bug\""),
            "category key \"crash,bug\" is not valid",
        ),
        (
            "upper case",
            toml.replace("key = \"crash\"", "key = \"Crash\""),
            "category key \"Crash\" is not valid",
        ),
        (
            "HTML",
            toml.replace("key = \"crash\"", "key = \"<b>\""),
            "category key \"<b>\" is not valid",
        ),
        (
            "33 characters",
            toml.replace("key = \"crash\"", &format!("key = \"{}\"", "c".repeat(33))),
            "is not valid: a key is 1–32",
        ),
        (
            "empty",
            toml.replace("key = \"crash\"", "key = \"\""),
            "category key \"\" is not valid",
        ),
        (
            "a category twice",
            toml.replace("key = \"training\"", "key = \"crash\""),
            "category key \"crash\" is used twice",
        ),
        (
            "a framework with a comma",
            toml.replace("key = \"pytorch\"", "key = \"py,torch\""),
            "framework key \"py,torch\" is not valid",
        ),
        (
            "a framework twice",
            toml.replace("key = \"pytorch\"", "key = \"tensorflow\""),
            "framework key \"tensorflow\" is used twice",
        ),
        (
            "a reserved framework key",
            toml.replace("key = \"pytorch\"", "key = \"other\""),
            "framework key \"other\" is reserved",
        ),
        (
            "one category",
            one_category,
            "a study needs at least two categories to sort questions into, this one has 1",
        ),
        (
            "no category",
            no_category,
            "a study needs at least two categories to sort questions into, this one has 0",
        ),
        (
            "not TOML",
            "[study\nname = ".to_string(),
            "is not a valid study file",
        ),
        ("empty", String::new(), "is not a valid study file"),
    ];
    for (what, text, want) in &cases {
        std::fs::write(d.path("s/study.toml"), text).unwrap();
        for args in [
            vec!["info", "--study", &s],
            vec!["ingest", &path(DEPLOY), "--study", &s],
        ] {
            let err = d.fails(&args);
            assert!(err.contains(want), "{what}:\n{err}");
            says_each_cause_once(&err);
        }
        assert!(!d.path("s/study.db").exists(), "{what}: a store was made");
    }
    // A study file that is not UTF-8, or is a folder.
    std::fs::write(d.path("s/study.toml"), b"[study]\nname = \"\xff\xfe\"\n").unwrap();
    let err = d.fails(&["info", "--study", &s]);
    assert!(
        err.contains("cannot read s/study.toml: stream did not contain valid UTF-8"),
        "{err}"
    );
    says_each_cause_once(&err);
    std::fs::remove_file(d.path("s/study.toml")).unwrap();
    std::fs::create_dir(d.path("s/study.toml")).unwrap();
    let err = d.fails(&["info", "--study", &s]);
    assert!(
        err.contains("cannot read s/study.toml: Is a directory"),
        "{err}"
    );
    says_each_cause_once(&err);
    std::fs::remove_dir(d.path("s/study.toml")).unwrap();
    // The default study loads (the only study file the fixtures have).
    std::fs::write(d.path("s/study.toml"), &toml).unwrap();
    d.ok(&["ingest", &path(DEPLOY), "--study", &s]);
    Study::default_study();
}

// -------------------------------------------- defect 11: sampling messages

/// Sampling says what is actually wrong, or what it did instead.
#[test]
fn sampling_messages_say_what_is_wrong() {
    let d = Dir::new();
    let s = study_with_batch(&d);
    // All three questions are in batch b1.
    let err = d.fails(&["sample", "--study", &s, "--name", "b2", "--size", "2"]);
    assert!(
        err.contains("all 3 questions of the study are in other batches already"),
        "{err}"
    );
    let err = d.fails(&[
        "sample",
        "--study",
        &s,
        "--name",
        "b2",
        "--size",
        "0",
        "--allow-redraw",
    ]);
    assert!(!err.contains("no question is left"), "{err}");
    assert!(err.contains("0"), "{err}");
    let out = d.ok(&[
        "sample",
        "--study",
        &s,
        "--name",
        "b3",
        "--confidence",
        "0.95",
        "--margin",
        "1e-200",
        "--allow-redraw",
    ]);
    assert!(out.contains("3 posts drawn"), "{out}");
    assert!(
        out.contains(
            "note: Cochran's size for a margin of 1e-200 is the whole population (3 questions)"
        ),
        "{out}"
    );
}

// ------------------------------------------ defect 15: each cause once

/// A set of failing commands: every message says each cause once, in words.
#[test]
fn every_error_says_each_cause_once() {
    let d = Dir::new();
    let s = d.study("s");
    d.write("bad/study.toml", b"[study]\nname = 3\n");
    d.write(
        "foreign/study.toml",
        &std::fs::read(d.path("s/study.toml")).unwrap(),
    );
    rusqlite::Connection::open(d.path("foreign/study.db"))
        .unwrap()
        .execute_batch("CREATE TABLE foo(x)")
        .unwrap();
    d.write(
        "notdb/study.toml",
        &std::fs::read(d.path("s/study.toml")).unwrap(),
    );
    d.write("notdb/study.db", b"not a database");
    let runs: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["stats", "--study", "nowhere"],
            "no study.toml in nowhere",
        ),
        (vec!["stats", "--study", &s], "no study store yet"),
        (vec!["info", "--study", "bad"], "is not a valid study file"),
        (
            vec!["info", "--study", "foreign"],
            "not a stackmine study store",
        ),
        (vec!["info", "--study", "notdb"], "not an SQLite database"),
        (
            vec![
                "label",
                "import",
                "missing.csv",
                "--set",
                "x",
                "--study",
                "foreign",
            ],
            "not a stackmine study store",
        ),
        (vec!["init", "s"], "exists; use --force"),
        (
            vec!["label", "export", "--set", "x", "--study", &s],
            "no study store yet",
        ),
    ];
    for (args, want) in &runs {
        let err = d.fails(args);
        assert!(err.contains(want), "{args:?}: {err}");
        says_each_cause_once(&err);
    }
    // With a store: a missing label CSV and a missing label set.
    let d = Dir::new();
    let s = study_with_batch(&d);
    for (args, want) in [
        (
            vec![
                "label",
                "import",
                "missing.csv",
                "--set",
                "x",
                "--study",
                &s,
            ],
            "cannot open missing.csv: No such file or directory (os error 2)",
        ),
        (
            vec!["label", "export", "--set", "nope", "--study", &s],
            "no label set named \"nope\"",
        ),
        (
            vec!["agree", "--set", "nope", "--study", &s],
            "no label set named \"nope\"",
        ),
    ] {
        let err = d.fails(&args);
        assert!(err.contains(want), "{args:?}: {err}");
        says_each_cause_once(&err);
    }
}

// ----------------------------------- beyond the list: property tests

fn real_labels() -> Vec<u8> {
    std::fs::read(crate::util::data("labels/dl-questions.csv")).unwrap()
}

/// A store holding the real PyTorch questions, made once for the property
/// tests (the label reader looks posts up in it).
fn store_path() -> &'static Path {
    static DIR: std::sync::OnceLock<Dir> = std::sync::OnceLock::new();
    let d = DIR.get_or_init(|| {
        let d = Dir::new();
        labeled_study(&d, None);
        d
    });
    Box::leak(d.path("s/study.db").into_boxed_path())
}

fn categories() -> Vec<String> {
    Study::default_study()
        .categories
        .iter()
        .map(|c| c.key.clone())
        .collect()
}

/// Reads a CSV: never panics; a success holds only valid names, known kinds,
/// positive Ids and each post once; the same bytes give the same outcome.
fn check_csv(bytes: &[u8]) -> Result<(), TestCaseError> {
    let store = Store::open_read_only(store_path()).unwrap();
    let cats = categories();
    let p = Path::new("fuzz.csv");
    let a = stackmine::label::read_csv(p, bytes, "x", &cats, &store);
    let b = stackmine::label::read_csv(p, bytes, "x", &cats, &store);
    match (&a, &b) {
        (Ok(a), Ok(b)) => {
            prop_assert_eq!(format!("{a:?}"), format!("{b:?}"));
            let mut seen = std::collections::HashSet::new();
            for f in &a.finals {
                prop_assert!(f.post_id > 0);
                prop_assert!(cats.contains(&f.primary));
                prop_assert!(f.secondary.iter().all(|k| cats.contains(k)));
                prop_assert!(seen.insert((f.site.clone(), f.post_id)));
            }
            for l in &a.labels {
                prop_assert!(stackmine::label::valid_name(&l.annotator));
                prop_assert!(cats.contains(&l.primary));
            }
            prop_assert!(a.rows >= a.finals.len());
        }
        (Err(a), Err(b)) => {
            prop_assert_eq!(a.to_string(), b.to_string());
            prop_assert!(a.to_string().len() < 2000);
        }
        _ => prop_assert!(false, "two reads differ"),
    }
    Ok(())
}

/// Parses a study: never panics; a success follows the key rules.
fn check_study(text: &str) -> Result<(), TestCaseError> {
    let p = Path::new("fuzz.toml");
    match Study::parse(text, p) {
        Ok(study) => {
            prop_assert!(study.categories.len() >= 2);
            let mut keys = std::collections::HashSet::new();
            for c in &study.categories {
                prop_assert!(stackmine::study::check_key("category", &c.key).is_ok());
                prop_assert!(keys.insert(c.key.clone()));
            }
            let mut keys = std::collections::HashSet::new();
            for f in &study.frameworks {
                prop_assert!(stackmine::study::check_key("framework", &f.key).is_ok());
                prop_assert!(keys.insert(f.key.clone()));
            }
        }
        Err(e) => {
            let again = Study::parse(text, p).unwrap_err();
            prop_assert_eq!(e.to_string(), again.to_string());
        }
    }
    Ok(())
}

/// Damages real bytes: flips, deletions and insertions at random places.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, what, b) in edits {
        if bytes.is_empty() {
            bytes.push(b);
            continue;
        }
        let i = at % bytes.len();
        match what % 4 {
            0 => bytes[i] = b,
            1 => {
                bytes.remove(i);
            }
            2 => bytes.insert(i, b),
            _ => bytes.insert(i, [b',', b'\n', b'"', b';'][b as usize % 4]),
        }
    }
    bytes
}

/// 200 cases each, or `PROPTEST_CASES` (a longer run for local use:
/// `PROPTEST_CASES=20000 cargo test --test it hostile_store::prop_`).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn prop_label_csv_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_csv(&data)?;
    }

    #[test]
    fn prop_label_csv_mutated_real_file(
        lines in 2usize..40,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..8),
    ) {
        let real = real_labels();
        let head: Vec<u8> = real
            .split_inclusive(|&b| b == b'\n')
            .take(lines)
            .flatten()
            .copied()
            .collect();
        check_csv(&mutate(head, &edits))?;
    }

    #[test]
    fn prop_study_arbitrary_text(text in "(?s).{0,400}") {
        check_study(&text)?;
    }

    #[test]
    fn prop_study_mutated_default(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..6),
    ) {
        let bytes = mutate(stackmine::study::DEFAULT_STUDY_TOML.as_bytes().to_vec(), &edits);
        check_study(&String::from_utf8_lossy(&bytes))?;
    }
}

/// Review item 2: study.toml and label CSVs are read with a bound, so
/// `/dev/zero` and huge files cannot exhaust memory (`label import
/// /dev/zero` aborted on a 4 GiB allocation; a 100 MB line of zeros peaked
/// at 400 MB; a study.toml linked to /dev/zero ran out of memory).
#[test]
fn user_files_are_read_with_a_bound() {
    let d = Dir::new();
    let s = d.pytorch_study();
    let zero = Path::new("/dev/zero").exists();
    let import = |f: &str| d.fails(&["label", "import", f, "--set", "x", "--study", &s]);
    let row_long = "a row is longer than 1 MiB (a field is at most 4096 bytes)";
    let mut tried = 0;
    if zero {
        let err = import("/dev/zero");
        assert!(err.contains(&format!("/dev/zero: {row_long}")), "{err}");
        says_each_cause_once(&err);
        tried += 1;
    }
    // 100 MB of zeros without a line break: stopped after the first MiB.
    let zeros = d.path("zeros.csv");
    std::fs::File::create(&zeros)
        .unwrap()
        .set_len(100_000_000)
        .unwrap();
    let zeros_s = zeros.to_string_lossy().into_owned();
    let err = import(&zeros_s);
    assert!(err.contains(&format!("{zeros_s}: {row_long}")), "{err}");
    // Over the file bound (sparse): refused before reading.
    std::fs::File::options()
        .write(true)
        .open(&zeros)
        .unwrap()
        .set_len(stackmine::limits::MAX_LABEL_CSV_BYTES + 1)
        .unwrap();
    let err = import(&zeros_s);
    assert!(
        err.contains(&format!(
            "{zeros_s}: the file is larger than 1 GiB, the most stackmine reads for a label CSV"
        )),
        "{err}"
    );
    std::fs::remove_file(&zeros).unwrap();
    tried += 2;
    // One quoted field of short lines grows a row past the bound too.
    let mut many = b"post_id,primary\n61702825,\"".to_vec();
    many.extend(b"x\n".repeat(600_000));
    many.extend(b"\"\n");
    let f = d.write("many.csv", &many);
    let err = import(&f);
    assert!(err.contains(&format!("line 2: {row_long}")), "{err}");
    tried += 1;
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM label_sets"), 0);
    // The bound is per row: a real file of more than 1 MiB in all imports.
    let real = String::from_utf8(real_labels()).unwrap();
    let mut big = String::from("post_id,primary,site,note\n");
    let pad = "n".repeat(4000);
    let mut rows = 0;
    for line in real.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[1] == "stackoverflow-pytorch-labeled" {
            big.push_str(&format!("{},{},{},{pad}\n", f[0], f[2], f[1]));
            rows += 1;
        }
    }
    assert!(big.len() > 2 << 20, "{}", big.len());
    let f = d.write("big.csv", big.as_bytes());
    let out = d.ok(&["label", "import", &f, "--set", "big", "--study", &s]);
    assert!(
        out.contains(&format!("{rows} posts, {rows} final labels")),
        "{out}"
    );

    // study.toml: linked to /dev/zero, and just over 16 MiB (sparse).
    let toml = d.path("s/study.toml");
    let want = "the file is larger than 16 MiB, the most stackmine reads for a study file";
    #[cfg(unix)]
    if zero {
        let t = Dir::new();
        std::fs::create_dir_all(t.path("z")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", t.path("z/study.toml")).unwrap();
        let err = t.fails(&["stats", "--study", "z"]);
        assert!(
            err.contains(&format!("cannot read z/study.toml: {want}")),
            "{err}"
        );
        says_each_cause_once(&err);
        tried += 1;
    }
    let text = std::fs::read(&toml).unwrap();
    let f = std::fs::File::options().write(true).open(&toml).unwrap();
    f.set_len(stackmine::limits::MAX_STUDY_BYTES + 1).unwrap();
    let err = d.fails(&["stats", "--study", &s]);
    assert!(err.contains(&format!("study.toml: {want}")), "{err}");
    tried += 1;
    std::fs::write(&toml, text).unwrap();
    d.ok(&["stats", "--study", &s]);
    assert!(tried >= 5, "{tried}");
}

/// Review item 3: `[published]` is checked when the study loads. The
/// reviewer's repro (`crash = nan, bogus = -5` in distribution, `crash =
/// [inf, -1, nan]` in hours) made `report` exit 0 with `d="MNaN 57 …"` in
/// figures/dist.svg; now every command refuses the file, naming the key,
/// and a renamed category no longer leaves stale published figures.
#[test]
fn published_figures_are_checked_when_the_study_loads() {
    let d = Dir::new();
    let s = d.pytorch_study();
    let toml = std::fs::read_to_string(d.path("s/study.toml")).unwrap();
    let cats = "(its categories: crash, migration, implementation, training, comprehension, installation, performance)";
    let edit = |pairs: &[(&str, &str)]| {
        let mut t = toml.clone();
        for (from, to) in pairs {
            assert!(t.contains(from), "{from}");
            t = t.replacen(from, to, 1);
        }
        t
    };
    let unknown_bogus = format!(
        "[published] distribution names category \"bogus\", which is not a category of the study {cats}; rename or remove it"
    );
    let cases: Vec<(&str, String, String)> = vec![
        (
            "the reviewer's repro",
            edit(&[
                ("crash = 0.20", "crash = nan, bogus = -5"),
                ("crash = [0.319, 0.893, 2.455]", "crash = [inf, -1, nan]"),
            ]),
            unknown_bogus.clone(),
        ),
        (
            "a NaN share",
            edit(&[("crash = 0.20", "crash = nan")]),
            "[published] distribution.\"crash\" = nan is not a share: give a fraction from 0 to 1 (0.2 for 20 %)".into(),
        ),
        (
            "a negative share",
            edit(&[("crash = 0.20", "crash = -5")]),
            "distribution.\"crash\" = -5 is not a share".into(),
        ),
        (
            "a percent",
            edit(&[("crash = 0.3697", "crash = 36.97")]),
            "[published] accepted_rate.\"crash\" = 36.97 is not a share".into(),
        ),
        (
            "a huge share, said short",
            edit(&[("crash = 0.3697", "crash = 1e300")]),
            "accepted_rate.\"crash\" = 1e300 is not a share".into(),
        ),
        (
            "infinite hours",
            edit(&[("crash = [0.319, 0.893, 2.455]", "crash = [inf, -1, nan]")]),
            "[published] hours.\"crash\" Q1 = inf is not a number ≥ 0".into(),
        ),
        (
            "negative hours",
            edit(&[("crash = [0.319, 0.893, 2.455]", "crash = [0.3, -1, 2]")]),
            "hours.\"crash\" median = -1 is not a number ≥ 0".into(),
        ),
        (
            "infinite mean hours",
            edit(&[("performance_mean_hours = [4.3, 2.5]", "performance_mean_hours = [4.3, inf]")]),
            "[published] performance_mean_hours others = inf is not a number ≥ 0".into(),
        ),
        (
            "NaN hours",
            edit(&[("crash = [0.319, 0.893, 2.455]", "crash = [0.3, 1, nan]")]),
            "hours.\"crash\" Q3 = nan is not a number ≥ 0".into(),
        ),
        (
            "quartiles out of order",
            edit(&[("crash = [0.319, 0.893, 2.455]", "crash = [3, 2, 1]")]),
            "[published] hours.\"crash\" = [3, 2, 1] is not in order: give Q1, median, Q3".into(),
        ),
        (
            "a category renamed in [[categories]] only",
            edit(&[("key = \"crash\"", "key = \"bug\"")]),
            "[published] distribution names category \"crash\", which is not a category of the study (its categories: bug, migration,".into(),
        ),
        (
            "an unknown category in hours",
            edit(&[("crash = [0.319", "bug = [0.319")]),
            "[published] hours names category \"bug\"".into(),
        ),
        (
            "an unknown framework",
            edit(&[("framework = \"pytorch\"", "framework = \"torch\"")]),
            "[published] table1 names framework \"torch\", which is not a framework of the study (its frameworks: tensorflow, pytorch, deeplearning4j, keras); rename or remove it".into(),
        ),
        (
            "a framework twice",
            edit(&[("framework = \"deeplearning4j\"", "framework = \"pytorch\"")]),
            "[published] table1 has two rows for framework \"pytorch\"".into(),
        ),
        (
            "negative views",
            edit(&[("views_median = 139", "views_median = -139")]),
            "[published] table1 \"pytorch\" views_median = -139 is not a number ≥ 0".into(),
        ),
        (
            "NaN views",
            edit(&[("views_q3 = 385", "views_q3 = nan")]),
            "table1 \"pytorch\" views_q3 = nan is not a number ≥ 0".into(),
        ),
        (
            "a count too large to show",
            edit(&[("\"2015\" = 346", "\"2015\" = 18446744073709551615")]),
            "[published] per_year.2015 = 18446744073709551615 is too large".into(),
        ),
        (
            "a year that is not one",
            edit(&[("\"2015\" = 346", "\"15\" = 346")]),
            "[published] per_year key \"15\" is not a year (four digits, as \"2018\")".into(),
        ),
        (
            "a NaN precision",
            edit(&[("precision = 0.796", "precision = nan")]),
            "[published] classifier.precision = nan is not a share".into(),
        ),
        (
            "a recall over 1",
            edit(&[("recall = 0.803", "recall = 80.3")]),
            "[published] classifier.recall = 80.3 is not a share".into(),
        ),
    ];
    for (what, text, want) in &cases {
        std::fs::write(d.path("s/study.toml"), text).unwrap();
        for args in [vec!["report", "--study", &s], vec!["info", "--study", &s]] {
            let err = d.fails(&args);
            assert!(err.contains(want.as_str()), "{what}:\n{err}");
            assert!(err.contains("s/study.toml: [published]"), "{what}: {err}");
            assert!(!err.contains("NaN"), "{what}: {err}");
            says_each_cause_once(&err);
        }
        assert!(!d.path("s/report").exists(), "{what}: a report was written");
    }
    // Renamed with its published figures, or with them left out, it loads.
    let renamed = edit(&[
        ("key = \"crash\"", "key = \"bug\""),
        ("crash = 0.20", "bug = 0.20"),
        ("crash = 0.3697", "bug = 0.3697"),
        ("crash = [0.319", "bug = [0.319"),
    ]);
    std::fs::write(d.path("s/study.toml"), renamed).unwrap();
    d.ok(&["info", "--study", &s]);
    let cut = &toml[..toml.find("[published]").unwrap()];
    std::fs::write(d.path("s/study.toml"), cut).unwrap();
    d.ok(&["info", "--study", &s]);
    // Figures for only some categories are fine.
    let some = edit(&[("crash = [0.319, 0.893, 2.455]\n", "")]);
    std::fs::write(d.path("s/study.toml"), some).unwrap();
    d.ok(&["info", "--study", &s]);
    assert!(cases.len() >= 19);
}

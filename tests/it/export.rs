//! The Parquet export, `classify --stdin` (Arrow IPC) and
//! `import-classifications`, through the real binary on the real fixtures.
//! The Parquet files are read back here with the parquet crate, and with
//! pyarrow and duckdb when STACKMINE_SPARK_PYTHON (or the venv .ci/run
//! makes, ~/.cache/stackmine-spark-venv) has them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::{Dir, files, path};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

type Row = (String, i64, String, f64, String);

/// site, id, title, body_text, code_text, tags, view_count.
type QuestionRow = (
    String,
    i64,
    Option<String>,
    String,
    String,
    String,
    Option<i64>,
);

/// A study of the 630 PyTorch questions and ai.stackexchange.com 2017.
fn study(d: &Dir) -> String {
    let s = d.study("s");
    d.ok(&[
        "ingest",
        &path("stackoverflow-pytorch-labeled/Posts.xml"),
        &path("ai.stackexchange.com-2017"),
        "--all-questions",
        "--study",
        &s,
        "-q",
    ]);
    s
}

fn batches(file: &Path) -> Vec<RecordBatch> {
    let f = std::fs::File::open(file).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

/// The classifications of a study, in (site, Id) order.
fn classifications(d: &Dir, s: &str) -> Vec<Row> {
    let db = d.db(s);
    let mut stmt = db
        .prepare("SELECT site, question_id, category, confidence, model FROM classifications ORDER BY site, question_id")
        .unwrap();
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

/// The exported questions as an Arrow IPC stream (batches of 1,000 rows).
fn ipc_stream(batches: &[RecordBatch]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w =
            arrow_ipc::writer::StreamWriter::try_new(&mut out, &batches[0].schema()).unwrap();
        for b in batches {
            let mut at = 0;
            while at < b.num_rows() {
                let len = 1000.min(b.num_rows() - at);
                w.write(&b.slice(at, len)).unwrap();
                at += len;
            }
        }
        w.finish().unwrap();
    }
    out
}

/// Runs `stackmine ARGS` with `input` on stdin; (status code, stdout, stderr).
fn pipe(d: &Dir, args: &[&str], input: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = d
        .cmd(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feed = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    feed.join().unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The rows of a classify --stdin output stream, in (site, Id) order.
fn stream_rows(bytes: &[u8]) -> Vec<Row> {
    let reader = arrow_ipc::reader::StreamReader::try_new(bytes, None).unwrap();
    let schema = reader.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        ["site", "post_id", "category", "confidence", "model"]
    );
    let mut rows = Vec::new();
    for b in reader {
        let b = b.unwrap();
        let site = b.column(0).as_string::<i32>();
        let id = b.column(1).as_primitive::<Int64Type>();
        let cat = b.column(2).as_string::<i32>();
        let conf = b.column(3).as_primitive::<Float64Type>();
        let model = b.column(4).as_string::<i32>();
        for i in 0..b.num_rows() {
            rows.push((
                site.value(i).to_string(),
                id.value(i),
                cat.value(i).to_string(),
                conf.value(i),
                model.value(i).to_string(),
            ));
        }
    }
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    rows
}

/// Writes classification rows as a Parquet file (as Spark's job would).
fn write_parquet(path: &Path, rows: &[Row]) {
    use arrow_array::{Float64Array, Int64Array, StringArray};
    use std::sync::Arc;
    let schema = stackmine::export::stream::output_schema();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.0.as_str()),
            )),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.2.as_str()),
            )),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.3))),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.4.as_str()),
            )),
        ],
    )
    .unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// The Python of the Spark venv (pyarrow, duckdb) when there is one.
fn python() -> Option<PathBuf> {
    let p = std::env::var_os("STACKMINE_SPARK_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/stackmine-spark-venv/bin/python"))
        })?;
    let ok = Command::new(&p)
        .args(["-c", "import pyarrow, duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but {} lacks pyarrow or duckdb: .ci/run makes the Spark venv",
            p.display()
        );
    }
    eprintln!(
        "NOTICE: pyarrow/duckdb checks skipped: no Python with them (set STACKMINE_SPARK_PYTHON)"
    );
    None
}

#[test]
fn export_writes_every_table_deterministically_with_sqlite_rows() {
    let d = Dir::new();
    let s = crate::util::labeled_study(&d, Some("dl"));
    d.ok(&["classify", "--study", &s, "-q"]);
    let out = d.ok(&["export", "--study", &s, "--out", "x1"]);
    assert!(out.contains("| questions |"), "{out}");
    d.ok(&["export", "--study", &s, "--out", "x2"]);
    let (a, b) = (files(&d.path("x1")), files(&d.path("x2")));
    // Every table of the store is exported, but for the log, the draws, the
    // label history and stored results: a table added to the store without
    // a place in the export fails here.
    let not_exported = [
        "meta",
        "ingests",
        "batches",
        "batch_posts",
        "label_history",
        "results",
    ];
    let store_tables: Vec<String> = {
        let db = d.db(&s);
        let mut st = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    for t in &store_tables {
        assert_eq!(
            a.contains_key(&format!("{t}.parquet")),
            !not_exported.contains(&t.as_str()),
            "table {t}"
        );
    }
    assert_eq!(
        a.len(),
        store_tables.len() - not_exported.len() + 1,
        "{:?}",
        a.keys()
    );
    assert!(a == b, "two exports of one study differ");
    // No temporary file is left behind.
    assert!(a.keys().all(|k| !k.starts_with('.')));
    let schema: serde_json::Value = serde_json::from_slice(&a["schema.json"]).expect("schema.json");
    assert_eq!(schema["store_schema_version"], 6);
    let tables = schema["tables"].as_array().unwrap();
    for t in tables {
        let name = t["name"].as_str().unwrap();
        let rows = d.count(&s, &format!("SELECT count(*) FROM {name}"));
        assert_eq!(t["rows"], rows, "{name}");
        let read: usize = batches(&d.path(&format!("x1/{name}.parquet")))
            .iter()
            .map(|b| b.num_rows())
            .sum();
        assert_eq!(read as i64, rows, "{name} read back");
        // Columns as in SQLite, in its order.
        let db = d.db(&s);
        let stmt = db
            .prepare(&format!("SELECT * FROM {name} LIMIT 0"))
            .unwrap();
        let sqlite: Vec<String> = stmt.column_names().map(|c| c.to_string()).collect();
        let mut exported: Vec<String> = t["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        let mut sqlite_sorted = sqlite.clone();
        sqlite_sorted.sort();
        exported.sort();
        assert_eq!(exported, sqlite_sorted, "{name}");
    }
    assert!(d.count(&s, "SELECT count(*) FROM labels") > 0);
    // The questions' text as the store holds it, row for row, in key order.
    let q = batches(&d.path("x1/questions.parquet"));
    let db = d.db(&s);
    let mut stmt = db
        .prepare("SELECT site, id, title, body_text, code_text, tags, view_count FROM questions ORDER BY site, id")
        .unwrap();
    let want: Vec<QuestionRow> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut got = Vec::new();
    for b in &q {
        let col = |n: &str| b.column_by_name(n).unwrap().clone();
        let (site, id, title, body, code, tags, views) = (
            col("site"),
            col("id"),
            col("title"),
            col("body_text"),
            col("code_text"),
            col("tags"),
            col("view_count"),
        );
        for i in 0..b.num_rows() {
            got.push((
                site.as_string::<i32>().value(i).to_string(),
                id.as_primitive::<Int64Type>().value(i),
                (!title.is_null(i)).then(|| title.as_string::<i32>().value(i).to_string()),
                body.as_string::<i32>().value(i).to_string(),
                code.as_string::<i32>().value(i).to_string(),
                tags.as_string::<i32>().value(i).to_string(),
                (!views.is_null(i)).then(|| views.as_primitive::<Int64Type>().value(i)),
            ));
        }
    }
    assert_eq!(got, want);
    // Compressed with zstd.
    let f = std::fs::File::open(d.path("x1/questions.parquet")).unwrap();
    let meta = ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
    let col = meta.metadata().row_group(0).column(0);
    assert!(
        col.compression().to_string().starts_with("ZSTD"),
        "{}",
        col.compression()
    );
    // --tables: only those; an unknown table is refused with the list.
    d.ok(&[
        "export",
        "--study",
        &s,
        "--out",
        "x3",
        "--tables",
        "questions,answers",
    ]);
    let mut names: Vec<String> = files(&d.path("x3")).into_keys().collect();
    names.sort();
    assert_eq!(
        names,
        ["answers.parquet", "questions.parquet", "schema.json"]
    );
    let err = d.fails(&["export", "--study", &s, "--out", "x4", "--tables", "posts"]);
    assert!(
        err.contains("no table \"posts\"") && err.contains("question_tags"),
        "{err}"
    );
    assert!(!d.path("x4").exists());
    // A file where the folder goes.
    d.write("x5", b"not a folder");
    let err = d.fails(&["export", "--study", &s, "--out", "x5"]);
    assert!(err.contains("not a folder"), "{err}");
}

#[test]
fn pyarrow_and_duckdb_read_the_export_and_count_what_stats_counts() {
    let Some(py) = python() else { return };
    let d = Dir::new();
    let s = study(&d);
    d.ok(&["export", "--study", &s, "--out", "x"]);
    let stats = d.stats(&s);
    let script = r#"
import json, sys, duckdb, pyarrow.parquet as pq
x = sys.argv[1]
q = pq.read_table(f"{x}/questions.parquet")
out = {"pyarrow_questions": q.num_rows,
       "pyarrow_accepted": q.num_rows - q.column("accepted_answer_id").null_count}
con = duckdb.connect()
out["duckdb_questions"] = con.sql(f"SELECT count(*) FROM '{x}/questions.parquet'").fetchall()[0][0]
out["duckdb_unanswered"] = con.sql(f"""SELECT count(*) FROM '{x}/questions.parquet' q
  WHERE NOT EXISTS (SELECT 1 FROM '{x}/answers.parquet' a WHERE a.site = q.site AND a.parent_id = q.id)""").fetchall()[0][0]
out["duckdb_frameworks"] = dict(con.sql(f"SELECT framework, count(*) FROM '{x}/question_frameworks.parquet' GROUP BY 1").fetchall())
out["duckdb_max_views"] = con.sql(f"SELECT max(view_count) FROM '{x}/questions.parquet'").fetchall()[0][0]
print(json.dumps(out))
"#;
    let o = Command::new(&py)
        .args(["-c", script, d.path("x").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let all = &stats["all"];
    assert_eq!(got["pyarrow_questions"], all["questions"]);
    assert_eq!(got["duckdb_questions"], all["questions"]);
    assert_eq!(got["pyarrow_accepted"], all["accepted"]["count"]);
    assert_eq!(got["duckdb_unanswered"], all["unanswered"]["count"]);
    assert_eq!(got["duckdb_max_views"], all["views"]["max"]);
    for f in stats["frameworks"].as_array().unwrap() {
        let n = got["duckdb_frameworks"][f["name"].as_str().unwrap()]
            .as_u64()
            .unwrap_or(0);
        assert_eq!(n, f["questions"].as_u64().unwrap(), "{}", f["name"]);
    }
    assert!(all["questions"].as_u64().unwrap() > 600);
}

#[test]
fn classify_stdin_gives_classify_results_and_import_gives_its_report() {
    let d = Dir::new();
    let s = study(&d);
    d.ok(&["classify", "--study", &s, "-q"]);
    let local = classifications(&d, &s);
    assert!(local.len() > 600);
    d.ok(&["report", "--study", &s, "--out", "r1"]);
    d.ok(&[
        "export",
        "--study",
        &s,
        "--out",
        "x",
        "--tables",
        "questions",
    ]);
    let input = ipc_stream(&batches(&d.path("x/questions.parquet")));
    let model = path("../../models/default.json");
    let (code, out, err) = pipe(&d, &["classify", "--stdin", "--model-file", &model], &input);
    assert_eq!(code, 0, "{err}");
    let streamed = stream_rows(&out);
    assert_eq!(streamed, local, "classify --stdin differs from classify");
    // The same with the built-in name, and with columns dropped that it does
    // not read: extra columns are ignored.
    let (code, out2, err) = pipe(
        &d,
        &["classify", "--stdin", "--model", "default-linear"],
        &input,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out2, out);

    // Imported back (after another classification replaced it), the store
    // holds the same rows and the report is the same, byte for byte.
    d.db(&s)
        .execute("UPDATE classifications SET category = 'crash'", [])
        .unwrap();
    assert_ne!(classifications(&d, &s), local);
    let file = d.path("cls.parquet");
    write_parquet(&file, &streamed);
    let out = d.ok(&[
        "import-classifications",
        file.to_str().unwrap(),
        "--study",
        &s,
    ]);
    assert!(out.contains("model default"), "{out}");
    assert_eq!(classifications(&d, &s), local);
    d.ok(&["report", "--study", &s, "--out", "r2"]);
    assert!(
        files(&d.path("r1")) == files(&d.path("r2")),
        "report after import differs"
    );

    // Refusals, each leaving the store as it was.
    let bad = |name: &str, rows: Vec<Row>, want: &str| {
        let f = d.path(name);
        write_parquet(&f, &rows);
        let err = d.fails(&["import-classifications", f.to_str().unwrap(), "--study", &s]);
        assert!(err.contains(want), "{name}: {err}");
        assert_eq!(classifications(&d, &s), local, "{name} changed the store");
    };
    let mut unknown = streamed.clone();
    unknown[0].1 = 999_999_999;
    bad("unknown-post.parquet", unknown, "is not in the study");
    let mut category = streamed.clone();
    category[3].2 = "weather".into();
    bad("category.parquet", category, "category \"weather\"");
    let mut twice = streamed.clone();
    twice.push(streamed[5].clone());
    bad("twice.parquet", twice, "classified twice");
    bad(
        "missing.parquet",
        streamed[1..].to_vec(),
        "1 of the study's",
    );
    let mut model = streamed.clone();
    for r in &mut model {
        r.4 = "nosuch".into();
    }
    bad("model.parquet", model, "no model \"nosuch\"");
    // A model whose categories are not the study's.
    let toml = std::fs::read_to_string(d.path("s/study.toml")).unwrap();
    let renamed = toml
        .replace("key = \"performance\"", "key = \"speed\"")
        .replace("performance = ", "speed = ");
    std::fs::write(d.path("s/study.toml"), renamed).unwrap();
    let err = d.fails(&[
        "import-classifications",
        file.to_str().unwrap(),
        "--study",
        &s,
    ]);
    assert!(err.contains("has the categories"), "{err}");
    std::fs::write(d.path("s/study.toml"), toml).unwrap();

    // Bad input on stdin: exit 2 and a message, no panic.
    let (code, _, err) = pipe(
        &d,
        &["classify", "--stdin", "--model-file", &model_path()],
        b"not arrow",
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("stackmine: error: cannot read the Arrow IPC stream"),
        "{err}"
    );
    let only_ids = {
        let b = &batches(&d.path("x/questions.parquet"))[0];
        let keep = b.project(&[0, 1]).unwrap();
        ipc_stream(&[keep])
    };
    let (code, _, err) = pipe(
        &d,
        &["classify", "--stdin", "--model-file", &model_path()],
        &only_ids,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no column \"title\""), "{err}");
    let err = d.fails(&["classify", "--stdin"]);
    assert!(err.contains("--model-file"), "{err}");
}

fn model_path() -> String {
    path("../../models/default.json")
}

#[test]
fn classify_stdin_with_the_hybrid_model_matches_classify() {
    let Some(d) = Dir::with_encoder() else { return };
    let s = d.study("s");
    d.ok(&[
        "ingest",
        &path("stackoverflow-pytorch-labeled/Posts.xml"),
        "--all-questions",
        "--study",
        &s,
        "-q",
    ]);
    d.ok(&["classify", "--study", &s, "--model", "default-hybrid", "-q"]);
    let local = classifications(&d, &s);
    assert_eq!(local[0].4, "default-hybrid");
    d.ok(&[
        "export",
        "--study",
        &s,
        "--out",
        "x",
        "--tables",
        "questions,embeddings",
    ]);
    let q = batches(&d.path("x/questions.parquet"));
    let model = path("../../models/default-hybrid.json");
    // Embedded here (no embedding column).
    let (code, out, err) = pipe(
        &d,
        &["classify", "--stdin", "--model-file", &model],
        &ipc_stream(&q),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("630 embedded"), "{err}");
    assert_eq!(stream_rows(&out), local);
    // With the exported embeddings joined in as an `embedding` column: none
    // is computed, and the results are the same.
    let e = batches(&d.path("x/embeddings.parquet"));
    // 630 rows: one batch of each (the reader's batches hold 1,024).
    assert_eq!((q.len(), e.len(), e[0].num_rows()), (1, 1, 630));
    let e = &e[0];
    let joined = join_embeddings(&q, e);
    let (code, out, err) = pipe(
        &d,
        &["classify", "--stdin", "--model-file", &model],
        &ipc_stream(&joined),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(0 embedded)"), "{err}");
    assert_eq!(stream_rows(&out), local);
}

/// Questions with the columns embedding, encoder, max_tokens, text_hash of
/// their row in the embeddings table (both are in (site, Id) order here).
fn join_embeddings(q: &[RecordBatch], e: &RecordBatch) -> Vec<RecordBatch> {
    use arrow_schema::{Field, Schema};
    use std::sync::Arc;
    let mut out = Vec::new();
    let mut at = 0;
    for b in q {
        let n = b.num_rows();
        let part = e.slice(at, n);
        at += n;
        let ids = part
            .column_by_name("id")
            .unwrap()
            .as_primitive::<Int64Type>();
        let qids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
        assert_eq!(ids.values(), qids.values());
        let mut fields: Vec<Field> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut cols = b.columns().to_vec();
        for (from, to) in [
            ("vector", "embedding"),
            ("encoder", "encoder"),
            ("max_tokens", "max_tokens"),
            ("text_hash", "text_hash"),
        ] {
            let idx = part.schema().index_of(from).unwrap();
            let f = part.schema().field(idx).clone().with_name(to);
            fields.push(f);
            cols.push(part.column(idx).clone());
        }
        out.push(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap());
    }
    out
}

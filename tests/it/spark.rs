//! The spark/ job in real Apache Spark (local[2]) on the real fixtures:
//! classify through `stackmine classify --stdin` then import, stats, and
//! ingest, each against what stackmine gives on one machine.
//!
//! Needs a Python with pyspark, pyarrow and pandas (STACKMINE_SPARK_PYTHON,
//! else ~/.cache/stackmine-spark-venv, which .ci/run makes) and Java 17.
//! Skipped with a notice when absent, except under CI=true, where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Dir, files, path};

fn spark_python() -> Option<PathBuf> {
    let p = std::env::var_os("STACKMINE_SPARK_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/stackmine-spark-venv/bin/python"))
        })?;
    let ok = Command::new(&p)
        .args(["-c", "import pyspark, pyarrow, pandas"])
        .output()
        .is_ok_and(|o| o.status.success())
        && Command::new("java")
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success());
    if ok {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but no Spark: {} lacks pyspark/pyarrow/pandas or java is missing (.ci/run installs them)",
            p.display()
        );
    }
    eprintln!(
        "NOTICE: Spark tests skipped: no pyspark at {} or no java (see .ci/run)",
        p.display()
    );
    None
}

type Row = (String, i64, String, f64, String);

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

/// The driver: one SparkSession in local[2] runs every job (Spark's start
/// costs more than the jobs on these fixtures).
const DRIVER: &str = r#"
import json, os, sys
sys.path.insert(0, sys.argv[1])
import stackmine_spark as sm
import pyarrow.dataset as ds
from pyspark.sql import SparkSession
args = json.loads(sys.argv[2])
os.environ["PYSPARK_PYTHON"] = sys.executable
spark = (SparkSession.builder.master("local[2]").appName("stackmine tests")
         .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
x = args["export"]
sm.classify(spark, f"{x}/questions.parquet", args["out"] + "/linear", args["binary"], args["linear"], partitions=3)
if args.get("hybrid"):
    sm.classify(spark, f"{x}/questions.parquet", args["out"] + "/hybrid", args["binary"], args["hybrid"],
                encoder=args["encoder"], embeddings=f"{x}/embeddings.parquet", partitions=3)
st = sm.stats(spark, x, args["frameworks"])
json.dump(st, open(args["out"] + "/stats.json", "w"))
sm.ingest(spark, args["archives"], args["out"] + "/ingest", args["binary"], args["study_toml"], all_questions=True)
q = ds.dataset(args["out"] + "/ingest/questions", format="parquet", partitioning="hive").to_table()
rows = sorted(zip(q.column("site").to_pylist(), q.column("id").to_pylist(), q.column("title").to_pylist(),
                  q.column("body_text").to_pylist(), q.column("tags").to_pylist(),
                  q.column("created_ms").to_pylist(), q.column("view_count").to_pylist(), q.column("dump").to_pylist()))
json.dump(rows, open(args["out"] + "/ingested.json", "w"))
spark.stop()
"#;

fn rel_close(a: &serde_json::Value, b: &serde_json::Value, what: &str) {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => assert!(
            (x - y).abs() <= 1e-9 * y.abs().max(1e-300),
            "{what}: spark {x}, stackmine {y}"
        ),
        _ => assert_eq!(a, b, "{what}"),
    }
}

#[test]
fn spark_classify_stats_and_ingest_give_what_stackmine_gives() {
    let Some(py) = spark_python() else { return };
    let started = std::time::Instant::now();
    let with_encoder = crate::util::encoder_dir();
    let d = match &with_encoder {
        Some(_) => Dir::with_encoder().unwrap(),
        None => Dir::new(),
    };
    let s = d.study("s");
    d.ok(&[
        "ingest",
        // The 150 deployment questions: enough for every Spark path, and the
        // hybrid model embeds them twice (locally and in Spark) within CI's
        // budget.
        &path("stackoverflow-dl-deploy/Posts.xml"),
        "--all-questions",
        "--study",
        &s,
        "-q",
    ]);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Local runs: the hybrid first (its embeddings are cached and exported),
    // then the linear one, which stays in the store.
    let mut hybrid_local = None;
    if with_encoder.is_some() {
        d.ok(&["classify", "--study", &s, "--model", "default-hybrid", "-q"]);
        hybrid_local = Some(classifications(&d, &s));
    }
    d.ok(&["classify", "--study", &s, "--model", "default-linear", "-q"]);
    let linear_local = classifications(&d, &s);
    d.ok(&["report", "--study", &s, "--out", "r1"]);
    d.ok(&["export", "--study", &s, "--out", "x"]);
    let stats = d.stats(&s);
    let frameworks: Vec<String> = stats["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();

    let archives = [
        "other-sites/cardano.stackexchange.com-2021.Posts.xml",
        "other-sites/quantumcomputing.stackexchange.com-2018.Posts.xml",
    ];
    let args = serde_json::json!({
        "export": d.path("x"),
        "out": d.path("spark"),
        "binary": env!("CARGO_BIN_EXE_stackmine"),
        "linear": repo.join("models/default.json"),
        "hybrid": with_encoder.as_ref().map(|_| repo.join("models/default-hybrid.json")),
        "encoder": with_encoder,
        "frameworks": frameworks,
        "archives": archives.iter().map(|a| path(a)).collect::<Vec<_>>(),
        "study_toml": d.path("s/study.toml"),
    });
    std::fs::create_dir_all(d.path("spark")).unwrap();
    let out = Command::new(&py)
        .args([
            "-c",
            DRIVER,
            repo.join("spark").to_str().unwrap(),
            &args.to_string(),
        ])
        .env("STACKMINE_ENCODER", d.path("no-encoder"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "spark driver failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // classify (linear) then import: the store's rows and the report are
    // those of the local classify.
    d.db(&s)
        .execute("UPDATE classifications SET category = 'crash'", [])
        .unwrap();
    let imported = d.ok(&[
        "import-classifications",
        d.path("spark/linear").to_str().unwrap(),
        "--study",
        &s,
    ]);
    assert!(imported.contains("model default"), "{imported}");
    assert_eq!(classifications(&d, &s), linear_local);
    d.ok(&["report", "--study", &s, "--out", "r2"]);
    assert!(
        files(&d.path("r1")) == files(&d.path("r2")),
        "report after Spark's classify differs"
    );
    if let Some(local) = hybrid_local {
        d.ok(&[
            "import-classifications",
            d.path("spark/hybrid").to_str().unwrap(),
            "--study",
            &s,
        ]);
        assert_eq!(classifications(&d, &s), local, "hybrid");
    }

    // stats: every figure of Table I and the answer statistics.
    let spark: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path("spark/stats.json")).unwrap()).unwrap();
    let mut groups: Vec<(&serde_json::Value, &serde_json::Value)> = stats["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .zip(spark["frameworks"].as_array().unwrap())
        .collect();
    groups.push((&stats["all"], &spark["all"]));
    assert_eq!(groups.len(), frameworks.len() + 1);
    for (want, got) in groups {
        let name = want["name"].as_str().unwrap();
        assert_eq!(got["name"], want["name"]);
        assert_eq!(got["questions"], want["questions"], "{name}");
        assert_eq!(got["per_year"], want["per_year"], "{name} per year");
        for (part, keys) in [
            ("views", &["max", "q3", "median", "n"][..]),
            ("accepted", &["count", "percent", "resolved", "missing"][..]),
            (
                "hours_to_accepted",
                &["mean", "median", "q1", "q3", "n"][..],
            ),
            ("unanswered", &["count", "percent"][..]),
            (
                "hours_to_first_answer",
                &["mean", "median", "q1", "q3", "n"][..],
            ),
        ] {
            for k in keys {
                rel_close(&got[part][k], &want[part][k], &format!("{name} {part}.{k}"));
            }
        }
    }

    // ingest of two site dumps: the questions of ingesting each alone.
    let ingested: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(d.path("spark/ingested.json")).unwrap()).unwrap();
    let mut want: Vec<serde_json::Value> = Vec::new();
    for (i, a) in archives.iter().enumerate() {
        let one = d.study(&format!("one{i}"));
        d.ok(&["ingest", &path(a), "--all-questions", "--study", &one, "-q"]);
        let db = d.db(&one);
        let mut stmt = db
            .prepare(
                "SELECT site, id, title, body_text, tags, created_ms, view_count FROM questions",
            )
            .unwrap();
        let dump = Path::new(a)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let rows = stmt
            .query_map([], |r| {
                Ok(serde_json::json!([
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                    dump
                ]))
            })
            .unwrap();
        want.extend(rows.map(|r| r.unwrap()));
    }
    want.sort_by_key(|v| (v[0].as_str().unwrap().to_string(), v[1].as_i64().unwrap()));
    assert!(want.len() > 100);
    assert_eq!(ingested.len(), want.len());
    assert!(
        ingested == want,
        "Spark's ingest differs from ingesting each dump"
    );
    eprintln!(
        "spark test: {:.0} s (hybrid: {})",
        started.elapsed().as_secs_f64(),
        hybrid_local_ran(&with_encoder)
    );
}

fn hybrid_local_ran(e: &Option<PathBuf>) -> bool {
    e.is_some()
}

//! The report through the real binary on the real sample dump: every section,
//! every table in three formats, byte-identical re-runs, nothing absolute.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::{Dir, files, labeled_study, path};

const DEPLOY: &str = "stackoverflow-dl-deploy/Posts.xml";

#[test]
fn run_writes_the_same_report_wherever_the_study_lives() {
    let d = Dir::new();
    let out = d.ok(&["run", &path(DEPLOY), "--study", "study", "-q"]);
    assert!(
        out.contains("report written to study/report/index.html"),
        "{out}"
    );
    let first = files(&d.path("study/report"));
    for name in [
        "index.html",
        "stats.md",
        "stats.json",
        "tables/table1.csv",
        "tables/categories.json",
        "tables/difficulty.md",
        "tables/performance_test.csv",
    ] {
        assert!(
            first.contains_key(name),
            "{name} missing: {:?}",
            first.keys()
        );
    }
    // Again in another folder, and again over the same study: the same bytes.
    d.ok(&["run", &path(DEPLOY), "--study", "deeper/elsewhere", "-q"]);
    assert_eq!(files(&d.path("deeper/elsewhere/report")), first);
    d.ok(&["report", "--study", "study"]);
    assert_eq!(files(&d.path("study/report")), first);

    let html = String::from_utf8(first["index.html"].clone()).unwrap();
    for section in [
        "The data",
        "Questions and views",
        "Kinds of questions",
        "How hard they are to get answered",
        "Are performance questions harder?",
        "Classifier and annotators",
        "The published figures",
        "License and attribution",
    ] {
        assert!(html.contains(section), "no section {section}");
    }
    assert!(html.contains("CC BY-SA"));
    assert_eq!(html.matches("<svg").count(), 6, "six charts");
    assert_eq!(
        html.matches("<title id=").count(),
        6,
        "every chart has a title"
    );
    assert_eq!(
        html.matches("<desc id=").count(),
        6,
        "and a text alternative"
    );
    assert!(!html.contains("<script"), "no script");
    assert!(
        !html.contains(" src=\"http"),
        "nothing loaded from the network"
    );
    assert!(
        !html.contains(&d.tmp.path().to_string_lossy().to_string()),
        "no absolute paths"
    );
    assert!(
        html.contains("The per-year counts cover 2015-2018 only"),
        "the study's caveats"
    );
    assert!(
        html.contains("adjusted for the classifier"),
        "adjusted classify-and-count"
    );
}

#[test]
fn report_tables_are_consistent() {
    let d = Dir::new();
    d.ok(&["run", &path(DEPLOY), "--study", "s", "-q"]);
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(
            &std::fs::read(d.path(&format!("s/report/tables/{name}.json"))).unwrap(),
        )
        .unwrap()
    };
    let cats = read("categories");
    let rows = cats["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    let total: i64 = rows.iter().map(|r| r["questions"].as_i64().unwrap()).sum();
    assert_eq!(total, 2381);
    let share: f64 = rows.iter().map(|r| r["share"].as_f64().unwrap()).sum();
    assert!((share - 1.0).abs() < 1e-9);
    let adjusted: f64 = rows
        .iter()
        .map(|r| r["adjusted share"].as_f64().unwrap())
        .sum();
    assert!((adjusted - 1.0).abs() < 1e-9);
    for r in rows {
        let a = r["adjusted share"].as_f64().unwrap();
        // An interval collapsed at 0 or 1 by clipping is flagged, not shown.
        if r["adjusted 95% low"].is_null() {
            assert!(r["adjusted 95% high"].is_null(), "{r}");
            assert!(
                r["adjusted interval"]
                    .as_str()
                    .unwrap()
                    .contains("by clipping"),
                "{r}"
            );
            continue;
        }
        let (lo, hi) = (
            r["adjusted 95% low"].as_f64().unwrap(),
            r["adjusted 95% high"].as_f64().unwrap(),
        );
        assert!(lo < hi, "{r}");
        assert!(lo <= a + 1e-12 && a <= hi + 1e-12, "{r}");
    }
    let diff = read("difficulty");
    for r in diff["rows"].as_array().unwrap() {
        let (q, acc) = (
            r["questions"].as_i64().unwrap(),
            r["accepted"].as_i64().unwrap(),
        );
        if q > 0 {
            let rate = r["accepted rate"].as_f64().unwrap();
            assert!((rate - acc as f64 / q as f64).abs() < 1e-12);
            assert!(
                r["rate 95% low"].as_f64().unwrap() <= rate
                    && rate <= r["rate 95% high"].as_f64().unwrap()
            );
        }
    }
    let t1 = read("table1");
    assert_eq!(t1["rows"][0]["questions"], 2358);
    assert_eq!(t1["rows"][0]["published questions"], 37565);
    let classifier = read("classifier");
    assert!(
        classifier["rows"][0]["source"]
            .as_str()
            .unwrap()
            .starts_with("model default (linear)")
    );
    let csv =
        String::from_utf8(std::fs::read(d.path("s/report/tables/table1.csv")).unwrap()).unwrap();
    assert!(
        csv.starts_with("framework,questions,views max,views Q3,views median,published questions"),
        "{csv}"
    );
    assert!(
        csv.contains("TensorFlow,2358,28996,499.5,203,37565,205910,5725,158"),
        "{csv}"
    );
}

/// Agreement, evaluations and root causes recorded in the study appear.
#[test]
fn report_shows_agreement_evaluation_and_root_causes() {
    let d = Dir::new();
    let s = labeled_study(&d, Some("dl"));
    d.ok(&["agree", "--set", "dl", "--study", &s]);
    d.ok(&[
        "eval",
        "--labels",
        "dl",
        "--kind",
        "keyword",
        "--protocol",
        "study",
        "--study",
        &s,
    ]);
    d.db(&s)
        .execute(
            "UPDATE labels SET root_cause = 'API misuse' WHERE set_name = 'dl' AND annotator = 'a' AND primary_kind = 'crash'",
            [],
        )
        .unwrap();
    d.ok(&["classify", "--study", &s]);
    d.ok(&["report", "--study", &s]);
    let html = std::fs::read_to_string(d.path("s/report/index.html")).unwrap();
    assert!(html.contains("<td>dl</td><td class=\"n\">820</td><td>a, b</td><td class=\"n\">96.1 %</td><td class=\"n\">0.952</td>"), "agreement row");
    assert!(html.contains("eval of keyword on label set dl"));
    assert!(
        html.contains("<td>Program crash</td><td>api misuse</td><td class=\"n\">118</td>"),
        "root causes"
    );
}

/// Snapshots of the quick-start report's tables (tests/snapshots/quickstart):
/// a change in any figure shows up as a diff to review. Set
/// UPDATE_SNAPSHOTS=1 to rewrite them after a change that is meant.
#[test]
fn the_quick_start_report_matches_its_snapshots() {
    let d = Dir::new();
    d.ok(&["run", &path(DEPLOY), "--study", "s", "-q"]);
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/quickstart");
    let got = files(&d.path("s/report/tables"));
    let got: BTreeMap<String, Vec<u8>> = got
        .into_iter()
        .filter(|(k, _)| k.ends_with(".md"))
        .collect();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(&snapshots).unwrap();
        for (name, bytes) in &got {
            std::fs::write(snapshots.join(name), bytes).unwrap();
        }
    }
    let want: BTreeMap<String, Vec<u8>> = files(&snapshots);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "the set of tables changed"
    );
    for (name, bytes) in &got {
        assert!(
            bytes == &want[name],
            "{name} differs from its snapshot:\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

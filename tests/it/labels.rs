//! Sampling, label import/export and agreement, through the real binary on
//! the real labeled questions (tests/data/labels/dl-questions.csv).

use crate::util::{Dir, close, data, labeled_study, path};

/// The 820 real questions labeled by two annotators. Reference values:
/// scikit-learn 1.x, `cohen_kappa_score(annotator_a, annotator_b)` =
/// 0.9516930446452734, agreement 788/820 = 0.9609756097560975; per category,
/// `cohen_kappa_score(a == c, b == c)` and 2·both/(n_a + n_b) in Python.
#[test]
fn agreement_on_the_shared_labels_matches_scikit_learn() {
    let d = Dir::new();
    let s = labeled_study(&d, None);
    let out = d.ok(&[
        "label",
        "import",
        &path("labels/dl-questions.csv"),
        "--set",
        "shared",
        "--study",
        &s,
    ]);
    assert!(
        out.contains("820 posts, 820 final labels, 1640 annotator labels (annotators a, b)"),
        "{out}"
    );
    let json = d.ok(&["agree", "--set", "shared", "--study", &s, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["items"], 820);
    assert_eq!(v["annotators"], serde_json::json!(["a", "b"]));
    close(&v["agreement"], 0.960_975_609_756_097_5, "agreement");
    close(&v["cohen_kappa"], 0.951_693_044_645_273_4, "kappa");
    assert!(v["fleiss_kappa"].is_null());
    let pc = &v["per_category"];
    close(
        &pc["crash"]["kappa"],
        0.970_715_680_205_704_5,
        "crash kappa",
    );
    close(&pc["crash"]["agreement"], 0.975, "crash agreement");
    close(
        &pc["performance"]["kappa"],
        0.928_316_665_501_083_9,
        "performance kappa",
    );
    close(
        &pc["performance"]["agreement"],
        0.931_506_849_315_068_4,
        "performance agreement",
    );
    close(
        &pc["implementation"]["kappa"],
        0.933_709_615_780_345_2,
        "implementation kappa",
    );
    assert_eq!(v["disagreements"].as_array().unwrap().len(), 32);
    let first = &v["disagreements"][0];
    assert!(first["adjudicated"].is_string(), "{first}");
    assert_eq!(v["confusion"]["matrix"].as_array().unwrap().len(), 7);
    // The result is stored for the report.
    let stored: String = d
        .db(&s)
        .query_row(
            "SELECT json FROM results WHERE key = 'agree:shared'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(stored.contains("\"cohen_kappa\""));
    let md = d.ok(&["agree", "--set", "shared", "--study", &s]);
    assert!(md.contains("| Cohen's kappa | 0.952 |"), "{md}");
    assert!(md.contains("| agreement | 96.1 % |"), "{md}");
}

#[test]
fn label_csv_round_trips() {
    let d = Dir::new();
    let s = labeled_study(&d, None);
    let csv = path("labels/dl-questions.csv");
    d.ok(&["label", "import", &csv, "--set", "one", "--study", &s]);
    let first = d.ok(&["label", "export", "--set", "one", "--study", &s]);
    assert!(
        first.starts_with("site,post_id,primary,secondary,annotator_a,annotator_b\n"),
        "{first}"
    );
    let file = d.write("exported.csv", first.as_bytes());
    d.ok(&["label", "import", &file, "--set", "two", "--study", &s]);
    let second = d.ok(&["label", "export", "--set", "two", "--study", &s]);
    assert_eq!(first, second);
    // Same content as the original file, whose site column is called `dump`.
    let mut original: Vec<String> = std::fs::read_to_string(data("labels/dl-questions.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            // post_id,dump,primary,secondary,annotator_a,annotator_b
            format!("{},{},{},{},{},{}", f[1], f[0], f[2], f[3], f[4], f[5])
        })
        .collect();
    original.sort();
    let mut exported: Vec<String> = first.lines().skip(1).map(String::from).collect();
    exported.sort();
    assert_eq!(original, exported);
    // Exporting to a file gives the same bytes.
    let out = d.path("out.csv");
    d.ok(&[
        "label",
        "export",
        "--set",
        "two",
        "--study",
        &s,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(out).unwrap(), first);
}

#[test]
fn label_import_errors_name_the_problem() {
    let d = Dir::new();
    let s = d.study("s");
    d.ok(&[
        "ingest",
        &path("stackoverflow-pytorch-labeled/Posts.xml"),
        "--study",
        &s,
    ]);
    // Posts of dumps that are not in the study.
    let err = d.fails(&[
        "label",
        "import",
        &path("labels/dl-questions.csv"),
        "--set",
        "x",
        "--study",
        &s,
    ]);
    assert!(
        err.contains("190 labeled posts are not in the study"),
        "{err}"
    );
    assert!(err.contains("ai.stackexchange.com-2017/60, "), "{err}");
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM label_sets"), 0);
    let bad = d.write(
        "bad.csv",
        b"post_id,primary,secondary\n61702825,crash,\n61702825x,crash,\n",
    );
    let err = d.fails(&["label", "import", &bad, "--set", "x", "--study", &s]);
    assert!(
        err.contains("bad.csv line 3: post_id \"61702825x\" is not a number"),
        "{err}"
    );
    let bad = d.write("bad2.csv", b"post_id,primary,secondary\n61702825,bug,\n");
    let err = d.fails(&["label", "import", &bad, "--set", "x", "--study", &s]);
    assert!(err.contains("line 2: unknown category \"bug\""), "{err}");
    let err = d.fails(&["label", "import", &bad, "--set", "no spaces", "--study", &s]);
    assert!(err.contains("label set name"), "{err}");
    let good = d.write(
        "good.csv",
        b"post_id,primary,secondary\n61702825,crash,implementation\n",
    );
    d.ok(&["label", "import", &good, "--set", "x", "--study", &s]);
    let err = d.fails(&["label", "import", &good, "--set", "x", "--study", &s]);
    assert!(err.contains("exists; use --replace"), "{err}");
    d.ok(&[
        "label",
        "import",
        &good,
        "--set",
        "x",
        "--study",
        &s,
        "--replace",
    ]);
    let err = d.fails(&["agree", "--set", "nope", "--study", &s]);
    assert!(err.contains("no label set named \"nope\""), "{err}");
}

#[test]
fn sampling_is_seeded_and_never_redraws() {
    let d = Dir::new();
    let s = labeled_study(&d, None);
    let draw = |name: &str, extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["sample", "--study", s.as_str(), "--name", name, "--json"];
        args.extend(extra);
        serde_json::from_str(&d.ok(&args)).unwrap()
    };
    let a = draw("a", &["--size", "20", "--seed", "7"]);
    assert_eq!(a["posts"].as_array().unwrap().len(), 20);
    // Another study, same dumps, same seed: the same draw.
    let d2 = Dir::new();
    let s2 = labeled_study(&d2, None);
    let again: serde_json::Value = serde_json::from_str(&d2.ok(&[
        "sample", "--study", &s2, "--name", "a", "--json", "--size", "20", "--seed", "7",
    ]))
    .unwrap();
    assert_eq!(a["posts"], again["posts"]);
    // A second batch leaves the first one's posts out.
    let b = draw("b", &["--size", "30", "--seed", "7"]);
    assert_eq!(b["report"]["excluded"], 20);
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["posts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| format!("{}/{}", p["site"], p["id"]))
            .collect()
    };
    assert!(ids(&b).iter().all(|p| !ids(&a).contains(p)));
    // Cochran: 95% / 5% over this study's 4,252 questions. Reference (scipy):
    // z = norm.ppf(0.975); n0 = z*z*0.25/0.05**2; n0/(1+(n0-1)/4252) = 352.39199199268734.
    let c = draw(
        "c",
        &["--confidence", "0.95", "--margin", "0.05", "--proportional"],
    );
    let raw = c["report"]["cochran"].as_f64().unwrap();
    assert!((raw - 352.391_991_992_687_34).abs() < 1e-5, "{raw}");
    assert_eq!(c["posts"].as_array().unwrap().len(), 352);
    let per = draw("per", &["--per-framework", "5", "--seed", "1"]);
    let strata: Vec<&str> = per["report"]["strata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    assert_eq!(strata, ["tensorflow", "pytorch", "deeplearning4j"]);
    assert_eq!(
        per["report"]["strata"][2][2], 2,
        "only 2 deeplearning4j questions exist"
    );
    let err = d.fails(&["sample", "--study", &s, "--name", "a", "--size", "3"]);
    assert!(err.contains("exists already"), "{err}");
    let text = d.ok(&["sample", "--study", &s, "--name", "t", "--size", "3"]);
    assert!(
        text.contains("batch t: 3 posts drawn with seed 0 (fixed size 3)"),
        "{text}"
    );
    assert_eq!(
        d.count(&s, "SELECT COUNT(*) FROM batch_posts WHERE batch = 'c'"),
        352
    );
}

//! Training, evaluating and applying classifiers through the real binary on
//! the 820 real labeled questions (tests/data/labels/dl-questions.csv).

use crate::util::{Dir, labeled_study};

/// Cross-validated quality on the shared labels. The figures are deterministic
/// (seeded folds, deterministic fits), so they are pinned as a snapshot: a
/// change to them is a change in quality that must be explained.
#[test]
fn cross_validation_is_deterministic_and_the_linear_model_beats_the_keyword_model() {
    let d = Dir::new();
    let s = labeled_study(&d, Some("dl-questions"));
    let linear = d.eval_protocol(&s, "linear", "cv5");
    let again = d.eval_protocol(&s, "linear", "cv5");
    assert_eq!(linear, again);
    assert_eq!(linear["items"], 820);
    let f1 = linear["macro_f1"].as_f64().unwrap();
    let lenient = linear["lenient_accuracy"].as_f64().unwrap();
    assert!((f1 - 0.6318).abs() < 0.0001, "linear cv5 macro F1 {f1}");
    assert!(
        (lenient - 0.8439).abs() < 0.0001,
        "linear cv5 lenient {lenient}"
    );
    for k in [
        "crash",
        "migration",
        "implementation",
        "training",
        "comprehension",
        "installation",
        "performance",
    ] {
        let m = &linear["per_category"][k];
        assert!(m["support"].as_u64().unwrap() > 0, "{k}");
        assert!(m["f1"].as_f64().unwrap() > 0.3, "{k}: {m}");
    }
    let keyword = d.eval_protocol(&s, "keyword", "cv5");
    let kf1 = keyword["macro_f1"].as_f64().unwrap();
    assert!((kf1 - 0.5468).abs() < 0.0001, "keyword cv5 macro F1 {kf1}");
    assert!(kf1 < f1);
    // The study's protocol: stratified 60/40, so 40% of the posts are scored.
    let study = d.eval_protocol(&s, "keyword", "study");
    assert_eq!(study["items"], 328);
    assert!(
        study["protocol"]
            .as_str()
            .unwrap()
            .starts_with("study: stratified 60/40")
    );
    // The latest eval is stored for the report.
    let stored: String = d
        .db(&s)
        .query_row(
            "SELECT json FROM results WHERE key = 'eval:dl-questions'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(stored.contains("\"protocol\":\"study: stratified 60/40"));
}

/// `scripts/build-default-model.sh` documents how models/default.json is made;
/// the same training here must give the same bytes.
#[test]
fn the_default_model_is_rebuilt_byte_for_byte() {
    let d = Dir::new();
    let s = labeled_study(&d, Some("dl-questions"));
    crate::util::check_built_in(&d, &s, &["--kind", "linear", "--c", "10"], "default");
    let md = d.ok(&["eval", "--study", &s, "--labels", "dl-questions"]);
    assert!(md.contains("**Warning:**"), "{md}");
}

#[test]
fn models_are_plain_json_and_classify_replaces_never_duplicates() {
    let d = Dir::new();
    let s = labeled_study(&d, Some("dl-questions"));
    let out = d.ok(&[
        "train",
        "--study",
        &s,
        "--labels",
        "dl-questions",
        "--kind",
        "keyword",
    ]);
    assert!(
        out.contains("model keyword (keyword): trained on 820 posts"),
        "{out}"
    );
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path("s/models/keyword.json")).unwrap())
            .unwrap();
    assert_eq!(model["format"], 1);
    assert_eq!(model["classifier"]["kind"], "keyword");
    assert_eq!(model["training"]["examples"], 820);
    assert!((model["classifier"]["keyword"]["alpha"].as_f64().unwrap() - 0.18).abs() < 1e-12);
    assert_eq!(model["categories"].as_array().unwrap().len(), 7);

    let n = d.count(&s, "SELECT COUNT(*) FROM questions");
    let out = d.ok(&["classify", "--study", &s]);
    assert!(
        out.contains(&format!(
            "classified {} questions with model default (linear)",
            crate::util::thousands(n)
        )),
        "{out}"
    );
    assert!(out.contains("| migration |"), "{out}");
    d.ok(&["classify", "--study", &s, "--model", "keyword"]);
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM classifications"), n);
    assert_eq!(
        d.count(&s, "SELECT COUNT(DISTINCT model) FROM classifications"),
        1
    );
    assert_eq!(
        d.count(
            &s,
            "SELECT COUNT(*) FROM classifications WHERE confidence < 0 OR confidence > 1"
        ),
        0
    );
    let err = d.fails(&["classify", "--study", &s, "--model", "nope"]);
    assert!(err.contains("no model \"nope\""), "{err}");
    let err = d.fails(&["eval", "--study", &s, "--labels", "nope"]);
    assert!(err.contains("no label set named \"nope\""), "{err}");
}

//! Bad input to the classifiers, as a careless user or an attacker gives it
//! (issue 9, defects 1, 3, 6, 14, 15, and the encoder's files): label sets
//! too small for a protocol, models of another study or inconsistent model
//! files, numeric options out of range, paths given as model names, broken
//! encoder files. Each gets a clear error (exit 2, no panic, the cause said
//! once) or a documented fallback; nothing is written. Real binary, real
//! PyTorch questions, real SQLite file; a property test fuzzes the model
//! loader.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::Dir;
use proptest::prelude::*;
use serde_json::{Value, json};
use stackmine::classify::encoder::Encoder;
use stackmine::classify::eval::Example;
use stackmine::classify::features::Doc;
use stackmine::classify::model::Model;
use stackmine::classify::{self, Kind, TrainParams};
use stackmine::study::Study;

/// Real labels of the PyTorch questions (tests/data/labels/dl-questions.csv):
/// primary kind → post Ids, in file order.
fn pytorch_labels() -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(crate::util::data("labels/dl-questions.csv")).unwrap();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[1] == "stackoverflow-pytorch-labeled" {
            out.entry(f[2].to_string())
                .or_default()
                .push(f[0].to_string());
        }
    }
    out
}

/// Imports a label set of `n` real posts of each `(kind, n)`.
fn import(d: &Dir, s: &str, set: &str, kinds: &[(&str, usize)]) {
    let labels = pytorch_labels();
    let mut csv = String::from("post_id,primary\n");
    for (kind, n) in kinds {
        for id in &labels[*kind][..*n] {
            csv.push_str(&format!("{id},{kind}\n"));
        }
    }
    let file = d.write(&format!("{set}.csv"), csv.as_bytes());
    d.ok(&["label", "import", &file, "--set", set, "--study", s]);
}

/// The number of times `needle` occurs in `hay`.
fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// Asserts stderr holds `want` exactly once (each cause said once).
fn once(err: &str, want: &str) {
    assert_eq!(count(err, want), 1, "{want:?} once in:\n{err}");
}

#[test]
fn label_sets_too_small_for_a_protocol_get_clear_errors() {
    let d = Dir::new();
    let s = d.pytorch_study();
    // The issue's repro: one post.
    let csv = d.write("n1.csv", b"post_id,primary\n61702825,crash\n");
    d.ok(&["label", "import", &csv, "--set", "n1", "--study", &s]);
    for kind in ["keyword", "linear"] {
        let ev = |set: &str, protocol: &str| {
            d.fails(&[
                "eval",
                "--study",
                &s,
                "--labels",
                set,
                "--kind",
                kind,
                "--protocol",
                protocol,
            ])
        };
        let err = ev("n1", "cv5");
        once(
            &err,
            "5-fold cross-validation needs at least 5 labeled posts, the label set has 1",
        );
        let err = ev("n1", "study");
        assert!(err.contains("leaves no posts to test"), "{err}");
        let train = |set: &str, extra: &[&str]| {
            let mut a = vec!["train", "--study", &s, "--labels", set, "--kind", kind];
            a.extend(extra);
            d.fails(&a)
        };
        let err = train("n1", &[]);
        once(&err, "every labeled post is of one category (crash)");
        let err = train("n1", &["--validate"]);
        assert!(err.contains("one category (crash)"), "{err}");
        assert!(!d.path("s/models").exists(), "no model written");
    }
    // Fewer posts than folds.
    import(&d, &s, "n4", &[("crash", 2), ("training", 2)]);
    let err = d.fails(&[
        "eval",
        "--study",
        &s,
        "--labels",
        "n4",
        "--kind",
        "linear",
        "--protocol",
        "cv5",
    ]);
    once(&err, "needs at least 5 labeled posts, the label set has 4");
    // One category only, enough posts: every fold trains on one category.
    import(&d, &s, "one", &[("crash", 7)]);
    let err = d.fails(&[
        "eval",
        "--study",
        &s,
        "--labels",
        "one",
        "--kind",
        "keyword",
        "--protocol",
        "cv5",
    ]);
    once(
        &err,
        "fold 1 of 5-fold cross-validation would train on posts of one category only (crash)",
    );
    let err = d.fails(&[
        "eval",
        "--study",
        &s,
        "--labels",
        "one",
        "--kind",
        "linear",
        "--protocol",
        "study",
    ]);
    assert!(err.contains("of one category only (crash)"), "{err}");
    // A category with one post: the fold that tests it trains on the other only.
    import(&d, &s, "lone", &[("crash", 6), ("performance", 1)]);
    let err = d.fails(&[
        "eval",
        "--study",
        &s,
        "--labels",
        "lone",
        "--kind",
        "linear",
        "--protocol",
        "cv5",
    ]);
    assert!(
        err.contains("5-fold cross-validation would train on posts of one category only (crash)"),
        "{err}"
    );
    // The documented fallback: a category with fewer posts than folds is
    // scored, with a note, as scikit-learn's StratifiedKFold warns.
    import(
        &d,
        &s,
        "few",
        &[("crash", 6), ("implementation", 6), ("training", 2)],
    );
    for kind in ["keyword", "linear"] {
        let out = d.run(&[
            "eval",
            "--json",
            "--study",
            &s,
            "--labels",
            "few",
            "--kind",
            kind,
            "--protocol",
            "cv5",
        ]);
        assert!(out.status.success());
        let e: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(e["items"], 14);
        assert_eq!(e["per_category"]["training"]["support"], 2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("note: category training has 2 labeled posts, fewer than the 5 folds"),
            "{err}"
        );
    }
    // Training on two posts of two kinds is fine, and the model loads.
    import(&d, &s, "two", &[("crash", 1), ("training", 1)]);
    for kind in ["keyword", "linear"] {
        let name = format!("two-{kind}");
        d.ok(&[
            "train", "--study", &s, "--labels", "two", "--kind", kind, "--name", &name,
        ]);
        d.ok(&["classify", "--study", &s, "--model", &name]);
    }
}

/// The hybrid kind through the binary, with the encoder: small sets are
/// refused as for the other kinds (skipped with a notice without it).
#[test]
fn hybrid_refuses_small_label_sets_through_the_binary() {
    let Some(d) = Dir::with_encoder() else {
        return;
    };
    let s = d.pytorch_study();
    import(&d, &s, "n1", &[("crash", 1)]);
    import(&d, &s, "n4", &[("crash", 2), ("training", 2)]);
    let run = |cmd: &str, set: &str, extra: &[&str]| {
        let mut a = vec![
            cmd,
            "--study",
            s.as_str(),
            "--labels",
            set,
            "--kind",
            "hybrid",
        ];
        a.extend(extra);
        d.fails(&a)
    };
    once(
        &run("train", "n1", &[]),
        "every labeled post is of one category (crash)",
    );
    once(
        &run("eval", "n4", &["--protocol", "cv5"]),
        "needs at least 5 labeled posts, the label set has 4",
    );
    once(
        &run("eval", "n1", &["--protocol", "study"]),
        "leaves no posts to test",
    );
    assert!(!d.path("s/models").exists());
}

/// Examples with embeddings, for the library's hybrid training (no encoder).
fn examples(kinds: &[(&str, usize)], dim: usize) -> Vec<Example> {
    let mut out = Vec::new();
    for (k, (kind, n)) in kinds.iter().enumerate() {
        for i in 0..*n {
            let mut embedding = vec![0.0; dim];
            if dim > 0 {
                embedding[(k + i) % dim] = 1.0;
            }
            out.push(Example {
                site: "s".into(),
                post_id: (100 * k + i) as i64,
                doc: Doc {
                    title: format!("{kind} question number {i}"),
                    body: format!("my {kind} problem with tensors"),
                    code: "x = torch.zeros(3)".into(),
                    tags: vec!["pytorch".into()],
                    embedding,
                },
                primary: kind.to_string(),
                kinds: vec![kind.to_string()],
            })
        }
    }
    out
}

#[test]
fn every_kind_refuses_small_sets_in_the_library_too() {
    let study = Study::default_study();
    let cats = &study.categories;
    for kind in [Kind::Keyword, Kind::Linear, Kind::Hybrid] {
        let p = TrainParams {
            kind,
            ..TrainParams::default()
        };
        let dim = p.encoder.dim;
        let msg = |r: Result<Model, classify::TrainError>| r.unwrap_err().to_string();
        assert!(msg(classify::train(&[], cats, &p, "m", "x")).contains("no labeled posts"));
        let one = examples(&[("crash", 1)], dim);
        assert!(msg(classify::train(&one, cats, &p, "m", "x")).contains("one category"));
        let cv = |ex: &[Example]| {
            classify::cross_validate(ex, cats, &p, "m", "x")
                .unwrap_err()
                .to_string()
        };
        assert!(cv(&one).contains("at least 5"), "{kind:?}");
        assert!(cv(&examples(&[("crash", 3), ("training", 1)], dim)).contains("at least 5"));
        assert!(cv(&examples(&[("crash", 5), ("training", 1)], dim)).contains("one category"));
        let split = classify::study_split(&one, cats, &p, "m", "x").unwrap_err();
        assert!(split.to_string().contains("no posts to test"), "{split}");
        // Fine sets train, validate and give a model that loads.
        let ok = examples(&[("crash", 5), ("training", 5), ("performance", 2)], dim);
        let e = classify::cross_validate(&ok, cats, &p, "m", "x").unwrap();
        assert_eq!(e.items, 12);
        let m = classify::train(&ok, cats, &p, "m", "x").unwrap();
        let text = serde_json::to_string(&m).unwrap();
        Model::from_json(&text, Path::new("m.json")).unwrap();
        // Labels that are not the study's categories, embeddings of another size.
        let mut bad = ok.clone();
        bad[0].primary = "bug".into();
        let err = msg(classify::train(&bad, cats, &p, "m", "x"));
        assert!(
            err.contains("labeled bug, which is not a category of the study (crash, "),
            "{err}"
        );
        if kind == Kind::Hybrid {
            let short = examples(&[("crash", 5), ("training", 5)], 3);
            let err = msg(classify::train(&short, cats, &p, "m", "x"));
            assert!(
                err.contains("embedding of 3 values, the encoder gives 384"),
                "{err}"
            );
        }
    }
    // Settings out of range are refused by the library as by the command line.
    for (p, want) in [
        (
            TrainParams {
                kind: Kind::Keyword,
                alpha: f64::NAN,
                ..TrainParams::default()
            },
            "alpha is NaN",
        ),
        (
            TrainParams {
                kind: Kind::Keyword,
                alpha: -1.0,
                ..TrainParams::default()
            },
            "alpha is -1",
        ),
        (
            TrainParams {
                linear: classify::linear::LinearParams {
                    c: 0.0,
                    ..Default::default()
                },
                ..TrainParams::default()
            },
            "C is 0",
        ),
        (
            TrainParams {
                linear: classify::linear::LinearParams {
                    c: f64::INFINITY,
                    ..Default::default()
                },
                ..TrainParams::default()
            },
            "C is inf",
        ),
        (
            TrainParams {
                kind: Kind::Hybrid,
                encoder: stackmine::classify::model::EncoderSpec {
                    weight: f32::NAN,
                    ..TrainParams::default().encoder
                },
                ..TrainParams::default()
            },
            "embedding weight is NaN",
        ),
        (
            TrainParams {
                kind: Kind::Hybrid,
                encoder: stackmine::classify::model::EncoderSpec {
                    max_tokens: 100_000,
                    ..TrainParams::default().encoder
                },
                ..TrainParams::default()
            },
            "max_tokens is 100000",
        ),
    ] {
        let ok = examples(&[("crash", 3), ("training", 3)], p.encoder.dim);
        let err = classify::train(&ok, cats, &p, "m", "x")
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{want}: {err}");
    }
}

/// Every numeric option of every command, out of range: refused where it is
/// parsed (exit 2, the range said), nothing written.
#[test]
fn numeric_options_are_validated_where_they_are_parsed() {
    let d = Dir::new();
    let s = d.study("s");
    let dump = crate::util::path("stackoverflow-pytorch-labeled/Posts.xml");
    let train = ["train", "--study", "s", "--labels", "x"];
    let eval = [
        "eval",
        "--study",
        "s",
        "--labels",
        "x",
        "--kind",
        "linear",
        "--protocol",
        "cv5",
    ];
    let sample = ["sample", "--study", "s", "--name", "b"];
    let ingest = ["ingest", dump.as_str(), "--study", "s"];
    let run = ["run", dump.as_str(), "--study", "r"];
    let serve = ["label", "serve", "--study", "s"];
    let cases: Vec<(&[&str], &[&str], &str)> = vec![
        (&train, &["--c", "0"], "0 is not in [0.0001, 1000000]"),
        (&train, &["--c=-1"], "-1 is not in [0.0001, 1000000]"),
        (&train, &["--c", "nan"], "NaN is not in [0.0001, 1000000]"),
        (&train, &["--c", "inf"], "inf is not in [0.0001, 1000000]"),
        (&train, &["--c", "1e7"], "10000000 is not in"),
        (&train, &["--c", "ten"], "not a number"),
        (&train, &["--alpha=-1"], "-1 is not in [0, 1000000]"),
        (&train, &["--alpha", "NaN"], "NaN is not in [0"),
        (&train, &["--alpha", "inf"], "inf is not in [0"),
        (&train, &["--alpha=-inf"], "-inf is not in [0"),
        (&train, &["--embedding-weight", "0"], "0 is not in (0, 100]"),
        (&train, &["--embedding-weight=-3"], "-3 is not in (0, 100]"),
        (&train, &["--embedding-weight", "nan"], "NaN is not in"),
        (
            &train,
            &["--embedding-weight", "1e40"],
            "is not in (0, 100]",
        ),
        (&train, &["--max-tokens", "7"], "not in 8..=512"),
        (&train, &["--max-tokens", "513"], "not in 8..=512"),
        (&train, &["--max-tokens=-1"], "invalid value"),
        (&train, &["--name", "../x"], "a model name is"),
        (&eval, &["--c", "nan"], "NaN is not in [0.0001, 1000000]"),
        (&eval, &["--alpha=-0.5"], "-0.5 is not in [0"),
        (
            &eval,
            &["--embedding-weight", "inf"],
            "inf is not in (0, 100]",
        ),
        (&sample, &["--size", "0"], "0 is not in 1.."),
        (&sample, &["--size=-5"], "invalid value"),
        (&sample, &["--per-framework", "0"], "0 is not in 1.."),
        (
            &sample,
            &["--confidence", "0", "--margin", "0.05"],
            "0 is not in (0, 1)",
        ),
        (
            &sample,
            &["--confidence", "1", "--margin", "0.05"],
            "1 is not in (0, 1)",
        ),
        (
            &sample,
            &["--confidence", "95", "--margin", "0.05"],
            "95 is not in (0, 1)",
        ),
        (
            &sample,
            &["--confidence", "nan", "--margin", "0.05"],
            "NaN is not in (0, 1)",
        ),
        (
            &sample,
            &["--confidence", "0.95", "--margin", "0"],
            "0 is not in (0, 1)",
        ),
        (
            &sample,
            &["--confidence", "0.95", "--margin=-0.05"],
            "-0.05 is not in (0, 1)",
        ),
        (
            &sample,
            &["--confidence", "0.95", "--margin", "inf"],
            "inf is not in (0, 1)",
        ),
        (&sample, &["--size", "3", "--seed=-1"], "invalid value"),
        (
            &sample,
            &["--size", "3", "--seed", "18446744073709551616"],
            "invalid value",
        ),
        (&ingest, &["--max-bad-rows=-0.1"], "-0.1 is not in [0, 1]"),
        (&ingest, &["--max-bad-rows", "1.5"], "1.5 is not in [0, 1]"),
        (&ingest, &["--max-bad-rows", "nan"], "NaN is not in [0, 1]"),
        (&ingest, &["--chunk-kib", "0"], "0 is not in 1..=1048576"),
        (&run, &["--max-bad-rows", "2"], "2 is not in [0, 1]"),
        (&run, &["--chunk-kib", "0"], "0 is not in 1..=1048576"),
        (&serve, &["--port", "70000"], "invalid value"),
        (&serve, &["--port=-1"], "invalid value"),
    ];
    for (cmd, extra, want) in &cases {
        let mut args: Vec<&str> = cmd.to_vec();
        args.extend(*extra);
        let err = d.fails(&args);
        assert!(err.contains("invalid value"), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: want {want:?} in {err}");
    }
    // Nothing was written: no models, no run study, no batch, no ingest.
    assert!(!d.path("s/models").exists());
    assert!(!d.path("r").exists());
    assert!(!d.path("s/study.db").exists() || d.count(&s, "SELECT COUNT(*) FROM questions") == 0);
    // Help texts state the ranges.
    let help = d.ok(&["train", "--help"]);
    for range in ["[1e-4, 1e6]", "[0, 1e6]", "(0, 100]", "8 to 512"] {
        assert!(help.contains(range), "train --help lacks {range}:\n{help}");
    }
    let help = d.ok(&["sample", "--help"]);
    assert!(
        help.contains("in (0, 1)") && help.contains("1 or more"),
        "{help}"
    );
    let help = d.ok(&["ingest", "--help"]);
    assert!(help.contains("[0, 1]"), "{help}");
    let help = d.ok(&["label", "serve", "--help"]);
    assert!(help.contains("0 to 65535"), "{help}");
    println!("{} bad numeric options tried", cases.len());
}

/// Settings at the edges of their ranges train models that classify loads.
#[test]
fn train_never_writes_a_model_classify_cannot_load() {
    let d = Dir::new();
    let s = d.pytorch_study();
    import(
        &d,
        &s,
        "small",
        &[("crash", 8), ("implementation", 8), ("training", 4)],
    );
    for (name, args) in [
        ("c-max", &["--kind", "linear", "--c", "1e6"][..]),
        ("c-min", &["--kind", "linear", "--c", "1e-4"]),
        (
            "hinge",
            &["--kind", "linear", "--loss", "squared-hinge", "--c", "1e6"],
        ),
        ("alpha-0", &["--kind", "keyword", "--alpha", "0"]),
        ("alpha-max", &["--kind", "keyword", "--alpha", "1e6"]),
    ] {
        let mut a = vec!["train", "--study", &s, "--labels", "small", "--name", name];
        a.extend(args);
        d.ok(&a);
        d.ok(&["classify", "--study", &s, "--model", name]);
        assert_eq!(
            d.count(
                &s,
                "SELECT COUNT(*) FROM classifications WHERE NOT (confidence BETWEEN 0 AND 1)"
            ),
            0,
            "{name}"
        );
    }
}

/// A model that cannot be written leaves no partial or temporary file.
#[test]
fn a_model_that_cannot_be_written_leaves_nothing_behind() {
    let d = Dir::new();
    let s = d.pytorch_study();
    import(&d, &s, "k", &[("crash", 3), ("training", 3)]);
    std::fs::create_dir_all(d.path("out/taken.json")).unwrap();
    let out = d.path("out/taken.json");
    let err = d.fails(&[
        "train",
        "--study",
        &s,
        "--labels",
        "k",
        "--kind",
        "keyword",
        "--out",
        out.to_str().unwrap(),
    ]);
    once(&err, "(os error");
    let left: Vec<_> = std::fs::read_dir(d.path("out")).unwrap().collect();
    assert_eq!(left.len(), 1, "only the folder that was there: {left:?}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

/// Writes study `name` whose study.toml renames crash → bug and performance
/// → speed, with the PyTorch questions.
fn renamed_study(d: &Dir, name: &str) -> String {
    let s = d.study(name);
    let toml = std::fs::read_to_string(d.path(&format!("{s}/study.toml"))).unwrap();
    // The published figures are renamed with them (the study checks them).
    let renamed = toml
        .replace("key = \"crash\"", "key = \"bug\"")
        .replace("crash = ", "bug = ")
        .replace("key = \"performance\"", "key = \"speed\"")
        .replace("performance = ", "speed = ");
    assert_ne!(toml, renamed);
    d.write(&format!("{s}/study.toml"), renamed.as_bytes());
    d.ok(&[
        "ingest",
        &crate::util::path("stackoverflow-pytorch-labeled/Posts.xml"),
        "--all-questions",
        "--study",
        &s,
    ]);
    s
}

#[test]
fn a_model_of_other_categories_is_refused_by_classify_eval_report_and_run() {
    let d = Dir::new();
    let s = renamed_study(&d, "r");
    let both = |err: &str| {
        assert!(
            err.contains("has the categories crash, migration, implementation")
                && err.contains("the study has bug, migration, implementation")
                && err.contains("speed"),
            "{err}"
        );
    };
    // classify with the built-in model (and each built-in by name).
    for args in [
        &["classify", "--study", "r"][..],
        &["classify", "--study", "r", "--model", "default"],
        &["classify", "--study", "r", "--model", "default-linear"],
    ] {
        both(&d.fails(args));
    }
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM classifications"), 0);
    // eval with the built-in model on labels of the study's categories.
    let labels = pytorch_labels();
    let mut csv = String::from("post_id,primary\n");
    for (kind, to) in [
        ("crash", "bug"),
        ("performance", "speed"),
        ("training", "training"),
    ] {
        for id in &labels[kind][..3] {
            csv.push_str(&format!("{id},{to}\n"));
        }
    }
    let file = d.write("renamed.csv", csv.as_bytes());
    d.ok(&["label", "import", &file, "--set", "l", "--study", "r"]);
    both(&d.fails(&["eval", "--study", "r", "--labels", "l"]));
    // A model trained in another study.
    let other = d.pytorch_study();
    import(&d, &other, "o", &[("crash", 3), ("training", 3)]);
    d.ok(&[
        "train", "--study", &other, "--labels", "o", "--kind", "keyword",
    ]);
    let foreign = d.path("s/models/keyword.json");
    let foreign = foreign.to_str().unwrap();
    let err = d.fails(&["classify", "--study", "r", "--model-file", foreign]);
    assert!(
        err.contains("model keyword has the categories crash, migration"),
        "{err}"
    );
    both(&d.fails(&[
        "eval",
        "--study",
        "r",
        "--labels",
        "l",
        "--model-file",
        foreign,
    ]));
    // run: refused at classify, no report written.
    let err = d.fails(&[
        "run",
        &crate::util::path("stackoverflow-pytorch-labeled/Posts.xml"),
        "--study",
        "r",
        "--all-questions",
    ]);
    both(&err);
    assert!(!d.path("r/report/index.html").exists());
    // report: classifications made before study.toml was edited.
    let t = d.pytorch_study_named("t");
    d.ok(&["classify", "--study", &t]);
    let toml = std::fs::read_to_string(d.path("t/study.toml")).unwrap();
    d.write(
        "t/study.toml",
        toml.replace("key = \"crash\"", "key = \"bug\"")
            .replace("crash = ", "bug = ")
            .as_bytes(),
    );
    let err = d.fails(&["report", "--study", &t]);
    assert!(
        err.contains("the classifications (model default) use the categories ")
            && err.contains("crash")
            && err.contains("the study has bug, migration"),
        "{err}"
    );
    assert!(!d.path("t/report/index.html").exists());
    // A category added after classify: the classifying model lacks it.
    let u = d.pytorch_study_named("u");
    d.ok(&["classify", "--study", &u]);
    let mut toml = std::fs::read_to_string(d.path("u/study.toml")).unwrap();
    toml.push_str(
        "\n[[categories]]\nkey = \"other\"\nname = \"Other\"\ndescription = \"None of the others.\"\nkeywords = []\n",
    );
    d.write("u/study.toml", toml.as_bytes());
    let err = d.fails(&["report", "--study", &u]);
    assert!(
        err.contains("the classifications cannot be reported: classify again: model default has the categories crash,")
            && err.contains("the study has crash, migration, implementation, training, comprehension, installation, performance, other"),
        "{err}"
    );
    assert!(!d.path("u/report/index.html").exists());
    // Labels imported before the edit: training and eval refuse them.
    import(&d, &other, "o2", &[("crash", 3), ("training", 3)]);
    let toml = std::fs::read_to_string(d.path("s/study.toml")).unwrap();
    d.write(
        "s/study.toml",
        toml.replace("key = \"crash\"", "key = \"bug\"")
            .replace("crash = ", "bug = ")
            .as_bytes(),
    );
    for args in [
        &["train", "--study", "s", "--labels", "o2"][..],
        &[
            "eval",
            "--study",
            "s",
            "--labels",
            "o2",
            "--kind",
            "linear",
            "--protocol",
            "cv5",
        ],
        &[
            "eval", "--study", "s", "--labels", "o2", "--model", "keyword",
        ],
    ] {
        let err = d.fails(args);
        assert!(
            err.contains("is labeled crash, which is not a category of the study (bug, "),
            "{args:?}: {err}"
        );
    }
}

trait PytorchNamed {
    fn pytorch_study_named(&self, name: &str) -> String;
}

impl PytorchNamed for Dir {
    fn pytorch_study_named(&self, name: &str) -> String {
        let s = self.study(name);
        self.ok(&[
            "ingest",
            &crate::util::path("stackoverflow-pytorch-labeled/Posts.xml"),
            "--all-questions",
            "--study",
            &s,
        ]);
        s
    }
}

fn shipped(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("models/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A mutation of a model's JSON and what the error must say.
type Case = (&'static str, Box<dyn Fn(&mut Value)>, &'static str);

fn at<'a>(v: &'a mut Value, pointer: &str) -> &'a mut Value {
    v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"))
}

#[test]
fn inconsistent_model_files_are_refused_naming_the_file_and_the_fault() {
    let d = Dir::new();
    let s = d.pytorch_study();
    import(&d, &s, "k", &[("crash", 3), ("training", 3)]);
    d.ok(&["train", "--study", &s, "--labels", "k", "--kind", "keyword"]);
    let keyword: Value =
        serde_json::from_str(&std::fs::read_to_string(d.path("s/models/keyword.json")).unwrap())
            .unwrap();
    let linear = shipped("default");
    let hybrid = shipped("default-hybrid");
    let lw = "/classifier/linear/weights";
    let cases: Vec<(&Value, Case)> = vec![
        (
            &linear,
            (
                "three-categories",
                Box::new(|m| {
                    m["categories"] = json!(["crash", "migration", "implementation"]);
                }),
                "class training is not one of its categories",
            ),
        ),
        (
            &linear,
            (
                "seven-rows-three-classes",
                Box::new(|m| {
                    at(m, "/classifier/linear/classes")
                        .as_array_mut()
                        .unwrap()
                        .truncate(3);
                }),
                "3 classes but 7 weight rows and 7 biases",
            ),
        ),
        (
            &linear,
            (
                "eight-rows",
                Box::new(move |m| {
                    let row = at(m, &format!("{lw}/0")).clone();
                    at(m, lw).as_array_mut().unwrap().push(row);
                }),
                "7 classes but 8 weight rows",
            ),
        ),
        (
            &linear,
            (
                "short-row",
                Box::new(move |m| {
                    at(m, &format!("{lw}/2")).as_array_mut().unwrap().pop();
                }),
                "class implementation: 16764 weights, the features have 16765",
            ),
        ),
        (
            &linear,
            (
                "idf-short",
                Box::new(|m| {
                    at(m, "/classifier/features/fields/1/idf")
                        .as_array_mut()
                        .unwrap()
                        .pop();
                }),
                "field 2 (body): 6199 terms but 6198 idf values",
            ),
        ),
        (
            &linear,
            (
                "term-twice",
                Box::new(|m| {
                    let t = at(m, "/classifier/features/fields/0/terms/0").clone();
                    *at(m, "/classifier/features/fields/0/terms/1") = t;
                }),
                "field 1 (title): a term is listed twice",
            ),
        ),
        (
            &linear,
            (
                "inf-weight",
                Box::new(move |m| {
                    *at(m, &format!("{lw}/0/5")) = json!(1e39);
                }),
                "class crash: a weight is inf",
            ),
        ),
        (
            &linear,
            (
                "null-weight",
                Box::new(move |m| {
                    *at(m, &format!("{lw}/0/5")) = Value::Null;
                }),
                "not a stackmine model: invalid type: null",
            ),
        ),
        (
            &linear,
            (
                "inf-bias",
                Box::new(|m| {
                    *at(m, "/classifier/linear/bias/3") = json!(-1e300);
                }),
                "class training: a weight is -inf",
            ),
        ),
        (
            &linear,
            (
                "nan-idf",
                Box::new(|m| {
                    *at(m, "/classifier/features/fields/4/idf/0") = json!(1e39);
                }),
                "field 5 (errors): an idf value is inf",
            ),
        ),
        (
            &linear,
            (
                "huge-ngram",
                Box::new(|m| {
                    *at(m, "/classifier/features/fields/0/max_ngram") = json!(u64::MAX);
                }),
                "max_ngram 18446744073709551615 is not in 1..=8",
            ),
        ),
        (
            &linear,
            (
                "no-fields",
                Box::new(|m| {
                    *at(m, "/classifier/features/fields") = json!([]);
                }),
                "it has no feature fields",
            ),
        ),
        (
            &linear,
            (
                "c-zero",
                Box::new(|m| {
                    *at(m, "/classifier/linear/params/c") = json!(0.0);
                }),
                "C is 0",
            ),
        ),
        (
            &linear,
            (
                "one-category",
                Box::new(|m| {
                    m["categories"] = json!(["crash"]);
                }),
                "it has 1 categories, a model needs at least two",
            ),
        ),
        (
            &linear,
            (
                "category-twice",
                Box::new(|m| {
                    m["categories"][1] = json!("crash");
                }),
                "categories: crash is listed twice",
            ),
        ),
        (
            &linear,
            (
                "class-twice",
                Box::new(|m| {
                    *at(m, "/classifier/linear/classes/1") = json!("crash");
                }),
                "classes: crash is listed twice",
            ),
        ),
        (
            &linear,
            (
                "no-classes",
                Box::new(|m| {
                    let l = at(m, "/classifier/linear");
                    l["classes"] = json!([]);
                    l["weights"] = json!([]);
                    l["bias"] = json!([]);
                }),
                "its classifier has no classes",
            ),
        ),
        (
            &linear,
            (
                "confusion-6x7",
                Box::new(|m| {
                    at(m, "/validation/confusion").as_array_mut().unwrap().pop();
                }),
                "confusion matrix is not 7 × 7",
            ),
        ),
        (
            &linear,
            (
                "accuracy-2",
                Box::new(|m| {
                    *at(m, "/validation/accuracy") = json!(2.0);
                }),
                "validation accuracy is 2, not a number in [0, 1]",
            ),
        ),
        (
            &linear,
            (
                "name-path",
                Box::new(|m| {
                    m["name"] = json!("../../x");
                }),
                "its name \"../../x\" is not a model name",
            ),
        ),
        (
            &linear,
            (
                "confusion-huge",
                Box::new(|m| {
                    *at(m, "/validation/confusion/0/0") = json!(1u64 << 50);
                }),
                "confusion matrix does not count its 820 posts",
            ),
        ),
        (
            &linear,
            (
                "confusion-overflow",
                Box::new(|m| {
                    *at(m, "/validation/confusion/0/0") = json!(u64::MAX);
                    *at(m, "/validation/confusion/0/1") = json!(u64::MAX);
                }),
                "confusion matrix does not count its 820 posts",
            ),
        ),
        (
            &linear,
            (
                "unknown-kind",
                Box::new(|m| {
                    *at(m, "/classifier/kind") = json!("forest");
                }),
                "unknown variant `forest`",
            ),
        ),
        (
            &linear,
            (
                "format-2",
                Box::new(|m| {
                    m["format"] = json!(2);
                }),
                "model format 2, this build reads 1",
            ),
        ),
        (
            &linear,
            (
                "format-huge",
                Box::new(|m| {
                    m["format"] = json!(u64::MAX);
                }),
                "model format 18446744073709551615, this build reads 1",
            ),
        ),
        (
            &linear,
            (
                "format-text",
                Box::new(|m| {
                    m["format"] = json!("1");
                }),
                "not a stackmine model: invalid type: string",
            ),
        ),
        (
            &linear,
            (
                "no-format",
                Box::new(|m| {
                    m.as_object_mut().unwrap().remove("format");
                }),
                "missing field `format`",
            ),
        ),
        (
            &hybrid,
            (
                "embedding-size-0",
                Box::new(|m| {
                    *at(m, "/classifier/encoder/dim") = json!(0);
                }),
                "embedding size 0 is not in 1..=8192",
            ),
        ),
        (
            &hybrid,
            (
                "embedding-size-385",
                Box::new(|m| {
                    *at(m, "/classifier/encoder/dim") = json!(385);
                }),
                "weights, the features have",
            ),
        ),
        (
            &hybrid,
            (
                "embedding-weight-0",
                Box::new(|m| {
                    *at(m, "/classifier/encoder/weight") = json!(0.0);
                }),
                "embedding weight 0 is not in (0, 100]",
            ),
        ),
        (
            &hybrid,
            (
                "max-tokens-huge",
                Box::new(|m| {
                    *at(m, "/classifier/encoder/max_tokens") = json!(1u64 << 40);
                }),
                "max_tokens 1099511627776 is not in 8..=512",
            ),
        ),
        (
            &keyword,
            (
                "keyword-tables",
                Box::new(|m| {
                    at(m, "/classifier/keyword/weights")
                        .as_array_mut()
                        .unwrap()
                        .pop();
                }),
                "2 classes but 1 weight tables",
            ),
        ),
        (
            &keyword,
            (
                "keyword-negative",
                Box::new(|m| {
                    let w = at(m, "/classifier/keyword/weights/0");
                    let first = w.as_object().unwrap().keys().next().unwrap().clone();
                    w[first.as_str()] = json!(-1.0);
                }),
                "not in [0, 1000000000000]",
            ),
        ),
        (
            &keyword,
            (
                "keyword-alpha",
                Box::new(|m| {
                    *at(m, "/classifier/keyword/alpha") = json!(-0.5);
                }),
                "alpha is -0.5",
            ),
        ),
        (
            &keyword,
            (
                "keyword-class",
                Box::new(|m| {
                    *at(m, "/classifier/keyword/classes/0") = json!("bug");
                }),
                "class bug is not one of its categories",
            ),
        ),
    ];
    let mut tried = 0;
    for (base, (name, mutate, want)) in &cases {
        let mut m = (*base).clone();
        mutate(&mut m);
        let file = d.write(&format!("bad/{name}.json"), m.to_string().as_bytes());
        let err = d.fails(&["classify", "--study", &s, "--model-file", &file]);
        once(&err, &file);
        assert!(err.contains(want), "{name}: want {want:?} in {err}");
        tried += 1;
    }
    // Not JSON at all, empty, binary, cut off; by name in the study's models/.
    for (name, bytes, want) in [
        (
            "empty",
            &b""[..],
            "not a stackmine model: EOF while parsing",
        ),
        (
            "binary",
            b"\x00\xff\xfe garbage",
            "stream did not contain valid UTF-8",
        ),
        ("array", b"[1, 2, 3]", "not a stackmine model: invalid type"),
        (
            "cut",
            b"{\"format\": 1, \"name\": \"x\", \"categ",
            "not a stackmine model: EOF",
        ),
    ] {
        let file = d.write(&format!("s/models/{name}.json"), bytes);
        let err = d.fails(&["classify", "--study", &s, "--model", name]);
        assert!(file.ends_with(&format!("s/models/{name}.json")));
        once(&err, &format!("s/models/{name}.json"));
        assert!(err.contains(want), "{name}: want {want:?} in {err}");
        tried += 1;
    }
    // The models are refused on load by eval too, and nothing was classified.
    let file = d.path("bad/three-categories.json");
    let err = d.fails(&[
        "eval",
        "--study",
        &s,
        "--labels",
        "k",
        "--model-file",
        file.to_str().unwrap(),
    ]);
    assert!(
        err.contains("class training is not one of its categories"),
        "{err}"
    );
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM classifications"), 0);
    println!("{tried} bad model files tried");
}

#[test]
fn model_names_are_names_and_model_files_use_model_file() {
    let d = Dir::new();
    let s = d.pytorch_study();
    import(&d, &s, "k", &[("crash", 3), ("training", 3)]);
    d.ok(&[
        "train", "--study", &s, "--labels", "k", "--kind", "keyword", "--name", "kw",
    ]);
    let kw = d.path("s/models/kw.json");
    let kw = kw.to_str().unwrap();
    for bad in [
        "../../other/models/x",
        "../s/models/kw",
        "models/kw",
        "a\\b",
        "..",
        ".hidden",
        "",
        "x y",
        kw,
    ] {
        for cmd in [
            &["classify", "--study", &s, "--model", bad][..],
            &["eval", "--study", &s, "--labels", "k", "--model", bad],
            &["train", "--study", &s, "--labels", "k", "--name", bad],
        ] {
            let err = d.fails(cmd);
            assert!(
                err.contains(
                    "a model name is 1–64 letters, digits, '_', '.' or '-', not starting with '.'"
                ),
                "{cmd:?}: {err}"
            );
        }
    }
    // A file anywhere is given with --model-file, on classify and eval.
    let out = d.ok(&["classify", "--study", &s, "--model-file", kw]);
    assert!(out.contains("with model kw (keyword)"), "{out}");
    let e = d.eval_json(&["--study", &s, "--labels", "k", "--model-file", kw]);
    assert_eq!(e["model"], "kw");
    let err = d.fails(&[
        "classify",
        "--study",
        &s,
        "--model",
        "kw",
        "--model-file",
        kw,
    ]);
    assert!(err.contains("cannot be used with"), "{err}");
    let err = d.fails(&[
        "eval",
        "--study",
        &s,
        "--labels",
        "k",
        "--model-file",
        kw,
        "--kind",
        "linear",
        "--protocol",
        "cv5",
    ]);
    assert!(err.contains("cannot be used with"), "{err}");
    // A name that looks like a file gets a hint.
    let err = d.fails(&["classify", "--study", &s, "--model", "kw.json"]);
    assert!(
        err.contains("no model \"kw.json\"") && err.contains("--model-file PATH"),
        "{err}"
    );
    // Built-in names still work; the hybrid one says it needs the encoder.
    let out = d.ok(&["classify", "--study", &s, "--model", "default-linear"]);
    assert!(out.contains("with model default (linear)"), "{out}");
    let err = d.fails(&["classify", "--study", &s, "--model", "default-hybrid"]);
    once(&err, "no sentence encoder at");
    // A missing file: the OS error once.
    let err = d.fails(&["classify", "--study", &s, "--model-file", "nope.json"]);
    once(&err, "No such file or directory");
}

/// A broken encoder folder: name, config.json, vocab.txt, model.safetensors,
/// and what the error must say.
type EncoderCase = (&'static str, String, Vec<u8>, Vec<u8>, &'static str);

/// A tiny BERT (hidden 4, 2 heads, 1 layer) as safetensors, for the loader.
fn tiny_bert() -> (String, String, Vec<u8>) {
    let config = json!({
        "hidden_size": 4, "num_attention_heads": 2, "num_hidden_layers": 1,
        "intermediate_size": 8, "max_position_embeddings": 8, "vocab_size": 6,
        "hidden_act": "gelu"
    });
    let vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nloss\nnan\n".to_string();
    let mut shapes: Vec<(String, Vec<usize>)> = vec![
        ("embeddings.word_embeddings.weight".into(), vec![6, 4]),
        ("embeddings.position_embeddings.weight".into(), vec![8, 4]),
        ("embeddings.token_type_embeddings.weight".into(), vec![2, 4]),
        ("embeddings.LayerNorm.weight".into(), vec![4]),
        ("embeddings.LayerNorm.bias".into(), vec![4]),
    ];
    let p = "encoder.layer.0.";
    for (name, shape) in [
        ("attention.self.query", vec![4, 4]),
        ("attention.self.key", vec![4, 4]),
        ("attention.self.value", vec![4, 4]),
        ("attention.output.dense", vec![4, 4]),
        ("intermediate.dense", vec![8, 4]),
        ("output.dense", vec![4, 8]),
    ] {
        let out = shape[0];
        shapes.push((format!("{p}{name}.weight"), shape));
        shapes.push((format!("{p}{name}.bias"), vec![out]));
    }
    for n in ["attention.output", "output"] {
        shapes.push((format!("{p}{n}.LayerNorm.weight"), vec![4]));
        shapes.push((format!("{p}{n}.LayerNorm.bias"), vec![4]));
    }
    (config.to_string(), vocab, safetensors(&shapes))
}

fn safetensors(shapes: &[(String, Vec<usize>)]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (k, (name, shape)) in shapes.iter().enumerate() {
        let n: usize = shape.iter().product();
        let start = data.len();
        for i in 0..n {
            let v = ((k * 7 + i) % 11) as f32 / 11.0 - 0.4;
            data.extend_from_slice(&v.to_le_bytes());
        }
        header.insert(
            name.clone(),
            json!({"dtype": "F32", "shape": shape, "data_offsets": [start, data.len()]}),
        );
    }
    let head = Value::Object(header).to_string();
    let mut out = (head.len() as u64).to_le_bytes().to_vec();
    out.extend(head.as_bytes());
    out.extend(data);
    out
}

#[test]
fn broken_encoder_files_are_clear_errors_never_a_panic() {
    let d = Dir::new();
    let (config, vocab, weights) = tiny_bert();
    let dir = |name: &str, c: &str, v: &[u8], w: &[u8]| {
        d.write(&format!("{name}/config.json"), c.as_bytes());
        d.write(&format!("{name}/vocab.txt"), v);
        d.write(&format!("{name}/model.safetensors"), w);
        d.path(name)
    };
    // The tiny model loads and embeds to a unit vector.
    let ok = Encoder::load(&dir("ok", &config, vocab.as_bytes(), &weights)).unwrap();
    let e = ok.embed("loss nan", 8);
    assert_eq!(e.len(), 4);
    assert!((e.iter().map(|v| v * v).sum::<f32>() - 1.0).abs() < 1e-4);
    let cfg = |f: &dyn Fn(&mut Value)| {
        let mut v: Value = serde_json::from_str(&config).unwrap();
        f(&mut v);
        v.to_string()
    };
    let head_len = u64::from_le_bytes(weights[..8].try_into().unwrap()) as usize;
    let mut cut = weights.clone();
    cut.truncate(weights.len() - 10);
    let mut huge_head = weights.clone();
    huge_head[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    let mut out_of_range = weights.clone();
    out_of_range.truncate(8 + head_len + 16);
    let overflow = {
        let head = r#"{"x":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,4]}}"#;
        let mut w = (head.len() as u64).to_le_bytes().to_vec();
        w.extend(head.as_bytes());
        w.extend([0u8; 4]);
        w
    };
    let bad_entry = {
        let head = r#"{"x":{"dtype":"F32","shape":"wide","data_offsets":[0,4]}}"#;
        let mut w = (head.len() as u64).to_le_bytes().to_vec();
        w.extend(head.as_bytes());
        w
    };
    let mut missing_shapes = tiny_shapes();
    missing_shapes.retain(|(n, _)| !n.contains("intermediate.dense.bias"));
    let mut wrong_shape = tiny_shapes();
    for (name, shape) in &mut wrong_shape {
        if name.ends_with("attention.self.query.weight") {
            *shape = vec![4, 5];
        }
    }
    let cases: Vec<EncoderCase> = vec![
        (
            "relu",
            cfg(&|c| c["hidden_act"] = json!("relu")),
            vocab.clone().into(),
            weights.clone(),
            "config.json: hidden_act \"relu\" is not implemented (only \"gelu\" is)",
        ),
        (
            "gelu-new",
            cfg(&|c| c["hidden_act"] = json!("gelu_new")),
            vocab.clone().into(),
            weights.clone(),
            "hidden_act \"gelu_new\" is not implemented",
        ),
        (
            "relative",
            cfg(&|c| c["position_embedding_type"] = json!("relative_key")),
            vocab.clone().into(),
            weights.clone(),
            "position_embedding_type \"relative_key\" is not implemented",
        ),
        (
            "huge-hidden",
            cfg(&|c| c["hidden_size"] = json!(1u64 << 40)),
            vocab.clone().into(),
            weights.clone(),
            "hidden_size is 1099511627776, outside 1..=8192",
        ),
        (
            "zero-heads",
            cfg(&|c| c["num_attention_heads"] = json!(0)),
            vocab.clone().into(),
            weights.clone(),
            "num_attention_heads is 0, outside 1..=256",
        ),
        (
            "heads-3",
            cfg(&|c| c["num_attention_heads"] = json!(3)),
            vocab.clone().into(),
            weights.clone(),
            "hidden_size 4 is not a multiple of num_attention_heads 3",
        ),
        (
            "layers-huge",
            cfg(&|c| c["num_hidden_layers"] = json!(1_000_000)),
            vocab.clone().into(),
            weights.clone(),
            "num_hidden_layers is 1000000, outside 1..=128",
        ),
        (
            "positions-1",
            cfg(&|c| c["max_position_embeddings"] = json!(1)),
            vocab.clone().into(),
            weights.clone(),
            "max_position_embeddings is 1, outside 2..=8192",
        ),
        (
            "eps-neg",
            cfg(&|c| c["layer_norm_eps"] = json!(-1.0)),
            vocab.clone().into(),
            weights.clone(),
            "layer_norm_eps is -1, not a finite number in (0, 1)",
        ),
        (
            "config-negative",
            cfg(&|c| c["hidden_size"] = json!(-4)),
            vocab.clone().into(),
            weights.clone(),
            "config.json: not a BERT config: invalid value: integer `-4`",
        ),
        (
            "config-not-json",
            "{".into(),
            vocab.clone().into(),
            weights.clone(),
            "config.json: not a BERT config: EOF while parsing",
        ),
        (
            "no-cls",
            config.clone(),
            b"[PAD]\n[UNK]\nx\n[SEP]\nloss\nnan\n".to_vec(),
            weights.clone(),
            "vocab.txt: it has no [CLS] token",
        ),
        (
            "no-unk",
            config.clone(),
            b"[PAD]\n[CLS]\n[SEP]\nloss\nnan\nx\n".to_vec(),
            weights.clone(),
            "vocab.txt: it has no [UNK] token",
        ),
        (
            "vocab-latin1",
            config.clone(),
            b"[PAD]\n[UNK]\n[CLS]\n[SEP]\nl\xf6ss\nnan\n".to_vec(),
            weights.clone(),
            "vocab.txt: not UTF-8 text (line 5)",
        ),
        (
            "vocab-size",
            config.clone(),
            b"[PAD]\n[UNK]\n[CLS]\n[SEP]\n".to_vec(),
            weights.clone(),
            "vocab.txt: 4 tokens, config.json says 6",
        ),
        (
            "cut-data",
            config.clone(),
            vocab.clone().into(),
            cut,
            "out of the file's range",
        ),
        (
            "huge-header",
            config.clone(),
            vocab.clone().into(),
            huge_head,
            "model.safetensors: cut off in its header (it says 18446744073709551615 bytes)",
        ),
        (
            "seven-bytes",
            config.clone(),
            vocab.clone().into(),
            weights[..7].to_vec(),
            "model.safetensors: shorter than its 8-byte header length",
        ),
        (
            "out-of-range",
            config.clone(),
            vocab.clone().into(),
            out_of_range,
            "is out of the file's range",
        ),
        (
            "shape-overflow",
            config.clone(),
            vocab.clone().into(),
            overflow,
            "tensor x: 4 bytes of data do not fit its shape 4611686018427387904 × 4611686018427387904",
        ),
        (
            "bad-entry",
            config.clone(),
            vocab.clone().into(),
            bad_entry,
            "tensor x: bad entry: invalid type: string",
        ),
        (
            "header-not-json",
            config.clone(),
            vocab.clone().into(),
            b"\x04\x00\x00\x00\x00\x00\x00\x00{{{{".to_vec(),
            "model.safetensors: its header is not JSON",
        ),
        (
            "missing-tensor",
            config.clone(),
            vocab.clone().into(),
            safetensors(&missing_shapes),
            "tensor encoder.layer.0.intermediate.dense.bias is missing",
        ),
        (
            "wrong-shape",
            config.clone(),
            vocab.clone().into(),
            safetensors(&wrong_shape),
            "tensor encoder.layer.0.attention.self.query.weight has shape 4 × 5, expected 4 × 4",
        ),
    ];
    let n = cases.len();
    for (name, c, v, w, want) in cases {
        let path = dir(name, &c, &v, &w);
        let err = Encoder::load(&path).unwrap_err().to_string();
        assert!(err.contains(want), "{name}: want {want:?} in {err}");
        assert!(!err.contains('{') || name.contains("json"), "{name}: {err}");
    }
    // Through the binary: training a hybrid model on a broken encoder says
    // what is wrong once; classify falls back to the linear model with a note.
    let s = d.pytorch_study();
    import(&d, &s, "k", &[("crash", 3), ("training", 3)]);
    let relu = d.path("relu");
    let out = d
        .cmd(&["train", "--study", &s, "--labels", "k", "--kind", "hybrid"])
        .env("STACKMINE_ENCODER", &relu)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    once(&err, "hidden_act \"relu\" is not implemented");
    assert!(!err.contains("panicked"), "{err}");
    let out = d
        .cmd(&["classify", "--study", &s])
        .env("STACKMINE_ENCODER", &relu)
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("note: using the built-in linear model: cannot load the sentence encoder: ")
            && err.contains("hidden_act \"relu\" is not implemented"),
        "{err}"
    );
    println!("{n} broken encoder folders tried");
}

fn tiny_shapes() -> Vec<(String, Vec<usize>)> {
    let (_, _, w) = tiny_bert();
    let head_len = u64::from_le_bytes(w[..8].try_into().unwrap()) as usize;
    let head: serde_json::Map<String, Value> = serde_json::from_slice(&w[8..8 + head_len]).unwrap();
    let mut out: Vec<(String, Vec<usize>)> = head
        .into_iter()
        .map(|(k, v)| (k, serde_json::from_value(v["shape"].clone()).unwrap()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn study_file_and_model_errors_say_each_cause_once() {
    let d = Dir::new();
    let s = d.pytorch_study();
    d.write("s/study.toml", b"[study\nname = 1\n");
    let err = d.fails(&["classify", "--study", &s]);
    assert_eq!(count(&err, "is not a valid study file"), 1, "{err}");
    let first_cause = err
        .lines()
        .next()
        .unwrap()
        .rsplit(": ")
        .next()
        .unwrap()
        .to_string();
    assert_eq!(count(&err, &first_cause), 1, "{err}");
    assert!(
        !err.contains("Error {") && !err.contains("Parse {"),
        "{err}"
    );
    std::fs::remove_file(d.path("s/study.toml")).unwrap();
    std::fs::create_dir(d.path("s/study.toml")).unwrap();
    let err = d.fails(&["classify", "--study", &s]);
    assert_eq!(count(&err, "(os error"), 1, "{err}");
    let err = d.fails(&["classify", "--study", "s", "--model-file", "s"]);
    assert_eq!(count(&err, "(os error"), 1, "{err}");
}

// The model loader on arbitrary and damaged input: never a panic; either an
// error or a model every prediction runs on. The case counts keep `cargo
// test` fast; for a longer local run:
//   PROPTEST_CASES=100000 cargo test --release --test it hostile_model::fuzz
// (PROPTEST_CASES replaces every count below; an explicit count in a
// proptest config would otherwise win over it).

/// The number of cases: `PROPTEST_CASES` if set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Small real models of each kind, trained by the library, as JSON values.
fn small_models() -> Vec<Value> {
    let study = Study::default_study();
    [Kind::Keyword, Kind::Linear, Kind::Hybrid]
        .into_iter()
        .map(|kind| {
            let p = TrainParams {
                kind,
                encoder: stackmine::classify::model::EncoderSpec {
                    dim: 4,
                    ..TrainParams::default().encoder
                },
                ..TrainParams::default()
            };
            let ex = examples(&[("crash", 3), ("training", 3), ("installation", 2)], 4);
            let mut m = classify::train(&ex, &study.categories, &p, "m", "x").unwrap();
            m.validation = Some(stackmine::classify::model::Validation {
                protocol: "cv5".into(),
                items: 0,
                accuracy: 0.5,
                lenient_accuracy: 0.5,
                macro_f1: 0.5,
                confusion: vec![vec![0; 7]; 7],
            });
            serde_json::to_value(&m).unwrap()
        })
        .collect()
}

static SMALL: std::sync::LazyLock<Vec<Value>> = std::sync::LazyLock::new(small_models);
static DEFAULT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("models/default.json"))
        .unwrap()
});

/// Loads `text`; a model that loads must predict on any post without a
/// panic, with a category among its own and a confidence in [0, 1].
fn load_and_predict(text: &str) -> Result<(), TestCaseError> {
    let Ok(m) = Model::from_json(text, Path::new("fuzz.json")) else {
        return Ok(());
    };
    prop_assert!(m.check().is_ok());
    let dim = m.encoder().map_or(0, |e| e.dim);
    for (title, embedding) in [
        ("", vec![]),
        ("loss is nan when training", vec![0.5; dim]),
        ("pip install torch fails", vec![1.0; dim.min(3)]),
    ] {
        let doc = Doc {
            title: title.into(),
            body: "CUDA error: out of memory".into(),
            code: "import torch".into(),
            tags: vec!["pytorch".into()],
            embedding,
        };
        let p = m.predict(&doc);
        prop_assert!(p.category < m.categories.len());
        prop_assert!(p.confidence.is_finite() && (0.0..=1.0).contains(&p.confidence));
    }
    Ok(())
}

/// Replacement values for a node of a model's JSON.
fn replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(1e39)),
        Just(json!(-1e300)),
        Just(json!(u64::MAX)),
        Just(json!("")),
        Just(json!("crash")),
        Just(json!([])),
        Just(json!({})),
        any::<i64>().prop_map(|v| json!(v)),
        any::<f64>().prop_map(|v| json!(v)),
    ]
}

/// Walks `v` by `choices` (each picks a child) and edits the node there:
/// removes or duplicates an array element, removes an object key, or
/// replaces the node by `with`.
fn mutate(node: &mut Value, choices: &[usize], edit: usize, with: Value) {
    if let Some((&c, rest)) = choices.split_first() {
        match node {
            Value::Array(a) if !a.is_empty() => {
                let i = c % a.len();
                return mutate(&mut a[i], rest, edit, with);
            }
            Value::Object(o) if !o.is_empty() => {
                let k = o.keys().nth(c % o.len()).cloned().unwrap_or_default();
                if let Some(child) = o.get_mut(&k) {
                    return mutate(child, rest, edit, with);
                }
            }
            _ => {}
        }
    }
    match (edit % 4, &mut *node) {
        (1, Value::Array(a)) if !a.is_empty() => {
            a.remove(edit % a.len());
        }
        (2, Value::Array(a)) if !a.is_empty() => {
            let dup = a[edit % a.len()].clone();
            a.push(dup);
        }
        (3, Value::Object(o)) if !o.is_empty() => {
            let k = o.keys().nth(edit % o.len()).cloned().unwrap_or_default();
            o.remove(&k);
        }
        _ => *node = with,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn fuzz_arbitrary_bytes_never_panic_the_model_loader(
        data in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        load_and_predict(&String::from_utf8_lossy(&data))?;
    }

    #[test]
    fn fuzz_mutated_small_models_load_consistently_or_fail(
        which in 0usize..3,
        choices in proptest::collection::vec(any::<usize>(), 0..8),
        edit in any::<usize>(),
        with in replacement(),
        cut in proptest::option::of(any::<usize>()),
        byte in proptest::option::of((any::<usize>(), any::<u8>())),
    ) {
        let mut v = SMALL[which].clone();
        mutate(&mut v, &choices, edit, with);
        let mut text = v.to_string().into_bytes();
        if let Some(c) = cut { text.truncate(c % (text.len() + 1)); }
        if let Some((at, b)) = byte && !text.is_empty() {
            let i = at % text.len();
            text[i] = b;
        }
        load_and_predict(&String::from_utf8_lossy(&text))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    /// The encoder's file readers on arbitrary and damaged bytes: an error
    /// or a value, never a panic or an allocation beyond the input.
    #[test]
    fn fuzz_encoder_files_never_panic(
        data in proptest::collection::vec(any::<u8>(), 0..400),
        cut in any::<usize>(),
        at in any::<usize>(),
        byte in any::<u8>(),
    ) {
        use stackmine::classify::encoder::{bert::Config, safetensors, wordpiece::Vocab};
        let _ = safetensors(&data);
        let _ = Config::from_json(&data);
        if let Ok(v) = Vocab::from_bytes(&data) {
            let ids = v.encode("loss is nan", 16);
            prop_assert!(ids.len() >= 2 && ids.len() <= 16);
        }
        let (config, _, weights) = tiny_bert();
        let mut w = weights.clone();
        let i = at % w.len();
        w[i] = byte;
        w.truncate(cut % (w.len() + 1));
        if let Ok(t) = safetensors(&w) {
            let c = Config::from_json(config.as_bytes()).unwrap();
            let _ = stackmine::classify::encoder::bert::Bert::from_tensors(c, t);
        }
        let mut c = config.into_bytes();
        let i = at % c.len();
        c[i] = byte;
        let _ = Config::from_json(&c);
    }
}

proptest! {
    // The shipped model is 1.8 MB: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(cases(16)))]

    #[test]
    fn fuzz_damaged_shipped_model_never_panics(
        cut in any::<usize>(),
        at in any::<usize>(),
        byte in any::<u8>(),
    ) {
        let mut text = DEFAULT.clone().into_bytes();
        let i = at % text.len();
        text[i] = byte;
        load_and_predict(&String::from_utf8_lossy(&text))?;
        text.truncate(cut % text.len());
        load_and_predict(&String::from_utf8_lossy(&text))?;
    }
}

/// `--c` has a lower bound, 1e-4 (review item 4): 1e-300 and 1e-5 (which
/// train a model that puts every question in one category) are refused by
/// train and eval and by the library; 1e-4 trains a model classify loads.
#[test]
fn c_below_its_lower_bound_is_refused() {
    let d = Dir::new();
    let s = d.pytorch_study();
    import(&d, &s, "small", &[("crash", 6), ("training", 6)]);
    let train = [
        "train", "--study", &s, "--labels", "small", "--kind", "linear",
    ];
    let eval = [
        "eval",
        "--study",
        &s,
        "--labels",
        "small",
        "--kind",
        "linear",
        "--protocol",
        "cv5",
    ];
    let mut tried = 0;
    for cmd in [&train[..], &eval[..]] {
        for (c, shown) in [("1e-300", "1e-300"), ("1e-5", "1e-5"), ("0.00009", "9e-5")] {
            let mut a = cmd.to_vec();
            if cmd[0] == "train" {
                a.extend(["--name", "tiny"]);
            }
            a.extend(["--c", c]);
            let err = d.fails(&a);
            assert!(
                err.contains(&format!("{shown} is not in [0.0001, 1000000]")),
                "{a:?}: {err}"
            );
            tried += 1;
        }
    }
    assert!(!d.path(&format!("{s}/models/tiny.json")).exists());
    let mut a = train.to_vec();
    a.extend(["--name", "c-min", "--c", "1e-4"]);
    d.ok(&a);
    d.ok(&["classify", "--study", &s, "--model", "c-min"]);
    assert!(d.count(&s, "SELECT COUNT(*) FROM classifications") > 0);
    let help = d.ok(&["train", "--help"]);
    assert!(help.contains("[1e-4, 1e6]"), "{help}");

    // The library checks the same bound, and says the number compactly.
    let p = TrainParams::default();
    let study = Study::default_study();
    let cats = &study.categories;
    let ok = examples(&[("crash", 3), ("training", 3)], p.encoder.dim);
    for (c, want) in [
        (
            1e-300,
            "C is 1e-300, it must be a number in [0.0001, 1000000]",
        ),
        (1e-5, "C is 1e-5, it must be a number in [0.0001, 1000000]"),
        (
            2e6,
            "C is 2000000, it must be a number in [0.0001, 1000000]",
        ),
    ] {
        let mut q = p.clone();
        q.linear.c = c;
        let err = classify::train(&ok, cats, &q, "m", "x")
            .unwrap_err()
            .to_string();
        assert_eq!(err, want);
        tried += 1;
    }
    let mut q = p.clone();
    q.linear.c = 1e-4;
    assert!(classify::train(&ok, cats, &q, "m", "x").is_ok());
    println!("{tried} bad C values tried");
}

/// Range errors print numbers compactly (review item 5): a tiny or huge
/// number in any float option is shown in exponent form, never as hundreds
/// of digits.
#[test]
fn range_errors_print_numbers_compactly() {
    let d = Dir::new();
    let s = d.study("s");
    let dump = crate::util::path("stackoverflow-pytorch-labeled/Posts.xml");
    let estimate = ["estimate", "--study", "s", "--sample", "b"];
    let sample = ["sample", "--study", "s", "--name", "b"];
    let train = ["train", "--study", "s", "--labels", "x"];
    let ingest = ["ingest", dump.as_str(), "--study", "s"];
    let cases: Vec<(&[&str], &[&str], &str)> = vec![
        (
            &estimate,
            &["--confidence", "1e-300"],
            "1e-300 is not in [0.5, 0.999]",
        ),
        (
            &estimate,
            &["--confidence", "1e300"],
            "1e300 is not in [0.5, 0.999]",
        ),
        (
            &estimate,
            &["--confidence=-4.9e-324"],
            "-5e-324 is not in [0.5",
        ),
        (
            &estimate,
            &["--c", "1e-320"],
            "1e-320 is not in [0.0001, 1000000]",
        ),
        (
            &sample,
            &["--confidence=-1e-300", "--margin", "0.05"],
            "-1e-300 is not in (0, 1)",
        ),
        (
            &sample,
            &["--confidence", "0.95", "--margin", "1e308"],
            "1e308 is not in (0, 1)",
        ),
        (
            &train,
            &["--alpha", "1e300"],
            "1e300 is not in [0, 1000000]",
        ),
        (
            &train,
            &["--alpha=-1e-300"],
            "-1e-300 is not in [0, 1000000]",
        ),
        (
            &train,
            &["--embedding-weight", "1e40"],
            "1e40 is not in (0, 100]",
        ),
        (
            &train,
            &["--embedding-weight", "1e-50"],
            "1e-50 is too small for a weight (it is 0 in 32 bits); expected one in (0, 100]",
        ),
        (
            &ingest,
            &["--max-bad-rows", "1e300"],
            "1e300 is not in [0, 1]",
        ),
        (
            &ingest,
            &["--max-bad-rows=-1e-300"],
            "-1e-300 is not in [0, 1]",
        ),
    ];
    for (cmd, extra, want) in &cases {
        let mut args: Vec<&str> = cmd.to_vec();
        args.extend(*extra);
        let err = d.fails(&args);
        assert!(err.contains(want), "{args:?}: want {want:?} in {err}");
        let first = err.lines().next().unwrap_or("");
        assert!(first.len() < 160, "{args:?}: a long line: {first}");
        assert!(
            !err.contains("00000000000"),
            "{args:?}: a long run of digits: {err}"
        );
    }
    assert!(!d.path("s/study.db").exists() || d.count(&s, "SELECT COUNT(*) FROM questions") == 0);
    println!("{} bad numbers tried", cases.len());
}

/// Review item 2: a model file is read at most 256 MiB, through
/// `take(limit + 1)`: `/dev/zero` (it reached 15 GB before) and a file just
/// over the bound (sparse) are refused with the file and the bound named;
/// the encoder's config.json and vocab.txt are bounded too.
#[test]
fn model_and_encoder_files_are_read_with_a_bound() {
    let d = Dir::new();
    let s = d.pytorch_study();
    let want = "the file is larger than 256 MiB, the most stackmine reads for a model file";
    let mut tried = 0;
    if Path::new("/dev/zero").exists() {
        let err = d.fails(&["classify", "--study", &s, "--model-file", "/dev/zero"]);
        assert!(err.contains(&format!("/dev/zero: {want}")), "{err}");
        once(&err, "/dev/zero");
        tried += 1;
    }
    // Just over the bound, as a file given by path and one in models/.
    let big = d.path("s/models/big.json");
    std::fs::create_dir_all(big.parent().unwrap()).unwrap();
    std::fs::File::create(&big)
        .unwrap()
        .set_len(stackmine::limits::MAX_MODEL_BYTES + 1)
        .unwrap();
    let big_s = big.to_string_lossy().into_owned();
    let err = d.fails(&["classify", "--study", &s, "--model-file", &big_s]);
    assert!(err.contains(&format!("{big_s}: {want}")), "{err}");
    once(&err, &big_s);
    let err = d.fails(&["classify", "--study", &s, "--model", "big"]);
    assert!(err.contains("big.json: ") && err.contains(want), "{err}");
    tried += 2;
    // At the bound it is read (and then is not JSON).
    std::fs::File::options()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(stackmine::limits::MAX_MODEL_BYTES)
        .unwrap();
    let err = d.fails(&["classify", "--study", &s, "--model-file", &big_s]);
    assert!(err.contains("not a stackmine model"), "{err}");
    assert!(!err.contains("larger than"), "{err}");
    std::fs::remove_file(&big).unwrap();
    tried += 1;
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM classifications"), 0);

    // The encoder's small files, linked to /dev/zero.
    #[cfg(unix)]
    if Path::new("/dev/zero").exists() {
        let (config, vocab, weights) = tiny_bert();
        for (name, limit) in [("config.json", "1 MiB"), ("vocab.txt", "64 MiB")] {
            let dir = d.path(&format!("enc-{name}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("config.json"), &config).unwrap();
            std::fs::write(dir.join("vocab.txt"), &vocab).unwrap();
            std::fs::write(dir.join("model.safetensors"), &weights).unwrap();
            std::fs::remove_file(dir.join(name)).unwrap();
            std::os::unix::fs::symlink("/dev/zero", dir.join(name)).unwrap();
            let err = Encoder::load(&dir).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "{}: the file is larger than {limit}, the most stackmine reads for an encoder file",
                    dir.join(name).display()
                )
            );
            tried += 1;
        }
    }
    assert!(tried >= 3, "{tried}");
}

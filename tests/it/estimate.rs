//! `stackmine estimate`: category shares from a random labeled sample plus
//! the classifier, on the 630 real PyTorch questions (all labeled in
//! tests/data/labels/dl-questions.csv).
//!
//! Reference values: `estimate --write-inputs FILE` writes the estimator's
//! inputs (labels and predictions per stratum); the test checks them against
//! the store and the labels file, then compares the estimate with ppi-python
//! run on them by tests/data/reference/make_ppi_reference.py --check: live
//! when STACKMINE_PYTHON names a Python with ppi_py, else with the values
//! stored in tests/data/reference/estimate_pytorch_*.json (written by a live
//! run with UPDATE_REFERENCE=1).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::util::{Dir, close, path};
use serde_json::Value;

const PYTORCH: &str = "stackoverflow-pytorch-labeled";
const CATEGORIES: [&str; 7] = [
    "crash",
    "migration",
    "implementation",
    "training",
    "comprehension",
    "installation",
    "performance",
];

/// A shared label: site, post Id, primary kind, the CSV line.
type Row = (String, i64, String, String);

/// The shared labels: the header and the rows.
fn labels() -> (Vec<String>, Vec<Row>) {
    let text = std::fs::read_to_string(crate::util::data("labels/dl-questions.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| {
            let f: Vec<&str> = l.splitn(3, ',').collect();
            let primary = f[2].split(',').next().unwrap().to_string();
            (
                f[1].to_string(),
                f[0].parse().unwrap(),
                primary,
                l.to_string(),
            )
        })
        .collect();
    (header, rows)
}

/// Writes a label CSV of the shared labels of `posts` (and returns its path).
fn label_csv(d: &Dir, name: &str, keep: impl Fn(&str, i64) -> bool) -> String {
    let (header, rows) = labels();
    let mut out = header.join(",") + "\n";
    for (site, id, _, line) in &rows {
        if keep(site, *id) {
            out += line;
            out += "\n";
        }
    }
    d.write(name, out.as_bytes())
}

fn primary_of() -> HashMap<(String, i64), String> {
    labels()
        .1
        .into_iter()
        .map(|(s, id, p, _)| ((s, id), p))
        .collect()
}

/// A linear model trained only on the 190 labeled posts of the other dumps
/// (deployment, ai.stackexchange), in a study of its own; returns its path.
fn other_model(d: &Dir) -> String {
    let o = d.study("other");
    d.ok(&[
        "ingest",
        &path("stackoverflow-dl-deploy/Posts.xml"),
        &path("ai.stackexchange.com-2017"),
        "--all-questions",
        "--study",
        &o,
    ]);
    let csv = label_csv(d, "other.csv", |site, _| site != PYTORCH);
    d.ok(&[
        "label",
        "import",
        &csv,
        "--set",
        "other-sites",
        "--study",
        &o,
    ]);
    d.ok(&[
        "train",
        "--study",
        &o,
        "--labels",
        "other-sites",
        "--kind",
        "linear",
        "--name",
        "other",
    ]);
    d.path("other/models/other.json")
        .to_string_lossy()
        .into_owned()
}

fn batch(d: &Dir, s: &str, name: &str) -> HashSet<i64> {
    let db = d.db(s);
    let mut stmt = db
        .prepare("SELECT post_id FROM batch_posts WHERE batch = ?1")
        .unwrap();
    stmt.query_map([name], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Draws batch `name` with `extra` sample options and imports its labels
/// (those `keep` keeps).
fn sample_and_label(d: &Dir, s: &str, name: &str, extra: &[&str], keep: impl Fn(i64) -> bool) {
    let mut args = vec!["sample", "--study", s, "--name", name];
    args.extend(extra);
    d.ok(&args);
    let ids = batch(d, s, name);
    let csv = label_csv(d, &format!("{name}.csv"), |site, id| {
        site == PYTORCH && ids.contains(&id) && keep(id)
    });
    d.ok(&[
        "label",
        "import",
        &csv,
        "--set",
        name,
        "--replace",
        "--study",
        s,
    ]);
}

fn estimate_json(d: &Dir, args: &[&str]) -> Value {
    let mut all = vec!["estimate", "--json", "-q"];
    all.extend(args);
    serde_json::from_str(&d.ok(&all)).expect("estimate JSON")
}

/// ppi-python's figures for inputs written by `--write-inputs`: live when
/// STACKMINE_PYTHON is set (and, with UPDATE_REFERENCE=1, stored under
/// `key`), else the stored ones. Live and stored agree to `rel` (the
/// tolerance the test holds stackmine to).
fn reference(inputs: &str, key: &str, rel: f64) -> Value {
    let stored_path = crate::util::data(&format!("reference/estimate_pytorch_{key}.json"));
    let mut stored: BTreeMap<String, Value> = std::fs::read_to_string(&stored_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    match std::env::var("STACKMINE_PYTHON") {
        Ok(py) if !py.is_empty() => {
            let out = std::process::Command::new(&py)
                .arg(crate::util::data("reference/make_ppi_reference.py"))
                .arg("--check")
                .arg(inputs)
                .output()
                .expect("run STACKMINE_PYTHON");
            assert!(
                out.status.success(),
                "make_ppi_reference.py --check failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let live: Value = serde_json::from_slice(&out.stdout).unwrap();
            if std::env::var("UPDATE_REFERENCE").is_ok_and(|v| v == "1") {
                stored.insert(key.to_string(), live.clone());
                std::fs::write(
                    &stored_path,
                    serde_json::to_string_pretty(&stored).unwrap() + "\n",
                )
                .unwrap();
            } else if let Some(s) = stored.get(key) {
                // To the last bits only: ppi-python's numpy differs in them
                // from one CPU to another.
                crate::util::json_close(
                    s,
                    &live,
                    rel,
                    &format!(
                        "stored reference {key} against ppi-python (to update: UPDATE_REFERENCE=1)"
                    ),
                );
            }
            live
        }
        _ => {
            eprintln!(
                "note: STACKMINE_PYTHON not set: comparing {key} with the stored ppi-python values"
            );
            stored.get(key).cloned().unwrap_or_else(|| {
                panic!(
                    "no stored reference {key} in {}: run with STACKMINE_PYTHON=/path/to/python (with ppi_py) and UPDATE_REFERENCE=1",
                    stored_path.display()
                )
            })
        }
    }
}

/// Compares a stratum's JSON estimate with ppi-python's figures.
fn compare(got: &Value, want: &Value, what: &str) {
    for c in CATEGORIES {
        let (g, w) = (&got[c], &want[c]);
        close(
            &g["estimate"],
            w["estimate"].as_f64().unwrap(),
            &format!("{what} {c} estimate"),
        );
        close(
            &g["low_infinite"],
            w["low"].as_f64().unwrap(),
            &format!("{what} {c} low"),
        );
        close(
            &g["high_infinite"],
            w["high"].as_f64().unwrap(),
            &format!("{what} {c} high"),
        );
        let clip = |x: f64| x.clamp(0.0, 1.0);
        close(
            &g["low"],
            clip(w["low_finite"].as_f64().unwrap()),
            &format!("{what} {c} finite low"),
        );
        close(
            &g["high"],
            clip(w["high_finite"].as_f64().unwrap()),
            &format!("{what} {c} finite high"),
        );
    }
}

fn inputs(d: &Dir, file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(d.path(file)).unwrap()).unwrap()
}

#[test]
fn ppi_and_cross_prediction_match_ppi_python_on_the_pytorch_questions() {
    let d = Dir::new();
    let model = other_model(&d);
    let s = d.pytorch_study();
    sample_and_label(&d, &s, "rs", &["--size", "100", "--seed", "11"], |_| true);
    let design: String = d
        .db(&s)
        .query_row("SELECT design FROM label_sets WHERE name = 'rs'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let design: Value = serde_json::from_str(&design).unwrap();
    assert_eq!(design["kind"], "random");
    assert_eq!(design["population"]["kind"], "all");
    assert_eq!(design["seed"], 11);

    // PPI++: the model saw no PyTorch question.
    let ppi_in = d.path("ppi.json").to_string_lossy().into_owned();
    let e = estimate_json(
        &d,
        &[
            "--study",
            &s,
            "--sample",
            "rs",
            "--model-file",
            &model,
            "--write-inputs",
            &ppi_in,
        ],
    );
    assert_eq!(e["method"], "ppi");
    assert_eq!(e["sample"], "rs");
    assert_eq!(e["labeled"], 100);
    assert_eq!(e["population"], 630);
    assert_eq!(e["confidence"], 0.95);
    let shares = e["shares"].as_object().unwrap();
    assert_eq!(shares.len(), 7);
    for c in CATEGORIES {
        let x = &e["shares"][c];
        for k in ["estimate", "low", "high", "classified"] {
            assert!(x[k].is_number(), "{c} {k}: {x}");
        }
        for k in ["estimate", "low", "high"] {
            assert!(x["sample_only"][k].is_number(), "{c} sample_only {k}");
        }
        let (lo, est, hi) = (
            x["low"].as_f64().unwrap(),
            x["estimate"].as_f64().unwrap(),
            x["high"].as_f64().unwrap(),
        );
        assert!(lo <= est.max(0.0) && est.min(1.0) <= hi, "{c}: {x}");
    }

    // Per framework and per year: the same method where the group has 30
    // labeled posts, else the sample alone, saying why.
    let mut groups = 0;
    for by in ["per_framework", "per_year"] {
        for (g, x) in e[by].as_object().unwrap() {
            groups += 1;
            let n = x["labeled"].as_u64().unwrap();
            assert!(n > 0, "{g}");
            if n < 30 {
                assert_eq!(x["method"], "sample-only", "{g}");
                assert!(x["note"].as_str().unwrap().contains("fewer than 30"), "{g}");
                assert_eq!(
                    x["shares"]["crash"]["estimate"],
                    x["shares"]["crash"]["sample_only"]["estimate"]
                );
            } else {
                assert_eq!(x["method"], "ppi", "{g}");
            }
        }
    }
    assert!(groups >= 2);
    assert_eq!(e["per_framework"]["pytorch"]["labeled"], 100);

    // The inputs are what the store and the labels say: labels of the
    // batch's posts, and the model's classification of every question.
    d.ok(&["classify", "--study", &s, "--model-file", &model]);
    let db = d.db(&s);
    let mut stmt = db
        .prepare("SELECT question_id, category FROM classifications ORDER BY site, question_id")
        .unwrap();
    let classified: Vec<(i64, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(classified.len(), 630);
    let ids = batch(&d, &s, "rs");
    let primary = primary_of();
    let got = inputs(&d, "ppi.json");
    close(&got["alpha"], 0.05, "alpha");
    for c in CATEGORIES {
        let one = |b: bool| if b { 1.0 } else { 0.0 };
        let y: Vec<f64> = classified
            .iter()
            .filter(|(id, _)| ids.contains(id))
            .map(|(id, _)| one(primary[&(PYTORCH.to_string(), *id)] == c))
            .collect();
        let yhat: Vec<f64> = classified
            .iter()
            .filter(|(id, _)| ids.contains(id))
            .map(|(_, k)| one(k == c))
            .collect();
        let yu: Vec<f64> = classified
            .iter()
            .filter(|(id, _)| !ids.contains(id))
            .map(|(_, k)| one(k == c))
            .collect();
        let cat = &got["strata"][0]["categories"][c];
        assert_eq!(cat["y"], serde_json::json!(y), "{c} labels");
        assert_eq!(cat["yhat"], serde_json::json!(yhat), "{c} predictions");
        assert_eq!(
            cat["yhat_unlabeled"],
            serde_json::json!(yu),
            "{c} unlabeled"
        );
        // The classifier's raw share is its share of all 630.
        let raw = classified.iter().filter(|(_, k)| k == c).count() as f64 / 630.0;
        close(
            &e["shares"][c]["classified"],
            raw,
            &format!("{c} classified"),
        );
    }
    let want = reference(&ppi_in, "ppi", 1e-9);
    compare(&e["shares"], &want["all"], "ppi");
    // Every sampled PyTorch question is of 2020: the sample does not cover
    // the years, so there is no prediction-powered slope.
    assert_eq!(e["trend"], serde_json::json!({}), "one year: no slope");
    assert!(want.get("trend").is_none());

    // Cross-prediction (no model named: the default kind, linear here).
    let cross_in = d.path("cross.json").to_string_lossy().into_owned();
    let x = estimate_json(
        &d,
        &["--study", &s, "--sample", "rs", "--write-inputs", &cross_in],
    );
    assert_eq!(x["method"], "cross-ppi");
    let xi = inputs(&d, "cross.json");
    let unl = xi["strata"][0]["categories"]["crash"]["yhat_unlabeled"]
        .as_array()
        .unwrap();
    assert_eq!(
        unl.len(),
        530,
        "the unlabeled set is the population minus the sample"
    );
    assert!(
        unl.iter().all(|r| r.as_array().unwrap().len() == 5),
        "5 folds"
    );
    compare(
        &x["shares"],
        &reference(&cross_in, "cross", 1e-9)["all"],
        "cross",
    );

    // Stored in the study with what it depends on.
    let stored: String = d
        .db(&s)
        .query_row(
            "SELECT json FROM results WHERE key = 'estimate:rs'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored["method"], "cross-ppi");
    assert!(stored["depends"]["labels_hash"].as_str().unwrap().len() == 16);
    assert!(stored["depends"]["population_hash"].is_string());

    // The printed table gives the estimate, the sample alone and the raw share.
    let text = d.ok(&[
        "estimate",
        "--study",
        &s,
        "--sample",
        "rs",
        "--model-file",
        &model,
        "-q",
    ]);
    assert!(
        text.contains(
            "| category | estimate | 95 % interval | sample only | Wilson 95 % | classified |"
        ),
        "{text}"
    );
    assert!(text.contains("need not sum to 100 %"), "{text}");
    assert!(text.contains("PPI++"), "{text}");
}

#[test]
fn a_stratified_sample_is_estimated_per_stratum_and_combined() {
    let d = Dir::new();
    let model = other_model(&d);
    let s = d.pytorch_study();
    sample_and_label(
        &d,
        &s,
        "strat",
        &["--size", "150", "--proportional", "--seed", "3"],
        |_| true,
    );
    let inp = d.path("strat.json").to_string_lossy().into_owned();
    let e = estimate_json(
        &d,
        &[
            "--study",
            &s,
            "--sample",
            "strat",
            "--model-file",
            &model,
            "--write-inputs",
            &inp,
        ],
    );
    assert_eq!(e["design"], "stratified");
    let strata = e["strata"].as_array().unwrap();
    assert!(strata.len() >= 2, "{e}");
    // Weights are N_h / N, with strata by first framework in study order.
    let db = d.db(&s);
    let n_h = |name: &str| -> i64 {
        db.query_row(
            "SELECT COUNT(*) FROM questions q WHERE COALESCE((
               SELECT f.framework FROM question_frameworks f
               WHERE f.site = q.site AND f.question_id = q.id
               ORDER BY CASE f.framework WHEN 'tensorflow' THEN 0 WHEN 'pytorch' THEN 1
                        WHEN 'deeplearning4j' THEN 2 ELSE 3 END LIMIT 1), 'other') = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap()
    };
    let want = reference(&inp, "stratified", 1e-9);
    for st in strata {
        let name = st["stratum"].as_str().unwrap();
        close(
            &st["weight"],
            n_h(name) as f64 / 630.0,
            &format!("{name} weight"),
        );
        for c in CATEGORIES {
            close(
                &st["shares"][c]["estimate"],
                want[name][c]["estimate"].as_f64().unwrap(),
                &format!("{name} {c}"),
            );
            close(
                &st["shares"][c]["lambda"],
                want[name][c]["lambda"].as_f64().unwrap(),
                &format!("{name} {c} lambda"),
            );
        }
    }
    // The combination: Σ w_h θ_h, variance Σ w_h² σ_h².
    for c in CATEGORIES {
        let est: f64 = strata
            .iter()
            .map(|st| {
                st["weight"].as_f64().unwrap() * st["shares"][c]["estimate"].as_f64().unwrap()
            })
            .sum();
        close(&e["shares"][c]["estimate"], est, &format!("{c} combined"));
        let var: f64 = strata
            .iter()
            .map(|st| {
                (st["weight"].as_f64().unwrap() * st["shares"][c]["se"].as_f64().unwrap()).powi(2)
            })
            .sum();
        let z = 1.959_963_984_540_054;
        close(
            &e["shares"][c]["high_infinite"],
            est + z * var.sqrt(),
            &format!("{c} combined high"),
        );
    }
}

#[test]
fn skipped_posts_are_missing_labels_and_said_so_above_five_percent() {
    let d = Dir::new();
    let s = d.pytorch_study();
    // 10 of 100 skipped.
    let ids: Vec<i64> = {
        d.ok(&[
            "sample", "--study", &s, "--name", "m", "--size", "100", "--seed", "2",
        ]);
        let mut v: Vec<i64> = batch(&d, &s, "m").into_iter().collect();
        v.sort();
        v
    };
    let skipped: HashSet<i64> = ids.iter().copied().take(10).collect();
    let csv = label_csv(&d, "m.csv", |site, id| {
        site == PYTORCH && ids.contains(&id) && !skipped.contains(&id)
    });
    d.ok(&[
        "label",
        "import",
        &csv,
        "--set",
        "m",
        "--replace",
        "--study",
        &s,
    ]);
    let e = estimate_json(&d, &["--study", &s, "--sample", "m"]);
    assert_eq!(e["labeled"], 90);
    assert_eq!(e["missing"], 10);
    assert_eq!(e["missing_at_random_assumed"], true);
    let text = d.ok(&["estimate", "--study", &s, "--sample", "m", "-q"]);
    assert!(
        text.contains("10 sample posts have no label (10 skipped"),
        "{text}"
    );
    assert!(
        text.contains("assumes they are missing at random"),
        "{text}"
    );
    // 3 of 100: counted, no assumption to state.
    sample_and_label(&d, &s, "m3", &["--size", "100", "--seed", "4"], |id| {
        id % 37 != 0
    });
    let e = estimate_json(&d, &["--study", &s, "--sample", "m3"]);
    let missing = e["missing"].as_u64().unwrap();
    assert!(missing <= 5, "{missing}");
    assert_eq!(e["missing_at_random_assumed"], false);
}

#[test]
fn only_random_samples_are_estimated() {
    let d = Dir::new();
    let s = d.pytorch_study();
    // An imported set is a convenience set unless declared random.
    let all = label_csv(&d, "all.csv", |site, _| site == PYTORCH);
    d.ok(&["label", "import", &all, "--set", "conv", "--study", &s]);
    let err = d.fails(&["estimate", "--study", &s, "--sample", "conv"]);
    assert!(
        err.contains("label set \"conv\" is a convenience set"),
        "{err}"
    );
    assert!(err.contains("--random-sample"), "{err}");
    // Per-framework quotas are no random sample of one population.
    d.ok(&[
        "sample",
        "--study",
        &s,
        "--name",
        "pf",
        "--per-framework",
        "20",
    ]);
    let err = d.fails(&["estimate", "--study", &s, "--sample", "pf"]);
    assert!(err.contains("per-framework quotas"), "{err}");
    // Declared random: every 4th labeled post, population all questions.
    let quarter = label_csv(&d, "q.csv", |site, id| site == PYTORCH && id % 4 == 1);
    d.ok(&[
        "label",
        "import",
        &quarter,
        "--set",
        "q",
        "--random-sample",
        "--study",
        &s,
    ]);
    let e = estimate_json(&d, &["--study", &s, "--sample", "q", "--folds", "3"]);
    assert_eq!(e["population"], 630);
    assert_eq!(e["design"], "random");
    // A population that leaves out labeled posts is refused, naming one.
    d.ok(&[
        "label",
        "import",
        &quarter,
        "--set",
        "q2",
        "--random-sample",
        "--population",
        "framework:tensorflow",
        "--study",
        &s,
    ]);
    let err = d.fails(&["estimate", "--study", &s, "--sample", "q2"]);
    assert!(
        err.contains("outside its population framework tensorflow"),
        "{err}"
    );
    // A year range as the population.
    d.ok(&[
        "sample",
        "--study",
        &s,
        "--name",
        "y",
        "--size",
        "60",
        "--population",
        "years:2020-2020",
    ]);
    let design: String = d
        .db(&s)
        .query_row("SELECT design FROM label_sets WHERE name = 'y'", [], |r| {
            r.get(0)
        })
        .unwrap();
    // The per-framework batch's posts were left out of the draw: recorded.
    assert!(design.contains(r#""excluded_batches":["pf"]"#), "{design}");
    assert!(
        design.contains(r#""population":{"kind":"years","from":2020,"to":2020}"#),
        "{design}"
    );
}

#[test]
fn bad_options_get_clear_errors() {
    let d = Dir::new();
    let s = d.pytorch_study();
    sample_and_label(&d, &s, "b", &["--size", "40", "--seed", "1"], |_| true);
    for (args, want) in [
        (
            vec!["--confidence", "1.5"],
            "'--confidence <CONFIDENCE>': 1.5 is not in [0.5, 0.999]",
        ),
        (
            vec!["--confidence", "0"],
            "'--confidence <CONFIDENCE>': 0 is not in [0.5, 0.999]",
        ),
        (
            vec!["--confidence", "NaN"],
            "'--confidence <CONFIDENCE>': NaN is not in [0.5, 0.999]",
        ),
        (vec!["--folds", "1"], "1 is not in 2..=20"),
        (vec!["--folds", "500"], "500 is not in 2..=20"),
        (
            vec!["--extra-labels", "nope"],
            "no label set named \"nope\"",
        ),
        (vec!["--model", "nope"], "no model \"nope\""),
        (vec!["--model", "../x"], "a model name is 1–64 letters"),
    ] {
        let mut all = vec!["estimate", "--study", &s, "--sample", "b"];
        all.extend(&args);
        let err = d.fails(&all);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // A design this build cannot read.
    d.db(&s)
        .execute(
            "UPDATE label_sets SET design = '{\"kind\":' WHERE name = 'b'",
            [],
        )
        .unwrap();
    let err = d.fails(&["estimate", "--study", &s, "--sample", "b"]);
    assert!(
        err.contains("label set \"b\" has a design this build cannot read"),
        "{err}"
    );
    let err = d.fails(&["estimate", "--study", &s, "--sample", "none"]);
    assert!(err.contains("no label set named \"none\""), "{err}");
    for bad in [
        "framework:keras",
        "years:2020-2019",
        "some",
        "years:1800-1900",
        "framework:",
        "",
    ] {
        let err = d.fails(&[
            "sample",
            "--study",
            &s,
            "--name",
            "x",
            "--size",
            "5",
            "--population",
            bad,
        ]);
        assert!(err.contains(&format!("population {bad:?}")), "{bad}: {err}");
    }
    let err = d.fails(&[
        "estimate", "--study", &s, "--sample", "b", "--model", "x", "--kind", "linear",
    ]);
    assert!(err.contains("cannot be used with"), "{err}");
}

/// The issue's simulation: 300 random samples of 100 of the 630 labeled
/// PyTorch questions, with a model trained only on the other labeled posts;
/// per category the 95 % interval (finite-population form) must cover the
/// true share in 90–99 % of draws. At the library level: the model is
/// trained once and each draw's PPI is cheap.
#[test]
fn ppi_intervals_cover_the_true_shares() {
    use stackmine::classify::{self, TrainParams};
    use stackmine::estimate::{Method, Unit, estimate};
    let d = Dir::new();
    let s = crate::util::labeled_study(&d, Some("dl-questions"));
    let store = stackmine::store::Store::open_existing(&d.path(&s).join("study.db")).unwrap();
    let study = stackmine::study::Study::load(&d.path(&s)).unwrap();
    let examples = classify::examples(&store, "dl-questions").unwrap().examples;
    let (pytorch, other): (Vec<_>, Vec<_>) = examples.into_iter().partition(|e| e.site == PYTORCH);
    assert_eq!((pytorch.len(), other.len()), (630, 190));
    let model = classify::train(
        &other,
        &study.categories,
        &TrainParams::default(),
        "sim",
        "other",
    )
    .expect("train on the other sites' labels");
    let refs: Vec<_> = pytorch.iter().collect();
    let predicted = classify::predict_all(&model, &refs);
    let cats: Vec<String> = CATEGORIES.iter().map(|c| c.to_string()).collect();
    let idx = |k: &str| cats.iter().position(|c| c == k).unwrap() as u16;
    let truth: Vec<u16> = pytorch.iter().map(|e| idx(&e.primary)).collect();
    let pred: Vec<u16> = predicted.iter().map(|k| idx(k)).collect();
    let draws = 300;
    let mut covered = [0u32; 7];
    let mut covered_infinite = [0u32; 7];
    for draw in 0..draws {
        let chosen: HashSet<usize> = stackmine::sample::Draw::new(1000 + draw)
            .choose((0..630).collect(), 100)
            .into_iter()
            .collect();
        let units: Vec<Unit> = (0..630)
            .map(|i| Unit {
                stratum: 0,
                label: chosen.contains(&i).then_some(truth[i]),
                predicted: vec![pred[i]],
                frameworks: vec![],
                year: None,
            })
            .collect();
        let refs: Vec<&Unit> = units.iter().collect();
        let e = estimate(&refs, &["all".into()], &cats, Method::Ppi, 0.95).unwrap();
        for (c, key) in cats.iter().enumerate() {
            let share = truth.iter().filter(|&&t| t == c as u16).count() as f64 / 630.0;
            let x = &e.shares[key];
            if x.low <= share && share <= x.high {
                covered[c] += 1;
            }
            if x.low_infinite <= share && share <= x.high_infinite {
                covered_infinite[c] += 1;
            }
        }
    }
    for (c, key) in cats.iter().enumerate() {
        let rate = f64::from(covered[c]) / draws as f64;
        eprintln!(
            "{key}: finite {rate:.3}, infinite {:.3}",
            f64::from(covered_infinite[c]) / draws as f64
        );
        assert!((0.90..=0.99).contains(&rate), "{key}: coverage {rate}");
        assert!(covered_infinite[c] >= covered[c], "{key}");
    }
}

#[test]
fn the_report_heads_with_the_stored_estimate_and_marks_it_stale() {
    let d = Dir::new();
    let s = d.pytorch_study();
    d.ok(&["classify", "--study", &s]);
    d.ok(&["report", "--study", &s]);
    let html = std::fs::read_to_string(d.path("s/report/index.html")).unwrap();
    assert!(
        html.contains("These shares are the classifier&#x27;s, uncorrected")
            || html.contains("These shares are the classifier's, uncorrected"),
        "no estimate: uncorrected"
    );
    check_headlines(&headline_sentences(&html));
    // Cochran's size for the 630 questions, as `sample` computes it.
    assert!(
        html.contains("label a random sample of 239 questions"),
        "Cochran size"
    );
    assert!(!d.path("s/report/tables/estimate.json").exists());

    sample_and_label(&d, &s, "h", &["--size", "100", "--seed", "9"], |_| true);
    let e = estimate_json(&d, &["--study", &s, "--sample", "h"]);
    d.ok(&["report", "--study", &s]);
    let table: Value =
        serde_json::from_slice(&std::fs::read(d.path("s/report/tables/estimate.json")).unwrap())
            .unwrap();
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    close(
        &rows[0]["estimate"],
        e["shares"]["crash"]["estimate"].as_f64().unwrap(),
        "crash headline",
    );
    let html = std::fs::read_to_string(d.path("s/report/index.html")).unwrap();
    assert!(html.contains("Kinds of questions, estimated"));
    assert!(html.contains("cross-prediction-powered inference from random sample h (100 labeled posts of 630 questions"));
    check_headlines(&headline_sentences(&html));
    assert!(!html.contains("STALE"));
    // `run` uses the stored estimate too.
    d.ok(&[
        "run",
        &path("stackoverflow-pytorch-labeled/Posts.xml"),
        "--all-questions",
        "--study",
        &s,
        "-q",
    ]);
    let html = std::fs::read_to_string(d.path("s/report/index.html")).unwrap();
    assert!(html.contains("Kinds of questions, estimated"));
    assert!(!html.contains("STALE"));
    // Changed labels: the estimate is stale, and says so.
    let ids = batch(&d, &s, "h");
    let csv = label_csv(&d, "h2.csv", |site, id| {
        site == PYTORCH && ids.contains(&id) && id % 2 == 0
    });
    d.ok(&[
        "label",
        "import",
        &csv,
        "--set",
        "h",
        "--replace",
        "--study",
        &s,
    ]);
    d.ok(&["report", "--study", &s]);
    let html = std::fs::read_to_string(d.path("s/report/index.html")).unwrap();
    assert!(
        html.contains("STALE: the labels of h changed since"),
        "stale"
    );
    assert!(html.contains("stale)"), "the chart's series says stale");
}

/// The prediction-powered yearly slope of each category: the indicator
/// regressed on the year (X = [1, year]), pinned to ppi_py.ppi_ols_ci on the
/// inputs `--write-inputs` gives it (make_ppi_reference.py --check). The
/// labeled posts of the three shipped Stack Exchange dumps (2015–2020),
/// declared a random sample of the study's questions, with cross-prediction.
#[test]
fn the_yearly_slope_matches_ppi_ols_ci_where_the_sample_covers_the_years() {
    let d = Dir::new();
    let s = d.study("y");
    d.ok(&[
        "ingest",
        &path("stackoverflow-pytorch-labeled/Posts.xml"),
        &path("stackoverflow-dl-deploy/Posts.xml"),
        &path("ai.stackexchange.com-2017"),
        "--all-questions",
        "--study",
        &s,
    ]);
    d.ok(&["classify", "--study", &s]);
    let csv = label_csv(&d, "all.csv", |_, _| true);
    d.ok(&[
        "label",
        "import",
        &csv,
        "--set",
        "declared",
        "--random-sample",
        "--study",
        &s,
    ]);
    let inp = d.path("years.json").to_string_lossy().into_owned();
    let e = estimate_json(
        &d,
        &[
            "--study",
            &s,
            "--sample",
            "declared",
            "--kind",
            "linear",
            "--write-inputs",
            &inp,
        ],
    );
    assert_eq!(e["method"], "cross-ppi");
    let got = inputs(&d, "years.json");
    let years: HashSet<i64> = got["trend"]["crash"]["x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as i64)
        .collect();
    assert!(years.len() >= 2, "the sample covers the years: {years:?}");
    let want = reference(&inp, "years", 1e-6);
    for c in CATEGORIES {
        let w = &want["trend"][c];
        let t = &e["trend"][c];
        // To 1e-6 relative: X = [1, year] with years near 2018 is
        // ill-conditioned (cond(XᵀX) ~ 1e13), so ppi_py's and this build's
        // solves part in the 7th or 8th digit.
        for (k, wk) in [
            ("slope_per_year", "slope"),
            ("low", "low"),
            ("high", "high"),
        ] {
            let (g, w) = (t[k].as_f64().unwrap(), 100.0 * w[wk].as_f64().unwrap());
            assert!(
                (g - w).abs() <= 1e-6 * w.abs().max(1.0),
                "{c} trend {k}: got {g}, want {w}"
            );
        }
    }
    // Stored with the estimate, and printed in the table.
    let stored: String = d
        .db(&s)
        .query_row(
            "SELECT json FROM results WHERE key = 'estimate:declared'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored["trend"], e["trend"]);
    let out = d.ok(&[
        "estimate", "--study", &s, "--sample", "declared", "--kind", "linear",
    ]);
    assert!(out.contains("trend, prediction-powered"), "{out}");
    let crash = &e["trend"]["crash"];
    assert!(
        out.contains(&format!(
            "| crash | {:.2} | [{:.2}, {:.2}] |",
            crash["slope_per_year"].as_f64().unwrap(),
            crash["low"].as_f64().unwrap(),
            crash["high"].as_f64().unwrap()
        )),
        "{out}"
    );
    // The report shows it beside the Cochran–Armitage table.
    d.ok(&["report", "--study", &s]);
    let table: Value = serde_json::from_slice(
        &std::fs::read(d.path("y/report/tables/category_trends_ppi.json")).unwrap(),
    )
    .unwrap();
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    let html = std::fs::read_to_string(d.path("y/report/index.html")).unwrap();
    let (ca, ppi) = (
        html.find("Trends of each kind&#x27;s share per year</caption>")
            .or_else(|| html.find("Trends of each kind's share per year</caption>")),
        html.find("per year, prediction-powered"),
    );
    assert!(
        ca.is_some() && ppi.is_some() && ca < ppi,
        "beside the trend table"
    );
    assert!(html.contains("this one stays valid when the classifier errs"));
    // Per framework and per year: the prediction-powered figure where the
    // stored estimate has it, else the sample alone and why.
    let (mut ppi_rows, mut alone_rows) = (0, 0);
    for (by, key) in [("framework", "per_framework"), ("year", "per_year")] {
        let table: Value = serde_json::from_slice(
            &std::fs::read(d.path(&format!("y/report/tables/estimate_by_{by}.json"))).unwrap(),
        )
        .unwrap();
        let rows = table["rows"].as_array().unwrap();
        let groups = e[key].as_object().unwrap();
        assert_eq!(rows.len(), 7 * groups.len(), "{by}");
        for (g, rows) in groups.values().zip(rows.chunks(7)) {
            for (c, row) in CATEGORIES.iter().zip(rows) {
                let x = &g["shares"][c];
                close(&row["estimate"], x["estimate"].as_f64().unwrap(), c);
                close(&row["95% low"], x["low"].as_f64().unwrap(), c);
                close(&row["95% high"], x["high"].as_f64().unwrap(), c);
                assert_eq!(row["labeled"], g["labeled"]);
                if g["labeled"].as_u64().unwrap() < 30 {
                    assert_eq!(row["method"], "sample only (Wilson)", "{row}");
                    assert!(
                        row["why the sample alone"]
                            .as_str()
                            .unwrap()
                            .contains("fewer than 30"),
                        "{row}"
                    );
                    alone_rows += 1;
                } else {
                    assert_eq!(row["method"], "cross-prediction", "{row}");
                    assert_eq!(row["why the sample alone"], "", "{row}");
                    ppi_rows += 1;
                }
            }
        }
    }
    assert!(ppi_rows > 0 && alone_rows > 0, "{ppi_rows} {alone_rows}");
    assert!(html.contains("Kinds of questions per year, estimated"));
    assert!(html.contains("Kinds of questions per framework, estimated"));
    // Every headline sentence gives its interval or p-value and its method.
    let sentences = headline_sentences(&html);
    assert!(sentences.len() >= 4, "{sentences:?}");
    check_headlines(&sentences);
    assert!(
        sentences.iter().any(|x| x.starts_with(
            "By cross-prediction-powered inference from random sample declared (820 labeled posts of"
        )),
        "{sentences:?}"
    );
    assert!(
        sentences.iter().any(|x| x.contains(
            "By prediction-powered regression on the year (ppi_ols_ci) from random sample declared, valid when the classifier errs, with 95 % intervals"
        )),
        "{sentences:?}"
    );
    // A PPI estimate below 0 is said to be, beside its clipped interval.
    assert!(
        sentences
            .iter()
            .any(|x| x.contains(" (below 0 before clipping) [0.0 %, ")
                && x.contains("(interval clipped)")),
        "{sentences:?}"
    );
    // A kind whose first and last year's shares point against the tested
    // slope (migration: 20.0 % in 2016, 9.7 % in 2020, rising slope) is not
    // said to rise "from 20.0 % to 9.7 %"; every moving kind gives its slope.
    assert!(
        sentences
            .iter()
            .any(|x| x.contains("over the years, though it was")
                && x.contains(" points per year; Cochran–Armitage")),
        "{sentences:?}"
    );
}

/// The report's headline sentences: every `finding` and `key` paragraph of
/// its main part, unescaped.
fn headline_sentences(html: &str) -> Vec<String> {
    let main = &html[html.find("<main>").expect("main")..];
    let mut out = Vec::new();
    for class in ["<p class=\"finding\">", "<p class=\"key\">"] {
        for (i, _) in main.match_indices(class) {
            let rest = &main[i + class.len()..];
            let text = &rest[..rest.find("</p>").unwrap()];
            out.push(
                text.replace("&#x27;", "'")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            );
        }
    }
    out
}

/// Each headline sentence gives an interval or a p-value and names its
/// method; the one exception says that it has none and why.
fn check_headlines(sentences: &[String]) {
    const METHODS: [&str; 7] = [
        "prediction-powered",
        "Kaplan–Meier",
        "Cochran–Armitage",
        "Pearson χ²",
        "Mann–Whitney",
        "log-rank",
        "Wilson",
    ];
    for x in sentences {
        // The uncorrected shares say no random sample backs them (so no
        // interval; the sentence is also the snapshot's table note); a trend
        // that cannot be tested says why.
        if x.contains("uncorrected: no random labeled sample backs them")
            || x.ends_with(
                "no trend can be tested: the classified questions span fewer than two years.",
            )
        {
            continue;
        }
        let figure =
            x.contains('[') || x.contains(" p ") || x.contains("p = ") || x.contains("p <");
        assert!(figure, "no interval or p-value: {x}");
        assert!(
            METHODS.iter().any(|m| x.contains(m)),
            "no method named: {x}"
        );
    }
}

/// The report sets the estimate beside the study's classifications: after
/// classifying again with another model the stored estimate is stale, and
/// the report says why; classifying back with the first model makes it
/// current again (the fingerprint is of what the classifications say).
#[test]
fn reclassifying_with_another_model_makes_the_estimate_stale() {
    let d = Dir::new();
    let model = other_model(&d);
    let s = d.pytorch_study();
    d.ok(&["classify", "--study", &s]);
    sample_and_label(&d, &s, "h", &["--size", "60", "--seed", "4"], |_| true);
    d.ok(&["estimate", "--study", &s, "--sample", "h", "-q"]);
    let stored: String = d
        .db(&s)
        .query_row(
            "SELECT json FROM results WHERE key = 'estimate:h'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert!(stored["depends"]["classifications"].is_string(), "{stored}");
    d.ok(&["report", "--study", &s]);
    let html = std::fs::read_to_string(d.path("s/report/index.html")).unwrap();
    assert!(html.contains("Kinds of questions, estimated"));
    assert!(!html.contains("STALE"), "fresh");

    d.ok(&["classify", "--study", &s, "--model-file", &model]);
    d.ok(&["report", "--study", &s]);
    let html = std::fs::read_to_string(d.path("s/report/index.html")).unwrap();
    assert!(
        html.contains(
            "STALE: the study's classifications changed since (now by model other); rerun stackmine estimate --sample h."
        ),
        "stale after classifying with another model"
    );
    assert!(html.contains("stale)"), "the chart's series says stale");
    let table = std::fs::read_to_string(d.path("s/report/tables/estimate.md")).unwrap();
    assert!(
        table.contains("STALE: the study's classifications changed since (now by model other)"),
        "{table}"
    );

    d.ok(&["classify", "--study", &s]);
    d.ok(&["report", "--study", &s]);
    let html = std::fs::read_to_string(d.path("s/report/index.html")).unwrap();
    assert!(
        !html.contains("STALE"),
        "the first model's classifications again"
    );
}

/// Review item 6: a population that holds no question of the study says so
/// (naming it), not "ingest a dump first"; and a sample whose labels have two
/// categories but one fold's training part only one says that of the fold.
#[test]
fn empty_populations_and_one_category_folds_are_named() {
    let d = Dir::new();
    let s = d.pytorch_study();
    for population in ["years:2030-2040", "years:1990"] {
        let err = d.fails(&[
            "sample",
            "--study",
            &s,
            "--name",
            "empty",
            "--size",
            "10",
            "--population",
            population,
        ]);
        assert!(
            err.contains(&format!(
                "no question of the study is in the population {population} (the study has 630 questions): choose another --population"
            )),
            "{population}: {err}"
        );
        assert!(!err.contains("ingest a dump first"), "{err}");
    }
    assert_eq!(
        d.count(&s, "SELECT COUNT(*) FROM label_sets WHERE name = 'empty'"),
        0
    );

    // 5 crash and 1 performance, declared random: with 2 folds one fold's
    // training part is all crash.
    let (_, rows) = labels();
    let pick = |kind: &str, n: usize| -> Vec<i64> {
        rows.iter()
            .filter(|(site, _, p, _)| site == PYTORCH && p == kind)
            .map(|(_, id, _, _)| *id)
            .take(n)
            .collect()
    };
    let crash = pick("crash", 6);
    let perf = pick("performance", 1);
    let import = |set: &str, ids: Vec<i64>| {
        let csv = label_csv(&d, &format!("{set}.csv"), |site, id| {
            site == PYTORCH && ids.contains(&id)
        });
        d.ok(&[
            "label",
            "import",
            &csv,
            "--set",
            set,
            "--random-sample",
            "--study",
            &s,
        ]);
    };
    import("r6", crash[..5].iter().chain(&perf).copied().collect());
    import("c6", crash.clone());
    let err = d.fails(&[
        "estimate", "--study", &s, "--sample", "r6", "--folds", "2", "--kind", "linear",
    ]);
    assert!(
        err.contains(
            "of 2-fold cross-prediction would train on posts of one category only (crash): label more posts of other categories"
        ),
        "{err}"
    );
    assert!(!err.contains("every labeled post"), "{err}");
    // All of one category: that is what it says.
    let err = d.fails(&[
        "estimate", "--study", &s, "--sample", "c6", "--folds", "2", "--kind", "linear",
    ]);
    assert!(err.contains("one category (crash)"), "{err}");
    assert!(!err.contains("fold"), "{err}");
}

//! The static encoder: a model2vec table distilled from all-MiniLM-L6-v2
//! (`stackmine encoder distill`), and the built-in static model that reads
//! it (`--model default-static`), through the real binary on the 820 real
//! labeled questions. Its PCA and weights are pinned to scikit-learn and
//! model2vec's formula (tests/data/reference/make_static_reference.py).
//! Tests that need the encoder's files (scripts/fetch-encoder.sh) are
//! skipped with a notice without them, except under CI=true.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use crate::util::{Dir, labeled_study};
use stackmine::classify::encoder::static_table::{self, Pca, StaticTable};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `stackmine ARGS` in `d` reading the static table at `table`.
fn run_t(d: &Dir, table: &Path, args: &[&str]) -> Output {
    d.cmd(args)
        .env("STACKMINE_STATIC_TABLE", table)
        .output()
        .expect("run stackmine")
}

fn ok_t(d: &Dir, table: &Path, args: &[&str]) -> String {
    let out = run_t(d, table, args);
    assert!(
        out.status.success(),
        "stackmine {args:?} failed:\n{}",
        stderr(&out)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The static table and how it was found: the one the setup made
/// (`stackmine encoder distill`, run by scripts/build-default-model.sh, at
/// `static_table::default_path()`), else one distilled here once per test
/// run with the default settings under the target's temporary folder (about
/// 8 CPU-minutes). `None` without the encoder.
fn table() -> Option<&'static (PathBuf, String)> {
    static TABLE: OnceLock<Option<(PathBuf, String)>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            let d = Dir::with_encoder()?;
            let made = static_table::default_path();
            if made.is_file() {
                let t = StaticTable::load(&made).unwrap();
                return Some((made, format!("present, fingerprint {}", t.fingerprint)));
            }
            let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("static-table.bin");
            let out = d.ok(&["-q", "encoder", "distill", "--out", path.to_str().unwrap()]);
            Some((path, out))
        })
        .as_ref()
}

fn shipped(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(name),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[derive(serde::Deserialize)]
struct Reference {
    n: usize,
    d: usize,
    k: usize,
    mean: Vec<f64>,
    components: Vec<Vec<f64>>,
    explained_variance: Vec<f64>,
    explained_variance_ratio: f64,
    transformed: Vec<Vec<f64>>,
    zipf_sif_weights_10: Vec<f64>,
}

/// PCA (mean, components with scikit-learn's signs, variances, projection)
/// and the Zipf SIF weights against tests/data/reference/static_pca.json,
/// made by make_static_reference.py with scikit-learn 1.9.1's
/// `PCA(svd_solver="full")` and model2vec's weighting formula.
#[test]
fn pca_and_zipf_weights_match_scikit_learn_and_model2vec() {
    let text = std::fs::read_to_string(crate::util::data("reference/static_pca.json")).unwrap();
    let r: Reference = serde_json::from_str(&text).unwrap();
    let mut x = Vec::with_capacity(r.n * r.d);
    for i in 0..r.n {
        for j in 0..r.d {
            let (i, j) = (i as f64, j as f64);
            x.push((i * (j + 1.0) * 0.37).sin() + 0.5 * (i * 0.11 + j).cos() * j);
        }
    }
    let p = Pca::fit(&x, r.n, r.d, r.k);
    let close = |a: f64, b: f64, what: &str| assert!((a - b).abs() < 1e-9, "{what}: {a} vs {b}");
    for (a, b) in p.mean.iter().zip(&r.mean) {
        close(*a, *b, "mean");
    }
    for (c, row) in r.components.iter().enumerate() {
        for (j, b) in row.iter().enumerate() {
            close(p.components[c * r.d + j], *b, "component");
        }
    }
    for (a, b) in p.variances.iter().zip(&r.explained_variance) {
        close(*a, *b, "variance");
    }
    close(p.explained_ratio, r.explained_variance_ratio, "ratio");
    let t = p.transform(&x, r.n);
    for (i, row) in r.transformed.iter().enumerate() {
        for (j, b) in row.iter().enumerate() {
            close(t[i * r.k + j], *b, "transformed");
        }
    }
    let w = static_table::zipf_sif_weights(10, static_table::SIF_COEFFICIENT);
    for (a, b) in w.iter().zip(&r.zipf_sif_weights_10) {
        close(*a, *b, "zipf weight");
    }
    // Corpus weights: a / (a + count / total); an unseen token weighs 1.
    let c = static_table::corpus_sif_weights(&[0, 1, 9999], 1e-4);
    assert_eq!(c[0], 1.0);
    close(c[1], 1e-4 / (1e-4 + 1e-4), "corpus weight");
}

/// `encoder distill` gives the table the shipped static model was trained
/// with, byte for byte (its fingerprint is recorded in the model; checked on
/// the table distilled here, or on the one the setup distilled); the table
/// is the vocabulary's 30,522 tokens × 256 dimensions, Zipf weighted; a text
/// embeds to the unit-length mean of its tokens' rows.
#[test]
fn the_table_is_distilled_byte_for_byte() {
    let Some((path, out)) = table() else {
        return;
    };
    let model = shipped("default-static.json");
    let fp = model["classifier"]["table"]["fingerprint"]
        .as_str()
        .unwrap();
    assert!(
        out.contains(&format!("fingerprint {fp}")),
        "the distilled table is not the one models/default-static.json was trained with: {out} (run scripts/build-default-model.sh)"
    );
    if !out.starts_with("present") {
        assert!(
            out.contains("30522 tokens × 256 dimensions (zipf weighting"),
            "{out}"
        );
    }
    let t = StaticTable::load(path).unwrap();
    assert_eq!(t.fingerprint, fp);
    assert_eq!((t.dim(), t.header.vocab_size), (256, 30522));
    let e = t.embed("How do I move a tensor to the GPU in PyTorch?", 128);
    let norm: f32 = e.iter().map(|v| v * v).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5);
    // Only [CLS], [SEP] and [UNK]: no row, the zero vector.
    assert!(t.embed("", 128).iter().all(|&v| v == 0.0));
    // A near-paraphrase is closer than an unrelated text.
    let cos = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    let p = t.embed("Moving a PyTorch tensor onto the GPU", 128);
    let u = t.embed("My sourdough bread does not rise in winter", 128);
    assert!(
        cos(&e, &p) > cos(&e, &u) + 0.2,
        "{} {}",
        cos(&e, &p),
        cos(&e, &u)
    );
}

/// Cross-validated quality of the static model, pinned like the hybrid and
/// linear ones (tests/it/hybrid.rs, tests/it/classify.rs); scripts/build-default-
/// model.sh's command gives models/default-static.json byte for byte.
#[test]
fn the_static_model_is_pinned_and_rebuilt_byte_for_byte() {
    let Some((table, _)) = table() else {
        return;
    };
    let d = Dir::with_encoder().unwrap();
    let s = labeled_study(&d, Some("dl-questions"));
    let eval = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["eval", "--json", "--study", &s, "--labels", "dl-questions"];
        all.extend(args);
        serde_json::from_str(&ok_t(&d, table, &all)).unwrap()
    };
    let cv = eval(&[
        "--kind",
        "static",
        "--protocol",
        "cv5",
        "--stem",
        "--embedding-weight",
        "3",
    ]);
    assert_eq!(cv["items"], 820);
    let f1 = cv["macro_f1"].as_f64().unwrap();
    let lenient = cv["lenient_accuracy"].as_f64().unwrap();
    assert!(
        (f1 - STATIC_CV5_F1).abs() < 0.003,
        "static cv5 macro F1 {f1}"
    );
    assert!(
        (lenient - STATIC_CV5_LENIENT).abs() < 0.003,
        "static cv5 lenient {lenient}"
    );
    // Static embeddings are not cached: computing one is faster.
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM embeddings"), 0);
    // Between the linear model (cv5 macro F1 0.6318, tests/it/classify.rs)
    // and the hybrid one (0.7815, tests/it/hybrid.rs).
    assert!(f1 > 0.6318 && f1 < 0.7815, "{f1}");

    let out = d.path("default-static.json");
    ok_t(
        &d,
        table,
        &[
            "-q",
            "train",
            "--study",
            &s,
            "--labels",
            "dl-questions",
            "--kind",
            "static",
            "--c",
            "10",
            "--max-tokens",
            "128",
            "--embedding-weight",
            "3",
            "--stem",
            "--validate",
            "--name",
            "default-static",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let built = std::fs::read(&out).unwrap();
    let shipped =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("models/default-static.json"))
            .unwrap();
    assert!(
        built == shipped,
        "models/default-static.json is stale: run scripts/build-default-model.sh"
    );
    let e = eval(&["--model", "default-static"]);
    assert_eq!(e["model"], "default-static");
    assert!(
        e["warning"]
            .as_str()
            .unwrap_or_default()
            .contains("trained on these very labels"),
        "{e}"
    );
}

/// cv5 macro F1 and lenient accuracy of `--kind static --stem
/// --embedding-weight 3` (128 tokens) on the 820 labels: measured, see
/// BENCHMARKS.md.
const STATIC_CV5_F1: f64 = 0.6934;
const STATIC_CV5_LENIENT: f64 = 0.8659;

/// classify with the built-in static model on the 630 PyTorch questions:
/// the report names it, nothing is cached, a re-run gives the same rows; a
/// table from other encoder files is refused.
#[test]
fn classify_with_the_static_model() {
    let Some((table, _)) = table() else {
        return;
    };
    let d = Dir::with_encoder().unwrap();
    let s = d.pytorch_study();
    let first = run_t(
        &d,
        table,
        &["classify", "--study", &s, "--model", "default-static"],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("classified 630 questions with model default-static (static)"),
        "{stdout}"
    );
    assert!(
        stderr(&first).contains(
            "embedded 630 questions with all-MiniLM-L6-v2 static table (256 dimensions, zipf)"
        ),
        "{}",
        stderr(&first)
    );
    let rows = |d: &Dir| -> Vec<(i64, String, f64)> {
        let db = d.db(&s);
        let mut stmt = db
            .prepare("SELECT question_id, category, confidence FROM classifications ORDER BY question_id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let before = rows(&d);
    assert_eq!(before.len(), 630);
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM embeddings"), 0);
    ok_t(
        &d,
        table,
        &["classify", "--study", &s, "--model", "default-static"],
    );
    assert_eq!(rows(&d), before);

    // A table of another source encoder (its header's fingerprint changed)
    // is refused, naming both.
    let bytes = std::fs::read(table).unwrap();
    let t = StaticTable::load(table).unwrap();
    let text = String::from_utf8_lossy(&bytes[..200]).into_owned();
    assert!(text.contains(&t.header.source));
    let other = d.path("other.bin");
    let mut changed = bytes.clone();
    let at = bytes
        .windows(16)
        .position(|w| w == t.header.source.as_bytes())
        .unwrap();
    changed[at..at + 16].copy_from_slice(b"0123456789abcdef");
    std::fs::write(&other, &changed).unwrap();
    let out = run_t(
        &d,
        &other,
        &["classify", "--study", &s, "--model", "default-static"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("comes from the encoder with fingerprint 0123456789abcdef")
            && err.contains("stackmine encoder distill"),
        "{err}"
    );
    // A cut-off table says so.
    std::fs::write(&other, &bytes[..bytes.len() - 3]).unwrap();
    let out = run_t(
        &d,
        &other,
        &["classify", "--study", &s, "--model", "default-static"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a stackmine static table"),
        "{}",
        stderr(&out)
    );
}

/// Without the table, the static model and `train --kind static` fail
/// clearly, naming the command that makes it; the built-in default is
/// unchanged (hybrid with the encoder, else linear). Without the encoder,
/// distill says it needs it.
#[test]
fn without_the_table_static_fails_clearly() {
    let d = Dir::new();
    let s = d.pytorch_study();
    let missing = d.path("no-table.bin");
    let out = run_t(
        &d,
        &missing,
        &["classify", "--study", &s, "--model", "default-static"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("model default-static reads embeddings from the static table")
            && err.contains("no static embedding table at")
            && err.contains("stackmine encoder distill"),
        "{err}"
    );
    let out = run_t(&d, &missing, &["classify", "--study", &s]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("classified 630 questions with model default (linear)")
    );
    let err = d.fails(&["encoder", "distill", "--out", missing.to_str().unwrap()]);
    assert!(
        err.contains("the static table is distilled from the sentence encoder")
            && err.contains("scripts/fetch-encoder.sh"),
        "{err}"
    );
    assert!(!missing.exists());
    let csv = std::fs::read_to_string(crate::util::data("labels/dl-questions.csv")).unwrap();
    let pytorch: Vec<&str> = csv
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.contains(",stackoverflow-pytorch-labeled,"))
        .map(|(_, l)| l)
        .collect();
    let labels = d.write("pytorch.csv", (pytorch.join("\n") + "\n").as_bytes());
    d.ok(&["label", "import", &labels, "--set", "l", "--study", &s]);
    let out = run_t(
        &d,
        &missing,
        &["train", "--study", &s, "--labels", "l", "--kind", "static"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("a static model needs the static table"),
        "{}",
        stderr(&out)
    );
}

//! The fast sentence encoder (src/classify/encoder): literal special tokens
//! read as Hugging Face `tokenizers` reads them, and batched embedding equal
//! to one text at a time, pinned to tests/data/encoder/fast_reference.json
//! (made by tests/data/encoder/make_fast_reference.py with `tokenizers` and
//! the numpy BERT of make_reference.py, one text at a time). Needs the
//! encoder's files (scripts/fetch-encoder.sh); skipped with a notice without
//! them, except under CI=true.

use stackmine::classify::encoder::Encoder;

#[derive(serde::Deserialize)]
struct Item {
    text: String,
    ids: Vec<u32>,
    #[serde(default)]
    embedding: Option<Vec<f32>>,
}

#[derive(serde::Deserialize)]
struct Reference {
    questions: Vec<Item>,
    made_up: Vec<Item>,
}

fn reference() -> Reference {
    let text = std::fs::read_to_string(crate::util::data("encoder/fast_reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn worst(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max)
}

/// Question 61717097 has `[CLS]` and `[SEP]` in its prose; Hugging Face reads
/// them (and `[MASK]`, `[PAD]`, `[UNK]`) as special tokens, case-sensitively,
/// also inside a word.
#[test]
fn literal_special_tokens_are_read_as_hugging_face_does() {
    let Some(dir) = crate::util::encoder_dir() else {
        return;
    };
    let encoder = Encoder::load(&dir).unwrap();
    let r = reference();
    let q = r
        .questions
        .iter()
        .find(|q| q.text.contains("[CLS]") && q.text.contains("[SEP]"))
        .expect("question 61717097");
    assert!(q.ids[1..q.ids.len() - 1].contains(&101));
    for item in r.questions.iter().chain(&r.made_up) {
        assert_eq!(
            encoder.tokens(&item.text, 128),
            item.ids,
            "tokens of {:?}",
            item.text
        );
    }
}

/// Texts packed into batches embed bit for bit as one at a time, whatever
/// the batch and the number of threads, and within 2e-5 of the numpy BERT.
#[test]
fn batched_embeddings_equal_unbatched_and_the_reference() {
    let Some(dir) = crate::util::encoder_dir() else {
        return;
    };
    let encoder = Encoder::load(&dir).unwrap();
    let r = reference();
    let texts: Vec<&str> = r.questions.iter().map(|q| q.text.as_str()).collect();
    let single: Vec<Vec<f32>> = texts.iter().map(|t| encoder.embed(t, 128)).collect();
    for (q, e) in r.questions.iter().zip(&single) {
        let want = q.embedding.as_ref().unwrap();
        let off = worst(e, want);
        assert!(off < 2e-5, "embedding of {:?} off by {off}", q.text);
    }
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let batched = pool.install(|| encoder.embed_many(&texts, 128, &|_| {}));
        assert_eq!(batched, single, "{threads} threads");
    }
    // Another batch composition: reversed, and with the short made-up texts.
    let mut mixed: Vec<&str> = texts.iter().rev().copied().collect();
    mixed.extend(r.made_up.iter().map(|m| m.text.as_str()));
    let out = encoder.embed_many(&mixed, 128, &|_| {});
    for (e, t) in out.iter().zip(&mixed) {
        assert_eq!(*e, encoder.embed(t, 128), "{t:?}");
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// int8 dense layers stay close to fp32 over every fixture text
/// (tests/data/encoder/reference.json and fast_reference.json): mean cosine
/// at least 0.995, none below 0.98; and batched int8 equals one at a time.
#[test]
fn int8_embeddings_are_close_to_fp32_and_deterministic() {
    let Some(dir) = crate::util::encoder_dir() else {
        return;
    };
    let fp32 = Encoder::load(&dir).unwrap();
    let mut int8 = fp32.clone();
    int8.set_precision(stackmine::classify::encoder::Precision::Int8);
    assert_ne!(int8.cache_key(), fp32.cache_key());
    let r = reference();
    let old: Vec<Item> = serde_json::from_str(
        &std::fs::read_to_string(crate::util::data("encoder/reference.json")).unwrap(),
    )
    .unwrap();
    let texts: Vec<&str> = r
        .questions
        .iter()
        .chain(&r.made_up)
        .chain(&old)
        .map(|q| q.text.as_str())
        .collect();
    let a = fp32.embed_many(&texts, 128, &|_| {});
    let b = int8.embed_many(&texts, 128, &|_| {});
    let cos: Vec<f64> = a.iter().zip(&b).map(|(x, y)| cosine(x, y)).collect();
    let mean = cos.iter().sum::<f64>() / cos.len() as f64;
    let min = cos.iter().copied().fold(1.0, f64::min);
    eprintln!(
        "int8 vs fp32 over {} texts: mean cosine {mean:.5}, min {min:.5}",
        cos.len()
    );
    assert!(mean >= 0.995 && min >= 0.98, "mean {mean}, min {min}");
    for (e, t) in b.iter().zip(&texts).step_by(7) {
        assert_eq!(*e, int8.embed(t, 128), "{t:?}");
    }
}

/// Through the real binary on the 820 labeled questions: the hybrid model's
/// cv5 macro F1 with int8 embeddings is within 0.005 of fp32's (so the one
/// built-in hybrid model, trained on fp32 embeddings, serves both); the
/// cache keeps the two precisions apart; a model trained in int8 says so.
#[test]
fn int8_hybrid_cv5_is_within_0_005_of_fp32() {
    let Some(d) = crate::util::Dir::with_encoder() else {
        return;
    };
    let s = crate::util::labeled_study(&d, Some("dl-questions"));
    let cv5 = |precision: &str| {
        d.eval_json(&[
            "--study",
            &s,
            "--labels",
            "dl-questions",
            "--kind",
            "hybrid",
            "--protocol",
            "cv5",
            "--precision",
            precision,
        ])
    };
    let (fp32, int8) = (cv5("fp32"), cv5("int8"));
    let f1 = |v: &serde_json::Value| v["macro_f1"].as_f64().unwrap();
    eprintln!(
        "hybrid cv5 macro F1: fp32 {}, int8 {}",
        f1(&fp32),
        f1(&int8)
    );
    assert!((f1(&fp32) - f1(&int8)).abs() <= 0.005, "{fp32} {int8}");
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM embeddings"), 2 * 820);
    assert_eq!(
        d.count(
            &s,
            "SELECT COUNT(*) FROM embeddings WHERE encoder LIKE '%-int8'"
        ),
        820
    );
    let out = d.path("int8.json");
    d.ok(&[
        "train",
        "--study",
        &s,
        "--labels",
        "dl-questions",
        "--kind",
        "hybrid",
        "--precision",
        "int8",
        "--out",
        out.to_str().unwrap(),
    ]);
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(model["classifier"]["encoder"]["precision"], "int8");
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/default-hybrid.json"
    ))
    .unwrap();
    assert!(!shipped.contains("precision"));
}

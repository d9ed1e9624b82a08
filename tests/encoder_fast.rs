//! The fast sentence encoder (src/classify/encoder): literal special tokens
//! read as Hugging Face `tokenizers` reads them, and batched embedding equal
//! to one text at a time, pinned to tests/data/encoder/fast_reference.json
//! (made by tests/data/encoder/make_fast_reference.py with `tokenizers` and
//! the numpy BERT of make_reference.py, one text at a time). Needs the
//! encoder's files (scripts/fetch-encoder.sh); skipped with a notice without
//! them, except under CI=true.

mod util;

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
    let text = std::fs::read_to_string(util::data("encoder/fast_reference.json")).unwrap();
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
    let Some(dir) = util::encoder_dir() else {
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
    let Some(dir) = util::encoder_dir() else {
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

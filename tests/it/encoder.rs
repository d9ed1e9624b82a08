//! The sentence encoder (WordPiece + BERT, src/classify/encoder) pinned to
//! independent reference outputs: tests/data/encoder/reference.json, made by
//! tests/data/encoder/make_reference.py with Hugging Face `tokenizers` and a
//! numpy BERT, on real labeled questions. Needs the encoder's files
//! (scripts/fetch-encoder.sh); skipped with a notice without them, except
//! under CI=true.

use stackmine::classify::encoder::Encoder;

#[derive(serde::Deserialize)]
struct Item {
    text: String,
    ids: Vec<u32>,
    #[serde(default)]
    embedding: Option<Vec<f32>>,
}

fn reference() -> Vec<Item> {
    let text = std::fs::read_to_string(crate::util::data("encoder/reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn tokens_and_embeddings_match_the_reference() {
    let Some(dir) = crate::util::encoder_dir() else {
        return;
    };
    let encoder = Encoder::load(&dir).unwrap();
    assert_eq!(encoder.dim(), 384);
    let items = reference();
    assert!(items.len() >= 30 && items.iter().any(|i| !i.text.is_ascii()));
    let mut embedded = 0;
    for item in &items {
        assert_eq!(
            encoder.tokens(&item.text, 128),
            item.ids,
            "tokens of {:?}",
            item.text
        );
        if let Some(want) = &item.embedding {
            let got = encoder.embed(&item.text, 128);
            let worst = got
                .iter()
                .zip(want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(worst < 2e-5, "embedding of {:?} off by {worst}", item.text);
            embedded += 1;
        }
    }
    assert!(embedded >= 8);
}

#[test]
fn missing_or_broken_files_are_clear_errors() {
    let dir = crate::util::Dir::new();
    let err = Encoder::load(dir.tmp.path()).unwrap_err().to_string();
    assert!(err.contains("scripts/fetch-encoder.sh"), "{err}");
    std::fs::write(
        dir.path("model.safetensors"),
        b"\x10\x00\x00\x00\x00\x00\x00\x00{not json",
    )
    .unwrap();
    std::fs::write(dir.path("config.json"), r#"{"hidden_size":384,"num_attention_heads":12,"num_hidden_layers":6,"intermediate_size":1536,"max_position_embeddings":512,"vocab_size":5}"#).unwrap();
    std::fs::write(dir.path("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\na\n").unwrap();
    let err = Encoder::load(dir.tmp.path()).unwrap_err().to_string();
    assert!(
        err.contains("model.safetensors") && err.contains("cut off"),
        "{err}"
    );
}

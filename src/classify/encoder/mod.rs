//! A sentence encoder run from local files: all-MiniLM-L6-v2 (or any BERT of
//! the same layout) as `config.json`, `vocab.txt` and `model.safetensors` in
//! one folder. Nothing is downloaded here; `scripts/fetch-encoder.sh` puts
//! the files in [`default_dir`].
//!
//! `text → wordpiece ids → BERT → mean pooling → unit vector`.

pub mod bert;
pub mod wordpiece;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bert::{Bert, Config, Tensors};
use wordpiece::Vocab;

use super::features::Doc;

/// The encoder the shipped default model was trained with.
pub const DEFAULT_ENCODER: &str = "all-MiniLM-L6-v2";

/// Errors loading an encoder's files.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    #[error(
        "no sentence encoder at {} (run scripts/fetch-encoder.sh, or set STACKMINE_ENCODER to its folder)",
        dir.display()
    )]
    Missing { dir: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
}

/// Where the encoder's files are looked for: `$STACKMINE_ENCODER`, else
/// `$XDG_CACHE_HOME/stackmine/all-MiniLM-L6-v2` (`~/.cache/...`).
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STACKMINE_ENCODER").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("stackmine").join(DEFAULT_ENCODER)
}

/// The text of a post the encoder reads: its title, then its prose (code
/// blocks left out: they eat the token budget and say little of the kind).
pub fn doc_text(doc: &Doc) -> String {
    format!("{}. {}", doc.title.trim(), doc.body.trim())
}

/// A loaded encoder.
#[derive(Debug, Clone)]
pub struct Encoder {
    pub dir: PathBuf,
    /// FNV-1a 64 of `model.safetensors` and `vocab.txt`, in hex: models and
    /// cached embeddings name the exact weights they came from.
    pub fingerprint: String,
    vocab: Vocab,
    bert: Bert,
}

impl Encoder {
    /// Loads the encoder in `dir`.
    pub fn load(dir: &Path) -> Result<Encoder, EncoderError> {
        let weights_path = dir.join("model.safetensors");
        if !weights_path.is_file() {
            return Err(EncoderError::Missing {
                dir: dir.to_path_buf(),
            });
        }
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| EncoderError::Io { path, source })
        };
        let format = |name: &str, message: String| EncoderError::Format {
            path: dir.join(name),
            message,
        };
        let config: Config = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| format("config.json", e.to_string()))?;
        let vocab_bytes = read("vocab.txt")?;
        let vocab = std::str::from_utf8(&vocab_bytes)
            .ok()
            .and_then(Vocab::parse)
            .ok_or_else(|| format("vocab.txt", "no [UNK], [CLS] or [SEP] token".into()))?;
        if vocab.len != config.vocab_size {
            return Err(format(
                "vocab.txt",
                format!("{} tokens, config says {}", vocab.len, config.vocab_size),
            ));
        }
        let weights = read("model.safetensors")?;
        let fingerprint = super::fnv1a_hex(&[&weights, &vocab_bytes]);
        let tensors =
            safetensors(&weights).map_err(|m| format("model.safetensors", m.to_string()))?;
        drop(weights);
        let bert =
            Bert::from_tensors(config, tensors).map_err(|m| format("model.safetensors", m))?;
        Ok(Encoder {
            dir: dir.to_path_buf(),
            fingerprint,
            vocab,
            bert,
        })
    }

    /// Token ids of a text, at most `max_tokens` with `[CLS]` and `[SEP]`.
    pub fn tokens(&self, text: &str, max_tokens: usize) -> Vec<u32> {
        let limit = max_tokens.min(self.bert.config.max_position_embeddings);
        self.vocab.encode(text, limit)
    }

    /// The unit-length embedding of a text's first `max_tokens` tokens.
    pub fn embed(&self, text: &str, max_tokens: usize) -> Vec<f32> {
        self.bert.embed(&self.tokens(text, max_tokens))
    }

    /// The embedding's length.
    pub fn dim(&self) -> usize {
        self.bert.config.hidden_size
    }
}

/// Little-endian f32 values (safetensors data, cached embeddings); a
/// trailing partial value is ignored.
pub fn f32s_from_le(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[derive(serde::Deserialize)]
struct TensorInfo {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

/// The F32 tensors of a safetensors file (an 8-byte little-endian header
/// length, a JSON header of name → dtype, shape and byte range, then the
/// data). Tensors of other types (BERT's int64 `position_ids`) are skipped.
pub fn safetensors(bytes: &[u8]) -> Result<Tensors, &'static str> {
    let head_len = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()) as usize)
        .ok_or("shorter than its header")?;
    let data_start = 8usize.checked_add(head_len).ok_or("bad header length")?;
    let header = bytes.get(8..data_start).ok_or("cut off in its header")?;
    let mut infos: HashMap<String, serde_json::Value> =
        serde_json::from_slice(header).map_err(|_| "header is not JSON")?;
    infos.remove("__metadata__");
    let data = &bytes[data_start..];
    let mut out = Tensors::new();
    for (name, value) in infos {
        let info: TensorInfo = serde_json::from_value(value).map_err(|_| "bad tensor entry")?;
        if info.dtype != "F32" {
            continue;
        }
        let [start, end] = info.data_offsets;
        let raw = data.get(start..end).ok_or("tensor data out of range")?;
        if raw.len() != 4 * info.shape.iter().product::<usize>() {
            return Err("tensor size does not match its shape");
        }
        out.insert(name, (info.shape, f32s_from_le(raw)));
    }
    Ok(out)
}

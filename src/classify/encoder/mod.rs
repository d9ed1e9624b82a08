//! A sentence encoder run from local files: all-MiniLM-L6-v2 (or any BERT of
//! the same layout) as `config.json`, `vocab.txt` and `model.safetensors` in
//! one folder. Nothing is downloaded here; `scripts/fetch-encoder.sh` puts
//! the files in [`default_dir`].
//!
//! `text → wordpiece ids → BERT → mean pooling → unit vector`.

pub mod bert;
pub mod fastmath;
pub mod int8;
pub mod static_table;
pub mod wordpiece;

use std::path::{Path, PathBuf};

use bert::{Bert, Config, Tensors};
use wordpiece::Vocab;

use super::features::Doc;

/// The encoder the shipped default model was trained with.
pub const DEFAULT_ENCODER: &str = "all-MiniLM-L6-v2";

/// Errors loading an encoder's files. Each names the file and says what is
/// wrong once (the inner error is part of the message, not a source).
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    #[error(
        "no sentence encoder at {} (run scripts/fetch-encoder.sh, or set STACKMINE_ENCODER to its folder)",
        dir.display()
    )]
    Missing { dir: PathBuf },
    #[error("{}: {err}", path.display())]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{}: {reason}", path.display())]
    Config {
        path: PathBuf,
        reason: bert::ConfigError,
    },
    #[error("{}: {reason}", path.display())]
    Vocab {
        path: PathBuf,
        reason: wordpiece::VocabError,
    },
    #[error("{}: {reason}", path.display())]
    Safetensors {
        path: PathBuf,
        reason: SafetensorsError,
    },
    #[error("{}: {reason}", path.display())]
    Weights {
        path: PathBuf,
        reason: bert::WeightsError,
    },
}

/// What is wrong with a safetensors file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SafetensorsError {
    #[error("shorter than its 8-byte header length")]
    NoHeader,
    #[error("cut off in its header (it says {0} bytes)")]
    CutOffHeader(u64),
    #[error("its header is not JSON: {0}")]
    HeaderNotJson(String),
    #[error("tensor {name}: bad entry: {why}")]
    BadEntry { name: String, why: String },
    #[error("tensor {name}: its data (bytes {start}..{end}) is out of the file's range")]
    OutOfRange { name: String, start: u64, end: u64 },
    #[error("tensor {name}: {bytes} bytes of data do not fit its shape {shape}")]
    SizeMismatch {
        name: String,
        bytes: usize,
        shape: String,
    },
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

/// The arithmetic of the encoder's dense layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// f32 throughout (the numpy reference within 2e-5).
    #[default]
    Fp32,
    /// int8 dense layers ([`int8`]): cosine ≥ 0.995 to fp32 on average.
    Int8,
}

impl Precision {
    /// int8 where the CPU has AVX-512 VNNI (the fast kernel), else fp32.
    pub fn for_this_cpu() -> Precision {
        if int8::has_vnni() {
            Precision::Int8
        } else {
            Precision::Fp32
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Int8 => "int8",
        }
    }

    pub fn is_fp32(&self) -> bool {
        *self == Precision::Fp32
    }
}

/// The version of the int8 arithmetic in [`Encoder::cache_key`].
const INT8_ARITHMETIC: &str = "k2";

/// A loaded encoder.
#[derive(Debug, Clone)]
pub struct Encoder {
    pub dir: PathBuf,
    /// FNV-1a 64 of `model.safetensors` and `vocab.txt`, in hex: models and
    /// cached embeddings name the exact weights they came from.
    pub fingerprint: String,
    pub precision: Precision,
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
        let read = |name: &str, limit: u64| {
            let path = dir.join(name);
            crate::limits::read_bounded(&path, limit, "an encoder file")
                .map_err(|err| EncoderError::Io { path, err })
        };
        use crate::limits::{
            MAX_ENCODER_CONFIG_BYTES, MAX_ENCODER_VOCAB_BYTES, MAX_ENCODER_WEIGHTS_BYTES,
        };
        let config_path = dir.join("config.json");
        let config = Config::from_json(&read("config.json", MAX_ENCODER_CONFIG_BYTES)?).map_err(
            |reason| EncoderError::Config {
                path: config_path.clone(),
                reason,
            },
        )?;
        let vocab_path = dir.join("vocab.txt");
        let vocab_bytes = read("vocab.txt", MAX_ENCODER_VOCAB_BYTES)?;
        let vocab = Vocab::from_bytes(&vocab_bytes).map_err(|reason| EncoderError::Vocab {
            path: vocab_path.clone(),
            reason,
        })?;
        if vocab.len != config.vocab_size {
            return Err(EncoderError::Vocab {
                path: vocab_path,
                reason: wordpiece::VocabError::Size {
                    found: vocab.len,
                    config: config.vocab_size,
                },
            });
        }
        let weights = read("model.safetensors", MAX_ENCODER_WEIGHTS_BYTES)?;
        let fingerprint = super::fnv1a_hex(&[&weights, &vocab_bytes]);
        let tensors = safetensors(&weights).map_err(|reason| EncoderError::Safetensors {
            path: weights_path.clone(),
            reason,
        })?;
        drop(weights);
        let bert = Bert::from_tensors(config, tensors).map_err(|reason| EncoderError::Weights {
            path: weights_path.clone(),
            reason,
        })?;
        Ok(Encoder {
            dir: dir.to_path_buf(),
            fingerprint,
            precision: Precision::Fp32,
            vocab,
            bert,
        })
    }

    /// Runs the dense layers in `precision` from now on.
    pub fn set_precision(&mut self, precision: Precision) {
        match precision {
            Precision::Int8 if self.bert.int8.is_none() => self.bert.quantize(),
            Precision::Fp32 => self.bert.int8 = None,
            Precision::Int8 => {}
        }
        self.precision = precision;
    }

    /// The key of this encoder's embeddings in the store's cache: the
    /// weights' fingerprint, plus `-k2-int8` for int8 embeddings (fp32
    /// keeps the bare fingerprint, so caches made before int8 stay valid).
    /// `k2` is the int8 arithmetic's version: k2 sums the softmax in 16
    /// lanes (k1, the bare `-int8`, summed in order), so int8 embeddings
    /// cached before it are not reused. Every kernel (VNNI, AVX2, portable)
    /// gives the same int8 bits, so the key does not name one.
    pub fn cache_key(&self) -> String {
        match self.precision {
            Precision::Fp32 => self.fingerprint.clone(),
            p => format!("{}-{INT8_ARITHMETIC}-{}", self.fingerprint, p.name()),
        }
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

    /// The embeddings of many texts (as [`Encoder::embed`] gives them, bit
    /// for bit), on all of rayon's threads: consecutive texts are packed
    /// into batches of at most [`BATCH_TOKENS`] tokens, one batch per task.
    /// `done(k)` is called as k more texts are embedded.
    pub fn embed_many(
        &self,
        texts: &[&str],
        max_tokens: usize,
        done: &(dyn Fn(u64) + Sync),
    ) -> Vec<Vec<f32>> {
        use rayon::prelude::*;
        let ids: Vec<Vec<u32>> = texts
            .par_iter()
            .map(|t| self.tokens(t, max_tokens))
            .collect();
        let batches = batches(ids.iter().map(Vec::len), BATCH_TOKENS);
        let parts: Vec<Vec<Vec<f32>>> = batches
            .par_iter()
            .map(|r| {
                let seqs: Vec<&[u32]> = ids[r.clone()].iter().map(Vec::as_slice).collect();
                let e = self.bert.embed_batch(&seqs);
                done(r.len() as u64);
                e
            })
            .collect();
        parts.into_iter().flatten().collect()
    }

    /// [`Encoder::embed_ids`] of many id sequences at once (bit for bit the
    /// same), packed into one batch.
    pub fn embed_ids_batch(&self, seqs: &[&[u32]]) -> Vec<Vec<f32>> {
        self.bert.embed_batch(seqs)
    }

    /// The embedding's length.
    pub fn dim(&self) -> usize {
        self.bert.config.hidden_size
    }

    /// The unit-length embedding of token ids as given (`[CLS]` and `[SEP]`
    /// included by the caller): the static table's distillation reads it.
    pub fn embed_ids(&self, ids: &[u32]) -> Vec<f32> {
        self.bert.embed(ids)
    }

    /// The WordPiece vocabulary.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }
}

/// Tokens per batch in [`Encoder::embed_many`]: large enough that the
/// matrix products' cost dwarfs packing the weights, small enough that a
/// batch's activations (about 4 × 1536 bytes a token) stay in a few MB.
pub const BATCH_TOKENS: usize = 2048;

/// Cuts items of the given lengths, in order, into ranges whose lengths sum
/// to at most `limit` (a single longer item is a range of its own).
pub fn batches(lens: impl Iterator<Item = usize>, limit: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut sum, mut i) = (0, 0, 0);
    for len in lens {
        if i > start && sum + len > limit {
            out.push(start..i);
            (start, sum) = (i, 0);
        }
        sum += len;
        i += 1;
    }
    if i > start {
        out.push(start..i);
    }
    out
}

/// Little-endian f32 values (safetensors data, cached embeddings); a
/// trailing partial value is ignored.
pub fn f32s_from_le(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn batches_hold_at_most_the_limit() {
        let b = super::batches([3, 4, 2, 9, 1, 1].into_iter(), 6);
        assert_eq!(b, [0..1, 1..3, 3..4, 4..6]);
        assert!(super::batches(std::iter::empty(), 6).is_empty());
    }
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
/// Nothing is allocated beyond the file's size: every length is checked
/// against the bytes there are.
pub fn safetensors(bytes: &[u8]) -> Result<Tensors, SafetensorsError> {
    let head_len = bytes
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
        .ok_or(SafetensorsError::NoHeader)?;
    let header = usize::try_from(head_len)
        .ok()
        .and_then(|n| n.checked_add(8))
        .and_then(|end| bytes.get(8..end))
        .ok_or(SafetensorsError::CutOffHeader(head_len))?;
    let data = &bytes[8 + header.len()..];
    let mut infos: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(header)
            .map_err(|e| SafetensorsError::HeaderNotJson(e.to_string()))?;
    infos.remove("__metadata__");
    let mut out = Tensors::new();
    for (name, value) in infos {
        let info: TensorInfo =
            serde_json::from_value(value).map_err(|e| SafetensorsError::BadEntry {
                name: name.clone(),
                why: e.to_string(),
            })?;
        if info.dtype != "F32" {
            continue;
        }
        let [start, end] = info.data_offsets;
        let raw = data
            .get(start..end)
            .ok_or_else(|| SafetensorsError::OutOfRange {
                name: name.clone(),
                start: start as u64,
                end: end as u64,
            })?;
        let want = info.shape.iter().try_fold(4usize, |a, &d| a.checked_mul(d));
        if want != Some(raw.len()) {
            return Err(SafetensorsError::SizeMismatch {
                name,
                bytes: raw.len(),
                shape: bert::shape_text(&info.shape),
            });
        }
        out.insert(name, (info.shape, f32s_from_le(raw)));
    }
    Ok(out)
}

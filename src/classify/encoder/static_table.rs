//! A static embedding table distilled from the sentence encoder, the
//! model2vec way: every vocabulary token goes through the transformer once
//! (`[CLS] token [SEP]`, mean pooling, unit length, as [`Encoder::embed_ids`]
//! gives it), the rows are reduced with PCA, and each row is weighted by
//! SIF, `a / (a + p)`, where `p` is the token's probability: by Zipf's law
//! over its vocabulary rank, or counted on a corpus. A text's embedding is
//! then the unit-length mean of its tokens' rows (same WordPiece tokenizer,
//! `[CLS]`, `[SEP]` and `[UNK]` left out): no transformer at run time.
//!
//! Nothing is downloaded: `stackmine encoder distill` derives the table from
//! the encoder's files, deterministically (PCA in f64 by a cyclic Jacobi
//! eigendecomposition, sums in a fixed order), and writes it next to them
//! ([`default_path`]). The file holds a JSON header, the vocabulary it was
//! made with (so it needs no other file) and the rows as little-endian f32.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::Encoder;
use super::wordpiece::{Vocab, VocabError};

/// The table's file name in the encoder's folder.
pub const TABLE_FILE: &str = "static-table.bin";

/// Dimensions kept by PCA by default (model2vec's default).
pub const DEFAULT_DIMS: usize = 256;

/// SIF's `a` (model2vec's default).
pub const SIF_COEFFICIENT: f64 = 1e-4;

/// Largest table file read.
pub const MAX_TABLE_BYTES: u64 = 1 << 30;

const MAGIC: &[u8; 8] = b"SMSTATIC";
const FORMAT: u32 = 1;

/// Where a table is looked for: `$STACKMINE_STATIC_TABLE`, else
/// [`TABLE_FILE`] in the encoder's folder (`encoder::default_dir`).
pub fn default_path() -> PathBuf {
    if let Some(p) = std::env::var_os("STACKMINE_STATIC_TABLE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    super::default_dir().join(TABLE_FILE)
}

/// How rows are weighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weighting {
    /// Zipf's law over vocabulary rank (model2vec's default).
    Zipf,
    /// Token frequencies counted on a corpus (a study's questions).
    Corpus,
}

impl Weighting {
    pub fn name(self) -> &'static str {
        match self {
            Weighting::Zipf => "zipf",
            Weighting::Corpus => "corpus",
        }
    }
}

/// What a table file says of itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub format: u32,
    /// The encoder it was distilled from, and its `Encoder::fingerprint`.
    pub encoder: String,
    pub source: String,
    pub vocab_size: usize,
    pub dims: usize,
    pub weighting: Weighting,
    pub sif: f64,
    /// Tokens counted for corpus weighting (0 for Zipf).
    pub corpus_tokens: u64,
    /// Share of the variance the kept dimensions explain.
    pub explained_variance: f64,
}

/// Errors reading a table file: each names the file once.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error(
        "no static embedding table at {} (make it from the sentence encoder's files with stackmine encoder distill)",
        path.display()
    )]
    Missing { path: PathBuf },
    #[error("{}: {err}", path.display())]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{}: not a stackmine static table: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("{}: its vocabulary: {reason}", path.display())]
    Vocab { path: PathBuf, reason: VocabError },
}

/// A loaded table.
#[derive(Debug, Clone)]
pub struct StaticTable {
    pub path: PathBuf,
    pub header: Header,
    /// FNV-1a 64 of the whole file, in hex.
    pub fingerprint: String,
    vocab: Vocab,
    rows: Vec<f32>,
}

impl StaticTable {
    /// Reads and checks a table file.
    pub fn load(path: &Path) -> Result<StaticTable, TableError> {
        if !path.is_file() {
            return Err(TableError::Missing {
                path: path.to_path_buf(),
            });
        }
        let bytes = crate::limits::read_bounded(path, MAX_TABLE_BYTES, "a static table").map_err(
            |err| TableError::Io {
                path: path.to_path_buf(),
                err,
            },
        )?;
        Self::from_bytes(&bytes, path)
    }

    /// Parses a table's bytes (`origin` names it in errors).
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<StaticTable, TableError> {
        let bad = |reason: String| TableError::Invalid {
            path: origin.to_path_buf(),
            reason,
        };
        if bytes.get(..8) != Some(MAGIC.as_slice()) {
            return Err(bad("it does not start with SMSTATIC".into()));
        }
        let u32_at = |at: usize| {
            bytes
                .get(at..at + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let head_len = u32_at(8).ok_or_else(|| bad("cut off in its header".into()))?;
        let head = bytes
            .get(12..12 + head_len)
            .ok_or_else(|| bad("cut off in its header".into()))?;
        let header: Header =
            serde_json::from_slice(head).map_err(|e| bad(format!("its header: {e}")))?;
        if header.format != FORMAT {
            return Err(bad(format!(
                "format {}, this build reads {FORMAT}",
                header.format
            )));
        }
        if !(1..=crate::classify::model::MAX_EMBEDDING_DIM).contains(&header.dims) {
            return Err(bad(format!("{} dimensions", header.dims)));
        }
        let at = 12 + head_len;
        let vocab_len = u32_at(at).ok_or_else(|| bad("cut off in its vocabulary".into()))?;
        let vocab_bytes = bytes
            .get(at + 4..at + 4 + vocab_len)
            .ok_or_else(|| bad("cut off in its vocabulary".into()))?;
        let vocab = Vocab::from_bytes(vocab_bytes).map_err(|reason| TableError::Vocab {
            path: origin.to_path_buf(),
            reason,
        })?;
        if vocab.len != header.vocab_size {
            return Err(bad(format!(
                "{} vocabulary tokens, its header says {}",
                vocab.len, header.vocab_size
            )));
        }
        let data = &bytes[at + 4 + vocab_len..];
        let want = header
            .vocab_size
            .checked_mul(header.dims)
            .and_then(|n| n.checked_mul(4));
        if want != Some(data.len()) {
            return Err(bad(format!(
                "{} bytes of rows, {} tokens × {} dimensions need {}",
                data.len(),
                header.vocab_size,
                header.dims,
                header
                    .vocab_size
                    .saturating_mul(header.dims)
                    .saturating_mul(4)
            )));
        }
        let rows = super::f32s_from_le(data);
        if rows.iter().any(|v| !v.is_finite()) {
            return Err(bad("a row holds a value that is not finite".into()));
        }
        Ok(StaticTable {
            path: origin.to_path_buf(),
            header,
            fingerprint: crate::classify::fnv1a_hex(&[bytes]),
            vocab,
            rows,
        })
    }

    /// The vocabulary the table was made with (its tokenizer).
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// The embedding's length.
    pub fn dim(&self) -> usize {
        self.header.dims
    }

    /// The unit-length mean of the rows of a text's first `max_tokens`
    /// tokens (`[CLS]`, `[SEP]` and `[UNK]` count against the limit but are
    /// left out of the mean); zeros when no token is left.
    pub fn embed(&self, text: &str, max_tokens: usize) -> Vec<f32> {
        let ids = self.vocab.encode(text, max_tokens);
        self.embed_ids(&ids)
    }

    /// As [`StaticTable::embed`], from token ids.
    pub fn embed_ids(&self, ids: &[u32]) -> Vec<f32> {
        let d = self.header.dims;
        let mut sum = vec![0f32; d];
        for &id in ids {
            if id == self.vocab.cls || id == self.vocab.sep || id == self.vocab.unk {
                continue;
            }
            let Some(row) = self.rows.get(id as usize * d..(id as usize + 1) * d) else {
                continue;
            };
            for (s, v) in sum.iter_mut().zip(row) {
                *s += v;
            }
        }
        let norm = sum.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for s in &mut sum {
                *s /= norm;
            }
        }
        sum
    }
}

/// A table as distilled, before it is written.
pub struct Distilled {
    pub header: Header,
    pub vocab_bytes: Vec<u8>,
    pub rows: Vec<f32>,
}

impl Distilled {
    /// The file's bytes: magic, header length and JSON, vocabulary length
    /// and bytes, rows.
    pub fn to_bytes(&self) -> Vec<u8> {
        let head = serde_json::to_vec(&self.header).unwrap_or_default();
        let mut out =
            Vec::with_capacity(16 + head.len() + self.vocab_bytes.len() + self.rows.len() * 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(head.len() as u32).to_le_bytes());
        out.extend_from_slice(&head);
        out.extend_from_slice(&(self.vocab_bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.vocab_bytes);
        for v in &self.rows {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }
}

/// Whether a token is one BERT never produces from text (`[unused12]`):
/// model2vec drops them; here their rows are zeros and they take no rank.
fn unused(token: &str) -> bool {
    token
        .strip_prefix("[unused")
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// What distillation needs besides the encoder.
pub struct DistillParams {
    pub dims: usize,
    pub weighting: Weighting,
    /// Per token id, how often it occurs in the corpus (corpus weighting).
    pub counts: Option<Vec<u64>>,
}

/// Distills a table from `encoder` (its vocabulary read from `vocab_bytes`,
/// the bytes of its `vocab.txt`). `progress(k)` is called as k more tokens
/// are embedded. Deterministic for the same encoder and kernels, whatever
/// the number of threads.
pub fn distill(
    encoder: &Encoder,
    vocab_bytes: &[u8],
    p: &DistillParams,
    progress: &(dyn Fn(u64) + Sync),
) -> Distilled {
    let text = String::from_utf8_lossy(vocab_bytes);
    let tokens: Vec<&str> = text.lines().collect();
    let (cls, sep) = (encoder.vocab().cls, encoder.vocab().sep);
    let kept: Vec<usize> = (0..tokens.len()).filter(|&i| !unused(tokens[i])).collect();
    let d = encoder.dim();
    // `[CLS] token [SEP]` for each kept token, packed into batches of the
    // encoder's batch size (each embedding is bit for bit the one-at-a-time
    // one; one at a time, repacking the weights for every matrix product
    // cost most of the time).
    let seqs: Vec<[u32; 3]> = kept.iter().map(|&i| [cls, i as u32, sep]).collect();
    let embedded: Vec<Vec<f32>> = seqs
        .par_chunks(super::BATCH_TOKENS / 3)
        .flat_map_iter(|chunk| {
            let ids: Vec<&[u32]> = chunk.iter().map(|s| &s[..]).collect();
            let e = encoder.embed_ids_batch(&ids);
            progress(chunk.len() as u64);
            e
        })
        .collect();
    let mut x = Vec::with_capacity(kept.len() * d);
    for e in &embedded {
        x.extend(e.iter().map(|&v| f64::from(v)));
    }
    drop(embedded);
    let dims = p.dims.min(d);
    let pca = Pca::fit(&x, kept.len(), d, dims);
    let projected = pca.transform(&x, kept.len());
    let weights = match (p.weighting, &p.counts) {
        (Weighting::Corpus, Some(counts)) => {
            let kept_counts: Vec<u64> = kept
                .iter()
                .map(|&i| counts.get(i).copied().unwrap_or(0))
                .collect();
            corpus_sif_weights(&kept_counts, SIF_COEFFICIENT)
        }
        _ => zipf_sif_weights(kept.len(), SIF_COEFFICIENT),
    };
    let mut rows = vec![0f32; tokens.len() * dims];
    for (r, &i) in kept.iter().enumerate() {
        for j in 0..dims {
            rows[i * dims + j] = (projected[r * dims + j] * weights[r]) as f32;
        }
    }
    let corpus_tokens = match p.weighting {
        Weighting::Corpus => p.counts.as_ref().map_or(0, |c| c.iter().sum()),
        Weighting::Zipf => 0,
    };
    Distilled {
        header: Header {
            format: FORMAT,
            encoder: super::DEFAULT_ENCODER.to_string(),
            source: encoder.fingerprint.clone(),
            vocab_size: tokens.len(),
            dims,
            weighting: p.weighting,
            sif: SIF_COEFFICIENT,
            corpus_tokens,
            explained_variance: (pca.explained_ratio * 1e6).round() / 1e6,
        },
        vocab_bytes: vocab_bytes.to_vec(),
        rows,
    }
}

/// SIF weights `a / (a + p)` with `p` by Zipf's law over rank: `p_r ∝
/// 1 / (r + 2)` for rank `r = 0, 1, …` (model2vec's `_post_process_embeddings`).
pub fn zipf_sif_weights(n: usize, a: f64) -> Vec<f64> {
    let inv: Vec<f64> = (0..n).map(|r| 1.0 / (r as f64 + 2.0)).collect();
    let total: f64 = inv.iter().sum();
    inv.iter().map(|v| a / (a + v / total)).collect()
}

/// SIF weights `a / (a + p)` with `p` each token's share of the counted
/// tokens (a token never seen has weight 1).
pub fn corpus_sif_weights(counts: &[u64], a: f64) -> Vec<f64> {
    let total = counts.iter().sum::<u64>().max(1) as f64;
    counts.iter().map(|&c| a / (a + c as f64 / total)).collect()
}

/// A principal component analysis: the mean, and the top components as rows
/// (k × d), signed as scikit-learn signs them (each component's entry of
/// largest magnitude is positive).
pub struct Pca {
    pub d: usize,
    pub mean: Vec<f64>,
    pub components: Vec<f64>,
    /// Variances along the components (covariance with n − 1).
    pub variances: Vec<f64>,
    pub explained_ratio: f64,
}

/// Rows per block of the covariance sum: blocks are summed in order, so the
/// result does not depend on the number of threads.
const BLOCK: usize = 512;

impl Pca {
    /// Fits `k` components to `n` rows of `d` values (row-major `x`).
    pub fn fit(x: &[f64], n: usize, d: usize, k: usize) -> Pca {
        let mut mean = vec![0f64; d];
        for row in x.chunks_exact(d) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= n.max(1) as f64;
        }
        let partial: Vec<Vec<f64>> = x
            .par_chunks(BLOCK * d)
            .map(|block| {
                let mut c = vec![0f64; d * d];
                let mut centered = vec![0f64; d];
                for row in block.chunks_exact(d) {
                    for (c, (v, m)) in centered.iter_mut().zip(row.iter().zip(&mean)) {
                        *c = v - m;
                    }
                    for i in 0..d {
                        let ci = centered[i];
                        let out = &mut c[i * d..i * d + d];
                        for j in i..d {
                            out[j] += ci * centered[j];
                        }
                    }
                }
                c
            })
            .collect();
        let mut cov = vec![0f64; d * d];
        for p in &partial {
            for (c, v) in cov.iter_mut().zip(p) {
                *c += v;
            }
        }
        let denom = (n.max(2) - 1) as f64;
        for i in 0..d {
            for j in i..d {
                let v = cov[i * d + j] / denom;
                cov[i * d + j] = v;
                cov[j * d + i] = v;
            }
        }
        let (values, vectors) = symmetric_eigen(&mut cov, d);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
        let k = k.min(d);
        let mut components = vec![0f64; k * d];
        let mut variances = Vec::with_capacity(k);
        for (r, &c) in order[..k].iter().enumerate() {
            let col: Vec<f64> = (0..d).map(|i| vectors[i * d + c]).collect();
            let big = col
                .iter()
                .enumerate()
                .fold(0, |b, (i, v)| if v.abs() > col[b].abs() { i } else { b });
            let sign = if col[big] < 0.0 { -1.0 } else { 1.0 };
            for i in 0..d {
                components[r * d + i] = sign * col[i];
            }
            variances.push(values[c].max(0.0));
        }
        let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
        let explained_ratio = if total > 0.0 {
            variances.iter().sum::<f64>() / total
        } else {
            0.0
        };
        Pca {
            d,
            mean,
            components,
            variances,
            explained_ratio,
        }
    }

    /// `(x − mean) · componentsᵀ`, n × k.
    pub fn transform(&self, x: &[f64], n: usize) -> Vec<f64> {
        let (d, k) = (self.d, self.components.len() / self.d.max(1));
        let mut out = vec![0f64; n * k];
        out.par_chunks_mut(k.max(1))
            .zip(x.par_chunks(d))
            .for_each(|(o, row)| {
                let centered: Vec<f64> = row.iter().zip(&self.mean).map(|(v, m)| v - m).collect();
                for (r, o) in o.iter_mut().enumerate() {
                    let comp = &self.components[r * d..r * d + d];
                    *o = comp.iter().zip(&centered).map(|(a, b)| a * b).sum();
                }
            });
        out
    }
}

/// Eigenvalues and eigenvectors (as columns of a row-major n × n matrix) of
/// a symmetric matrix, by cyclic Jacobi rotations until the off-diagonal
/// part is negligible. `a` is overwritten.
pub fn symmetric_eigen(a: &mut [f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0f64; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let scale: f64 = a
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j] * a[i * n + j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() <= 1e-300 {
                    continue;
                }
                let (app, aqq) = (a[p * n + p], a[q * n + q]);
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let values = (0..n).map(|i| a[i * n + i]).collect();
    (values, v)
}

/// Counts each token id over texts, as the encoder reads them (all tokens:
/// the corpus weighting's counts).
pub fn count_tokens<'a>(vocab: &Vocab, texts: impl Iterator<Item = &'a str>) -> Vec<u64> {
    let mut counts = vec![0u64; vocab.len];
    for t in texts {
        for id in vocab.encode(t, usize::MAX) {
            if let Some(c) = counts.get_mut(id as usize) {
                *c += 1;
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unused_tokens() {
        assert!(unused("[unused0]") && unused("[unused993]"));
        assert!(!unused("[UNK]") && !unused("[unused]") && !unused("unused1"));
    }

    #[test]
    fn jacobi_diagonalizes() {
        let mut a = vec![4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 1.0];
        let orig = a.clone();
        let (vals, vecs) = symmetric_eigen(&mut a, 3);
        for c in 0..3 {
            for i in 0..3 {
                let av: f64 = (0..3).map(|k| orig[i * 3 + k] * vecs[k * 3 + c]).sum();
                assert!((av - vals[c] * vecs[i * 3 + c]).abs() < 1e-12);
            }
        }
    }
}

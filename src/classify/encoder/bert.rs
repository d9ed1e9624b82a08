//! A BERT encoder's forward pass on the CPU (the architecture of
//! all-MiniLM-L6-v2: post-LayerNorm, GELU, absolute positions), mean pooling
//! over the tokens and L2 normalization, as sentence-transformers computes a
//! sentence embedding. Matrix products use `matrixmultiply`'s sgemm; texts
//! are packed into batches ([`Bert::embed_batch`]) and one batch runs on one
//! thread, so callers parallelize over batches.

use std::collections::HashMap;

use super::int8::{QDense, QScratch};

/// The sizes and settings read from `config.json`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Config {
    pub hidden_size: usize,
    pub num_attention_heads: usize,
    pub num_hidden_layers: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f32,
    /// The activation of the feed-forward layers; only `gelu` (exact erf)
    /// is implemented. Hugging Face's default when absent.
    #[serde(default = "default_act")]
    pub hidden_act: String,
    /// Only `absolute` positions are implemented (the default).
    #[serde(default = "default_positions")]
    pub position_embedding_type: String,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
}

fn default_eps() -> f32 {
    1e-12
}

fn default_act() -> String {
    "gelu".into()
}

fn default_positions() -> String {
    "absolute".into()
}

fn default_type_vocab() -> usize {
    2
}

/// What is wrong with a `config.json`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("not a BERT config: {0}")]
    Json(String),
    #[error("hidden_act {0:?} is not implemented (only \"gelu\" is)")]
    Activation(String),
    #[error("position_embedding_type {0:?} is not implemented (only \"absolute\" is)")]
    Positions(String),
    #[error("{name} is {value}, outside {min}..={max}")]
    Size {
        name: &'static str,
        value: usize,
        min: usize,
        max: usize,
    },
    #[error("hidden_size {hidden} is not a multiple of num_attention_heads {heads}")]
    Heads { hidden: usize, heads: usize },
    #[error("layer_norm_eps is {0}, not a finite number in (0, 1)")]
    Eps(f32),
}

impl Config {
    /// Parses and checks `config.json`: an implemented activation and
    /// position type, and sizes in ranges that bound what the forward pass
    /// allocates.
    pub fn from_json(bytes: &[u8]) -> Result<Config, ConfigError> {
        let c: Config =
            serde_json::from_slice(bytes).map_err(|e| ConfigError::Json(e.to_string()))?;
        c.check()?;
        Ok(c)
    }

    /// Checks the settings (see [`Config::from_json`]).
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.hidden_act != "gelu" {
            return Err(ConfigError::Activation(self.hidden_act.clone()));
        }
        if self.position_embedding_type != "absolute" {
            return Err(ConfigError::Positions(self.position_embedding_type.clone()));
        }
        for (name, value, min, max) in [
            ("hidden_size", self.hidden_size, 1, 8192),
            ("num_attention_heads", self.num_attention_heads, 1, 256),
            ("num_hidden_layers", self.num_hidden_layers, 1, 128),
            ("intermediate_size", self.intermediate_size, 1, 65_536),
            (
                "max_position_embeddings",
                self.max_position_embeddings,
                2,
                8192,
            ),
            ("vocab_size", self.vocab_size, 4, 2_000_000),
            ("type_vocab_size", self.type_vocab_size, 1, 1024),
        ] {
            if !(min..=max).contains(&value) {
                return Err(ConfigError::Size {
                    name,
                    value,
                    min,
                    max,
                });
            }
        }
        if self.hidden_size % self.num_attention_heads != 0 {
            return Err(ConfigError::Heads {
                hidden: self.hidden_size,
                heads: self.num_attention_heads,
            });
        }
        let eps = self.layer_norm_eps;
        if !(eps.is_finite() && eps > 0.0 && eps < 1.0) {
            return Err(ConfigError::Eps(eps));
        }
        Ok(())
    }
}

/// What is wrong with the weights for a config.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightsError {
    #[error("{0}")]
    Config(ConfigError),
    #[error("tensor {0} is missing")]
    Missing(String),
    #[error("tensor {name} has shape {found}, expected {expected}")]
    Shape {
        name: String,
        found: String,
        expected: String,
    },
}

/// A tensor shape for messages: `384 × 1536`.
pub fn shape_text(shape: &[usize]) -> String {
    if shape.is_empty() {
        return "scalar".into();
    }
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(" × ")
}

/// A dense layer: `weight` is `[out, in]` row-major, as stored.
#[derive(Debug, Clone)]
pub struct Dense {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub inputs: usize,
    pub outputs: usize,
}

#[derive(Debug, Clone)]
pub struct Norm {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
}

#[derive(Debug, Clone)]
pub struct Layer {
    pub query: Dense,
    pub key: Dense,
    pub value: Dense,
    pub attention_out: Dense,
    pub attention_norm: Norm,
    pub intermediate: Dense,
    pub output: Dense,
    pub output_norm: Norm,
}

/// A layer's dense weights quantized to int8 ([`Bert::quantize`]).
#[derive(Debug, Clone)]
pub struct QLayer {
    /// Query, key and value stacked: one product of `3 × hidden` outputs,
    /// each row `[q | k | v]` (per output channel, so each keeps its own
    /// quantization).
    pub qkv: QDense,
    pub attention_out: QDense,
    pub intermediate: QDense,
    pub output: QDense,
}

/// The weights of a BERT model.
#[derive(Debug, Clone)]
pub struct Bert {
    pub config: Config,
    /// With [`Bert::quantize`]: the dense layers run in int8.
    pub int8: Option<Vec<QLayer>>,
    pub word: Vec<f32>,
    pub position: Vec<f32>,
    pub token_type: Vec<f32>,
    pub embedding_norm: Norm,
    pub layers: Vec<Layer>,
}

/// Tensors by name: shape and values.
pub type Tensors = HashMap<String, (Vec<usize>, Vec<f32>)>;

impl Bert {
    /// Assembles the model from its tensors (Hugging Face `BertModel` names),
    /// checking every shape; the error names the tensor at fault. `config`
    /// is checked first ([`Config::check`]).
    pub fn from_tensors(config: Config, mut t: Tensors) -> Result<Bert, WeightsError> {
        config.check().map_err(WeightsError::Config)?;
        let h = config.hidden_size;
        let mut take = |name: &str, shape: &[usize]| -> Result<Vec<f32>, WeightsError> {
            let (s, v) = t
                .remove(name)
                .or_else(|| t.remove(&format!("bert.{name}")))
                .ok_or_else(|| WeightsError::Missing(name.to_string()))?;
            if s != shape {
                return Err(WeightsError::Shape {
                    name: name.to_string(),
                    found: shape_text(&s),
                    expected: shape_text(shape),
                });
            }
            Ok(v)
        };
        let word = take("embeddings.word_embeddings.weight", &[config.vocab_size, h])?;
        let position = take(
            "embeddings.position_embeddings.weight",
            &[config.max_position_embeddings, h],
        )?;
        let token_type = take(
            "embeddings.token_type_embeddings.weight",
            &[config.type_vocab_size, h],
        )?;
        let embedding_norm = Norm {
            gamma: take("embeddings.LayerNorm.weight", &[h])?,
            beta: take("embeddings.LayerNorm.bias", &[h])?,
        };
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{l}.");
            let mut dense =
                |name: &str, outputs: usize, inputs: usize| -> Result<Dense, WeightsError> {
                    Ok(Dense {
                        weight: take(&format!("{p}{name}.weight"), &[outputs, inputs])?,
                        bias: take(&format!("{p}{name}.bias"), &[outputs])?,
                        inputs,
                        outputs,
                    })
                };
            let i = config.intermediate_size;
            let query = dense("attention.self.query", h, h)?;
            let key = dense("attention.self.key", h, h)?;
            let value = dense("attention.self.value", h, h)?;
            let attention_out = dense("attention.output.dense", h, h)?;
            let intermediate = dense("intermediate.dense", i, h)?;
            let output = dense("output.dense", h, i)?;
            let mut norm = |name: &str| -> Result<Norm, WeightsError> {
                Ok(Norm {
                    gamma: take(&format!("{p}{name}.LayerNorm.weight"), &[h])?,
                    beta: take(&format!("{p}{name}.LayerNorm.bias"), &[h])?,
                })
            };
            layers.push(Layer {
                query,
                key,
                value,
                attention_out,
                attention_norm: norm("attention.output")?,
                intermediate,
                output,
                output_norm: norm("output")?,
            });
        }
        Ok(Bert {
            config,
            int8: None,
            word,
            position,
            token_type,
            embedding_norm,
            layers,
        })
    }

    /// From now on, the dense layers (not attention's products) run in int8
    /// ([`super::int8`]): weights quantized per output channel, activations
    /// per row at run time.
    pub fn quantize(&mut self) {
        let q = |d: &Dense| QDense::new(&d.weight, &d.bias, d.inputs, d.outputs);
        self.int8 = Some(
            self.layers
                .iter()
                .map(|l| QLayer {
                    qkv: q(&Dense {
                        weight: [&l.query.weight[..], &l.key.weight, &l.value.weight].concat(),
                        bias: [&l.query.bias[..], &l.key.bias, &l.value.bias].concat(),
                        inputs: l.query.inputs,
                        outputs: l.query.outputs + l.key.outputs + l.value.outputs,
                    }),
                    attention_out: q(&l.attention_out),
                    intermediate: q(&l.intermediate),
                    output: q(&l.output),
                })
                .collect(),
        );
    }

    /// The L2-normalized mean of the last layer's token states. `ids` must be
    /// non-empty, within the vocabulary and no longer than the positions.
    pub fn embed(&self, ids: &[u32]) -> Vec<f32> {
        self.embed_batch(&[ids]).pop().unwrap_or_default()
    }

    /// [`Bert::embed`] of several texts in one pass: their tokens are packed
    /// one after the other (no padding) into one `[tokens, hidden]` matrix,
    /// so the dense layers run as a few large matrix products, while
    /// attention runs per text over its own tokens. Every row of a matrix
    /// product is computed the same way whatever else is in the batch, so
    /// each embedding is bit for bit the one [`Bert::embed`] gives.
    pub fn embed_batch(&self, seqs: &[&[u32]]) -> Vec<Vec<f32>> {
        let h = self.config.hidden_size;
        let max = self.config.max_position_embeddings;
        let spans: Vec<(usize, usize)> = seqs
            .iter()
            .scan(0, |start, s| {
                let n = s.len().min(max);
                let span = (*start, n);
                *start += n;
                Some(span)
            })
            .collect();
        let total: usize = spans.iter().map(|s| s.1).sum();
        let mut x = vec![0f32; total * h];
        for (ids, &(start, n)) in seqs.iter().zip(&spans) {
            for (t, &id) in ids[..n].iter().enumerate() {
                let id = (id as usize).min(self.config.vocab_size - 1);
                let row = &mut x[(start + t) * h..(start + t + 1) * h];
                let (w, p) = (&self.word[id * h..], &self.position[t * h..]);
                for j in 0..h {
                    row[j] = w[j] + p[j] + self.token_type[j];
                }
            }
        }
        layer_norm(&mut x, &self.embedding_norm, h, self.config.layer_norm_eps);
        let longest = spans.iter().map(|s| s.1).max().unwrap_or(0);
        let mut s = Scratch::new(total, longest, h, self.config.intermediate_size);
        let mut qs = QScratch::default();
        for (i, layer) in self.layers.iter().enumerate() {
            let q = self.int8.as_ref().and_then(|q| q.get(i));
            self.layer(layer, q, &mut x, &mut s, &mut qs, total, &spans);
        }
        spans
            .iter()
            .map(|&(start, n)| {
                let mut pooled = vec![0f32; h];
                for t in start..start + n {
                    for (p, v) in pooled.iter_mut().zip(&x[t * h..(t + 1) * h]) {
                        *p += v;
                    }
                }
                // The mean's direction is the sum's: normalizing the sum is enough.
                let norm = pooled.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                pooled.iter().map(|v| v / norm).collect()
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn layer(
        &self,
        l: &Layer,
        q: Option<&QLayer>,
        x: &mut [f32],
        s: &mut Scratch,
        qs: &mut QScratch,
        rows: usize,
        spans: &[(usize, usize)],
    ) {
        let h = self.config.hidden_size;
        let heads = self.config.num_attention_heads;
        let d = h / heads;
        // Where query, key and value sit in `s.qkv`: int8 writes rows of
        // [q | k | v] (one product), fp32 three [rows, h] blocks.
        let (qo, ko, vo, st) = match q {
            Some(q) => {
                q.qkv.forward(x, &mut s.qkv, rows, false, qs);
                (0, h, 2 * h, 3 * h)
            }
            None => {
                let (qb, rest) = s.qkv.split_at_mut(rows * h);
                let (kb, vb) = rest.split_at_mut(rows * h);
                dense(&l.query, x, qb, rows);
                dense(&l.key, x, kb, rows);
                dense(&l.value, x, vb, rows);
                (0, rows * h, 2 * rows * h, h)
            }
        };
        // A dense layer, then GELU if asked: int8 applies it (on a
        // vectorized exp) in the product's own pass; fp32 keeps libm's exp,
        // bit for bit as before.
        let mut lin =
            |fp: &Dense, q8: Option<&QDense>, x: &[f32], out: &mut [f32], act: bool| match q8 {
                Some(q8) => q8.forward(x, out, rows, act, qs),
                None => {
                    dense(fp, x, out, rows);
                    if act {
                        for v in out[..rows * fp.outputs].iter_mut() {
                            *v = gelu(*v);
                        }
                    }
                }
            };
        let scale = 1.0 / (d as f32).sqrt();
        for &(start, n) in spans.iter().filter(|s| s.1 > 0) {
            for head in 0..heads {
                let off = start * st + head * d;
                let last = off + (n - 1) * st + d;
                assert!(last + vo <= s.qkv.len() && qo <= ko && ko <= vo);
                assert!(start * h + head * d + (n - 1) * h + d <= s.context.len());
                assert!(n * n <= s.scores.len());
                // scores = q_h · k_hᵀ / √d, [n, n]
                // SAFETY: the asserts bound the views: rows start..start+n
                // (row stride st) of q, k and v at their offsets in `qkv`,
                // columns head*d..head*d+d; the same rows of `context`
                // ([rows, h]); the first n*n values of `scores`.
                unsafe {
                    matrixmultiply::sgemm(
                        n,
                        d,
                        n,
                        scale,
                        s.qkv.as_ptr().add(qo + off),
                        st as isize,
                        1,
                        s.qkv.as_ptr().add(ko + off),
                        1,
                        st as isize,
                        0.0,
                        s.scores.as_mut_ptr(),
                        n as isize,
                        1,
                    );
                }
                for row in s.scores[..n * n].chunks_mut(n) {
                    match q {
                        Some(_) => super::fastmath::softmax(row),
                        None => softmax(row),
                    }
                }
                // context_h = scores · v_h, written into columns of head h.
                // SAFETY: as above.
                unsafe {
                    matrixmultiply::sgemm(
                        n,
                        n,
                        d,
                        1.0,
                        s.scores.as_ptr(),
                        n as isize,
                        1,
                        s.qkv.as_ptr().add(vo + off),
                        st as isize,
                        1,
                        0.0,
                        s.context.as_mut_ptr().add(start * h + head * d),
                        h as isize,
                        1,
                    );
                }
            }
        }
        lin(
            &l.attention_out,
            q.map(|q| &q.attention_out),
            &s.context,
            &mut s.q,
            false,
        );
        add_norm(x, &s.q, &l.attention_norm, h, self.config.layer_norm_eps);
        lin(
            &l.intermediate,
            q.map(|q| &q.intermediate),
            x,
            &mut s.inter,
            true,
        );
        lin(&l.output, q.map(|q| &q.output), &s.inter, &mut s.q, false);
        add_norm(x, &s.q, &l.output_norm, h, self.config.layer_norm_eps);
    }
}

/// A row of attention scores to probabilities: exp(v - max) / Σ.
fn softmax(row: &mut [f32]) {
    let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in row.iter_mut() {
        *v /= sum;
    }
}

/// Buffers reused across layers.
struct Scratch {
    /// Query, key and value (see [`Bert::layer`]).
    qkv: Vec<f32>,
    /// A dense layer's output before its residual.
    q: Vec<f32>,
    context: Vec<f32>,
    scores: Vec<f32>,
    inter: Vec<f32>,
}

impl Scratch {
    fn new(n: usize, longest: usize, h: usize, i: usize) -> Scratch {
        Scratch {
            qkv: vec![0.0; 3 * n * h],
            q: vec![0.0; n * h],
            context: vec![0.0; n * h],
            scores: vec![0.0; longest * longest],
            inter: vec![0.0; n * i],
        }
    }
}

/// out[n, outputs] = x[n, inputs] · Wᵀ + b.
fn dense(layer: &Dense, x: &[f32], out: &mut [f32], n: usize) {
    let (i, o) = (layer.inputs, layer.outputs);
    assert!(x.len() >= n * i && out.len() >= n * o && layer.weight.len() == i * o);
    for row in out[..n * o].chunks_mut(o) {
        row.copy_from_slice(&layer.bias);
    }
    // SAFETY: the assert above bounds every view: x is [n, i], W is [o, i]
    // read as Wᵀ [i, o] (row stride 1, column stride i), out is [n, o].
    unsafe {
        matrixmultiply::sgemm(
            n,
            i,
            o,
            1.0,
            x.as_ptr(),
            i as isize,
            1,
            layer.weight.as_ptr(),
            1,
            i as isize,
            1.0,
            out.as_mut_ptr(),
            o as isize,
            1,
        );
    }
}

fn layer_norm(x: &mut [f32], norm: &Norm, h: usize, eps: f32) {
    for row in x.chunks_mut(h) {
        let mean = row.iter().sum::<f32>() / h as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for (j, v) in row.iter_mut().enumerate() {
            *v = (*v - mean) * inv * norm.gamma[j] + norm.beta[j];
        }
    }
}

/// x = LayerNorm(x + y).
fn add_norm(x: &mut [f32], y: &[f32], norm: &Norm, h: usize, eps: f32) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
    layer_norm(x, norm, h, eps);
}

/// GELU with the exact erf (BERT's "gelu"): x/2 · (1 + erf(x/√2)).
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
fn erf(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * (-x * x).exp();
    if x < 0.0 { -y } else { y }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_reference() {
        // scipy.special.erf at these points.
        for (x, want) in [
            (0.0f32, 0.0f32),
            (0.5, 0.520_499_9),
            (-1.0, -0.842_700_8),
            (2.5, 0.999_593),
        ] {
            assert!((erf(x) - want).abs() < 3e-7, "erf({x}) = {}", erf(x));
        }
    }
}

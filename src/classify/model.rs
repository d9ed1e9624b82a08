//! A trained model as plain data on disk: JSON with the kind, the study's
//! categories, the features (vocabulary and idf per field) and weights, and
//! what it was trained on (label set, post count, a hash of the training
//! labels). No timestamps, so the same inputs give the same bytes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::eval::Example;
use super::features::{Doc, Features};
use super::keyword::Keyword;
use super::linear::Linear;
use super::tokenize::StopWords;

/// The model file format version.
pub const FORMAT: u32 = 1;

/// The model shipped with stackmine (models/default.json), trained on the 820
/// labeled questions in tests/data; rebuilt by `scripts/build-default-model.sh`.
pub const DEFAULT_MODEL_JSON: &str = include_str!("../../models/default.json");

/// The shipped hybrid model (models/default-hybrid.json): the same labels,
/// TF-IDF plus all-MiniLM-L6-v2 embeddings. The default whenever the
/// encoder's files are present (see `classify::encoder`).
pub const DEFAULT_HYBRID_JSON: &str = include_str!("../../models/default-hybrid.json");

/// Errors loading or saving a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a stackmine model: {source}", path.display())]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{}: model format {found}, this build reads {FORMAT}", path.display())]
    Format { path: PathBuf, found: u32 },
}

/// What a model was trained on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Training {
    pub label_set: String,
    pub examples: u64,
    /// FNV-1a 64 of the sorted `site/id=primary;secondary…` lines, in hex.
    pub labels_hash: String,
}

/// The classifier inside a model.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Classifier {
    Linear {
        features: Features,
        linear: Linear,
    },
    Keyword {
        keyword: Keyword,
    },
    /// TF-IDF features followed by a sentence embedding, one linear model.
    Hybrid {
        features: Features,
        encoder: EncoderSpec,
        linear: Linear,
    },
}

/// The sentence encoder a hybrid model reads, and how.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EncoderSpec {
    /// Its name (`all-MiniLM-L6-v2`), for messages.
    pub name: String,
    /// `Encoder::fingerprint` of the weights the model was trained with.
    pub fingerprint: String,
    /// Tokens read per post, `[CLS]` and `[SEP]` included.
    pub max_tokens: usize,
    /// The embedding block's weight beside the TF-IDF blocks.
    pub weight: f32,
    pub dim: usize,
}

/// How well the model's kind did in cross-validation on its training labels,
/// kept with the model so a report can correct counts for its errors.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Validation {
    pub protocol: String,
    pub items: u64,
    pub accuracy: f64,
    pub lenient_accuracy: f64,
    pub macro_f1: f64,
    /// Rows: labeled kind; columns: predicted; in `Model::categories` order.
    pub confusion: Vec<Vec<u64>>,
}

/// A trained model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    pub format: u32,
    pub name: String,
    pub created_by: String,
    pub categories: Vec<String>,
    pub training: Training,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
    pub classifier: Classifier,
}

/// A prediction: the category's index in `Model::categories` and a confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    pub category: usize,
    pub confidence: f64,
}

/// FNV-1a 64 of the training labels (a stable fingerprint, not a security hash).
pub fn labels_hash(examples: &[Example]) -> String {
    let mut lines: Vec<String> = examples
        .iter()
        .map(|e| {
            format!(
                "{}/{}={};{}",
                e.site,
                e.post_id,
                e.primary,
                e.kinds.join(";")
            )
        })
        .collect();
    lines.sort();
    super::fnv1a_hex(&[lines.join("\n").as_bytes()])
}

impl Model {
    /// Reads a model file.
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Model::parse(&text, path)
    }

    /// The model shipped with stackmine.
    pub fn default_model() -> Result<Model, ModelError> {
        Model::parse(DEFAULT_MODEL_JSON, Path::new("<built-in default model>"))
    }

    fn parse(text: &str, path: &Path) -> Result<Model, ModelError> {
        let mut m: Model = serde_json::from_str(text).map_err(|source| ModelError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        if m.format != FORMAT {
            return Err(ModelError::Format {
                path: path.to_path_buf(),
                found: m.format,
            });
        }
        if let Classifier::Linear { features, .. } | Classifier::Hybrid { features, .. } =
            &mut m.classifier
        {
            features.reindex();
        }
        Ok(m)
    }

    /// Writes the model as JSON (a trailing newline, no timestamps).
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let io = |source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut text = serde_json::to_string(self).map_err(|source| ModelError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        text.push('\n');
        std::fs::write(path, text).map_err(io)
    }

    /// The shipped hybrid model.
    pub fn default_hybrid() -> Result<Model, ModelError> {
        Model::parse(DEFAULT_HYBRID_JSON, Path::new("<built-in hybrid model>"))
    }

    /// The encoder the model reads, if it reads one: its posts need their
    /// `Doc::embedding` (of `max_tokens` tokens) before [`Model::predict`].
    pub fn encoder(&self) -> Option<&EncoderSpec> {
        match &self.classifier {
            Classifier::Hybrid { encoder, .. } => Some(encoder),
            _ => None,
        }
    }

    /// Classifies one post. A hybrid model reads `doc.embedding`, which the
    /// caller fills (`classify::attach_embeddings`); without it only the
    /// TF-IDF part speaks.
    pub fn predict(&self, doc: &Doc, stop: &StopWords) -> Prediction {
        match &self.classifier {
            Classifier::Linear { features, linear } => {
                self.linear_prediction(linear, &features.transform(doc))
            }
            Classifier::Hybrid {
                features,
                encoder,
                linear,
            } => {
                debug_assert_eq!(doc.embedding.len(), encoder.dim);
                let x = features.transform_with_embedding(doc, encoder.weight);
                self.linear_prediction(linear, &x)
            }
            Classifier::Keyword { keyword } => {
                let (best, confidence) = keyword.predict(doc, stop);
                Prediction {
                    category: self.index_of(&keyword.classes[best]),
                    confidence,
                }
            }
        }
    }

    /// Classifies one post with several models at once (cross-prediction's
    /// fold models): linear and hybrid models that read posts the same way
    /// share the work of finding its words. The same predictions as
    /// [`Model::predict`] of each.
    pub fn predict_each(models: &[&Model], doc: &Doc, stop: &StopWords) -> Vec<Prediction> {
        let parts: Option<Vec<(&Features, &Linear, Option<f32>)>> = models
            .iter()
            .map(|m| match &m.classifier {
                Classifier::Linear { features, linear } => Some((features, linear, None)),
                Classifier::Hybrid {
                    features,
                    encoder,
                    linear,
                } => Some((features, linear, Some(encoder.weight))),
                Classifier::Keyword { .. } => None,
            })
            .collect();
        let shared = parts.as_ref().and_then(|p| {
            let feats: Vec<&Features> = p.iter().map(|x| x.0).collect();
            Features::transform_each(&feats, doc)
        });
        match (parts, shared) {
            (Some(parts), Some(xs)) => models
                .iter()
                .zip(parts)
                .zip(xs)
                .map(|((m, (features, linear, weight)), mut x)| {
                    if let Some(w) = weight {
                        let offset = features.dim() as u32;
                        x.extend(
                            doc.embedding
                                .iter()
                                .enumerate()
                                .map(|(j, &v)| (offset + j as u32, w * v)),
                        );
                    }
                    m.linear_prediction(linear, &x)
                })
                .collect(),
            _ => models.iter().map(|m| m.predict(doc, stop)).collect(),
        }
    }

    fn linear_prediction(&self, linear: &Linear, x: &super::features::Sparse) -> Prediction {
        let (best, probs) = linear.predict(x);
        Prediction {
            category: self.index_of(&linear.classes[best]),
            confidence: probs[best],
        }
    }

    fn index_of(&self, class: &str) -> usize {
        self.categories.iter().position(|c| c == class).unwrap_or(0)
    }

    /// The kind of classifier, as `train --kind` names it.
    pub fn kind(&self) -> &'static str {
        match self.classifier {
            Classifier::Linear { .. } => "linear",
            Classifier::Keyword { .. } => "keyword",
            Classifier::Hybrid { .. } => "hybrid",
        }
    }
}

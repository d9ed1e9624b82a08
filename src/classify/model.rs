//! A trained model as plain data on disk: JSON with the kind, the study's
//! categories, the features (vocabulary and idf per field) and weights, and
//! what it was trained on (label set, post count, a hash of the training
//! labels). No timestamps, so the same inputs give the same bytes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::eval::Example;
use super::features::{Doc, Features};
use super::linear::Linear;

pub use super::kinds::Classifier;

/// The model file format version.
pub const FORMAT: u32 = 1;

/// The model shipped with stackmine (models/default.json), trained on the 820
/// labeled questions in tests/data; rebuilt by `scripts/build-default-model.sh`.
pub const DEFAULT_MODEL_JSON: &str = include_str!("../../models/default.json");

/// The shipped hybrid model (models/default-hybrid.json): the same labels,
/// TF-IDF plus all-MiniLM-L6-v2 embeddings. The default whenever the
/// encoder's files are present (see `classify::encoder`).
pub const DEFAULT_HYBRID_JSON: &str = include_str!("../../models/default-hybrid.json");

/// The shipped static model (models/default-static.json): the same labels,
/// TF-IDF plus embeddings from the static table distilled from
/// all-MiniLM-L6-v2 (see `classify::encoder::static_table`).
pub const DEFAULT_STATIC_JSON: &str = include_str!("../../models/default-static.json");

/// Errors loading or saving a model. Each message says which file and what
/// is wrong, once (the inner error is part of the message, not a source).
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {err}", path.display())]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{}: not a stackmine model: {err}", path.display())]
    Parse {
        path: PathBuf,
        err: serde_json::Error,
    },
    #[error("{}: model format {found}, this build reads {FORMAT}", path.display())]
    Format { path: PathBuf, found: u64 },
    /// The file parses but does not hold a usable model.
    #[error("{}: not a usable model: {reason}", path.display())]
    Invalid { path: PathBuf, reason: Inconsistent },
    /// The model's categories, as a set, are not the study's.
    #[error(
        "model {model} has the categories {}, the study has {}: a model only classifies a study with the same categories (train one on this study's labels with stackmine train)",
        found.join(", "),
        study.join(", ")
    )]
    Categories {
        model: String,
        found: Vec<String>,
        study: Vec<String>,
    },
}

/// What is inconsistent in a model ([`Model::check`]), in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Inconsistent(pub String);

/// The rule for model names (`train --name`, `--model`): a label set name's
/// rule (1–64 ASCII letters, digits, `_`, `.`, `-`), not starting with `.`,
/// so a name is always one plain file in the study's `models/` folder.
pub const MODEL_NAME_RULE: &str = "1–64 letters, digits, '_', '.' or '-', not starting with '.'";

/// Whether `name` follows [`MODEL_NAME_RULE`].
pub fn valid_model_name(name: &str) -> bool {
    crate::label::valid_name(name) && !name.starts_with('.')
}

/// A name that does not follow [`MODEL_NAME_RULE`]: the one message for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a model name: a model name is {MODEL_NAME_RULE}")]
pub struct BadModelName {
    pub name: String,
}

/// `name` when it follows [`MODEL_NAME_RULE`].
pub fn check_model_name(name: &str) -> Result<&str, BadModelName> {
    if valid_model_name(name) {
        Ok(name)
    } else {
        Err(BadModelName {
            name: name.to_string(),
        })
    }
}

/// Largest n-gram length a model file may ask for.
pub const MAX_NGRAM: usize = 8;

/// Largest word weight of a keyword model (θ ≤ 1 plus α per manual keyword).
pub const MAX_KEYWORD_WEIGHT: f64 = 1e12;

/// Most labeled posts a model's kept validation may count.
pub const MAX_VALIDATION_ITEMS: u64 = 1_000_000;

/// Largest embedding a hybrid model may read.
pub const MAX_EMBEDDING_DIM: usize = 8192;

/// What a model was trained on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Training {
    pub label_set: String,
    pub examples: u64,
    /// FNV-1a 64 of the sorted `site/id=primary;secondary…` lines, in hex.
    pub labels_hash: String,
}

/// The static table a static model reads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StaticSpec {
    /// How its rows are weighted (`zipf` or `corpus`).
    pub weighting: String,
    /// `StaticTable::fingerprint` of the table the model was trained with.
    pub fingerprint: String,
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
    /// The encoder's precision the model was trained with (fp32 is not
    /// written, so fp32 models read and write as before int8 existed).
    #[serde(default, skip_serializing_if = "super::encoder::Precision::is_fp32")]
    pub precision: super::encoder::Precision,
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
    /// Reads a model file (at most [`crate::limits::MAX_MODEL_BYTES`]) and
    /// checks it (see [`Model::from_json`]).
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let text = crate::limits::read_bounded_string(
            path,
            crate::limits::MAX_MODEL_BYTES,
            "a model file",
        )
        .map_err(|err| ModelError::Io {
            path: path.to_path_buf(),
            err,
        })?;
        Model::from_json(&text, path)
    }

    /// The model shipped with stackmine.
    pub fn default_model() -> Result<Model, ModelError> {
        Model::from_json(DEFAULT_MODEL_JSON, Path::new("<built-in default model>"))
    }

    /// Parses a model's JSON (`origin` names it in errors) and checks that it
    /// is consistent ([`Model::check`]): any text either gives a model every
    /// `predict` can run on, or an error.
    pub fn from_json(text: &str, origin: &Path) -> Result<Model, ModelError> {
        // The format first, so a file of another format says so rather than
        // failing on a field it does not have.
        #[derive(Deserialize)]
        struct Head {
            format: Option<u64>,
        }
        if let Ok(Head {
            format: Some(found),
        }) = serde_json::from_str::<Head>(text)
            && found != u64::from(FORMAT)
        {
            return Err(ModelError::Format {
                path: origin.to_path_buf(),
                found,
            });
        }
        let mut m: Model = serde_json::from_str(text).map_err(|err| ModelError::Parse {
            path: origin.to_path_buf(),
            err,
        })?;
        if m.format != FORMAT {
            return Err(ModelError::Format {
                path: origin.to_path_buf(),
                found: u64::from(m.format),
            });
        }
        m.classifier.fitted_mut().reindex();
        m.check().map_err(|reason| ModelError::Invalid {
            path: origin.to_path_buf(),
            reason,
        })?;
        Ok(m)
    }

    /// Checks that the parts of a model fit together: at least two distinct
    /// categories; classes that are distinct categories; one weight row (and
    /// bias) per class, each as long as the feature vector; vocabulary and
    /// idf of the same length; finite numbers; settings in range; a kept
    /// confusion matrix of categories × categories that counts its posts; a
    /// name that follows [`valid_model_name`]. Returns what is wrong.
    pub fn check(&self) -> Result<(), Inconsistent> {
        self.check_parts().map_err(Inconsistent)
    }

    fn check_parts(&self) -> Result<(), String> {
        if let Err(e) = check_model_name(&self.name) {
            return Err(format!("its name {e}"));
        }
        let cats = &self.categories;
        if cats.len() < 2 {
            return Err(format!(
                "it has {} categories, a model needs at least two",
                cats.len()
            ));
        }
        distinct("categories", cats)?;
        if cats.iter().any(|c| c.is_empty()) {
            return Err("a category key is empty".into());
        }
        let classes_ok = |classes: &[String]| -> Result<(), String> {
            if classes.is_empty() {
                return Err("its classifier has no classes".into());
            }
            distinct("classes", classes)?;
            match classes.iter().find(|c| !cats.contains(c)) {
                Some(c) => Err(format!("class {c} is not one of its categories")),
                None => Ok(()),
            }
        };
        let fitted = self.classifier.fitted();
        classes_ok(fitted.classes())?;
        fitted.check()?;
        if let Some(v) = &self.validation {
            for (what, x) in [
                ("accuracy", v.accuracy),
                ("lenient_accuracy", v.lenient_accuracy),
                ("macro_f1", v.macro_f1),
            ] {
                finite_in(&format!("validation {what}"), x, 0.0, 1.0)?;
            }
            if v.confusion.len() != cats.len() || v.confusion.iter().any(|r| r.len() != cats.len())
            {
                return Err(format!(
                    "its validation's confusion matrix is not {n} × {n} (one row and column per category)",
                    n = cats.len()
                ));
            }
            // The report resamples these pairs: their count is bounded.
            let total = v
                .confusion
                .iter()
                .flatten()
                .try_fold(0u64, |a, &x| a.checked_add(x));
            if total != Some(v.items) || v.items > MAX_VALIDATION_ITEMS {
                return Err(format!(
                    "its validation's confusion matrix does not count its {} posts (at most {MAX_VALIDATION_ITEMS})",
                    v.items
                ));
            }
        }
        Ok(())
    }

    /// Refuses the model unless its categories, as a set, are `study`'s.
    pub fn check_categories(&self, study: &[String]) -> Result<(), ModelError> {
        let mut a: Vec<&String> = self.categories.iter().collect();
        let mut b: Vec<&String> = study.iter().collect();
        a.sort();
        b.sort();
        if a == b {
            return Ok(());
        }
        Err(ModelError::Categories {
            model: self.name.clone(),
            found: self.categories.clone(),
            study: study.to_vec(),
        })
    }

    /// Writes the model as JSON (a trailing newline, no timestamps).
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let io = |err| ModelError::Io {
            path: path.to_path_buf(),
            err,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut text = serde_json::to_string(self).map_err(|err| ModelError::Parse {
            path: path.to_path_buf(),
            err,
        })?;
        text.push('\n');
        // Under a temporary name in the same folder, then renamed into
        // place: a failed write never leaves a partial model.
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        let tmp = path.with_file_name(format!(".{file}.{}.tmp", std::process::id()));
        let written = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map_err(io)
    }

    /// The shipped hybrid model.
    pub fn default_hybrid() -> Result<Model, ModelError> {
        Model::from_json(DEFAULT_HYBRID_JSON, Path::new("<built-in hybrid model>"))
    }

    /// The shipped static model.
    pub fn default_static() -> Result<Model, ModelError> {
        Model::from_json(DEFAULT_STATIC_JSON, Path::new("<built-in static model>"))
    }

    /// The static table the model reads, if it reads one (its posts' embeddings
    /// come from the table, not the encoder).
    pub fn static_table(&self) -> Option<&StaticSpec> {
        self.classifier.fitted().static_table()
    }

    /// The encoder the model reads, if it reads one: its posts need their
    /// `Doc::embedding` (of `max_tokens` tokens) before [`Model::predict`].
    pub fn encoder(&self) -> Option<&EncoderSpec> {
        self.classifier.fitted().encoder()
    }

    /// Classifies one post with a checked model (one from [`Model::load`],
    /// [`Model::from_json`] or `classify::train`). A hybrid model reads
    /// `doc.embedding`, which the caller fills (`classify::attach_embeddings`);
    /// without it (or with one of another size) only the TF-IDF part speaks.
    pub fn predict(&self, doc: &Doc) -> Prediction {
        let fitted = self.classifier.fitted();
        let (best, confidence) = fitted.predict(doc);
        Prediction {
            category: self.index_of(&fitted.classes()[best]),
            confidence,
        }
    }

    /// Classifies one post with several models at once (cross-prediction's
    /// fold models): linear and hybrid models that read posts the same way
    /// share the work of finding its words. The same predictions as
    /// [`Model::predict`] of each.
    pub fn predict_each(models: &[&Model], doc: &Doc) -> Vec<Prediction> {
        let parts: Option<Vec<super::kinds::Tfidf>> = models
            .iter()
            .map(|m| m.classifier.fitted().tfidf())
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
            _ => models.iter().map(|m| m.predict(doc)).collect(),
        }
    }

    fn linear_prediction(&self, linear: &Linear, x: &super::features::Sparse) -> Prediction {
        let (best, confidence) = super::kinds::linear::predict_linear(linear, x);
        Prediction {
            category: self.index_of(&linear.classes[best]),
            confidence,
        }
    }

    fn index_of(&self, class: &str) -> usize {
        self.categories.iter().position(|c| c == class).unwrap_or(0)
    }

    /// The kind of classifier, as `train --kind` names it.
    pub fn kind(&self) -> &'static str {
        self.classifier.kind().name()
    }

    /// The kind of classifier.
    pub fn trained_kind(&self) -> super::Kind {
        self.classifier.kind()
    }
}

/// Fails when `items` holds a value twice.
fn distinct(what: &str, items: &[String]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    match items.iter().find(|c| !seen.insert(c.as_str())) {
        Some(c) => Err(format!("{what}: {c} is listed twice")),
        None => Ok(()),
    }
}

/// Fails unless `x` is finite and in `lo..=hi`.
pub(crate) fn finite_in(what: &str, x: f64, lo: f64, hi: f64) -> Result<(), String> {
    if x.is_finite() && (lo..=hi).contains(&x) {
        Ok(())
    } else {
        Err(format!("{what} is {x}, not a number in [{lo}, {hi}]"))
    }
}

pub(crate) fn check_features(features: &Features) -> Result<(), String> {
    if features.fields.is_empty() {
        return Err("it has no feature fields".into());
    }
    for (k, f) in features.fields.iter().enumerate() {
        let name = format!("field {} ({})", k + 1, f.source.name());
        if f.terms.len() != f.idf.len() {
            return Err(format!(
                "{name}: {} terms but {} idf values",
                f.terms.len(),
                f.idf.len()
            ));
        }
        if !(1..=MAX_NGRAM).contains(&f.max_ngram) {
            return Err(format!(
                "{name}: max_ngram {} is not in 1..={MAX_NGRAM}",
                f.max_ngram
            ));
        }
        if !f.weight.is_finite() || f.weight < 0.0 {
            return Err(format!("{name}: weight {} is not finite and ≥ 0", f.weight));
        }
        if let Some(v) = f.idf.iter().find(|v| !v.is_finite()) {
            return Err(format!("{name}: an idf value is {v}"));
        }
        if f.distinct_terms() != f.terms.len() {
            return Err(format!("{name}: a term is listed twice"));
        }
    }
    if u32::try_from(features.dim()).is_err() {
        return Err("its vocabulary is too large".into());
    }
    Ok(())
}

pub(crate) fn check_linear(linear: &Linear, dim: usize) -> Result<(), String> {
    let n = linear.classes.len();
    if linear.weights.len() != n || linear.bias.len() != n {
        return Err(format!(
            "{n} classes but {} weight rows and {} biases",
            linear.weights.len(),
            linear.bias.len()
        ));
    }
    for (class, (w, b)) in linear
        .classes
        .iter()
        .zip(linear.weights.iter().zip(&linear.bias))
    {
        if w.len() != dim {
            return Err(format!(
                "class {class}: {} weights, the features have {dim}",
                w.len()
            ));
        }
        if let Some(v) = w.iter().chain([b]).find(|v| !v.is_finite()) {
            return Err(format!("class {class}: a weight is {v}"));
        }
    }
    let c = linear.params.c;
    if !(c.is_finite() && c > 0.0) {
        return Err(format!("C is {c}, not a finite number > 0"));
    }
    Ok(())
}

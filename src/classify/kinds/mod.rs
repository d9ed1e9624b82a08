//! Classifier kinds behind one interface, as linfa's algorithms: each kind
//! has its own checked settings ([`KindParams`], built from the command
//! line's [`TrainParams`] only when in range) and one fit and predict
//! ([`Fitted`]), in its own file ([`keyword`], [`linear`], [`hybrid`],
//! [`static_model`]). This file registers them: [`Kind`] (the names),
//! [`Classifier`] (a fitted model, as the model file holds it) and the only
//! `match`es over kinds. ARCHITECTURE.md has the checklist for adding one.

pub mod hybrid;
pub mod keyword;
pub mod linear;
pub mod static_model;

use serde::{Deserialize, Serialize};

use super::eval::Example;
use super::features::{Doc, Features};
use super::linear::Linear;
use super::model::{EncoderSpec, StaticSpec};
use super::{TrainError, TrainParams};
use crate::study::Category;
use crate::text::compact_number;

/// Which model `train` fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The study's keyword-weighted model.
    Keyword,
    /// TF-IDF fields and one-vs-rest logistic regression.
    Linear,
    /// The linear model's TF-IDF fields plus a sentence embedding of the
    /// title and prose (all-MiniLM-L6-v2, run from local files).
    Hybrid,
    /// The linear model's TF-IDF fields plus the title and prose embedded
    /// with the static table distilled from all-MiniLM-L6-v2 (no
    /// transformer at run time: for huge studies).
    Static,
}

impl Kind {
    /// Every kind, in the order help texts list them.
    pub const ALL: [Kind; 4] = [Kind::Keyword, Kind::Linear, Kind::Hybrid, Kind::Static];

    /// The kind's name, as `train --kind` and model files spell it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Keyword => "keyword",
            Kind::Linear => "linear",
            Kind::Hybrid => "hybrid",
            Kind::Static => "static",
        }
    }

    /// The kind of a name ([`Kind::name`]).
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the kind's examples carry embeddings (hybrid and static).
    pub fn embeds(self) -> bool {
        matches!(self, Kind::Hybrid | Kind::Static)
    }

    /// Checks the settings this kind reads (the first one out of range).
    pub fn check(self, p: &TrainParams) -> Result<(), TrainError> {
        match self {
            Kind::Keyword => keyword::KeywordParams::from_train(p).map(drop),
            Kind::Linear => linear::TfidfParams::from_train(p).map(drop),
            Kind::Hybrid => hybrid::HybridParams::from_train(p).map(drop),
            Kind::Static => static_model::StaticParams::from_train(p).map(drop),
        }
    }

    /// Fits this kind on checked examples, with its settings out of `p`.
    pub fn fit(self, p: &TrainParams, data: &FitData) -> Result<Classifier, TrainError> {
        Ok(match self {
            Kind::Keyword => keyword::KeywordParams::from_train(p)?.fit(data),
            Kind::Linear => linear::TfidfParams::from_train(p)?.fit(data),
            Kind::Hybrid => hybrid::HybridParams::from_train(p)?.fit(data),
            Kind::Static => static_model::StaticParams::from_train(p)?.fit(data),
        })
    }
}

/// What a kind fits on: examples `train` has checked, the study's
/// categories, and the classes (the categories that occur as a primary
/// kind, in study order).
pub struct FitData<'a> {
    pub examples: &'a [Example],
    pub categories: &'a [Category],
    pub classes: Vec<String>,
}

impl FitData<'_> {
    /// Each example's class, as an index into `classes`.
    pub fn labels(&self) -> Vec<usize> {
        self.examples
            .iter()
            .map(|e| {
                self.classes
                    .iter()
                    .position(|c| c == &e.primary)
                    .unwrap_or(0)
            })
            .collect()
    }
}

/// One kind's settings, checked (linfa's `ParamGuard`): a value of it is
/// always in range, and fitting it cannot fail.
pub trait KindParams: Sized {
    /// The kind's settings out of `p`, or the first one out of range.
    fn from_train(p: &TrainParams) -> Result<Self, TrainError>;
    /// Fits the kind.
    fn fit(&self, data: &FitData) -> Classifier;
}

/// The TF-IDF part of a fitted model, for sharing the work of finding a
/// post's words between models ([`super::model::Model::predict_each`]):
/// features, linear model, and the embedding's weight when it reads one.
pub type Tfidf<'a> = (&'a Features, &'a Linear, Option<f32>);

/// A fitted classifier of one kind.
pub trait Fitted {
    /// Its classes, distinct categories of the model.
    fn classes(&self) -> &[String];
    /// The predicted class (an index into `classes`) and its confidence in
    /// [0, 1], on a checked model.
    fn predict(&self, doc: &Doc) -> (usize, f64);
    /// What is inconsistent in it, beyond its classes (see `Model::check`).
    fn check(&self) -> Result<(), String>;
    /// Rebuilds lookup tables after loading.
    fn reindex(&mut self) {}
    /// The encoder it reads, if any.
    fn encoder(&self) -> Option<&EncoderSpec> {
        None
    }
    /// The static table it reads, if any.
    fn static_table(&self) -> Option<&StaticSpec> {
        None
    }
    /// Its TF-IDF part, if it is a linear model over TF-IDF fields.
    fn tfidf(&self) -> Option<Tfidf<'_>> {
        None
    }
}

/// The classifier inside a model, tagged by its kind in the model file
/// (`"kind": "linear"`, then the kind's fields).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Classifier {
    Linear(linear::LinearModel),
    Keyword(keyword::KeywordModel),
    /// TF-IDF features followed by a sentence embedding, one linear model.
    Hybrid(hybrid::HybridModel),
    /// TF-IDF features followed by a static-table embedding (the hybrid
    /// model's layout; `encoder` names the table's source encoder and the
    /// table's size as `dim`).
    Static(static_model::StaticModel),
}

impl Classifier {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Classifier::Keyword(_) => Kind::Keyword,
            Classifier::Linear(_) => Kind::Linear,
            Classifier::Hybrid(_) => Kind::Hybrid,
            Classifier::Static(_) => Kind::Static,
        }
    }

    /// Its kind's fit and predict.
    pub fn fitted(&self) -> &dyn Fitted {
        match self {
            Classifier::Keyword(m) => m,
            Classifier::Linear(m) => m,
            Classifier::Hybrid(m) => m,
            Classifier::Static(m) => m,
        }
    }

    /// [`Classifier::fitted`], to change.
    pub fn fitted_mut(&mut self) -> &mut dyn Fitted {
        match self {
            Classifier::Keyword(m) => m,
            Classifier::Linear(m) => m,
            Classifier::Hybrid(m) => m,
            Classifier::Static(m) => m,
        }
    }
}

/// A number setting's range, which the library checks and the command
/// line's value parsers check with it ([`Bound::parse`]), so a value out of
/// range is refused when the command line is read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub name: &'static str,
    pub lo: f64,
    /// Whether `lo` itself is out.
    pub open_lo: bool,
    pub hi: f64,
}

/// A number the command line gave that is not a setting's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("not a number; expected one in {range}")]
    NotANumber { range: String },
    #[error("{value} is not in {range}")]
    OutOfRange { value: String, range: String },
}

impl Bound {
    /// `[lo, hi]` or `(lo, hi]`, compactly.
    pub fn interval(&self) -> String {
        let left = if self.open_lo { '(' } else { '[' };
        let (lo, hi) = (compact_number(self.lo), compact_number(self.hi));
        format!("{left}{lo}, {hi}]")
    }

    /// Whether `x` is finite and in range.
    pub fn contains(&self, x: f64) -> bool {
        let above = if self.open_lo {
            x > self.lo
        } else {
            x >= self.lo
        };
        x.is_finite() && above && x <= self.hi
    }

    /// `x`, when finite and in range.
    pub fn check(&self, x: f64) -> Result<f64, TrainError> {
        if self.contains(x) {
            return Ok(x);
        }
        Err(TrainError::Param {
            name: self.name,
            value: compact_number(x),
            range: format!("a number in {}", self.interval()),
        })
    }

    /// The number `s` spells, when finite and in range (the command line's
    /// value parser).
    pub fn parse(&self, s: &str) -> Result<f64, NumberError> {
        let x: f64 = s.trim().parse().map_err(|_| NumberError::NotANumber {
            range: self.interval(),
        })?;
        if self.contains(x) {
            Ok(x)
        } else {
            Err(NumberError::OutOfRange {
                value: compact_number(x),
                range: self.interval(),
            })
        }
    }
}

//! The linear kind: per-field TF-IDF ([`crate::classify::features`]) and
//! one-vs-rest logistic regression or linear SVM ([`crate::classify::linear`]).
//! Its settings and fit are also the TF-IDF part of the hybrid and static
//! kinds.

use serde::{Deserialize, Serialize};

use super::{Bound, Classifier, FitData, Fitted, KindParams, Tfidf};
use crate::classify::features::{Doc, Features, Sparse};
use crate::classify::linear::{Linear, LinearParams};
use crate::classify::model::{EncoderSpec, check_features, check_linear};
use crate::classify::{TrainError, TrainParams};

/// Smallest `--c` (inverse regularization strength) accepted: below it the
/// penalty swamps the data and every question lands in one class.
pub const MIN_C: f64 = 1e-4;

/// Largest `--c` (inverse regularization strength) accepted.
pub const MAX_C: f64 = 1e6;

/// The range of `C`.
pub const C: Bound = Bound {
    name: "C",
    lo: MIN_C,
    open_lo: false,
    hi: MAX_C,
};

/// The range of the fit's tolerance.
pub const TOL: Bound = Bound {
    name: "tol",
    lo: 0.0,
    open_lo: true,
    hi: 1.0,
};

/// The linear kind's settings (and the TF-IDF part of the hybrid and static
/// kinds'), checked.
#[derive(Debug, Clone, Copy)]
pub struct TfidfParams {
    linear: LinearParams,
    stem: bool,
}

impl TfidfParams {
    /// `C` finite in [1e-4, 1e6], `tol` in (0, 1], `max_iter` at least 1.
    pub fn new(linear: LinearParams, stem: bool) -> Result<TfidfParams, TrainError> {
        C.check(linear.c)?;
        TOL.check(linear.tol)?;
        if linear.max_iter == 0 {
            return Err(TrainError::Param {
                name: "max_iter",
                value: "0".into(),
                range: "at least 1".into(),
            });
        }
        Ok(TfidfParams { linear, stem })
    }

    /// Fits the TF-IDF fields and the linear model on them, the examples'
    /// embeddings (scaled by the encoder's weight) after them when
    /// `embedding` is given.
    pub fn fit_tfidf(&self, data: &FitData, embedding: Option<&EncoderSpec>) -> (Features, Linear) {
        let mut features = Features::default_fields();
        if self.stem {
            features = features.stemmed();
        }
        let docs: Vec<Doc> = data.examples.iter().map(|e| e.doc.clone()).collect();
        features.fit(&docs);
        let xs: Vec<Sparse> = docs
            .iter()
            .map(|d| match embedding {
                Some(s) => features.transform_with_embedding(d, s.weight),
                None => features.transform(d),
            })
            .collect();
        let dim = features.dim() + embedding.map_or(0, |s| s.dim);
        let linear = Linear::fit(&xs, &data.labels(), &data.classes, dim, self.linear);
        (features, linear)
    }
}

impl KindParams for TfidfParams {
    fn from_train(p: &TrainParams) -> Result<Self, TrainError> {
        TfidfParams::new(p.linear, p.stem)
    }

    fn fit(&self, data: &FitData) -> Classifier {
        let (features, linear) = self.fit_tfidf(data, None);
        Classifier::Linear(LinearModel { features, linear })
    }
}

/// A fitted linear model, as the model file holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinearModel {
    pub features: Features,
    pub linear: Linear,
}

/// The class and confidence of a linear model on a vector.
pub fn predict_linear(linear: &Linear, x: &Sparse) -> (usize, f64) {
    let (best, probs) = linear.predict(x);
    (best, probs[best])
}

impl Fitted for LinearModel {
    fn classes(&self) -> &[String] {
        &self.linear.classes
    }

    fn predict(&self, doc: &Doc) -> (usize, f64) {
        predict_linear(&self.linear, &self.features.transform(doc))
    }

    fn check(&self) -> Result<(), String> {
        check_features(&self.features)?;
        check_linear(&self.linear, self.features.dim())
    }

    fn reindex(&mut self) {
        self.features.reindex();
    }

    fn tfidf(&self) -> Option<Tfidf<'_>> {
        Some((&self.features, &self.linear, None))
    }
}

//! The hybrid kind: the linear kind's TF-IDF fields followed by the post's
//! sentence embedding (all-MiniLM-L6-v2, [`crate::classify::encoder`]),
//! scaled by a weight, under one linear model. Its posts carry their
//! embedding (`Doc::embedding`) before fit and predict.

use serde::{Deserialize, Serialize};

use super::linear::{TfidfParams, predict_linear};
use super::{Bound, Classifier, FitData, Fitted, KindParams, Tfidf};
use crate::classify::features::{Doc, Features};
use crate::classify::linear::Linear;
use crate::classify::model::{EncoderSpec, MAX_EMBEDDING_DIM, check_features, check_linear};
use crate::classify::{TrainError, TrainParams};

/// Tokens a hybrid model embeds per post by default: the median labeled
/// post has about 140, and 256 gained under 0.01 macro-F1 for twice the time.
pub const HYBRID_MAX_TOKENS: usize = 128;

/// The embedding block's default weight beside the TF-IDF blocks (chosen by
/// cv5 on the shared labels among 1, 2, 3, 4; see BENCHMARKS.md).
pub const HYBRID_WEIGHT: f32 = 3.0;

/// Largest embedding weight accepted.
pub const MAX_EMBEDDING_WEIGHT: f64 = 100.0;

/// Range of the tokens a hybrid model embeds per post.
pub const MIN_MAX_TOKENS: usize = 8;
pub const MAX_MAX_TOKENS: usize = 512;

/// The range of the embedding block's weight.
pub const EMBEDDING_WEIGHT: Bound = Bound {
    name: "embedding weight",
    lo: 0.0,
    open_lo: true,
    hi: MAX_EMBEDDING_WEIGHT,
};

/// The hybrid kind's settings, checked.
#[derive(Debug, Clone)]
pub struct HybridParams {
    pub(super) tfidf: TfidfParams,
    pub(super) encoder: EncoderSpec,
}

/// Checks an embedding's settings: tokens per post, weight, size.
pub fn check_encoder(e: &EncoderSpec) -> Result<(), TrainError> {
    if !(MIN_MAX_TOKENS..=MAX_MAX_TOKENS).contains(&e.max_tokens) {
        return Err(TrainError::Param {
            name: "max_tokens",
            value: e.max_tokens.to_string(),
            range: format!("in {MIN_MAX_TOKENS}..={MAX_MAX_TOKENS}"),
        });
    }
    EMBEDDING_WEIGHT.check(f64::from(e.weight))?;
    if !(1..=MAX_EMBEDDING_DIM).contains(&e.dim) {
        return Err(TrainError::Param {
            name: "embedding size",
            value: e.dim.to_string(),
            range: format!("in 1..={MAX_EMBEDDING_DIM}"),
        });
    }
    Ok(())
}

impl KindParams for HybridParams {
    fn from_train(p: &TrainParams) -> Result<Self, TrainError> {
        let tfidf = TfidfParams::from_train(p)?;
        check_encoder(&p.encoder)?;
        Ok(HybridParams {
            tfidf,
            encoder: p.encoder.clone(),
        })
    }

    fn fit(&self, data: &FitData) -> Classifier {
        let (features, linear) = self.tfidf.fit_tfidf(data, Some(&self.encoder));
        Classifier::Hybrid(HybridModel {
            features,
            encoder: self.encoder.clone(),
            linear,
        })
    }
}

/// A fitted hybrid model, as the model file holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HybridModel {
    pub features: Features,
    pub encoder: EncoderSpec,
    pub linear: Linear,
}

/// The prediction of TF-IDF plus embedding: a post without an embedding of
/// the encoder's size is read by its TF-IDF part alone.
pub fn predict_embedded(
    features: &Features,
    encoder: &EncoderSpec,
    linear: &Linear,
    doc: &Doc,
) -> (usize, f64) {
    let x = if doc.embedding.len() == encoder.dim {
        features.transform_with_embedding(doc, encoder.weight)
    } else {
        features.transform(doc)
    };
    predict_linear(linear, &x)
}

/// What is inconsistent in TF-IDF plus embedding.
pub fn check_embedded(
    features: &Features,
    encoder: &EncoderSpec,
    linear: &Linear,
) -> Result<(), String> {
    check_features(features)?;
    if !(1..=MAX_EMBEDDING_DIM).contains(&encoder.dim) {
        return Err(format!(
            "embedding size {} is not in 1..={MAX_EMBEDDING_DIM}",
            encoder.dim
        ));
    }
    if !(MIN_MAX_TOKENS..=MAX_MAX_TOKENS).contains(&encoder.max_tokens) {
        return Err(format!(
            "max_tokens {} is not in {MIN_MAX_TOKENS}..={MAX_MAX_TOKENS}",
            encoder.max_tokens,
        ));
    }
    let w = f64::from(encoder.weight);
    if !EMBEDDING_WEIGHT.contains(w) {
        return Err(format!(
            "embedding weight {w} is not in (0, {MAX_EMBEDDING_WEIGHT}]"
        ));
    }
    check_linear(linear, features.dim() + encoder.dim)
}

impl Fitted for HybridModel {
    fn classes(&self) -> &[String] {
        &self.linear.classes
    }

    fn predict(&self, doc: &Doc) -> (usize, f64) {
        predict_embedded(&self.features, &self.encoder, &self.linear, doc)
    }

    fn check(&self) -> Result<(), String> {
        check_embedded(&self.features, &self.encoder, &self.linear)
    }

    fn reindex(&mut self) {
        self.features.reindex();
    }

    fn encoder(&self) -> Option<&EncoderSpec> {
        Some(&self.encoder)
    }

    fn tfidf(&self) -> Option<Tfidf<'_>> {
        Some((&self.features, &self.linear, Some(self.encoder.weight)))
    }
}

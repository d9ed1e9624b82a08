//! The static kind: the hybrid kind's layout, with the title and prose
//! embedded by the static table distilled from all-MiniLM-L6-v2
//! ([`crate::classify::encoder::static_table`]) instead of the transformer,
//! and the table's fingerprint kept in the model.

use serde::{Deserialize, Serialize};

use super::hybrid::{HybridParams, check_embedded, predict_embedded};
use super::{Classifier, FitData, Fitted, KindParams, Tfidf};
use crate::classify::features::{Doc, Features};
use crate::classify::linear::Linear;
use crate::classify::model::{EncoderSpec, StaticSpec};
use crate::classify::{TrainError, TrainParams};

/// The static kind's settings, checked.
#[derive(Debug, Clone)]
pub struct StaticParams {
    hybrid: HybridParams,
    table: StaticSpec,
}

impl KindParams for StaticParams {
    /// The hybrid kind's settings, and the table (without one: Zipf
    /// weighting, no fingerprint).
    fn from_train(p: &TrainParams) -> Result<Self, TrainError> {
        Ok(StaticParams {
            hybrid: HybridParams::from_train(p)?,
            table: p.table.clone().unwrap_or_else(|| StaticSpec {
                weighting: "zipf".into(),
                fingerprint: String::new(),
            }),
        })
    }

    fn fit(&self, data: &FitData) -> Classifier {
        let encoder = &self.hybrid.encoder;
        let (features, linear) = self.hybrid.tfidf.fit_tfidf(data, Some(encoder));
        Classifier::Static(StaticModel {
            features,
            encoder: encoder.clone(),
            table: self.table.clone(),
            linear,
        })
    }
}

/// A fitted static model, as the model file holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaticModel {
    pub features: Features,
    pub encoder: EncoderSpec,
    pub table: StaticSpec,
    pub linear: Linear,
}

impl Fitted for StaticModel {
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

    fn static_table(&self) -> Option<&StaticSpec> {
        Some(&self.table)
    }

    fn tfidf(&self) -> Option<Tfidf<'_>> {
        Some((&self.features, &self.linear, Some(self.encoder.weight)))
    }
}

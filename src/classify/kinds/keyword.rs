//! The keyword kind: the study's keyword-weighted model
//! ([`crate::classify::keyword`]) with its settings `alpha` and `top`.

use serde::{Deserialize, Serialize};

use super::{Bound, Classifier, FitData, Fitted, KindParams};
use crate::classify::features::Doc;
use crate::classify::keyword::Keyword;
use crate::classify::model::MAX_KEYWORD_WEIGHT;
use crate::classify::{TrainError, TrainParams};

/// Largest `--alpha` accepted.
pub const MAX_ALPHA: f64 = 1e6;

/// The range of `alpha`, the extra weight of manual keywords.
pub const ALPHA: Bound = Bound {
    name: "alpha",
    lo: 0.0,
    open_lo: false,
    hi: MAX_ALPHA,
};

/// The keyword kind's settings, checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeywordParams {
    alpha: f64,
    top: usize,
}

impl KeywordParams {
    /// `alpha` finite in [0, 1e6], `top` (words per category) at least 1.
    pub fn new(alpha: f64, top: usize) -> Result<KeywordParams, TrainError> {
        let alpha = ALPHA.check(alpha)?;
        if top == 0 {
            return Err(TrainError::Param {
                name: "top",
                value: "0".into(),
                range: "at least 1".into(),
            });
        }
        Ok(KeywordParams { alpha, top })
    }
}

impl KindParams for KeywordParams {
    fn from_train(p: &TrainParams) -> Result<Self, TrainError> {
        KeywordParams::new(p.alpha, p.top)
    }

    fn fit(&self, data: &FitData) -> Classifier {
        let manual: Vec<Vec<String>> = data
            .classes
            .iter()
            .map(|k| {
                data.categories
                    .iter()
                    .find(|c| &c.key == k)
                    .map(|c| c.keywords.clone())
                    .unwrap_or_default()
            })
            .collect();
        Classifier::Keyword(KeywordModel {
            keyword: Keyword::fit(data.examples, &data.classes, &manual, self.alpha, self.top),
        })
    }
}

/// A fitted keyword model, as the model file holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeywordModel {
    pub keyword: Keyword,
}

impl Fitted for KeywordModel {
    fn classes(&self) -> &[String] {
        &self.keyword.classes
    }

    fn predict(&self, doc: &Doc) -> (usize, f64) {
        self.keyword.predict(doc)
    }

    fn check(&self) -> Result<(), String> {
        let keyword = &self.keyword;
        if keyword.weights.len() != keyword.classes.len() {
            return Err(format!(
                "{} classes but {} weight tables",
                keyword.classes.len(),
                keyword.weights.len()
            ));
        }
        crate::classify::model::finite_in("alpha", keyword.alpha, 0.0, MAX_ALPHA)?;
        for (class, w) in keyword.classes.iter().zip(&keyword.weights) {
            if let Some((word, v)) = w
                .iter()
                .find(|(_, v)| !(v.is_finite() && (0.0..=MAX_KEYWORD_WEIGHT).contains(*v)))
            {
                return Err(format!(
                    "class {class}: weight of {word:?} is {v}, not in [0, {MAX_KEYWORD_WEIGHT}]"
                ));
            }
        }
        Ok(())
    }
}

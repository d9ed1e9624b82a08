//! Scoring predictions against labels, and the train/test protocols.
//!
//! Strict accuracy counts a prediction right when it is the post's primary
//! kind; lenient accuracy when it is any of its kinds (the study's scoring).
//! Precision, recall and F1 per category follow scikit-learn
//! (`zero_division=0`); macro averages are over the categories present in the
//! labels or the predictions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::features::Doc;
use crate::sample::Draw;

/// A labeled post.
#[derive(Debug, Clone)]
pub struct Example {
    pub site: String,
    pub post_id: i64,
    pub doc: Doc,
    pub primary: String,
    /// Primary and secondary kinds.
    pub kinds: Vec<String>,
}

impl Example {
    pub fn key(&self) -> crate::PostKey {
        crate::PostKey::new(self.site.clone(), self.post_id)
    }
}

/// Precision, recall, F1 and support of one category.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClassMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

/// Scores of a subset (a source site).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SubsetMetrics {
    pub items: u64,
    pub accuracy: f64,
    pub lenient_accuracy: f64,
    pub macro_f1: f64,
}

/// Rows: labeled primary kind; columns: predicted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Confusion {
    pub categories: Vec<String>,
    pub matrix: Vec<Vec<u64>>,
}

/// What `eval` reports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Evaluation {
    pub model: String,
    pub protocol: String,
    /// Set when the scores cannot be read as an estimate (e.g. the model was
    /// trained on these labels).
    pub warning: Option<String>,
    pub items: u64,
    pub accuracy: f64,
    pub lenient_accuracy: f64,
    pub macro_precision: f64,
    pub macro_recall: f64,
    pub macro_f1: f64,
    pub micro_f1: f64,
    pub per_category: BTreeMap<String, ClassMetrics>,
    pub per_source: BTreeMap<String, SubsetMetrics>,
    pub confusion: Confusion,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Per-category metrics and macro F1 of (truth, prediction) pairs.
fn class_metrics(
    pairs: &[(&str, &str)],
    categories: &[String],
) -> (BTreeMap<String, ClassMetrics>, f64, f64, f64) {
    let mut per = BTreeMap::new();
    let (mut sp, mut sr, mut sf, mut k) = (0.0, 0.0, 0.0, 0);
    for c in categories {
        let tp = pairs.iter().filter(|(t, p)| t == c && p == c).count() as u64;
        let support = pairs.iter().filter(|(t, _)| t == c).count() as u64;
        let predicted = pairs.iter().filter(|(_, p)| p == c).count() as u64;
        let precision = ratio(tp, predicted);
        let recall = ratio(tp, support);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        if support > 0 || predicted > 0 {
            sp += precision;
            sr += recall;
            sf += f1;
            k += 1;
        }
        per.insert(
            c.clone(),
            ClassMetrics {
                precision,
                recall,
                f1,
                support,
            },
        );
    }
    let k = f64::from(k.max(1));
    (per, sp / k, sr / k, sf / k)
}

/// Scores `predicted[i]` against `examples[i]` (the pairs there are: the
/// longer list's extra items are not scored).
pub fn evaluate(
    examples: &[&Example],
    predicted: &[String],
    categories: &[String],
    model: &str,
    protocol: &str,
) -> Evaluation {
    let examples = &examples[..examples.len().min(predicted.len())];
    let pairs: Vec<(&str, &str)> = examples
        .iter()
        .zip(predicted)
        .map(|(e, p)| (e.primary.as_str(), p.as_str()))
        .collect();
    let n = pairs.len() as u64;
    let correct = pairs.iter().filter(|(t, p)| t == p).count() as u64;
    let lenient = examples
        .iter()
        .zip(predicted)
        .filter(|(e, p)| e.kinds.contains(p))
        .count() as u64;
    let (per_category, macro_precision, macro_recall, macro_f1) = class_metrics(&pairs, categories);
    let mut matrix = vec![vec![0u64; categories.len()]; categories.len()];
    for (t, p) in &pairs {
        if let (Some(i), Some(j)) = (
            categories.iter().position(|c| c == t),
            categories.iter().position(|c| c == p),
        ) {
            matrix[i][j] += 1;
        }
    }
    let mut per_source = BTreeMap::new();
    let mut sites: Vec<&str> = examples.iter().map(|e| e.site.as_str()).collect();
    sites.sort_unstable();
    sites.dedup();
    for site in sites {
        let idx: Vec<usize> = (0..examples.len())
            .filter(|&i| examples[i].site == site)
            .collect();
        let sub: Vec<(&str, &str)> = idx.iter().map(|&i| pairs[i]).collect();
        let (_, _, _, f1) = class_metrics(&sub, categories);
        per_source.insert(
            site.to_string(),
            SubsetMetrics {
                items: idx.len() as u64,
                accuracy: ratio(
                    sub.iter().filter(|(t, p)| t == p).count() as u64,
                    idx.len() as u64,
                ),
                lenient_accuracy: ratio(
                    idx.iter()
                        .filter(|&&i| examples[i].kinds.contains(&predicted[i]))
                        .count() as u64,
                    idx.len() as u64,
                ),
                macro_f1: f1,
            },
        );
    }
    Evaluation {
        model: model.to_string(),
        protocol: protocol.to_string(),
        warning: None,
        items: n,
        accuracy: ratio(correct, n),
        lenient_accuracy: ratio(lenient, n),
        macro_precision,
        macro_recall,
        macro_f1,
        micro_f1: ratio(correct, n),
        per_category,
        per_source,
        confusion: Confusion {
            categories: categories.to_vec(),
            matrix,
        },
    }
}

/// Stratified folds: within each primary kind (in `examples` order after a
/// seeded shuffle), posts are dealt to folds in turn. Returns each post's fold
/// (`k` of 0 is taken as 1).
pub fn stratified_folds(examples: &[Example], k: usize, seed: u64) -> Vec<usize> {
    let k = k.max(1);
    let mut by_class: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        by_class.entry(&e.primary).or_default().push(i);
    }
    let mut fold = vec![0; examples.len()];
    let mut draw = Draw::new(seed);
    let mut next = 0;
    for idx in by_class.into_values() {
        let n = idx.len();
        for i in draw.choose(idx, n) {
            fold[i] = next % k;
            next += 1;
        }
    }
    fold
}

/// The study's stratified split: within each primary kind, a seeded
/// `train_share` of the posts (rounded; a share outside [0, 1] or NaN is
/// clamped, NaN to 0) for training. Returns true for training.
pub fn stratified_split(examples: &[Example], train_share: f64, seed: u64) -> Vec<bool> {
    let train_share = if train_share.is_nan() {
        0.0
    } else {
        train_share.clamp(0.0, 1.0)
    };
    let mut by_class: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        by_class.entry(&e.primary).or_default().push(i);
    }
    let mut train = vec![false; examples.len()];
    let mut draw = Draw::new(seed);
    for idx in by_class.into_values() {
        let n = idx.len();
        let k = (n as f64 * train_share).round() as usize;
        for i in draw.choose(idx, k) {
            train[i] = true;
        }
    }
    train
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(primary: &str, kinds: &[&str], site: &str) -> Example {
        Example {
            site: site.into(),
            post_id: 0,
            doc: Doc::default(),
            primary: primary.into(),
            kinds: kinds.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn metrics_match_scikit_learn() {
        // Reference: precision_recall_fscore_support(t, y, zero_division=0) =
        // P [0.5, 0.5, 1.0], R [0.5, 1.0, 0.3333], F1 [0.5, 0.6667, 0.5],
        // support [2, 2, 3]; f1_score macro 0.5555555555555555, micro 0.5714285714285714.
        let t = ["a", "a", "b", "b", "c", "c", "c"];
        let y = ["a", "b", "b", "b", "c", "a", "b"];
        let examples: Vec<Example> = t
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let kinds: Vec<&str> = if i == 5 { vec![p, "a"] } else { vec![p] };
                ex(p, &kinds, if i < 3 { "s1" } else { "s2" })
            })
            .collect();
        let refs: Vec<&Example> = examples.iter().collect();
        let pred: Vec<String> = y.iter().map(|s| s.to_string()).collect();
        let cats: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let e = evaluate(&refs, &pred, &cats, "m", "test");
        assert!((e.macro_f1 - 0.555_555_555_555_555_5).abs() < 1e-12);
        assert!((e.accuracy - 4.0 / 7.0).abs() < 1e-12);
        assert!((e.lenient_accuracy - 5.0 / 7.0).abs() < 1e-12);
        assert_eq!(e.per_category["b"].support, 2);
        assert!((e.per_category["b"].f1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((e.per_category["c"].recall - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(e.confusion.matrix, [[1, 1, 0], [0, 2, 0], [1, 1, 1]]);
        assert_eq!(e.per_source["s1"].items, 3);
    }

    #[test]
    fn splits_are_stratified_and_seeded() {
        let examples: Vec<Example> = (0..50)
            .map(|i| ex(if i % 5 == 0 { "rare" } else { "common" }, &[], "s"))
            .collect();
        let folds = stratified_folds(&examples, 5, 0);
        for f in 0..5 {
            let rare = (0..50)
                .filter(|&i| folds[i] == f && examples[i].primary == "rare")
                .count();
            assert_eq!(rare, 2, "fold {f}");
        }
        assert_eq!(folds, stratified_folds(&examples, 5, 0));
        let train = stratified_split(&examples, 0.6, 0);
        assert_eq!(train.iter().filter(|&&t| t).count(), 30);
        assert_eq!(
            (0..50)
                .filter(|&i| train[i] && examples[i].primary == "rare")
                .count(),
            6
        );
    }
}

//! Question classifiers: text steps ([`tokenize`]), features ([`features`]),
//! models ([`linear`], [`keyword`]), files ([`model`]) and evaluation
//! ([`eval`]). `Params → train → Model → predict`.

pub mod eval;
pub mod features;
pub mod keyword;
pub mod linear;
pub mod model;
pub mod tokenize;

use serde::{Deserialize, Serialize};

use eval::Example;
use features::Features;
use keyword::Keyword;
use linear::{Linear, LinearParams};
use model::{Classifier, FORMAT, Model, Training, labels_hash};

use crate::study::Category;

/// Which model `train` fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The study's keyword-weighted model.
    Keyword,
    /// TF-IDF fields and one-vs-rest logistic regression.
    Linear,
}

/// Settings of `train`.
#[derive(Debug, Clone, Copy)]
pub struct TrainParams {
    pub kind: Kind,
    /// Extra weight of manual keywords (keyword model).
    pub alpha: f64,
    /// Words per category (keyword model).
    pub top: usize,
    pub linear: LinearParams,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            kind: Kind::Linear,
            alpha: 0.18,
            top: 200,
            linear: LinearParams::default(),
        }
    }
}

/// Trains a model on labeled posts. Classes are the study's categories that
/// occur as a primary kind in `examples`, in study order.
pub fn train(
    examples: &[Example],
    categories: &[Category],
    params: &TrainParams,
    name: &str,
    label_set: &str,
) -> Model {
    let keys: Vec<String> = categories.iter().map(|c| c.key.clone()).collect();
    let classes: Vec<String> = keys
        .iter()
        .filter(|k| examples.iter().any(|e| &e.primary == *k))
        .cloned()
        .collect();
    let classifier = match params.kind {
        Kind::Keyword => {
            let manual: Vec<Vec<String>> = classes
                .iter()
                .map(|k| {
                    categories
                        .iter()
                        .find(|c| &c.key == k)
                        .map(|c| c.keywords.clone())
                        .unwrap_or_default()
                })
                .collect();
            Classifier::Keyword {
                keyword: Keyword::fit(examples, &classes, &manual, params.alpha, params.top),
            }
        }
        Kind::Linear => {
            let mut features = Features::default_fields();
            let docs: Vec<features::Doc> = examples.iter().map(|e| e.doc.clone()).collect();
            features.fit(&docs);
            let xs: Vec<features::Sparse> = docs.iter().map(|d| features.transform(d)).collect();
            let labels: Vec<usize> = examples
                .iter()
                .map(|e| classes.iter().position(|c| c == &e.primary).unwrap_or(0))
                .collect();
            let linear = Linear::fit(&xs, &labels, &classes, features.dim(), params.linear);
            Classifier::Linear { features, linear }
        }
    };
    Model {
        format: FORMAT,
        name: name.to_string(),
        created_by: concat!("stackmine ", env!("CARGO_PKG_VERSION")).to_string(),
        categories: keys,
        training: Training {
            label_set: label_set.to_string(),
            examples: examples.len() as u64,
            labels_hash: labels_hash(examples),
        },
        validation: None,
        classifier,
    }
}

/// Predicts every example's category key with `model`.
pub fn predict_all(model: &Model, examples: &[&Example]) -> Vec<String> {
    use rayon::prelude::*;
    let stop = tokenize::StopWords::default();
    examples
        .par_iter()
        .map(|e| model.categories[model.predict(&e.doc, &stop).category].clone())
        .collect()
}

/// A label set's posts as training or test examples.
pub struct Examples {
    pub examples: Vec<Example>,
    /// Posts whose annotators disagree and that have no final label yet.
    pub unresolved: usize,
    /// Labeled posts no longer in the study.
    pub missing: usize,
}

/// The examples of a label set: each post's resolved label (final, or the
/// annotators' common one) and its text from the store.
pub fn examples(
    store: &crate::store::Store,
    set: &str,
) -> Result<Examples, crate::label::LabelError> {
    let posts = crate::label::gather(store, set)?;
    let keys: Vec<(String, i64)> = posts.keys().cloned().collect();
    let mut docs = store.docs(&keys)?;
    let mut out = Examples {
        examples: Vec::new(),
        unresolved: 0,
        missing: 0,
    };
    for ((site, id), p) in posts {
        let Some((primary, secondary)) = p.resolved() else {
            out.unresolved += 1;
            continue;
        };
        let Some(doc) = docs.remove(&(site.clone(), id)) else {
            out.missing += 1;
            continue;
        };
        let mut kinds = vec![primary.clone()];
        kinds.extend(secondary.into_iter().filter(|k| k != &primary));
        out.examples.push(Example {
            site,
            post_id: id,
            doc,
            primary,
            kinds,
        });
    }
    Ok(out)
}

/// Trains on the examples `train` selects and predicts the others; returns
/// (index, predicted key) for each predicted example.
fn fit_predict(
    examples: &[Example],
    train: impl Fn(usize) -> bool,
    categories: &[Category],
    params: &TrainParams,
    name: &str,
    label_set: &str,
) -> Vec<(usize, String)> {
    let train_set: Vec<Example> = (0..examples.len())
        .filter(|&i| train(i))
        .map(|i| examples[i].clone())
        .collect();
    let test_idx: Vec<usize> = (0..examples.len()).filter(|&i| !train(i)).collect();
    let test: Vec<&Example> = test_idx.iter().map(|&i| &examples[i]).collect();
    let model = self::train(&train_set, categories, params, name, label_set);
    test_idx
        .into_iter()
        .zip(predict_all(&model, &test))
        .collect()
}

/// Trains on a stratified 60/40 split (seed 0) and scores the 40%: the study's protocol.
pub fn study_split(
    examples: &[Example],
    categories: &[Category],
    params: &TrainParams,
    name: &str,
    label_set: &str,
) -> eval::Evaluation {
    let keys: Vec<String> = categories.iter().map(|c| c.key.clone()).collect();
    let is_train = eval::stratified_split(examples, 0.6, 0);
    let predicted = fit_predict(
        examples,
        |i| is_train[i],
        categories,
        params,
        name,
        label_set,
    );
    let test: Vec<&Example> = predicted.iter().map(|(i, _)| &examples[*i]).collect();
    let labels: Vec<String> = predicted.into_iter().map(|(_, p)| p).collect();
    eval::evaluate(
        &test,
        &labels,
        &keys,
        name,
        "study: stratified 60/40 split, seed 0",
    )
}

/// Stratified 5-fold cross-validation (seed 0): every post is predicted once,
/// by a model that did not see it.
pub fn cross_validate(
    examples: &[Example],
    categories: &[Category],
    params: &TrainParams,
    name: &str,
    label_set: &str,
) -> eval::Evaluation {
    let keys: Vec<String> = categories.iter().map(|c| c.key.clone()).collect();
    let folds = eval::stratified_folds(examples, 5, 0);
    let mut predicted = vec![String::new(); examples.len()];
    for f in 0..5 {
        for (i, p) in fit_predict(
            examples,
            |i| folds[i] != f,
            categories,
            params,
            name,
            label_set,
        ) {
            predicted[i] = p;
        }
    }
    let refs: Vec<&Example> = examples.iter().collect();
    eval::evaluate(
        &refs,
        &predicted,
        &keys,
        name,
        "cv5: stratified 5-fold cross-validation, seed 0",
    )
}

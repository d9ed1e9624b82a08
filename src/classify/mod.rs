//! Question classifiers: text steps ([`tokenize`]), features ([`features`]),
//! models ([`linear`], [`keyword`]), files ([`model`]) and evaluation
//! ([`eval`]). `Params → train → Model → predict`.

pub mod encoder;
pub mod eval;
pub mod features;
pub mod keyword;
pub mod linear;
pub mod model;
pub mod select;
pub mod tokenize;

use serde::{Deserialize, Serialize};

use eval::Example;
use features::Features;
use keyword::Keyword;
use linear::{Linear, LinearParams};
use model::{Classifier, EncoderSpec, FORMAT, Model, Training, labels_hash};

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
    /// Whether the kind's examples carry embeddings (hybrid and static).
    pub fn embeds(self) -> bool {
        matches!(self, Kind::Hybrid | Kind::Static)
    }
}

/// Settings of `train`.
#[derive(Debug, Clone)]
pub struct TrainParams {
    pub kind: Kind,
    /// Extra weight of manual keywords (keyword model).
    pub alpha: f64,
    /// Words per category (keyword model).
    pub top: usize,
    pub linear: LinearParams,
    /// The encoder a hybrid model reads (its examples carry embeddings).
    pub encoder: EncoderSpec,
    /// Stem the words of the TF-IDF fields (linear and hybrid models).
    pub stem: bool,
    /// The static table a static model reads (`None`: Zipf weighting, no
    /// fingerprint).
    pub table: Option<model::StaticSpec>,
}

/// Tokens a hybrid model embeds per post by default: the median labeled
/// post has about 140, and 256 gained under 0.01 macro-F1 for twice the time.
pub const HYBRID_MAX_TOKENS: usize = 128;

/// The embedding block's default weight beside the TF-IDF blocks (chosen by
/// cv5 on the shared labels among 1, 2, 3, 4; see BENCHMARKS.md).
pub const HYBRID_WEIGHT: f32 = 3.0;

/// Smallest `--c` (inverse regularization strength) accepted: below it the
/// penalty swamps the data and every question lands in one class.
pub const MIN_C: f64 = 1e-4;

/// Largest `--c` (inverse regularization strength) accepted.
pub const MAX_C: f64 = 1e6;

/// Largest `--alpha` (keyword model) accepted.
pub const MAX_ALPHA: f64 = 1e6;

/// Largest embedding weight (hybrid model) accepted.
pub const MAX_EMBEDDING_WEIGHT: f64 = 100.0;

/// Range of the tokens a hybrid model embeds per post.
pub const MIN_MAX_TOKENS: usize = 8;
pub const MAX_MAX_TOKENS: usize = 512;

/// Errors training or testing a model: settings out of range, or labels a
/// model cannot be trained on or tested with.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{name} is {value}, it must be {range}")]
    Param {
        name: &'static str,
        value: String,
        range: String,
    },
    #[error("no labeled posts to train on")]
    NoExamples,
    #[error(
        "every labeled post is of one category ({category}): a classifier needs posts of at least two categories"
    )]
    OneCategory { category: String },
    #[error(
        "post {site}/{post_id} is labeled {category}, which is not a category of the study ({}); fix study.toml or the labels",
        categories.join(", ")
    )]
    UnknownCategory {
        site: String,
        post_id: i64,
        category: String,
        categories: Vec<String>,
    },
    #[error(
        "post {site}/{post_id} has an embedding of {found} values, the encoder gives {expected}"
    )]
    Embedding {
        site: String,
        post_id: i64,
        found: usize,
        expected: usize,
    },
    #[error("{protocol} needs at least {needed} labeled posts, the label set has {found}")]
    TooFewPosts {
        protocol: &'static str,
        needed: usize,
        found: usize,
    },
    #[error(
        "{part} would train on posts of one category only ({category}): label more posts of other categories"
    )]
    OneCategoryPart { part: String, category: String },
    #[error("{part} leaves no posts to test: label more posts")]
    EmptyTest { part: String },
    #[error("the trained model is not usable: {0}")]
    Unusable(model::Inconsistent),
}

fn param(name: &'static str, value: impl std::fmt::Display, range: String) -> TrainError {
    TrainError::Param {
        name,
        value: value.to_string(),
        range,
    }
}

/// `x` finite and in `lo..=hi` (`lo` excluded when `open`).
fn check_float(name: &'static str, x: f64, lo: f64, open: bool, hi: f64) -> Result<(), TrainError> {
    let above = if open { x > lo } else { x >= lo };
    if x.is_finite() && above && x <= hi {
        return Ok(());
    }
    let left = if open { '(' } else { '[' };
    let (lo_s, hi_s) = (compact_number(lo), compact_number(hi));
    Err(param(
        name,
        compact_number(x),
        format!("a number in {left}{lo_s}, {hi_s}]"),
    ))
}

impl TrainParams {
    /// Checks every setting the kind reads is in range (the command line
    /// checks the same ranges when it parses them), so training never writes
    /// a model that does not load.
    pub fn validate(&self) -> Result<(), TrainError> {
        match self.kind {
            Kind::Keyword => {
                check_float("alpha", self.alpha, 0.0, false, MAX_ALPHA)?;
                if self.top == 0 {
                    return Err(param("top", 0, "at least 1".into()));
                }
            }
            Kind::Linear | Kind::Hybrid | Kind::Static => {
                let l = &self.linear;
                check_float("C", l.c, MIN_C, false, MAX_C)?;
                check_float("tol", l.tol, 0.0, true, 1.0)?;
                if l.max_iter == 0 {
                    return Err(param("max_iter", 0, "at least 1".into()));
                }
            }
        }
        if self.kind.embeds() {
            let e = &self.encoder;
            if !(MIN_MAX_TOKENS..=MAX_MAX_TOKENS).contains(&e.max_tokens) {
                return Err(param(
                    "max_tokens",
                    e.max_tokens,
                    format!("in {MIN_MAX_TOKENS}..={MAX_MAX_TOKENS}"),
                ));
            }
            check_float(
                "embedding weight",
                f64::from(e.weight),
                0.0,
                true,
                MAX_EMBEDDING_WEIGHT,
            )?;
            if !(1..=model::MAX_EMBEDDING_DIM).contains(&e.dim) {
                return Err(param(
                    "embedding size",
                    e.dim,
                    format!("in 1..={}", model::MAX_EMBEDDING_DIM),
                ));
            }
        }
        Ok(())
    }
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            kind: Kind::Linear,
            alpha: 0.18,
            top: 200,
            linear: LinearParams::default(),
            encoder: EncoderSpec {
                name: encoder::DEFAULT_ENCODER.to_string(),
                fingerprint: String::new(),
                max_tokens: HYBRID_MAX_TOKENS,
                weight: HYBRID_WEIGHT,
                dim: 384,
                precision: encoder::Precision::Fp32,
            },
            stem: false,
            table: None,
        }
    }
}

/// Refuses examples whose kinds are not categories of the study (labels
/// imported before study.toml was edited), and for a hybrid model examples
/// without an embedding of the encoder's size.
pub fn check_examples(
    examples: &[Example],
    categories: &[Category],
    embedding: Option<usize>,
) -> Result<(), TrainError> {
    for e in examples {
        if let Some(k) = e
            .kinds
            .iter()
            .chain([&e.primary])
            .find(|k| !categories.iter().any(|c| &c.key == *k))
        {
            return Err(TrainError::UnknownCategory {
                site: e.site.clone(),
                post_id: e.post_id,
                category: k.clone(),
                categories: categories.iter().map(|c| c.key.clone()).collect(),
            });
        }
        if let Some(dim) = embedding
            && e.doc.embedding.len() != dim
        {
            return Err(TrainError::Embedding {
                site: e.site.clone(),
                post_id: e.post_id,
                found: e.doc.embedding.len(),
                expected: dim,
            });
        }
    }
    Ok(())
}

/// The distinct primary kinds of some examples, in first-seen order.
fn primaries<'a>(examples: impl Iterator<Item = &'a Example>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for e in examples {
        if !out.contains(&e.primary.as_str()) {
            out.push(&e.primary);
        }
    }
    out
}

/// Trains a model on labeled posts. Classes are the study's categories that
/// occur as a primary kind in `examples`, in study order. Refuses settings
/// out of range, no posts, posts of one category only, kinds that are not
/// the study's, and (hybrid) posts without an embedding of the encoder's
/// size; the model is checked as a loaded one would be.
pub fn train(
    examples: &[Example],
    categories: &[Category],
    params: &TrainParams,
    name: &str,
    label_set: &str,
) -> Result<Model, TrainError> {
    params.validate()?;
    let embeds = params.kind.embeds();
    check_examples(examples, categories, embeds.then_some(params.encoder.dim))?;
    match primaries(examples.iter()).as_slice() {
        [] => return Err(TrainError::NoExamples),
        [one] => {
            return Err(TrainError::OneCategory {
                category: one.to_string(),
            });
        }
        _ => {}
    }
    let model = fit(examples, categories, params, name, label_set);
    model.check().map_err(TrainError::Unusable)?;
    Ok(model)
}

/// The fit itself, on examples `train` has checked.
fn fit(
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
        Kind::Linear | Kind::Hybrid | Kind::Static => {
            let mut features = Features::default_fields();
            if params.stem {
                features = features.stemmed();
            }
            let docs: Vec<features::Doc> = examples.iter().map(|e| e.doc.clone()).collect();
            features.fit(&docs);
            let labels: Vec<usize> = examples
                .iter()
                .map(|e| classes.iter().position(|c| c == &e.primary).unwrap_or(0))
                .collect();
            let spec = params.kind.embeds().then_some(&params.encoder);
            let xs: Vec<features::Sparse> = docs
                .iter()
                .map(|d| match spec {
                    Some(s) => features.transform_with_embedding(d, s.weight),
                    None => features.transform(d),
                })
                .collect();
            let dim = features.dim() + spec.map_or(0, |s| s.dim);
            let linear = Linear::fit(&xs, &labels, &classes, dim, params.linear);
            match spec {
                Some(spec) if params.kind == Kind::Static => Classifier::Static {
                    features,
                    encoder: spec.clone(),
                    table: params.table.clone().unwrap_or_else(|| model::StaticSpec {
                        weighting: "zipf".into(),
                        fingerprint: String::new(),
                    }),
                    linear,
                },
                Some(spec) => Classifier::Hybrid {
                    features,
                    encoder: spec.clone(),
                    linear,
                },
                None => Classifier::Linear { features, linear },
            }
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

/// Classifies a batch of questions (site, Id, text with its embedding when
/// the model reads one) on all cores: (site, Id, category key, confidence).
/// `classify` and `classify --stdin` both go through it.
pub fn classify_batch(
    model: &Model,
    batch: Vec<(String, i64, features::Doc)>,
    stop: &tokenize::StopWords,
) -> Vec<(String, i64, String, f64)> {
    use rayon::prelude::*;
    batch
        .into_par_iter()
        .map(|(site, id, doc)| {
            let p = model.predict(&doc, stop);
            (site, id, model.categories[p.category].clone(), p.confidence)
        })
        .collect()
}

/// FNV-1a 64 of some bytes, read one part after the other, in hex: a stable
/// fingerprint (not a security hash) of training labels, an encoder's files
/// and the texts behind cached embeddings.
pub fn fnv1a_hex(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Fills each post's `Doc::embedding` for a hybrid model: from the store's
/// cache where the text is unchanged, otherwise by running `encoder` (on all
/// cores) and caching the result. `done(k)` is called as k more posts have
/// their embedding (cached ones first, all at once). Returns how many were
/// embedded rather than read from the cache.
pub fn attach_embeddings(
    store: &crate::store::Store,
    encoder: &encoder::Encoder,
    max_tokens: usize,
    posts: &mut [(&str, i64, &mut features::Doc)],
    done: &(dyn Fn(u64) + Sync),
) -> Result<usize, crate::store::StoreError> {
    let texts: Vec<String> = posts.iter().map(|(_, _, d)| encoder::doc_text(d)).collect();
    let hashes: Vec<String> = texts.iter().map(|t| fnv1a_hex(&[t.as_bytes()])).collect();
    let keys: Vec<(&str, i64, &str)> = posts
        .iter()
        .zip(&hashes)
        .map(|((site, id, _), h)| (*site, *id, h.as_str()))
        .collect();
    let mut cached = store.cached_embeddings(&encoder.cache_key(), max_tokens, &keys)?;
    for c in cached.iter_mut() {
        if c.as_ref().is_some_and(|e| e.len() != encoder.dim()) {
            *c = None;
        }
    }
    let missing: Vec<usize> = (0..posts.len()).filter(|&i| cached[i].is_none()).collect();
    done((posts.len() - missing.len()) as u64);
    let mut computed: Vec<Vec<f32>> = Vec::with_capacity(missing.len());
    // In slices, so the cache keeps what was done if a long run is stopped.
    for chunk in missing.chunks(256) {
        let chunk_texts: Vec<&str> = chunk.iter().map(|&i| texts[i].as_str()).collect();
        let part = encoder.embed_many(&chunk_texts, max_tokens, done);
        let rows: Vec<(&str, i64, &str, &[f32])> = chunk
            .iter()
            .zip(&part)
            .map(|(&i, e)| (keys[i].0, keys[i].1, keys[i].2, e.as_slice()))
            .collect();
        store.save_embeddings(&encoder.cache_key(), max_tokens, &rows)?;
        computed.extend(part);
    }
    let mut computed = computed.into_iter();
    for (post, c) in posts.iter_mut().zip(cached) {
        post.2.embedding = match c {
            Some(e) => e,
            None => computed.next().unwrap_or_default(),
        };
    }
    Ok(missing.len())
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

/// Checks one train/test part of a protocol: a test set, and a training set
/// of at least two categories.
fn check_part(
    examples: &[Example],
    is_train: &dyn Fn(usize) -> bool,
    part: String,
) -> Result<(), TrainError> {
    if (0..examples.len()).all(is_train) {
        return Err(TrainError::EmptyTest { part });
    }
    let kinds = primaries(
        (0..examples.len())
            .filter(|&i| is_train(i))
            .map(|i| &examples[i]),
    );
    if kinds.len() < 2 {
        return Err(TrainError::OneCategoryPart {
            part,
            category: kinds
                .first()
                .map_or_else(|| "none".into(), |k| k.to_string()),
        });
    }
    Ok(())
}

/// Trains on the examples `train` selects and predicts the others; returns
/// (index, predicted key) for each predicted example.
fn fit_predict(
    examples: &[Example],
    train: &dyn Fn(usize) -> bool,
    categories: &[Category],
    params: &TrainParams,
    name: &str,
    label_set: &str,
) -> Result<Vec<(usize, String)>, TrainError> {
    let train_set: Vec<Example> = (0..examples.len())
        .filter(|&i| train(i))
        .map(|i| examples[i].clone())
        .collect();
    let test_idx: Vec<usize> = (0..examples.len()).filter(|&i| !train(i)).collect();
    let test: Vec<&Example> = test_idx.iter().map(|&i| &examples[i]).collect();
    let model = self::train(&train_set, categories, params, name, label_set)?;
    Ok(test_idx
        .into_iter()
        .zip(predict_all(&model, &test))
        .collect())
}

const CV5_PROTOCOL: &str = "5-fold cross-validation";

/// Number of folds of [`cross_validate`].
pub const FOLDS: usize = 5;

/// Trains on a stratified 60/40 split (seed 0) and scores the 40%: the
/// study's protocol. Refuses a split whose test part is empty or whose
/// training part holds one category only.
pub fn study_split(
    examples: &[Example],
    categories: &[Category],
    params: &TrainParams,
    name: &str,
    label_set: &str,
) -> Result<eval::Evaluation, TrainError> {
    params.validate()?;
    check_examples(examples, categories, None)?;
    let keys: Vec<String> = categories.iter().map(|c| c.key.clone()).collect();
    let is_train = eval::stratified_split(examples, 0.6, 0);
    let is_train = |i: usize| is_train[i];
    let part = "the study's 60/40 split (of each category's posts, rounded)";
    check_part(examples, &is_train, part.into())?;
    let predicted = fit_predict(examples, &is_train, categories, params, name, label_set)?;
    let test: Vec<&Example> = predicted.iter().map(|(i, _)| &examples[*i]).collect();
    let labels: Vec<String> = predicted.into_iter().map(|(_, p)| p).collect();
    Ok(eval::evaluate(
        &test,
        &labels,
        &keys,
        name,
        "study: stratified 60/40 split, seed 0",
    ))
}

/// Stratified 5-fold cross-validation (seed 0): every post is predicted once,
/// by a model that did not see it. Needs at least 5 posts, and every fold's
/// training part must hold two categories or more; a category with fewer
/// posts than folds is allowed (see [`small_categories`]): the folds that
/// test its posts cannot learn it, as in scikit-learn's `StratifiedKFold`,
/// which warns then.
pub fn cross_validate(
    examples: &[Example],
    categories: &[Category],
    params: &TrainParams,
    name: &str,
    label_set: &str,
) -> Result<eval::Evaluation, TrainError> {
    params.validate()?;
    check_examples(examples, categories, None)?;
    if examples.len() < FOLDS {
        return Err(TrainError::TooFewPosts {
            protocol: CV5_PROTOCOL,
            needed: FOLDS,
            found: examples.len(),
        });
    }
    let keys: Vec<String> = categories.iter().map(|c| c.key.clone()).collect();
    let folds = eval::stratified_folds(examples, FOLDS, 0);
    for f in 0..FOLDS {
        let part = format!("fold {} of {CV5_PROTOCOL}", f + 1);
        check_part(examples, &|i| folds[i] != f, part)?;
    }
    let mut predicted = vec![String::new(); examples.len()];
    for f in 0..FOLDS {
        for (i, p) in fit_predict(
            examples,
            &|i| folds[i] != f,
            categories,
            params,
            name,
            label_set,
        )? {
            predicted[i] = p;
        }
    }
    let refs: Vec<&Example> = examples.iter().collect();
    Ok(eval::evaluate(
        &refs,
        &predicted,
        &keys,
        name,
        "cv5: stratified 5-fold cross-validation, seed 0",
    ))
}

/// Categories with fewer posts (as primary kind) than `folds`, with their
/// counts, in study order: cross-validation scores them from folds that did
/// not all see them (a caller says so).
pub fn small_categories(
    examples: &[Example],
    categories: &[Category],
    folds: usize,
) -> Vec<(String, usize)> {
    categories
        .iter()
        .filter_map(|c| {
            let n = examples.iter().filter(|e| e.primary == c.key).count();
            (n > 0 && n < folds).then(|| (c.key.clone(), n))
        })
        .collect()
}

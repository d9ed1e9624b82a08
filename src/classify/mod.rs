//! Question classifiers: text steps ([`tokenize`]), features ([`features`]),
//! algorithms ([`linear`], [`keyword`]), the kinds of classifier behind one
//! interface ([`kinds`]), files ([`model`]) and evaluation ([`eval`]).
//! `TrainParams → train → Model → predict`.

pub mod encoder;
pub mod eval;
pub mod features;
pub mod keyword;
pub mod kinds;
pub mod linear;
pub mod model;
pub mod select;
pub mod tokenize;

use eval::Example;
use linear::LinearParams;
use model::{EncoderSpec, FORMAT, Model, Training, labels_hash};

pub use kinds::Kind;
pub use kinds::hybrid::{
    HYBRID_MAX_TOKENS, HYBRID_WEIGHT, MAX_EMBEDDING_WEIGHT, MAX_MAX_TOKENS, MIN_MAX_TOKENS,
};
pub use kinds::keyword::MAX_ALPHA;
pub use kinds::linear::{MAX_C, MIN_C};

use crate::study::Category;

/// Settings of `train`, as the command line gives them: each kind reads
/// and checks its own part ([`kinds::KindParams`]).
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

impl TrainParams {
    /// Checks every setting the kind reads is in range (the command line
    /// checks the same ranges when it parses them), so training never writes
    /// a model that does not load.
    pub fn validate(&self) -> Result<(), TrainError> {
        self.kind.check(self)
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
                categories: crate::study::keys(categories),
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
    let model = fit(examples, categories, params, name, label_set)?;
    model.check().map_err(TrainError::Unusable)?;
    Ok(model)
}

/// The fit itself, on examples `train` has checked: the kind's own.
fn fit(
    examples: &[Example],
    categories: &[Category],
    params: &TrainParams,
    name: &str,
    label_set: &str,
) -> Result<Model, TrainError> {
    let keys = crate::study::keys(categories);
    let classes: Vec<String> = keys
        .iter()
        .filter(|k| examples.iter().any(|e| &e.primary == *k))
        .cloned()
        .collect();
    let data = kinds::FitData {
        examples,
        categories,
        classes,
    };
    let classifier = params.kind.fit(params, &data)?;
    Ok(Model {
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
    })
}

/// Predicts every example's category key with `model`.
pub fn predict_all(model: &Model, examples: &[&Example]) -> Vec<String> {
    use rayon::prelude::*;
    examples
        .par_iter()
        .map(|e| model.categories[model.predict(&e.doc).category].clone())
        .collect()
}

/// A question's category, as `classify` stores it and
/// `import-classifications` reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub post: crate::PostKey,
    /// The category's key.
    pub category: String,
    /// The model's confidence in it, in [0, 1].
    pub confidence: f64,
}

/// Classifies a batch of questions (site, Id, text with its embedding when
/// the model reads one) on all cores. `classify` and `classify --stdin` both
/// go through it.
pub fn classify_batch(
    model: &Model,
    batch: Vec<(String, i64, features::Doc)>,
) -> Vec<Classification> {
    use rayon::prelude::*;
    batch
        .into_par_iter()
        .map(|(site, id, doc)| {
            let p = model.predict(&doc);
            Classification {
                post: crate::PostKey::new(site, id),
                category: model.categories[p.category].clone(),
                confidence: p.confidence,
            }
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
    let keys: Vec<crate::PostKey> = posts.keys().cloned().collect();
    let mut docs = store.docs(&keys)?;
    let mut out = Examples {
        examples: Vec::new(),
        unresolved: 0,
        missing: 0,
    };
    for (key, p) in posts {
        let Some((primary, secondary)) = p.resolved() else {
            out.unresolved += 1;
            continue;
        };
        let Some(doc) = docs.remove(&key) else {
            out.missing += 1;
            continue;
        };
        let mut kinds = vec![primary.clone()];
        kinds.extend(secondary.into_iter().filter(|k| k != &primary));
        out.examples.push(Example {
            site: key.site,
            post_id: key.id,
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
    let keys = crate::study::keys(categories);
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
    let keys = crate::study::keys(categories);
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

#[cfg(test)]
mod tests {
    use super::*;
    use features::Doc;

    fn category(key: &str, keywords: &[&str]) -> Category {
        Category {
            key: key.into(),
            name: key.into(),
            description: String::new(),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
        }
    }

    fn study() -> Vec<Category> {
        vec![
            category("crash", &["segfault"]),
            category("training", &["nan"]),
            category("installation", &["pip"]),
        ]
    }

    fn ex(id: i64, title: &str, kinds: &[&str]) -> Example {
        Example {
            site: "s".into(),
            post_id: id,
            doc: Doc {
                title: title.into(),
                ..Doc::default()
            },
            primary: kinds[0].into(),
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
        }
    }

    /// Ten posts: five of installation (listed first), five of training.
    fn posts() -> Vec<Example> {
        let mut out = Vec::new();
        for i in 0..5 {
            out.push(ex(i, &format!("pip install fails {i}"), &["installation"]));
            out.push(ex(10 + i, &format!("loss is nan {i}"), &["training"]));
        }
        out
    }

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // The FNV authors' test vectors (isthe.com/chongo/tech/comp/fnv).
        assert_eq!(fnv1a_hex(&[b""]), "cbf29ce484222325");
        assert_eq!(fnv1a_hex(&[b"a"]), "af63dc4c8601ec8c");
        assert_eq!(fnv1a_hex(&[b"foobar"]), "85944171f73967e8");
        // Parts are read one after the other, with nothing between them.
        assert_eq!(fnv1a_hex(&[b"foo", b"bar"]), fnv1a_hex(&[b"foobar"]));
    }

    #[test]
    fn primaries_in_first_seen_order() {
        let e = posts();
        assert_eq!(primaries(e.iter()), ["installation", "training"]);
        assert!(primaries([].iter()).is_empty());
    }

    #[test]
    fn check_examples_refuses_foreign_kinds_and_wrong_embeddings() {
        let cats = study();
        let mut e = posts();
        assert!(check_examples(&e, &cats, None).is_ok());
        e[3].kinds.push("deployment".into());
        let err = check_examples(&e, &cats, None).unwrap_err().to_string();
        assert_eq!(
            err,
            "post s/11 is labeled deployment, which is not a category of the study (crash, training, installation); fix study.toml or the labels"
        );
        let mut e = posts();
        e[0].doc.embedding = vec![0.5; 4];
        assert!(check_examples(&e, &cats, None).is_ok(), "no embedding read");
        let err = check_examples(&e, &cats, Some(4)).unwrap_err().to_string();
        assert_eq!(
            err,
            "post s/10 has an embedding of 0 values, the encoder gives 4"
        );
    }

    #[test]
    fn train_refuses_no_posts_and_one_category() {
        let cats = study();
        let p = TrainParams::default();
        let err = train(&[], &cats, &p, "m", "x").unwrap_err();
        assert!(matches!(err, TrainError::NoExamples), "{err}");
        let one: Vec<Example> = posts()
            .into_iter()
            .filter(|e| e.primary == "training")
            .collect();
        let err = train(&one, &cats, &p, "m", "x").unwrap_err().to_string();
        assert!(
            err.starts_with("every labeled post is of one category (training)"),
            "{err}"
        );
    }

    #[test]
    fn each_kind_checks_only_its_own_settings() {
        let mut p = TrainParams {
            kind: Kind::Keyword,
            ..TrainParams::default()
        };
        p.linear.c = f64::NAN;
        assert!(p.validate().is_ok(), "keyword reads no C");
        p.alpha = f64::INFINITY;
        assert_eq!(
            p.validate().unwrap_err().to_string(),
            "alpha is inf, it must be a number in [0, 1000000]"
        );
        p.alpha = 0.0;
        p.top = 0;
        assert_eq!(
            p.validate().unwrap_err().to_string(),
            "top is 0, it must be at least 1"
        );
        let mut p = TrainParams {
            alpha: -1.0,
            ..TrainParams::default()
        };
        assert!(p.validate().is_ok(), "linear reads no alpha");
        p.encoder.max_tokens = 4;
        assert!(p.validate().is_ok(), "linear reads no encoder");
        p.linear.tol = 0.0;
        assert_eq!(
            p.validate().unwrap_err().to_string(),
            "tol is 0, it must be a number in (0, 1]"
        );
        for kind in [Kind::Hybrid, Kind::Static] {
            let mut p = TrainParams {
                kind,
                ..TrainParams::default()
            };
            assert!(p.validate().is_ok());
            p.encoder.max_tokens = 4;
            assert_eq!(
                p.validate().unwrap_err().to_string(),
                "max_tokens is 4, it must be in 8..=512"
            );
            p.encoder.max_tokens = 8;
            p.encoder.weight = 0.0;
            assert_eq!(
                p.validate().unwrap_err().to_string(),
                "embedding weight is 0, it must be a number in (0, 100]"
            );
            p.encoder.weight = 1.0;
            p.linear.c = 0.0;
            assert_eq!(
                p.validate().unwrap_err().to_string(),
                "C is 0, it must be a number in [0.0001, 1000000]",
                "the TF-IDF part's settings first"
            );
        }
    }

    #[test]
    fn bounds_parse_as_the_command_line_reads_them() {
        let c = kinds::linear::C;
        assert_eq!(c.parse(" 10 "), Ok(10.0));
        assert_eq!(c.parse("1e-4"), Ok(1e-4));
        assert_eq!(
            c.parse("0").unwrap_err().to_string(),
            "0 is not in [0.0001, 1000000]"
        );
        assert_eq!(
            c.parse("nan").unwrap_err().to_string(),
            "NaN is not in [0.0001, 1000000]"
        );
        assert_eq!(
            c.parse("ten").unwrap_err().to_string(),
            "not a number; expected one in [0.0001, 1000000]"
        );
        let w = kinds::hybrid::EMBEDDING_WEIGHT;
        assert!(w.parse("0").is_err() && w.parse("100").is_ok() && w.parse("100.5").is_err());
        assert_eq!(kinds::keyword::ALPHA.parse("0"), Ok(0.0));
    }

    #[test]
    fn kind_names_round_trip_and_match_model_files() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.name()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
        }
        assert_eq!(Kind::parse("Linear"), None);
        assert!(Kind::Hybrid.embeds() && Kind::Static.embeds());
        assert!(!Kind::Linear.embeds() && !Kind::Keyword.embeds());
    }

    #[test]
    fn trained_models_keep_study_order_and_predict_their_posts() {
        let cats = study();
        let e = posts();
        for kind in [Kind::Keyword, Kind::Linear] {
            let p = TrainParams {
                kind,
                ..TrainParams::default()
            };
            let m = train(&e, &cats, &p, "m", "set").unwrap();
            assert_eq!(m.kind(), kind.name());
            assert_eq!(m.trained_kind(), kind);
            assert_eq!(m.categories, ["crash", "training", "installation"]);
            assert_eq!(m.training.examples, 10);
            assert_eq!(m.training.label_set, "set");
            let classes = m.classifier.fitted().classes().to_vec();
            assert_eq!(classes, ["training", "installation"], "{kind:?}");
            let refs: Vec<&Example> = e.iter().collect();
            let got = predict_all(&m, &refs);
            let want: Vec<&str> = e.iter().map(|x| x.primary.as_str()).collect();
            assert_eq!(got, want, "{kind:?}");
            // The same through classify_batch, with a confidence in [0, 1].
            let batch = e
                .iter()
                .map(|x| (x.site.clone(), x.post_id, x.doc.clone()))
                .collect();
            for (row, x) in classify_batch(&m, batch).iter().zip(&e) {
                assert_eq!(
                    (row.post.id, row.category.as_str()),
                    (x.post_id, x.primary.as_str())
                );
                assert!((0.0..=1.0).contains(&row.confidence), "{row:?}");
            }
        }
    }

    #[test]
    fn protocol_parts_are_checked() {
        let e = posts();
        let err = check_part(&e, &|_| true, "split".into()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "split leaves no posts to test: label more posts"
        );
        let err = check_part(&e, &|i| i % 2 == 0, "fold 1".into()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "fold 1 would train on posts of one category only (installation): label more posts of other categories"
        );
        let err = check_part(&e, &|_| false, "fold 2".into()).unwrap_err();
        assert!(err.to_string().contains("only (none)"), "{err}");
        assert!(check_part(&e, &|i| i < 6, "ok".into()).is_ok());
        let cats = study();
        let p = TrainParams::default();
        let err = cross_validate(&e[..4], &cats, &p, "m", "x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "5-fold cross-validation needs at least 5 labeled posts, the label set has 4"
        );
    }

    #[test]
    fn small_categories_are_those_under_the_folds() {
        let cats = study();
        let mut e = posts();
        e.push(ex(99, "segfault on import", &["crash"]));
        assert_eq!(small_categories(&e, &cats, 5), [("crash".to_string(), 1)]);
        assert_eq!(
            small_categories(&e, &cats, 6),
            [
                ("crash".to_string(), 1),
                ("training".to_string(), 5),
                ("installation".to_string(), 5)
            ]
        );
        assert!(small_categories(&e, &cats, 1).is_empty());
    }
}

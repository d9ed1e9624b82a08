//! Category shares from a random labeled sample plus a classifier
//! (prediction-powered inference; the maths is in [`crate::analyze::ppi`]).
//!
//! A label set records its [`Design`]: a batch drawn by `sample` is a random
//! (or stratified) sample of a named [`Population`] with its seed; a set
//! imported with `label import --random-sample` is declared one; anything
//! else is a convenience set and is never used for estimates.
//!
//! [`load_sample`] reads a set's design, its population (the study's
//! questions the design names, minus posts of batches the draw left out) and
//! its labels; [`estimate`] turns units (one per population member, with its
//! label when it is a labeled sample post and the classifier's predictions)
//! into per-category shares, per stratum and combined with weights N_h / N.
//! [`cross_fit`] trains the K fold models of cross-prediction. Nothing here
//! prints.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::PostKey;
use crate::analyze::inference::wilson;
use crate::analyze::ppi::{self, PpiMean, Stratum};
use crate::classify::eval::{Example, stratified_folds};
use crate::classify::features::Doc;
use crate::classify::model::Model;
use crate::classify::{self, TrainParams};
use crate::label::LabelError;
use crate::store::{Member, Store, StoreError};
use crate::study::Category;

/// Fewer labeled posts than this in a group (a framework, a year): the group
/// shows the sample-only figure.
pub const MIN_GROUP_LABELED: usize = 30;

/// Above this share of missing labels the estimate says it assumes they are
/// missing at random.
pub const MISSING_WARN_SHARE: f64 = 0.05;

/// Errors of estimates.
#[derive(Debug, thiserror::Error)]
pub enum EstimateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Label(#[from] LabelError),
    #[error(transparent)]
    Train(#[from] classify::TrainError),
    #[error(
        "label set {set:?} is a convenience set{}: estimates need a random sample (draw one with `stackmine sample`, or declare an imported set one with `label import --random-sample`)",
        reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
    )]
    Convenience { set: String, reason: Option<String> },
    #[error("label set {set:?} has a design this build cannot read: {message}")]
    BadDesign { set: String, message: String },
    #[error("population {0:?}: give all, framework:KEY or years:FROM-TO (e.g. years:2017-2019)")]
    BadPopulation(String),
    #[error("population {0:?}: the study has no enabled framework {1:?}")]
    UnknownFramework(String, String),
    #[error(
        "label set {set:?}: {count} labeled posts are outside its population {population} (first: {site} {id})"
    )]
    OutsidePopulation {
        set: String,
        population: String,
        count: usize,
        site: String,
        id: i64,
    },
    #[error(
        "label set {set:?} has {labeled} labeled posts of its population; an estimate needs at least 2"
    )]
    TooFewLabeled { set: String, labeled: usize },
    #[error("model {model} knows category {category:?}, which the study does not have")]
    ModelCategory { model: String, category: String },
    #[error(
        "--folds {folds}: cross-prediction needs 2 to {labeled} folds here (2 to 20, and no more than the labeled posts)"
    )]
    Folds { folds: usize, labeled: usize },
}

/// The questions a sample was drawn from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Population {
    /// Every question of the study.
    All,
    /// The questions of one framework.
    Framework { key: String },
    /// The questions asked in these years (both included).
    Years { from: i32, to: i32 },
}

impl Population {
    /// `all`, `framework:KEY` or `years:FROM-TO` (or `years:YEAR`).
    pub fn parse(s: &str, frameworks: &[String]) -> Result<Population, EstimateError> {
        let bad = || EstimateError::BadPopulation(s.to_string());
        if s == "all" {
            return Ok(Population::All);
        }
        if let Some(key) = s.strip_prefix("framework:") {
            if !frameworks.iter().any(|f| f == key) {
                return Err(EstimateError::UnknownFramework(s.into(), key.into()));
            }
            return Ok(Population::Framework { key: key.into() });
        }
        let years = s.strip_prefix("years:").ok_or_else(bad)?;
        let (a, b) = years.split_once('-').unwrap_or((years, years));
        let year = |t: &str| {
            t.parse::<i32>()
                .ok()
                .filter(|y| (1900..=9999).contains(y))
                .ok_or_else(bad)
        };
        let (from, to) = (year(a)?, year(b)?);
        if from > to {
            return Err(bad());
        }
        Ok(Population::Years { from, to })
    }

    pub fn contains(&self, m: &Member) -> bool {
        match self {
            Population::All => true,
            Population::Framework { key } => m.frameworks.iter().any(|f| f == key),
            Population::Years { from, to } => m.year.is_some_and(|y| (*from..=*to).contains(&y)),
        }
    }

    /// For messages and the report: `all questions`, `framework pytorch`, `years 2017–2019`.
    pub fn describe(&self) -> String {
        match self {
            Population::All => "all questions".into(),
            Population::Framework { key } => format!("framework {key}"),
            Population::Years { from, to } if from == to => format!("year {from}"),
            Population::Years { from, to } => format!("years {from}–{to}"),
        }
    }
}

/// How a label set's posts were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DesignKind {
    /// A simple random sample of the population.
    Random,
    /// A random sample within each stratum (batch_posts.stratum).
    Stratified,
    /// Anything else: never used for estimates.
    Convenience,
}

/// A label set's design, as stored in `label_sets.design`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Design {
    pub kind: DesignKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<Population>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// How strata were formed (stratified designs): `first framework`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strata: Option<String>,
    /// Batches whose posts the draw left out: they are not in the population.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_batches: Vec<String>,
    /// The population's size when the sample was drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population_size: Option<u64>,
    /// Why a set is a convenience set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Design {
    pub fn convenience(reason: &str) -> Design {
        Design {
            kind: DesignKind::Convenience,
            population: None,
            seed: None,
            strata: None,
            excluded_batches: Vec::new(),
            population_size: None,
            reason: Some(reason.to_string()),
        }
    }

    pub fn random(population: Population, seed: Option<u64>) -> Design {
        Design {
            kind: DesignKind::Random,
            population: Some(population),
            seed,
            strata: None,
            excluded_batches: Vec::new(),
            population_size: None,
            reason: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"kind":"convenience"}"#.into())
    }
}

/// The stratum a question falls in for a proportional (stratified) draw: its
/// first framework in study order, else `other` (as `sample::draw_batch`).
pub fn first_framework_stratum(m: &Member, frameworks: &[String]) -> String {
    frameworks
        .iter()
        .find(|f| m.frameworks.contains(f))
        .cloned()
        .unwrap_or_else(|| "other".to_string())
}

/// A labeled sample post.
#[derive(Debug, Clone)]
pub struct SamplePost {
    pub site: String,
    pub id: i64,
    pub stratum: String,
    /// The resolved primary kind; `None` when the annotators skipped it or
    /// disagree unadjudicated (a missing label).
    pub label: Option<String>,
}

/// A sample with its design and population.
#[derive(Debug, Clone)]
pub struct SampleData {
    pub set: String,
    pub design: Design,
    pub population: Population,
    /// The population's members, in (site, Id) order.
    pub members: Vec<Member>,
    /// The sample's posts (in the population).
    pub posts: Vec<SamplePost>,
    /// Sample posts without a label (skipped by the annotators).
    pub unlabeled: usize,
    /// Sample posts whose annotators disagree and that have no final label.
    pub unresolved: usize,
    /// Labels in the set of posts that are not in the batch (ignored).
    pub outside_batch: usize,
    /// Strata names, in order of first appearance in the design.
    pub strata: Vec<String>,
    /// Questions of the population left out because earlier batches held
    /// them when the sample was drawn.
    pub left_out: usize,
}

impl SampleData {
    /// The population for messages: `all questions`, with the questions of
    /// earlier batches the draw left out when there are any.
    pub fn describe(&self) -> String {
        match self.left_out {
            0 => self.population.describe(),
            n => format!(
                "{}, without the {n} questions earlier batches held when it was drawn",
                self.population.describe()
            ),
        }
    }

    pub fn labeled(&self) -> usize {
        self.posts.iter().filter(|p| p.label.is_some()).count()
    }

    pub fn missing(&self) -> usize {
        self.unlabeled + self.unresolved
    }

    /// A fingerprint of the sample's labels: sorted `site/id=primary` lines
    /// (FNV-1a 64, hex).
    pub fn labels_hash(&self) -> String {
        let mut lines: Vec<String> = self
            .posts
            .iter()
            .map(|p| format!("{}/{}={}", p.site, p.id, p.label.as_deref().unwrap_or("")))
            .collect();
        lines.sort();
        classify::fnv1a_hex(&[lines.join("\n").as_bytes()])
    }

    /// A fingerprint of the population's members.
    pub fn population_hash(&self) -> String {
        let lines: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("{}/{}", m.site, m.id))
            .collect();
        classify::fnv1a_hex(&[lines.join("\n").as_bytes()])
    }
}

/// Reads a label set's design, population and labels. `frameworks` are the
/// study's enabled framework keys in study order.
pub fn load_sample(
    store: &Store,
    set: &str,
    frameworks: &[String],
) -> Result<SampleData, EstimateError> {
    let Some(json) = store.design(set)? else {
        return Err(LabelError::NoSet(set.to_string()).into());
    };
    let design: Design = serde_json::from_str(&json).map_err(|e| EstimateError::BadDesign {
        set: set.to_string(),
        message: e.to_string(),
    })?;
    if design.kind == DesignKind::Convenience {
        return Err(EstimateError::Convenience {
            set: set.to_string(),
            reason: design.reason.clone(),
        });
    }
    let population = design.population.clone().unwrap_or(Population::All);
    let mut left_out: HashSet<PostKey> = HashSet::new();
    for b in &design.excluded_batches {
        left_out.extend(store.batch_posts(b)?);
    }
    let (members, dropped): (Vec<Member>, Vec<Member>) = store
        .members()?
        .into_iter()
        .filter(|m| population.contains(m))
        .partition(|m| !left_out.contains(&m.key()));
    let in_population: HashSet<(&str, i64)> =
        members.iter().map(|m| (m.site.as_str(), m.id)).collect();
    let labels = crate::label::gather(store, set)?;
    let is_batch = store.batch_exists(set)?;
    // The sample: the batch's posts (with their strata), or the set's posts.
    let drawn: Vec<(PostKey, String)> = if is_batch {
        let strata = store.batch_strata(set)?;
        store
            .batch_posts(set)?
            .into_iter()
            .map(|key| {
                let s = strata.get(&key).cloned().unwrap_or_default();
                (key, s)
            })
            .collect()
    } else {
        labels
            .keys()
            .map(|key| (key.clone(), "all".to_string()))
            .collect()
    };
    let drawn_keys: HashSet<&PostKey> = drawn.iter().map(|(key, _)| key).collect();
    let outside_batch = labels
        .keys()
        .filter(|key| !drawn_keys.contains(key))
        .count();
    let outside: Vec<&PostKey> = drawn
        .iter()
        .map(|(key, _)| key)
        .filter(|key| !in_population.contains(&(key.site.as_str(), key.id)))
        .collect();
    if let Some(first) = outside.first() {
        return Err(EstimateError::OutsidePopulation {
            set: set.to_string(),
            population: population.describe(),
            count: outside.len(),
            site: first.site.clone(),
            id: first.id,
        });
    }
    let mut posts = Vec::with_capacity(drawn.len());
    let (mut unlabeled, mut unresolved) = (0, 0);
    let mut strata: Vec<String> = Vec::new();
    for (key, stratum) in drawn {
        let stratum = if design.kind == DesignKind::Stratified {
            stratum
        } else {
            "all".to_string()
        };
        if !strata.contains(&stratum) {
            strata.push(stratum.clone());
        }
        let label = match labels.get(&key) {
            None => {
                unlabeled += 1;
                None
            }
            Some(p) => match p.resolved() {
                Some((primary, _)) => Some(primary),
                None => {
                    unresolved += 1;
                    None
                }
            },
        };
        posts.push(SamplePost {
            site: key.site,
            id: key.id,
            stratum,
            label,
        });
    }
    if design.kind == DesignKind::Stratified {
        // Strata of the population with no sample post still count.
        for m in &members {
            let s = first_framework_stratum(m, frameworks);
            if !strata.contains(&s) {
                strata.push(s);
            }
        }
    }
    let data = SampleData {
        set: set.to_string(),
        design,
        population,
        members,
        posts,
        unlabeled,
        unresolved,
        outside_batch,
        strata,
        left_out: dropped.len(),
    };
    if data.labeled() < 2 {
        return Err(EstimateError::TooFewLabeled {
            set: set.to_string(),
            labeled: data.labeled(),
        });
    }
    Ok(data)
}

/// How the shares were estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// PPI++ with power tuning: a model that saw no post of the population.
    #[serde(rename = "ppi")]
    Ppi,
    /// Cross-prediction: K models trained on folds of the sample.
    #[serde(rename = "cross-ppi")]
    CrossPpi,
    /// The labeled sample alone (a group with too few labeled posts).
    #[serde(rename = "sample-only")]
    SampleOnly,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Ppi => "prediction-powered inference (PPI++, power-tuned)",
            Method::CrossPpi => "cross-prediction-powered inference",
            Method::SampleOnly => "the labeled sample alone (Wilson interval)",
        }
    }
}

/// One population member as the estimator sees it.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Index into the strata.
    pub stratum: u32,
    /// The label's category index, for a labeled sample post.
    pub label: Option<u16>,
    /// Predicted category indices: one (PPI, and a labeled post's held-out
    /// prediction in cross-prediction) or one per fold model.
    pub predicted: Vec<u16>,
    /// Indices of its frameworks.
    pub frameworks: Vec<u16>,
    pub year: Option<i32>,
}

impl Unit {
    fn share_predicted(&self, c: u16) -> f64 {
        if self.predicted.is_empty() {
            return 0.0;
        }
        self.predicted.iter().filter(|&&p| p == c).count() as f64 / self.predicted.len() as f64
    }
}

/// The sample alone: k of n labeled posts and the Wilson interval.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct SampleOnly {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    pub count: u64,
}

/// One category's share.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Share {
    pub estimate: f64,
    /// The interval (finite-population form, see `analyze::ppi`), clipped
    /// to [0, 1].
    pub low: f64,
    pub high: f64,
    /// Whether `low` or `high` was clipped at 0 or 1.
    pub clipped: bool,
    /// ppi-python's interval (infinite population), unclipped.
    pub low_infinite: f64,
    pub high_infinite: f64,
    /// The power-tuning λ (PPI++, one stratum; 1 in cross-prediction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda: Option<f64>,
    pub sample_only: SampleOnly,
    /// The classifier's raw share of the population.
    pub classified: f64,
}

/// One stratum's per-category estimates (stratified samples).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StratumShares {
    pub stratum: String,
    pub population: usize,
    pub labeled: usize,
    pub weight: f64,
    pub shares: BTreeMap<String, StratumShare>,
}

/// One category in one stratum, as ppi-python computes it there.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct StratumShare {
    pub estimate: f64,
    pub se: f64,
    pub se_finite: f64,
    pub lambda: f64,
}

/// Shares of one population or group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Shares {
    pub method: Method,
    pub labeled: usize,
    pub population: usize,
    pub shares: BTreeMap<String, Share>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strata: Vec<StratumShares>,
    /// Why the group shows the sample-only figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Estimates every category's share over `units` (the population or a
/// group of it): per stratum, PPI++ or cross-prediction on its labeled and
/// unlabeled units, combined with weights N_h / N. `None` when a stratum has
/// fewer than 2 labeled units.
pub fn estimate(
    units: &[&Unit],
    strata: &[String],
    categories: &[String],
    method: Method,
    confidence: f64,
) -> Option<Shares> {
    let alpha = 1.0 - confidence;
    let z = ppi::z_two_sided(alpha);
    let total = units.len();
    let labeled: Vec<&&Unit> = units.iter().filter(|u| u.label.is_some()).collect();
    let mut by_stratum: Vec<(usize, Vec<&Unit>)> = Vec::new();
    for (h, _) in strata.iter().enumerate() {
        let us: Vec<&Unit> = units
            .iter()
            .copied()
            .filter(|u| u.stratum as usize == h)
            .collect();
        if !us.is_empty() {
            by_stratum.push((h, us));
        }
    }
    let mut shares = BTreeMap::new();
    let mut per_stratum: Vec<StratumShares> = by_stratum
        .iter()
        .map(|(h, us)| StratumShares {
            stratum: strata[*h].clone(),
            population: us.len(),
            labeled: us.iter().filter(|u| u.label.is_some()).count(),
            weight: us.len() as f64 / total as f64,
            shares: BTreeMap::new(),
        })
        .collect();
    for (c, key) in categories.iter().enumerate() {
        let c = c as u16;
        let mut fin = Vec::new();
        let mut inf = Vec::new();
        let mut lambda = None;
        for (i, (_, us)) in by_stratum.iter().enumerate() {
            let (mut y, mut yhat, mut yu) = (Vec::new(), Vec::new(), Vec::new());
            for u in us {
                match u.label {
                    Some(l) => {
                        y.push(f64::from(l == c));
                        yhat.push(u.share_predicted(c));
                    }
                    None => yu.push(u.share_predicted(c)),
                }
            }
            let m = stratum_mean(&y, &yhat, &yu, method)?;
            let w = per_stratum[i].weight;
            fin.push(Stratum {
                weight: w,
                estimate: m.estimate,
                se: m.se_finite,
            });
            inf.push(Stratum {
                weight: w,
                estimate: m.estimate,
                se: m.se,
            });
            lambda = Some(m.lambda);
            per_stratum[i].shares.insert(
                key.clone(),
                StratumShare {
                    estimate: m.estimate,
                    se: m.se,
                    se_finite: m.se_finite,
                    lambda: m.lambda,
                },
            );
        }
        let (est, se_fin) = ppi::stratified(&fin);
        let (_, se_inf) = ppi::stratified(&inf);
        let (lo, hi) = (est - z * se_fin, est + z * se_fin);
        let count = labeled.iter().filter(|u| u.label == Some(c)).count() as u64;
        let w = wilson(count, labeled.len() as u64, confidence)?;
        let classified =
            units.iter().map(|u| u.share_predicted(c)).sum::<f64>() / total.max(1) as f64;
        shares.insert(
            key.clone(),
            Share {
                estimate: est,
                low: lo.clamp(0.0, 1.0),
                high: hi.clamp(0.0, 1.0),
                clipped: lo < 0.0 || hi > 1.0,
                low_infinite: est - z * se_inf,
                high_infinite: est + z * se_inf,
                lambda: (by_stratum.len() == 1).then_some(lambda).flatten(),
                sample_only: SampleOnly {
                    estimate: count as f64 / labeled.len() as f64,
                    low: w.lo,
                    high: w.hi,
                    count,
                },
                classified,
            },
        );
    }
    Some(Shares {
        method,
        labeled: labeled.len(),
        population: total,
        shares,
        strata: if by_stratum.len() > 1 {
            per_stratum
        } else {
            Vec::new()
        },
        note: None,
    })
}

/// One stratum's mean: the PPI method, or the exact share when the sample
/// holds the whole stratum.
fn stratum_mean(y: &[f64], yhat: &[f64], yu: &[f64], method: Method) -> Option<PpiMean> {
    if y.len() < 2 {
        return None;
    }
    if yu.is_empty() {
        return Some(PpiMean {
            estimate: y.iter().sum::<f64>() / y.len() as f64,
            se: 0.0,
            se_finite: 0.0,
            lambda: 0.0,
            labeled: y.len(),
            unlabeled: 0,
        });
    }
    match method {
        Method::Ppi => ppi::ppi_mean(y, yhat, yu),
        _ => ppi::crossppi_mean(y, yhat, yu),
    }
}

/// The sample-only figure of a group (too few labeled posts), with `note`.
pub fn sample_only(
    units: &[&Unit],
    categories: &[String],
    confidence: f64,
    note: String,
) -> Shares {
    let labeled: Vec<&&Unit> = units.iter().filter(|u| u.label.is_some()).collect();
    let n = labeled.len() as u64;
    let mut shares = BTreeMap::new();
    for (c, key) in categories.iter().enumerate() {
        let c = c as u16;
        let count = labeled.iter().filter(|u| u.label == Some(c)).count() as u64;
        let w = wilson(count, n, confidence);
        let est = if n > 0 {
            count as f64 / n as f64
        } else {
            f64::NAN
        };
        let (lo, hi) = w.map_or((0.0, 1.0), |w| (w.lo, w.hi));
        let so = SampleOnly {
            estimate: if est.is_nan() { 0.0 } else { est },
            low: lo,
            high: hi,
            count,
        };
        let classified =
            units.iter().map(|u| u.share_predicted(c)).sum::<f64>() / units.len().max(1) as f64;
        shares.insert(
            key.clone(),
            Share {
                estimate: so.estimate,
                low: lo,
                high: hi,
                clipped: false,
                low_infinite: lo,
                high_infinite: hi,
                lambda: None,
                sample_only: so,
                classified,
            },
        );
    }
    Shares {
        method: Method::SampleOnly,
        labeled: labeled.len(),
        population: units.len(),
        shares,
        strata: Vec::new(),
        note: Some(note),
    }
}

/// Estimates over the whole population and per framework and per year.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Breakdown {
    pub overall: Shares,
    pub per_framework: BTreeMap<String, Shares>,
    pub per_year: BTreeMap<String, Shares>,
}

/// The overall estimate, and per framework (`frameworks`, indices as in
/// `Unit::frameworks`) and per year where the sample has labeled posts in
/// the group; a group with fewer than [`MIN_GROUP_LABELED`] shows the
/// sample-only figure.
pub fn breakdown(
    units: &[Unit],
    strata: &[String],
    categories: &[String],
    frameworks: &[String],
    method: Method,
    confidence: f64,
) -> Option<Breakdown> {
    let all: Vec<&Unit> = units.iter().collect();
    let overall = estimate(&all, strata, categories, method, confidence)?;
    let group = |us: Vec<&Unit>| -> Option<Shares> {
        let labeled = us.iter().filter(|u| u.label.is_some()).count();
        if labeled == 0 {
            return None;
        }
        if labeled < MIN_GROUP_LABELED {
            return Some(sample_only(
                &us,
                categories,
                confidence,
                format!(
                    "{labeled} labeled posts, fewer than {MIN_GROUP_LABELED}: the sample alone"
                ),
            ));
        }
        estimate(&us, strata, categories, method, confidence).or_else(|| {
            Some(sample_only(
                &us,
                categories,
                confidence,
                "a stratum of this group has fewer than 2 labeled posts: the sample alone".into(),
            ))
        })
    };
    let mut per_framework = BTreeMap::new();
    for (f, key) in frameworks.iter().enumerate() {
        let us: Vec<&Unit> = units
            .iter()
            .filter(|u| u.frameworks.contains(&(f as u16)))
            .collect();
        if let Some(s) = group(us) {
            per_framework.insert(key.clone(), s);
        }
    }
    let mut years: Vec<i32> = units.iter().filter_map(|u| u.year).collect();
    years.sort_unstable();
    years.dedup();
    let mut per_year = BTreeMap::new();
    for y in years {
        let us: Vec<&Unit> = units.iter().filter(|u| u.year == Some(y)).collect();
        if let Some(s) = group(us) {
            per_year.insert(y.to_string(), s);
        }
    }
    Some(Breakdown {
        overall,
        per_framework,
        per_year,
    })
}

/// A category's prediction-powered yearly slope: the category indicator
/// regressed on the year (X = [1, year]) as `ppi_py.ppi_ols_ci` computes it
/// (power-tuned), in percentage points per year, with its interval
/// (ppi_py's, infinite population).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Slope {
    pub slope_per_year: f64,
    pub low: f64,
    pub high: f64,
    /// The power-tuning λ.
    pub lambda: f64,
}

/// The labeled and unlabeled units with a year, for one category's slope:
/// (x, y, yhat, x_unlabeled, yhat_unlabeled). In cross-prediction `yhat` is
/// a labeled post's held-out prediction and `yhat_unlabeled` the fold
/// models' mean, as for the shares.
fn slope_inputs(units: &[Unit], c: u16) -> [Vec<f64>; 5] {
    let mut out: [Vec<f64>; 5] = Default::default();
    for u in units {
        let Some(year) = u.year else { continue };
        match u.label {
            Some(l) => {
                out[0].push(f64::from(year));
                out[1].push(f64::from(l == c));
                out[2].push(u.share_predicted(c));
            }
            None => {
                out[3].push(f64::from(year));
                out[4].push(u.share_predicted(c));
            }
        }
    }
    out
}

/// Per category, the prediction-powered yearly slope where the random sample
/// covers the years: at least 2 distinct years among the labeled posts and
/// a simple random sample (a stratified one samples its strata at different
/// rates, which a pooled regression does not weigh: none is given). Posts
/// without a year are left out.
pub fn trends(
    units: &[Unit],
    categories: &[String],
    design: DesignKind,
    confidence: f64,
) -> BTreeMap<String, Slope> {
    let mut out = BTreeMap::new();
    if design != DesignKind::Random {
        return out;
    }
    let z = ppi::z_two_sided(1.0 - confidence);
    for (c, key) in categories.iter().enumerate() {
        let [x, y, yhat, xu, yhu] = slope_inputs(units, c as u16);
        let mut years: Vec<i64> = x.iter().map(|v| *v as i64).collect();
        years.sort_unstable();
        years.dedup();
        if years.len() < 2 {
            return BTreeMap::new();
        }
        let Some(o) = ppi::ppi_ols(&x, &y, &yhat, &xu, &yhu) else {
            continue;
        };
        if !(o.slope.is_finite() && o.se_slope.is_finite()) {
            continue;
        }
        out.insert(
            key.clone(),
            Slope {
                slope_per_year: 100.0 * o.slope,
                low: 100.0 * (o.slope - z * o.se_slope),
                high: 100.0 * (o.slope + z * o.se_slope),
                lambda: o.lambda,
            },
        );
    }
    out
}

/// Cross-prediction's models: the labeled sample in `folds` stratified folds
/// (seed 0); model k is trained on every fold but k plus `extra`. Returns the
/// models and each sample example's held-out prediction (its category key).
pub fn cross_fit(
    sample: &[Example],
    extra: &[Example],
    categories: &[Category],
    params: &TrainParams,
    folds: usize,
    set: &str,
) -> Result<(Vec<Model>, Vec<String>), EstimateError> {
    if !(2..=20).contains(&folds) || folds > sample.len() {
        return Err(EstimateError::Folds {
            folds,
            labeled: sample.len().min(20),
        });
    }
    use rayon::prelude::*;
    let fold = stratified_folds(sample, folds, 0);
    let several = sample
        .iter()
        .chain(extra)
        .any(|e| e.primary != sample[0].primary);
    let fitted: Vec<(Model, Vec<(usize, String)>)> = (0..folds)
        .into_par_iter()
        .map(|k| -> Result<_, EstimateError> {
            let train: Vec<Example> = sample
                .iter()
                .zip(&fold)
                .filter(|(_, f)| **f != k)
                .map(|(e, _)| e.clone())
                .chain(extra.iter().cloned())
                .collect();
            let model =
                classify::train(&train, categories, params, &format!("cross-fold-{k}"), set)
                    .map_err(|e| match e {
                        // The labels as a whole have two categories or more:
                        // it is this fold's training part that has one.
                        classify::TrainError::OneCategory { category } if several => {
                            classify::TrainError::OneCategoryPart {
                                part: format!("fold {} of {folds}-fold cross-prediction", k + 1),
                                category,
                            }
                        }
                        e => e,
                    })?;
            let test: Vec<usize> = (0..sample.len()).filter(|&i| fold[i] == k).collect();
            let refs: Vec<&Example> = test.iter().map(|&i| &sample[i]).collect();
            let predicted = classify::predict_all(&model, &refs);
            Ok((model, test.into_iter().zip(predicted).collect()))
        })
        .collect::<Result<_, _>>()?;
    let mut held_out = vec![String::new(); sample.len()];
    let mut models = Vec::with_capacity(folds);
    for (model, preds) in fitted {
        for (i, p) in preds {
            held_out[i] = p;
        }
        models.push(model);
    }
    Ok((models, held_out))
}

/// Gives a batch of posts their embeddings (a hybrid model's), or nothing.
pub type Attach<'a> = dyn FnMut(&mut [(&str, i64, &mut Doc)]) -> Result<(), StoreError> + 'a;

/// Predicted category indices (study order) of the questions in `keys`:
/// one per model, read in batches of 4,096 questions. `attach` gives a
/// batch's posts their embeddings when the models read them.
pub fn predict_questions(
    store: &Store,
    keys: &HashSet<PostKey>,
    models: &[&Model],
    categories: &[String],
    attach: &mut Attach<'_>,
) -> Result<HashMap<PostKey, Vec<u16>>, EstimateError> {
    use rayon::prelude::*;
    let index = category_index(categories);
    let maps: Vec<Vec<u16>> = models
        .iter()
        .map(|m| {
            m.categories
                .iter()
                .map(|c| {
                    index
                        .get(c.as_str())
                        .copied()
                        .ok_or_else(|| EstimateError::ModelCategory {
                            model: m.name.clone(),
                            category: c.clone(),
                        })
                })
                .collect::<Result<Vec<u16>, _>>()
        })
        .collect::<Result<_, _>>()?;
    let mut out = HashMap::with_capacity(keys.len());
    store.for_each_question_doc(4096, |batch| {
        let mut batch: Vec<(String, i64, Doc)> = batch
            .into_iter()
            .filter(|(site, id, _)| keys.contains(&PostKey::new(site.clone(), *id)))
            .collect();
        if batch.is_empty() {
            return Ok(());
        }
        let mut posts: Vec<(&str, i64, &mut Doc)> = batch
            .iter_mut()
            .map(|(site, id, doc)| (site.as_str(), *id, doc))
            .collect();
        attach(&mut posts)?;
        let predicted: Vec<(PostKey, Vec<u16>)> = batch
            .into_par_iter()
            .map(|(site, id, doc)| {
                let p = Model::predict_each(models, &doc)
                    .iter()
                    .zip(&maps)
                    .map(|(p, map)| map[p.category])
                    .collect();
                (PostKey::new(site, id), p)
            })
            .collect();
        out.extend(predicted);
        Ok(())
    })?;
    Ok(out)
}

/// The estimator's units: one per population member, in member order, with
/// its stratum, its label (labeled sample posts), its predictions
/// (`predicted`, by key) and its groups.
pub fn units(
    data: &SampleData,
    predicted: &HashMap<PostKey, Vec<u16>>,
    categories: &[String],
    frameworks: &[String],
) -> Vec<Unit> {
    let index = category_index(categories);
    let sample: HashMap<(&str, i64), &SamplePost> = data
        .posts
        .iter()
        .map(|p| ((p.site.as_str(), p.id), p))
        .collect();
    let stratum_index = |s: &str| data.strata.iter().position(|x| x == s).unwrap_or(0) as u32;
    data.members
        .iter()
        .map(|m| {
            let post = sample.get(&(m.site.as_str(), m.id));
            let stratum = match (data.design.kind, post) {
                (DesignKind::Stratified, Some(p)) => stratum_index(&p.stratum),
                (DesignKind::Stratified, None) => {
                    stratum_index(&first_framework_stratum(m, frameworks))
                }
                _ => 0,
            };
            Unit {
                stratum,
                label: post
                    .and_then(|p| p.label.as_deref())
                    .and_then(|l| index.get(l).copied()),
                predicted: predicted.get(&m.key()).cloned().unwrap_or_default(),
                frameworks: m
                    .frameworks
                    .iter()
                    .filter_map(|f| frameworks.iter().position(|x| x == f))
                    .map(|i| i as u16)
                    .collect(),
                year: m.year,
            }
        })
        .collect()
}

/// The estimator's inputs per stratum, in the form of
/// tests/data/reference/make_ppi_reference.py `--check`: per category `y`,
/// `yhat` and `yhat_unlabeled` (N × K, one column per model, for
/// cross-prediction), so ppi-python can recompute each stratum's estimate.
pub fn reference_inputs(
    units: &[Unit],
    strata: &[String],
    categories: &[String],
    method: Method,
    confidence: f64,
) -> serde_json::Value {
    use serde_json::json;
    let mut out = Vec::new();
    for (h, name) in strata.iter().enumerate() {
        let us: Vec<&Unit> = units.iter().filter(|u| u.stratum as usize == h).collect();
        let mut cats = serde_json::Map::new();
        for (c, key) in categories.iter().enumerate() {
            let c = c as u16;
            let one = |p: &u16| f64::from(*p == c);
            let y: Vec<f64> = us
                .iter()
                .filter_map(|u| u.label.map(|l| f64::from(l == c)))
                .collect();
            let yhat: Vec<f64> = us
                .iter()
                .filter(|u| u.label.is_some())
                .map(|u| u.share_predicted(c))
                .collect();
            let unl = us.iter().filter(|u| u.label.is_none());
            let yu: serde_json::Value = match method {
                Method::CrossPpi => json!(
                    unl.map(|u| u.predicted.iter().map(one).collect::<Vec<f64>>())
                        .collect::<Vec<_>>()
                ),
                _ => json!(unl.map(|u| u.share_predicted(c)).collect::<Vec<f64>>()),
            };
            cats.insert(
                key.clone(),
                json!({"method": if method == Method::CrossPpi { "cross" } else { "ppi" },
                       "y": y, "yhat": yhat, "yhat_unlabeled": yu}),
            );
        }
        out.push(json!({"stratum": name, "categories": cats}));
    }
    let mut trend = serde_json::Map::new();
    for (c, key) in categories.iter().enumerate() {
        let [x, y, yhat, xu, yhu] = slope_inputs(units, c as u16);
        trend.insert(
            key.clone(),
            json!({"x": x, "y": y, "yhat": yhat, "x_unlabeled": xu, "yhat_unlabeled": yhu}),
        );
    }
    json!({"alpha": 1.0 - confidence, "strata": out, "trend": trend})
}

/// Category indices by key.
pub fn category_index(categories: &[String]) -> HashMap<&str, u16> {
    categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u16))
        .collect()
}

/// What a stored estimate depends on, to tell when it is stale.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Depends {
    /// `SampleData::labels_hash` of the sample.
    pub labels_hash: String,
    /// `SampleData::population_hash`.
    pub population_hash: String,
    /// The classifier: a model's name and training labels hash, or the kind,
    /// folds and extra label sets of cross-prediction.
    pub classifier: String,
    /// [`classifications_hash`] when the estimate was made: the report sets
    /// the estimate beside the study's classifications, so classifying
    /// again (another model, other questions) makes it stale. `None` in
    /// estimates stored before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifications: Option<String>,
}

/// A fingerprint of the study's classifications: per model and category,
/// the number of questions (FNV-1a 64, hex), and the models' names.
pub fn classifications_hash(store: &Store) -> Result<(String, Vec<String>), StoreError> {
    let counts = store.classification_counts()?;
    let lines: Vec<String> = counts
        .iter()
        .map(|(m, c, n)| format!("{m}\t{c}\t{n}"))
        .collect();
    let mut models: Vec<String> = counts.into_iter().map(|(m, _, _)| m).collect();
    models.dedup();
    Ok((classify::fnv1a_hex(&[lines.join("\n").as_bytes()]), models))
}

/// A stored estimate: `results` key `estimate:SET`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Stored {
    pub method: Method,
    pub sample: String,
    pub labeled: usize,
    pub population: usize,
    pub population_desc: String,
    pub design: DesignKind,
    pub confidence: f64,
    /// Sample posts with no label (skipped, or disagreed and not adjudicated).
    pub missing: usize,
    pub missing_at_random_assumed: bool,
    pub classifier: String,
    pub shares: BTreeMap<String, Share>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strata: Vec<StratumShares>,
    pub per_framework: BTreeMap<String, Shares>,
    pub per_year: BTreeMap<String, Shares>,
    /// Per category, the prediction-powered yearly slope (see [`trends`]);
    /// empty when the sample does not cover the years.
    #[serde(default)]
    pub trend: BTreeMap<String, Slope>,
    pub depends: Depends,
}

/// The results key of a set's estimate.
pub fn result_key(set: &str) -> String {
    format!("estimate:{set}")
}

/// Whether a stored estimate still matches the study: `None` when it does,
/// else why not: its sample's labels, the population's questions or the
/// study's classifications (the model that classified them, or what it
/// said) changed. (The estimate's own classifier is not rechecked: a PPI
/// model is named by its training labels' hash in `Depends::classifier`,
/// cross-prediction's models are trained from the sample.)
pub fn staleness(
    store: &Store,
    stored: &Stored,
    frameworks: &[String],
) -> Result<Option<String>, EstimateError> {
    let data = match load_sample(store, &stored.sample, frameworks) {
        Ok(d) => d,
        Err(EstimateError::Store(e)) => return Err(EstimateError::Store(e)),
        Err(e) => return Ok(Some(format!("its sample cannot be read any more: {e}"))),
    };
    if data.labels_hash() != stored.depends.labels_hash {
        return Ok(Some(format!(
            "the labels of {} changed since",
            stored.sample
        )));
    }
    if data.population_hash() != stored.depends.population_hash {
        return Ok(Some("the study's questions changed since".into()));
    }
    if let Some(want) = &stored.depends.classifications {
        let (now, models) = classifications_hash(store)?;
        if &now != want {
            return Ok(Some(match models.as_slice() {
                [] => "the study's classifications were removed since".into(),
                m => format!(
                    "the study's classifications changed since (now by model {})",
                    m.join(", ")
                ),
            }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn populations_parse_and_describe() {
        let f = vec!["pytorch".to_string()];
        assert_eq!(Population::parse("all", &f).unwrap(), Population::All);
        assert_eq!(
            Population::parse("framework:pytorch", &f).unwrap(),
            Population::Framework {
                key: "pytorch".into()
            }
        );
        assert_eq!(
            Population::parse("years:2017-2019", &f).unwrap(),
            Population::Years {
                from: 2017,
                to: 2019
            }
        );
        assert_eq!(
            Population::parse("years:2018", &f).unwrap().describe(),
            "year 2018"
        );
        for bad in [
            "",
            "some",
            "years:2019-2017",
            "years:x",
            "framework:",
            "years:-",
        ] {
            assert!(Population::parse(bad, &f).is_err(), "{bad}");
        }
        let d = Design::random(Population::All, Some(3));
        let back: Design = serde_json::from_str(&d.to_json()).unwrap();
        assert_eq!(back, d);
        // The schema's default reads as a convenience set.
        let c: Design = serde_json::from_str(r#"{"kind":"convenience"}"#).unwrap();
        assert_eq!(c.kind, DesignKind::Convenience);
    }

    #[test]
    fn a_stratified_estimate_combines_strata_by_population_share() {
        // Stratum 0: 10 labeled of 40, stratum 1: 10 labeled of 20; perfect
        // predictions, so each stratum's estimate is its true share.
        let mut units = Vec::new();
        for h in 0..2u32 {
            let n = if h == 0 { 40 } else { 20 };
            for i in 0..n {
                let cat = u16::from(i % (h as usize + 2) == 0);
                units.push(Unit {
                    stratum: h,
                    label: (i < 10).then_some(cat),
                    predicted: vec![cat],
                    frameworks: vec![],
                    year: None,
                });
            }
        }
        let refs: Vec<&Unit> = units.iter().collect();
        let cats = vec!["a".to_string(), "b".to_string()];
        let strata = vec!["s0".to_string(), "s1".to_string()];
        let s = estimate(&refs, &strata, &cats, Method::Ppi, 0.95).unwrap();
        // True shares of b: stratum 0 every 2nd (20/40), stratum 1 every 3rd (7/20).
        let want = 40.0 / 60.0 * 0.5 + 20.0 / 60.0 * (7.0 / 20.0);
        assert!((s.shares["b"].estimate - want).abs() < 0.05, "{s:?}");
        assert_eq!(s.strata.len(), 2);
        assert_eq!(s.labeled, 20);
        assert_eq!(s.population, 60);
    }
}

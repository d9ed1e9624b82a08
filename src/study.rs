//! The study file `study.toml`: which frameworks (tag patterns) a study keeps,
//! and which categories it sorts questions into.
//!
//! A study lives in one folder: `study.toml`, the store `study.db`, and later
//! `models/` and `report/`. [`Study::load`] reads and validates the file;
//! [`DEFAULT_STUDY_TOML`] is the deep learning study of `init`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The default study: Zhang et al. (ISSRE 2019), frameworks and the seven kinds
/// of the codebook.
/// At most this many `[[root_causes]]` (the labeling page gives each a key).
pub const MAX_ROOT_CAUSES: usize = 9;

pub const DEFAULT_STUDY_TOML: &str = include_str!("../assets/study.toml");

/// The study file's name inside a study folder.
pub const STUDY_FILE: &str = "study.toml";

/// Errors reading a study file.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{} is not a valid study file: {}", path.display(), error.to_string().trim_end())]
    Parse {
        path: PathBuf,
        error: Box<toml::de::Error>,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("no study.toml in {}: run `stackmine init {}` first", dir.display(), dir.display())]
    Missing { dir: PathBuf },
}

/// The rule for framework and category keys, as messages and the README
/// state it.
pub const KEY_RULE: &str = "1–32 of a-z, 0-9, '_' and '-'";

/// Framework keys that name groups of their own: `all` (every question, in
/// statistics) and `other` (questions of no framework, in samples).
pub const RESERVED_FRAMEWORK_KEYS: [&str; 2] = ["all", "other"];

/// Checks a framework or category key against [`KEY_RULE`]: keys appear in
/// lists (`;`- and `,`-separated), file names, URLs and reports.
pub fn check_key(what: &str, key: &str) -> Result<(), String> {
    let ok = (1..=32).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        let shown: String = key.chars().take(40).collect();
        let more = if key.chars().count() > 40 { "…" } else { "" };
        Err(format!(
            "{what} key {:?}{more} is not valid: a key is {KEY_RULE}",
            shown
        ))
    }
}

/// How a framework's tag patterns match a question's tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    /// The tag contains the pattern (the study's `LIKE '%pattern%'`).
    #[default]
    Substring,
    /// The tag equals the pattern.
    Exact,
    /// The tag starts with the pattern.
    Prefix,
}

fn yes() -> bool {
    true
}

/// A framework: a named set of tag patterns.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub key: String,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default, rename = "match")]
    pub match_mode: MatchMode,
    pub tags: Vec<String>,
}

impl Framework {
    /// Whether one tag matches one of this framework's patterns.
    pub fn matches_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|p| match self.match_mode {
            MatchMode::Substring => tag.contains(p.as_str()),
            MatchMode::Exact => tag == p,
            MatchMode::Prefix => tag.starts_with(p.as_str()),
        })
    }

    /// Whether any of a question's tags matches.
    pub fn matches<S: AsRef<str>>(&self, tags: &[S]) -> bool {
        tags.iter().any(|t| self.matches_tag(t.as_ref()))
    }
}

/// A category of the study's scheme.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// A root-cause code of the study's RQ3 (`[[root_causes]]`): what an
/// annotator reads from the accepted (or asker-endorsed) answer. A label may
/// carry several.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootCause {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// The `[endorsements]` table: which comments of a question's owner under an
/// answer endorse it (see [`crate::endorse`]). A study file without the
/// table gets the default study's lists.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Endorsements {
    /// A comment endorses when it contains one of these (case-insensitive,
    /// on word boundaries)...
    pub phrases: Vec<String>,
    /// ...and none of these.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// At most this many phrases in each `[endorsements]` list, and characters
/// in one phrase.
pub const MAX_ENDORSEMENT_PHRASES: usize = 1000;
pub const MAX_ENDORSEMENT_PHRASE_CHARS: usize = 200;

impl Default for Endorsements {
    /// The default study's lists (assets/study.toml).
    fn default() -> Endorsements {
        #[derive(Deserialize)]
        struct Only {
            endorsements: Endorsements,
        }
        toml::from_str::<Only>(DEFAULT_STUDY_TOML)
            .expect("the built-in study file has [endorsements]")
            .endorsements
    }
}

/// The `[study]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyMeta {
    pub name: String,
    #[serde(default)]
    pub seed: u64,
}

/// One framework's published Table I row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PublishedTable1 {
    pub framework: String,
    pub questions: u64,
    pub views_max: u64,
    pub views_q3: f64,
    pub views_median: f64,
}

/// The published classifier quality.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PublishedClassifier {
    pub precision: f64,
    pub recall: f64,
    /// How it was evaluated, for the report's quality table.
    #[serde(default = "published_protocol")]
    pub protocol: String,
    /// How many posts it was evaluated on.
    #[serde(default = "published_posts")]
    pub posts: u64,
}

/// The study's (study.md) evaluation, when `[published.classifier]` gives none.
fn published_protocol() -> String {
    "60/40 split of 715 posts; correct when any of the post's labels".into()
}

/// The study's test posts (40 % of 715), when `[published.classifier]` gives none.
fn published_posts() -> u64 {
    286
}

/// A study's published figures, shown beside a run's in the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Published {
    pub source: String,
    #[serde(default)]
    pub table1: Vec<PublishedTable1>,
    /// Category → share of questions (0–1).
    #[serde(default)]
    pub distribution: std::collections::BTreeMap<String, f64>,
    /// Category → share with an accepted answer (0–1).
    #[serde(default)]
    pub accepted_rate: std::collections::BTreeMap<String, f64>,
    /// Category → hours to the accepted answer [Q1, median, Q3].
    #[serde(default)]
    pub hours: std::collections::BTreeMap<String, [f64; 3]>,
    #[serde(default)]
    pub per_year: std::collections::BTreeMap<String, u64>,
    /// Mean hours to the accepted answer: performance questions, then all
    /// the others.
    #[serde(default)]
    pub performance_mean_hours: Option<[f64; 2]>,
    pub classifier: Option<PublishedClassifier>,
    #[serde(default)]
    pub caveats: Vec<String>,
}

impl Published {
    /// The accepted-answer rates of performance questions and of all the
    /// others (the other categories' rates weighted by their shares), when
    /// the study gives the rate and share of performance and of another
    /// category.
    pub fn performance_rates(&self) -> Option<(f64, f64)> {
        let perf = *self.accepted_rate.get("performance")?;
        let (mut weight, mut sum) = (0.0, 0.0);
        for (category, share) in &self.distribution {
            if category != "performance" {
                if let Some(rate) = self.accepted_rate.get(category) {
                    weight += share;
                    sum += share * rate;
                }
            }
        }
        (weight > 0.0).then(|| (perf, sum / weight))
    }
}

/// A key of the file for a message: quoted, at most 40 characters.
fn shown_key(key: &str) -> String {
    let cut: String = key.chars().take(40).collect();
    if cut.len() < key.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

/// A number of the file for a message, short whatever its size: `nan`,
/// `inf`, `-5`, `0.2`, `1e300`.
fn short_num(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else if x != 0.0 && !(1e-4..1e6).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// A parsed and validated `study.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// The `[study]` table: name and seed.
    #[serde(rename = "study")]
    pub meta: StudyMeta,
    #[serde(default)]
    pub frameworks: Vec<Framework>,
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Root-cause codes; none when the file has no `[[root_causes]]`.
    #[serde(default)]
    pub root_causes: Vec<RootCause>,
    /// The endorsement phrase lists; the default study's when the file has
    /// no `[endorsements]`.
    #[serde(default)]
    pub endorsements: Endorsements,
    /// Published figures to compare with, if any.
    pub published: Option<Published>,
}

impl Study {
    /// The default deep learning study.
    pub fn default_study() -> Study {
        Study::parse(DEFAULT_STUDY_TOML, Path::new("<default study>"))
            .expect("the built-in study file is valid")
    }

    /// Reads `DIR/study.toml` (at most [`crate::limits::MAX_STUDY_BYTES`]).
    pub fn load(dir: &Path) -> Result<Study, StudyError> {
        let path = dir.join(STUDY_FILE);
        let text = match crate::limits::read_bounded_string(
            &path,
            crate::limits::MAX_STUDY_BYTES,
            "a study file",
        ) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StudyError::Missing {
                    dir: dir.to_path_buf(),
                });
            }
            Err(error) => return Err(StudyError::Read { path, error }),
        };
        Study::parse(&text, &path)
    }

    /// Parses and validates a study file's text; `path` is for messages.
    pub fn parse(text: &str, path: &Path) -> Result<Study, StudyError> {
        let study: Study = toml::from_str(text).map_err(|e| StudyError::Parse {
            path: path.to_path_buf(),
            error: Box::new(e),
        })?;
        study.validate(path)?;
        Ok(study)
    }

    fn validate(&self, path: &Path) -> Result<(), StudyError> {
        let invalid = |message: String| StudyError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let mut seen = std::collections::BTreeSet::new();
        for f in &self.frameworks {
            check_key("framework", &f.key).map_err(invalid)?;
            if RESERVED_FRAMEWORK_KEYS.contains(&f.key.as_str()) {
                return Err(invalid(format!(
                    "framework key {:?} is reserved (\"all\" and \"other\" name groups of questions in statistics and samples)",
                    f.key
                )));
            }
            if !seen.insert(f.key.as_str()) {
                return Err(invalid(format!("framework key {:?} is used twice", f.key)));
            }
            if f.tags.is_empty() || f.tags.iter().any(|t| t.is_empty()) {
                return Err(invalid(format!(
                    "framework {:?} needs at least one non-empty tag pattern",
                    f.key
                )));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.categories {
            check_key("category", &c.key).map_err(invalid)?;
            if !seen.insert(c.key.as_str()) {
                return Err(invalid(format!("category key {:?} is used twice", c.key)));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.root_causes {
            check_key("root cause", &c.key).map_err(invalid)?;
            if !seen.insert(c.key.as_str()) {
                return Err(invalid(format!("root cause key {:?} is used twice", c.key)));
            }
        }
        if self.root_causes.len() > MAX_ROOT_CAUSES {
            return Err(invalid(format!(
                "a study has at most {MAX_ROOT_CAUSES} root-cause codes, this one has {}",
                self.root_causes.len()
            )));
        }
        for (list, phrases) in [
            ("phrases", &self.endorsements.phrases),
            ("exclude", &self.endorsements.exclude),
        ] {
            if phrases.len() > MAX_ENDORSEMENT_PHRASES {
                return Err(invalid(format!(
                    "[endorsements] {list} has {} phrases, at most {MAX_ENDORSEMENT_PHRASES} are allowed",
                    phrases.len()
                )));
            }
            for p in phrases {
                if crate::endorse::normalize(p).is_empty() {
                    return Err(invalid(format!(
                        "[endorsements] {list} holds an empty phrase: give words, or remove it"
                    )));
                }
                if p.chars().count() > MAX_ENDORSEMENT_PHRASE_CHARS {
                    return Err(invalid(format!(
                        "[endorsements] {list} holds the phrase {} of over {MAX_ENDORSEMENT_PHRASE_CHARS} characters",
                        shown_key(p)
                    )));
                }
            }
        }
        if self.categories.len() < 2 {
            return Err(invalid(format!(
                "a study needs at least two categories to sort questions into, this one has {} ([[categories]] tables with key and name)",
                self.categories.len()
            )));
        }
        if let Some(p) = &self.published {
            self.validate_published(p).map_err(invalid)?;
        }
        Ok(())
    }

    /// Checks `[published]`: every number finite and in its range (shares
    /// are fractions 0–1, hours and view counts ≥ 0, quartiles in order,
    /// per-year keys years), every category and framework it names one of
    /// the study's (so a renamed category does not leave stale figures).
    fn validate_published(&self, p: &Published) -> Result<(), String> {
        let categories: Vec<&str> = self.categories.iter().map(|c| c.key.as_str()).collect();
        let frameworks: Vec<&str> = self.frameworks.iter().map(|f| f.key.as_str()).collect();
        let category = |table: &str, key: &str| {
            if categories.contains(&key) {
                Ok(())
            } else {
                Err(format!(
                    "[published] {table} names category {}, which is not a category of the study (its categories: {}); rename or remove it",
                    shown_key(key),
                    categories.join(", ")
                ))
            }
        };
        let share = |what: String, x: f64| {
            if x.is_finite() && (0.0..=1.0).contains(&x) {
                Ok(())
            } else {
                Err(format!(
                    "[published] {what} = {} is not a share: give a fraction from 0 to 1 (0.2 for 20 %)",
                    short_num(x)
                ))
            }
        };
        let non_negative = |what: String, x: f64| {
            if x.is_finite() && x >= 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "[published] {what} = {} is not a number ≥ 0",
                    short_num(x)
                ))
            }
        };
        // Counts are shown as signed 64-bit integers.
        let count = |what: String, n: u64| {
            if i64::try_from(n).is_ok() {
                Ok(())
            } else {
                Err(format!("[published] {what} = {n} is too large"))
            }
        };
        for (table, map) in [
            ("distribution", &p.distribution),
            ("accepted_rate", &p.accepted_rate),
        ] {
            for (key, &x) in map {
                category(table, key)?;
                share(format!("{table}.{}", shown_key(key)), x)?;
            }
        }
        for (key, hours) in &p.hours {
            category("hours", key)?;
            for (name, &x) in ["Q1", "median", "Q3"].iter().zip(hours) {
                non_negative(format!("hours.{} {name}", shown_key(key)), x)?;
            }
            if !(hours[0] <= hours[1] && hours[1] <= hours[2]) {
                return Err(format!(
                    "[published] hours.{} = [{}, {}, {}] is not in order: give Q1, median, Q3",
                    shown_key(key),
                    short_num(hours[0]),
                    short_num(hours[1]),
                    short_num(hours[2])
                ));
            }
        }
        if let Some(hours) = p.performance_mean_hours {
            for (name, x) in ["performance", "others"].iter().zip(hours) {
                non_negative(format!("performance_mean_hours {name}"), x)?;
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for row in &p.table1 {
            if !frameworks.contains(&row.framework.as_str()) {
                return Err(format!(
                    "[published] table1 names framework {}, which is not a framework of the study (its frameworks: {}); rename or remove it",
                    shown_key(&row.framework),
                    frameworks.join(", ")
                ));
            }
            if !seen.insert(row.framework.as_str()) {
                return Err(format!(
                    "[published] table1 has two rows for framework {}",
                    shown_key(&row.framework)
                ));
            }
            let name = shown_key(&row.framework);
            count(format!("table1 {name} questions"), row.questions)?;
            count(format!("table1 {name} views_max"), row.views_max)?;
            non_negative(format!("table1 {name} views_q3"), row.views_q3)?;
            non_negative(format!("table1 {name} views_median"), row.views_median)?;
        }
        for (year, &n) in &p.per_year {
            if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "[published] per_year key {} is not a year (four digits, as \"2018\")",
                    shown_key(year)
                ));
            }
            count(format!("per_year.{year}"), n)?;
        }
        if let Some(c) = &p.classifier {
            share("classifier.precision".into(), c.precision)?;
            share("classifier.recall".into(), c.recall)?;
        }
        Ok(())
    }

    /// The frameworks a question is kept for: the enabled ones.
    pub fn enabled_frameworks(&self) -> Vec<&Framework> {
        self.frameworks.iter().filter(|f| f.enabled).collect()
    }

    /// The keys of the enabled frameworks, in study order.
    pub fn framework_keys(&self) -> Vec<String> {
        self.enabled_frameworks()
            .iter()
            .map(|f| f.key.clone())
            .collect()
    }

    /// The category keys, in study order.
    pub fn category_keys(&self) -> Vec<String> {
        keys(&self.categories)
    }

    /// The root-cause codes' keys, in study order.
    pub fn root_cause_keys(&self) -> Vec<String> {
        self.root_causes.iter().map(|c| c.key.clone()).collect()
    }
}

/// The keys of some categories, in their order.
pub fn keys(categories: &[Category]) -> Vec<String> {
    categories.iter().map(|c| c.key.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_performance_rates_weight_the_other_kinds_by_share() {
        let s = Study::parse(DEFAULT_STUDY_TOML, Path::new("study.toml")).unwrap();
        let p = s.published.unwrap();
        let (perf, others) = p.performance_rates().unwrap();
        assert_eq!(perf, 0.2527);
        // By hand from assets/study.toml: Σ share × rate over the six other
        // kinds = 0.312014, over Σ share = 0.92 (python3).
        assert!((others - 0.312014 / 0.92).abs() < 1e-12, "{others}");
        assert_eq!(p.performance_mean_hours, Some([4.3, 2.5]));
        let none = Published {
            source: "x".into(),
            ..Published::default()
        };
        assert_eq!(none.performance_rates(), None);
    }

    #[test]
    fn default_study_has_the_codebook() {
        let s = Study::default_study();
        let keys: Vec<_> = s.categories.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "crash",
                "migration",
                "implementation",
                "training",
                "comprehension",
                "installation",
                "performance"
            ]
        );
        let on: Vec<_> = s
            .enabled_frameworks()
            .iter()
            .map(|f| f.key.as_str())
            .collect();
        assert_eq!(on, ["tensorflow", "pytorch", "deeplearning4j"]);
        let p = s.published.unwrap();
        assert_eq!(p.table1[0].questions, 37_565);
        assert_eq!(p.hours["performance"], [0.484, 1.800, 5.957]);
        let share: f64 = p.distribution.values().sum();
        assert!((share - 1.0).abs() < 1e-9, "{share}");
        assert_eq!(p.per_year.values().sum::<u64>(), 38_904);
    }

    #[test]
    fn match_modes() {
        let mut f = Framework {
            key: "tf".into(),
            name: "TF".into(),
            enabled: true,
            match_mode: MatchMode::Substring,
            tags: vec!["tensorflow".into()],
        };
        assert!(f.matches(&["python", "tensorflow-lite"]));
        f.match_mode = MatchMode::Exact;
        assert!(!f.matches(&["tensorflow-lite"]));
        assert!(f.matches(&["tensorflow"]));
        f.match_mode = MatchMode::Prefix;
        assert!(f.matches(&["tensorflow-lite"]));
        assert!(!f.matches(&["keras-tensorflow"]));
    }

    #[test]
    fn rejects_duplicate_keys() {
        let text = r#"
[study]
name = "x"
[[frameworks]]
key = "a"
name = "A"
tags = ["a"]
[[frameworks]]
key = "a"
name = "A again"
tags = ["b"]
"#;
        let err = Study::parse(text, Path::new("s.toml")).unwrap_err();
        assert!(err.to_string().contains("used twice"), "{err}");
    }
}

//! The descriptive statistics of `stackmine stats`: the study's Table I
//! (questions, view count max / Q3 / median per framework) and the answer
//! times, per framework and for all distinct questions.

use std::collections::BTreeMap;

use serde::Serialize;

use super::quantile::{mean, quantile_sorted, sorted};
use super::survival::{KaplanMeier, Subject};
use crate::store::QuestionFacts;

/// How quantiles are computed, as the output says.
pub const QUANTILE_METHOD: &str =
    "linear interpolation between closest ranks (numpy's default, R type 7)";

const HOUR_MS: f64 = 3_600_000.0;

/// Statistics of one group of questions (a framework, or all).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupStats {
    /// The framework key, or `all`.
    pub name: String,
    /// The framework's display name.
    pub label: String,
    pub questions: u64,
    pub views: Views,
    pub accepted: Accepted,
    pub hours_to_accepted: Hours,
    pub unanswered: Share,
    pub hours_to_first_answer: Hours,
    /// Questions per creation year.
    pub per_year: BTreeMap<String, u64>,
    /// Time to the accepted answer with the questions still waiting censored
    /// at the dump's date (Kaplan–Meier).
    pub acceptance_km: KmSummary,
    /// The same for the first answer.
    pub first_answer_km: KmSummary,
}

/// The horizons, in hours, at which the curves are read: 1 hour, 1 day,
/// 7 days, 30 days.
pub const HORIZONS: [f64; 4] = [1.0, 24.0, 168.0, 720.0];

/// A Kaplan–Meier summary of the time to an event (the accepted or the
/// first answer): 1 − S(t) at [`HORIZONS`] with 95 % log(−log) Greenwood
/// intervals, and the median time.
#[derive(Debug, Clone, PartialEq)]
pub struct KmSummary {
    /// `accepted` or `answered`: the JSON keys are `p_{event}_within_hours`.
    pub event: &'static str,
    pub events: u64,
    pub censored: u64,
    /// The latest dump date of the group's sites (questions are censored at
    /// their own site's date).
    pub as_of: Option<String>,
    /// 1 − S(t) per horizon; `None` for an empty group.
    pub p_within: Vec<Option<f64>>,
    pub p_within_ci: Vec<Option<[f64; 2]>>,
    pub median_hours: Option<f64>,
    pub median_reason: Option<String>,
}

impl Serialize for KmSummary {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let horizons = |v: &[Option<f64>]| -> BTreeMapInOrder<f64> {
            BTreeMapInOrder(
                HORIZONS
                    .iter()
                    .map(|h| format!("{h}"))
                    .zip(v.to_vec())
                    .collect(),
            )
        };
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("events", &self.events)?;
        m.serialize_entry("censored", &self.censored)?;
        m.serialize_entry("as_of", &self.as_of)?;
        m.serialize_entry(
            &format!("p_{}_within_hours", self.event),
            &horizons(&self.p_within),
        )?;
        m.serialize_entry(
            &format!("p_{}_within_hours_ci", self.event),
            &BTreeMapInOrder(
                HORIZONS
                    .iter()
                    .map(|h| format!("{h}"))
                    .zip(self.p_within_ci.clone())
                    .collect(),
            ),
        )?;
        m.serialize_entry("median_hours", &self.median_hours)?;
        if let Some(r) = &self.median_reason {
            m.serialize_entry("median_reason", r)?;
        }
        m.end()
    }
}

/// A map serialized in the order of its entries.
struct BTreeMapInOrder<T>(Vec<(String, Option<T>)>);

impl<T: Serialize> Serialize for BTreeMapInOrder<T> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = ser.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The subject of one question for the time to an event at `event_ms`
/// (`None`: not happened): an event when it happened by the question's
/// `as_of_ms`, else censored then. Durations below 0 (clock skew in the
/// dump) count as 0. Hours are (ms difference) / 3,600,000.
pub fn subject(q: &QuestionFacts, event_ms: Option<i64>) -> Subject {
    match event_ms {
        Some(e) if e <= q.as_of_ms => Subject {
            time: (e - q.created_ms).max(0) as f64 / HOUR_MS,
            event: true,
        },
        _ => Subject {
            time: (q.as_of_ms - q.created_ms).max(0) as f64 / HOUR_MS,
            event: false,
        },
    }
}

/// Acceptance subjects of the questions, leaving out those whose accepted
/// answer the dump lacks (their time is unknown; `stats` counts them as
/// `accepted.missing`).
pub fn acceptance_subjects<'a>(
    questions: impl IntoIterator<Item = &'a QuestionFacts>,
) -> Vec<Subject> {
    questions
        .into_iter()
        .filter(|q| q.accepted_answer_id.is_none() || q.accepted_ms.is_some())
        .map(|q| subject(q, q.accepted_ms))
        .collect()
}

/// First-answer subjects of the questions.
pub fn first_answer_subjects<'a>(
    questions: impl IntoIterator<Item = &'a QuestionFacts>,
) -> Vec<Subject> {
    questions
        .into_iter()
        .map(|q| subject(q, q.first_answer_ms))
        .collect()
}

/// A dump date as the dump writes it (`2017-03-13T16:32:33.657`, UTC).
pub fn iso_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rest = ms.rem_euclid(86_400_000);
    let (y, m, d) = crate::dump::row::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
}

/// Fits and summarizes the curve of `subjects`.
pub fn km_summary(event: &'static str, subjects: &[Subject], as_of_ms: Option<i64>) -> KmSummary {
    let km = KaplanMeier::fit(subjects);
    let empty = subjects.is_empty();
    let (p_within, p_within_ci) = HORIZONS
        .iter()
        .map(|&h| {
            if empty {
                return (None, None);
            }
            let (p, ci) = km.cumulative_at(h, 0.95);
            (Some(p), Some([ci.lo, ci.hi]))
        })
        .unzip();
    let (median_hours, median_reason) = match km.median() {
        Ok(m) => (Some(m), None),
        Err(why) => (None, Some(why.to_string())),
    };
    KmSummary {
        event,
        events: km.events,
        censored: km.censored,
        as_of: as_of_ms.map(iso_ms),
        p_within,
        p_within_ci,
        median_hours,
        median_reason,
    }
}

/// View counts of the questions that have one.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Views {
    pub max: Option<i64>,
    pub q3: Option<f64>,
    pub median: Option<f64>,
    /// Questions with a view count.
    pub n: u64,
}

/// Questions with an accepted answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Accepted {
    pub count: u64,
    pub percent: Option<f64>,
    /// Of those, how many accepted answers the dump holds.
    pub resolved: u64,
    /// Accepted answers the dump lacks (a truncated dump).
    pub missing: u64,
}

/// A duration summary in hours.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Hours {
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub q1: Option<f64>,
    pub q3: Option<f64>,
    pub n: u64,
}

/// A count and its share of the group's questions.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Share {
    pub count: u64,
    pub percent: Option<f64>,
}

/// Everything `stats` reports.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    pub quantile_method: &'static str,
    pub frameworks: Vec<GroupStats>,
    pub all: GroupStats,
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

fn hours(values: Vec<f64>) -> Hours {
    let v = sorted(values);
    Hours {
        mean: mean(&v),
        median: quantile_sorted(&v, 0.5),
        q1: quantile_sorted(&v, 0.25),
        q3: quantile_sorted(&v, 0.75),
        n: v.len() as u64,
    }
}

/// Statistics of a group of questions.
pub fn group_stats(name: &str, label: &str, questions: &[&QuestionFacts]) -> GroupStats {
    let views: Vec<f64> = questions
        .iter()
        .filter_map(|q| q.view_count)
        .map(|v| v as f64)
        .collect();
    let views = sorted(views);
    let accepted: Vec<&&QuestionFacts> = questions
        .iter()
        .filter(|q| q.accepted_answer_id.is_some())
        .collect();
    let to_accepted: Vec<f64> = accepted
        .iter()
        .filter_map(|q| q.accepted_ms.map(|a| (a - q.created_ms) as f64 / HOUR_MS))
        .collect();
    let to_first: Vec<f64> = questions
        .iter()
        .filter_map(|q| {
            q.first_answer_ms
                .map(|a| (a - q.created_ms) as f64 / HOUR_MS)
        })
        .collect();
    let unanswered = questions
        .iter()
        .filter(|q| q.first_answer_ms.is_none())
        .count() as u64;
    let mut per_year = BTreeMap::new();
    for q in questions {
        let year = q.created.get(..4).unwrap_or("?").to_string();
        *per_year.entry(year).or_insert(0) += 1;
    }
    let n = questions.len() as u64;
    let resolved = to_accepted.len() as u64;
    let as_of = questions.iter().map(|q| q.as_of_ms).max();
    GroupStats {
        name: name.to_string(),
        label: label.to_string(),
        questions: n,
        views: Views {
            max: views.last().map(|&v| v as i64),
            q3: quantile_sorted(&views, 0.75),
            median: quantile_sorted(&views, 0.5),
            n: views.len() as u64,
        },
        accepted: Accepted {
            count: accepted.len() as u64,
            percent: percent(accepted.len() as u64, n),
            resolved,
            missing: accepted.len() as u64 - resolved,
        },
        hours_to_accepted: hours(to_accepted),
        unanswered: Share {
            count: unanswered,
            percent: percent(unanswered, n),
        },
        hours_to_first_answer: hours(to_first),
        per_year,
        acceptance_km: km_summary(
            "accepted",
            &acceptance_subjects(questions.iter().copied()),
            as_of,
        ),
        first_answer_km: km_summary(
            "answered",
            &first_answer_subjects(questions.iter().copied()),
            as_of,
        ),
    }
}

/// Statistics per framework (`(key, name)` in study order) and for all
/// distinct questions. A question with two frameworks counts once in `all`
/// and once under each framework.
pub fn compute(frameworks: &[(String, String)], facts: &[QuestionFacts]) -> Stats {
    let per_framework = frameworks
        .iter()
        .map(|(key, name)| {
            let qs: Vec<&QuestionFacts> = facts
                .iter()
                .filter(|q| q.frameworks.iter().any(|f| f == key))
                .collect();
            group_stats(key, name, &qs)
        })
        .collect();
    let all: Vec<&QuestionFacts> = facts.iter().collect();
    Stats {
        quantile_method: QUANTILE_METHOD,
        frameworks: per_framework,
        all: group_stats("all", "All questions", &all),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(
        id: i64,
        views: Option<i64>,
        acc: Option<(i64, Option<i64>)>,
        fws: &[&str],
    ) -> QuestionFacts {
        QuestionFacts {
            site: "s".into(),
            id,
            created: "2017-05-01T00:00:00.000".into(),
            created_ms: 0,
            view_count: views,
            accepted_answer_id: acc.map(|a| a.0),
            accepted_ms: acc.and_then(|a| a.1),
            first_answer_ms: acc.and_then(|a| a.1),
            frameworks: fws.iter().map(|s| s.to_string()).collect(),
            as_of_ms: 7_200_000,
        }
    }

    #[test]
    fn groups_and_nulls() {
        let facts = vec![
            q(
                1,
                Some(10),
                Some((9, Some(3_600_000))),
                &["tensorflow", "pytorch"],
            ),
            q(2, Some(30), Some((8, None)), &["tensorflow"]),
            q(3, None, None, &[]),
        ];
        let fw = vec![
            ("tensorflow".to_string(), "TensorFlow".to_string()),
            ("deeplearning4j".to_string(), "DL4J".to_string()),
        ];
        let s = compute(&fw, &facts);
        assert_eq!(s.all.questions, 3);
        assert_eq!(s.frameworks[0].questions, 2);
        assert_eq!(s.frameworks[0].views.median, Some(20.0));
        assert_eq!(s.frameworks[0].views.q3, Some(25.0));
        assert_eq!(s.frameworks[0].accepted.count, 2);
        assert_eq!(s.frameworks[0].accepted.missing, 1);
        assert_eq!(s.frameworks[0].hours_to_accepted.median, Some(1.0));
        assert_eq!(s.all.unanswered.count, 2);
        let empty = &s.frameworks[1];
        assert_eq!(empty.questions, 0);
        assert_eq!(empty.views.median, None);
        assert_eq!(empty.accepted.percent, None);
        let json = serde_json::to_string(empty).unwrap();
        assert!(
            json.contains("\"median\":null") && !json.contains("NaN"),
            "{json}"
        );
    }
}

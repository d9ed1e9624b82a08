//! The descriptive statistics of `stackmine stats`: the study's Table I
//! (questions, view count max / Q3 / median per framework) and the answer
//! times, per framework and for all distinct questions.

use std::collections::BTreeMap;

use serde::Serialize;

use super::quantile::{mean, quantile_sorted, sorted};
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

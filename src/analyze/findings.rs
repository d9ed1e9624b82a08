//! The report's findings: what kinds of questions there are (overall, per
//! framework, per year, corrected for the classifier's errors) and how hard
//! each kind is to get answered (accepted-answer rates with Wilson intervals,
//! hours to the accepted answer with bootstrap intervals, and a test of the
//! study's claim that performance questions are harder). Pure computation.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::inference::{
    ChiSquare, Interval, MannWhitney, adjusted_count, bootstrap_median, chi_square_2x2,
    mann_whitney, wilson,
};
use super::quantile::{mean, quantile_sorted, sorted};
use crate::sample::Draw;
use crate::store::QuestionFacts;

/// Times under a minute (self-answers, answers written with the question) are
/// clamped to one minute so they can be drawn on a log scale.
pub const MIN_HOURS: f64 = 1.0 / 60.0;

const RESAMPLES: usize = 1000;

/// A category's count and share.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Share {
    pub category: String,
    pub count: u64,
    pub share: f64,
}

/// The distribution corrected for the classifier's measured confusion.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Adjusted {
    pub category: String,
    pub share: f64,
    /// 95% percentile bootstrap over the labeled posts behind the confusion.
    pub interval: Option<Interval>,
}

/// Box-plot figures of hours to the accepted answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BoxStats {
    pub n: u64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    /// Tukey's whiskers: the most extreme values within 1.5 IQR of the box.
    pub whisker_lo: f64,
    pub whisker_hi: f64,
    pub mean: f64,
    pub median_interval: Option<Interval>,
    /// How many times were clamped up to one minute.
    pub clamped: u64,
}

/// How hard one category is.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Difficulty {
    pub category: String,
    pub questions: u64,
    pub accepted: u64,
    pub rate: Option<f64>,
    pub rate_interval: Option<Interval>,
    pub hours: Option<BoxStats>,
}

/// Performance questions against all others.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PerformanceTest {
    pub rate_performance: f64,
    pub rate_others: f64,
    /// On accepted-answer rates (performance vs others).
    pub chi_square: Option<ChiSquare>,
    pub median_hours_performance: Option<f64>,
    pub median_hours_others: Option<f64>,
    pub mean_hours_performance: Option<f64>,
    pub mean_hours_others: Option<f64>,
    /// On hours to the accepted answer (performance vs others).
    pub mann_whitney: Option<MannWhitney>,
}

/// Everything the report's category and difficulty sections show.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Findings {
    pub categories: Vec<String>,
    pub classified: u64,
    pub distribution: Vec<Share>,
    pub adjusted: Option<Vec<Adjusted>>,
    /// Framework → counts per category (categories order).
    pub per_framework: Vec<(String, Vec<u64>)>,
    /// Year → counts per category.
    pub per_year: Vec<(String, Vec<u64>)>,
    pub difficulty: Vec<Difficulty>,
    pub performance: Option<PerformanceTest>,
}

fn box_stats(hours: &[f64], seed: u64) -> Option<BoxStats> {
    if hours.is_empty() {
        return None;
    }
    let clamped = hours.iter().filter(|&&h| h < MIN_HOURS).count() as u64;
    let v = sorted(hours.iter().map(|&h| h.max(MIN_HOURS)).collect());
    let (q1, median, q3) = (
        quantile_sorted(&v, 0.25)?,
        quantile_sorted(&v, 0.5)?,
        quantile_sorted(&v, 0.75)?,
    );
    let iqr = q3 - q1;
    let whisker_lo = v
        .iter()
        .copied()
        .find(|&x| x >= q1 - 1.5 * iqr)
        .unwrap_or(q1);
    let whisker_hi = v
        .iter()
        .rev()
        .copied()
        .find(|&x| x <= q3 + 1.5 * iqr)
        .unwrap_or(q3);
    Some(BoxStats {
        n: v.len() as u64,
        q1,
        median,
        q3,
        whisker_lo,
        whisker_hi,
        mean: mean(&v)?,
        median_interval: bootstrap_median(&v, RESAMPLES, 0.95, seed),
        clamped,
    })
}

/// Bootstrap interval of the adjusted shares: resample the labeled posts
/// (true, predicted pairs) behind the confusion matrix.
fn adjusted_with_intervals(
    shares: &[f64],
    confusion: &[Vec<u64>],
    categories: &[String],
    seed: u64,
) -> Option<Vec<Adjusted>> {
    let point = adjusted_count(shares, confusion)?;
    let pairs: Vec<(usize, usize)> = confusion
        .iter()
        .enumerate()
        .flat_map(|(t, row)| {
            row.iter()
                .enumerate()
                .flat_map(move |(p, &n)| std::iter::repeat_n((t, p), n as usize))
        })
        .collect();
    let k = categories.len();
    let mut draws: Vec<Vec<f64>> = vec![Vec::with_capacity(RESAMPLES); k];
    if !pairs.is_empty() {
        let mut draw = Draw::new(seed);
        for _ in 0..RESAMPLES {
            let mut m = vec![vec![0u64; k]; k];
            for _ in 0..pairs.len() {
                let (t, p) = pairs[draw.below(pairs.len() as u64) as usize];
                m[t][p] += 1;
            }
            if let Some(pi) = adjusted_count(shares, &m) {
                for (c, v) in pi.into_iter().enumerate() {
                    draws[c].push(v);
                }
            }
        }
    }
    Some(
        categories
            .iter()
            .enumerate()
            .map(|(c, key)| {
                let d = sorted(std::mem::take(&mut draws[c]));
                Adjusted {
                    category: key.clone(),
                    share: point[c],
                    interval: quantile_sorted(&d, 0.025)
                        .zip(quantile_sorted(&d, 0.975))
                        .map(|(lo, hi)| Interval { lo, hi }),
                }
            })
            .collect(),
    )
}

/// Computes the findings. `category_of` maps (site, Id) to a category key;
/// `confusion` (rows true, columns predicted, `categories` order) is the
/// classifier's measured confusion, when known.
pub fn compute(
    facts: &[QuestionFacts],
    category_of: &HashMap<(String, i64), String>,
    categories: &[String],
    frameworks: &[String],
    confusion: Option<&[Vec<u64>]>,
    seed: u64,
) -> Findings {
    let k = categories.len();
    let index: HashMap<&str, usize> = categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let classified: Vec<(&QuestionFacts, usize)> = facts
        .iter()
        .filter_map(|q| {
            let c = category_of.get(&(q.site.clone(), q.id))?;
            Some((q, *index.get(c.as_str())?))
        })
        .collect();
    let n = classified.len() as u64;
    let mut counts = vec![0u64; k];
    for (_, c) in &classified {
        counts[*c] += 1;
    }
    let shares: Vec<f64> = counts
        .iter()
        .map(|&c| if n > 0 { c as f64 / n as f64 } else { 0.0 })
        .collect();
    let distribution = categories
        .iter()
        .zip(&counts)
        .zip(&shares)
        .map(|((c, &count), &share)| Share {
            category: c.clone(),
            count,
            share,
        })
        .collect();
    let adjusted = confusion
        .filter(|m| m.len() == k && n > 0)
        .and_then(|m| adjusted_with_intervals(&shares, m, categories, seed));
    let per_framework = frameworks
        .iter()
        .map(|f| {
            let mut c = vec![0u64; k];
            for (q, i) in &classified {
                if q.frameworks.contains(f) {
                    c[*i] += 1;
                }
            }
            (f.clone(), c)
        })
        .collect();
    let mut years: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (q, i) in &classified {
        let y = q.created.get(..4).unwrap_or("?").to_string();
        years.entry(y).or_insert_with(|| vec![0; k])[*i] += 1;
    }
    let hours_of = |q: &QuestionFacts| {
        q.accepted_ms
            .map(|a| (a - q.created_ms) as f64 / 3_600_000.0)
    };
    let difficulty: Vec<Difficulty> = (0..k)
        .map(|c| {
            let qs: Vec<&QuestionFacts> = classified
                .iter()
                .filter(|(_, i)| *i == c)
                .map(|(q, _)| *q)
                .collect();
            let accepted = qs.iter().filter(|q| q.accepted_answer_id.is_some()).count() as u64;
            let total = qs.len() as u64;
            let hours: Vec<f64> = qs.iter().filter_map(|q| hours_of(q)).collect();
            Difficulty {
                category: categories[c].clone(),
                questions: total,
                accepted,
                rate: (total > 0).then(|| accepted as f64 / total as f64),
                rate_interval: wilson(accepted, total, 0.95),
                hours: box_stats(&hours, seed.wrapping_add(c as u64)),
            }
        })
        .collect();
    let performance = index.get("performance").map(|&p| {
        let (mut pa, mut pn, mut oa, mut on) = (0u64, 0u64, 0u64, 0u64);
        let (mut ph, mut oh) = (Vec::new(), Vec::new());
        for (q, i) in &classified {
            let acc = q.accepted_answer_id.is_some();
            let h = hours_of(q).map(|h| h.max(MIN_HOURS));
            if *i == p {
                if acc {
                    pa += 1
                } else {
                    pn += 1
                }
                ph.extend(h);
            } else {
                if acc {
                    oa += 1
                } else {
                    on += 1
                }
                oh.extend(h);
            }
        }
        let rate = |a: u64, b: u64| {
            if a + b > 0 {
                a as f64 / (a + b) as f64
            } else {
                0.0
            }
        };
        let (ph, oh) = (sorted(ph), sorted(oh));
        PerformanceTest {
            rate_performance: rate(pa, pn),
            rate_others: rate(oa, on),
            chi_square: chi_square_2x2(pa, pn, oa, on),
            median_hours_performance: quantile_sorted(&ph, 0.5),
            median_hours_others: quantile_sorted(&oh, 0.5),
            mean_hours_performance: mean(&ph),
            mean_hours_others: mean(&oh),
            mann_whitney: mann_whitney(&ph, &oh),
        }
    });
    Findings {
        categories: categories.to_vec(),
        classified: n,
        distribution,
        adjusted,
        per_framework,
        per_year: years.into_iter().collect(),
        difficulty,
        performance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: i64, fw: &str, year: &str, accepted_after_h: Option<f64>) -> QuestionFacts {
        QuestionFacts {
            site: "s".into(),
            id,
            created: format!("{year}-01-01T00:00:00.000"),
            created_ms: 0,
            view_count: Some(1),
            accepted_answer_id: accepted_after_h.map(|_| 1),
            accepted_ms: accepted_after_h.map(|h| (h * 3_600_000.0) as i64),
            first_answer_ms: None,
            frameworks: vec![fw.into()],
        }
    }

    #[test]
    fn findings_of_a_small_study() {
        let facts = vec![
            q(1, "tf", "2017", Some(0.001)),
            q(2, "tf", "2017", Some(2.0)),
            q(3, "pt", "2018", None),
            q(4, "pt", "2018", Some(4.0)),
            q(5, "tf", "2018", None),
        ];
        let cats: Vec<String> = ["crash", "performance"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let of: HashMap<(String, i64), String> = [
            (1, "crash"),
            (2, "crash"),
            (3, "performance"),
            (4, "performance"),
            (5, "crash"),
        ]
        .iter()
        .map(|(i, c)| (("s".to_string(), *i), c.to_string()))
        .collect();
        let fws = vec!["tf".to_string(), "pt".to_string()];
        let confusion = vec![vec![9, 1], vec![2, 8]];
        let f = compute(&facts, &of, &cats, &fws, Some(&confusion), 0);
        assert_eq!(f.classified, 5);
        assert_eq!(f.distribution[0].count, 3);
        assert_eq!(
            f.per_framework,
            [
                ("tf".to_string(), vec![3, 0]),
                ("pt".to_string(), vec![0, 2])
            ]
        );
        assert_eq!(
            f.per_year,
            [
                ("2017".to_string(), vec![2, 0]),
                ("2018".to_string(), vec![1, 2])
            ]
        );
        let crash = &f.difficulty[0];
        assert_eq!((crash.questions, crash.accepted), (3, 2));
        let h = crash.hours.as_ref().unwrap();
        assert_eq!(h.clamped, 1);
        assert!((h.q1 - (MIN_HOURS + (2.0 - MIN_HOURS) * 0.25)).abs() < 1e-12);
        let p = f.performance.clone().unwrap();
        assert!((p.rate_performance - 0.5).abs() < 1e-12);
        assert!((p.rate_others - 2.0 / 3.0).abs() < 1e-12);
        // Adjusted shares: predicted 0.6 / 0.4 with P(pred|true) from the confusion.
        let adj = f.adjusted.clone().unwrap();
        let m = [[0.9, 0.2], [0.1, 0.8]];
        let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
        let want0 = (0.6 * m[1][1] - m[0][1] * 0.4) / det;
        assert!(
            (adj[0].share - want0).abs() < 1e-12,
            "{} vs {want0}",
            adj[0].share
        );
        let ci = adj[0].interval.unwrap();
        assert!(ci.lo <= adj[0].share && adj[0].share <= ci.hi);
        assert_eq!(
            f,
            compute(&facts, &of, &cats, &fws, Some(&confusion), 0),
            "seeded"
        );
    }
}

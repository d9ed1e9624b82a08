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
use super::stats::{KmSummary, acceptance_subjects, first_answer_subjects, km_summary};
use super::survival::{KaplanMeier, LogRank, Subject, logrank};
use super::trend::{Trend, holm, prop_trend};
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
    /// On the time to an accepted answer with the questions still waiting
    /// censored at the dump's date (performance vs others).
    pub log_rank: Option<LogRank>,
}

/// A category's Kaplan–Meier curve of the time to an accepted answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryCurve {
    pub category: String,
    pub summary: KmSummary,
    /// The same for the time to the first answer.
    pub first_answer: KmSummary,
    /// (hours, 1 − S) where the curve steps, thinned to at most
    /// [`CURVE_POINTS`] log-spaced times for the chart; hours clamped up to
    /// [`MIN_HOURS`].
    pub points: Vec<(f64, f64)>,
}

/// At most this many points per curve in the chart.
pub const CURVE_POINTS: usize = 240;

/// One kind against all the others.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindTest {
    pub category: String,
    pub rate: Option<f64>,
    pub rate_others: Option<f64>,
    pub chi_square: Option<ChiSquare>,
    /// Holm-adjusted across kinds.
    pub chi_square_holm: Option<f64>,
    pub median_hours: Option<f64>,
    pub median_hours_others: Option<f64>,
    pub mann_whitney: Option<MannWhitney>,
    pub mann_whitney_holm: Option<f64>,
    pub log_rank: Option<LogRank>,
    pub log_rank_holm: Option<f64>,
}

/// The shares a trend quotes are those of the first and the last year with
/// at least this many classified questions (else the first and last year).
pub const TREND_YEAR_MIN: u64 = 30;

/// A category's share per year of the classified questions, tested for trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryTrend {
    pub category: String,
    /// First and last year with [`TREND_YEAR_MIN`] classified questions, and
    /// the share then.
    pub first: Option<(String, f64)>,
    pub last: Option<(String, f64)>,
    /// Cochran–Armitage (R's prop.trend.test) with the years as scores.
    pub trend: Option<Trend>,
    /// Holm-adjusted across kinds.
    pub p_holm: Option<f64>,
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
    /// Per kind: time to an accepted answer, still-waiting questions censored.
    pub curves: Vec<CategoryCurve>,
    /// Each kind against all others, Holm-corrected across kinds.
    pub kind_tests: Vec<KindTest>,
    /// Each kind's share per year, tested for trend, Holm-corrected.
    pub trends: Vec<CategoryTrend>,
}

/// Holm-adjusts the `Some` p-values among `p`, leaving `None` alone.
fn holm_some(p: &[Option<f64>]) -> Vec<Option<f64>> {
    let present: Vec<f64> = p.iter().flatten().copied().collect();
    let mut adjusted = holm(&present).into_iter();
    p.iter().map(|x| x.and_then(|_| adjusted.next())).collect()
}

/// The curve's steps as (hours, 1 − S), thinned for drawing.
fn curve_points(subjects: &[Subject]) -> Vec<(f64, f64)> {
    let km = KaplanMeier::fit(subjects);
    let steps: Vec<(f64, f64)> = km
        .steps
        .iter()
        .filter(|s| s.events > 0)
        .map(|s| (s.time.max(MIN_HOURS), 1.0 - s.survival))
        .collect();
    // The curve is known up to the last time observed, event or not.
    let end = km
        .steps
        .last()
        .map(|s| (s.time.max(MIN_HOURS), 1.0 - s.survival));
    let with_end = |mut v: Vec<(f64, f64)>| {
        if let Some(e) = end.filter(|e| v.last().is_none_or(|l| l.0 < e.0)) {
            v.push(e);
        }
        v
    };
    if steps.len() <= CURVE_POINTS {
        return with_end(steps);
    }
    let (lo, hi) = (steps[0].0.ln(), steps[steps.len() - 1].0.ln());
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(CURVE_POINTS);
    for i in 0..CURVE_POINTS {
        let t = (lo + (hi - lo) * i as f64 / (CURVE_POINTS - 1) as f64).exp();
        let t = if i + 1 == CURVE_POINTS {
            steps[steps.len() - 1].0
        } else {
            t
        };
        let k = steps.partition_point(|s| s.0 <= t);
        if let Some(&(_, f)) = k.checked_sub(1).map(|k| &steps[k]) {
            if out.last().is_none_or(|p| p.1 != f) {
                out.push((t, f));
            }
        }
    }
    with_end(out)
}

fn kind_tests(classified: &[(&QuestionFacts, usize)], categories: &[String]) -> Vec<KindTest> {
    let mut tests: Vec<KindTest> = categories
        .iter()
        .enumerate()
        .map(|(c, key)| {
            let (mut mine, mut others): (Vec<&QuestionFacts>, Vec<&QuestionFacts>) =
                (Vec::new(), Vec::new());
            for &(q, i) in classified {
                if i == c { mine.push(q) } else { others.push(q) }
            }
            let acc = |qs: &[&QuestionFacts]| {
                qs.iter().filter(|q| q.accepted_answer_id.is_some()).count() as u64
            };
            let (ma, oa) = (acc(&mine), acc(&others));
            let (mn, on) = (mine.len() as u64, others.len() as u64);
            let hours = |qs: &[&QuestionFacts]| {
                sorted(
                    qs.iter()
                        .filter_map(|q| {
                            q.accepted_ms
                                .map(|a| ((a - q.created_ms) as f64 / 3_600_000.0).max(MIN_HOURS))
                        })
                        .collect(),
                )
            };
            let (mh, oh) = (hours(&mine), hours(&others));
            KindTest {
                category: key.clone(),
                rate: (mn > 0).then(|| ma as f64 / mn as f64),
                rate_others: (on > 0).then(|| oa as f64 / on as f64),
                chi_square: chi_square_2x2(ma, mn - ma, oa, on - oa),
                chi_square_holm: None,
                median_hours: quantile_sorted(&mh, 0.5),
                median_hours_others: quantile_sorted(&oh, 0.5),
                mann_whitney: mann_whitney(&mh, &oh),
                mann_whitney_holm: None,
                log_rank: logrank(
                    &acceptance_subjects(mine.iter().copied()),
                    &acceptance_subjects(others.iter().copied()),
                ),
                log_rank_holm: None,
            }
        })
        .collect();
    let chi = holm_some(
        &tests
            .iter()
            .map(|t| t.chi_square.map(|c| c.p))
            .collect::<Vec<_>>(),
    );
    let mw = holm_some(
        &tests
            .iter()
            .map(|t| t.mann_whitney.map(|m| m.p))
            .collect::<Vec<_>>(),
    );
    let lr = holm_some(
        &tests
            .iter()
            .map(|t| t.log_rank.map(|l| l.p))
            .collect::<Vec<_>>(),
    );
    for (i, t) in tests.iter_mut().enumerate() {
        t.chi_square_holm = chi[i];
        t.mann_whitney_holm = mw[i];
        t.log_rank_holm = lr[i];
    }
    tests
}

fn trends(per_year: &[(String, Vec<u64>)], categories: &[String]) -> Vec<CategoryTrend> {
    let years: Vec<(f64, &Vec<u64>, u64)> = per_year
        .iter()
        .filter_map(|(y, c)| Some((y.parse::<f64>().ok()?, c, c.iter().sum::<u64>())))
        .filter(|(_, _, n)| *n > 0)
        .collect();
    let share = |c: usize, k: usize| years[k].1[c] as f64 / years[k].2 as f64;
    let label = |k: usize| format!("{}", years[k].0);
    // The shares quoted: of the first and last year with enough questions.
    let big = |k: &usize| years[*k].2 >= TREND_YEAR_MIN;
    let first_year = (0..years.len()).find(big).unwrap_or(0);
    let last_year = (0..years.len()).rev().find(big);
    let mut out: Vec<CategoryTrend> = categories
        .iter()
        .enumerate()
        .map(|(c, key)| {
            let x: Vec<u64> = years.iter().map(|y| y.1[c]).collect();
            let n: Vec<u64> = years.iter().map(|y| y.2).collect();
            let s: Vec<f64> = years.iter().map(|y| y.0).collect();
            let last = last_year.or(years.len().checked_sub(1));
            CategoryTrend {
                category: key.clone(),
                first: last.map(|_| (label(first_year), share(c, first_year))),
                last: last.map(|l| (label(l), share(c, l))),
                trend: prop_trend(&x, &n, &s),
                p_holm: None,
            }
        })
        .collect();
    let adj = holm_some(&out.iter().map(|t| t.trend.map(|t| t.p)).collect::<Vec<_>>());
    for (t, a) in out.iter_mut().zip(adj) {
        t.p_holm = a;
    }
    out
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
    category_of: &HashMap<crate::PostKey, String>,
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
            let c = category_of.get(&q.key())?;
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
            log_rank: None,
        }
    });
    let kind_tests = kind_tests(&classified, categories);
    let performance = performance.map(|mut p| {
        p.log_rank = index
            .get("performance")
            .and_then(|&i| kind_tests[i].log_rank);
        p
    });
    let curves = (0..k)
        .map(|c| {
            let subjects =
                acceptance_subjects(classified.iter().filter(|(_, i)| *i == c).map(|(q, _)| *q));
            let as_of = classified
                .iter()
                .filter(|(_, i)| *i == c)
                .map(|(q, _)| q.as_of_ms)
                .max();
            let first =
                first_answer_subjects(classified.iter().filter(|(_, i)| *i == c).map(|(q, _)| *q));
            CategoryCurve {
                category: categories[c].clone(),
                summary: km_summary("accepted", &subjects, as_of),
                first_answer: km_summary("answered", &first, as_of),
                points: curve_points(&subjects),
            }
        })
        .collect();
    let per_year: Vec<(String, Vec<u64>)> = years.into_iter().collect();
    let trends = trends(&per_year, categories);
    Findings {
        categories: categories.to_vec(),
        classified: n,
        distribution,
        adjusted,
        per_framework,
        per_year,
        difficulty,
        performance,
        curves,
        kind_tests,
        trends,
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
            as_of_ms: 100 * 3_600_000,
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
        let of: HashMap<crate::PostKey, String> = [
            (1, "crash"),
            (2, "crash"),
            (3, "performance"),
            (4, "performance"),
            (5, "crash"),
        ]
        .iter()
        .map(|(i, c)| (crate::PostKey::new("s", *i), c.to_string()))
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
        // Each kind against the others, Holm-adjusted (never below the raw p).
        assert_eq!(f.kind_tests.len(), 2);
        for t in &f.kind_tests {
            let (c, h) = (t.chi_square.unwrap().p, t.chi_square_holm.unwrap());
            assert!(h >= c && h <= 1.0, "{c} {h}");
        }
        // With two kinds the two 2×2 tables are the same table.
        assert_eq!(
            f.kind_tests[0].chi_square.unwrap().chi2,
            f.kind_tests[1].chi_square.unwrap().chi2
        );
        // Curves: crash has 2 accepted (0.001 h clamped to a minute, 2 h), 1 waiting until 100 h.
        let crash = &f.curves[0];
        assert_eq!((crash.summary.events, crash.summary.censored), (2, 1));
        let want = [(MIN_HOURS, 1.0 / 3.0), (2.0, 2.0 / 3.0), (100.0, 2.0 / 3.0)];
        assert_eq!(crash.points.len(), 3);
        for (a, b) in crash.points.iter().zip(want) {
            assert!(
                (a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12,
                "{a:?}"
            );
        }
        assert_eq!(crash.summary.median_hours, Some(2.0));
        assert_eq!(f.performance.unwrap().log_rank, f.kind_tests[1].log_rank);
        // Trends over 2017 (2 crash of 2) and 2018 (1 of 3): crash fell.
        let t = &f.trends[0];
        assert_eq!(t.first, Some(("2017".to_string(), 1.0)));
        assert_eq!(t.last, Some(("2018".to_string(), 1.0 / 3.0)));
        let want = prop_trend(&[2, 1], &[2, 3], &[2017.0, 2018.0]).unwrap();
        assert_eq!(t.trend, Some(want));
        assert!(want.slope < 0.0);
        assert_eq!(
            holm_some(&[Some(0.01), None, Some(0.04)]),
            [Some(0.02), None, Some(0.04)]
        );
    }
}

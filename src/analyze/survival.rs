//! Time-to-event statistics: the Kaplan–Meier estimate with Greenwood's
//! variance and the log(−log) ("exponential Greenwood") interval, the median
//! time, and the two-group log-rank test. Everything is computed as
//! `lifelines` 0.30 computes it (`KaplanMeierFitter`, `logrank_test`), and
//! the unit tests are pinned to values it gives (see
//! tests/data/reference/make_survival_reference.py). Pure functions.

use serde::Serialize;

use super::inference::Interval;

/// One subject: the time it was followed for, and whether the event happened
/// then (`true`) or it was still waiting (censored, `false`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Subject {
    pub time: f64,
    pub event: bool,
}

/// One distinct observed time of the curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Step {
    pub time: f64,
    /// Subjects still waiting just before `time` (the risk set).
    pub at_risk: u64,
    pub events: u64,
    pub censored: u64,
    /// S(t) just after `time`.
    pub survival: f64,
    /// Greenwood's sum Σ d / (n (n − d)) up to `time` (0 for a term with n = d,
    /// as lifelines does).
    pub greenwood: f64,
}

/// A Kaplan–Meier curve.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    pub subjects: u64,
    pub events: u64,
    pub censored: u64,
    pub steps: Vec<Step>,
}

/// Why a median is not given.
#[derive(Debug, Clone, PartialEq)]
pub enum NoMedian {
    /// No subjects at all.
    Empty,
    /// The curve never reaches 50 %: its lowest S, where, and how many were
    /// still waiting at the last time.
    NotReached { lowest: f64, at: f64, waiting: u64 },
}

impl std::fmt::Display for NoMedian {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoMedian::Empty => write!(f, "no questions"),
            NoMedian::NotReached { lowest, at, .. } => write!(
                f,
                "the curve never reaches 50 %: at most {:.1} % by {} hours, the last time observed",
                100.0 * (1.0 - lowest),
                trim_hours(*at)
            ),
        }
    }
}

fn trim_hours(h: f64) -> String {
    if h >= 100.0 {
        format!("{h:.0}")
    } else {
        format!("{h:.2}")
    }
}

impl KaplanMeier {
    /// Fits the curve. Ties: at a time with events and censorings, the
    /// censored subjects are still at risk for the events (lifelines'
    /// convention, the usual one). Times must be finite (callers clamp
    /// negative durations to 0).
    pub fn fit(subjects: &[Subject]) -> KaplanMeier {
        let mut v: Vec<Subject> = subjects.to_vec();
        v.sort_by(|a, b| a.time.total_cmp(&b.time));
        let n = v.len() as u64;
        let mut steps = Vec::new();
        let (mut log_s, mut green) = (0.0f64, 0.0f64);
        let mut at_risk = n;
        let mut i = 0;
        while i < v.len() {
            let t = v[i].time;
            let mut j = i;
            let mut d = 0u64;
            while j < v.len() && v[j].time == t {
                d += u64::from(v[j].event);
                j += 1;
            }
            let removed = (j - i) as u64;
            let (nf, df) = (at_risk as f64, d as f64);
            // lifelines: log S = Σ (log(n − d) − log n), S = exp(log S).
            log_s += (nf - df).ln() - nf.ln();
            if at_risk > d {
                green += df / (nf * (nf - df));
            }
            steps.push(Step {
                time: t,
                at_risk,
                events: d,
                censored: removed - d,
                survival: log_s.exp(),
                greenwood: green,
            });
            at_risk -= removed;
            i = j;
        }
        let events = steps.iter().map(|s| s.events).sum();
        KaplanMeier {
            subjects: n,
            events,
            censored: n - events,
            steps,
        }
    }

    /// The last step at or before `t`, if any.
    fn step_at(&self, t: f64) -> Option<&Step> {
        let k = self.steps.partition_point(|s| s.time <= t);
        k.checked_sub(1).map(|k| &self.steps[k])
    }

    /// S(t), a right-continuous step function (1 before the first time).
    pub fn survival_at(&self, t: f64) -> f64 {
        self.step_at(t).map_or(1.0, |s| s.survival)
    }

    /// The `confidence` interval of S(t): exp(−exp(log(−log S) ∓ z √V / log S))
    /// with V Greenwood's sum, as lifelines' `confidence_interval_`
    /// (where S = 1 the interval is [1, 1], where S = 0 it is [0, 0]).
    pub fn interval_at(&self, t: f64, confidence: f64) -> Interval {
        match self.step_at(t) {
            None => Interval { lo: 1.0, hi: 1.0 },
            Some(s) => loglog_interval(s.survival, s.greenwood, z_value(confidence)),
        }
    }

    /// 1 − S(t), the probability of the event by `t`, with its interval
    /// (1 minus the interval of S, flipped).
    pub fn cumulative_at(&self, t: f64, confidence: f64) -> (f64, Interval) {
        let s = self.survival_at(t);
        let i = self.interval_at(t, confidence);
        (
            1.0 - s,
            Interval {
                lo: 1.0 - i.hi,
                hi: 1.0 - i.lo,
            },
        )
    }

    /// The median: the first time at which S ≤ 0.5 (lifelines'
    /// `median_survival_time_`), or why there is none.
    pub fn median(&self) -> Result<f64, NoMedian> {
        if let Some(s) = self.steps.iter().find(|s| s.survival <= 0.5) {
            return Ok(s.time);
        }
        match self.steps.last() {
            None => Err(NoMedian::Empty),
            Some(last) => Err(NoMedian::NotReached {
                lowest: last.survival,
                at: last.time,
                waiting: last.at_risk - last.events,
            }),
        }
    }
}

fn loglog_interval(s: f64, greenwood: f64, z: f64) -> Interval {
    let v = s.ln();
    let lo = (-(((-v).ln() - z * greenwood.sqrt() / v).exp())).exp();
    let hi = (-(((-v).ln() + z * greenwood.sqrt() / v).exp())).exp();
    // lifelines fills the NaN of S = 1 (log 0 / 0) with 1.
    let fill = |x: f64| if x.is_nan() { 1.0 } else { x };
    Interval {
        lo: fill(lo),
        hi: fill(hi),
    }
}

/// The standard normal quantile at (1 + confidence) / 2 to full precision:
/// Acklam's approximation refined by one Halley step on an exact erfc
/// (scipy's `norm.ppf`, which lifelines uses, agrees to ~1e-15).
pub fn z_value(confidence: f64) -> f64 {
    let p = 1.0 - (1.0 - confidence) / 2.0;
    let x = crate::sample::normal_quantile(p);
    let e = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// The upper tail of a chi-square with one degree of freedom
/// (`scipy.stats.chi2.sf(x, 1)` = erfc(√(x/2))), to full precision.
pub fn chi2_sf_1(x: f64) -> f64 {
    if x <= 0.0 {
        1.0
    } else {
        libm::erfc((x / 2.0).sqrt())
    }
}

/// The log-rank test of two groups.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LogRank {
    /// Chi-square with 1 degree of freedom.
    pub statistic: f64,
    pub p: f64,
    /// Events observed and expected in the first group.
    pub observed_a: f64,
    pub expected_a: f64,
}

/// The log-rank test of `a` against `b`, as `lifelines.statistics.logrank_test`
/// computes it: at every distinct time, the hypergeometric expectation and
/// variance of group a's events ((n − d)/(n − 1) taken as 1 when n = 1);
/// statistic (O − E)² / V. `None` when V = 0 (no events, or one group empty),
/// where lifelines would report 0 and p = 1 for an untestable comparison.
pub fn logrank(a: &[Subject], b: &[Subject]) -> Option<LogRank> {
    let mut all: Vec<(f64, bool, bool)> = a
        .iter()
        .map(|s| (s.time, s.event, true))
        .chain(b.iter().map(|s| (s.time, s.event, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut n, mut na) = (all.len() as f64, a.len() as f64);
    let (mut obs, mut exp, mut var) = (0.0, 0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let t = all[i].0;
        let mut j = i;
        let (mut d, mut da, mut ra) = (0.0, 0.0, 0.0);
        while j < all.len() && all[j].0 == t {
            let (_, e, in_a) = all[j];
            if e {
                d += 1.0;
                if in_a {
                    da += 1.0;
                }
            }
            if in_a {
                ra += 1.0;
            }
            j += 1;
        }
        let removed = (j - i) as f64;
        obs += da;
        exp += na * d / n;
        let factor = if n > 1.0 { (n - d) / (n - 1.0) } else { 1.0 };
        var += factor * d / (n * n) * na * (n - na);
        n -= removed;
        na -= ra;
        i = j;
    }
    if var <= 0.0 {
        return None;
    }
    let statistic = (obs - exp) * (obs - exp) / var;
    Some(LogRank {
        statistic,
        p: chi2_sf_1(statistic),
        observed_a: obs,
        expected_a: exp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64, what: &str) {
        let scale = b.abs().max(1.0);
        assert!((a - b).abs() <= tol * scale, "{what}: {a} vs {b}");
    }

    fn subjects(v: &serde_json::Value) -> Vec<Subject> {
        let t = v["durations"].as_array().unwrap();
        let e = v["events"].as_array().unwrap();
        t.iter()
            .zip(e)
            .map(|(t, e)| Subject {
                time: t.as_f64().unwrap(),
                event: e.as_i64().unwrap() == 1,
            })
            .collect()
    }

    fn reference() -> serde_json::Value {
        let text = include_str!("../../tests/data/reference/survival.json");
        serde_json::from_str(text).unwrap()
    }

    /// Every case of tests/data/reference/survival.json (made by
    /// make_survival_reference.py with lifelines 0.30.3): the curve at each
    /// of its times, S and its 95 % interval at 1, 24, 168 and 720 hours, the
    /// median. Tolerance 1e-9 (relative above 1): the same operations in the
    /// same order, so the differences are rounding.
    #[test]
    fn kaplan_meier_matches_lifelines() {
        let r = reference();
        let cases = r["kaplan_meier"].as_object().unwrap();
        assert!(cases.len() >= 5);
        for (name, case) in cases {
            let km = KaplanMeier::fit(&subjects(case));
            let curve = &case["curve"];
            let times = curve["time"].as_array().unwrap();
            // lifelines' table starts at time 0 even when nobody is removed then.
            for (k, t) in times.iter().enumerate() {
                let t = t.as_f64().unwrap();
                let s = curve["survival"][k].as_f64().unwrap();
                close(km.survival_at(t), s, 1e-9, &format!("{name} S({t})"));
                let ci = km.interval_at(t, 0.95);
                close(ci.lo, curve["lower"][k].as_f64().unwrap(), 1e-9, name);
                close(ci.hi, curve["upper"][k].as_f64().unwrap(), 1e-9, name);
            }
            let at = &case["at"];
            for (k, t) in at["time"].as_array().unwrap().iter().enumerate() {
                let t = t.as_f64().unwrap();
                let (p, ci) = km.cumulative_at(t, 0.95);
                let what = format!("{name} F({t})");
                close(p, at["cumulative"][k].as_f64().unwrap(), 1e-9, &what);
                close(
                    ci.lo,
                    at["cumulative_lower"][k].as_f64().unwrap(),
                    1e-9,
                    &what,
                );
                close(
                    ci.hi,
                    at["cumulative_upper"][k].as_f64().unwrap(),
                    1e-9,
                    &what,
                );
            }
            match (km.median(), case["median"].as_f64()) {
                (Ok(m), Some(want)) => close(m, want, 1e-12, name),
                (Err(_), None) => {}
                (got, want) => panic!("{name}: median {got:?} vs {want:?}"),
            }
            let events = case["events"].as_array().unwrap();
            let e = events.iter().filter(|e| e.as_i64() == Some(1)).count() as u64;
            assert_eq!(km.events, e, "{name}");
        }
    }

    #[test]
    fn logrank_matches_lifelines() {
        let r = reference();
        let cases = r["logrank"].as_object().unwrap();
        assert!(cases.len() >= 3);
        for (name, case) in cases {
            let lr = logrank(&subjects(&case["a"]), &subjects(&case["b"])).unwrap();
            close(
                lr.statistic,
                case["statistic"].as_f64().unwrap(),
                1e-9,
                name,
            );
            close(lr.p, case["p"].as_f64().unwrap(), 1e-9, name);
        }
    }

    #[test]
    fn edge_cases() {
        let none = KaplanMeier::fit(&[]);
        assert_eq!(none.median(), Err(NoMedian::Empty));
        assert_eq!(none.survival_at(5.0), 1.0);
        let censored = [
            Subject {
                time: 1.0,
                event: false,
            },
            Subject {
                time: 2.0,
                event: false,
            },
        ];
        let km = KaplanMeier::fit(&censored);
        assert_eq!(km.events, 0);
        assert!(matches!(
            km.median(),
            Err(NoMedian::NotReached { lowest, .. }) if lowest == 1.0
        ));
        assert_eq!(km.interval_at(3.0, 0.95), Interval { lo: 1.0, hi: 1.0 });
        // One group without events anywhere: nothing to test.
        assert_eq!(logrank(&censored, &censored), None);
        assert_eq!(logrank(&censored, &[]), None);
        // z to full precision: scipy.stats.norm.ppf(0.975) = 1.959963984540054.
        close(z_value(0.95), 1.959_963_984_540_054, 1e-15, "z");
        // scipy.stats.chi2.sf(8.2249, 1) = 0.0041317...; chi2.sf(3.841458820694124, 1) = 0.05
        close(chi2_sf_1(3.841_458_820_694_124), 0.05, 1e-14, "chi2");
    }
}

//! Tests for trend: the Cochran–Armitage test for a trend in proportions as
//! R's `prop.trend.test` computes it, and Holm's step-down correction for
//! multiple tests. Pinned to R's documented example and to an independent
//! numpy/scipy computation and statsmodels' `multipletests(method="holm")`
//! (tests/data/reference/make_survival_reference.py → trend.json). Pure.

use serde::Serialize;

use super::survival::chi2_sf_1;

/// The result of a test for trend.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    /// Chi-square with 1 degree of freedom (R's `X-squared`).
    pub statistic: f64,
    pub p: f64,
    /// The slope of the proportion per unit of score (per year when the
    /// scores are years): the weighted least-squares slope of x/n on the
    /// scores that `prop.trend.test` fits (weights ∝ n). Multiply by 100 for
    /// percentage points per year.
    pub slope: f64,
}

/// The Cochran–Armitage test of `x` successes out of `n` at `scores`: as R's
/// `prop.trend.test(x, n, score)`, the regression sum of squares of the
/// weighted least-squares fit of x/n on the scores with weights
/// n / (p̄ (1 − p̄)), a chi-square with 1 df. Groups with n = 0 are left out.
/// `None` with fewer than two groups, when all scores are equal, or when the
/// pooled proportion is 0 or 1 (the test is undefined).
pub fn prop_trend(x: &[u64], n: &[u64], scores: &[f64]) -> Option<Trend> {
    let rows: Vec<(f64, f64, f64)> = x
        .iter()
        .zip(n)
        .zip(scores)
        .filter(|((_, n), _)| **n > 0)
        .map(|((&x, &n), &s)| (x as f64, n as f64, s))
        .collect();
    if rows.len() < 2 || rows.iter().any(|r| r.0 > r.1) {
        return None;
    }
    let (sx, sn): (f64, f64) = rows.iter().fold((0.0, 0.0), |a, r| (a.0 + r.0, a.1 + r.1));
    let p = sx / sn;
    if p <= 0.0 || p >= 1.0 {
        return None;
    }
    let w = |r: &(f64, f64, f64)| r.1 / p / (1.0 - p);
    let sw: f64 = rows.iter().map(w).sum();
    let s_mean = rows.iter().map(|r| w(r) * r.2).sum::<f64>() / sw;
    let f_mean = rows.iter().map(|r| w(r) * r.0 / r.1).sum::<f64>() / sw;
    let sxx: f64 = rows.iter().map(|r| w(r) * (r.2 - s_mean).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = rows
        .iter()
        .map(|r| w(r) * (r.2 - s_mean) * (r.0 / r.1 - f_mean))
        .sum();
    let slope = sxy / sxx;
    let statistic = slope * slope * sxx;
    Some(Trend {
        statistic,
        p: chi2_sf_1(statistic),
        slope,
    })
}

/// Holm's step-down adjusted p-values, in the order given: sort ascending,
/// multiply the i-th smallest (from 0) by m − i, carry the running maximum,
/// cap at 1 (statsmodels' `multipletests(p, method="holm")[1]`).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![0.0; m];
    let mut running = 0.0f64;
    for (i, &k) in order.iter().enumerate() {
        running = running.max(((m - i) as f64 * p[k]).min(1.0));
        out[k] = running;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> serde_json::Value {
        serde_json::from_str(include_str!("../../tests/data/reference/trend.json")).unwrap()
    }

    fn u64s(v: &serde_json::Value) -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect()
    }

    fn f64s(v: &serde_json::Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    }

    #[test]
    fn matches_r_documented_example() {
        // R: prop.trend.test(c(83, 90, 129, 70), c(86, 93, 136, 82)):
        // X-squared = 8.2249, df = 1, p-value = 0.004132.
        let t = prop_trend(
            &[83, 90, 129, 70],
            &[86, 93, 136, 82],
            &[1.0, 2.0, 3.0, 4.0],
        )
        .unwrap();
        assert!((t.statistic - 8.2249).abs() < 5e-5, "{}", t.statistic);
        assert!((t.p - 0.004132).abs() < 5e-7, "{}", t.p);
        // Years as scores: the same test.
        let y = prop_trend(
            &[83, 90, 129, 70],
            &[86, 93, 136, 82],
            &[2015.0, 2016.0, 2017.0, 2018.0],
        )
        .unwrap();
        assert!((y.statistic - t.statistic).abs() < 1e-9);
    }

    /// trend.json's numpy/scipy implementation; tolerance 1e-9 absolute
    /// (relative for statistics above 1), the same sums in another order.
    #[test]
    fn matches_numpy_reference() {
        let r = reference();
        for (name, case) in r["prop_trend"].as_object().unwrap() {
            let t =
                prop_trend(&u64s(&case["x"]), &u64s(&case["n"]), &f64s(&case["score"])).unwrap();
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
            assert!(
                close(t.statistic, case["statistic"].as_f64().unwrap()),
                "{name}"
            );
            assert!(close(t.p, case["p"].as_f64().unwrap()), "{name}");
            assert!(close(t.slope, case["slope"].as_f64().unwrap()), "{name}");
        }
        for case in r["holm"].as_array().unwrap() {
            let got = holm(&f64s(&case["p"]));
            for (a, b) in got.iter().zip(f64s(&case["adjusted"])) {
                assert!((a - b).abs() < 1e-12, "{got:?}");
            }
        }
    }

    #[test]
    fn undefined_cases() {
        assert_eq!(prop_trend(&[1], &[2], &[2017.0]), None);
        assert_eq!(prop_trend(&[0, 0], &[5, 6], &[1.0, 2.0]), None);
        assert_eq!(prop_trend(&[5, 6], &[5, 6], &[1.0, 2.0]), None);
        assert_eq!(prop_trend(&[1, 2], &[5, 6], &[3.0, 3.0]), None);
        assert!(prop_trend(&[1, 0, 2], &[5, 0, 6], &[1.0, 2.0, 3.0]).is_some());
        assert!(holm(&[]).is_empty());
    }
}

//! Intervals and tests: Wilson score intervals, percentile bootstrap
//! intervals (seeded), Pearson's chi-square on a 2×2 table, the Mann–Whitney U
//! test with its effect size, and adjusted classify-and-count. Pure functions.

use serde::Serialize;

use super::quantile::{quantile_sorted, sorted};
use crate::sample::{Draw, normal_quantile};

/// A two-sided interval.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

/// The complementary error function (Numerical Recipes' Chebyshev fit,
/// relative error below 1.2e-7).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The 95% (or `confidence`) Wilson score interval of k successes in n.
pub fn wilson(k: u64, n: u64, confidence: f64) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * ((p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt()) / denom;
    Some(Interval {
        lo: (centre - half).max(0.0),
        hi: (centre + half).min(1.0),
    })
}

/// Percentile bootstrap interval of the median: `resamples` resamples with
/// replacement from a seeded stream, then the (1±confidence)/2 quantiles.
pub fn bootstrap_median(
    values: &[f64],
    resamples: usize,
    confidence: f64,
    seed: u64,
) -> Option<Interval> {
    if values.is_empty() {
        return None;
    }
    let mut draw = Draw::new(seed);
    let n = values.len();
    let mut medians = Vec::with_capacity(resamples);
    let mut buf = vec![0.0; n];
    for _ in 0..resamples {
        for b in buf.iter_mut() {
            *b = values[draw.below(n as u64) as usize];
        }
        buf.sort_by(f64::total_cmp);
        medians.push(quantile_sorted(&buf, 0.5).unwrap_or(f64::NAN));
    }
    let medians = sorted(medians);
    let a = (1.0 - confidence) / 2.0;
    Some(Interval {
        lo: quantile_sorted(&medians, a)?,
        hi: quantile_sorted(&medians, 1.0 - a)?,
    })
}

/// Pearson's chi-square test of a 2×2 table [[a, b], [c, d]], without
/// continuity correction (scipy's `chi2_contingency(..., correction=False)`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct ChiSquare {
    pub chi2: f64,
    pub p: f64,
    /// φ = √(χ²/N), the effect size.
    pub phi: f64,
}

pub fn chi_square_2x2(a: u64, b: u64, c: u64, d: u64) -> Option<ChiSquare> {
    let (a, b, c, d) = (a as f64, b as f64, c as f64, d as f64);
    let n = a + b + c + d;
    let den = (a + b) * (c + d) * (a + c) * (b + d);
    if den == 0.0 {
        return None;
    }
    let chi2 = n * (a * d - b * c).powi(2) / den;
    Some(ChiSquare {
        chi2,
        p: erfc((chi2 / 2.0).sqrt()),
        phi: (chi2 / n).sqrt(),
    })
}

/// The Mann–Whitney U test of x against y: two-sided, normal approximation
/// with tie and continuity corrections (scipy's `mannwhitneyu(x, y,
/// method="asymptotic")`), and Cliff's delta (2U/(n₁n₂) − 1: > 0 when x tends
/// to be larger).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct MannWhitney {
    /// U of x.
    pub u: f64,
    pub p: f64,
    pub cliffs_delta: f64,
}

pub fn mann_whitney(x: &[f64], y: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let mut all: Vec<(f64, bool)> = x
        .iter()
        .map(|&v| (v, true))
        .chain(y.iter().map(|&v| (v, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = all.len();
    let (mut r1, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        r1 += all[i..=j].iter().filter(|v| v.1).count() as f64 * rank;
        i = j + 1;
    }
    let (n1f, n2f, nf) = (n1 as f64, n2 as f64, n as f64);
    let u1 = r1 - n1f * (n1f + 1.0) / 2.0;
    let mu = n1f * n2f / 2.0;
    let sigma = (n1f * n2f / 12.0 * ((nf + 1.0) - ties / (nf * (nf - 1.0)))).sqrt();
    let big = u1.max(n1f * n2f - u1);
    let p = if sigma > 0.0 {
        erfc(((big - mu - 0.5) / sigma).max(0.0) / std::f64::consts::SQRT_2).min(1.0)
    } else {
        1.0
    };
    Some(MannWhitney {
        u: u1,
        p,
        cliffs_delta: 2.0 * u1 / (n1f * n2f) - 1.0,
    })
}

/// Adjusted classify-and-count: the share of each true category, from the
/// shares a classifier predicts and its confusion on labeled data.
/// `confusion[t][p]` counts labeled posts of true class t predicted as p.
/// Solves M·π = p̂ with M[p][t] = P(predicted p | true t), clips negative
/// shares to 0 and renormalizes. `None` when M is singular.
pub fn adjusted_count(predicted_shares: &[f64], confusion: &[Vec<u64>]) -> Option<Vec<f64>> {
    let k = predicted_shares.len();
    let mut m = vec![vec![0.0; k]; k];
    for (t, row) in confusion.iter().enumerate().take(k) {
        let total: u64 = row.iter().sum();
        for (p, &c) in row.iter().enumerate().take(k) {
            m[p][t] = if total > 0 {
                c as f64 / total as f64
            } else if p == t {
                1.0
            } else {
                0.0
            };
        }
    }
    let pi = solve(m, predicted_shares.to_vec())?;
    let clipped: Vec<f64> = pi.iter().map(|v| v.max(0.0)).collect();
    let s: f64 = clipped.iter().sum();
    (s > 0.0).then(|| clipped.iter().map(|v| v / s).collect())
}

/// Solves A·x = b by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, rest) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (r, row) in rest.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[col + 1 + r] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|c| a[row][c] * x[c]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn wilson_matches_statsmodels() {
        // statsmodels proportion_confint(25, 100, method='wilson') =
        // (0.17545211362287677, 0.3430446354806161); (0, 10) -> (0, 0.27753279986288926);
        // (10, 10) -> (0.7224672001371106, 1.0).
        let w = wilson(25, 100, 0.95).unwrap();
        close(w.lo, 0.175_452_113_622_876_77, 1e-8);
        close(w.hi, 0.343_044_635_480_616_1, 1e-8);
        let w = wilson(0, 10, 0.95).unwrap();
        close(w.lo, 0.0, 1e-12);
        close(w.hi, 0.277_532_799_862_889_26, 1e-8);
        close(
            wilson(10, 10, 0.95).unwrap().lo,
            0.722_467_200_137_110_6,
            1e-8,
        );
        assert_eq!(wilson(0, 0, 0.95), None);
    }

    /// Every case of tests/data/reference/wilson.json (made by
    /// make_wilson_reference.py beside it: statsmodels' proportion_confint
    /// with method='wilson').
    #[test]
    fn wilson_matches_the_statsmodels_reference() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/data/reference/wilson.json")).unwrap();
        let cases = v["cases"].as_array().unwrap();
        assert!(cases.len() >= 10);
        for c in cases {
            let (k, n) = (c["k"].as_u64().unwrap(), c["n"].as_u64().unwrap());
            let w = wilson(k, n, c["confidence"].as_f64().unwrap()).unwrap();
            // normal_quantile is accurate to about 1e-9.
            close(w.lo, c["low"].as_f64().unwrap(), 1e-8);
            close(w.hi, c["high"].as_f64().unwrap(), 1e-8);
        }
    }

    #[test]
    fn tests_match_scipy() {
        // scipy.special.erfc(0.5) = 0.4795001221869535, erfc(2) = 0.004677734981047266
        close(erfc(0.5), 0.479_500_122_186_953_5, 1e-7);
        close(erfc(2.0), 0.004_677_734_981_047_266, 1e-9);
        close(erfc(-0.5), 2.0 - 0.479_500_122_186_953_5, 1e-7);
        // chi2_contingency([[25,75],[340,660]], correction=False)[:2] =
        // (3.3212188985183113, 0.06839110573777639)
        let c = chi_square_2x2(25, 75, 340, 660).unwrap();
        close(c.chi2, 3.321_218_898_518_311_3, 1e-9);
        close(c.p, 0.068_391_105_737_776_39, 1e-7);
        assert_eq!(chi_square_2x2(0, 0, 1, 1), None);
        // mannwhitneyu(x, y, alternative='two-sided', method='asymptotic') =
        // (33.0, 0.0985429267172174)
        let x = [0.5, 1.2, 3.4, 0.2, 7.7, 2.2, 2.2];
        let y = [0.1, 0.4, 0.9, 2.2, 0.3, 0.35];
        let m = mann_whitney(&x, &y).unwrap();
        close(m.u, 33.0, 1e-12);
        close(m.p, 0.098_542_926_717_217_4, 1e-7);
        close(m.cliffs_delta, 2.0 * 33.0 / 42.0 - 1.0, 1e-12);
    }

    #[test]
    fn adjusted_count_matches_numpy() {
        // M[pred][true] = [[0.8,0.1,0.1],[0.15,0.7,0.1],[0.05,0.2,0.8]];
        // numpy.linalg.solve(M, [0.5,0.3,0.2]) = [0.57142857, 0.28571429, 0.14285714].
        // The confusion below (rows: true) gives that M.
        let confusion = vec![vec![80, 15, 5], vec![10, 70, 20], vec![10, 10, 80]];
        let pi = adjusted_count(&[0.5, 0.3, 0.2], &confusion).unwrap();
        for (a, b) in pi.iter().zip([0.571_428_57, 0.285_714_29, 0.142_857_14]) {
            close(*a, b, 1e-7);
        }
        // A perfect classifier changes nothing.
        let eye = vec![vec![5, 0], vec![0, 5]];
        assert_eq!(adjusted_count(&[0.25, 0.75], &eye).unwrap(), [0.25, 0.75]);
    }

    #[test]
    fn bootstrap_converges_to_the_exact_bootstrap_distribution() {
        // For [1, 2, 10] the 27 equally likely resamples have medians
        // 1 (7 of 27), 2 (13 of 27), 10 (7 of 27): the exact 2.5% and 97.5%
        // quantiles are 1 and 10, and the median 2 lies inside.
        let ci = bootstrap_median(&[1.0, 2.0, 10.0], 20_000, 0.95, 7).unwrap();
        assert_eq!((ci.lo, ci.hi), (1.0, 10.0));
        let ci50 = bootstrap_median(&[1.0, 2.0, 10.0], 20_000, 0.4, 7).unwrap();
        assert_eq!((ci50.lo, ci50.hi), (2.0, 2.0));
        // Seeded: the same interval every time.
        let v: Vec<f64> = (0..200).map(|i| f64::from(i % 37) * 1.3).collect();
        assert_eq!(
            bootstrap_median(&v, 500, 0.95, 1),
            bootstrap_median(&v, 500, 0.95, 1)
        );
        assert_eq!(bootstrap_median(&[], 10, 0.95, 1), None);
    }
}

//! Prediction-powered inference for a mean (a category's share): PPI++ with
//! power tuning (Angelopoulos, Duchi & Zrnic 2023, as `ppi_py.ppi_mean_ci`
//! computes it with `lam=None`), cross-prediction-powered inference (Zrnic &
//! Candès, PNAS 2024, as `ppi_py.crossppi_mean_ci`), and the stratified
//! combination of per-stratum estimates. Pure functions over plain slices.
//!
//! Notation: `y` are the labels of the n labeled (sampled) posts (1 if the
//! post is of the category, else 0), `yhat` the predictions for those same
//! posts, `yhat_unlabeled` the predictions for the N unlabeled posts. In
//! cross-prediction `yhat` is each labeled post's prediction by the model
//! that did not see its fold and `yhat_unlabeled` the mean over the K fold
//! models of their predictions (ppi_py's `Yhat_unlabeled.mean(axis=1)`).
//!
//! ## Finite population
//!
//! ppi_py's interval treats the labeled and unlabeled posts as independent
//! draws from an infinite population. Here the posts are a finite population
//! of M = n + N questions, the sample is drawn without replacement and the
//! unlabeled set is the population minus the sample. For a fixed λ and fixed
//! predictions f the PPI point estimate is then exactly
//!
//! θ̂ = mean_U(λf) + mean_S(Y − λf) = T/N + mean_S(Z),  Z = Y − (1 + n/N)·λf,
//!
//! with T = Σ_population λf a constant, so its design variance is the
//! textbook one of a sample mean without replacement, (1 − n/M)·S²_Z/n. We
//! estimate it with the sample variance of Z (ddof 1): that is
//! [`PpiMean::se_finite`]. At the population level ppi_py's variance exceeds
//! this exact one by S²_Y/M (expand both): the infinite form is always
//! conservative, and negligible at the study's sampling fraction (380 of
//! 39,628 questions: 1 %), but at 100 of 630 (16 %) it is about 8 % too wide.
//! For cross-prediction the same form is used with λ = 1 and f the held-out
//! predictions, which treats the fold models as one fixed predictor, as
//! Zrnic & Candès's variance also does. [`PpiMean::se`] is ppi_py's.

use serde::Serialize;

use super::inference::Interval;
use crate::sample::normal_quantile;

/// A prediction-powered estimate of a mean.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct PpiMean {
    pub estimate: f64,
    /// The standard error as ppi_py computes it (infinite population).
    pub se: f64,
    /// The standard error of the same estimate for a sample drawn without
    /// replacement from the n + N posts (see the module's notes).
    pub se_finite: f64,
    /// The power-tuning parameter (1 for cross-prediction).
    pub lambda: f64,
    pub labeled: usize,
    pub unlabeled: usize,
}

/// z such that a two-sided interval at error level `alpha` is ±z·se.
pub fn z_two_sided(alpha: f64) -> f64 {
    normal_quantile(1.0 - alpha / 2.0)
}

impl PpiMean {
    /// ppi_py's two-sided interval at error level `alpha` (0.05 for 95 %).
    pub fn interval(&self, alpha: f64) -> Interval {
        let z = z_two_sided(alpha);
        Interval {
            lo: self.estimate - z * self.se,
            hi: self.estimate + z * self.se,
        }
    }

    /// The finite-population interval at error level `alpha`.
    pub fn interval_finite(&self, alpha: f64) -> Interval {
        let z = z_two_sided(alpha);
        Interval {
            lo: self.estimate - z * self.se_finite,
            hi: self.estimate + z * self.se_finite,
        }
    }
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Variance with `ddof` delta degrees of freedom (numpy's `var`).
fn var(x: &[f64], ddof: usize) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - ddof) as f64
}

/// (1 − n/M)·s²(Z)/n with Z = Y − (1 + n/N)·λ·Ŷ: the finite-population
/// variance of the PPI estimate (module notes).
fn finite_variance(y: &[f64], yhat: &[f64], lambda: f64, unlabeled: usize) -> f64 {
    let n = y.len() as f64;
    let big_n = unlabeled as f64;
    let k = (1.0 + n / big_n) * lambda;
    let z: Vec<f64> = y.iter().zip(yhat).map(|(y, f)| y - k * f).collect();
    (1.0 - n / (n + big_n)) * var(&z, 1) / n
}

/// The power-tuning parameter of PPI++ for a mean, as ppi_py's
/// `_calc_lam_glm` with the identity Hessian, `optim_mode="overall"` and
/// `clip=True` computes it for one column: the covariance of labels and
/// predictions over the labeled posts (divided by n) over (1 + n/N) times the
/// variance (ddof 1) of all predictions, labeled and unlabeled, clipped to
/// [0, 1]. The gradients are centred, so the point estimate they start from
/// cancels out.
pub fn power_tuning(y: &[f64], yhat: &[f64], yhat_unlabeled: &[f64]) -> f64 {
    let n = y.len() as f64;
    let big_n = yhat_unlabeled.len() as f64;
    let (my, mf) = (mean(y), mean(yhat));
    let cov = y
        .iter()
        .zip(yhat)
        .map(|(a, b)| (a - my) * (b - mf))
        .sum::<f64>()
        / n;
    let all: Vec<f64> = yhat.iter().chain(yhat_unlabeled).copied().collect();
    let v = var(&all, 1);
    let lam = cov / ((1.0 + n / big_n) * v);
    // numpy's clip keeps NaN (constant predictions give 0/0); ppi_py would
    // then return NaN. We fall back to the classical estimate, λ = 0.
    if lam.is_nan() {
        0.0
    } else {
        lam.clamp(0.0, 1.0)
    }
}

/// PPI++ for one mean, as `ppi_py.ppi_mean_ci(Y, Yhat, Yhat_unlabeled,
/// alpha, lam=None)`: λ from [`power_tuning`], the estimate mean_U(λŶ) +
/// mean_S(Y − λŶ), and the standard error √(var(λŶ_U)/N + var(Y − λŶ_S)/n)
/// (variances with ddof 0, as numpy's `std`). `None` with fewer than two
/// labeled posts or no unlabeled one (then the sample is the population).
pub fn ppi_mean(y: &[f64], yhat: &[f64], yhat_unlabeled: &[f64]) -> Option<PpiMean> {
    if y.len() < 2 || y.len() != yhat.len() || yhat_unlabeled.is_empty() {
        return None;
    }
    let lambda = power_tuning(y, yhat, yhat_unlabeled);
    Some(rectified(y, yhat, yhat_unlabeled, lambda))
}

/// The rectified mean with a given λ (ppi_py's `lam=` argument).
pub fn rectified(y: &[f64], yhat: &[f64], yhat_unlabeled: &[f64], lambda: f64) -> PpiMean {
    let (n, big_n) = (y.len(), yhat_unlabeled.len());
    let imputed: Vec<f64> = yhat_unlabeled.iter().map(|f| lambda * f).collect();
    let rect: Vec<f64> = y.iter().zip(yhat).map(|(y, f)| y - lambda * f).collect();
    let estimate = mean(&imputed) + mean(&rect);
    let se = (var(&imputed, 0) / big_n as f64 + var(&rect, 0) / n as f64).sqrt();
    PpiMean {
        estimate,
        se,
        se_finite: finite_variance(y, yhat, lambda, big_n).sqrt(),
        lambda,
        labeled: n,
        unlabeled: big_n,
    }
}

/// Cross-prediction-powered inference for one mean, as
/// `ppi_py.crossppi_mean_ci(Y, Yhat, Yhat_unlabeled, alpha)`: `yhat` holds
/// each labeled post's held-out prediction, `yhat_unlabeled_mean` each
/// unlabeled post's mean prediction over the K fold models. Estimate
/// mean_U(Ŷ) + mean_S(Y − Ŷ); standard error √(var(Ŷ_U)/N + var(Ŷ − Y)/n)
/// (ddof 0).
pub fn crossppi_mean(y: &[f64], yhat: &[f64], yhat_unlabeled_mean: &[f64]) -> Option<PpiMean> {
    if y.len() < 2 || y.len() != yhat.len() || yhat_unlabeled_mean.is_empty() {
        return None;
    }
    Some(rectified(y, yhat, yhat_unlabeled_mean, 1.0))
}

/// One stratum's estimate and its weight N_h / N.
#[derive(Debug, Clone, Copy)]
pub struct Stratum {
    pub weight: f64,
    pub estimate: f64,
    pub se: f64,
}

/// Combines independent per-stratum estimates of a stratified sample:
/// θ̂ = Σ w_h·θ̂_h and se = √(Σ w_h²·se_h²), with w_h = N_h / N the stratum's
/// share of the population. Returns (estimate, se).
pub fn stratified(strata: &[Stratum]) -> (f64, f64) {
    let est = strata.iter().map(|s| s.weight * s.estimate).sum();
    let var: f64 = strata.iter().map(|s| (s.weight * s.se).powi(2)).sum();
    (est, var.sqrt())
}

/// A prediction-powered simple linear regression y = a + b·x.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct PpiOls {
    pub intercept: f64,
    pub slope: f64,
    /// Standard errors as ppi_py computes them (infinite population).
    pub se_intercept: f64,
    pub se_slope: f64,
    pub lambda: f64,
}

type M2 = [[f64; 2]; 2];

fn mul(a: &M2, b: &M2) -> M2 {
    let mut c = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            c[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j];
        }
    }
    c
}

fn inv(a: &M2) -> Option<M2> {
    let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
    if det == 0.0 || !det.is_finite() {
        return None;
    }
    Some([
        [a[1][1] / det, -a[0][1] / det],
        [-a[1][0] / det, a[0][0] / det],
    ])
}

/// OLS of y on [1, x]: (intercept, slope).
fn ols(x: &[f64], y: &[f64]) -> Option<[f64; 2]> {
    let (mx, my) = (mean(x), mean(y));
    let sxx: f64 = x.iter().map(|v| (v - mx) * (v - mx)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let b = sxy / sxx;
    Some([my - b * mx, b])
}

/// Covariance matrix (ddof 1) of rows of two columns (numpy's `np.cov(G.T)`).
fn cov2(rows: &[[f64; 2]]) -> M2 {
    let n = rows.len() as f64;
    let m = [
        rows.iter().map(|r| r[0]).sum::<f64>() / n,
        rows.iter().map(|r| r[1]).sum::<f64>() / n,
    ];
    let mut c = [[0.0; 2]; 2];
    for r in rows {
        for i in 0..2 {
            for j in 0..2 {
                c[i][j] += (r[i] - m[i]) * (r[j] - m[j]);
            }
        }
    }
    c.map(|row| row.map(|v| v / (n - 1.0)))
}

struct OlsStats {
    grads: Vec<[f64; 2]>,
    grads_hat: Vec<[f64; 2]>,
    grads_hat_unlabeled: Vec<[f64; 2]>,
    inv_hessian: M2,
}

/// ppi_py's `_ols_get_stats` for X = [1, x], unit weights.
fn ols_stats(
    pe: [f64; 2],
    x: &[f64],
    y: &[f64],
    yhat: &[f64],
    xu: &[f64],
    yhu: &[f64],
    use_unlabeled: bool,
) -> Option<OlsStats> {
    let (n, big_n) = (x.len() as f64, xu.len() as f64);
    let mut h = [[0.0; 2]; 2];
    let outer = |h: &mut M2, t: f64, w: f64| {
        let v = [1.0, t];
        for i in 0..2 {
            for j in 0..2 {
                h[i][j] += w * v[i] * v[j];
            }
        }
    };
    let grad = |t: f64, target: f64| {
        let r = pe[0] + pe[1] * t - target;
        [r, t * r]
    };
    let mut grads_hat_unlabeled = vec![[0.0; 2]; xu.len()];
    if use_unlabeled {
        for (i, (&t, &f)) in xu.iter().zip(yhu).enumerate() {
            outer(&mut h, t, 1.0 / (big_n + n));
            grads_hat_unlabeled[i] = grad(t, f);
        }
    }
    let w = if use_unlabeled {
        1.0 / (big_n + n)
    } else {
        1.0 / n
    };
    let mut grads = Vec::with_capacity(x.len());
    let mut grads_hat = Vec::with_capacity(x.len());
    for ((&t, &yy), &f) in x.iter().zip(y).zip(yhat) {
        outer(&mut h, t, w);
        grads.push(grad(t, yy));
        grads_hat.push(grad(t, f));
    }
    Some(OlsStats {
        grads,
        grads_hat,
        grads_hat_unlabeled,
        inv_hessian: inv(&h)?,
    })
}

/// ppi_py's `_calc_lam_glm` (overall, clipped) for two coordinates.
fn lam_glm(s: &OlsStats) -> f64 {
    let n = s.grads.len() as f64;
    let big_n = s.grads_hat_unlabeled.len() as f64;
    let centre = |g: &[[f64; 2]]| {
        let m = [
            g.iter().map(|r| r[0]).sum::<f64>() / g.len() as f64,
            g.iter().map(|r| r[1]).sum::<f64>() / g.len() as f64,
        ];
        g.iter()
            .map(|r| [r[0] - m[0], r[1] - m[1]])
            .collect::<Vec<_>>()
    };
    let (gc, ghc) = (centre(&s.grads), centre(&s.grads_hat));
    let mut cov = [[0.0; 2]; 2];
    for (a, b) in gc.iter().zip(&ghc) {
        for i in 0..2 {
            for j in 0..2 {
                cov[i][j] += (a[i] * b[j] + b[i] * a[j]) / n;
            }
        }
    }
    let all: Vec<[f64; 2]> = s
        .grads_hat
        .iter()
        .chain(&s.grads_hat_unlabeled)
        .copied()
        .collect();
    let var = cov2(&all);
    let trace = |m: &M2| m[0][0] + m[1][1];
    let v = &s.inv_hessian;
    let num = trace(&mul(&mul(v, &cov), v));
    let den = 2.0 * (1.0 + n / big_n) * trace(&mul(&mul(v, &var), v));
    let lam = num / den;
    if lam.is_nan() {
        0.0
    } else {
        lam.clamp(0.0, 1.0)
    }
}

fn ols_point(
    x: &[f64],
    y: &[f64],
    yhat: &[f64],
    xu: &[f64],
    yhu: &[f64],
    lam: f64,
) -> Option<[f64; 2]> {
    let imputed: Vec<f64> = yhu.iter().map(|f| lam * f).collect();
    let rect: Vec<f64> = y.iter().zip(yhat).map(|(y, f)| y - lam * f).collect();
    let a = ols(xu, &imputed)?;
    let b = ols(x, &rect)?;
    Some([a[0] + b[0], a[1] + b[1]])
}

/// PPI++ for a simple linear regression of the label on x (the yearly
/// slope of a category's share), as `ppi_py.ppi_ols_ci(X, Y, Yhat,
/// X_unlabeled, Yhat_unlabeled, alpha, lam=None)` with X = [1, x]: the same
/// two rounds of power tuning, the sandwich variance H⁻¹(n/N·V_u + V)H⁻¹/n.
/// `None` when x is constant in the labeled or the unlabeled posts.
pub fn ppi_ols(x: &[f64], y: &[f64], yhat: &[f64], xu: &[f64], yhu: &[f64]) -> Option<PpiOls> {
    if x.len() < 3
        || x.len() != y.len()
        || y.len() != yhat.len()
        || xu.len() != yhu.len()
        || xu.is_empty()
    {
        return None;
    }
    // ppi_ols_pointestimate(lam=None): tune λ at the λ = 1 estimate.
    let pe1 = ols_point(x, y, yhat, xu, yhu, 1.0)?;
    let lam1 = lam_glm(&ols_stats(pe1, x, y, yhat, xu, yhu, true)?);
    let pe0 = ols_point(x, y, yhat, xu, yhu, lam1)?;
    // ppi_ols_ci(lam=None) tunes again at that estimate, then recomputes.
    let lam = lam_glm(&ols_stats(pe0, x, y, yhat, xu, yhu, true)?);
    let pe = ols_point(x, y, yhat, xu, yhu, lam)?;
    let s = ols_stats(pe, x, y, yhat, xu, yhu, lam != 0.0)?;
    let n = x.len() as f64;
    let big_n = xu.len() as f64;
    let scaled: Vec<[f64; 2]> = s
        .grads_hat_unlabeled
        .iter()
        .map(|g| [lam * g[0], lam * g[1]])
        .collect();
    let var_u = cov2(&scaled);
    let diff: Vec<[f64; 2]> = s
        .grads
        .iter()
        .zip(&s.grads_hat)
        .map(|(g, h)| [g[0] - lam * h[0], g[1] - lam * h[1]])
        .collect();
    let var = cov2(&diff);
    let mut mid = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            mid[i][j] = n / big_n * var_u[i][j] + var[i][j];
        }
    }
    let sigma = mul(&mul(&s.inv_hessian, &mid), &s.inv_hessian);
    Some(PpiOls {
        intercept: pe[0],
        slope: pe[1],
        se_intercept: (sigma[0][0] / n).sqrt(),
        se_slope: (sigma[1][1] / n).sqrt(),
        lambda: lam,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from tests/data/reference/make_ppi_reference.py,
    /// which runs ppi_py 0.2.3 (`ppi_mean_ci` with `lam=None`,
    /// `crossppi_mean_ci`) on seeded fixtures and computes the finite form
    /// with numpy.
    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        method: String,
        alpha: f64,
        y: Vec<f64>,
        yhat: Vec<f64>,
        yhat_unlabeled: Vec<f64>,
        estimate: f64,
        lambda: f64,
        low: f64,
        high: f64,
        low_finite: f64,
        high_finite: f64,
    }

    #[derive(serde::Deserialize)]
    struct Reference {
        cases: Vec<Case>,
        stratified: StratifiedCase,
        ols: Vec<OlsCase>,
    }

    #[derive(serde::Deserialize)]
    struct OlsCase {
        name: String,
        alpha: f64,
        x: Vec<f64>,
        y: Vec<f64>,
        yhat: Vec<f64>,
        x_unlabeled: Vec<f64>,
        yhat_unlabeled: Vec<f64>,
        estimate: [f64; 2],
        low: [f64; 2],
        high: [f64; 2],
    }

    #[derive(serde::Deserialize)]
    struct StratifiedCase {
        weights: Vec<f64>,
        estimates: Vec<f64>,
        ses: Vec<f64>,
        estimate: f64,
        se: f64,
    }

    const REFERENCE: &str = include_str!("../../tests/data/reference/ppi_reference.json");

    fn close(a: f64, b: f64, what: &str) {
        assert!((a - b).abs() <= 1e-9, "{what}: {a} vs {b}");
    }

    #[test]
    fn matches_ppi_python() {
        let r: Reference = serde_json::from_str(REFERENCE).unwrap();
        assert!(r.cases.len() >= 6);
        for c in &r.cases {
            let got = match c.method.as_str() {
                "ppi" => ppi_mean(&c.y, &c.yhat, &c.yhat_unlabeled),
                _ => crossppi_mean(&c.y, &c.yhat, &c.yhat_unlabeled),
            }
            .unwrap();
            close(got.estimate, c.estimate, &format!("{} estimate", c.name));
            close(got.lambda, c.lambda, &format!("{} lambda", c.name));
            let i = got.interval(c.alpha);
            close(i.lo, c.low, &format!("{} low", c.name));
            close(i.hi, c.high, &format!("{} high", c.name));
            let f = got.interval_finite(c.alpha);
            close(f.lo, c.low_finite, &format!("{} finite low", c.name));
            close(f.hi, c.high_finite, &format!("{} finite high", c.name));
            if c.method == "ppi" {
                // The finite form is the narrower one (module notes).
                assert!(f.hi - f.lo <= i.hi - i.lo, "{}", c.name);
            }
        }
        let s = &r.stratified;
        let parts: Vec<Stratum> = (0..s.weights.len())
            .map(|h| Stratum {
                weight: s.weights[h],
                estimate: s.estimates[h],
                se: s.ses[h],
            })
            .collect();
        let (est, se) = stratified(&parts);
        close(est, s.estimate, "stratified estimate");
        close(se, s.se, "stratified se");
        assert!(r.ols.len() >= 2);
        for c in &r.ols {
            let o = ppi_ols(&c.x, &c.y, &c.yhat, &c.x_unlabeled, &c.yhat_unlabeled).unwrap();
            let z = z_two_sided(c.alpha);
            // The slope (per year) to 1e-9. The intercept is the value at
            // year 0, 2,000 years from the data: statsmodels' least squares
            // on raw [1, year] (a pseudo-inverse of a badly conditioned
            // matrix) loses digits there, so it is compared to 1e-7 relative.
            let tol = |a: f64, b: f64, t: f64, what: &str| {
                assert!(
                    (a - b).abs() <= t * b.abs().max(1.0),
                    "{} {what}: {a} vs {b}",
                    c.name
                )
            };
            tol(o.slope, c.estimate[1], 1e-9, "slope");
            tol(o.slope - z * o.se_slope, c.low[1], 1e-9, "slope low");
            tol(o.slope + z * o.se_slope, c.high[1], 1e-9, "slope high");
            tol(o.intercept, c.estimate[0], 1e-7, "intercept");
            tol(
                o.intercept - z * o.se_intercept,
                c.low[0],
                1e-7,
                "intercept low",
            );
        }
    }

    #[test]
    fn degenerate_inputs() {
        assert!(ppi_mean(&[1.0], &[1.0], &[0.0, 1.0]).is_none());
        assert!(ppi_mean(&[1.0, 0.0], &[1.0, 0.0], &[]).is_none());
        // Constant predictions: λ = 0, the classical mean.
        let m = ppi_mean(&[1.0, 0.0, 0.0, 1.0], &[0.0; 4], &[0.0; 10]).unwrap();
        assert_eq!(m.lambda, 0.0);
        assert!((m.estimate - 0.5).abs() < 1e-15);
    }
}

//! One-vs-rest linear classifiers over sparse vectors: L2-regularized
//! logistic regression (as scikit-learn's `LogisticRegression`, lbfgs,
//! intercept not penalized) or a squared-hinge linear SVM, with balanced class
//! weights, fitted by L-BFGS.
//!
//! Per class c, with y = ±1 (c or not) and sample weights s (balanced:
//! n / (2·n_pos) and n / (2·n_neg)), minimize
//! ½‖w‖² + C · Σ sᵢ · loss(yᵢ (w·xᵢ + b)).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::features::Sparse;

/// The loss of the binary problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    Logistic,
    SquaredHinge,
}

impl Loss {
    /// loss(z) and its derivative.
    fn eval(self, z: f64) -> (f64, f64) {
        match self {
            Loss::Logistic => {
                // log(1 + e^-z), stable for large |z|.
                let l = if z > 0.0 {
                    (-z).exp().ln_1p()
                } else {
                    -z + z.exp().ln_1p()
                };
                (l, -1.0 / (1.0 + z.exp()))
            }
            Loss::SquaredHinge => {
                let m = (1.0 - z).max(0.0);
                (m * m, -2.0 * m)
            }
        }
    }
}

/// Settings of a fit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct LinearParams {
    pub loss: Loss,
    /// Inverse regularization strength.
    pub c: f64,
    /// Stop when the largest gradient component is below this.
    pub tol: f64,
    pub max_iter: usize,
}

impl Default for LinearParams {
    fn default() -> Self {
        LinearParams {
            loss: Loss::Logistic,
            c: 10.0,
            tol: 1e-5,
            max_iter: 1000,
        }
    }
}

/// A fitted one-vs-rest model: one weight row and bias per class.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Linear {
    pub params: LinearParams,
    pub classes: Vec<String>,
    pub weights: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
}

/// w·x; indexes of `x` beyond `w` are not features and count for nothing.
fn dot(w: &[f64], x: &Sparse) -> f64 {
    x.iter()
        .filter_map(|&(i, v)| w.get(i as usize).map(|wi| wi * f64::from(v)))
        .sum()
}

/// Objective and gradient of one binary problem at (w, b) packed as `theta`
/// (the bias last).
fn objective(
    theta: &[f64],
    xs: &[Sparse],
    ys: &[f64],
    s: &[f64],
    p: &LinearParams,
) -> (f64, Vec<f64>) {
    let d = theta.len() - 1;
    let (w, b) = (&theta[..d], theta[d]);
    let mut f = 0.5 * w.iter().map(|x| x * x).sum::<f64>();
    let mut g: Vec<f64> = w.to_vec();
    g.push(0.0);
    for ((x, &y), &si) in xs.iter().zip(ys).zip(s) {
        let z = y * (dot(w, x) + b);
        let (l, dl) = p.loss.eval(z);
        f += p.c * si * l;
        let k = p.c * si * dl * y;
        for &(i, v) in x {
            if (i as usize) < d {
                g[i as usize] += k * f64::from(v);
            }
        }
        g[d] += k;
    }
    (f, g)
}

/// Minimizes a smooth function with L-BFGS (memory 10) and a backtracking
/// Armijo line search.
fn lbfgs(mut x: Vec<f64>, p: &LinearParams, fg: impl Fn(&[f64]) -> (f64, Vec<f64>)) -> Vec<f64> {
    let m = 10;
    let (mut f, mut g) = fg(&x);
    let mut hist: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    let dotv = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    for _ in 0..p.max_iter {
        if g.iter().fold(0.0f64, |a, v| a.max(v.abs())) < p.tol {
            break;
        }
        // Two-loop recursion: direction = -H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(hist.len());
        for (s, y, rho) in hist.iter().rev() {
            let a = rho * dotv(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        if let Some((s, y, _)) = hist.back() {
            let gamma = dotv(s, y) / dotv(y, y);
            q.iter_mut().for_each(|v| *v *= gamma);
        }
        for ((s, y, rho), a) in hist.iter().zip(alphas.iter().rev()) {
            let b = rho * dotv(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dotv(&g, &dir);
        if slope >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            hist.clear();
            dir = g.iter().map(|v| -v).collect();
            slope = dotv(&g, &dir);
        }
        let mut step = if hist.is_empty() {
            1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1.0)
        } else {
            1.0
        };
        let (nx, nf, ng) = loop {
            let nx: Vec<f64> = x.iter().zip(&dir).map(|(xi, di)| xi + step * di).collect();
            let (nf, ng) = fg(&nx);
            if nf <= f + 1e-4 * step * slope || step < 1e-20 {
                break (nx, nf, ng);
            }
            step *= 0.5;
        };
        let s: Vec<f64> = nx.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = ng.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dotv(&s, &y);
        let converged = (f - nf).abs() <= 1e-15 * f.abs().max(1.0);
        if sy > 1e-12 {
            if hist.len() == m {
                hist.pop_front();
            }
            hist.push_back((s, y, 1.0 / sy));
        }
        x = nx;
        f = nf;
        g = ng;
        if converged {
            break;
        }
    }
    x
}

impl Linear {
    /// Fits one binary model per class in `classes` (each in parallel).
    /// `labels[i]` is the index in `classes` of row i's class; feature indexes
    /// at or beyond `dim` count for nothing.
    pub fn fit(
        xs: &[Sparse],
        labels: &[usize],
        classes: &[String],
        dim: usize,
        params: LinearParams,
    ) -> Linear {
        let n = xs.len() as f64;
        let rows: Vec<(Vec<f32>, f32)> = (0..classes.len())
            .into_par_iter()
            .map(|c| {
                let ys: Vec<f64> = labels
                    .iter()
                    .map(|&l| if l == c { 1.0 } else { -1.0 })
                    .collect();
                let pos = ys.iter().filter(|&&y| y > 0.0).count() as f64;
                let neg = n - pos;
                let s: Vec<f64> = ys
                    .iter()
                    .map(|&y| {
                        if y > 0.0 {
                            n / (2.0 * pos.max(1.0))
                        } else {
                            n / (2.0 * neg.max(1.0))
                        }
                    })
                    .collect();
                let theta = lbfgs(vec![0.0; dim + 1], &params, |t| {
                    objective(t, xs, &ys, &s, &params)
                });
                (
                    theta[..dim].iter().map(|&v| v as f32).collect(),
                    theta[dim] as f32,
                )
            })
            .collect();
        let (weights, bias) = rows.into_iter().unzip();
        Linear {
            params,
            classes: classes.to_vec(),
            weights,
            bias,
        }
    }

    /// The decision value of each class.
    pub fn scores(&self, x: &Sparse) -> Vec<f64> {
        self.weights
            .iter()
            .zip(&self.bias)
            .map(|(w, &b)| {
                x.iter()
                    .filter(|(i, _)| (*i as usize) < w.len())
                    .map(|&(i, v)| f64::from(w[i as usize]) * f64::from(v))
                    .sum::<f64>()
                    + f64::from(b)
            })
            .collect()
    }

    /// The predicted class index and per-class probabilities (each class's
    /// sigmoid, normalized to sum 1, as scikit-learn's one-vs-rest does).
    pub fn predict(&self, x: &Sparse) -> (usize, Vec<f64>) {
        let scores = self.scores(x);
        let sig: Vec<f64> = scores.iter().map(|z| 1.0 / (1.0 + (-z).exp())).collect();
        let total: f64 = sig.iter().sum();
        let probs: Vec<f64> = sig.iter().map(|p| p / total.max(1e-300)).collect();
        let best = argmax(&scores);
        (best, probs)
    }
}

/// Index of the largest value; the first one on ties.
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(rows: &[[f32; 3]]) -> Vec<Sparse> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .filter(|(_, v)| **v != 0.0)
                    .map(|(i, v)| (i as u32, *v))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn logistic_matches_scikit_learn() {
        // Reference: OneVsRestClassifier(LogisticRegression(C=2.0,
        // class_weight='balanced', tol=1e-12, max_iter=100000)).fit(X, y),
        // scikit-learn 1.x, coefficients and intercepts to 1e-10.
        let xs = dense(&[
            [1.0, 0.0, 0.5],
            [0.9, 0.1, 0.0],
            [0.0, 1.0, 0.2],
            [0.1, 0.8, 0.0],
            [0.0, 0.0, 1.0],
            [0.2, 0.1, 0.9],
            [0.5, 0.5, 0.0],
        ]);
        let labels = [0, 0, 1, 1, 2, 2, 0];
        let classes: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let params = LinearParams {
            loss: Loss::Logistic,
            c: 2.0,
            tol: 1e-9,
            max_iter: 10_000,
        };
        let m = Linear::fit(&xs, &labels, &classes, 3, params);
        let want = [
            (
                [1.505_018_306_8, -0.542_373_733_8, -0.783_326_258_5],
                -0.197_603_643_3,
            ),
            (
                [-0.895_774_229_8, 1.436_766_18, -0.664_473_150_1],
                -0.318_852_701_8,
            ),
            (
                [-0.819_014_419_6, -0.785_976_154_3, 1.507_843_708_9],
                -0.371_733_812_3,
            ),
        ];
        for (c, (w, b)) in want.iter().enumerate() {
            for (got, want) in m.weights[c].iter().zip(w) {
                assert!(
                    (f64::from(*got) - want).abs() < 1e-5,
                    "class {c}: {got} vs {want}"
                );
            }
            assert!((f64::from(m.bias[c]) - b).abs() < 1e-5, "bias {c}");
        }
        // predict_proba([[0.3, 0.3, 0.3]]) = [0.3633908104, 0.322552949, 0.3140562406]
        let (best, probs) = m.predict(&vec![(0, 0.3), (1, 0.3), (2, 0.3)]);
        assert_eq!(best, 0);
        for (p, w) in probs
            .iter()
            .zip([0.363_390_810_4, 0.322_552_949, 0.314_056_240_6])
        {
            assert!((p - w).abs() < 1e-5, "{p} vs {w}");
        }
    }

    #[test]
    fn squared_hinge_separates_and_ties_break_first() {
        let xs = dense(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);
        let classes: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let params = LinearParams {
            loss: Loss::SquaredHinge,
            ..LinearParams::default()
        };
        let m = Linear::fit(&xs, &[0, 1, 2], &classes, 3, params);
        for (i, x) in xs.iter().enumerate() {
            assert_eq!(m.predict(x).0, i);
        }
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
    }
}

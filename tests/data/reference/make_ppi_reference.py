"""Reference values for stackmine's prediction-powered inference
(src/analyze/ppi.rs, tests/estimate.rs), computed with ppi-python.

    python make_ppi_reference.py            # writes ppi_reference.json beside it
    python make_ppi_reference.py --check F  # reads F (JSON inputs), prints results

Needs ppi-python 0.2.3 (module ppi_py) and numpy. `ppi_mean_ci` runs with
`lam=None` (power tuning, PPI++), `crossppi_mean_ci` with its defaults; both
two-sided, `alpha` the error level (0.05 for 95 %). The finite-population
interval is computed here with numpy from ppi_py's own lambda, as stackmine
documents it: se^2 = (1 - n/M) * var(Z, ddof=1) / n with
Z = Y - (1 + n/N) * lam * Yhat and M = n + N.
"""

import json
import sys
from pathlib import Path

import numpy as np
from ppi_py import crossppi_mean_ci, ppi_mean_ci, ppi_mean_pointestimate, ppi_ols_ci
from ppi_py.ppi import _calc_lam_glm
from scipy.stats import norm


def ppi_lambda(Y, Yhat, Yhat_unlabeled):
    """The lambda ppi_mean_ci(lam=None) uses, from ppi_py's own function."""
    pe = ppi_mean_pointestimate(Y, Yhat, Yhat_unlabeled, lam=1)
    g = (Y - pe).reshape(-1, 1)
    gh = (Yhat - pe).reshape(-1, 1)
    ghu = (Yhat_unlabeled - pe).reshape(-1, 1)
    return float(_calc_lam_glm(g, gh, ghu, np.eye(1), coord=None, clip=True))


def finite(Y, Yhat, N, lam, est, alpha):
    n = len(Y)
    Z = Y - (1 + n / N) * lam * Yhat
    se = np.sqrt((1 - n / (n + N)) * Z.var(ddof=1) / n)
    z = norm.ppf(1 - alpha / 2)
    return est - z * se, est + z * se


def ppi_case(name, Y, Yhat, Yhat_unlabeled, alpha):
    lam = ppi_lambda(Y, Yhat, Yhat_unlabeled)
    if np.ptp(np.concatenate([Yhat, Yhat_unlabeled])) == 0:
        # Constant predictions make lambda 0/0: ppi_py returns NaN, or 0 or 1
        # from rounding noise. The estimate and interval are then the same
        # for every lambda (the predictions cancel); stackmine reports 0.
        lam = 0.0
    lo, hi = ppi_mean_ci(Y, Yhat, Yhat_unlabeled, alpha=alpha, lam=lam)
    est = float(ppi_mean_pointestimate(Y, Yhat, Yhat_unlabeled, lam=lam)[0])
    flo, fhi = finite(Y, Yhat, len(Yhat_unlabeled), lam, est, alpha)
    return dict(name=name, method="ppi", alpha=alpha, y=Y.tolist(), yhat=Yhat.tolist(),
                yhat_unlabeled=Yhat_unlabeled.tolist(), estimate=est, **{"lambda": lam},
                low=float(lo[0]), high=float(hi[0]), low_finite=float(flo), high_finite=float(fhi))


def cross_case(name, Y, Yhat, Yhat_unlabeled_k, alpha):
    lo, hi = crossppi_mean_ci(Y, Yhat, Yhat_unlabeled_k, alpha=alpha)
    mean_u = Yhat_unlabeled_k.mean(axis=1)
    est = float(mean_u.mean() + (Y - Yhat).mean())
    flo, fhi = finite(Y, Yhat, len(mean_u), 1.0, est, alpha)
    return dict(name=name, method="cross", alpha=alpha, y=Y.tolist(), yhat=Yhat.tolist(),
                yhat_unlabeled=mean_u.tolist(), estimate=est, **{"lambda": 1.0},
                low=float(np.ravel(lo)[0]), high=float(np.ravel(hi)[0]), low_finite=float(flo), high_finite=float(fhi))


def flip(rng, y, p):
    return np.where(rng.random(len(y)) < p, 1 - y, y)


def fixtures():
    rng = np.random.default_rng(20261201)
    cases = []
    for name, n, N, share, err, alpha in [
        ("good classifier", 100, 530, 0.2, 0.1, 0.05),
        ("poor classifier", 100, 530, 0.3, 0.45, 0.05),
        ("rare kind", 380, 9620, 0.03, 0.05, 0.05),
        ("90 percent", 60, 400, 0.5, 0.2, 0.1),
    ]:
        y = (rng.random(n + N) < share).astype(float)
        f = flip(rng, y, err).astype(float)
        cases.append(ppi_case(name, y[:n], f[:n], f[n:], alpha))
    # Predictions that anti-correlate with the labels: lambda clipped to 0.
    y = (rng.random(300) < 0.4).astype(float)
    f = 1 - flip(rng, y, 0.1)
    cases.append(ppi_case("anti-correlated (lambda 0)", y[:50], f[:50], f[50:], 0.05))
    # Soft predictions (probabilities).
    y = (rng.random(400) < 0.25).astype(float)
    p = np.clip(0.6 * y + 0.2 + 0.15 * rng.standard_normal(400), 0, 1)
    cases.append(ppi_case("probabilities", y[:80], p[:80], p[80:], 0.05))
    # Cross-prediction: K = 5 fold models, held-out predictions on the sample.
    for name, n, N, share, err in [("cross, good", 100, 530, 0.15, 0.1),
                                   ("cross, poor", 120, 2000, 0.35, 0.4)]:
        y = (rng.random(n + N) < share).astype(float)
        yhat = flip(rng, y[:n], err).astype(float)
        k = np.stack([flip(rng, y[n:], err) for _ in range(5)], axis=1).astype(float)
        cases.append(cross_case(name, y[:n], yhat, k, 0.05))
    w = np.array([0.6, 0.3, 0.1])
    est = np.array([0.21, 0.35, 0.05])
    ses = np.array([0.03, 0.05, 0.02])
    strat = dict(weights=w.tolist(), estimates=est.tolist(), ses=ses.tolist(),
                 estimate=float((w * est).sum()), se=float(np.sqrt((w**2 * ses**2).sum())))
    # ppi_ols_ci with X = [1, year]: a category's yearly slope.
    ols = []
    for name, n, N, err, alpha in [("slope, good", 120, 900, 0.1, 0.05), ("slope, poor", 80, 1500, 0.4, 0.1)]:
        year = rng.integers(2012, 2021, n + N).astype(float)
        p = 0.1 + 0.02 * (year - 2012)
        y = (rng.random(n + N) < p).astype(float)
        f = flip(rng, y, err).astype(float)
        X = np.column_stack([np.ones(n + N), year])
        lo, hi = ppi_ols_ci(X[:n], y[:n], f[:n], X[n:], f[n:], alpha=alpha)
        # ppi_ols_ci tunes lambda once more at ppi_ols_pointestimate's answer
        # and centres its interval on the estimate with that lambda.
        est = (lo + hi) / 2
        ols.append(dict(name=name, alpha=alpha, x=year[:n].tolist(), y=y[:n].tolist(), yhat=f[:n].tolist(),
                        x_unlabeled=year[n:].tolist(), yhat_unlabeled=f[n:].tolist(),
                        estimate=[float(v) for v in est], low=[float(v) for v in lo], high=[float(v) for v in hi]))
    return dict(generator="tests/data/reference/make_ppi_reference.py with ppi-python 0.2.3",
                cases=cases, stratified=strat, ols=ols)


def check(path):
    """Inputs from `stackmine estimate --write-inputs FILE`: {"alpha",
    "strata": [{"stratum", "categories": {key: {"method", "y", "yhat",
    "yhat_unlabeled"}}}]}; yhat_unlabeled is N x K for cross. Prints, per
    stratum and category, what ppi_py computes."""
    data = json.loads(Path(path).read_text())
    out = {}
    for s in data["strata"]:
        res = {}
        for key, c in s["categories"].items():
            Y, Yhat = np.array(c["y"], float), np.array(c["yhat"], float)
            U = np.array(c["yhat_unlabeled"], float)
            if c["method"] == "ppi":
                r = ppi_case(key, Y, Yhat, U, data["alpha"])
            else:
                r = cross_case(key, Y, Yhat, U, data["alpha"])
            keep = ("estimate", "lambda", "low", "high", "low_finite", "high_finite")
            res[key] = {k: r[k] for k in keep}
        out[s["stratum"]] = res
    # The yearly slope per category (X = [1, year]), as ppi_ols_ci computes
    # it with lam=None; the estimate is its interval's centre (see fixtures).
    trend = {}
    for key, c in data.get("trend", {}).items():
        x, xu = np.array(c["x"], float), np.array(c["x_unlabeled"], float)
        if len(np.unique(x)) < 2:
            continue
        X = np.column_stack([np.ones(len(x)), x])
        Xu = np.column_stack([np.ones(len(xu)), xu])
        lo, hi = ppi_ols_ci(X, np.array(c["y"], float), np.array(c["yhat"], float), Xu,
                            np.array(c["yhat_unlabeled"], float), alpha=data["alpha"])
        trend[key] = dict(slope=float((lo[1] + hi[1]) / 2), low=float(lo[1]), high=float(hi[1]))
    if trend:
        out["trend"] = trend
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    else:
        target = Path(__file__).with_name("ppi_reference.json")
        target.write_text(json.dumps(fixtures()) + "\n")
        print(f"wrote {target}")

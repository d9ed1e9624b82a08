#!/usr/bin/env python3
"""Reference values for stackmine's survival and trend statistics.

    python make_survival_reference.py [OUT_DIR]
    python make_survival_reference.py --store STUDY.db OUT.json

The first writes OUT_DIR/survival.json and OUT_DIR/trend.json (default: this
folder). The second reads a study's store with sqlite3 and writes what
`stackmine stats --json` must give under acceptance_km and first_answer_km,
per framework with questions and for all (see store_reference below).
Needs lifelines (0.30.3 was used), numpy, scipy, statsmodels.

survival.json, computed with lifelines:
  - kaplan_meier: per case, lifelines.KaplanMeierFitter().fit(durations,
    events): every row of survival_function_ and confidence_interval_ (the
    exponential Greenwood interval lifelines computes, alpha 0.05), the
    cumulative density 1 - S and its interval at 1, 24, 168 and 720 hours
    (fit with timeline=those times: lifelines pads the step function), and
    median_survival_time_ (null when infinite).
  - logrank: lifelines.statistics.logrank_test(a, b, events_a, events_b):
    test_statistic and p_value.
  Cases: real answer times of ai.stackexchange.com up to 2017-03-13
  (ai2017-answer-times.csv, exported from a study of
  tests/data/ai.stackexchange.com-2017 ingested with --all-questions, hours
  clamped at 0, questions without an accepted / any answer censored at the
  dump's last CreationDate), and hand-made edge cases: all censored, no
  censoring, ties of events and censorings, one subject, an event at time 0,
  a curve that reaches 0.

trend.json: prop.trend.test as R computes it (anova of a weighted lm of the
proportions on the scores, weights n / (p (1 - p)), chi-square 1 df),
implemented here with numpy and scipy, on R's documented example and on a
few more; and statsmodels.stats.multitest.multipletests(method="holm").
"""

import csv
import json
import math
import os
import sys

import numpy as np
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from scipy import stats
from statsmodels.stats.multitest import multipletests

HERE = os.path.dirname(os.path.abspath(__file__))
TIMES = [1.0, 24.0, 168.0, 720.0]


def num(x):
    x = float(x)
    return None if math.isinf(x) or math.isnan(x) else x


def km_case(durations, events):
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=int)
    kmf = KaplanMeierFitter().fit(d, e)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    at = KaplanMeierFitter().fit(d, e, timeline=TIMES)
    cd = at.cumulative_density_.iloc[:, 0]
    cdi = at.confidence_interval_cumulative_density_
    return {
        "durations": [float(x) for x in d],
        "events": [int(x) for x in e],
        "curve": {
            "time": [float(t) for t in sf.index],
            "survival": [float(s) for s in sf.values],
            "lower": [float(s) for s in ci.iloc[:, 0].values],
            "upper": [float(s) for s in ci.iloc[:, 1].values],
        },
        "at": {
            "time": TIMES,
            "cumulative": [float(x) for x in cd.values],
            "cumulative_lower": [float(x) for x in cdi.iloc[:, 0].values],
            "cumulative_upper": [float(x) for x in cdi.iloc[:, 1].values],
        },
        "median": num(kmf.median_survival_time_),
    }


def logrank_case(a, b):
    r = logrank_test(a[0], b[0], event_observed_A=a[1], event_observed_B=b[1])
    return {
        "a": {"durations": [float(x) for x in a[0]], "events": [int(x) for x in a[1]]},
        "b": {"durations": [float(x) for x in b[0]], "events": [int(x) for x in b[1]]},
        "statistic": float(r.test_statistic),
        "p": float(r.p_value),
    }


def read_times():
    rows = list(csv.DictReader(open(os.path.join(HERE, "ai2017-answer-times.csv"))))
    acc = ([float(r["hours_to_accepted"]) for r in rows], [int(r["accepted"]) for r in rows])
    first = ([float(r["hours_to_first_answer"]) for r in rows], [int(r["answered"]) for r in rows])
    by_year = {}
    for r in rows:
        g = by_year.setdefault(r["year"], ([], []))
        g[0].append(float(r["hours_to_accepted"]))
        g[1].append(int(r["accepted"]))
    return acc, first, by_year


def prop_trend(x, n, score):
    """R's prop.trend.test: the regression sum of squares of a weighted
    least-squares fit of x/n on score, weights n / (p (1 - p))."""
    x, n, s = (np.asarray(v, dtype=float) for v in (x, n, score))
    p = x.sum() / n.sum()
    w = n / p / (1 - p)
    f = x / n
    sw = np.sum(w * s) / w.sum()
    fw = np.sum(w * f) / w.sum()
    sxx = np.sum(w * (s - sw) ** 2)
    slope = np.sum(w * (s - sw) * (f - fw)) / sxx
    chisq = slope**2 * sxx
    return {
        "x": [int(v) for v in x],
        "n": [int(v) for v in n],
        "score": [float(v) for v in s],
        "statistic": float(chisq),
        "p": float(stats.chi2.sf(chisq, 1)),
        "slope": float(slope),
    }


def km_summary(durations, events):
    """As stackmine's KmSummary: 1 - S(t) at TIMES with the interval of the
    cumulative density, the median (None when infinite)."""
    if not durations:
        return None
    kmf = KaplanMeierFitter().fit(durations, events, timeline=TIMES)
    full = KaplanMeierFitter().fit(durations, events)
    cd = kmf.cumulative_density_.iloc[:, 0].values
    cdi = kmf.confidence_interval_cumulative_density_.values
    key = lambda t: "%g" % t
    return {
        "events": int(sum(events)),
        "censored": int(len(events) - sum(events)),
        "p_within_hours": {key(t): float(cd[i]) for i, t in enumerate(TIMES)},
        "p_within_hours_ci": {key(t): [float(cdi[i][0]), float(cdi[i][1])] for i, t in enumerate(TIMES)},
        "median_hours": num(full.median_survival_time_),
    }


def store_reference(db, out):
    """Per question of the store: created, the accepted answer's and the first
    answer's creation (ms), and the site's dump date (sites.as_of_ms, else the
    latest creation of the site's stored posts). A subject is an event when
    its answer came by the dump's date, else censored then; hours are
    max(0, ms difference) / 3,600,000. Questions whose accepted answer is not
    in the store are left out of the acceptance curve."""
    import sqlite3

    c = sqlite3.connect(db)
    latest = dict(
        c.execute(
            "SELECT site, MAX(ms) FROM (SELECT site, MAX(created_ms) ms FROM questions GROUP BY site "
            "UNION ALL SELECT site, MAX(created_ms) FROM answers GROUP BY site) GROUP BY site"
        )
    )
    as_of = {s: (ms if ms is not None else latest.get(s)) for s, ms in c.execute("SELECT site, as_of_ms FROM sites")}
    rows = c.execute(
        """SELECT q.site, q.id, q.created_ms, q.accepted_answer_id, acc.created_ms,
                  (SELECT MIN(a.created_ms) FROM answers a WHERE a.site = q.site AND a.parent_id = q.id)
           FROM questions q LEFT JOIN answers acc
             ON acc.site = q.site AND acc.id = q.accepted_answer_id AND acc.parent_id = q.id"""
    ).fetchall()
    fws = {}
    for site, qid, fw in c.execute("SELECT site, question_id, framework FROM question_frameworks"):
        fws.setdefault((site, qid), []).append(fw)
    groups = {"all": rows}
    for r in rows:
        for fw in fws.get((r[0], r[1]), []):
            groups.setdefault(fw, []).append(r)

    def subject(created, event_ms, end):
        if event_ms is not None and event_ms <= end:
            return max(0, event_ms - created) / 3600000.0, 1
        return max(0, end - created) / 3600000.0, 0

    result = {}
    for name, qs in sorted(groups.items()):
        acc = [subject(r[2], r[4], as_of[r[0]]) for r in qs if r[3] is None or r[4] is not None]
        first = [subject(r[2], r[5], as_of[r[0]]) for r in qs]
        result[name] = {
            "acceptance_km": km_summary([a[0] for a in acc], [a[1] for a in acc]),
            "first_answer_km": km_summary([a[0] for a in first], [a[1] for a in first]),
        }
    doc = {"lifelines": __import__("lifelines").__version__, "groups": result}
    classified = dict(((s, q), c) for s, q, c in c.execute("SELECT site, question_id, category FROM classifications"))
    if classified:
        doc["categories"] = category_reference(c, rows, classified, as_of, subject)
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def category_reference(c, rows, classified, as_of, subject):
    """Per category of the classified questions: the acceptance curve's
    summary, the log-rank test of the category against all others
    (lifelines), each Holm-corrected across categories (statsmodels), and the
    Cochran-Armitage trend of its yearly share (prop_trend above)."""
    created = dict(((s, q), d[:4]) for s, q, d in c.execute("SELECT site, id, created FROM questions"))
    cats = sorted(set(classified.values()))
    kept = [r for r in rows if (r[0], r[1]) in classified]
    years = sorted(set(created[(r[0], r[1])] for r in kept))
    out = {}
    for cat in cats:
        def acc(qs):
            return [subject(r[2], r[4], as_of[r[0]]) for r in qs if r[3] is None or r[4] is not None]
        mine = acc([r for r in kept if classified[(r[0], r[1])] == cat])
        others = acc([r for r in kept if classified[(r[0], r[1])] != cat])
        lr = logrank_test([a[0] for a in mine], [a[0] for a in others], [a[1] for a in mine], [a[1] for a in others])
        x = [sum(1 for r in kept if created[(r[0], r[1])] == y and classified[(r[0], r[1])] == cat) for y in years]
        n = [sum(1 for r in kept if created[(r[0], r[1])] == y) for y in years]
        out[cat] = {
            "acceptance_km": km_summary([a[0] for a in mine], [a[1] for a in mine]),
            "log_rank": {"statistic": float(lr.test_statistic), "p": float(lr.p_value)},
            "trend": prop_trend(x, n, [float(y) for y in years]),
        }
    for key, get in [("log_rank", lambda v: v["log_rank"]), ("trend", lambda v: v["trend"])]:
        ps = [get(out[k])["p"] for k in cats]
        for k, a in zip(cats, multipletests(ps, method="holm")[1]):
            get(out[k])["p_holm"] = float(a)
    return out


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--store":
        return store_reference(sys.argv[2], sys.argv[3])
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    acc, first, by_year = read_times()
    km = {
        "ai2017_accepted": km_case(*acc),
        "ai2017_first_answer": km_case(*first),
        "all_censored": km_case([1, 2, 3.5, 800], [0, 0, 0, 0]),
        "no_censoring": km_case([0.5, 2, 3, 30, 200, 1000], [1, 1, 1, 1, 1, 1]),
        "ties": km_case([1, 1, 1, 2, 2, 24, 24, 24, 24, 100, 168, 168], [1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0]),
        "one_subject_event": km_case([5.0], [1]),
        "one_subject_censored": km_case([5.0], [0]),
        "event_at_zero": km_case([0, 0, 0.25, 3, 3, 50], [1, 0, 1, 1, 0, 0]),
        "reaches_zero": km_case([1, 2, 2, 30, 30], [0, 1, 0, 1, 1]),
    }
    lr = {
        "ai2017_2016_vs_2017": logrank_case(by_year["2016"], by_year["2017"]),
        "ties": logrank_case(([1, 1, 2, 5, 5, 9], [1, 0, 1, 1, 1, 0]), ([1, 2, 2, 3, 5, 10, 12], [1, 1, 0, 1, 1, 1, 0])),
        "lifelines_doc": logrank_case(([5, 3, 9, 8, 7, 4, 4, 3], [1, 1, 1, 1, 1, 1, 0, 0]), ([2, 5, 6, 7], [1, 1, 1, 0])),
        "single_at_risk": logrank_case(([1, 4], [1, 1]), ([2], [1])),
    }
    with open(os.path.join(out, "survival.json"), "w") as f:
        json.dump({"lifelines": __import__("lifelines").__version__, "kaplan_meier": km, "logrank": lr}, f, indent=1)
        f.write("\n")

    trend = {
        # R: smokers <- c(83, 90, 129, 70); patients <- c(86, 93, 136, 82);
        # prop.trend.test(smokers, patients): X-squared = 8.2249, p-value = 0.004132
        "r_smokers": prop_trend([83, 90, 129, 70], [86, 93, 136, 82], [1, 2, 3, 4]),
        "r_smokers_years": prop_trend([83, 90, 129, 70], [86, 93, 136, 82], [2015, 2016, 2017, 2018]),
        "gap_years": prop_trend([20, 15, 11, 9, 4], [100, 110, 98, 120, 80], [2012, 2013, 2015, 2016, 2019]),
        "flat": prop_trend([10, 20, 30], [100, 200, 300], [2017, 2018, 2019]),
    }
    pvals = [0.01, 0.04, 0.03, 0.005, 0.5, 0.04]
    holm = {
        "p": pvals,
        "adjusted": [float(v) for v in multipletests(pvals, method="holm")[1]],
    }
    pvals2 = [0.2, 1e-6, 0.8]
    holm2 = {"p": pvals2, "adjusted": [float(v) for v in multipletests(pvals2, method="holm")[1]]}
    with open(os.path.join(out, "trend.json"), "w") as f:
        json.dump({"prop_trend": trend, "holm": [holm, holm2]}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

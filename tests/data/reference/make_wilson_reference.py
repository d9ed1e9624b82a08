#!/usr/bin/env python3
"""Reference values for stackmine's Wilson score interval (analyze::inference::wilson).

    python make_wilson_reference.py [OUT_DIR]

Writes OUT_DIR/wilson.json (default: this folder): for each case (k
successes of n, confidence level), statsmodels'
statsmodels.stats.proportion.proportion_confint(k, n, alpha=1 - confidence,
method="wilson") as [low, high]. Cases: edge cases (0 and n successes, n = 1),
the report's usual sizes, the endorsement detector's precision and recall on
tests/data/endorsements/ai-2017.csv (68 of 74, 68 of 76), and other
confidence levels. statsmodels 0.15.0 was used.
"""

import json
import os
import sys

import statsmodels
from statsmodels.stats.proportion import proportion_confint

HERE = os.path.dirname(os.path.abspath(__file__))

CASES = [
    (0, 1, 0.95), (1, 1, 0.95), (0, 10, 0.95), (10, 10, 0.95), (1, 2, 0.95),
    (25, 100, 0.95), (68, 74, 0.95), (68, 76, 0.95), (307, 604, 0.95),
    (285, 604, 0.95), (3, 7, 0.95), (640, 2381, 0.95), (1, 39628, 0.95),
    (19814, 39628, 0.95), (5, 20, 0.9), (5, 20, 0.99), (50, 51, 0.5),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    cases = []
    for k, n, conf in CASES:
        lo, hi = proportion_confint(k, n, alpha=1 - conf, method="wilson")
        cases.append({"k": k, "n": n, "confidence": conf, "low": float(lo), "high": float(hi)})
    with open(os.path.join(out, "wilson.json"), "w") as f:
        json.dump({"statsmodels": statsmodels.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

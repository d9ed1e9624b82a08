#!/usr/bin/env python3
"""Reference values for `stackmine agree` per root-cause code.

    python make_root_cause_reference.py [CSV] [OUT.json]

Reads a label CSV with root_causes_NAME columns (default:
../labels/root-causes.csv) and writes (default: root_causes.json beside this
script), for the two annotators in it, over the posts both labeled:

  - per code of the default study (assets/study.toml, in its order):
      kappa:     sklearn.metrics.cohen_kappa_score(has_a, has_b) of the 0/1
                 "label carries this code" decisions (scikit-learn 1.x; null
                 where scikit-learn gives nan, i.e. chance agreement is 1)
      agreement: positive specific agreement, by hand:
                 2 * both / (n_a + n_b) (null when neither gave the code)
      counts:    [n_a, n_b], the posts each annotator gave the code
  - items: the number of posts compared.
"""

import csv
import json
import math
import os
import sys
import warnings

from sklearn.metrics import cohen_kappa_score

CODES = ["api_misuse", "hyperparameters", "gpu", "static_graph", "debugging", "other"]

here = os.path.dirname(os.path.abspath(__file__))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "labels", "root-causes.csv")
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "root_causes.json")

with open(src, newline="") as f:
    rows = list(csv.DictReader(f))
names = sorted(h[len("annotator_"):] for h in rows[0] if h.startswith("annotator_"))
assert len(names) == 2, names
a, b = names
both = [r for r in rows if r[f"annotator_{a}"].strip() and r[f"annotator_{b}"].strip()]


def codes(r, name):
    return {c.strip() for c in r.get(f"root_causes_{name}", "").split(";") if c.strip()}


per_code = []
for code in CODES:
    ya = [int(code in codes(r, a)) for r in both]
    yb = [int(code in codes(r, b)) for r in both]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k = float(cohen_kappa_score(ya, yb))
    n_both = sum(x and y for x, y in zip(ya, yb))
    n_a, n_b = sum(ya), sum(yb)
    per_code.append({
        "code": code,
        "agreement": 2 * n_both / (n_a + n_b) if n_a + n_b else None,
        "kappa": None if math.isnan(k) else k,
        "counts": [n_a, n_b],
    })

with open(out, "w") as f:
    json.dump({"items": len(both), "annotators": names, "per_root_cause": per_code}, f, indent=2)
    f.write("\n")

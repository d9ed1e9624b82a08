#!/usr/bin/env python3
"""The baseline: what a researcher writes today to get the study's Table I.

Streams Posts.xml with ElementTree's iterparse (standard library only), keeps
questions whose tags contain a framework name (the study's substring match,
`Tags LIKE '%tensorflow%'`), and answers to kept questions, then prints the
same statistics as `stackmine stats --json`: per framework and for all
distinct questions, view count max / Q3 / median (linear interpolation,
numpy's default: statistics.quantiles(method="inclusive")), accepted answers,
hours to the accepted and to the first answer, questions per year.

It is the speed baseline of benches/compare.sh, and an implementation written
independently of stackmine's, so its output pins the stats tests.

usage: ingest_stats.py Posts.xml [--framework tensorflow --framework pytorch ...] [--all-questions]
"""
import argparse
import json
import statistics
import xml.etree.ElementTree as ET
from datetime import datetime

FRAMEWORKS = ["tensorflow", "pytorch", "deeplearning4j"]


def tags_of(raw):
    raw = raw or ""
    if raw.startswith("<"):
        return [t for t in raw[1:-1].split("><") if t]
    return [t for t in raw.split("|") if t]


def ms(s):
    return datetime.fromisoformat(s).timestamp() * 1000


def quantile(xs, p):
    if not xs:
        return None
    if len(xs) == 1:
        return float(xs[0])
    # method="inclusive" is linear interpolation between closest ranks.
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return {0.25: q[0], 0.5: q[1], 0.75: q[2]}[p]


def hours(values):
    values = sorted(values)
    return {
        "mean": statistics.fmean(values) if values else None,
        "median": quantile(values, 0.5),
        "q1": quantile(values, 0.25),
        "q3": quantile(values, 0.75),
        "n": len(values),
    }


def group(name, qs, answers_first, answer_created):
    n = len(qs)
    views = sorted(q["views"] for q in qs if q["views"] is not None)
    acc = [q for q in qs if q["accepted"] is not None]
    to_acc = [
        (answer_created[q["accepted"]][1] - q["created_ms"]) / 3.6e6
        for q in acc
        if q["accepted"] in answer_created and answer_created[q["accepted"]][0] == q["id"]
    ]
    to_first = [(answers_first[q["id"]] - q["created_ms"]) / 3.6e6 for q in qs if q["id"] in answers_first]
    per_year = {}
    for q in qs:
        per_year[q["year"]] = per_year.get(q["year"], 0) + 1
    unanswered = sum(1 for q in qs if q["id"] not in answers_first)
    return {
        "name": name,
        "questions": n,
        "views": {
            "max": views[-1] if views else None,
            "q3": quantile(views, 0.75),
            "median": quantile(views, 0.5),
            "n": len(views),
        },
        "accepted": {
            "count": len(acc),
            "percent": 100 * len(acc) / n if n else None,
            "resolved": len(to_acc),
            "missing": len(acc) - len(to_acc),
        },
        "hours_to_accepted": hours(to_acc),
        "unanswered": {"count": unanswered, "percent": 100 * unanswered / n if n else None},
        "hours_to_first_answer": hours(to_first),
        "per_year": dict(sorted(per_year.items())),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("posts")
    ap.add_argument("--framework", action="append")
    ap.add_argument("--all-questions", action="store_true")
    a = ap.parse_args()
    frameworks = a.framework or FRAMEWORKS
    questions = {}
    answer_created = {}  # answer id -> (parent id, created ms), answers to kept questions
    answers_first = {}  # question id -> earliest answer ms
    for _, el in ET.iterparse(a.posts, events=("end",)):
        if el.tag != "row":
            continue
        t = el.get("PostTypeId")
        if t == "1":
            tags = tags_of(el.get("Tags"))
            fws = [f for f in frameworks if any(f in tag for tag in tags)]
            if fws or a.all_questions:
                qid = int(el.get("Id"))
                views = el.get("ViewCount")
                acc = el.get("AcceptedAnswerId")
                created = el.get("CreationDate")
                questions[qid] = {
                    "id": qid,
                    "frameworks": fws,
                    "views": int(views) if views else None,
                    "accepted": int(acc) if acc else None,
                    "created_ms": ms(created),
                    "year": created[:4],
                }
        elif t == "2":
            parent = int(el.get("ParentId"))
            if parent in questions:
                created = ms(el.get("CreationDate"))
                answer_created[int(el.get("Id"))] = (parent, created)
                answers_first[parent] = min(answers_first.get(parent, created), created)
        el.clear()
    qs = sorted(questions.values(), key=lambda q: q["id"])
    out = {
        "frameworks": [group(f, [q for q in qs if f in q["frameworks"]], answers_first, answer_created) for f in frameworks],
        "all": group("all", qs, answers_first, answer_created),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

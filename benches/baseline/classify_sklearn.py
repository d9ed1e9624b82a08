#!/usr/bin/env python3
"""The baseline for `stackmine classify`: a scikit-learn pipeline doing the
same work from the same SQLite study.

Trains TF-IDF (title + body + code, word 1-2-grams, sublinear tf) and
one-vs-rest logistic regression (balanced) on a label set's final labels,
then, timed: reads every question from the store, predicts its category and
confidence, and writes them back to a table (`classifications_sklearn`).
Prints the questions per second of that timed part, single-threaded.

usage: classify_sklearn.py STUDY/study.db LABEL_SET
"""
import sqlite3
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline

db = sqlite3.connect(sys.argv[1])
label_set = sys.argv[2]
text = "ifnull(q.title,'') || ' ' || q.body_text || ' ' || q.code_text"
train = db.execute(
    f"SELECT {text}, f.primary_kind FROM final_labels f JOIN questions q"
    " ON q.site = f.site AND q.id = f.post_id WHERE f.set_name = ?",
    (label_set,),
).fetchall()
model = make_pipeline(
    TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
    OneVsRestClassifier(LogisticRegression(C=10, class_weight="balanced", max_iter=1000)),
)
model.fit([t for t, _ in train], [y for _, y in train])

start = time.perf_counter()
rows = db.execute(f"SELECT q.site, q.id, {text} FROM questions q ORDER BY q.site, q.id").fetchall()
proba = model.predict_proba([r[2] for r in rows])
best = proba.argmax(axis=1)
classes = model.classes_
db.execute("DROP TABLE IF EXISTS classifications_sklearn")
db.execute("CREATE TABLE classifications_sklearn (site TEXT, question_id INTEGER, category TEXT, confidence REAL)")
db.executemany(
    "INSERT INTO classifications_sklearn VALUES (?, ?, ?, ?)",
    [(r[0], r[1], classes[b], float(p[b])) for r, b, p in zip(rows, best, proba)],
)
db.commit()
secs = time.perf_counter() - start
print(f"sklearn classify: {len(rows)} questions in {secs:.2f} s ({len(rows) / secs:.0f} questions/s)")

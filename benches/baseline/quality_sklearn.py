#!/usr/bin/env python3
"""scikit-learn reference for the classifiers' quality: stratified 5-fold
cross-validation (scikit-learn's folds, seeds 0-2, averaged) on a label set's
final labels, with TF-IDF over title (1-2-grams, weight 2), body (1-2-grams,
min df 2), code (min df 2) and tags, and with the sentence embeddings that
`stackmine eval --kind hybrid` cached in the store (all-MiniLM-L6-v2, 128
tokens). Prints macro-F1 and lenient accuracy (prediction is any of the
post's kinds) for each setup.

usage: quality_sklearn.py STUDY/study.db LABEL_SET
(run `stackmine eval --study STUDY --labels SET --kind hybrid --protocol cv5`
first, so every labeled post has its embedding)
"""
import json
import sqlite3
import sys

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

db = sqlite3.connect(sys.argv[1])
rows = db.execute(
    "SELECT ifnull(q.title,''), q.body_text, q.code_text, q.tags, f.primary_kind, f.secondary, e.vector"
    " FROM final_labels f JOIN questions q ON q.site = f.site AND q.id = f.post_id"
    " JOIN embeddings e ON e.site = f.site AND e.id = f.post_id AND e.max_tokens = 128"
    " WHERE f.set_name = ? ORDER BY f.site, f.post_id",
    (sys.argv[2],),
).fetchall()
y = np.array([r[4] for r in rows])
kinds = [{r[4], *filter(None, r[5].split(";"))} for r in rows]
fields = [
    ([r[0] for r in rows], 2.0, dict(ngram_range=(1, 2))),
    ([r[1] for r in rows], 1.0, dict(ngram_range=(1, 2), min_df=2)),
    ([r[2] for r in rows], 1.0, dict(min_df=2)),
    ([" ".join(json.loads(r[3])) for r in rows], 1.0, dict(token_pattern=r"\S+")),
]
emb = np.array([np.frombuffer(r[6], dtype="<f4") for r in rows])
print(f"{len(rows)} labeled posts with embeddings")


def features(tr, te, tfidf, emb_weight):
    a, b = [], []
    if tfidf:
        for text, w, kw in fields:
            v = TfidfVectorizer(sublinear_tf=True, **kw)
            a.append(v.fit_transform([text[i] for i in tr]) * w)
            b.append(v.transform([text[i] for i in te]) * w)
    if emb_weight:
        a.append(csr_matrix(emb[tr] * emb_weight))
        b.append(csr_matrix(emb[te] * emb_weight))
    return hstack(a).tocsr(), hstack(b).tocsr()


def cv(name, make, tfidf, emb_weight):
    f1s, lenient = [], []
    for seed in range(3):
        pred = np.empty(len(y), dtype=object)
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(y, y):
            xtr, xte = features(tr, te, tfidf, emb_weight)
            pred[te] = make().fit(xtr, y[tr]).predict(xte)
        f1s.append(f1_score(y, pred, average="macro"))
        lenient.append(np.mean([p in k for p, k in zip(pred, kinds)]))
    print(f"{name:52} macro-F1 {np.mean(f1s):.3f}  lenient {np.mean(lenient):.3f}")


svm = lambda: LinearSVC(C=0.5, class_weight="balanced")  # noqa: E731
lr = lambda: LogisticRegression(C=10, class_weight="balanced", max_iter=3000)  # noqa: E731
cv("TF-IDF + logistic regression (C 10)", lr, True, 0)
cv("TF-IDF + linear SVM (C 0.5)", svm, True, 0)
cv("embeddings + logistic regression (C 10)", lr, False, 1)
cv("TF-IDF + embeddings x3 + logistic regression (C 10)", lr, True, 3)
cv("TF-IDF + embeddings x3 + linear SVM (C 0.5)", svm, True, 3)

"""Reference values for tests/static_encoder.rs: scikit-learn's PCA
(svd_solver="full", as model2vec's distillation runs it) and model2vec's
Zipf/SIF weights, on a small fixed matrix.

usage: ~/.cache/stackmine-venv/bin/python tests/data/reference/make_static_reference.py \
           > tests/data/reference/static_pca.json
"""
import json

import numpy as np
import sklearn
from sklearn.decomposition import PCA

# A fixed 40 × 6 matrix with correlated columns (no random generator, so
# the Rust test builds the same one): x[i][j] = sin(i * (j + 1) * 0.37) +
# 0.5 * cos(i * 0.11 + j) * j.
n, d, k = 40, 6, 3
x = np.array(
    [[np.sin(i * (j + 1) * 0.37) + 0.5 * np.cos(i * 0.11 + j) * j for j in range(d)] for i in range(n)]
)
p = PCA(n_components=k, svd_solver="full")
t = p.fit_transform(x)
# model2vec's _post_process_embeddings: Zipf over rank, SIF a / (a + p).
a = 1e-4
rows = 10
inv_rank = 1 / np.arange(2, rows + 2)
proba = inv_rank / inv_rank.sum()
w = a / (a + proba)
print(
    json.dumps(
        {
            "sklearn": sklearn.__version__,
            "n": n,
            "d": d,
            "k": k,
            "mean": p.mean_.tolist(),
            "components": p.components_.tolist(),
            "explained_variance": p.explained_variance_.tolist(),
            "explained_variance_ratio": float(p.explained_variance_ratio_.sum()),
            "transformed": t.tolist(),
            "zipf_sif_weights_10": w.tolist(),
        },
        indent=1,
    )
)

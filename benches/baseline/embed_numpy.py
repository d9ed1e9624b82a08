#!/usr/bin/env python3
"""The baseline for the hybrid model's embedding step: the numpy BERT of
tests/data/encoder/make_reference.py (Hugging Face `tokenizers`, numpy's
BLAS) embedding every question of a study, title + ". " + prose, 128
tokens, one text at a time as stackmine does. Prints texts per second of the
timed part (tokenize + embed; loading and reading are not timed). Set
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS to pin numpy's threads.

usage: embed_numpy.py STUDY/study.db ENCODER_DIR
"""
import pathlib
import sqlite3
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests/data/encoder"))
import make_reference as ref  # noqa: E402

tok = ref.load(sys.argv[2], 128)
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT ifnull(title,''), body_text FROM questions ORDER BY site, id"
).fetchall()
texts = [f"{t.strip()}. {b.strip()}" for t, b in rows]
start = time.perf_counter()
for t in texts:
    ref.embed(np.array(tok.encode(t).ids))
secs = time.perf_counter() - start
print(f"numpy embed: {len(texts)} texts in {secs:.2f} s ({len(texts) / secs:.1f} texts/s)")

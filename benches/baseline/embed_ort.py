#!/usr/bin/env python3
"""ONNX Runtime's encode step for benches/embed.sh: all-MiniLM-L6-v2 as ONNX
(fp32, or ORT's dynamic int8 with per-channel weights; see
/work/shared/bench/minilm-onnx/README.md for how they were exported), every
question of a study (title + ". " + prose, first 128 tokens by Hugging Face
`tokenizers`), in batches sorted by token length, padded to the batch's
longest. Warm: one untimed pass first; prints the best of `runs` timed
passes of the encode step alone (tokenizing and loading are not timed).

usage: embed_ort.py STUDY/study.db ENCODER_DIR MODEL.onnx THREADS [BATCH] [RUNS]
"""
import sqlite3
import sys
import time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

db, enc, model, threads = sys.argv[1:5]
batch = int(sys.argv[5]) if len(sys.argv) > 5 else 16
runs = int(sys.argv[6]) if len(sys.argv) > 6 else 3
tok = Tokenizer.from_file(f"{enc}/tokenizer.json")
tok.enable_truncation(128)
tok.no_padding()
rows = sqlite3.connect(db).execute(
    "SELECT ifnull(title,''), body_text FROM questions ORDER BY site, id"
).fetchall()
ids = sorted((tok.encode(f"{t.strip()}. {b.strip()}").ids for t, b in rows), key=len)
feeds = []
for i in range(0, len(ids), batch):
    part = ids[i : i + batch]
    n = max(map(len, part))
    x = np.zeros((len(part), n), np.int64)
    m = np.zeros((len(part), n), np.int64)
    for j, s in enumerate(part):
        x[j, : len(s)] = s
        m[j, : len(s)] = 1
    feeds.append({"input_ids": x, "attention_mask": m, "token_type_ids": np.zeros_like(x)})
o = ort.SessionOptions()
o.intra_op_num_threads = int(threads)
o.inter_op_num_threads = 1
sess = ort.InferenceSession(model, o, providers=["CPUExecutionProvider"])
for f in feeds:
    sess.run(None, f)
best = float("inf")
for _ in range(runs):
    start = time.perf_counter()
    for f in feeds:
        sess.run(None, f)
    best = min(best, time.perf_counter() - start)
print(f"{len(ids) / best:.1f}")

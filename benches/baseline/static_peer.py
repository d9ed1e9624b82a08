#!/usr/bin/env python3
"""Peers of stackmine's static encoder for benches/static.sh, one thread:
Hugging Face `tokenizers` encode_batch alone (the token ids, the floor of any
tokenizer-bound encoder), and model2vec's `StaticModel.encode` (tokenizers,
then numpy's mean of the rows and unit length) with stackmine's own table
(static-table.bin: same rows, same vocabulary), on every question of a study
(title + ". " + prose, as `classify` embeds it). model2vec reads the text
without [CLS]/[SEP], so it gets `max_tokens - 2` tokens: the same pieces as
stackmine's first `max_tokens` tokens. Prints the best of `runs` passes of
each, in questions/s, and the largest difference to the stackmine rows'
mean computed here in float64 (a check that both compute the same thing).

usage: static_peer.py STUDY/study.db TABLE ENCODER_DIR [MAX_TOKENS] [RUNS]
"""
import json
import os
import sqlite3
import struct
import sys
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import numpy as np
from model2vec import StaticModel
from tokenizers import Tokenizer

db, table, enc = sys.argv[1:4]
max_tokens = int(sys.argv[4]) if len(sys.argv) > 4 else 128
runs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
raw = open(table, "rb").read()
assert raw[:8] == b"SMSTATIC"
(hl,) = struct.unpack_from("<I", raw, 8)
head = json.loads(raw[12 : 12 + hl])
at = 12 + hl
(vl,) = struct.unpack_from("<I", raw, at)
rows = np.frombuffer(raw, "<f4", offset=at + 4 + vl).reshape(head["vocab_size"], head["dims"])
texts = [
    f"{(t or '').strip()}. {b.strip()}"
    for t, b in sqlite3.connect(db).execute("SELECT title, body_text FROM questions ORDER BY site, id")
]
tok = Tokenizer.from_file(f"{enc}/tokenizer.json")
tok.enable_truncation(max_tokens)
tok.no_padding()


def best(f):
    b = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        f()
        b = min(b, time.perf_counter() - start)
    return len(texts) / b


ids_qps = best(lambda: tok.encode_batch(texts))
model = StaticModel(vectors=np.ascontiguousarray(rows), tokenizer=Tokenizer.from_file(f"{enc}/tokenizer.json"), normalize=True)
kw = dict(max_length=max_tokens - 2, batch_size=1024, use_multiprocessing=False, show_progress_bar=False)
m2v_qps = best(lambda: model.encode(texts, **kw))
# The check: model2vec's output against the mean of the same rows in float64.
got = model.encode(texts[:2000], **kw)
unk = tok.token_to_id("[UNK]")
worst = 0.0
for text, g in zip(texts[:2000], got):
    ids = [i for i in tok.encode(text).ids[1:-1] if i != unk]
    if not ids:
        continue
    v = rows[ids].astype(np.float64).sum(0)
    v /= np.linalg.norm(v)
    worst = max(worst, float(np.abs(v - g).max()))
print(f"{ids_qps:.0f} {m2v_qps:.0f} {worst:.1e}")

#!/usr/bin/env python3
"""sentence-transformers on PyTorch CPU for benches/embed.sh: all-MiniLM-L6-v2
from the encoder's local folder (scripts/fetch-encoder.sh: config.json,
model.safetensors, tokenizer.json), built as the hub's model is (Transformer
with max_seq_length 128, mean pooling, Normalize), every question of a study
(title + ". " + prose). `SentenceTransformer.encode` with batch_size 16: it
sorts the texts by length, tokenizes each batch and pads it to its longest.
Warm: one untimed pass first; prints the best of `runs` timed passes of the
whole `encode` (tokenizing included), in questions/s.

usage: embed_st.py STUDY/study.db ENCODER_DIR THREADS [BATCH] [RUNS]
"""
import os
import sqlite3
import sys
import time
import warnings

# sentence-transformers 6 renames `models` and `get_word_embedding_dimension`:
# both still work; keep the output to the figure.
warnings.simplefilter("ignore", DeprecationWarning)
warnings.simplefilter("ignore", FutureWarning)

db, enc, threads = sys.argv[1:4]
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 16
runs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
os.environ["OMP_NUM_THREADS"] = threads
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import torch
from sentence_transformers import SentenceTransformer, models

torch.set_num_threads(int(threads))
word = models.Transformer(enc, max_seq_length=128)
model = SentenceTransformer(
    modules=[word, models.Pooling(word.get_word_embedding_dimension(), "mean"), models.Normalize()],
    device="cpu",
)
model.eval()
texts = [
    f"{(t or '').strip()}. {b.strip()}"
    for t, b in sqlite3.connect(db).execute("SELECT title, body_text FROM questions ORDER BY site, id")
]
kw = dict(batch_size=batch, show_progress_bar=False, convert_to_numpy=True)
with torch.inference_mode():
    model.encode(texts, **kw)
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        model.encode(texts, **kw)
        best = min(best, time.perf_counter() - start)
print(f"{len(texts) / best:.1f}")

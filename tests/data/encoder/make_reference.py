#!/usr/bin/env python3
"""Reference outputs for stackmine's sentence encoder (src/classify/encoder),
computed independently of it: token ids by Hugging Face `tokenizers` from the
model's own tokenizer.json (truncation 128), and embeddings by a plain numpy
transcription of Hugging Face's BertModel forward pass (post-LayerNorm,
exact-erf GELU) with sentence-transformers' mean pooling and L2 norm.

Texts are real labeled questions (title + ". " + prose) from a study built
from tests/data (see tests/data/README.md for their CC BY-SA attribution).

usage: make_reference.py STUDY/study.db ENCODER_DIR > reference.json
(benches/baseline/embed_numpy.py imports `load` and `embed` from here.)
"""
import json, sqlite3, sys
import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer

W = {}


def load(enc, max_tokens=128):
    """Loads the weights into W; returns the tokenizer."""
    W.update(load_file(f"{enc}/model.safetensors"))
    tok = Tokenizer.from_file(f"{enc}/tokenizer.json")
    tok.enable_truncation(max_tokens)
    tok.no_padding()
    return tok


def ln(x, p):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-12) * W[p + ".weight"] + W[p + ".bias"]


def lin(x, p):
    return x @ W[p + ".weight"].T + W[p + ".bias"]


def embed(ids):
    n = len(ids)
    x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:n]
    x = ln(x + W["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    for l in range(6):
        p = f"encoder.layer.{l}."
        q, k, v = (lin(x, p + f"attention.self.{t}").reshape(n, 12, 32).transpose(1, 0, 2) for t in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / np.sqrt(32)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(n, 384)
        x = ln(lin(a, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        h = lin(x, p + "intermediate.dense")
        h = 0.5 * h * (1 + erf(h / np.sqrt(2)))
        x = ln(lin(h, p + "output.dense") + x, p + "output.LayerNorm")
    e = x.mean(0)
    return e / np.linalg.norm(e)


def main(db, enc):
    tok = load(enc)
    rows = sqlite3.connect(db).execute(
        "SELECT ifnull(q.title,''), q.body_text FROM final_labels f JOIN questions q"
        " ON q.site = f.site AND q.id = f.post_id ORDER BY f.site, f.post_id"
    ).fetchall()
    texts = [f"{t.strip()}. {b.strip()}" for t, b in rows]
    picked = texts[::41] + [t for t in texts if not t.isascii()][:12]
    picked += ["Héllo, 深度学习 naïve tf.nn.conv2d CUDA_ERROR_OUT_OF_MEMORY ﬁx’s — done…", "", "x" * 150]
    out = []
    for i, t in enumerate(picked):
        ids = tok.encode(t).ids
        item = {"text": t, "ids": ids}
        if i % 4 == 0:
            item["embedding"] = [round(float(v), 7) for v in embed(np.array(ids))]
        out.append(item)
    json.dump(out, sys.stdout, ensure_ascii=False, indent=0)
    print()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
"""Reference outputs for tests/encoder_fast.rs (batched encoder, literal
special tokens), computed independently of stackmine: token ids by Hugging
Face `tokenizers` from the model's tokenizer.json (truncation 128), and
embeddings by the numpy BERT of make_reference.py (one text at a time).

Texts: real PyTorch questions (title + ". " + prose) of a study ingested from
tests/data/stackoverflow-pytorch-labeled (CC BY-SA, see tests/data/README.md),
every 21st by id plus question 61717097 (it has `[CLS]` and `[SEP]` in its
prose), and a few made-up strings with literal special tokens.

usage: make_fast_reference.py STUDY/study.db ENCODER_DIR > fast_reference.json
"""
import json, sqlite3, sys
import numpy as np
from make_reference import load, embed


def main(db, enc):
    tok = load(enc)
    rows = sqlite3.connect(db).execute(
        "SELECT id, ifnull(title,''), body_text FROM questions ORDER BY id"
    ).fetchall()
    texts = {i: f"{t.strip()}. {b.strip()}" for i, t, b in rows}
    ids = sorted(texts)
    picked = [(i, texts[i]) for i in ids[::21]] + [(61717097, texts[61717097])]
    made_up = [
        "[CLS] hello[SEP]world [cls] [MASK]ed [PAD][UNK] [ SEP ]",
        "[SEP]",
        "a[CLS]b [MASK] Ünïcode [SEP][SEP]",
    ]
    out = {"questions": [], "made_up": []}
    for qid, t in picked:
        e = tok.encode(t).ids
        out["questions"].append({
            "id": qid, "text": t, "ids": e,
            "embedding": [round(float(v), 7) for v in embed(np.array(e))],
        })
    for t in made_up:
        out["made_up"].append({"text": t, "ids": tok.encode(t).ids})
    json.dump(out, sys.stdout, ensure_ascii=False, indent=0)
    print()


if __name__ == "__main__":
    main(*sys.argv[1:])

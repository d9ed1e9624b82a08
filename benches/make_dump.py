#!/usr/bin/env python3
"""Build a large, realistic Posts.xml for benchmarks from the real dumps in tests/data.

Rows are copied verbatim from real Stack Exchange dumps and renumbered per copy
(Id, ParentId and AcceptedAnswerId shift together), so the file keeps the real
dump's shape: one <row/> per line, sorted by Id, answers after their questions,
HTML bodies escaped in attributes. Deep-learning questions (from the
stackoverflow-dl-deploy set) are mixed in at about --dl-share of the bytes, like
a small tag inside the whole Stack Overflow dump.

usage: make_dump.py OUT.xml --mb 2048 [--dl-share 0.01]
Prints how many rows, questions and deep-learning questions it wrote."""
import argparse, os, re

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "data")
FILLER = ["stackoverflow-2008-head/Posts.xml", "datascience.meta-tag-formats/Posts.angle-tags.xml",
          "ai.stackexchange.com-2017/Posts.xml", "other-sites/cardano.stackexchange.com-2021.Posts.xml",
          "other-sites/quantumcomputing.stackexchange.com-2018.Posts.xml"]
DL = "stackoverflow-dl-deploy/Posts.xml"
SOURCE_STRIDE = 100_000_000      # each source file gets its own Id range inside a copy
STRIDE = 1_000_000_000           # each copy gets its own Id range
TAGS = re.compile(rb' Tags="([^"]*)"')
ID = re.compile(rb'( (?:Id|ParentId|AcceptedAnswerId)=")(\d+)(")')


def rows(path, source):
    """The rows of one dump file, with Ids moved into the source's own range."""
    base = source * SOURCE_STRIDE
    with open(os.path.join(DATA, path), "rb") as f:
        out = []
        for line in f:
            s = line.strip()
            if s.startswith(b"<row "):
                s = ID.sub(lambda m: m.group(1) + str(int(m.group(2)) + base).encode() + m.group(3), s)
                out.append((int(re.search(rb' Id="(\d+)"', s).group(1)), b"  " + s + b"\n"))
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=2048)
    ap.add_argument("--dl-share", type=float, default=0.01)
    a = ap.parse_args()
    filler = sorted((r for i, p in enumerate(FILLER) for r in rows(p, i)), key=lambda r: r[0])
    dl = rows(DL, len(FILLER))
    fb = sum(len(r[1]) for r in filler)
    db = sum(len(r[1]) for r in dl)
    # include the DL set in every `every`-th copy so that DL bytes ~= dl_share
    every = max(1, round((db * (1 - a.dl_share)) / (a.dl_share * fb))) if a.dl_share > 0 else 0
    target = int(a.mb * 1024 * 1024)
    written = nrows = nq = ndl = 0
    with open(a.out, "wb") as f:
        f.write('\ufeff<?xml version="1.0" encoding="utf-8"?>\n<posts>\n'.encode())
        k = 0
        while written < target:
            src = filler + dl if every and k % every == 0 else filler
            if src is not filler:
                src = sorted(src, key=lambda r: r[0])
            off = k * STRIDE
            for _, line in src:
                line = ID.sub(lambda m: m.group(1) + str(int(m.group(2)) + off).encode() + m.group(3), line)
                f.write(line)
                written += len(line)
                nrows += 1
                if b'PostTypeId="1"' in line:
                    nq += 1
                    t = TAGS.search(line)
                    if t and (b"tensorflow" in t.group(1) or b"pytorch" in t.group(1) or b"keras" in t.group(1)):
                        ndl += 1
            k += 1
        f.write(b"</posts>\n")
    print(f"{a.out}: {written / 2**20:.0f} MiB, {nrows} rows, {nq} questions, {ndl} questions with a tag containing tensorflow, keras or pytorch, {k} copies")


if __name__ == "__main__":
    main()

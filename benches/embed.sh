#!/usr/bin/env bash
# Benchmark of the hybrid model's cost: `stackmine classify` with the built-in
# hybrid model on the 630 real PyTorch questions of tests/data, cold (every
# question embedded) on one core and on both, and warm (embeddings read from
# the store's cache); against the numpy BERT of benches/baseline/embed_numpy.py
# embedding the same texts, on one thread and on default threads, in the same
# run. The linear model's own benchmark is benches/classify.sh.
#
# usage: benches/embed.sh   (needs scripts/fetch-encoder.sh's files, and
#                            python3 with numpy, scipy, safetensors, tokenizers)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-encoder.sh >/dev/null
ENC=${STACKMINE_ENCODER:-${XDG_CACHE_HOME:-$HOME/.cache}/stackmine/all-MiniLM-L6-v2}
OUT=${BENCH_DIR:-target/bench-data}
mkdir -p "$OUT"
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/stackmine
study=$OUT/embed-study
rm -rf "$study"
"$BIN" init "$study" >/dev/null
"$BIN" -q ingest --all-questions tests/data/stackoverflow-pytorch-labeled/Posts.xml --study "$study" >/dev/null 2>&1
n=630
t() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
cold() {
  python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('delete from embeddings'); c.commit()" "$study/study.db"
  t env "$@" "$BIN" classify --study "$study"
}
one=$(cold RAYON_NUM_THREADS=1)
two=$(cold RAYON_NUM_THREADS=2)
warm=$(t "$BIN" classify --study "$study")
np1=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python3 benches/baseline/embed_numpy.py "$study/study.db" "$ENC" | sed -E 's/.*\(([0-9.]+) texts\/s\)/\1/')
npall=$(python3 benches/baseline/embed_numpy.py "$study/study.db" "$ENC" | sed -E 's/.*\(([0-9.]+) texts\/s\)/\1/')
awk -v n="$n" -v one="$one" -v two="$two" -v warm="$warm" -v np1="$np1" -v npall="$npall" 'BEGIN {
  printf "stackmine classify, hybrid, cold, 1 core:  %6.2f s  %6.1f questions/s (whole process)\n", one, n / one
  printf "stackmine classify, hybrid, cold, 2 cores: %6.2f s  %6.1f questions/s\n", two, n / two
  printf "stackmine classify, hybrid, warm (cached): %6.2f s  %6.0f questions/s\n", warm, n / warm
  printf "numpy BERT, 1 thread, timed part:                   %6.1f texts/s\n", np1
  printf "numpy BERT, default threads, timed part:            %6.1f texts/s\n", npall
  printf "ratio (1 core / numpy 1 thread):  %4.1fx\n", (n / one) / np1
  printf "ratio (2 cores / numpy default):  %4.1fx\n", (n / two) / npall
}'

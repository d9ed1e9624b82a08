#!/usr/bin/env bash
# Benchmark of `stackmine classify` on a study of ~126,000 questions (the
# 0.5 GiB benchmark dump ingested with --all-questions: real rows), with the
# built-in linear model on one core (RAYON_NUM_THREADS=1) and on all cores, against
# the scikit-learn pipeline of benches/baseline/classify_sklearn.py doing the
# same from the same SQLite file, in the same run. Also times training, and
# `stackmine report` on the classified study (issue 5: under 5 s at 100,000).
#
# usage: benches/classify.sh     (needs python3 with scikit-learn)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${BENCH_DIR:-target/bench-data}
mkdir -p "$OUT"
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/stackmine
[ -f "$OUT/dump-512m.xml" ] || python3 benches/make_dump.py "$OUT/dump-512m.xml" --mb 512
study=$OUT/classify-study
if [ ! -f "$study/study.db" ]; then
  "$BIN" init "$study" >/dev/null
  "$BIN" ingest -q --all-questions "$OUT/dump-512m.xml" --study "$study" >/dev/null
  "$BIN" ingest -q --all-questions tests/data/stackoverflow-pytorch-labeled/Posts.xml \
    tests/data/stackoverflow-dl-deploy/Posts.xml tests/data/ai.stackexchange.com-2017 --study "$study" >/dev/null
  "$BIN" label import tests/data/labels/dl-questions.csv --set dl-questions --study "$study" >/dev/null
fi
n=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from questions').fetchone()[0])" "$study/study.db")
echo "study: $n questions"
t() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
one=$(RAYON_NUM_THREADS=1 t "$BIN" classify --study "$study" --model default-linear)
all=$(t "$BIN" classify --study "$study" --model default-linear)
train=$(t "$BIN" train --study "$study" --labels dl-questions --kind linear --name bench)
report=$(t "$BIN" report --study "$study" --out "$OUT/report")
sk=$(python3 benches/baseline/classify_sklearn.py "$study/study.db" dl-questions)
sk_qps=$(echo "$sk" | sed -E 's/.*\(([0-9]+) questions\/s\)/\1/')
awk -v n="$n" -v one="$one" -v all="$all" -v sk="$sk_qps" -v train="$train" -v report="$report" 'BEGIN {
  printf "stackmine classify, 1 core:   %6.2f s  %8.0f questions/s (whole process)\n", one, n / one
  printf "stackmine classify, 2 cores:  %6.2f s  %8.0f questions/s\n", all, n / all
  printf "scikit-learn, timed part:                %8.0f questions/s\n", sk
  printf "ratio (1 core / scikit-learn):  %5.1fx\n", (n / one) / sk
  printf "stackmine train (820 labels, whole process): %.2f s\n", train
  printf "stackmine report (%d questions, whole process): %.2f s\n", n, report
}'

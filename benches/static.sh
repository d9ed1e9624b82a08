#!/usr/bin/env bash
# Benchmark of the static encoder (issue 14): `stackmine classify` on a study
# of ~126,000 questions (the 0.5 GiB benchmark dump of benches/classify.sh,
# ingested with --all-questions: real rows), with the built-in static model
# against the built-in linear model, one core (RAYON_NUM_THREADS=1), best of
# three cold runs each. The static model's extra time over the linear one is
# its embedding (tokenizing the title and prose and averaging table rows);
# questions/s of the embedding = questions / (static − linear). Not a timed
# test: the machine may be loaded, say so beside the figures.
#
# usage: benches/static.sh   (needs the encoder, scripts/fetch-encoder.sh;
#                             makes the table with `stackmine encoder distill`
#                             if it is not there)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${BENCH_DIR:-target/bench-data}
mkdir -p "$OUT"
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/stackmine
table=${STACKMINE_STATIC_TABLE:-${STACKMINE_ENCODER:-${XDG_CACHE_HOME:-$HOME/.cache}/stackmine/all-MiniLM-L6-v2}/static-table.bin}
[ -f "$table" ] || "$BIN" -q encoder distill --out "$table"
export STACKMINE_STATIC_TABLE=$table
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
best() { local b=; for _ in 1 2 3; do local x; x=$(t "$@"); b=$(awk -v a="$x" -v b="$b" 'BEGIN{print (b=="" || a<b) ? a : b}'); done; echo "$b"; }
linear=$(RAYON_NUM_THREADS=1 best "$BIN" -q classify --study "$study" --model default-linear)
static=$(RAYON_NUM_THREADS=1 best "$BIN" -q classify --study "$study" --model default-static)
static2=$(best "$BIN" -q classify --study "$study" --model default-static)
awk -v n="$n" -v l="$linear" -v s="$static" -v s2="$static2" 'BEGIN {
  printf "classify, linear, 1 core:  %6.2f s  %8.0f questions/s (whole process, best of 3)\n", l, n / l
  printf "classify, static, 1 core:  %6.2f s  %8.0f questions/s\n", s, n / s
  printf "classify, static, 2 cores: %6.2f s  %8.0f questions/s\n", s2, n / s2
  d = s - l; if (d < 0.001) d = 0.001
  printf "static embedding alone, 1 core: %.0f questions/s (n / (static - linear))\n", n / d
}'

#!/usr/bin/env bash
# Benchmark of the static encoder (issue 14), in one run:
#   - the embedding alone (text -> token ids -> unit-length mean of table
#     rows), one thread, best of 3 (examples/static_embed.rs), against its
#     peers on the same texts and the same table, one thread, best of 3
#     (benches/baseline/static_peer.py): Hugging Face `tokenizers`'
#     encode_batch alone (token ids only: the floor of a tokenizer-bound
#     encoder) and model2vec's `StaticModel.encode` (PyPI, installed on
#     demand into a venv under the bench dir, $STATIC_VENV to use another);
#     on the 630 labeled PyTorch questions and on a study of ~130,000
#     questions (the 0.5 GiB benchmark dump of benches/classify.sh, ingested
#     with --all-questions: real rows);
#   - the whole cold `stackmine classify` on the big study with the built-in
#     static model against the built-in linear one, 1 core
#     (RAYON_NUM_THREADS=1) and 2 cores, best of 3 each.
# Not a timed test: the machine may be loaded; it prints the load average,
# compare the ratios of one run.
#
# usage: benches/static.sh   (needs the encoder, scripts/fetch-encoder.sh;
#                             makes the table with `stackmine encoder distill`
#                             if it is not there)
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
OUT=${BENCH_DIR:-$TARGET/bench-data}
mkdir -p "$OUT"
cargo build --release -q --bin stackmine --example static_embed
BIN=$TARGET/release/stackmine
EMBED=$TARGET/release/examples/static_embed
ENC=${STACKMINE_ENCODER:-${XDG_CACHE_HOME:-$HOME/.cache}/stackmine/all-MiniLM-L6-v2}
table=${STACKMINE_STATIC_TABLE:-$ENC/static-table.bin}
[ -f "$table" ] || "$BIN" -q encoder distill --out "$table"
export STACKMINE_STATIC_TABLE=$table
VENV=${STATIC_VENV:-$OUT/static-venv}
if ! "$VENV/bin/python" -c "import model2vec, tokenizers, numpy" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q model2vec tokenizers numpy
fi
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -f "$OUT/dump-512m.xml" ] || python3 benches/make_dump.py "$OUT/dump-512m.xml" --mb 512
study=$OUT/classify-study
if [ ! -f "$study/study.db" ]; then
  "$BIN" init "$study" >/dev/null
  "$BIN" ingest -q --all-questions "$OUT/dump-512m.xml" --study "$study" >/dev/null
  "$BIN" ingest -q --all-questions tests/data/stackoverflow-pytorch-labeled/Posts.xml \
    tests/data/stackoverflow-dl-deploy/Posts.xml tests/data/ai.stackexchange.com-2017 --study "$study" >/dev/null
  "$BIN" label import tests/data/labels/dl-questions.csv --set dl-questions --study "$study" >/dev/null
fi
small=$OUT/static-630
if [ ! -f "$small/study.db" ]; then
  "$BIN" init "$small" >/dev/null
  "$BIN" -q ingest --all-questions tests/data/stackoverflow-pytorch-labeled/Posts.xml --study "$small" >/dev/null 2>&1
fi
# The embedding alone, one thread: ours, then the peers.
for db in "$small/study.db" "$study/study.db"; do
  ours=$("$EMBED" "$db" 128 3)
  echo "$ours" | sed 's/^/  /'
  peers=$(RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1 "$VENV/bin/python" benches/baseline/static_peer.py "$db" "$table" "$ENC" 128 3)
  echo "$ours" | awk -v peers="$peers" '
    /^questions/ { n = $2 }
    /^token ids alone/ { ids = $(NF - 4) }
    /^embedding/ { emb = $(NF - 4) }
    END {
      split(peers, p, " ")
      printf "%d questions, one thread, best of 3 (questions/s):\n", n
      printf "  %-52s %9.0f\n", "stackmine static embedding (ids + mean of rows)", emb
      printf "  %-52s %9.0f\n", "stackmine token ids alone", ids
      printf "  %-52s %9.0f\n", "model2vec StaticModel.encode, same table", p[2]
      printf "  %-52s %9.0f\n", "tokenizers encode_batch alone (ids only)", p[1]
      printf "  ratio stackmine embedding / model2vec: %.1fx; / tokenizers ids alone: %.1fx\n", emb / p[2], emb / p[1]
      printf "  model2vec vs the same rows averaged in float64 (first 2,000): max |diff| %s\n", p[3]
    }'
done
n=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from questions').fetchone()[0])" "$study/study.db")
t() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
best() { local b=; for _ in 1 2 3; do local x; x=$(t "$@"); b=$(awk -v a="$x" -v b="$b" 'BEGIN{print (b=="" || a<b) ? a : b}'); done; echo "$b"; }
linear=$(RAYON_NUM_THREADS=1 best "$BIN" -q classify --study "$study" --model default-linear)
static=$(RAYON_NUM_THREADS=1 best "$BIN" -q classify --study "$study" --model default-static)
static2=$(best "$BIN" -q classify --study "$study" --model default-static)
awk -v n="$n" -v l="$linear" -v s="$static" -v s2="$static2" 'BEGIN {
  printf "whole cold classify, %d questions, best of 3:\n", n
  printf "  linear, 1 core:  %6.2f s  %8.0f questions/s\n", l, n / l
  printf "  static, 1 core:  %6.2f s  %8.0f questions/s\n", s, n / s
  printf "  static, 2 cores: %6.2f s  %8.0f questions/s\n", s2, n / s2
}'
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (machine shared: compare ratios, not speeds)"

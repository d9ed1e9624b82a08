#!/usr/bin/env bash
# Benchmark of the hybrid model's cost, in one run on the same 630 real
# PyTorch questions of tests/data:
#   - stackmine `classify` with the built-in hybrid model, cold (every
#     question embedded; the whole process: start-up, I/O, TF-IDF count),
#     1 and 2 cores, --precision fp32 and int8; best of 3 each;
#   - ONNX Runtime's encode step alone, warm, batches of 16 sorted by token
#     length, fp32 and dynamic int8 (per-channel weights), 1 and 2 threads;
#     best of 3 (benches/baseline/embed_ort.py);
#   - sentence-transformers on PyTorch CPU, warm, its `encode` with batch 16
#     (it sorts by length), 128 tokens, 1 and 2 threads; best of 3
#     (benches/baseline/embed_st.py);
# and prints the ratios and the GFLOP/s each reaches (2.44 GFLOP a question
# on average, issue 14). ONNX Runtime and tokenizers are installed on demand
# into a venv under the target dir ($ORT_VENV to use another); PyTorch and
# sentence-transformers into another under the bench dir ($ST_VENV): PyPI's
# torch with its CUDA packages (several GB; with --no-deps it fails to import,
# its libraries link against them), run on the CPU. The ONNX
# files: $MINILM_ONNX (default /work/shared/bench/minilm-onnx, see its
# README for the export). The linear model's benchmark is benches/classify.sh.
#
# usage: benches/embed.sh   (needs scripts/fetch-encoder.sh's files)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-encoder.sh >/dev/null
ENC=${STACKMINE_ENCODER:-${XDG_CACHE_HOME:-$HOME/.cache}/stackmine/all-MiniLM-L6-v2}
ONNX=${MINILM_ONNX:-/work/shared/bench/minilm-onnx}
TARGET=${CARGO_TARGET_DIR:-target}
OUT=${BENCH_DIR:-$TARGET/bench-data}
mkdir -p "$OUT"
cargo build --release -q
BIN=$TARGET/release/stackmine
VENV=${ORT_VENV:-$TARGET/ort-venv}
if ! "$VENV/bin/python" -c "import onnxruntime, tokenizers, numpy" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q onnxruntime tokenizers numpy
fi
STV=${ST_VENV:-$OUT/st-venv}
if ! "$STV/bin/python" -c "import torch, sentence_transformers" 2>/dev/null; then
  python3 -m venv "$STV"
  "$STV/bin/pip" install -q torch
  "$STV/bin/pip" install -q sentence-transformers transformers numpy
fi
study=$OUT/embed-study
rm -rf "$study"
"$BIN" init "$study" >/dev/null
"$BIN" -q ingest --all-questions tests/data/stackoverflow-pytorch-labeled/Posts.xml --study "$study" >/dev/null 2>&1
n=630
t() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
# Best of 3 cold runs (the cache emptied before each).
cold() {
  local best=
  for _ in 1 2 3; do
    "$VENV/bin/python" -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('delete from embeddings'); c.commit()" "$study/study.db"
    local s
    s=$(t env "$@" "$BIN" -q classify --study "$study" --precision "$P")
    best=$(awk -v a="$s" -v b="${best:-1e9}" 'BEGIN { print (a < b ? a : b) }')
  done
  echo "$best"
}
P=fp32
f1=$(cold RAYON_NUM_THREADS=1)
f2=$(P=fp32 cold RAYON_NUM_THREADS=2)
P=int8
i1=$(cold RAYON_NUM_THREADS=1)
i2=$(cold RAYON_NUM_THREADS=2)
ort() { "$VENV/bin/python" benches/baseline/embed_ort.py "$study/study.db" "$ENC" "$ONNX/$1" "$2" 16 3; }
of1=$(ort all-MiniLM-L6-v2-fp32.onnx 1)
of2=$(ort all-MiniLM-L6-v2-fp32.onnx 2)
oi1=$(ort all-MiniLM-L6-v2-int8-per-channel.onnx 1)
oi2=$(ort all-MiniLM-L6-v2-int8-per-channel.onnx 2)
st() { "$STV/bin/python" benches/baseline/embed_st.py "$study/study.db" "$ENC" "$1" 16 3; }
st1=$(st 1)
st2=$(st 2)
awk -v n="$n" -v f1="$f1" -v f2="$f2" -v i1="$i1" -v i2="$i2" \
  -v of1="$of1" -v of2="$of2" -v oi1="$oi1" -v oi2="$oi2" -v st1="$st1" -v st2="$st2" 'BEGIN {
  g = 2.44
  printf "%-58s %8s %8s\n", "questions/s (GFLOP/s), best of 3", "1 core", "2 cores"
  printf "%-58s %8.1f %8.1f   (%.0f / %.0f GFLOP/s)\n", "stackmine classify, hybrid, cold, fp32 (whole process)", n/f1, n/f2, g*n/f1, g*n/f2
  printf "%-58s %8.1f %8.1f   (%.0f / %.0f GFLOP/s)\n", "stackmine classify, hybrid, cold, int8 (whole process)", n/i1, n/i2, g*n/i1, g*n/i2
  printf "%-58s %8.1f %8.1f   (%.0f / %.0f GFLOP/s)\n", "ONNX Runtime fp32, encode step, warm, batch 16 sorted", of1, of2, g*of1, g*of2
  printf "%-58s %8.1f %8.1f   (%.0f / %.0f GFLOP/s)\n", "ONNX Runtime int8 per-channel, encode step, warm, batch 16", oi1, oi2, g*oi1, g*oi2
  printf "%-58s %8.1f %8.1f   (%.0f / %.0f GFLOP/s)\n", "sentence-transformers, PyTorch CPU fp32, warm, batch 16", st1, st2, g*st1, g*st2
  printf "ratio fp32 stackmine / ORT fp32:  1 core %4.2fx, 2 cores %4.2fx\n", (n/f1)/of1, (n/f2)/of2
  printf "ratio int8 stackmine / ORT int8:  1 core %4.2fx, 2 cores %4.2fx\n", (n/i1)/oi1, (n/i2)/oi2
  printf "ratio fp32 stackmine / sentence-transformers: 1 core %4.2fx, 2 cores %4.2fx\n", (n/f1)/st1, (n/f2)/st2
  printf "ratio int8 stackmine / sentence-transformers: 1 core %4.2fx, 2 cores %4.2fx\n", (n/i1)/st1, (n/i2)/st2
}'
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (machine shared: compare ratios, not speeds)"

#!/usr/bin/env bash
# Benchmark of `stackmine estimate` with cross-prediction (issue 10: under
# 10 s with the linear model on a 500-post sample and 100,000 questions).
# The study: about 100,000 questions of the benchmark dump (real rows,
# benches/make_dump.py, ingested with --all-questions). The sample: a random
# batch of 500 drawn by `sample`, labeled here with the built-in linear
# model's categories (the timing does not depend on what the labels say).
# Timed: the whole `estimate --kind linear` process (5 folds: 5 trainings on
# 400 posts, each fold model predicting the 99,500 unlabeled questions).
#
# usage: benches/estimate.sh     (needs python3)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${BENCH_DIR:-target/bench-data}
mkdir -p "$OUT"
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/stackmine
export STACKMINE_ENCODER="$OUT/no-encoder"
[ -f "$OUT/dump-400m.xml" ] || python3 benches/make_dump.py "$OUT/dump-400m.xml" --mb 400
study=$OUT/estimate-study
if [ ! -f "$study/study.db" ]; then
  "$BIN" init "$study" >/dev/null
  "$BIN" ingest -q --all-questions "$OUT/dump-400m.xml" --study "$study" >/dev/null
  "$BIN" classify -q --study "$study" --model default-linear >/dev/null
  "$BIN" sample --study "$study" --name bench --size 500 --seed 1 >/dev/null
  python3 - "$study/study.db" "$OUT/bench-labels.csv" <<'PY'
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("""SELECT b.site, b.post_id, c.category FROM batch_posts b
                     JOIN classifications c ON c.site = b.site AND c.question_id = b.post_id
                     WHERE b.batch = 'bench'""").fetchall()
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["post_id", "site", "primary", "secondary"])
    for site, pid, cat in rows:
        w.writerow([pid, site, cat, ""])
PY
  "$BIN" label import "$OUT/bench-labels.csv" --set bench --replace --study "$study" >/dev/null
fi
n=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from questions').fetchone()[0])" "$study/study.db")
echo "study: $n questions, sample of 500"
t() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
cross=$(t "$BIN" estimate -q --study "$study" --sample bench --kind linear)
echo "stackmine estimate, cross-prediction, linear, 5 folds (whole process): $cross s"

#!/usr/bin/env bash
# Whole-process benchmark: `stackmine ingest` against the Python baseline a
# researcher would write (benches/baseline/ingest_stats.py: ElementTree
# iterparse, same filter, same statistics), on the same dump in the same run,
# page cache warm. Prints throughputs, the speed ratio, peak RSS on a 0.5 GiB
# and a 2 GiB dump, and .7z throughput against decompression alone.
#
# usage: benches/compare.sh            (dumps go to $BENCH_DIR, default target/bench-data)
#        RUNS=5 MB=2048 benches/compare.sh
# Needs python3; the .7z part needs 7zz (Debian package 7zip) and is skipped without it.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${BENCH_DIR:-target/bench-data}
MB=${MB:-2048}
RUNS=${RUNS:-3}
mkdir -p "$OUT"
cargo build --release -q
BIN=${CARGO_TARGET_DIR:-target}/release/stackmine

big=$OUT/dump-${MB}m.xml
small=$OUT/dump-512m.xml
[ -f "$big" ] || python3 benches/make_dump.py "$big" --mb "$MB"
[ -f "$small" ] || python3 benches/make_dump.py "$small" --mb 512
bytes=$(stat -c %s "$big")

# Wall seconds and peak RSS (KiB) of one command: prints "SECONDS KIB".
measure() {
  /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$@" >/dev/null 2>"$OUT/stderr.txt" || {
    cat "$OUT/stderr.txt" >&2
    exit 1
  }
  cat "$OUT/time.txt"
}

ingest() { # DUMP -> "SECONDS KIB", into a fresh study
  rm -rf "$OUT/study"
  "$BIN" init "$OUT/study" >/dev/null
  measure "$BIN" ingest -q "$1" --study "$OUT/study"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

cat "$big" "$small" >/dev/null # warm the page cache
cat_s=$(measure cat "$big" | cut -d' ' -f1)

sm_times=()
for _ in $(seq "$RUNS"); do
  read -r s kib < <(ingest "$big")
  sm_times+=("$s")
  big_kib=$kib
done
sm=$(printf '%s\n' "${sm_times[@]}" | median)
"$BIN" stats --json --study "$OUT/study" >"$OUT/stackmine-stats.json"
read -r _ small_kib < <(ingest "$small")

read -r py py_kib < <(measure python3 benches/baseline/ingest_stats.py "$big")
python3 benches/baseline/ingest_stats.py "$small" >/dev/null # (warm Python too)
python3 benches/baseline/ingest_stats.py "$big" >"$OUT/baseline-stats.json"

# Both must have found the same questions.
python3 - "$OUT/stackmine-stats.json" "$OUT/baseline-stats.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for ga, gb in zip(a["frameworks"] + [a["all"]], b["frameworks"] + [b["all"]]):
    assert ga["questions"] == gb["questions"], (ga["name"], ga["questions"], gb["questions"])
    assert ga["views"]["median"] == gb["views"]["median"], ga["name"]
print("stackmine and the baseline agree:", a["all"]["questions"], "questions kept")
PY

awk -v b="$bytes" -v cat_s="$cat_s" -v sm="$sm" -v py="$py" -v runs="$RUNS" \
    -v big_kib="$big_kib" -v small_kib="$small_kib" -v py_kib="$py_kib" 'BEGIN {
  printf "dump: %.0f MiB\n", b / 1048576
  printf "cat (scale):             %6.2f s  %7.0f MB/s\n", cat_s, b / 1e6 / cat_s
  printf "stackmine ingest:        %6.2f s  %7.0f MB/s  (median of %d)\n", sm, b / 1e6 / sm, runs
  printf "python baseline:         %6.2f s  %7.0f MB/s\n", py, b / 1e6 / py
  printf "speed ratio:             %6.1fx  (baseline time / stackmine time)\n", py / sm
  printf "peak RSS stackmine:      %6.0f MB on 0.5 GiB, %.0f MB on %.1f GiB\n", small_kib / 1024, big_kib / 1024, b / 1073741824
  printf "peak RSS baseline:       %6.0f MB\n", py_kib / 1024
}'

if command -v 7zz >/dev/null; then
  z=$OUT/dump-512m.7z
  if [ ! -f "$z" ]; then
    mkdir -p "$OUT/7z" && ln -f "$small" "$OUT/7z/Posts.xml"
    (cd "$OUT/7z" && 7zz a -bso0 -bsp0 "../$(basename "$z")" Posts.xml)
  fi
  zbytes=$(stat -c %s "$small")
  read -r zs _ < <(ingest "$z")
  read -r dz _ < <(measure 7zz e -so "$z" Posts.xml)
  awk -v b="$zbytes" -v zs="$zs" -v dz="$dz" 'BEGIN {
    printf ".7z ingest (512 MiB xml):%6.2f s  %7.0f MB/s of XML\n", zs, b / 1e6 / zs
    printf "7zz decompression alone: %6.2f s  %7.0f MB/s (multi-threaded C++)\n", dz, b / 1e6 / dz
  }'
else
  echo ".7z: skipped (no 7zz; apt-get install 7zip)"
fi

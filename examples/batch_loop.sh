#!/usr/bin/env bash
# Hide the same secret in every PNG/JPEG of a folder with a plain shell loop, then reveal.
# Usage: bash examples/batch_loop.sh COVERS_DIR SECRET OUT_DIR
set -euo pipefail
covers=$1 secret=$2 out=$3
mkdir -p "$out"
failed=0
for cover in "$covers"/*.png "$covers"/*.jpg; do
  [ -e "$cover" ] || continue
  name=$(basename "${cover%.*}")
  if stegnet hide "$cover" "$secret" -o "$out/$name.png" -q; then
    stegnet reveal "$out/$name.png" -o "$out/$name.revealed.png" -q
  else
    echo "skipped $cover (exit $?)" >&2
    failed=$((failed + 1))
  fi
done
echo "done, $failed failed" >&2
[ "$failed" -eq 0 ]

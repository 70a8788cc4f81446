#!/usr/bin/env bash
# Hide an image in a photo, reveal it, and print the quality reached (after 8-bit PNG).
# Then hide a text with a key and read it back. Usage: bash examples/quickstart.sh [OUTDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d)}
mkdir -p "$out"
stegnet hide "$here/cover.png" "$here/secret.png" -o "$out/stego.png" --force
stegnet reveal "$out/stego.png" -o "$out/revealed.png" --force
echo "cover vs stego:      $(stegnet compare "$here/cover.png" "$out/stego.png")"
echo "secret vs revealed:  $(stegnet compare "$here/secret.png" "$out/revealed.png")"
stegnet embed-bits "$here/cover.png" --text "meet at the old mill at noon" \
  -o "$out/stego-text.png" --key "example key" --force
echo "hidden text:         $(stegnet extract-bits "$out/stego-text.png" -o - --key "example key" -q)"

#!/usr/bin/env bash
# Regenerate everything in results/ (numbers behind the README) from the shipped weights.
# Needs the training photos at ../shared/data/train (the held-out split is used) and
# matplotlib for the figures (pip install ".[plots]").
set -euo pipefail
data=${1:-../shared/data/train}
stegnet eval hide --covers "$data" --held-out --size 512
stegnet eval hide --covers "$data" --held-out --size 512 --latent gaussian
stegnet eval bits --covers "$data" --held-out --size 512
stegnet eval analyze --covers "$data" --held-out --size 256
stegnet eval robustness --covers "$data" --held-out --size 256 --limit 10
stegnet bench --sizes 256,512,1024,2048 --large --startup --json > results/bench-cpu.json
python -m stegnet.plots --data "$data"
python -m stegnet.cards readme

#!/usr/bin/env bash
# Regenerate everything in results/ (numbers behind the README and docs/results.md) from the
# shipped weights. Run from the repository root: every path below (results/, weights/, runs/) is
# relative to it. Needs the training photos at ../shared/data/train (the held-out split is
# used) and matplotlib for the figures (pip install ".[plots]").
set -euo pipefail
data=${1:-../shared/data/train}
stegnet eval hide --covers "$data" --held-out --size 512
stegnet eval hide --covers "$data" --held-out --size 512 --latent gaussian
stegnet eval bits --channel flow --covers "$data" --held-out --size 512  # results/cinn-s6
stegnet eval bits --channel flow --covers "$data" --held-out --split package --size 256 \
  --limit 16
stegnet eval bits --channel pixel --covers "$data" --held-out --split package --size 512 \
  --out results/adaptive/heldout-package-512.json
stegnet eval jpeg --covers "$data" --held-out --split package --size 768 --limit 40
stegnet eval rate-distortion --covers "$data" --held-out --split package --size 256 --limit 24
stegnet eval robustness --covers "$data" --held-out --size 256 --limit 10
# Steganalysis: build the cover / stego set (train + held-out splits, ~1 h on 2 cores),
# train one CNN detector per method on its train split, then evaluate everything.
stegnet eval analyze --covers "$data" --set runs/stegdata --jobs 2 --detectors none
for method in hide bits-full bits-half lsb-full lsb-half; do
  stegnet train detector --method "$method" --set runs/stegdata --out "runs/detect-$method"
  python -m stegnet_research.train.detector --publish --data runs/stegdata \
    --out "runs/detect-$method" --dest weights/detectors
done
stegnet eval analyze --covers "$data" --set runs/stegdata
stegnet eval analyze --covers "$data" --set runs/stegdata-512 --size 512 --limit 30 --jobs 2
# Detection vs payload: LSB matching, HILL, S-UNIWARD, embed-bits; RS, SPA and two
# CNNs per method; package split; resumable (run again to continue). See its --help.
python -m stegnet_research.detstudy --data "$data" --work runs/detstudy \
  --out results/detection-vs-payload/v8 --methods lsbm,hill,suniward,bits \
  --train-photos 100 --heldout-photos 60 --method-photos bits=0:0 --steps-strong 1400 \
  --minutes-strong 16 --steps-xunet 1000 --minutes-xunet 6 --threads 1 --workers 2
# JPEG channel detection study (resumable per cover) and where its extra changes come from
python -m stegnet_research.jpegstudy --data "$data" --out results/jpeg-detection --limit 80
python -m stegnet_research.jpegcoding --covers 30
# Robust channel: fit the quantiser steps (resumable), then the study against the
# watermarking peers (pip install ".[peers]"; resumable), its table and figure, and the card.
python -m stegnet_research.train.robust fit --data "$data" --out runs/robust-qim --photos 40 \
  --threads 1
python -m stegnet_research.robustbits run --data "$data" --photos 20 \
  --out results/robust/heldout-1mp.json
python -m stegnet_research.robustbits report --results results/robust/heldout-1mp.json \
  --out results/robust
python -m stegnet_research.robustbits run --data "$data" --photos 20 --long-side 1600 \
  --layouts tiled,whole --peers dwtDct:32,blind-watermark:2048 --big-megapixels 0 \
  --channels "$(python -c 'from stegnet_research.distortions import MESSENGER_DISTORTIONS as M; print(",".join(M))')" \
  --out results/robust/heldout-1600-tiled.json
python -m stegnet_research.robustbits report --results results/robust/heldout-1600-tiled.json \
  --out results/robust --name robust-tiled
python -m stegnet_research.train.robust publish --run runs/robust-qim \
  --results results/robust/heldout-1mp.json --name robust-y512
stegnet bench --sizes 256,512,1024,2048 --large --startup --json > results/bench-cpu.json
stegnet bench --sizes 256,512 --methods bits --large --no-reference --json \
  > results/bench-cpu-bits.json
stegnet bench --sizes 1448,3464 --methods jpeg --no-reference --threads 2 --json \
  > results/bench-cpu-jpeg.json
python -m stegnet_research.plots --data "$data" --results results --out results
python -m stegnet_research.cards readme --results results  # the tables of docs/results.md
python -m stegnet_research.cards readme --results results --readme README.md  # its channel table

"""Measure what `hide --key` costs: revealed quality with and without a key, the error
along the key's tile seams against the error elsewhere, and what a wrong key reveals.

Pairs: every 6th photo of the held-out packages of the training folder
(:func:`stegnet_research.evaluate.held_out_samples`, ``split="package"``), centre-cropped
to 512x512, 24 at most; secret i is cover i+1. Each keying is random (a seeded generator
per pair, as training draws them). Every stego goes through an 8-bit PNG round trip.
``seam_ratio``: mean squared error on the rows and columns each side of every tile
boundary (:func:`stegnet.hiding.key_seams`) over that on all other pixels; about 1 when
the key leaves no grid.

Run from the repository root (about a minute per model on 2 CPU threads)::

    python scripts/measure_keyed_seams.py --data ../shared/data/train \\
        --models hinet-s8k hinet-s8p --out results/keyed-seams.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def measure(model_name: str, data: str, pairs: int) -> dict:
    from stegnet import hiding
    from stegnet.imageio import decode_png_roundtrip
    from stegnet.metrics import psnr
    from stegnet.zoo import load
    from stegnet_research.evaluate import held_out_samples

    model = load("hide", model_name, "cpu")
    samples = held_out_samples(data, 512, odd=False, split="package")[::6][:pairs]
    mask = hiding.key_seams(512, 512)
    rows = []
    for index, cover in enumerate(samples):
        secret = samples[(index + 1) % len(samples)].image
        row = {"cover": cover.name, "secret": samples[(index + 1) % len(samples)].name}
        for keyed in (False, True):
            plan = lambda seed=index: np.random.default_rng(seed)  # noqa: E731
            hidden = hiding.scramble(secret, plan()) if keyed else secret
            stego = decode_png_roundtrip(hiding.hide(cover.image, hidden, model))
            revealed = hiding.reveal(stego, model)
            if keyed:
                row["wrong_key_psnr"] = psnr(secret, hiding.scramble(
                    revealed, np.random.default_rng(10_000 + index), reverse=True))
                revealed = hiding.scramble(revealed, plan(), reverse=True)
            error = ((revealed.astype(np.float64) - secret) ** 2).mean(axis=-1)
            prefix = "keyed_" if keyed else ""
            row[f"{prefix}stego_psnr"] = psnr(cover.image, stego)
            row[f"{prefix}secret_psnr"] = psnr(secret, revealed)
            row[f"{prefix}seam_ratio"] = float(error[mask].mean() / error[~mask].mean())
        rows.append(row)
    keys = [k for k in rows[0] if k not in ("cover", "secret")]
    summary = {k: {"mean": float(np.mean([r[k] for r in rows])),
                   "min": float(np.min([r[k] for r in rows])),
                   "max": float(np.max([r[k] for r in rows]))} for k in keys}
    return {"model": model.name, "pairs": len(rows), "tile": hiding.KEY_BLOCK,
            "summary": summary, "per_pair": rows}


def main(argv: list[str]) -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/train")
    parser.add_argument("--models", nargs="+", default=["hinet-s8k"])
    parser.add_argument("--pairs", type=int, default=24)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    result = {"command": "python scripts/measure_keyed_seams.py " + " ".join(argv),
              "models": [measure(name, args.data, args.pairs) for name in args.models]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for entry in result["models"]:
        s = entry["summary"]
        print(f"{entry['model']}: revealed {s['secret_psnr']['mean']:.2f} dB, keyed "
              f"{s['keyed_secret_psnr']['mean']:.2f} dB; seam error ratio "
              f"{s['seam_ratio']['mean']:.2f} -> keyed {s['keyed_seam_ratio']['mean']:.2f}; "
              f"wrong key {s['wrong_key_psnr']['mean']:.2f} dB (max "
              f"{s['wrong_key_psnr']['max']:.2f})")


if __name__ == "__main__":
    main(sys.argv[1:])

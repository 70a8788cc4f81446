"""Where the jpeg channel's extra changes come from: a diagnostic of the JPEG detection
study (:mod:`stegnet_research.jpegstudy`).

At the same payload the channel makes more changes, at more J-UNIWARD distortion, than
conseal's J-UNIWARD simulator. Steps separate the causes, each but the last an
optimal-coding simulation with conseal's J-UNIWARD costs (``JUNIWARD_FIX_OFF_BY_ONE``) on
the study's held-out covers:

1. ``ternary_payload``: the study's ``juniward`` method (+-1 ternary, payload bits), but
   with the DC terms wet, as the channel never changes them;
2. ``ternary_frame``: the same carrying the channel's whole frame (payload, header, CRC:
   :func:`stegnet.payload.exact.needed_bits`): framing;
3. ``channel``: the channel's real ternary syndrome-trellis codes (from the study's cache):
   coding loss.

``binary_frame`` (the frame in the coefficients' parities only, optimal binary coding) is
reported beside them: what the channel's first frame format (parity coding) could reach at
best.

Writes ``OUT/coding.json`` (mean changes per nzAC and mean distortion per step, quality
and payload, and the ratios of consecutive steps). ``python -m
stegnet_research.jpegcoding --covers 30`` (after the study; ~7 s per cover on one core).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from stegnet_research import jpegstudy
from stegnet_research.jpegsim import conseal_rhos

STEPS = ("ternary_payload", "ternary_frame", "channel")
REFERENCES = ("binary_frame",)


def _simulated(rho: np.ndarray, bits: int, nzac: int, binary: bool, seed: int
               ) -> tuple[int, float]:
    """(changes, distortion) of an optimal-coding simulation carrying ``bits``."""
    import conseal as cl

    if binary:
        delta = cl.simulate.binary(rhos=(rho,), alpha=bits / nzac, n=nzac, seed=seed)
    else:
        delta = cl.simulate.ternary(rhos=(rho, rho), alpha=bits / nzac, n=nzac, seed=seed)
    changed = np.asarray(delta) != 0
    return int(changed.sum()), float(rho[changed].sum())


def cover_rows(photo: Path, record: dict, settings: jpegstudy.Settings) -> list[dict]:
    """One row per quality and payload of ``photo``: changes and distortion per step."""
    from stegnet import jpegio
    from stegnet.costs_jpeg import WET
    from stegnet.payload import exact

    crop = jpegstudy.centre_crop(photo, settings.size)
    rows = []
    for quality in settings.qualities:
        cover = jpegio.compress(crop, quality)
        rho = conseal_rhos(cover, "juniward")[0].copy()
        rho[np.arange(rho.size) % 64 == 0] = WET  # DC terms: never changed by the channel
        nzac = record[f"q{quality}/cover"]["nzac"]
        for rate in settings.rates:
            entry = record[f"q{quality}/stegnet-jpeg/{rate:g}"]
            payload_bits = 8 * entry["bytes"]
            frame_bits = exact.needed_bits(entry["bytes"], False)
            seed = jpegstudy._seed("coding", photo.name, quality, rate) % 2**32
            steps = {"ternary_payload": _simulated(rho, payload_bits, nzac, False, seed),
                     "ternary_frame": _simulated(rho, frame_bits, nzac, False, seed),
                     "binary_frame": _simulated(rho, frame_bits, nzac, True, seed),
                     "channel": (entry["changes"], entry["juniward_distortion"])}
            rows.append({"quality": quality, "rate": rate, "nzac": nzac,
                         "payload_bits": payload_bits, "frame_bits": frame_bits,
                         **{k: {"changes": c, "distortion": d} for k, (c, d) in steps.items()}})
    return rows


def summarise(rows: list[dict], settings: jpegstudy.Settings) -> dict:
    """Means per quality and payload, and the ratio of each step to the one before."""
    out = {}
    for quality in settings.qualities:
        for rate in settings.rates:
            sel = [r for r in rows if r["quality"] == quality and r["rate"] == rate]
            means = {k: {"change_rate": round(float(np.mean(
                         [r[k]["changes"] / r["nzac"] for r in sel])), 5),
                         "distortion": round(float(np.mean([r[k]["distortion"] for r in sel])),
                                             1)}
                     for k in (*STEPS, *REFERENCES)}
            ratios = {f"{b}/{a}": {m: round(means[b][m] / means[a][m], 3)
                                   for m in ("change_rate", "distortion")}
                      for a, b in zip(STEPS, STEPS[1:], strict=False)}
            out[f"q{quality}/{rate:g}"] = {
                "covers": len(sel), "frame_bits_over_payload_bits": round(float(np.mean(
                    [r["frame_bits"] / r["payload_bits"] for r in sel])), 3),
                "means": means, "step_ratios": ratios,
                "channel_over_ternary_payload": {
                    m: round(means["channel"][m] / means["ternary_payload"][m], 3)
                    for m in ("change_rate", "distortion")}}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stegnet_research.jpegcoding",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=jpegstudy.Settings.data)
    parser.add_argument("--work", default=jpegstudy.Settings.work)
    parser.add_argument("--out", default=jpegstudy.Settings.out)
    parser.add_argument("--limit", type=int, default=80, help="the study's --limit")
    parser.add_argument("--covers", type=int, default=30,
                        help="held-out covers of the study's cache to use")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    settings = jpegstudy.Settings(data=args.data, work=args.work, limit=args.limit)
    started = time.time()
    rows, used = [], []
    for photo in jpegstudy.select_photos(settings)["heldout"]:
        if len(used) >= args.covers:
            break
        if not jpegstudy.cache_path(settings, photo).exists():
            continue
        _, record = jpegstudy.ensure_cover(photo, settings)
        if "_skipped" not in record:
            rows += cover_rows(photo, record, settings)
            used.append(photo.name)
    result = {"study": "jpeg-coding-loss", "doc": __doc__, "covers": used,
              "costs": "conseal J-UNIWARD, JUNIWARD_FIX_OFF_BY_ONE, DC terms wet",
              "results": summarise(rows, settings), "wall_s": round(time.time() - started, 1)}
    path = Path(args.out, "coding.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["results"], indent=1))
    print(f"wrote {path} ({result['wall_s']} s)")


if __name__ == "__main__":
    main()

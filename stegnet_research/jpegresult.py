"""The result of the JPEG detection study (:mod:`stegnet_research.jpegstudy`): from the
per-cover records to the self-describing ``results.json``, ``table.md`` and the figure."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np

from stegnet_research import jpegscore
from stegnet_research.jpegscore import score_dctr, score_dctr_pooled, score_scalar

WITHIN_PP = 3.0
"""The bar for the channel: DCTR accuracy at most J-UNIWARD's plus this many points."""

PROTOCOL = (
    "Covers: one centre 256x256 crop per photo (offsets multiples of 16), its decoded pixels "
    "compressed once per quality (baseline 4:2:0, stegnet.jpegio.compress). Payload: "
    "floor(rate * nzAC / 8) random bytes, nzAC counted over Y, Cb and Cr of the cover. "
    "DCTR: one ridge-FLD classifier per quality, method and payload, trained on the "
    "training covers and their stegos; ridge and threshold fitted by 5-fold cross-"
    "validation on those covers (folds by cover). Scalar statistics (RJCA, JPEG "
    "compatibility): threshold with the best accuracy on the training covers and their "
    "stegos. Every number below is measured on the held-out packages' covers and their "
    "stegos (1 decision per image: 2 per cover), with a 95% Wilson interval; auc and "
    "best_threshold_accuracy are threshold-free / fitted on held-out (optimistic).")

METHODS = {
    "stegnet-jpeg": "stegnet's jpeg channel, get('jpeg').embed(cover, payload, None): "
                    "syndrome-trellis codes under J-UNIWARD costs (stegnet.costs_jpeg), "
                    "AC terms of Y, Cb, Cr, framed payload (Reed-Solomon + CRC)",
    "juniward": "conseal J-UNIWARD costs (JUNIWARD_FIX_OFF_BY_ONE, the paper's alignment "
                "and stegnet's) over Y, Cb, Cr jointly, conseal.simulate.ternary at "
                "alpha = 8 * bytes / nzAC (optimal-coding simulation, no framing; DC "
                "terms embeddable as in conseal)",
    "uerd": "conseal UERD costs over Y, Cb, Cr jointly, conseal.simulate.ternary",
    "nsf5": "conseal.nsF5.simulate_single_channel in each component at alpha",
    "pixel-png": "stegnet's pixel channel (get('pixel').embed, HILL costs, STC) on the "
                 "decoded JPEG (Pillow), same payload bytes; the PNG's pixels are analysed",
}

DETECTORS = {
    "dctr": "DCTR (Holub & Fridrich 2015; 8000 features, T = 4, q = 8 (2 - QF/50)) on the "
            "luminance decompressed without rounding (pixel-png: the luma 0.299 R + "
            "0.587 G + 0.114 B of cover and stego pixels, q of the cover's quality), "
            "ridge-regularised Fisher linear discriminant (stegnet_research.jpegscore)",
    "dctr-pooled": "the same features and classifier, one classifier per quality and "
                   "method trained on all four payloads at once (covers repeated to balance "
                   "the classes), threshold per payload from its out-of-fold training "
                   "scores (secondary: 4 times the stego training images)",
    "rjca": "reverse JPEG compatibility (Butora & Fridrich 2019): mean over all 8x8 "
            "blocks of Y, Cb, Cr of the variance of x - round(x), x the unrounded "
            "decompression; JPEG methods only",
    "compat": "JPEG compatibility of the PNG (pixel-png only): share of the 8x8 blocks "
              "without clipping in which a pixel's luma is more than 0.5 off libjpeg's "
              "decoding of the block's re-estimated luminance coefficients "
              "round(DCT(Y' - 128) / Q), Q the cover's luminance table "
              "(stegnet_research.dctr.jpeg_compat)",
}

NOT_DONE = [
    "No CNN steganalyser on decoded pixels (e.g. the strong CNN of the detection-vs-payload "
    "study or an SRNet/EfficientNet JPEG detector): training one per method and payload is "
    "too costly on 2 shared CPU cores within this study. DCTR + a linear classifier trained "
    "on a few hundred images is far weaker than the published ensemble on 10 000 images "
    "or a CNN: these accuracies are lower bounds on what a capable steganalyst reaches."]


def _mean(values: list[float]) -> float:
    return round(float(np.mean(values)), 5) if values else float("nan")


def _achieved(records: list[dict], key: str, quality: str) -> dict:
    rows = [r[key] for r in records]
    nzac = [r[f"{quality}/cover"]["nzac"] for r in records]
    out = {"bytes_mean": _mean([r["bytes"] for r in rows]),
           "bpnzac_mean": _mean([8 * r["bytes"] / n for r, n in zip(rows, nzac, strict=True)]),
           "change_rate": _mean([r["changes"] / n for r, n in zip(rows, nzac, strict=True)]),
           "changes_mean": _mean([r["changes"] for r in rows]),
           "cpu_s_mean": _mean([r["cpu_s"] for r in rows])}
    for name in ("frame_bpnzac", "juniward_distortion"):
        if name in rows[0]:
            out[name] = _mean([r[name] for r in rows])
    return out


def assemble(settings, photos: dict, data: dict, command: str) -> dict:
    """The result dict from ``data`` = ``{split: [(name, features, record)]}``."""
    from stegnet_research.data import PACKAGE_RULE, photo_packages

    if not data["train"] or not data["heldout"]:
        raise ValueError(f"no covers to score (train {len(data['train'])}, held-out "
                         f"{len(data['heldout'])}): too few photos, or all too smooth")
    packages = photo_packages(settings.data)
    results: dict = {}
    qualities = [*settings.qualities, *settings.rjca_qualities]
    for quality in qualities:
        tag = f"q{quality}"
        methods = (list(jpegscore.METHOD_LABELS) if quality in settings.qualities
                   else list(settings.rjca_methods))
        results[tag] = {}
        train, held = data["train"], data["heldout"]
        for method in methods:
            results[tag][method] = {}
            clean_key = f"{tag}/cover-png" if method == "pixel-png" else f"{tag}/cover"
            pooled = {}
            if quality in settings.qualities:
                keys = {r: f"{tag}/{method}/{r:g}" for r in settings.rates}
                pooled = score_dctr_pooled(
                    np.stack([f[clean_key] for _, f, _ in train]),
                    {r: np.stack([f[k] for _, f, _ in train]) for r, k in keys.items()},
                    np.stack([f[clean_key] for _, f, _ in held]),
                    {r: np.stack([f[k] for _, f, _ in held]) for r, k in keys.items()})
            for rate in settings.rates:
                key = f"{tag}/{method}/{rate:g}"
                entry = {"achieved": _achieved([r for _, _, r in held + train], key, tag),
                         "detectors": {}}
                if quality in settings.qualities:
                    entry["detectors"]["dctr"] = score_dctr(
                        np.stack([f[clean_key] for _, f, _ in train]),
                        np.stack([f[key] for _, f, _ in train]),
                        np.stack([f[clean_key] for _, f, _ in held]),
                        np.stack([f[key] for _, f, _ in held]))
                if rate in pooled:
                    entry["detectors"]["dctr-pooled"] = pooled[rate]
                stat = "compat" if method == "pixel-png" else "rjca"
                entry["detectors"][stat] = score_scalar(
                    [r[clean_key][stat] for _, _, r in train], [r[key][stat] for _, _, r in train],
                    [r[clean_key][stat] for _, _, r in held], [r[key][stat] for _, _, r in held])
                results[tag][method][f"{rate:g}"] = entry
    records = [r for split in data.values() for _, _, r in split]
    sources = Counter(r["_source"]["quality"] for r in records)
    comparison = compare(results, settings)
    for methods_ in results.values():  # the per-image decisions are not saved
        for rates in methods_.values():
            for entry in rates.values():
                entry["detectors"].get("dctr", {}).pop("_correct", None)
    return {
        "study": "jpeg-detection",
        "command": command,
        "settings": asdict(settings),
        "payload_unit": "bpnzAC: payload bits (net, without the frame) per non-zero AC "
                        "DCT coefficient of the cover, counted over Y, Cb and Cr",
        "split": {"rule": PACKAGE_RULE, "function": "stegnet_research.data.split_by_package",
                  "covers": {s: len(data[s]) for s in ("train", "heldout")},
                  "covers_per_photo": 1,
                  "packages": {s: sorted({packages[p] for p in photos[s]})
                               for s in ("train", "heldout")},
                  "selection": "photos with a short side >= 256 px, round-robin over their "
                               "packages (stegnet_research.data.spread_over_packages)"},
        "covers": {"size": settings.size, "qualities": list(settings.qualities),
                   "rjca_only_qualities": list(settings.rjca_qualities),
                   "compression": "baseline JPEG, 4:2:0, libjpeg tables at the quality "
                                  "(Pillow via stegnet.jpegio.compress), once",
                   "why_decoded_pixels": (
                       "every cover is needed at each study quality with libjpeg's tables "
                       "(one luminance table per quality for DCTR's step and the "
                       "compatibility statistics), and a pool may hold PNGs or JPEGs of any "
                       "quality: recompressing the decoded pixels gives every cover the "
                       "same last compression. This pool's photos are all quality-95 "
                       "libjpeg JPEGs (source_quality_estimates), so the q95 covers are "
                       "the same quality re-applied on the same grid (crops at multiples "
                       "of 16): see rjca-alignment.json for what that does to RJCA"),
                   "source_quality_estimates": {str(k): v for k, v in sorted(
                       sources.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))},
                   "crop": "centre 256x256, offsets multiples of 16"},
        "methods": METHODS, "detectors": DETECTORS,
        "detector_order": ["dctr", "dctr-pooled", "rjca", "compat"],
        "protocol": PROTOCOL,
        "results": results,
        "comparison": comparison,
        "not_done": NOT_DONE,
        "notes": [
            f"Covers: {len(data['heldout'])} held-out and {len(data['train'])} training "
            f"(one per photo) instead of all eligible held-out photos: each cover costs "
            f"~{np.mean([r['_photo']['cpu_s'] for r in records]):.0f} s of one CPU core "
            "(two syndrome-trellis embeddings per payload and quality dominate), and the "
            "study's budget was ~60 CPU minutes. With this few training images DCTR with "
            "a linear classifier is weak: even nsF5 at 0.4 bpnzAC is caught well below "
            "the published ~98% (which used thousands of 512x512 training images).",
            "Covers too smooth to carry 0.4 bpnzAC through the channel (its frame "
            "overhead is fixed, its ceiling 0.5 frame bits per nzAC) are left out for "
            "every method: split.skipped. This favours the embedders slightly (textured "
            "covers).",
            "RJCA at quality 95 reads the changes here because the q95 covers re-apply "
            "the pool's own quality 95 on its grid; with crops off the grid it is at "
            "chance (rjca-alignment.json). Quality 100 (juniward only) is RJCA's "
            "published setting, a known answer for the statistic."],
        "timings": {"covers_wall_s_total": round(sum(r["_photo"]["wall_s"] for r in records), 1),
                    "covers_cpu_s_total": round(sum(r["_photo"]["cpu_s"] for r in records), 1),
                    "cpu_s_per_cover_mean": _mean([r["_photo"]["cpu_s"] for r in records])},
    }


def compare(results: dict, settings) -> dict:
    """Per quality and payload: stegnet-jpeg's DCTR accuracy minus J-UNIWARD's, and
    whether it is within :data:`WITHIN_PP` points."""
    rows, within = {}, True
    for quality in settings.qualities:
        tag = f"q{quality}"
        for rate in settings.rates:
            found = {m: results[tag][m][f"{rate:g}"]["detectors"]["dctr"]
                     for m in ("stegnet-jpeg", "juniward")}
            ours, ref = found["stegnet-jpeg"]["accuracy"], found["juniward"]["accuracy"]
            gap = round(100 * (ours - ref), 1)
            interval = [round(100 * v, 1) for v in jpegscore.paired_difference(
                found["stegnet-jpeg"]["_correct"], found["juniward"]["_correct"])]
            achieved = {m: results[tag][m][f"{rate:g}"]["achieved"]
                        for m in ("stegnet-jpeg", "juniward")}
            rows[f"{tag}/{rate:g}"] = {
                "stegnet_jpeg": ours, "juniward": ref, "difference_pp": gap,
                "difference_pp_ci95": interval, "within": gap <= WITHIN_PP,
                "excess_significant": interval[0] > WITHIN_PP,
                "change_ratio": round(achieved["stegnet-jpeg"]["change_rate"]
                                      / achieved["juniward"]["change_rate"], 3),
                "distortion_ratio": round(achieved["stegnet-jpeg"]["juniward_distortion"]
                                          / achieved["juniward"]["juniward_distortion"], 3)}
            within = within and gap <= WITHIN_PP
    return {"criterion": f"stegnet-jpeg DCTR held-out accuracy <= J-UNIWARD's + "
                         f"{WITHIN_PP:g} percentage points at every quality and payload",
            "all_within": within, "points": rows,
            "interval": "difference_pp_ci95: paired bootstrap over the held-out covers "
                        "(each with its two stegos), 95% percentile interval; "
                        "excess_significant: the whole interval lies above the bar",
            "ratios": "change_ratio / distortion_ratio: stegnet-jpeg's mean changes per nzAC "
                      "and mean J-UNIWARD distortion (conseal's costs) over the simulator's"}


def write_outputs(result: dict, out: Path) -> None:
    """``out/results.json``, ``out/table.md``, ``out/dctr-accuracy.png``."""
    out.mkdir(parents=True, exist_ok=True)
    figure, pooled = out / "dctr-accuracy.png", out / "dctr-pooled-accuracy.png"
    result["outputs"] = {"json": str(out / "results.json"), "table": str(out / "table.md"),
                         "figure": str(figure), "figure_pooled": str(pooled)}
    jpegscore.plot(result, figure)
    jpegscore.plot(result, pooled, detector="dctr-pooled")
    temp = out / "results.json.tmp"
    temp.write_text(json.dumps(result, indent=1) + "\n")
    temp.replace(out / "results.json")
    covers = result["split"]["covers"]
    header = (f"# JPEG channel detection study\n\nHeld-out accuracy (95% Wilson interval) "
              f"and AUC on {covers['heldout']} covers of held-out packages (+ their "
              f"stegos); classifiers and thresholds fitted on {covers['train']} training "
              f"covers. Command: `{result['command']}`.\n\n{result['protocol']}\n\n")
    comparison = result["comparison"]
    lines = [f"## stegnet-jpeg vs J-UNIWARD (DCTR)\n\n{comparison['criterion']}: "
             f"{'yes' if comparison['all_within'] else 'no'}.\n",
             "| point | stegnet-jpeg | J-UNIWARD | difference (pp, paired 95% CI) | "
             "changes ratio | distortion ratio |", "|---|---|---|---|---|---|"]
    for point, row in comparison["points"].items():
        low, high = row["difference_pp_ci95"]
        lines.append(f"| {point} | {row['stegnet_jpeg']:.3f} | {row['juniward']:.3f} | "
                     f"{row['difference_pp']:+.1f} ({low:+.1f} .. {high:+.1f}) | "
                     f"{row['change_ratio']:.2f} | {row['distortion_ratio']:.2f} |")
    (out / "table.md").write_text(
        header + jpegscore.markdown_table(result) + "\n\n" + "\n".join(lines) + "\n\n"
        + "\n".join(f"* {n}" for n in result["not_done"] + result["notes"]) + "\n")

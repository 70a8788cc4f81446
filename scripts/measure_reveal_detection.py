"""Measure how well `stegnet reveal` tells a hidden image from none (false alarms, misses).

`reveal` refuses (exit 3, "no hidden image found") unless :func:`stegnet.hiding.detect`
says the picture carries an image hidden by `stegnet hide`. This script measures that
decision on photos never used to train the detector or the networks: the held-out split
of the training folder (every 10th photo by sorted name, index % 10 == 0), one cover per
photo, a *different* held-out photo as the secret.

For every cover it writes and reads back as 8-bit PNG:

* ``clean``: the cover itself (must be refused: a false alarm otherwise);
* ``hide``: `hide` with the default model (must be found: a miss otherwise); every
  third one with a key (``hide-keyed``) and every third one with hinet-s4 (``hide-s4``);
* ``bits``: `embed-bits` as it is on disk (must be refused), default mode: a 40-byte text
  (sparse embedding) in every cover, and in turn (one cover in three each) half the
  capacity (full re-synthesis), the largest payload still embedded sparsely, and half
  the capacity keyed at temperature 0.5.

Sets: 40 covers at 256x256, 20 at 512x512 (centre crops, upscaled when smaller), and the
remaining held-out photos at their own odd sizes plus 511x383 and 97x130 crops.

Run from the repository root (a few hours on 2 busy CPU cores; ``--sets`` splits the work
into processes whose results ``--merge`` combines)::

    python scripts/measure_reveal_detection.py --data ../shared/data/train \\
        --out results/reveal-detection.json
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
POSITIVE = ("hide", "hide-keyed", "hide-s4")


def held_out_photos(folder: Path) -> list[Path]:
    """Every 10th photo by sorted name (index % 10 == 0): the held-out split."""
    photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    return [p for i, p in enumerate(photos) if i % 10 == 0]


def load(path: Path) -> np.ndarray:
    """A photo as H x W x 3 uint8."""
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def square(image: np.ndarray, size: int) -> np.ndarray:
    """Resize the short side to ``size`` (bicubic) and take the central square."""
    img = Image.fromarray(image)
    scale = size / min(img.size)
    img = img.resize((max(size, round(img.width * scale)), max(size, round(img.height * scale))),
                     Image.Resampling.BICUBIC)
    left, top = (img.width - size) // 2, (img.height - size) // 2
    return np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.uint8).copy()


def crop(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """A central ``width x height`` crop of a square resized to cover it."""
    big = square(image, max(width, height))
    top, left = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    return np.ascontiguousarray(big[top : top + height, left : left + width])


def png_round_trip(image: np.ndarray) -> np.ndarray:
    """Write as 8-bit PNG and read back (what reveal sees)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    buffer.seek(0)
    with Image.open(buffer) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def covers(held: list[Path]) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(set, name, cover, secret) for the three sets; each secret is another photo."""
    photos = [load(p) for p in held]
    names = [p.stem for p in held]
    count = len(photos)
    plan = []
    for i in range(min(40, count)):
        plan.append(("256", names[i], square(photos[i], 256),
                     photos[(i + 1) % count]))
    for i in range(40, min(60, count)):
        plan.append(("512", names[i], square(photos[i], 512), photos[(i + 1) % count]))
    for i in range(60, count):
        plan.append(("odd", f"{names[i]}_native", photos[i], photos[(i + 1) % count]))
    for i, (width, height) in zip((0, 1, 2), ((511, 383), (97, 130), (383, 511)),
                                  strict=True):
        plan.append(("odd", f"{names[i]}_{width}x{height}", crop(photos[i], width, height),
                     photos[(i + 5) % count]))
    return plan


def largest_sparse_payload(height: int, width: int, nsym: int) -> int:
    """The largest payload embed-bits still embeds sparsely (auto mode), or 0 if this
    version of stegnet.bits has no sparse mode. ``nsym``: the flow's base error correction
    (:func:`stegnet.channels.flow.embed.ecc_nsym`)."""
    from stegnet.channels.flow import embed as bits
    from stegnet.payload import container

    if not hasattr(bits, "SPARSE_MAX_FRACTION") or not hasattr(container, "needed_bits"):
        return 0
    channel = bits.channel_bits(height, width)
    low, high = 0, bits.capacity(height, width, False, nsym)
    while low < high:
        middle = (low + high + 1) // 2
        needed = container.needed_bits(middle, False, bits.SPARSE_NSYM[0])
        if needed / channel <= bits.SPARSE_MAX_FRACTION:
            low = middle
        else:
            high = middle - 1
    return low


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/train", type=Path)
    parser.add_argument("--out", default="results/reveal-detection.json", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="only the first N covers")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--no-bits", action="store_true",
                        help="only clean photos and hide stegos (e.g. to re-check hide after a "
                             "change to it; the embed-bits classes take most of the time)")
    parser.add_argument("--sets", default="256,512,odd",
                        help="which sets to measure (comma-separated: 256, 512, odd)")
    parser.add_argument("--merge", nargs="+", type=Path, default=None,
                        help="combine the rows of these partial results into --out instead")
    args = parser.parse_args(argv)
    command = "python scripts/measure_reveal_detection.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    if args.merge:
        parts = [json.loads(path.read_text()) for path in args.merge]
        result = summarise([row for part in parts for row in part["rows"]])
        result.update({k: v for k, v in parts[0].items() if k in ("thresholds", "data")},
                      command=[part["command"] for part in parts] + [command],
                      threads=parts[0]["threads"],
                      seconds=round(sum(part["seconds"] for part in parts), 1),
                      rows=[row for part in parts for row in part["rows"]])
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps({k: result[k] for k in ("counts", "rates")}, indent=1))
        return

    import torch

    from stegnet import hiding
    from stegnet.channels.flow import embed as bits
    from stegnet.device import thread_count
    from stegnet.zoo import load

    torch.set_num_threads(args.threads or thread_count())
    hide_s8, hide_s4 = load("hide"), load("hide", "hinet-s4")
    flow = load("flow")
    nsym = bits.ecc_nsym(flow)
    wanted = {name.strip() for name in args.sets.split(",")}
    plan = [entry for entry in covers(held_out_photos(args.data)) if entry[0] in wanted]
    if args.limit:
        plan = plan[: args.limit]
    rows: list[dict] = []
    started = time.perf_counter()
    for index, (group, name, cover, secret) in enumerate(plan):
        height, width = cover.shape[:2]
        variants: dict[str, np.ndarray] = {"clean": cover}
        modes: dict[str, str] = {}
        kind = "hide-keyed" if index % 3 == 1 else "hide-s4" if index % 3 == 2 else "hide"
        net = hide_s4 if kind == "hide-s4" else hide_s8
        key = b"measurement key" if kind == "hide-keyed" else None
        if min(height, width) >= hiding.MIN_COVER_SIDE:
            variants["hide"] = hiding.hide(cover, secret, net, key=key)
        capacity = bits.capacity(height, width, False, nsym)
        bits_plan = [("bits-text", b"meet at noon by the old oak tree, bring"[:40], None, 0.8)]
        if args.no_bits:
            bits_plan = []
        elif index % 3 == 0:
            bits_plan.append(("bits-half", os.urandom(max(1, capacity // 2)), None, 0.8))
        elif index % 3 == 1:
            sparse_max = largest_sparse_payload(height, width, nsym)
            if sparse_max:
                bits_plan.append(("bits-sparse-max", os.urandom(sparse_max), None, 0.8))
        else:
            bits_plan.append(("bits-T0.5-keyed", os.urandom(max(1, capacity // 2)),
                              b"measurement key", 0.5))
        for label, payload, bits_key, temperature in bits_plan:
            try:
                report = bits.embed(cover, payload, bits_key, flow, temperature=temperature)
            except Exception as error:  # noqa: BLE001 - record and go on
                rows.append({"set": group, "image": name, "class": label, "size":
                             f"{width}x{height}", "error": f"{type(error).__name__}: {error}"})
                continue
            variants[label] = report.stego
            modes[label] = getattr(report, "mode", "full")
        for label, image in variants.items():
            stego = png_round_trip(image)
            found = hiding.detect(stego, flow)
            truth = "hide" if label == "hide" else ("bits" if label.startswith("bits")
                                                    else "clean")
            rows.append({"set": group, "image": name, "size": f"{width}x{height}",
                         "class": kind if label == "hide" else label, "truth": truth,
                         **({"bits_mode": modes[label]} if label in modes else {}),
                         **found.to_dict()})
        print(f"{index + 1}/{len(plan)} {group} {name} {width}x{height} "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    result = summarise(rows)
    from stegnet.device import resolve_precision

    result.update(command=command, hide_precision=resolve_precision("auto", "cpu"), thresholds={
        "cnn_logit": hiding.CNN_THRESHOLD, "latent_tail": hiding.TAIL_THRESHOLD,
        "latent_tail_level": hiding.TAIL_LEVEL, "latent_kurtosis": hiding.KURTOSIS_THRESHOLD,
        "detector": hiding.DETECTOR, "tile": hiding.DETECT_TILE,
        "max_tiles": hiding.DETECT_MAX_TILES},
        data=f"{args.data}: held-out split (every 10th photo by sorted name)",
        threads=torch.get_num_threads(), seconds=round(time.perf_counter() - started, 1),
        rows=rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("counts", "rates")}, indent=1))


def summarise(rows: list[dict]) -> dict:
    """Counts and rates per truth and per set, with the statistics' ranges per class."""
    measured = [r for r in rows if "error" not in r]
    counts: dict[str, dict[str, int]] = {}
    for row in measured:
        for key in (row["truth"], f"{row['truth']}@{row['set']}"):
            entry = counts.setdefault(key, {"images": 0, "detected": 0})
            entry["images"] += 1
            entry["detected"] += int(row["detected"])
    hidden = counts.get("hide", {"images": 0, "detected": 0})
    negatives = [counts.get(k, {"images": 0, "detected": 0}) for k in ("clean", "bits")]
    false_alarms = sum(n["detected"] for n in negatives)
    negative_total = sum(n["images"] for n in negatives)
    rates = {
        "misses": hidden["images"] - hidden["detected"],
        "hidden_images": hidden["images"],
        "false_negative_rate": round((hidden["images"] - hidden["detected"])
                                     / max(1, hidden["images"]), 4),
        "false_alarms": false_alarms,
        "images_without_hidden_image": negative_total,
        "false_positive_rate": round(false_alarms / max(1, negative_total), 4),
        "false_positive_rate_clean": round(counts.get("clean", {}).get("detected", 0)
                                           / max(1, counts.get("clean", {}).get("images", 1)),
                                           4),
        "false_positive_rate_bits": round(counts.get("bits", {}).get("detected", 0)
                                          / max(1, counts.get("bits", {}).get("images", 1)),
                                          4),
        "embed_errors": len(rows) - len(measured),
    }
    ranges: dict[str, dict] = {}
    for row in measured:
        entry = ranges.setdefault(row["class"], {"images": 0})
        entry["images"] += 1
        for stat in ("cnn_logit", "latent_tail", "latent_kurtosis"):
            low, high = entry.get(stat, [float("inf"), float("-inf")])
            entry[stat] = [min(low, row[stat]), max(high, row[stat])]
    return {"counts": counts, "rates": rates, "ranges_per_class": ranges}


if __name__ == "__main__":
    main()

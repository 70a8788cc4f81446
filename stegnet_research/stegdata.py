"""Cover / stego image sets for steganalysis: what detectors are trained and tested on.

For every photo of the training folder two 256 x 256 covers are cut (``a``: the
whole photo's central square; ``b``: a deterministic off-centre crop of the photo
scaled to 512 px, so finer texture), and for each cover one stego image per method:

========== ==================================================================
method     what is embedded
========== ==================================================================
hide       another photo of the same split, hidden with the default model
bits-full  random bytes at the cover's measured capacity (the flow channel)
bits-half  half of that
lsb-full   LSB replacement carrying as many bits as ``bits-full`` (the reference)
lsb-half   as many bits as ``bits-half``
========== ==================================================================

Every file is an 8-bit PNG written to ``OUT/<split>/<method>/<name>.png`` (``clean``
for the covers), ``split`` being ``train`` or ``heldout`` (the project-wide held-out
photos, every 10th by name). Building is resumable: existing files are kept and only
missing methods are made (delete ``bits-*`` and ``lsb-*`` to redo embed-bits after a
change of its settings; they are made together because LSB uses the same payload).

Run: ``python -m stegnet_research.stegdata --data ../shared/data/train --out runs/stegdata``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from stegnet_research.data import center_square, load_photo, split_photos

SIZE = 256
METHODS = ("hide", "bits-full", "bits-half", "lsb-full", "lsb-half")


def covers_of(path: Path, size: int = SIZE) -> dict[str, np.ndarray]:
    """The two covers (``a``, ``b``) cut from one photo, each size x size uint8."""
    whole = center_square(load_photo(path, size), size)
    large = center_square(load_photo(path, 2 * size), 2 * size)
    seed = sum(path.name.encode())  # deterministic, differs between photos
    rng = np.random.default_rng(seed)
    top, left = (int(v) for v in rng.integers(0, size + 1, 2))
    return {"a": whole, "b": np.ascontiguousarray(large[top : top + size, left : left + size])}


def _stego_set(cover: np.ndarray, secret: np.ndarray, seed: int,
               methods: tuple[str, ...] = METHODS) -> tuple[dict, dict]:
    """-> ({method: stego uint8}, {"full"/"half": payload bytes}) for the given methods."""
    from stegnet import hiding
    from stegnet.analysis import lsb_replace
    from stegnet.channels.flow import embed as bits  # the colour flow, as the set says
    from stegnet.errors import StegnetError
    from stegnet.imageio import decode_png_roundtrip
    from stegnet.zoo import load

    height, width = cover.shape[:2]
    rng = np.random.default_rng(seed)
    out, sizes = {}, {}
    if "hide" in methods:
        out["hide"] = decode_png_roundtrip(hiding.hide(cover, secret, load("hide")))
    if not any(m.startswith(("bits", "lsb")) for m in methods):
        return out, sizes
    flow = load("flow")
    full = bits.measured_capacity(cover, False, flow)
    if full == 0:  # carries nothing reliably: no embed-bits pair (the cover is left out)
        return out, sizes
    for label, size in (("full", full), ("half", full // 2)):
        payload = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        try:
            stego = bits.embed(cover, payload, model=flow).stego
        except StegnetError:  # borderline cover: fall back to the next ECC strength
            size = bits.capacity(height, width, False,
                                 bits.nsym_ladder(bits.ecc_nsym(flow))[-1])
            payload = payload[:size]
            try:
                stego = bits.embed(cover, payload, model=flow).stego
            except StegnetError:
                return out, {}
        out[f"bits-{label}"] = decode_png_roundtrip(stego)
        rate = 8 * size / (3 * height * width)
        out[f"lsb-{label}"] = lsb_replace(cover, rate, seed * 2 + (label == "half"))
        sizes[label] = size
    return out, sizes


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)  # one thread per worker process: the workers share the cores


def _work(job: tuple[str, str, str, int, str, int]) -> dict:
    from PIL import Image

    split, cover_path, secret_path, seed, out, size = job
    photo, other = Path(cover_path), Path(secret_path)
    rows = {}
    secrets: dict[str, np.ndarray] = {}  # the other photo's covers, decoded once if needed
    for variant, cover in covers_of(photo, size).items():
        name = f"{photo.stem}_{variant}"
        targets = {m: Path(out, split, m, f"{name}.png") for m in ("clean", *METHODS)}
        missing = tuple(m for m in METHODS if not targets[m].exists())
        if not missing and targets["clean"].exists():
            continue
        secrets = secrets or covers_of(other, size)
        secret = secrets[variant]
        stegos, sizes = _stego_set(cover, secret, seed * 2 + (variant == "b"), missing)
        stegos["clean"] = cover
        for method, target in targets.items():
            if method not in stegos or (method != "clean" and method not in missing):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_suffix(".tmp")
            Image.fromarray(stegos[method]).save(temp, format="PNG")
            temp.replace(target)
        if sizes:
            rows[name] = {"split": split, "payload_full": sizes["full"],
                          "payload_half": sizes["half"]}
    return rows


def set_names(out: str | Path, split: str) -> list[str]:
    """Names of the covers of one split that have every stego method written."""
    folder = Path(out, split)
    return sorted(p.stem for p in (folder / "clean").glob("*.png")
                  if all((folder / m / p.name).exists() for m in METHODS))


def build(data: str | Path, out: str | Path, workers: int = 2, limit: int = 0,
          size: int = SIZE, progress: Callable[[int, int], None] | None = None) -> None:
    """Write the whole set (resumable); ``limit`` > 0 keeps only the first photos per split."""
    train, held_out = split_photos(data)
    jobs = []
    for split, photos in (("heldout", held_out), ("train", train)):  # evaluation set first
        photos = photos[:limit] if limit else photos
        for index, path in enumerate(photos):
            secret = photos[(index + 1) % len(photos)]
            seed = index + (10_000 if split == "heldout" else 0)
            jobs.append((split, str(path), str(secret), seed, str(out), size))
    Path(out).mkdir(parents=True, exist_ok=True)
    index_file = Path(out, "payloads.json")
    known = json.loads(index_file.read_text()) if index_file.exists() else {}
    if workers > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(workers, _worker_init) as pool:
            results = pool.imap_unordered(_work, jobs)
            for done, rows in enumerate(results, 1):
                known.update(rows)
                if done % 10 == 0 or done == len(jobs):
                    index_file.write_text(json.dumps(known, indent=0, sort_keys=True))
                if progress is not None:
                    progress(done, len(jobs))
    else:
        for done, job in enumerate(jobs, 1):
            known.update(_work(job))
            if progress is not None:
                progress(done, len(jobs))
    index_file.write_text(json.dumps(known, indent=0, sort_keys=True))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/train")
    parser.add_argument("--out", default="runs/stegdata")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--size", type=int, default=SIZE)
    args = parser.parse_args(argv)
    build(args.data, args.out, args.workers, args.limit, args.size,
          progress=lambda done, total: print(f"{done}/{total} photos", flush=True))


if __name__ == "__main__":
    main()

"""Cover / stego sets per embedding method and payload, for the detection-vs-payload study.

Covers: for every photo of the package split (:func:`stegnet_research.data.split_by_package`)
the two 256 x 256 covers of :func:`stegnet_research.stegdata.covers_of` (``<stem>_a``: the
central square; ``<stem>_b``: an off-centre crop of the photo at 512 px). For each cover
one stego image per *kind* (method and payload):

============== ===========================================================================
kind           what is embedded
============== ===========================================================================
lsbm-R         LSB matching, R bit/pixel of random bits (:func:`~.embedders.lsb_match`)
hill-R         HILL, simulated at R bit/pixel (:func:`stegnet_research.embedders.adaptive`)
suniward-R     S-UNIWARD, likewise
bits-R         ``embed-bits`` (default mode, no key) of ``floor(R H W / 8)`` random bytes
bits-capacity  ``embed-bits`` at the pixel channel's capacity (the default)
hide-image     ``hide``: the same cover of the next photo of the split, hidden whole
============== ===========================================================================

R is one of :data:`RATES` (``0.02 0.05 0.1 0.2 0.4`` by default). Files are 8-bit PNG:
``OUT/<split>/<kind>/<name>.png`` and ``OUT/<split>/clean/<name>.png``, ``split`` being
``train`` or ``heldout``. What was embedded is in ``OUT/<split>/meta/<name>.json`` (one
per cover, written after its images) and gathered in ``OUT/manifest.json``: per kind the
payload (bytes, net bit/pixel), the fraction of changed samples and pixels, the PSNR,
or the error that made the embedding fail on this cover (it is then skipped, the rest of
the build goes on). Building is resumable: a kind whose image and meta row exist is kept
(failures are not retried unless ``--retry-failed``).

Subsets: ``--train-photos N`` / ``--heldout-photos N`` keep N photos of a split, chosen by
the order of ``sha256(file name)`` (a fixed pseudo-random sample, not the first names,
which come in runs of one package).

Run: ``python -m stegnet_research.detset --data ../shared/data/train --out runs/detset
--methods lsbm,hill,suniward --train-photos 150``.

Why this module is long: a detection set is one recipe (which photos, which crops, which
methods at which payloads, resumable across sessions); its pieces are only meaningful
together.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

SIZE = 256
RATES = (0.02, 0.05, 0.1, 0.2, 0.4)
METHODS = ("lsbm", "hill", "suniward", "bits", "hide")
SPLITS = ("train", "heldout")


def kind_name(method: str, rate: float | str) -> str:
    """``lsbm-0.4``, ``bits-capacity``, ``hide-image``."""
    return f"{method}-{rate:g}" if isinstance(rate, (int, float)) else f"{method}-{rate}"


def parse_kind(kind: str) -> tuple[str, float | str]:
    """Inverse of :func:`kind_name`: ``"hill-0.1" -> ("hill", 0.1)``."""
    method, _, rate = kind.partition("-")
    try:
        return method, float(rate)
    except ValueError:
        return method, rate


def kinds_of(methods: Iterable[str], rates: Iterable[float], capacity: bool = True) -> list[str]:
    """Every stego kind of these methods: one per rate; ``bits`` also at capacity
    (``capacity``); ``hide`` once (it carries a whole image)."""
    out = []
    for method in methods:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
        if method == "hide":
            out.append(kind_name("hide", "image"))
            continue
        out += [kind_name(method, rate) for rate in rates]
        if method == "bits" and capacity:
            out.append(kind_name("bits", "capacity"))
    return out


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


def subset(photos: list[Path], count: int) -> list[Path]:
    """``count`` photos (all if 0), a fixed pseudo-random sample, returned sorted by name."""
    if not count or count >= len(photos):
        return sorted(photos)
    return sorted(sorted(photos, key=lambda p: _digest(p.name))[:count])


@dataclass
class SetSpec:
    """What to build (saved in ``OUT/spec.json``)."""

    data: str = "../shared/data/train"
    out: str = "runs/detset"
    methods: tuple[str, ...] = ("lsbm", "hill", "suniward", "bits", "hide")
    rates: tuple[float, ...] = RATES
    capacity: bool = True
    train_photos: int = 0
    heldout_photos: int = 0
    size: int = SIZE
    #: fewer photos for some methods: ``{"bits": [train, heldout]}`` (0: the split's count);
    #: the same pseudo-random order, so they are a subset of the others' photos
    method_photos: dict = field(default_factory=dict)

    @property
    def kinds(self) -> list[str]:
        return kinds_of(self.methods, self.rates, self.capacity)

    def kinds_for(self, split: str, photo: Path, chosen: dict[str, set[str]]) -> list[str]:
        """The kinds made for one photo: a method with fewer photos skips the others."""
        return [k for k in self.kinds if photo.name in chosen.get(parse_kind(k)[0],
                                                                   chosen["*"])]


def split_photos(spec: SetSpec) -> dict[str, list[Path]]:
    """``{"train": [...], "heldout": [...]}``: the package split, subsets applied."""
    from stegnet_research.data import split_by_package

    train, held_out = split_by_package(spec.data)
    return {"train": subset(train, spec.train_photos),
            "heldout": subset(held_out, spec.heldout_photos)}


def method_subsets(spec: SetSpec, photos: dict[str, list[Path]]) -> dict[str, dict[str, set]]:
    """``{split: {method or "*": photo names}}``: who gets which kinds (see method_photos)."""
    out: dict[str, dict[str, set]] = {}
    for index, split in enumerate(SPLITS):
        out[split] = {"*": {p.name for p in photos[split]}}
        for method, counts in spec.method_photos.items():
            out[split][method] = {p.name for p in subset(photos[split], int(counts[index]))}
    return out


# --------------------------------------------------------------------------- embedding


def _seed(name: str, kind: str) -> int:
    return _digest(f"{name}/{kind}") % (2**31)


def _measure(cover: np.ndarray, stego: np.ndarray) -> dict[str, float]:
    from stegnet.metrics import psnr

    changed = cover != stego
    value = psnr(cover, stego)
    return {"changed_samples": round(float(changed.mean()), 6),
            "changed_pixels": round(float(changed.any(axis=-1).mean()), 6),
            "psnr": None if not np.isfinite(value) else round(float(value), 3)}


def embed_kind(cover: np.ndarray, kind: str, seed: int, secret: np.ndarray | None = None,
               cache: dict | None = None) -> tuple[np.ndarray, dict]:
    """-> (stego uint8 after an 8-bit PNG round trip, row) for one kind (see module).

    ``cache``: a dict kept across the kinds of one cover (adaptive costs, capacity).
    Raises on failure (the caller records it).
    """
    from stegnet.imageio import decode_png_roundtrip
    from stegnet_research.embedders import adaptive, adaptive_costs, lsb_match, message_bits

    cache = cache if cache is not None else {}
    method, rate = parse_kind(kind)
    height, width = cover.shape[:2]
    row: dict = {"seed": seed}
    if method == "lsbm":
        stego = lsb_match(cover, float(rate), seed)
        row["payload_bits"] = message_bits(height, width, float(rate))
    elif method in ("hill", "suniward"):
        if method not in cache:
            cache[method] = adaptive_costs(cover, method)
        stego = adaptive(cover, float(rate), method, seed, costs=cache[method])
        row["payload_bits"] = message_bits(height, width, float(rate))
    elif method == "bits":
        from stegnet.channels import pixel

        rng = np.random.default_rng(seed)
        if rate == "capacity":  # the default (adaptive) mode's: exact, from the size
            size = pixel.capacity_bytes(height, width, False)
            if size == 0:
                raise ValueError("measured capacity is 0 bytes")
        else:
            size = int(float(rate) * height * width // 8)
        payload = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        stego = pixel.embed(cover, payload, None).stego  # the default channel
        row["payload_bits"] = 8 * size
    elif method == "hide":
        from stegnet import hiding
        from stegnet.zoo import load

        if secret is None:
            raise ValueError("hide needs a secret image")
        stego = hiding.hide(cover, secret, load("hide"))  # the shipped default network
        row["payload_bits"] = 8 * int(secret.size)  # nominal: a whole 8-bit image
    else:
        raise ValueError(f"unknown kind {kind!r}")
    stego = decode_png_roundtrip(np.ascontiguousarray(stego))
    row["payload_bytes"] = round(row["payload_bits"] / 8, 3)
    row["net_bpp"] = round(row["payload_bits"] / (height * width), 5)
    row.update(_measure(cover, stego))
    return stego, row


def _write_png(image: np.ndarray, target: Path) -> None:
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(target.name + ".tmp")
    Image.fromarray(image).save(temp, format="PNG")
    temp.replace(target)


def _write_json(data: dict, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(target.name + ".tmp")
    temp.write_text(json.dumps(data, indent=1, sort_keys=True))
    temp.replace(target)


def read_meta(out: str | Path, split: str, name: str) -> dict:
    path = Path(out, split, "meta", f"{name}.json")
    return json.loads(path.read_text()) if path.exists() else {"kinds": {}}


def _work(job: tuple) -> dict[str, dict]:
    """One photo: its two covers and every missing kind of each. -> {name: meta}."""
    from stegnet_research.stegdata import covers_of

    split, photo, secret_photo, out, kinds, size, retry_failed = job
    photo, secret_photo = Path(photo), Path(secret_photo)
    done: dict[str, dict] = {}
    secrets: dict[str, np.ndarray] = {}
    covers = None
    for variant in ("a", "b"):
        name = f"{photo.stem}_{variant}"
        meta = read_meta(out, split, name)
        clean = Path(out, split, "clean", f"{name}.png")

        def finished(kind: str, meta: dict = meta, name: str = name) -> bool:
            row = meta["kinds"].get(kind)
            if row is None:
                return False
            if "error" in row:
                return not retry_failed
            return Path(out, split, kind, f"{name}.png").exists()

        missing = [k for k in kinds if not finished(k)]
        if not missing and clean.exists():
            continue
        covers = covers if covers is not None else covers_of(photo, size)
        cover = covers[variant]
        if not clean.exists():
            _write_png(cover, clean)
        meta.setdefault("photo", photo.name)
        cache: dict = {}
        for kind in missing:
            secret = None
            if kind.startswith("hide"):
                secrets = secrets or covers_of(secret_photo, size)
                secret = secrets[variant]
                meta["secret_photo"] = secret_photo.name
            started = time.time()
            try:
                stego, row = embed_kind(cover, kind, _seed(name, kind), secret, cache)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # noqa: BLE001 - recorded, the build goes on
                meta["kinds"][kind] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                continue
            row["seconds"] = round(time.time() - started, 2)
            _write_png(stego, Path(out, split, kind, f"{name}.png"))
            meta["kinds"][kind] = row
            _write_json(meta, Path(out, split, "meta", f"{name}.json"))
        _write_json(meta, Path(out, split, "meta", f"{name}.json"))
        done[name] = meta
    return done


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)  # one thread per worker process


def build(spec: SetSpec, workers: int = 1, retry_failed: bool = False,
          progress: Callable[[int, int], None] | None = None) -> dict:
    """Write the whole set (resumable) and ``OUT/manifest.json``; returns the manifest."""
    photos = split_photos(spec)
    subsets = method_subsets(spec, photos)
    jobs = []
    for split in SPLITS:
        chosen = photos[split]
        for index, path in enumerate(chosen):
            secret = chosen[(index + 1) % len(chosen)]
            jobs.append((split, str(path), str(secret), spec.out,
                         spec.kinds_for(split, path, subsets[split]), spec.size,
                         retry_failed))
    out = Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    _write_json(asdict(spec), out / "spec.json")
    if workers > 1 and len(jobs) > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(workers, _worker_init) as pool:
            for done, _ in enumerate(pool.imap_unordered(_work, jobs), 1):
                if progress is not None:
                    progress(done, len(jobs))
    else:
        for done, job in enumerate(jobs, 1):
            _work(job)
            if progress is not None:
                progress(done, len(jobs))
    return write_manifest(spec, photos)


def write_manifest(spec: SetSpec, photos: dict[str, list[Path]] | None = None) -> dict:
    """Gather the per-cover meta files of the chosen photos into ``OUT/manifest.json``."""
    from stegnet_research.data import PACKAGE_RULE, photo_packages

    photos = photos if photos is not None else split_photos(spec)
    packages = photo_packages(spec.data)
    covers: dict[str, dict[str, dict]] = {}
    for split in SPLITS:
        covers[split] = {}
        for path in photos[split]:
            for variant in ("a", "b"):
                name = f"{path.stem}_{variant}"
                meta = read_meta(spec.out, split, name)
                meta["package"] = packages.get(path, "")
                covers[split][name] = meta
    summary: dict[str, dict] = {}
    for split, metas in covers.items():
        summary[split] = {}
        for kind in spec.kinds:
            rows = [m["kinds"][kind] for m in metas.values() if kind in m["kinds"]]
            good = [r for r in rows if "error" not in r]
            entry: dict = {"images": len(good), "failed": len(rows) - len(good)}
            for key in ("net_bpp", "changed_samples", "changed_pixels", "psnr"):
                values = [r[key] for r in good if r.get(key) is not None]
                if values:
                    entry[f"{key}_mean"] = round(float(np.mean(values)), 5)
            summary[split][kind] = entry
    manifest = {
        "spec": asdict(spec), "split_rule": PACKAGE_RULE,
        "photos": {s: len(p) for s, p in photos.items()},
        "packages": {s: sorted({packages.get(p, "") for p in photos[s]}) for s in SPLITS},
        "summary": summary, "covers": covers,
    }
    _write_json(manifest, Path(spec.out, "manifest.json"))
    return manifest


def names_of(out: str | Path, split: str, kind: str) -> list[str]:
    """Covers of ``split`` with both the clean image and a successful ``kind`` stego."""
    folder = Path(out, split)
    names = []
    for meta_path in sorted((folder / "meta").glob("*.json")):
        name = meta_path.stem
        row = json.loads(meta_path.read_text())["kinds"].get(kind)
        if (row is not None and "error" not in row and (folder / "clean" / f"{name}.png").exists()
                and (folder / kind / f"{name}.png").exists()):
            names.append(name)
    return names


def spec_from_args(args: argparse.Namespace) -> SetSpec:
    return SetSpec(data=args.data, out=args.out,
                   methods=tuple(m for m in args.methods.split(",") if m),
                   rates=tuple(float(r) for r in args.rates.split(",") if r),
                   capacity=not args.no_capacity, train_photos=args.train_photos,
                   heldout_photos=args.heldout_photos, size=args.size,
                   method_photos=parse_method_photos(args.method_photos))


def parse_method_photos(text: str) -> dict[str, list[int]]:
    """``"bits=60:50,hide=10:10"`` -> ``{"bits": [60, 50], "hide": [10, 10]}``."""
    out = {}
    for item in filter(None, text.split(",")):
        method, _, counts = item.partition("=")
        train, _, held = counts.partition(":")
        if method not in METHODS or not train.isdigit() or not held.isdigit():
            raise ValueError(f"--method-photos: {item!r} is not METHOD=TRAIN:HELDOUT")
        out[method] = [int(train), int(held)]
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="../shared/data/train")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="comma-separated, of " + ", ".join(METHODS))
    parser.add_argument("--rates", default=",".join(f"{r:g}" for r in RATES),
                        help="payloads in bit/pixel, comma-separated")
    parser.add_argument("--no-capacity", action="store_true",
                        help="no bits-capacity kind")
    parser.add_argument("--train-photos", type=int, default=0, help="0: all")
    parser.add_argument("--heldout-photos", type=int, default=0, help="0: all")
    parser.add_argument("--method-photos", default="",
                        help="fewer photos for some methods: METHOD=TRAIN:HELDOUT,... "
                             "(e.g. bits=60:50)")
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--retry-failed", action="store_true")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--out", default="runs/detset")
    args = parser.parse_args(argv)
    manifest = build(spec_from_args(args), args.workers, args.retry_failed,
                     progress=lambda done, total: print(f"{done}/{total} photos", flush=True))
    print(json.dumps(manifest["summary"], indent=1))


if __name__ == "__main__":
    main()

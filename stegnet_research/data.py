"""Training photos: deterministic train / held-out splits and random-crop sampling.

Two splits:

* :func:`split_photos` (the split of the shipped models and their evaluations): by
  sorted file name, every 10th photo (index % 10 == 0) is held out.
* :func:`split_by_package` (steganalysis studies, :mod:`stegnet_research.detstudy`): the
  photos of one source package share a camera, a style or a renderer, so a detector
  tested on photos of a package it was trained on is tested on familiar noise. The
  held-out side is a set of whole packages chosen by a rule on the package name (not a
  file list, so that the split stays the same for the existing photos when the pool
  grows): :data:`PACKAGE_RULE`.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from PIL import Image

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
HELD_OUT_EVERY = 10


def list_photos(folder: str | Path) -> list[Path]:
    """All image files directly in ``folder``, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)


def split_photos(folder: str | Path) -> tuple[list[Path], list[Path]]:
    """-> (train, held_out): every 10th photo by sorted name is held out."""
    photos = list_photos(folder)
    held_out = [p for i, p in enumerate(photos) if i % HELD_OUT_EVERY == 0]
    train = [p for i, p in enumerate(photos) if i % HELD_OUT_EVERY != 0]
    return train, held_out


#: A package is held out when this holds (``sha256`` of the UTF-8 string, as an integer).
PACKAGE_RULE = "sha256('stegnet-heldout:' + package) mod 4 == 0"
PACKAGE_SALT = "stegnet-heldout:"
PACKAGE_MODULUS = 4
MANIFEST = "MANIFEST.tsv"
#: Package in a file name of the shared pool: ``t123_<package>_<rest>``. Debian package
#: names have no ``_``, so the package is everything between the first two underscores.
_NAME_PACKAGE = re.compile(r"^[a-z]+\d+_([a-z0-9][a-z0-9.+-]*)_.")


def _hash_rule(salt: str, package: str, modulus: int) -> bool:
    """``sha256(salt + package) mod modulus == 0``, the digest read as an integer."""
    return int(hashlib.sha256((salt + package).encode()).hexdigest(), 16) % modulus == 0


def is_held_out_package(package: str) -> bool:
    """:data:`PACKAGE_RULE`: is the source package ``package`` on the held-out side?"""
    return _hash_rule(PACKAGE_SALT, package, PACKAGE_MODULUS)


def package_from_name(path: str | Path, known: set[str] | frozenset[str] = frozenset()) -> str:
    """The package a photo belongs to, from its file name alone.

    ``t000_darktable_image-1.jpg`` -> ``darktable`` (the pool's naming, which cuts
    package names to 20 characters: a cut name that starts exactly one of the ``known``
    package names is taken as that package). A name of another form is its own group,
    ``file:<stem>``, so each such photo is held out or not by the rule applied to it.
    """
    match = _NAME_PACKAGE.match(Path(path).name)
    if not match:
        return f"file:{Path(path).stem}"
    package = match.group(1)
    longer = [k for k in known if k.startswith(package)]
    return longer[0] if len(longer) == 1 and package not in known else package


def find_manifest(folder: str | Path) -> Path | None:
    """``MANIFEST.tsv`` in ``folder`` or its parent (the shared pool keeps it beside
    ``train/``), or None."""
    for candidate in (Path(folder) / MANIFEST, Path(folder).resolve().parent / MANIFEST):
        if candidate.is_file():
            return candidate
    return None


def photo_packages(folder: str | Path) -> dict[Path, str]:
    """``{photo: source package}`` for every photo of ``folder``.

    The package comes from the manifest's ``source_package`` column (its ``file``
    column is relative to the manifest's folder); a photo the manifest does not list
    (or a folder without manifest) falls back to :func:`package_from_name`.
    """
    photos = list_photos(folder)
    listed: dict[Path, str] = {}
    manifest = find_manifest(folder)
    if manifest is not None:
        with manifest.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row.get("file") and row.get("source_package"):
                    listed[(manifest.parent / row["file"]).resolve()] = row["source_package"]
    known = set(listed.values())
    return {p: listed.get(p.resolve()) or package_from_name(p, known) for p in photos}


def split_by_package(folder: str | Path) -> tuple[list[Path], list[Path]]:
    """-> (train, held_out), both sorted by name: whole source packages are held out,
    those for which :data:`PACKAGE_RULE` holds (see :func:`photo_packages`)."""
    packages = photo_packages(folder)
    held_out = [p for p, package in packages.items() if is_held_out_package(package)]
    train = [p for p, package in packages.items() if not is_held_out_package(package)]
    return sorted(train), sorted(held_out)


#: Training on the package split validates on whole train-side packages for which this
#: holds; they are not trained on (and the held-out packages are never seen).
VALIDATION_RULE = "sha256('stegnet-validation:' + package) mod 10 == 0"
VALIDATION_SALT = "stegnet-validation:"
VALIDATION_MODULUS = 10
SPLITS = ("every10", "package")


def is_validation_package(package: str) -> bool:
    """:data:`VALIDATION_RULE`: is a train-side ``package`` kept for validation?"""
    return _hash_rule(VALIDATION_SALT, package, VALIDATION_MODULUS)


def training_split(folder: str | Path, split: str = "every10"
                   ) -> tuple[list[Path], list[Path], dict[Path, str]]:
    """-> (train, validation, {photo: package}) for a training run.

    ``every10``: :func:`split_photos` (validation = its held-out photos, the recipe of the
    shipped models). ``package``: the train side of :func:`split_by_package`, less the
    packages of :data:`VALIDATION_RULE`, which validate; the held-out packages are in
    neither list.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}' (choose from {', '.join(SPLITS)})")
    packages = photo_packages(folder)
    if split == "every10":
        train, validation = split_photos(folder)
        return train, validation, packages
    train_side, _ = split_by_package(folder)
    validation = [p for p in train_side if is_validation_package(packages[p])]
    train = [p for p in train_side if not is_validation_package(packages[p])]
    return train, validation, packages


def package_balanced_weights(paths: list[Path], packages: dict[Path, str]) -> np.ndarray:
    """Sampling weights (sum 1) ``1 / sqrt(photos of the package)`` per photo, so a package
    of n photos is drawn ``sqrt(n)`` times as often as a one-photo package, not ``n`` times."""
    counts = Counter(packages.get(p, "") for p in paths)
    weights = np.array([counts[packages.get(p, "")] ** -0.5 for p in paths])
    return weights / weights.sum()


def load_photo(path: Path, min_side: int) -> np.ndarray:
    """Load as HxWx3 uint8, upscaling (bicubic) so that the short side is >= ``min_side``."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        short = min(img.size)
        if short < min_side:
            scale = min_side / short
            size = (max(min_side, round(img.width * scale)),
                    max(min_side, round(img.height * scale)))
            img = img.resize(size, Image.Resampling.BICUBIC)
        return np.asarray(img, dtype=np.uint8).copy()


def center_square(image: np.ndarray, size: int) -> np.ndarray:
    """Resize the short side to ``size`` (bicubic) and take the central ``size x size`` square."""
    img = Image.fromarray(image)
    scale = size / min(img.size)
    img = img.resize(
        (max(size, round(img.width * scale)), max(size, round(img.height * scale))),
        Image.Resampling.BICUBIC,
    )
    left, top = (img.width - size) // 2, (img.height - size) // 2
    return np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.uint8).copy()


class CropSampler:
    """Random augmented crops from photos held in memory.

    ``sample(batch)`` returns a float tensor (batch, 3, crop, crop) in [0, 1]:
    random photo (uniformly, or by ``weights``: one per path, summing to 1), random
    position, random horizontal flip and 90-degree rotation.
    """

    def __init__(self, paths: list[Path], crop: int, seed: int = 0,
                 weights: np.ndarray | None = None) -> None:
        if not paths:
            raise ValueError("no training photos")
        self.crop = crop
        self.photos = [load_photo(p, crop) for p in paths]
        self.rng = np.random.default_rng(seed)
        self.weights = weights

    def sample(self, batch: int) -> torch.Tensor:
        crops = np.empty((batch, self.crop, self.crop, 3), dtype=np.uint8)
        for i in range(batch):
            index = (self.rng.integers(len(self.photos)) if self.weights is None
                     else self.rng.choice(len(self.photos), p=self.weights))
            photo = self.photos[index]
            top = self.rng.integers(photo.shape[0] - self.crop + 1)
            left = self.rng.integers(photo.shape[1] - self.crop + 1)
            patch = photo[top : top + self.crop, left : left + self.crop]
            if self.rng.random() < 0.5:
                patch = patch[:, ::-1]
            patch = np.rot90(patch, k=int(self.rng.integers(4)))
            crops[i] = patch
        return torch.from_numpy(crops).permute(0, 3, 1, 2).float().div_(255.0)


def spread_over_packages(paths: list[Path], limit: int,
                         min_pixels: int = 150_000) -> list[Path]:
    """Up to ``limit`` photos of at least ``min_pixels`` pixels, taken round-robin over
    their source packages (sorted), so no package dominates a small sample."""
    packages = photo_packages(paths[0].parent) if paths else {}
    groups: dict[str, list[Path]] = {}
    for path in sorted(paths):
        with Image.open(path) as img:
            if img.width * img.height < min_pixels:
                continue
        groups.setdefault(packages.get(path, package_from_name(path)), []).append(path)
    chosen: list[Path] = []
    queues = [groups[k] for k in sorted(groups)]
    while len(chosen) < limit and any(queues):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return chosen


def load_megapixels(path: Path, megapixels: float) -> np.ndarray:
    """Load as HxWx3 uint8 resized (Lanczos, up or down, aspect kept) to about
    ``megapixels`` million pixels."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        factor = (megapixels * 1e6 / (img.width * img.height)) ** 0.5
        size = (max(1, round(img.width * factor)), max(1, round(img.height * factor)))
        return np.asarray(img.resize(size, Image.Resampling.LANCZOS), dtype=np.uint8).copy()

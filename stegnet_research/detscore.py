"""Scoring of the detection-vs-payload study (:mod:`stegnet_research.detstudy`).

Per-image values, each cached under the study's work folder (resumable): the classic
statistics (RS, SPA of :mod:`stegnet.analysis`) of every clean and stego image, their
SPAM-686 features (:mod:`stegnet_research.spam`), and the logits of every trained CNN
detector (built from its ``best.safetensors`` by :func:`stegnet.zoo.load_weights`). From
them, per method and payload, the held-out scores (:func:`score`): threshold fitted on the
train side, accuracy with its 95 % Wilson interval, AUC, best-threshold accuracy and, for
the CNNs, the accuracy at logit 0. SPAM is a trained classic detector: per method and
payload, a ridge-regularised Fisher linear discriminant
(:func:`stegnet_research.jpegscore.fit_linear`) on the train covers and their stegos, its
ridge and threshold chosen on out-of-fold scores of those covers (:func:`spam_score`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from stegnet_research import detset

DETECTORS = ("rs", "spa", "spam", "xunet", "strong")
CLASSIC = {"rs": "rs_analysis", "spa": "sample_pairs"}  # detector -> stegnet.analysis function
TRAINED = ("spam",)  # classic features + a linear classifier fitted per method and payload
CNNS = ("xunet", "strong")
SPAM_VERSION = "spam686-T3-rgbpooled-1"
"""Stored with the cached SPAM features: a cache of another version is recomputed."""


# ------------------------------------------------------------------------------ caches


def _load_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _save_json(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(data, indent=0, sort_keys=True))
    temp.replace(path)


def evaluation_names(set_dir: Path, kinds: list[str],
                     covers: dict[str, set[str]] | None = None) -> dict[str, dict[str, list[str]]]:
    """``{split: {kind: names}}`` of the covers with a clean and a ``kind`` image (only
    those in ``covers[split]`` if given: the set folder may hold more than this study's)."""
    return {split: {kind: [n for n in detset.names_of(set_dir, split, kind)
                           if covers is None or n in covers[split]] for kind in kinds}
            for split in detset.SPLITS}


def classic_statistics(set_dir: Path, cache: Path, names: dict[str, dict[str, list[str]]],
                       detectors: list[str],
                       progress: Callable[[int, int], None] | None = None) -> dict:
    """``{"split/kind/name": {"rs": .., "spa": ..}}`` for every image (kind ``clean`` too),
    cached in ``cache`` (saved every 100 images: resumable)."""
    from stegnet import analysis
    from stegnet_research.train.detmixed import read_image

    stats = _load_json(cache)
    todo = []
    for split, per_kind in names.items():
        for kind, kind_names in per_kind.items():
            for name in kind_names:
                for folder in ("clean", kind):
                    key = f"{split}/{folder}/{name}"
                    if any(d not in stats.get(key, {}) for d in detectors):
                        todo.append(key)
    todo = list(dict.fromkeys(todo))
    for done, key in enumerate(todo, 1):
        image = read_image(Path(set_dir, f"{key}.png"))
        row = stats.setdefault(key, {})
        for det in detectors:
            row[det] = round(float(getattr(analysis, CLASSIC[det])(image)), 6)
        if done % 100 == 0:
            _save_json(stats, cache)
        if progress is not None:
            progress(done, len(todo))
    _save_json(stats, cache)
    return stats


def _evaluation_keys(names: dict[str, dict[str, list[str]]]) -> list[str]:
    """``split/folder/name`` of every image scored: each cover, clean and as each kind."""
    return list(dict.fromkeys(f"{split}/{folder}/{name}"
                              for split, per_kind in names.items()
                              for kind, kind_names in per_kind.items()
                              for name in kind_names for folder in ("clean", kind)))


def _save_features(features: dict[str, np.ndarray], path: Path) -> None:
    from stegnet_research.spam import DIMENSION

    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted(features)
    rows = (np.stack([features[k] for k in keys]) if keys
            else np.zeros((0, DIMENSION), np.float32))
    temp = path.with_name(path.name + ".tmp.npz")  # np.savez keeps a name ending in .npz
    np.savez(temp, keys=np.array(keys, dtype=str), features=rows,
             version=np.array(SPAM_VERSION))
    temp.replace(path)


def spam_features(set_dir: Path, cache: Path, names: dict[str, dict[str, list[str]]],
                  progress: Callable[[int, int], None] | None = None,
                  save_every: int = 500) -> dict[str, np.ndarray]:
    """``{"split/kind/name": (686,) float32}`` SPAM features of every image (kind
    ``clean`` too), cached in ``cache`` (an ``.npz`` of ``keys`` and ``features`` rows,
    saved every ``save_every`` images: resumable)."""
    from stegnet_research.spam import spam686
    from stegnet_research.train.detmixed import read_image

    features: dict[str, np.ndarray] = {}
    if cache.exists():
        with np.load(cache) as stored:
            if str(stored["version"]) == SPAM_VERSION:
                features = dict(zip(stored["keys"].tolist(), stored["features"], strict=True))
    todo = [k for k in _evaluation_keys(names) if k not in features]
    for done, key in enumerate(todo, 1):
        features[key] = spam686(read_image(Path(set_dir, f"{key}.png")))
        if done % save_every == 0:
            _save_features(features, cache)
        if progress is not None:
            progress(done, len(todo))
    if todo or not cache.exists():
        _save_features(features, cache)
    return features


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def cnn_logits(set_dir: Path, weights: Path, cache: Path, keys: list[str]) -> dict[str, float]:
    """``{"split/folder/name": logit}`` of a trained detector, cached per weights file."""
    from stegnet.zoo import load_weights
    from stegnet_research.train.detmixed import logits_of

    digest = _file_digest(weights)
    stored = _load_json(cache)
    logits = stored.get("logits", {}) if stored.get("weights") == digest else {}
    todo = [k for k in dict.fromkeys(keys) if k not in logits]
    if todo:
        model = load_weights(weights, task="detect")
        for start in range(0, len(todo), 64):
            chunk = todo[start : start + 64]
            values = logits_of(model, [Path(set_dir, f"{k}.png") for k in chunk])
            logits.update({k: round(float(v), 4) for k, v in zip(chunk, values, strict=True)})
            _save_json({"weights": digest, "logits": logits}, cache)
    return logits


# ------------------------------------------------------------------------------- scores


def score(train_clean: list[float], train_stego: list[float], held_clean: list[float],
          held_stego: list[float], fixed_threshold: float | None = None) -> dict:
    """Held-out scores of "statistic >= t means stego" with t fitted on the train values.

    ``fixed_threshold`` (CNN logits: 0) adds ``accuracy_fixed`` at that threshold.
    """
    from stegnet_research.detection_stats import (
        accuracy_at,
        best_threshold,
        detection_scores,
        wilson_interval,
    )

    decisions = len(held_clean) + len(held_stego)
    threshold = best_threshold(train_clean, train_stego) if train_clean else 0.0
    accuracy = accuracy_at(held_clean, held_stego, threshold)
    optimistic = detection_scores(held_clean, held_stego)
    out = {"accuracy": accuracy, "accuracy_ci95": wilson_interval(accuracy, decisions),
           "auc": optimistic["auc"], "best_threshold_accuracy": optimistic["accuracy"],
           "threshold": round(threshold, 6) if np.isfinite(threshold) else None,
           "heldout_covers": len(held_clean), "threshold_fit_covers": len(train_clean)}
    if fixed_threshold is not None:
        # strict ">" at logit 0, as the network decides (and as the shipped detectors score)
        correct = (np.asarray(held_clean) <= fixed_threshold).sum() + (
            np.asarray(held_stego) > fixed_threshold).sum()
        fixed = round(float(correct / decisions), 4) if decisions else 0.0
        out["accuracy_logit0"] = fixed
        out["accuracy_logit0_ci95"] = wilson_interval(fixed, decisions)
    return out


def spam_score(train_clean: np.ndarray, train_stego: np.ndarray, held_clean: np.ndarray,
               held_stego: np.ndarray) -> dict:
    """Held-out scores (:func:`score`'s fields) of SPAM + ridge-FLD: the classifier
    (:func:`stegnet_research.jpegscore.fit_pairs`) is fitted on the train pairs (row i of
    ``train_clean`` is the cover of row i of ``train_stego``); its ridge and the threshold
    are chosen on the out-of-fold scores of the train covers (5 folds by cover), so
    ``threshold`` is in classifier-score units. Adds ``accuracy_at_zero`` (the
    classifier's own decision, midway between the labels -1 / +1), ``ridge_lambda``,
    ``cv_auc`` (out-of-fold, train covers) and ``train_covers``."""
    from stegnet_research.detection_stats import accuracy_at
    from stegnet_research.jpegscore import decision, fit_pairs

    n = len(train_clean)
    model = fit_pairs(train_clean, train_stego)
    clean, stego = decision(model, held_clean), decision(model, held_stego)
    out = score(model["oof"][:n].tolist(), model["oof"][n:].tolist(), clean.tolist(),
                stego.tolist())
    out.update({"accuracy_at_zero": accuracy_at(clean, stego, 0.0),
                "ridge_lambda": model["lambda"], "cv_auc": round(model["cv_auc"], 4),
                "train_covers": n})
    return out


MIN_SPAM_COVERS = 5
"""SPAM's classifier is fitted only on at least this many train covers (one per
cross-validation fold); with fewer the kind has no SPAM entry."""


# ------------------------------------------------------------------------ per method

MIN_FIT_COVERS = 16
"""A CNN threshold is fitted only on at least this many validation covers; with fewer
(e.g. 6 for embed-bits on 24 training photos) it swings from run to run (0.59 held-out
accuracy at an AUC of 1.00 in one run), so accuracy is taken at logit 0 instead."""


def validation_covers(names: dict[str, dict[str, list[str]]], kinds: list[str]) -> set[str]:
    """The CNNs' threshold-fitting covers: the validation photos of the train split (every
    10th photo, never trained on; :func:`stegnet_research.train.detector.split_validation`)."""
    from stegnet_research.train.detector import split_validation

    train_all = sorted(set().union(*(names["train"][k] for k in kinds)))
    _, val_idx = split_validation(train_all)
    return {train_all[i] for i in val_idx}


def method_results(method: str, kinds: list[str], set_dir: Path, work: Path,
                   names: dict[str, dict[str, list[str]]], manifest: dict, stats: dict,
                   classic: list[str], runs: dict[str, str],
                   features: dict[str, np.ndarray] | None = None) -> dict[str, dict]:
    """``{kind: entry}`` of one method: payload, PSNR, changed samples and the held-out
    scores of every detector (``classic`` statistics from ``stats``, SPAM from its
    ``features`` (:func:`spam_features`; none: no SPAM), the CNNs of ``runs``: ``{arch:
    run folder}``, whose logits are cached in ``WORK/logits``)."""
    validation = validation_covers(names, kinds)
    logits: dict[str, dict[str, float]] = {}
    for arch, run in runs.items():
        keys = [f"{split}/{folder}/{n}" for kind in kinds
                for split in detset.SPLITS for n in names[split][kind]
                if split == "heldout" or n in validation for folder in ("clean", kind)]
        logits[arch] = cnn_logits(set_dir, Path(run, "best.safetensors"),
                                  Path(work, "logits", f"{arch}-{method}.json"), keys)
    results = {}
    for kind in kinds:
        held = names["heldout"][kind]
        train_names = names["train"][kind]
        if not held:
            continue
        rows = [manifest["covers"]["heldout"][n]["kinds"][kind] for n in held]
        entry: dict = {"kind": kind, "heldout_covers": len(held),
                       "net_bpp": round(float(np.mean([r["net_bpp"] for r in rows])), 5),
                       "psnr": round(float(np.mean([r["psnr"] for r in rows
                                                    if r["psnr"] is not None])), 3),
                       "changed_samples": round(float(np.mean(
                           [r["changed_samples"] for r in rows])), 6),
                       "detectors": {}}
        for det in classic:
            def values(split: str, folder: str, chosen: list[str], det: str = det) -> list:
                return [stats[f"{split}/{folder}/{n}"][det] for n in chosen]

            entry["detectors"][det] = score(
                values("train", "clean", train_names), values("train", kind, train_names),
                values("heldout", "clean", held), values("heldout", kind, held))
        if features and len(train_names) >= MIN_SPAM_COVERS:
            def rows(split: str, folder: str, chosen: list[str]) -> np.ndarray:
                return np.stack([features[f"{split}/{folder}/{n}"] for n in chosen])

            entry["detectors"]["spam"] = spam_score(
                rows("train", "clean", train_names), rows("train", kind, train_names),
                rows("heldout", "clean", held), rows("heldout", kind, held))
        for arch, table in logits.items():
            fit = [n for n in train_names if n in validation]
            if len(fit) < MIN_FIT_COVERS:  # too few to fit a threshold: the network's own
                fit = []  # decision (logit 0) is the accuracy
            entry["detectors"][arch] = score(
                [table[f"train/clean/{n}"] for n in fit],
                [table[f"train/{kind}/{n}"] for n in fit],
                [table[f"heldout/clean/{n}"] for n in held],
                [table[f"heldout/{kind}/{n}"] for n in held], fixed_threshold=0.0)
        results[kind] = entry
    return results

"""Detectability study: classic and CNN steganalysers on a cover / stego set.

``stegnet eval analyze`` builds the set (:mod:`stegnet_research.stegdata`: clean covers and
one stego image per method, train and held-out splits) and scores it with
:func:`eval_steganalysis`. Result JSON: ``detection`` (per method and detector: AUC,
held-out accuracy with its 95 % Wilson interval, best-threshold accuracy, threshold),
``heldout_mean_statistics`` and ``heldout_per_image`` (the values behind the ROC figure of
:mod:`stegnet_research.plots`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from stegnet.imageio import load_rgb
from stegnet_research.detection_stats import (
    accuracy_at,
    best_threshold,
    detection_scores,
    wilson_interval,
)


def eval_steganalysis(stegdata: str | Path, detectors: str | Path | None = None,
                      progress: Callable[[int, int], None] | None = None, *,
                      device: str = "cpu") -> dict:
    """Detectability of each method on a cover / stego set (:mod:`stegnet_research.stegdata`).

    Classic detectors (chi-square, RS, SPA): each detector's threshold is fitted on the
    ``train`` split (best accuracy there) and applied to the ``heldout`` split, which gives
    an honest ``accuracy``; ``auc`` and ``best_threshold_accuracy`` (threshold fitted on the
    held-out data themselves, optimistic for the detector) are reported as well.
    Learned detectors (on ``device``), scored on the held-out split at logit 0: with
    ``detectors`` None the zoo's shipped ``xunet-<method>`` detectors (task ``detect``),
    else the weight files ``DETECTORS/xunet-<method>.safetensors`` (trained on the train
    split by :mod:`stegnet_research.train.detector`); a method without one (e.g.
    ``detectors`` a folder that does not exist) gets the classic detectors only.
    """
    from stegnet.analysis import analyze
    from stegnet_research.stegdata import METHODS, set_names
    from stegnet_research.train.detector import evaluate as eval_learned

    kinds = ("clean", *METHODS)
    names = {split: set_names(stegdata, split) for split in ("train", "heldout")}
    if not names["heldout"] or not names["train"]:
        raise ValueError(f"{stegdata}: needs both train and heldout covers")
    total = sum(len(v) for v in names.values())
    stats: dict[str, dict[str, list[dict[str, float]]]] = {}
    done = 0
    for split, split_names in names.items():
        stats[split] = {kind: [] for kind in kinds}
        for name in split_names:
            for kind in kinds:
                stats[split][kind].append(
                    analyze(load_rgb(Path(stegdata, split, kind, f"{name}.png"))))
            done += 1
            if progress is not None:
                progress(done, total)
    detectors_list = list(stats["heldout"]["clean"][0])
    per_image: dict[str, dict] = {
        "names": names["heldout"],
        "statistics": {kind: {det: [round(row[det], 5) for row in stats["heldout"][kind]]
                              for det in detectors_list} for kind in kinds},
        "cnn_logits": {}}
    table: dict[str, dict[str, dict]] = {}
    for method in METHODS:
        table[method] = {}
        for det in detectors_list:
            def column(split: str, kind: str, det: str = det) -> list[float]:
                return [row[det] for row in stats[split][kind]]

            threshold = best_threshold(column("train", "clean"), column("train", method))
            held_clean, held_stego = column("heldout", "clean"), column("heldout", method)
            optimistic = detection_scores(held_clean, held_stego)
            accuracy = accuracy_at(held_clean, held_stego, threshold)
            table[method][det] = {
                "auc": optimistic["auc"],
                "accuracy": accuracy,
                "accuracy_ci95": wilson_interval(accuracy, 2 * len(held_clean)),
                "best_threshold_accuracy": optimistic["accuracy"],
                "threshold": round(threshold, 6),
            }
        weights = detector_weights(detectors, method)
        if weights is not None:
            learned = eval_learned(stegdata, method, weights, device)
            table[method]["cnn"] = {k: learned[k] for k in
                                    ("auc", "accuracy", "best_threshold_accuracy")}
            table[method]["cnn"]["accuracy_ci95"] = wilson_interval(
                learned["accuracy"], 2 * learned["images"])
            per_image["cnn_logits"][method] = {
                "clean": [r["clean_logit"] for r in learned["per_image"]],
                "stego": [r["stego_logit"] for r in learned["per_image"]]}
    means = {kind: {det: round(float(np.mean([s[det] for s in stats["heldout"][kind]])), 5)
                    for det in detectors_list} for kind in kinds}
    return {"method": "analyze", "images": {k: len(v) for k, v in names.items()},
            "detection": table, "heldout_mean_statistics": means, "heldout_per_image": per_image}


def detector_weights(detectors: str | Path | None, method: str) -> Path | None:
    """The weight file of the CNN detector for ``method``: the shipped zoo entry
    ``xunet-<method>`` (``detectors`` None) or ``DETECTORS/xunet-<method>.safetensors``;
    None if there is none."""
    from stegnet.zoo import list_models

    name = f"xunet-{method}"
    if detectors is None:
        return next((m.path for m in list_models("detect") if m.name == name), None)
    weights = Path(detectors, f"{name}.safetensors")
    return weights if weights.is_file() else None

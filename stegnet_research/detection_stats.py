"""Detector scores on a balanced clean / stego set: AUC, thresholds, accuracy, Wilson
intervals. Shared by the evaluation studies and the detector trainers (numpy only)."""

from __future__ import annotations

import numpy as np


def detection_scores(clean: list[float], stego: list[float]) -> dict[str, float]:
    """AUC (ties count half) and best accuracy over thresholds of "statistic >= t means stego".

    The best threshold is chosen on the same data, which favours the detector: an
    accuracy near 50% is a strong result for the hider.
    """
    clean_arr, stego_arr = np.asarray(clean, float), np.asarray(stego, float)
    greater = (stego_arr[:, None] > clean_arr[None, :]).mean()
    ties = (stego_arr[:, None] == clean_arr[None, :]).mean()
    accuracy = accuracy_at(clean, stego, best_threshold(clean, stego))
    return {"auc": round(float(greater + 0.5 * ties), 4), "accuracy": accuracy}


def best_threshold(clean: list[float], stego: list[float]) -> float:
    """The threshold t of "statistic >= t means stego" with the best accuracy on these data."""
    clean_arr, stego_arr = np.asarray(clean, float), np.asarray(stego, float)
    candidates = np.unique(np.concatenate([clean_arr, stego_arr, [np.inf]]))
    hits = [(stego_arr >= t).sum() + (clean_arr < t).sum() for t in candidates]
    return float(candidates[int(np.argmax(hits))])


def accuracy_at(clean: list[float], stego: list[float], threshold: float) -> float:
    """Accuracy of "statistic >= threshold means stego" on a balanced clean / stego set."""
    clean_arr, stego_arr = np.asarray(clean, float), np.asarray(stego, float)
    correct = (stego_arr >= threshold).sum() + (clean_arr < threshold).sum()
    return round(float(correct / (clean_arr.size + stego_arr.size)), 4)


def wilson_interval(accuracy: float, count: int, z: float = 1.96) -> list[float]:
    """95% Wilson score interval of an accuracy measured on ``count`` decisions."""
    if count == 0:
        return [0.0, 1.0]
    centre = (accuracy + z * z / (2 * count)) / (1 + z * z / count)
    half = z * np.sqrt(accuracy * (1 - accuracy) / count + z * z / (4 * count * count)) / (
        1 + z * z / count)
    return [round(max(0.0, float(centre - half)), 4) + 0.0,
            round(min(1.0, float(centre + half)), 4)]

"""Scoring of the JPEG detection study (:mod:`stegnet_research.jpegstudy`): the linear
classifier on DCTR features, the thresholds of the scalar statistics, the table and the
figure (NumPy and matplotlib; scikit-learn is not a dependency).

Classifier (:func:`fit_linear`): ridge regression of the labels -1 (cover) / +1 (stego) on
the standardised features with an intercept, i.e. the least-squares form of a
ridge-regularised Fisher linear discriminant, solved in its dual (``n x n`` kernel of the
``n`` training images, not the 8000 x 8000 scatter matrix). The ridge ``lambda`` is chosen
by 5-fold cross-validation on the training covers (folds by cover, so a cover and its stego
stay together; the best out-of-fold AUC) and the decision threshold is the best one on
those out-of-fold scores: everything the held-out numbers depend on is fitted on training
covers. The classifier's own decision (score >= 0, midway between the labels) is reported
too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stegnet_research.detection_stats import (
    accuracy_at,
    best_threshold,
    detection_scores,
    wilson_interval,
)

LAMBDAS = tuple(10.0 ** np.arange(-3.0, 3.01, 0.5))
"""Ridge strengths tried, in units of the mean squared norm of a standardised image."""
FOLDS = 5


def _standardise(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = train.mean(axis=0)
    scale = train.std(axis=0)
    return mean, np.where(scale > 1e-8, scale, 1.0)


def _dual_fit(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Eigen-decomposition of the centred kernel and the centred labels of ``z``."""
    offset = float(y.mean())
    values, vectors = np.linalg.eigh(z @ z.T)
    return np.maximum(values, 0.0), vectors, offset


def _dual_scores(z_train: np.ndarray, z_test: np.ndarray, y: np.ndarray,
                 lambdas: np.ndarray) -> np.ndarray:
    """(len(lambdas), n_test) ridge scores of ``z_test`` for each ridge strength."""
    values, vectors, offset = _dual_fit(z_train, y)
    projected = vectors.T @ (y - offset)  # (n,)
    cross = z_test @ z_train.T @ vectors  # (n_test, n)
    return np.stack([cross @ (projected / (values + lam)) + offset for lam in lambdas])


def fit_linear(x: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int = 0) -> dict:
    """Fit the classifier (module doc) on ``x`` (n, d), labels ``y`` in {-1, +1} and the
    cover id of each row ``groups``. Returns ``{"mean", "scale", "weights", "offset",
    "lambda", "threshold", "cv_auc", "cv_accuracy", "oof"}`` (the last three out-of-fold,
    at the chosen lambda and threshold; ``oof``: each row's out-of-fold score)."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    covers = np.unique(groups)
    order = np.random.default_rng(seed).permutation(covers.size)
    fold_of = dict(zip(covers[order], np.arange(covers.size) % FOLDS, strict=True))
    fold = np.array([fold_of[g] for g in groups])
    scale_unit = float(x.shape[1])  # a standardised row's mean squared norm
    lambdas = np.array(LAMBDAS) * scale_unit
    oof = np.zeros((lambdas.size, y.size))
    for k in range(FOLDS):
        test = fold == k
        mean, scale = _standardise(x[~test])
        z_train, z_test = (x[~test] - mean) / scale, (x[test] - mean) / scale
        oof[:, test] = _dual_scores(z_train, z_test, y[~test], lambdas)
    aucs = [detection_scores(s[y < 0], s[y > 0])["auc"] for s in oof]
    best = max(range(lambdas.size), key=lambda i: (aucs[i], i))  # ties: the stronger ridge
    scores = oof[best]
    threshold = best_threshold(scores[y < 0], scores[y > 0])
    mean, scale = _standardise(x)
    z = (x - mean) / scale
    values, vectors, offset = _dual_fit(z, y)
    alpha = vectors @ ((vectors.T @ (y - offset)) / (values + lambdas[best]))
    return {"mean": mean, "scale": scale, "weights": z.T @ alpha, "offset": offset,
            "lambda": float(LAMBDAS[best]), "threshold": float(threshold),
            "cv_auc": float(aucs[best]), "oof": scores,
            "cv_accuracy": accuracy_at(scores[y < 0], scores[y > 0], threshold)}


def fit_pairs(train_clean: np.ndarray, train_stego: np.ndarray) -> dict:
    """:func:`fit_linear` on cover / stego pairs: row i of ``train_clean`` (label -1) is the
    cover of row i of ``train_stego`` (+1), and the folds keep each pair together; the
    out-of-fold scores ``oof`` list the covers first, then the stegos."""
    n = len(train_clean)
    x = np.concatenate([train_clean, train_stego])
    y = np.concatenate([-np.ones(n), np.ones(len(train_stego))])
    return fit_linear(x, y, np.concatenate([np.arange(n), np.arange(len(train_stego))]))


def decision(model: dict, x: np.ndarray) -> np.ndarray:
    """Classifier scores (larger: stego) of the rows of ``x``."""
    z = (np.asarray(x, np.float64) - model["mean"]) / model["scale"]
    return z @ model["weights"] + model["offset"]


def _heldout(clean: np.ndarray, stego: np.ndarray, threshold: float) -> dict:
    """Held-out accuracy at ``threshold``, its 95 % Wilson interval, AUC, best-threshold
    accuracy (optimistic) and counts."""
    accuracy = accuracy_at(clean, stego, threshold)
    found = detection_scores(clean, stego)
    return {"accuracy": accuracy,
            "accuracy_ci95": wilson_interval(accuracy, len(clean) + len(stego)),
            "auc": found["auc"], "best_threshold_accuracy": found["accuracy"],
            "heldout_covers": len(clean), "heldout_stegos": len(stego),
            "decisions": len(clean) + len(stego)}


def score_dctr(train_clean: np.ndarray, train_stego: np.ndarray, held_clean: np.ndarray,
               held_stego: np.ndarray) -> dict:
    """Train the classifier on the training pairs (row i of ``train_clean`` is the cover
    of row i of ``train_stego``) and score it on the held-out images. ``_correct``: (2,
    covers) bool, each held-out cover's and stego's decision right (for paired
    comparisons; not saved)."""
    n = len(train_clean)
    model = fit_pairs(train_clean, train_stego)
    clean, stego = decision(model, held_clean), decision(model, held_stego)
    result = _heldout(clean, stego, model["threshold"])
    result["_correct"] = np.stack([clean < model["threshold"], stego >= model["threshold"]])
    own = accuracy_at(clean, stego, 0.0)
    result.update({"accuracy_at_zero": own,
                   "accuracy_at_zero_ci95": wilson_interval(own, 2 * len(clean)),
                   "train_covers": n, "ridge_lambda": model["lambda"],
                   "threshold": round(model["threshold"], 6),
                   "cv_auc": round(model["cv_auc"], 4), "cv_accuracy": model["cv_accuracy"]})
    return result


def paired_difference(correct_a: np.ndarray, correct_b: np.ndarray, resamples: int = 4000,
                      seed: int = 0) -> list[float]:
    """95 % bootstrap interval (percentile, resampling held-out covers with their stegos)
    of accuracy A minus accuracy B, both measured on the same covers (``_correct`` of
    :func:`score_dctr`)."""
    a = np.asarray(correct_a, np.float64).mean(axis=0)  # per cover: share right of 2
    b = np.asarray(correct_b, np.float64).mean(axis=0)
    picks = np.random.default_rng(seed).integers(0, a.size, (resamples, a.size))
    diffs = a[picks].mean(axis=1) - b[picks].mean(axis=1)
    return [round(float(v), 4) for v in np.percentile(diffs, [2.5, 97.5])]


def score_dctr_pooled(train_clean: np.ndarray, train_stegos: dict, held_clean: np.ndarray,
                      held_stegos: dict) -> dict:
    """One classifier per method trained on all its payloads at once (each training cover
    against its stegos at every payload, the covers repeated to balance the classes; as
    the CNN detectors of :mod:`stegnet_research.detstudy`), a threshold per payload fitted
    on the out-of-fold scores of the training covers and that payload's stegos; ->
    ``{payload: held-out scores}``."""
    n, rates = len(train_clean), list(train_stegos)
    x = np.concatenate([train_clean] * len(rates) + [train_stegos[r] for r in rates])
    y = np.concatenate([-np.ones(n * len(rates)), np.ones(n * len(rates))])
    model = fit_linear(x, y, np.tile(np.arange(n), 2 * len(rates)))
    oof_clean = model["oof"][:n]  # the first copy of the covers (identical copies)
    held = decision(model, held_clean)
    results = {}
    for i, rate in enumerate(rates):
        oof_stego = model["oof"][n * (len(rates) + i) : n * (len(rates) + i + 1)]
        threshold = best_threshold(oof_clean, oof_stego)
        result = _heldout(held, decision(model, held_stegos[rate]), threshold)
        result.update({"threshold": round(threshold, 6), "train_covers": n,
                       "ridge_lambda": model["lambda"], "cv_auc": round(model["cv_auc"], 4),
                       "cv_accuracy": accuracy_at(oof_clean, oof_stego, threshold)})
        results[rate] = result
    return results


def score_scalar(train_clean, train_stego, held_clean, held_stego) -> dict:
    """A scalar statistic (larger: stego): threshold with the best accuracy on the training
    covers and their stegos, applied to the held-out ones."""
    threshold = best_threshold(train_clean, train_stego)
    result = _heldout(np.asarray(held_clean), np.asarray(held_stego), threshold)
    result.update({"threshold": threshold, "train_covers": len(train_clean),
                   "train_accuracy": accuracy_at(train_clean, train_stego, threshold)})
    return result


# ------------------------------------------------------------------------ table, figure

METHOD_LABELS = {"stegnet-jpeg": "stegnet jpeg channel (STC, J-UNIWARD)",
                 "juniward": "J-UNIWARD (conseal simulator)",
                 "uerd": "UERD (conseal simulator)", "nsf5": "nsF5 (conseal simulator)",
                 "pixel-png": "stegnet pixel channel -> PNG"}
COLOURS = {"stegnet-jpeg": "tab:blue", "juniward": "tab:orange", "uerd": "tab:green",
           "nsf5": "tab:red", "pixel-png": "tab:purple"}


def _cell(found: dict | None) -> str:
    if found is None:
        return ""
    low, high = found["accuracy_ci95"]
    return f"{found['accuracy']:.2f} ({low:.2f}-{high:.2f}) AUC {found['auc']:.2f}"


def markdown_table(result: dict) -> str:
    """One row per quality, method and payload: achieved payload and change rate, then
    each detector's held-out accuracy (95 % Wilson interval) and AUC."""
    dets = result["detector_order"]
    lines = ["| quality | method | payload (bpnzAC) | frame bpnzAC | changes / nzAC | "
             + " | ".join(dets) + " |", "|" + "---|" * (5 + len(dets))]
    for quality, methods in result["results"].items():
        for method, rates in methods.items():
            for rate, entry in rates.items():
                achieved = entry["achieved"]
                frame = achieved.get("frame_bpnzac")
                lines.append(
                    f"| {quality} | {method} | {rate} | "
                    f"{'' if frame is None else f'{frame:.3f}'} | "
                    f"{achieved['change_rate']:.4f} | "
                    + " | ".join(_cell(entry["detectors"].get(d)) for d in dets) + " |")
    return "\n".join(lines)


def plot(result: dict, path: Path, detector: str = "dctr") -> None:
    """Held-out ``detector`` accuracy vs payload: one panel per quality with DCTR results,
    one line per method (95 % Wilson intervals as error bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    qualities = [q for q, m in result["results"].items()
                 if any(detector in e["detectors"] for r in m.values() for e in r.values())]
    fig, axes = plt.subplots(1, max(1, len(qualities)), figsize=(5.6 * len(qualities), 4.6),
                             sharey=True, squeeze=False)
    handles: dict[str, object] = {}
    for ax, quality in zip(axes[0], qualities, strict=False):
        methods = result["results"][quality]
        for i, (method, rates) in enumerate(methods.items()):
            points = sorted((float(r), e["detectors"][detector]) for r, e in rates.items()
                            if detector in e["detectors"])
            if not points:
                continue
            nudge = 1.0 + 0.025 * (i - (len(methods) - 1) / 2)  # keep error bars apart
            x = [p[0] * nudge for p in points]
            y = [p[1]["accuracy"] for p in points]
            err = np.array([[p[1]["accuracy"] - p[1]["accuracy_ci95"][0] for p in points],
                            [p[1]["accuracy_ci95"][1] - p[1]["accuracy"] for p in points]])
            label = METHOD_LABELS.get(method, method)
            line = ax.errorbar(x, y, yerr=err, marker="o", ms=4, capsize=2,
                               color=COLOURS.get(method), label=label)
            handles.setdefault(label, line)
        handles.setdefault("chance (50%)",
                           ax.axhline(0.5, color="black", ls=":", lw=1, label="chance (50%)"))
        ax.set_xscale("log")
        rates = sorted({float(r) for m in result["results"][quality].values() for r in m})
        ax.set_xticks(rates, [f"{r:g}" for r in rates])
        ax.minorticks_off()
        ax.set_ylim(0.4, 1.02)
        ax.set_title(f"JPEG quality {quality.lstrip('q')}", fontsize=10)
        ax.set_xlabel("payload (bits per non-zero AC coefficient, log scale)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("held-out accuracy (95% Wilson interval)")
    covers = result["split"]["covers"]
    kind = ("one classifier per payload" if detector == "dctr"
            else "one classifier per method, all payloads")
    fig.suptitle(f"DCTR + ridge-FLD ({kind}) vs payload: {covers['heldout']} held-out-"
                 f"package covers (trained on {covers['train']})", fontsize=11)
    fig.legend(list(handles.values()), list(handles), loc="lower center",
               ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 0.94))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)

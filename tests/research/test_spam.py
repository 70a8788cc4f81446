"""SPAM-686 features (:mod:`stegnet_research.spam`) and the linear classifier the
detection-vs-payload study trains on them (:func:`stegnet_research.detscore.spam_score`)."""

from __future__ import annotations

import numpy as np
import pytest

from stegnet.synthetic import synthetic_photo
from stegnet_research.spam import BINS, DIMENSION, T, spam686

STRAIGHT = ((0, 1), (0, -1), (1, 0), (-1, 0))
DIAGONAL = ((1, 1), (-1, -1), (-1, 1), (1, -1))
CENTRE = 49 * T + 7 * T + T  # the cell (0, 0, 0)


def _naive(plane: np.ndarray) -> np.ndarray:
    """SPAM-686 of one grey plane straight from the definition: every direction's
    truncated difference triples counted position by position, normalised, averaged."""
    plane = plane.astype(int)
    height, width = plane.shape
    groups = []
    for steps in (STRAIGHT, DIAGONAL):
        group = np.zeros(BINS)
        for dy, dx in steps:
            counts = np.zeros(BINS)
            for y in range(height):
                for x in range(width):
                    points = [(y + k * dy, x + k * dx) for k in range(4)]
                    if not all(0 <= py < height and 0 <= px < width for py, px in points):
                        continue
                    values = [plane[p] for p in points]
                    d = [int(np.clip(values[k] - values[k + 1], -T, T)) for k in range(3)]
                    counts[49 * (d[0] + T) + 7 * (d[1] + T) + (d[2] + T)] += 1
            group += counts / counts.sum() / len(steps)
        groups.append(group)
    return np.concatenate(groups)


def test_shape_range_and_groups_sum_to_one() -> None:
    features = spam686(synthetic_photo(64, 80, seed=1))
    assert features.shape == (DIMENSION,) == (686,) and features.dtype == np.float32
    assert features.min() >= 0 and features.max() <= 1
    assert features[:BINS].sum() == pytest.approx(1, abs=1e-5)
    assert features[BINS:].sum() == pytest.approx(1, abs=1e-5)


def test_flat_image_puts_all_mass_at_zero_differences() -> None:
    for image in (np.full((20, 30), 117, np.uint8), np.full((16, 16, 3), 3, np.uint8)):
        features = spam686(image)
        assert features[CENTRE] == 1 and features[BINS + CENTRE] == 1
        assert np.count_nonzero(features) == 2


@pytest.mark.parametrize("shape", [(9, 11), (12, 7)])
def test_matches_the_definition(shape) -> None:
    rng = np.random.default_rng(sum(shape))
    # wide differences (truncation) and small ones (the +-3 cells) both present
    plane = np.clip(rng.normal(128, 3, shape).cumsum(axis=1) % 256, 0, 255).astype(np.uint8)
    plane[:, : shape[1] // 2] = rng.integers(0, 256, (shape[0], shape[1] // 2))
    np.testing.assert_allclose(spam686(plane), _naive(plane), atol=1e-6)


def test_colour_planes_are_pooled() -> None:
    image = synthetic_photo(40, 56, seed=4)
    per_plane = np.mean([spam686(image[..., c]) for c in range(3)], axis=0)
    np.testing.assert_allclose(spam686(image), per_plane, atol=1e-6)
    with pytest.raises(ValueError):
        spam686(np.zeros((3, 40), np.uint8))


def _smooth_photo(seed: int, size: int = 128) -> np.ndarray:
    """``synthetic_photo`` under a 3 x 3 box blur: its noise (sd ~5 grey levels, which
    saturates most T = 3 differences) down to ~1.7, as in a smooth photo."""
    image = synthetic_photo(size, size, seed=seed).astype(np.float32)
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)), mode="edge")
    blurred = sum(padded[dy : dy + size, dx : dx + size] for dy in range(3) for dx in range(3))
    return np.round(blurred / 9).astype(np.uint8)


def test_lsb_matching_is_detected_by_the_linear_classifier() -> None:
    """+-1 LSB matching at 0.4 bit/pixel on 20 training covers (and their stegos),
    scored on 20 other covers: clearly detected (0.95 held-out accuracy, AUC 1.00)."""
    from stegnet_research.detscore import spam_score
    from stegnet_research.embedders import lsb_match

    covers = [_smooth_photo(seed) for seed in range(40)]
    clean = np.stack([spam686(c) for c in covers])
    stego = np.stack([spam686(lsb_match(c, 0.4, seed)) for seed, c in enumerate(covers)])
    found = spam_score(clean[:20], stego[:20], clean[20:], stego[20:])
    assert found["train_covers"] == 20 and found["heldout_covers"] == 20
    assert found["accuracy"] > 0.8 and found["auc"] > 0.9
    low, high = found["accuracy_ci95"]
    assert low <= found["accuracy"] <= high

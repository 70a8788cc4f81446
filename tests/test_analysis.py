"""Classic detectors: known answers on synthetic cases, and they catch LSB replacement."""

import numpy as np
import pytest

from stegnet import analysis
from stegnet.synthetic import synthetic_photo


def test_chi_square_known_histograms() -> None:
    rng = np.random.default_rng(0)
    even_only = (rng.integers(0, 128, (64, 64, 3)) * 2).astype(np.uint8)
    assert analysis.chi_square(even_only) < 0.01  # pairs maximally unequal: no embedding
    paired = even_only.copy()
    paired[:, ::2] |= 1  # every pair (2k, 2k+1) now has exactly equal counts
    assert analysis.chi_square(paired) > 0.99


def test_lsb_replace_changes_only_lsbs_at_the_given_rate() -> None:
    image = synthetic_photo(64, 64, 0)
    stego = analysis.lsb_replace(image, 0.5, seed=1)
    assert np.all((image ^ stego) <= 1)
    assert 0.2 < np.mean(image != stego) < 0.3  # half the chosen samples already match


@pytest.mark.parametrize("detector", [analysis.rs_analysis, analysis.sample_pairs])
def test_rate_estimators_recover_the_embedding_rate(detector) -> None:
    image = synthetic_photo(192, 192, 3)
    assert detector(image) < 0.08
    for rate in (0.25, 0.5):
        assert abs(detector(analysis.lsb_replace(image, rate, seed=2)) - rate) < 0.08


def _example_photos() -> list[np.ndarray]:
    """The quadrants (128x128) of the two example photos: 8 real photos."""
    from pathlib import Path

    from PIL import Image

    folder = Path(__file__).resolve().parent.parent / "examples"
    photos = []
    for name in ("cover.png", "secret.png"):
        image = np.asarray(Image.open(folder / name).convert("RGB"))
        photos += [image[y : y + 128, x : x + 128] for y in (0, 128) for x in (0, 128)]
    return photos


def test_detectors_flag_lsb_at_one_bit_per_pixel() -> None:
    """>= 90% accuracy on clean vs LSB replacement at 1 bpp (rate 1/3 on RGB)."""
    correct = {"rs_rate": 0, "spa_rate": 0}
    photos = _example_photos()
    count = len(photos)
    for seed, image in enumerate(photos):
        clean, stego = analysis.analyze(image), analysis.analyze(
            analysis.lsb_replace(image, 1 / 3, seed))
        for name in correct:
            correct[name] += (clean[name] < 0.1) + (stego[name] >= 0.1)
    for name, hits in correct.items():
        assert hits / (2 * count) >= 0.9, name


def test_auc_and_best_accuracy() -> None:
    from stegnet.evaluate import detection_scores

    scores = detection_scores([0.0, 0.1, 0.2], [0.3, 0.4, 0.5])
    assert scores == {"auc": 1.0, "accuracy": 1.0}
    assert detection_scores([0.1, 0.2], [0.1, 0.2])["auc"] == 0.5

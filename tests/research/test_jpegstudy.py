"""JPEG detection study: DCTR features, the RJCA and JPEG-compatibility statistics, the
linear classifier and the study's pipeline on a tiny synthetic pool."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stegnet import jpegio
from stegnet.costs_jpeg import dct_matrix
from stegnet.synthetic import synthetic_photo
from stegnet_research import data, dctr, jpegscore, jpegstudy


def _reference_dctr_mode(plane: np.ndarray, k: int, m: int, q: float) -> np.ndarray:
    """One basis pattern's 25 merged histograms the slow way (2-D convolution, loops)."""
    from scipy.signal import convolve2d

    d = dct_matrix()
    u = np.abs(convolve2d(plane, np.outer(d[k], d[m]), mode="valid"))
    level = np.minimum(np.floor(u / q + 0.5), dctr.T)
    out = np.zeros((25, dctr.T + 1))
    for a in range(5):
        for b in range(5):
            phases = {(r, c) for r in (a, (8 - a) % 8) for c in (b, (8 - b) % 8)}
            for r, c in phases:
                out[5 * a + b] += np.bincount(level[r::8, c::8].astype(int).ravel(),
                                              minlength=dctr.T + 1)
    return out / out.sum(axis=1, keepdims=True)


def test_dctr_shape_normalisation_and_reference() -> None:
    plane = np.random.default_rng(0).normal(0, 20, (40, 48))
    features = dctr.dctr(plane, 4.0)
    assert features.shape == (dctr.DIMENSION,) == (8000,)
    assert features.dtype == np.float32
    per_histogram = features.reshape(64 * 25, dctr.T + 1).sum(axis=1)
    assert np.allclose(per_histogram, 1.0, atol=1e-5)
    for k, m in ((0, 0), (1, 3), (7, 6)):
        got = features.reshape(64, 25, dctr.T + 1)[8 * k + m]
        assert np.allclose(got, _reference_dctr_mode(plane, k, m, 4.0), atol=1e-6)


def test_dctr_step_and_quality_of_table() -> None:
    assert dctr.dctr_step(75) == pytest.approx(4.0)
    assert dctr.dctr_step(95) == pytest.approx(0.8)
    assert dctr.dctr_step(100) == pytest.approx(0.2)
    for quality in (50, 75, 95):
        cover = jpegio.compress(synthetic_photo(32, 32, seed=1), quality)
        assert dctr.quality_from_table(cover.quant_tables[0]) == (quality, True)


def test_dctr_sees_nsf5_shrinking_coefficients() -> None:
    """Known answer: nsF5 (changes towards zero) at 0.4 bpnzAC fills the zero bin of
    the grid-aligned phase, where DCTR's residuals are the quantised coefficients."""
    import conseal as cl

    for seed in range(3):
        cover = jpegio.compress(synthetic_photo(64, 64, seed=seed), 75)
        luma = cover.components[0]
        stego = cl.nsF5.simulate_single_channel(y0=luma.astype(np.int64), alpha=0.4,
                                                seed=seed)
        q = dctr.dctr_step(75)
        before = dctr.dctr(dctr.decompressed_luma(luma, cover.quant_tables[0]), q)
        after = dctr.dctr(dctr.decompressed_luma(stego, cover.quant_tables[0]), q)
        aligned_zero = lambda f: f.reshape(64, 25, dctr.T + 1)[1:, 0, 0].sum()  # noqa: E731
        assert aligned_zero(after) > aligned_zero(before) + 0.05


def test_classifier_separates_shifted_classes_and_picks_threshold() -> None:
    rng = np.random.default_rng(0)
    n, d = 40, 300
    shift = np.zeros(d)
    shift[:20] = 0.8
    clean = rng.normal(size=(2 * n, d))
    stego = clean + shift + 0.3 * rng.normal(size=(2 * n, d))
    found = jpegscore.score_dctr(clean[:n], stego[:n], clean[n:], stego[n:])
    assert found["accuracy"] >= 0.9 and found["auc"] >= 0.95
    assert found["cv_accuracy"] >= 0.85 and found["decisions"] == 2 * n
    noise = jpegscore.score_dctr(clean[:n], rng.normal(size=(n, d)), clean[n:],
                                 rng.normal(size=(n, d)))
    assert noise["accuracy_ci95"][0] <= 0.5 + 0.1


def test_rjca_larger_for_plus_minus_one_changes_at_quality_100() -> None:
    """RJCA (Butora & Fridrich) reads +-1 coefficient changes where the steps are 1: at
    quality 100 the unrounded decompression of a cover hugs the integers. (At 95 the
    steps reach 5 and more and the statistic is at chance: the study measures that.)"""
    rng = np.random.default_rng(1)
    for seed in range(3):
        cover = jpegio.compress(synthetic_photo(64, 64, seed=seed), 100)
        flat = cover.coefficients()
        ac = np.flatnonzero(np.arange(flat.size) % 64)
        change = rng.choice(ac, size=ac.size // 20, replace=False)
        stego_flat = flat.copy()
        stego_flat[change] += rng.choice(np.array([-1, 1], np.int16), size=change.size)
        stego = cover.with_coefficients(stego_flat)
        assert (dctr.rjca(stego.components, stego.quant_tables)
                > dctr.rjca(cover.components, cover.quant_tables) + 1e-3)


def test_jpeg_compat_zero_for_decoded_jpeg_and_positive_after_pixel_changes() -> None:
    rng = np.random.default_rng(2)
    for seed in range(2):
        cover = jpegio.compress(synthetic_photo(64, 64, seed=seed), 75)
        pixels = jpegio.decode_pixels(cover)
        assert dctr.jpeg_compat(pixels, cover.quant_tables[0]) == 0.0
        stego = pixels.astype(np.int16)
        rows, cols = rng.integers(8, 56, 40), rng.integers(8, 56, 40)
        stego[rows, cols, 1] += np.where(stego[rows, cols, 1] < 128, 1, -1)
        assert dctr.jpeg_compat(stego.astype(np.uint8), cover.quant_tables[0]) > 0.05


def _packages(held_out: bool, count: int) -> list[str]:
    names = (f"pkg{i}" for i in range(10_000))
    return [n for n in names if data.is_held_out_package(n) == held_out][:count]


def test_study_end_to_end_on_a_tiny_pool(tmp_path: Path) -> None:
    pool = tmp_path / "train"
    pool.mkdir()
    rng = np.random.default_rng(3)
    for i, package in enumerate(_packages(True, 2) + _packages(False, 2)):
        noise = rng.normal(0, 30, (64, 72, 3))  # texture: room for the frame's overhead
        image = np.clip(synthetic_photo(64, 72, seed=10 + i) + noise, 0, 255)
        Image.fromarray(image.astype(np.uint8)).save(pool / f"t{i:03d}_{package}_photo.jpg",
                                                     quality=90)
    settings = jpegstudy.Settings(data=str(pool), work=str(tmp_path / "work"),
                                  out=str(tmp_path / "out"), qualities=(75,),
                                  rjca_qualities=(), rates=(0.2,), size=64)
    result = jpegstudy.run(settings, "test", log=lambda _text: None)
    assert result["split"]["covers"] == {"train": 2, "heldout": 2}
    entry = result["results"]["q75"]["stegnet-jpeg"]["0.2"]
    assert set(entry["detectors"]) == {"dctr", "dctr-pooled", "rjca"}
    assert "_correct" not in entry["detectors"]["dctr"]
    assert entry["achieved"]["frame_bpnzac"] > entry["achieved"]["bpnzac_mean"] >= 0.19
    pixel = result["results"]["q75"]["pixel-png"]["0.2"]["detectors"]
    assert set(pixel) == {"dctr", "dctr-pooled", "compat"}
    point = result["comparison"]["points"]["q75/0.2"]
    assert point["difference_pp_ci95"][0] <= point["difference_pp"] <= point[
        "difference_pp_ci95"][1]
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["payload_unit"].startswith("bpnzAC")
    assert (tmp_path / "out" / "dctr-accuracy.png").stat().st_size > 10_000
    assert "stegnet-jpeg" in (tmp_path / "out" / "table.md").read_text()

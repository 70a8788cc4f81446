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

    folder = Path(__file__).resolve().parents[2] / "examples"
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
    from stegnet_research.evaluate import detection_scores

    scores = detection_scores([0.0, 0.1, 0.2], [0.3, 0.4, 0.5])
    assert scores == {"auc": 1.0, "accuracy": 1.0}
    assert detection_scores([0.1, 0.2], [0.1, 0.2])["auc"] == 0.5


def test_chi_square_scan_measures_the_written_fraction() -> None:
    """Known answer: a sequential embedder that wrote 40% of the samples reads as ~0.4."""
    rng = np.random.default_rng(1)
    even_only = (rng.integers(0, 128, (96, 96, 3)) * 2).astype(np.uint8)  # pairs unequal
    assert analysis.chi_square_sequential(even_only) == 0.0
    written = analysis.lsb_replace(even_only, 0.4, seed=2, sequential=True)
    assert 0.3 <= analysis.chi_square_sequential(written) <= 0.45
    assert analysis.chi_square_sequential(analysis.lsb_replace(even_only, 1.0, 3)) == 1.0


def test_lsb_replace_sequential_writes_the_first_samples() -> None:
    image = synthetic_photo(32, 32, 5)
    stego = analysis.lsb_replace(image, 0.25, seed=0, sequential=True)
    changed = np.flatnonzero(image.reshape(-1) != stego.reshape(-1))
    assert changed.max() < 0.25 * image.size and changed.size > 0.1 * image.size


def test_chi_square_sees_full_lsb_replacement_on_photos() -> None:
    """Full LSB replacement (3 bpp) equalises the pairs: p >= 0.99 on every photo, never
    lower than the clean photo's. (These two example photos have smooth histograms, so
    the pair test also calls most clean quadrants suspicious: a known weakness of the
    chi-square attack on resampled photos, which is why RS and SPA carry the 1 bpp test
    above.)
    """
    for seed, image in enumerate(_example_photos()):
        clean = analysis.chi_square(image)
        full = analysis.chi_square(analysis.lsb_replace(image, 1.0, seed))
        assert full >= 0.99 and full >= clean - 1e-6


def test_threshold_fitted_on_one_set_applied_to_another() -> None:
    from stegnet_research.evaluate import accuracy_at, best_threshold, wilson_interval

    threshold = best_threshold([0.0, 0.1, 0.2], [0.3, 0.4, 0.5])
    assert 0.2 < threshold <= 0.3
    assert accuracy_at([0.1, 0.35], [0.5, 0.2], threshold) == 0.5  # one error on each side
    low, high = wilson_interval(0.5, 120)
    assert 0.40 < low < 0.45 and 0.55 < high < 0.60
    assert wilson_interval(1.0, 120)[1] == 1.0 and wilson_interval(0.0, 10)[0] == 0.0


# ------------------------------------------------------------- result tables and figures
def test_readme_tables_and_figures_go_where_they_are_told(tmp_path, monkeypatch) -> None:
    """cards and plots read and write the folders they are given (relative to the current
    directory by default), never the checkout they were imported from."""
    import shutil
    from pathlib import Path

    from stegnet_research import cards, plots

    pytest.importorskip("matplotlib")
    repo = Path(__file__).resolve().parents[2]
    results = tmp_path / "work" / "results"
    for rel in ("hinet-s8/heldout-512.json", "hinet-s8/training-log.jsonl",
                "cinn-s6/training-log.jsonl",
                "steganalysis/heldout-256.json", "rate-distortion/heldout-package-256.json"):
        (results / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(repo / "results" / rel, results / rel)
    docs = tmp_path / "work" / "docs"
    docs.mkdir()
    readme = docs / "README.md"
    readme.write_text(f"intro\n{cards.START}\nSTALE\n{cards.END}\n"
                      f"{cards.RD_START}\nSTALE\n{cards.RD_END}\nend\n")
    monkeypatch.chdir(tmp_path / "work")
    cards.main(["readme", "--readme", "docs/README.md"])  # --results defaults to results/
    text = readme.read_text()
    assert "STALE" not in text and text.startswith("intro\n") and text.endswith("end\n")
    assert "(../results/hinet-s8/heldout-512.json)" in text  # linked from the README's folder
    assert "(../results/steganalysis/heldout-256.json)" in text
    assert "| capacity (" in text  # the rate-distortion table
    # The default page is docs/results.md; its detection-vs-payload tables too; a second
    # run changes nothing; a page without markers (the README) is left alone.
    (results / cards.DETECTION).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(repo / "results" / cards.DETECTION, results / cards.DETECTION)
    page = docs / "results.md"
    page.write_text(f"{cards.DET_START}\nSTALE\n{cards.DET_END}\n{cards.START}\n{cards.END}\n")
    front = tmp_path / "work" / "README.md"
    front.write_text("no generated numbers here\n")
    cards.main(["readme"])
    filled = page.read_text()
    assert "STALE" not in filled and "| HILL | 0.05 |" in filled
    assert "| strong CNN | HILL |" in filled  # the AUC table
    cards.main(["readme"])
    assert page.read_text() == filled
    assert cards.update_readme(front) == 0 and front.read_text() == "no generated numbers here\n"
    plots.main(["--data", str(tmp_path / "none"), "--out", "figures"])
    figures = sorted(p.name for p in (tmp_path / "work" / "figures").iterdir())
    assert figures == ["rate-distortion.png", "steganalysis-roc.png", "training-curves.png"]

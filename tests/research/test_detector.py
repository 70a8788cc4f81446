"""CNN steganalyser: front end, shapes, pair sampling, that it learns, and the data set."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stegnet.models.detector import HighPassFilters, StegDetector, srm_kernels
from stegnet.synthetic import synthetic_photo
from stegnet_research import stegdata
from stegnet_research.train import detector as train_detector


def test_srm_kernels_are_high_pass() -> None:
    kernels = srm_kernels()
    assert kernels.shape == (6, 1, 5, 5)
    assert torch.allclose(kernels.sum(dim=(1, 2, 3)), torch.zeros(6), atol=1e-6)
    front = HighPassFilters()
    flat = torch.full((1, 3, 16, 16), 100.0)
    residual = front(flat)
    assert residual.shape == (1, 30, 16, 16)
    assert residual[..., 2:-2, 2:-2].abs().max() < 1e-4  # content (a constant) is removed
    ramp = torch.arange(16.0).expand(1, 3, 16, 16).contiguous()  # linear in x
    second_order = front(ramp)[0, 2, 2:-2, 2:-2]  # 2nd-order horizontal on R: kills ramps
    assert second_order.abs().max() < 1e-4


def test_opponent_planes() -> None:
    """Channels 18..23 are residuals of R - G: zero when R == G, whatever the texture."""
    rng = torch.Generator().manual_seed(0)
    gray = torch.rand(1, 1, 20, 20, generator=rng).expand(1, 3, 20, 20) * 255
    residual = HighPassFilters()(gray.contiguous())
    assert residual[:, 18:30].abs().max() < 1e-3
    assert residual[:, :18].abs().max() > 1


@pytest.mark.parametrize("size", [(32, 32), (45, 67)])
def test_detector_shapes(size) -> None:
    model = StegDetector().eval()
    logits = model(torch.rand(3, 3, *size) * 255)
    assert logits.shape == (3,)
    assert torch.isfinite(logits).all()


def test_pair_sampler_keeps_pairs_aligned() -> None:
    covers = np.stack([synthetic_photo(40, 40, s) for s in range(3)])
    stegos = covers.copy()
    stegos[..., 0] ^= 1  # a fixed LSB flip in red: the difference must survive the crop
    sampler = train_detector.PairSampler(covers, stegos, crop=24, seed=1)
    batch = sampler.sample(5)
    assert batch.shape == (10, 3, 24, 24)
    diff = (batch[5:] - batch[:5]).abs()
    assert torch.all(diff[:, 0] == 1) and torch.all(diff[:, 1:] == 0)


def test_detector_learns_a_visible_embedding() -> None:
    """A few steps suffice to separate covers from +-2 noise on red: the loss must drop."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    covers = np.stack([synthetic_photo(48, 48, s) for s in range(8)])
    noise = rng.choice([-2, 2], covers.shape[:3])
    stegos = covers.copy()
    stegos[..., 0] = np.clip(covers[..., 0].astype(int) + noise, 0, 255).astype(np.uint8)
    sampler = train_detector.PairSampler(covers, stegos, crop=32, seed=0)
    model = StegDetector()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    labels = torch.cat([torch.zeros(8), torch.ones(8)])
    losses = []
    for _ in range(80):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model(sampler.sample(8)), labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    result = train_detector.scores(train_detector.logits_of(model, covers),
                                   train_detector.logits_of(model, stegos))
    assert result["auc"] > 0.9


def test_validation_split_keeps_photos_together() -> None:
    names = [f"p{i:02d}_{v}" for i in range(20) for v in "ab"]
    train_idx, val_idx = train_detector.split_validation(names)
    assert len(val_idx) == 4 and len(train_idx) == 36
    val_photos = {names[i].rsplit("_", 1)[0] for i in val_idx}
    assert not val_photos & {names[i].rsplit("_", 1)[0] for i in train_idx}


def test_stegdata_build_is_complete_and_resumable(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for index in range(3):
        Image.fromarray(synthetic_photo(100, 120, index)).save(photos / f"p{index}.png")
    out = tmp_path / "set"
    stegdata.build(photos, out, workers=1, size=64)
    assert stegdata.set_names(out, "heldout") == ["p0_a", "p0_b"]  # every 10th photo
    assert stegdata.set_names(out, "train") == ["p1_a", "p1_b", "p2_a", "p2_b"]
    clean = np.asarray(Image.open(out / "train" / "clean" / "p1_a.png"))
    lsb = np.asarray(Image.open(out / "train" / "lsb-full" / "p1_a.png"))
    assert clean.shape == (64, 64, 3) and np.all((clean ^ lsb) <= 1) and np.any(clean != lsb)
    payloads = json.loads((out / "payloads.json").read_text())
    assert payloads["p1_a"]["payload_half"] == payloads["p1_a"]["payload_full"] // 2
    stamp = (out / "train" / "hide" / "p1_a.png").stat().st_mtime_ns
    stegdata.build(photos, out, workers=1, size=64)
    assert (out / "train" / "hide" / "p1_a.png").stat().st_mtime_ns == stamp

"""The HiNet-16 speed reference and its comparison with the shipped hide model."""

from __future__ import annotations

import torch

from stegnet_research.benchmark import reference_comparison
from stegnet_research.reference import HiNet16, parameters


def test_hinet16_has_the_published_size():
    assert abs(parameters(HiNet16()) - 4_050_000) < 0.02 * 4_050_000


def test_hinet16_is_invertible():
    torch.manual_seed(0)
    model = HiNet16().eval()
    cover, secret = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        stego, r = model.hide(cover, secret)
        cover_back, secret_back = model.reveal(stego, r)
    assert torch.allclose(cover_back, cover, atol=1e-4)
    assert torch.allclose(secret_back, secret, atol=1e-4)


def test_comparison_reports_both_times():
    result = reference_comparison(64, repeats=1, device="cpu")
    assert result["stegnet_hide_reveal_s"] > 0 and result["hinet16_hide_reveal_s"] > 0
    ratio = result["hinet16_hide_reveal_s"] / result["stegnet_hide_reveal_s"]
    assert abs(result["speedup"] - ratio) < 0.05 * ratio
    assert result["hinet16_parameters"] > 10 * result["stegnet_parameters"]

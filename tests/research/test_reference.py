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
    fastest = result["hinet16_fastest_hide_reveal_s"]
    assert fastest <= result["hinet16_hide_reveal_float32_channels_last_s"]
    assert fastest <= result["hinet16_hide_reveal_s"]
    assert abs(result["speedup_vs_fastest_reference"] - fastest / result[
        "stegnet_hide_reveal_s"]) < 0.05 * result["speedup_vs_fastest_reference"]
    assert result["hinet16_parameters"] > 10 * result["stegnet_parameters"]


def test_bench_json_carries_the_reference_unless_turned_off(monkeypatch):
    """`stegnet bench --json` puts the comparison under 'reference' (stubbed here: the real
    one runs at 512 px); --no-reference leaves it out."""
    import json

    from typer.testing import CliRunner

    from stegnet.cli import app
    from stegnet_research import benchmark

    calls = []
    monkeypatch.setattr(benchmark, "reference_comparison",
                        lambda size, device="auto": calls.append(size) or {"speedup": 1.0})
    base = ["bench", "--sizes", "64", "--methods", "hide", "--json"]
    result = CliRunner().invoke(app, base)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reference"] == {"speedup": 1.0} and calls == [512]
    result = CliRunner().invoke(app, [*base, "--no-reference"])
    assert result.exit_code == 0, result.output
    assert "reference" not in json.loads(result.stdout) and calls == [512]

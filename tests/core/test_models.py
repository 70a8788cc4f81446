import numpy as np
import pytest
import torch

from stegnet.models.cinn import ColourFlow, ColourFlowConfig, merge_colour, split_colour
from stegnet.models.hinet import HideNet, HideNetConfig, quantize_8bit
from tests.core.test_invertible import _randomise


def test_hidenet_forward_inverse_consistency() -> None:
    net = HideNet(HideNetConfig(blocks=3, hidden=8)).double()
    _randomise(net, 0.1)
    features = torch.rand(2, 24, 8, 8, dtype=torch.float64)
    out, log_det = net(features)
    back, inverse_log_det = net(out, rev=True)
    assert (back - features).abs().max() < 1e-5
    assert torch.allclose(log_det, -inverse_log_det)


def test_hidenet_reveal_with_true_lost_branch_is_exact() -> None:
    net = HideNet(HideNetConfig(blocks=2, hidden=8)).double()
    _randomise(net, 0.1)
    cover, secret = torch.rand(1, 3, 16, 16).double(), torch.rand(1, 3, 16, 16).double()
    stego, lost = net.hide(cover, secret)
    from stegnet.layers.wavelet import haar_dwt, haar_idwt

    back, _ = net(torch.cat([haar_dwt(stego), lost], dim=1), rev=True)
    assert (haar_idwt(back[:, 12:]) - secret).abs().max() < 1e-5
    assert (haar_idwt(back[:, :12]) - cover).abs().max() < 1e-5
    assert net.reveal(stego).shape == secret.shape


def test_quantize_8bit_rounds_forward_and_passes_gradient() -> None:
    image = torch.tensor([0.1234, 0.5, 1.2, -0.1], requires_grad=True)
    out = quantize_8bit(image)
    expected = torch.round(image.detach().clamp(0, 1) * 255) / 255
    assert torch.equal(out.detach(), expected)
    out.sum().backward()
    assert image.grad.tolist() == [1.0, 1.0, 0.0, 0.0]


def test_colour_flow_inverse_consistency() -> None:
    flow = ColourFlow(ColourFlowConfig(blocks=2, hidden=8, cond_channels=4)).double()
    _randomise(flow, 0.05)
    cond = flow.condition(torch.randn(1, 6, 4, 4, dtype=torch.float64))
    z = torch.randn(1, 6, 4, 4, dtype=torch.float64)
    colour, log_det = flow(z, cond, rev=True)
    back, forward_log_det = flow(colour, cond)
    assert (back - z).abs().max() < 1e-5
    assert torch.allclose(log_det, -forward_log_det)


def test_split_and_merge_colour_round_trip() -> None:
    rng = np.random.default_rng(0)
    rgb = torch.from_numpy(rng.uniform(0.2, 0.8, (1, 3, 8, 8)))
    cond_input, colour_hf = split_colour(rgb)
    assert cond_input.shape == (1, 6, 4, 4) and colour_hf.shape == (1, 6, 4, 4)
    assert (merge_colour(rgb, colour_hf) - rgb).abs().max() < 1e-6


def test_colour_flow_analyse_recovers_synthesised_latent() -> None:
    flow = ColourFlow(ColourFlowConfig(blocks=2, hidden=8, cond_channels=4)).double()
    _randomise(flow, 0.02)
    cover = torch.full((1, 3, 8, 8), 0.5, dtype=torch.float64)
    z = 0.2 * torch.randn(1, 6, 4, 4, dtype=torch.float64)
    stego = flow.synthesise(cover, z)
    assert stego.min() > 0 and stego.max() < 1  # stays in gamut, so no clamping
    assert (flow.analyse(stego) - z).abs().max() < 1e-4


def test_hidenet_reveal_latents_and_config_without_refiner() -> None:
    net = HideNet(HideNetConfig(blocks=1, hidden=4))
    _randomise(net, 0.1)
    stego = torch.rand(1, 3, 16, 16)
    zeros = net.reveal(stego)
    assert zeros.shape == stego.shape
    assert torch.equal(net.reveal(stego, latent="gaussian", seed=1),
                       net.reveal(stego, latent="gaussian", seed=1))
    assert not torch.equal(net.reveal(stego, latent="gaussian", seed=1), zeros)
    with pytest.raises(ValueError, match="latent"):
        net.reveal(stego, latent="uniform")
    assert set(HideNetConfig().to_dict()) == {"blocks", "hidden", "depth", "clamp"}
    assert not hasattr(net, "refiner")


def test_colour_flow_needs_its_condition() -> None:
    flow = ColourFlow(ColourFlowConfig(blocks=1, hidden=4, cond_channels=4))
    with pytest.raises(ValueError, match="condition"):
        flow(torch.randn(1, 6, 4, 4))

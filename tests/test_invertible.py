import math

import pytest
import torch

from stegnet.layers.invertible import (
    ChannelPermutation,
    ConditionalAffineCoupling,
    HidingCoupling,
    soft_clamp,
)


def _randomise(module: torch.nn.Module, scale: float = 0.3) -> None:
    """Give the zero-initialised last layers non-zero weights so the test is not trivial."""
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(scale * torch.randn_like(parameter))


def test_soft_clamp_bounds_and_linear_near_zero() -> None:
    values = torch.linspace(-100, 100, 1001)
    clamped = soft_clamp(values, 2.0)
    assert clamped.abs().max() < 2.0
    assert torch.all(clamped[1:] >= clamped[:-1])  # monotonic
    small = torch.tensor([1e-4], dtype=torch.float64)
    assert torch.allclose(soft_clamp(small, 2.0), small * 2 / math.pi, rtol=1e-6)


def test_hiding_coupling_is_invertible() -> None:
    block = HidingCoupling(12, hidden=16).double()
    _randomise(block)
    x = torch.randn(2, 24, 8, 8, dtype=torch.float64)
    y, log_det = block(x)
    back, inverse_log_det = block(y, rev=True)
    assert (back - x).abs().max() < 1e-5
    assert torch.allclose(log_det, -inverse_log_det)
    assert (y - x).abs().max() > 1e-3  # it does something


def test_hiding_coupling_starts_as_identity() -> None:
    block = HidingCoupling(12, hidden=8)
    x = torch.randn(1, 24, 4, 4)
    y, log_det = block(x)
    assert torch.equal(y, x) and log_det.abs().max() == 0


def test_conditional_coupling_is_invertible_and_log_det_is_exact() -> None:
    block = ConditionalAffineCoupling(6, cond_channels=4, hidden=8).double()
    _randomise(block)
    x = torch.randn(1, 6, 3, 3, dtype=torch.float64)
    cond = torch.randn(1, 4, 3, 3, dtype=torch.float64)
    y, log_det = block(x, cond)
    back, inverse_log_det = block(y, cond, rev=True)
    assert (back - x).abs().max() < 1e-5
    assert torch.allclose(log_det, -inverse_log_det)
    jacobian = torch.autograd.functional.jacobian(lambda v: block(v, cond)[0], x)
    jacobian = jacobian.reshape(x.numel(), x.numel())
    assert math.isclose(
        torch.slogdet(jacobian).logabsdet.item(), log_det.item(), rel_tol=1e-6, abs_tol=1e-6
    )


def test_hiding_coupling_log_det_is_exact() -> None:
    block = HidingCoupling(12, hidden=4).double()
    _randomise(block)
    x = torch.randn(1, 24, 2, 2, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(lambda v: block(v)[0], x)
    jacobian = jacobian.reshape(x.numel(), x.numel())
    expected = torch.slogdet(jacobian).logabsdet.item()
    assert math.isclose(expected, block(x)[1].item(), rel_tol=1e-6, abs_tol=1e-6)


@pytest.mark.parametrize("seed", [0, 3])
def test_channel_permutation_is_invertible(seed: int) -> None:
    perm = ChannelPermutation(6, seed)
    x = torch.randn(2, 6, 3, 3)
    y, log_det = perm(x)
    assert not torch.equal(y, x)
    assert torch.equal(perm(y, rev=True)[0], x)
    assert log_det.abs().max() == 0

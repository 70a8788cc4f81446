import copy
import math

import pytest
import torch
from torch import Tensor

from stegnet.layers.invertible import (
    ChannelPermutation,
    ConditionalAffineCoupling,
    HidingCoupling,
    InvertibleModule,
    InvertibleSequence,
    SubNet,
    soft_clamp,
    subnet_precision,
)
from stegnet.layers.wavelet import haar_dwt
from stegnet.models.hinet import HideNet, HideNetConfig
from stegnet.synthetic import synthetic_photo
from stegnet.zoo import list_models, load


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


# --- one calling convention: forward(x, c=None, rev=False, jac=True) -> (y, log_det) -------


def _modules() -> dict[str, tuple[InvertibleModule, tuple[int, ...], int | None]]:
    """name -> (randomised module in float64, input shape, condition channels or None)."""
    hiding_stack = InvertibleSequence(HidingCoupling(6, hidden=8) for _ in range(3))
    colour_stack = InvertibleSequence(
        [ConditionalAffineCoupling(6, cond_channels=4, hidden=8), ChannelPermutation(6, 0),
         ConditionalAffineCoupling(6, cond_channels=4, hidden=8), ChannelPermutation(6, 1)]
    )
    modules = {
        "hiding": (HidingCoupling(6, hidden=8), (2, 12, 5, 4), None),
        "conditional": (ConditionalAffineCoupling(5, cond_channels=4, hidden=8), (2, 5, 5, 4), 4),
        "permutation": (ChannelPermutation(6, seed=2), (2, 6, 5, 4), None),
        "hiding-sequence": (hiding_stack, (2, 12, 5, 4), None),
        "conditional-sequence": (colour_stack, (2, 6, 5, 4), 4),
        "hidenet": (HideNet(HideNetConfig(blocks=2, hidden=8)), (2, 24, 4, 4), None),
    }
    for module, _, _ in modules.values():
        module.double()
        _randomise(module, 0.1)
    return modules


MODULES = list(_modules())


def _inputs(shape: tuple[int, ...], cond_channels: int | None) -> tuple[Tensor, Tensor | None]:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(shape, generator=generator, dtype=torch.float64)
    if cond_channels is None:
        return x, None
    batch, _, height, width = shape
    return x, torch.randn(batch, cond_channels, height, width, generator=generator,
                          dtype=torch.float64)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_is_invertible_with_opposite_log_det(name: str) -> None:
    module, shape, cond_channels = _modules()[name]
    x, c = _inputs(shape, cond_channels)
    y, log_det = module(x, c=c)
    back, inverse_log_det = module(y, c=c, rev=True)
    assert y.shape == x.shape and log_det.shape == (shape[0],)
    assert inverse_log_det.shape == (shape[0],)
    assert (back - x).abs().max() < 1e-5
    assert torch.allclose(inverse_log_det, -log_det)
    assert (y - x).abs().max() > 1e-3  # it does something
    # rev first, then forward, is the identity too
    again, _ = module(module(x, c=c, rev=True)[0], c=c)
    assert (again - x).abs().max() < 1e-5


@pytest.mark.parametrize("name", MODULES)
def test_jac_false_gives_the_same_output_and_zero_log_det(name: str) -> None:
    module, shape, cond_channels = _modules()[name]
    x, c = _inputs(shape, cond_channels)
    for rev in (False, True):
        y, _ = module(x, c=c, rev=rev)
        y_nojac, log_det = module(x, c=c, rev=rev, jac=False)
        assert torch.equal(y, y_nojac)
        assert log_det.shape == (shape[0],) and log_det.abs().max() == 0


def test_sequence_log_det_is_the_sum_and_rev_runs_backwards() -> None:
    module, shape, cond_channels = _modules()["conditional-sequence"]
    x, c = _inputs(shape, cond_channels)
    y, total = x, torch.zeros(shape[0], dtype=torch.float64)
    for layer in module:
        y, step = layer(y, c=c)
        total = total + step
    out, log_det = module(x, c=c)
    assert torch.equal(out, y) and torch.allclose(log_det, total)
    back = out
    for layer in reversed(module):
        back, _ = layer(back, c=c, rev=True)
    assert torch.equal(module(out, c=c, rev=True)[0], back)


def test_sequence_log_det_is_exact() -> None:
    module = InvertibleSequence(
        [ConditionalAffineCoupling(4, cond_channels=2, hidden=4), ChannelPermutation(4, 0),
         ConditionalAffineCoupling(4, cond_channels=2, hidden=4)]
    ).double()
    _randomise(module)
    x, c = _inputs((1, 4, 2, 2), 2)
    jacobian = torch.autograd.functional.jacobian(lambda v: module(v, c=c)[0], x)
    jacobian = jacobian.reshape(x.numel(), x.numel())
    expected = torch.slogdet(jacobian).logabsdet.item()
    assert math.isclose(expected, module(x, c=c)[1].item(), rel_tol=1e-6, abs_tol=1e-6)


@pytest.mark.parametrize("name", ["conditional", "conditional-sequence"])
def test_conditional_module_without_condition_raises(name: str) -> None:
    module, shape, _ = _modules()[name]
    x = torch.randn(shape, dtype=torch.float64)
    for rev in (False, True):
        with pytest.raises(ValueError, match="conditional"):
            module(x, rev=rev)


def test_conditional_module_rejects_a_mismatched_condition() -> None:
    module = ConditionalAffineCoupling(6, cond_channels=4, hidden=8)
    x = torch.randn(2, 6, 4, 4)
    for bad in (torch.randn(2, 3, 4, 4), torch.randn(1, 4, 4, 4), torch.randn(2, 4, 2, 2)):
        with pytest.raises(ValueError, match="expected"):
            module(x, c=bad)


def test_unconditional_modules_ignore_the_condition() -> None:
    for name in ("hiding", "permutation", "hiding-sequence"):
        module, shape, _ = _modules()[name]
        x, _ = _inputs(shape, None)
        c = torch.randn(shape[0], 3, *shape[2:], dtype=torch.float64)
        assert torch.equal(module(x, c=c)[0], module(x)[0])


def test_sequence_accepts_only_invertible_modules_and_keeps_module_list_keys() -> None:
    with pytest.raises(TypeError, match="InvertibleModule"):
        InvertibleSequence([HidingCoupling(2, hidden=2), torch.nn.Conv2d(4, 4, 1)])
    stack = InvertibleSequence([HidingCoupling(2, hidden=2), ChannelPermutation(4, 0)])
    plain = torch.nn.ModuleList([HidingCoupling(2, hidden=2), ChannelPermutation(4, 0)])
    assert isinstance(stack, torch.nn.ModuleList) and isinstance(stack, InvertibleModule)
    assert list(stack.state_dict()) == list(plain.state_dict())
    assert list(stack.state_dict())[0].startswith("0.phi.")
    assert not stack.conditional
    assert InvertibleSequence([ConditionalAffineCoupling(4, 2, 2)]).conditional


# --- the shipped models --------------------------------------------------------------------


@pytest.mark.parametrize("name", [None, *(m.name for m in list_models("hide"))])
def test_shipped_hide_model_couplings_round_trip(name: str | None) -> None:
    net = load("hide", name).module
    assert isinstance(net.blocks, InvertibleSequence)

    def photo_bands(seed: int) -> Tensor:
        image = torch.from_numpy(synthetic_photo(32, 32, seed)).permute(2, 0, 1)[None]
        return haar_dwt(image.float() / 255.0)

    generator = torch.Generator().manual_seed(0)
    # float32 features in the range the model sees: wavelet bands of photos, uniform [0, 1)
    for features in (torch.cat([photo_bands(1), photo_bands(2)], dim=1),
                     torch.rand(2, 24, 16, 16, generator=generator)):
        with torch.no_grad():
            y, log_det = net(features)
            back, inverse_log_det = net(y, rev=True)
        assert (back - features).abs().max() < 1e-4
        assert torch.equal(back, net.blocks(y, rev=True)[0])
        assert torch.allclose(log_det, -inverse_log_det, rtol=1e-4, atol=1e-2)
    # any real input (standard normal) in float64
    features = torch.randn(2, 24, 16, 16, generator=generator, dtype=torch.float64)
    net64 = copy.deepcopy(net).double()
    with torch.no_grad():
        back, _ = net64(net64(features)[0], rev=True)
    assert (back - features).abs().max() < 1e-8


def test_shipped_bits_model_analyse_then_synthesise_gives_the_image_back() -> None:
    flow = load("flow").module
    assert isinstance(flow.layers, InvertibleSequence)
    image = torch.from_numpy(synthetic_photo(32, 48, seed=4)).permute(2, 0, 1)[None].float()
    image = image / 255.0
    with torch.no_grad():
        z = flow.analyse(image)
        again = flow.synthesise(image, z)
    assert z.shape == (1, 6, 16, 24)
    assert (again - image).abs().max() < 1.0 / 255.0


def test_subnet_precision_changes_only_the_subnets_and_only_inside_the_block() -> None:
    torch.manual_seed(0)
    net = SubNet(12, 24, hidden=32, depth=3)
    torch.nn.init.normal_(net.body[-1].weight, std=0.05)  # not the zero initialisation
    x = torch.randn(2, 12, 16, 16)
    exact = net(x)
    with subnet_precision(torch.bfloat16):
        low = net(x)
        assert low.dtype == torch.float32  # comes back in the input's dtype
    assert torch.equal(net(x), exact)  # the block is left behind
    error = (low - exact).abs().max() / exact.abs().max()
    assert 0 < error < 2e-2  # bfloat16 really ran, with its ~3 significant digits
    with subnet_precision(torch.float32):
        assert torch.equal(net(x), exact)

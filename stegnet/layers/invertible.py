"""Invertible building blocks with one FrEIA-like calling convention.

Every block is an :class:`InvertibleModule` and is called the same way::

    y, log_det = module(x, c=None, rev=False, jac=True)

* ``x`` -- the input, ``(B, C, h, w)``;
* ``c`` -- the condition ``(B, K, h, w)`` (same batch and spatial size as ``x``) or
  ``None``. Unconditional modules ignore it; conditional ones raise ``ValueError``
  when it is missing;
* ``rev`` -- ``False`` runs the forward map ``y = f(x; c)``, ``True`` the inverse
  ``x = f^-1(y; c)`` (then the argument ``x`` is the ``y`` of the forward map);
* ``jac`` -- whether to compute the log-determinant. With ``jac=False`` the second
  output is zeros (the output tensor is unchanged).

It returns ``(output, log_det)`` where ``output`` has the shape of ``x`` and
``log_det`` has shape ``(B,)``: the log |det| of the Jacobian of the direction that
was run (for ``rev=True`` the log-det of the inverse, i.e. the negative of the
forward one at the corresponding point).

:class:`InvertibleSequence` chains such modules with the same signature (reversed
order for ``rev=True``, condition passed to each, log-dets summed), so a whole
network is itself an :class:`InvertibleModule`. It is an ``nn.ModuleList``, so its
state-dict keys are ``<name>.<index>.<param>`` exactly as a plain module list's.

Soft clamping: every affine scale ``s`` is bounded with
``s -> (2 * clamp / pi) * atan(s / clamp)`` (:func:`soft_clamp`), so ``exp(s)`` stays
within ``(exp(-clamp), exp(clamp))`` and training is stable. The last convolution of
every subnet is zero-initialised so each coupling starts as the identity.

Working precision: inside ``with subnet_precision(torch.bfloat16):`` every
:class:`SubNet` runs its convolutions in bfloat16 and returns float32, while the coupling
arithmetic (sums, ``exp``, the clamp) stays in the input's precision, so the map is still
inverted exactly up to the subnets' own rounding. Nothing changes outside such a block.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch
from torch import Tensor, nn

_SUBNET_DTYPE: ContextVar[torch.dtype | None] = ContextVar("subnet_dtype", default=None)


@contextmanager
def subnet_precision(dtype: torch.dtype | None) -> Iterator[None]:
    """Run every :class:`SubNet` called in this block in ``dtype`` (e.g. ``torch.bfloat16``;
    ``None`` or the input's own dtype: unchanged). Subnet outputs come back in the input's
    dtype."""
    token = _SUBNET_DTYPE.set(dtype)
    try:
        yield
    finally:
        _SUBNET_DTYPE.reset(token)


def soft_clamp(scale: Tensor, clamp: float) -> Tensor:
    """Smoothly bound ``scale`` to ``(-clamp, clamp)``; linear with slope 2/pi near 0."""
    return (2.0 * clamp / math.pi) * torch.atan(scale / clamp)


def _sum_per_sample(values: Tensor) -> Tensor:
    """(B, ...) -> (B,): the sum over everything but the batch dimension."""
    return values.flatten(1).sum(1)


class SubNet(nn.Module):
    """Small CNN used inside couplings: conv3x3 -> LeakyReLU -> ... -> conv3x3.

    ``(B, in_channels, h, w) -> (B, out_channels, h, w)`` (``depth`` convolutions,
    ``hidden`` channels in between); the last layer is zero-initialised so the subnet
    outputs 0 at initialisation. Not invertible itself.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden: int, depth: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for _ in range(depth - 1):
            layers += [nn.Conv2d(channels, hidden, 3, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            channels = hidden
        last = nn.Conv2d(channels, out_channels, 3, padding=1)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        layers.append(last)
        self.body = nn.Sequential(*layers)

    def forward(self, features: Tensor) -> Tensor:
        dtype = _SUBNET_DTYPE.get()
        if dtype is None or dtype == features.dtype:
            return self.body(features)
        with torch.autocast(features.device.type, dtype=dtype):
            return self.body(features).to(features.dtype)


class InvertibleModule(nn.Module):
    """Base class of the invertible blocks: ``forward(x, c=None, rev=False, jac=True)``.

    Returns ``(y, log_det)`` with ``y`` shaped like ``x`` and ``log_det`` of shape
    ``(B,)`` (see the module docstring for the full contract). Subclasses that need a
    condition set ``conditional = True`` and call :meth:`_require_condition`.
    """

    conditional: bool = False

    def forward(
        self, x: Tensor, c: Tensor | None = None, rev: bool = False, jac: bool = True
    ) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _require_condition(self, x: Tensor, c: Tensor | None, channels: int) -> Tensor:
        """Check the condition ``c`` (B, channels, h, w) against ``x`` (B, *, h, w)."""
        name = type(self).__name__
        if c is None:
            raise ValueError(
                f"{name} is conditional: pass the condition c of shape "
                f"(B, {channels}, h, w), e.g. module(x, c=cond)"
            )
        expected = (x.shape[0], channels, *x.shape[2:])
        if c.dim() != 4 or tuple(c.shape) != expected:
            raise ValueError(
                f"{name}: condition c has shape {tuple(c.shape)}, expected {expected} "
                f"for x of shape {tuple(x.shape)}"
            )
        return c


class HidingCoupling(InvertibleModule):
    """HiNet's affine coupling over a (cover branch, secret branch) pair. Unconditional.

    Input ``x`` is ``(B, 2C, h, w)``: channels ``[:C]`` are the cover branch ``x1``,
    channels ``[C:]`` the secret branch ``x2``; output ``y = [y1, y2]`` has the same
    shape. In HideNet ``C = 12`` and both branches are Haar bands of images in
    ``[0, 1]`` (LL in ``[0, 2]``, detail bands in ``[-1, 1]``); the map itself is
    defined for any real input. ``c`` is ignored.

    Forward (``rev=False``)::

        y1 = x1 + phi(x2)
        s  = clamp(rho(y1))
        y2 = x2 * exp(s) + eta(y1)

    Reverse (``rev=True``, input ``[y1, y2]``)::

        s  = clamp(rho(y1))
        x2 = (y2 - eta(y1)) * exp(-s)
        x1 = y1 - phi(x2)

    ``phi`` is a :class:`SubNet` ``C -> C``; ``rho`` and ``eta`` share one subnet
    ``C -> 2C`` (``rho_eta``; first half of its output is ``rho``, second ``eta``).
    ``clamp(.)`` is :func:`soft_clamp` with bound ``clamp``, so every scale
    ``exp(s)`` lies in ``(exp(-clamp), exp(clamp))``.

    log-det: ``sum(s)`` over channels and pixels (forward), ``-sum(s)`` (reverse).

    Args:
        channels: ``C``, channels per branch (the input has ``2C``).
        hidden: width of the subnets.
        depth: convolutions per subnet.
        clamp: soft-clamp bound of the scale ``s``.
    """

    def __init__(self, channels: int, hidden: int, depth: int = 3, clamp: float = 2.0) -> None:
        super().__init__()
        self.channels = channels
        self.clamp = clamp
        self.phi = SubNet(channels, channels, hidden, depth)
        self.rho_eta = SubNet(channels, 2 * channels, hidden, depth)

    def _scale_shift(self, y1: Tensor) -> tuple[Tensor, Tensor]:
        rho, eta = torch.chunk(self.rho_eta(y1), 2, dim=1)
        return soft_clamp(rho, self.clamp), eta

    def forward(
        self, x: Tensor, c: Tensor | None = None, rev: bool = False, jac: bool = True
    ) -> tuple[Tensor, Tensor]:
        """``x`` (B, 2C, h, w) -> ``(y (B, 2C, h, w), log_det (B,))``; ``c`` is ignored."""
        first, second = x[:, : self.channels], x[:, self.channels :]
        if not rev:
            y1 = first + self.phi(second)
            scale, shift = self._scale_shift(y1)
            y2 = second * torch.exp(scale) + shift
            out, log_det = torch.cat([y1, y2], dim=1), _sum_per_sample(scale)
        else:
            scale, shift = self._scale_shift(first)
            x2 = (second - shift) * torch.exp(-scale)
            x1 = first - self.phi(x2)
            out, log_det = torch.cat([x1, x2], dim=1), -_sum_per_sample(scale)
        return out, log_det if jac else x.new_zeros(x.shape[0])


class ConditionalAffineCoupling(InvertibleModule):
    """GLOW-style double affine coupling with a condition (FrEIA ``GLOWCouplingBlock``).

    ``x`` is ``(B, C, h, w)``, split into ``xa = x[:, :Ca]`` and ``xb = x[:, Ca:]``
    with ``Ca = C // 2``; the condition ``c`` (B, K, h, w) is required and is
    concatenated to each subnet's input. Output ``[ya, yb]`` has the shape of ``x``.
    In ColourFlow ``C = 6`` (colour detail, roughly ``[-1, 1]``, or the latent ``z``,
    roughly standard normal) and ``c`` are CondNet features; the map is defined for
    any real input.

    Forward (``rev=False``)::

        s1, t1 = clamp(s_b([xa, c])), t_b([xa, c])
        yb = xb * exp(s1) + t1
        s2, t2 = clamp(s_a([yb, c])), t_a([yb, c])
        ya = xa * exp(s2) + t2

    Reverse (``rev=True``, input ``[ya, yb]``)::

        s2, t2 = clamp(s_a([yb, c])), t_a([yb, c])
        xa = (ya - t2) * exp(-s2)
        s1, t1 = clamp(s_b([xa, c])), t_b([xa, c])
        xb = (yb - t1) * exp(-s1)

    ``net_b`` computes ``[s_b, t_b]`` (``Ca + K -> 2 (C - Ca)``) and ``net_a``
    computes ``[s_a, t_a]`` (``C - Ca + K -> 2 Ca``), both :class:`SubNet`;
    ``clamp(.)`` is :func:`soft_clamp`, so every scale lies in
    ``(exp(-clamp), exp(clamp))``.

    log-det: ``sum(s1) + sum(s2)`` (forward), its negative (reverse).

    Args:
        channels: ``C``, channels of ``x``.
        cond_channels: ``K``, channels of the condition ``c``.
        hidden: width of the subnets.
        depth: convolutions per subnet.
        clamp: soft-clamp bound of the scales.
    """

    conditional = True

    def __init__(
        self, channels: int, cond_channels: int, hidden: int, depth: int = 3, clamp: float = 2.0
    ) -> None:
        super().__init__()
        self.split = channels // 2
        rest = channels - self.split
        self.cond_channels = cond_channels
        self.clamp = clamp
        self.net_b = SubNet(self.split + cond_channels, 2 * rest, hidden, depth)
        self.net_a = SubNet(rest + cond_channels, 2 * self.split, hidden, depth)

    def _affine(self, net: SubNet, given: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        scale, shift = torch.chunk(net(torch.cat([given, c], dim=1)), 2, dim=1)
        return soft_clamp(scale, self.clamp), shift

    def forward(
        self, x: Tensor, c: Tensor | None = None, rev: bool = False, jac: bool = True
    ) -> tuple[Tensor, Tensor]:
        """``x`` (B, C, h, w), ``c`` (B, K, h, w) -> ``(y (B, C, h, w), log_det (B,))``.

        Raises ``ValueError`` if ``c`` is None or does not match ``x``.
        """
        c = self._require_condition(x, c, self.cond_channels)
        xa, xb = x[:, : self.split], x[:, self.split :]
        if not rev:
            s1, t1 = self._affine(self.net_b, xa, c)
            yb = xb * torch.exp(s1) + t1
            s2, t2 = self._affine(self.net_a, yb, c)
            ya = xa * torch.exp(s2) + t2
            out, log_det = torch.cat([ya, yb], dim=1), _sum_per_sample(s1) + _sum_per_sample(s2)
        else:
            ya, yb = xa, xb
            s2, t2 = self._affine(self.net_a, yb, c)
            xa = (ya - t2) * torch.exp(-s2)
            s1, t1 = self._affine(self.net_b, xa, c)
            xb = (yb - t1) * torch.exp(-s1)
            out = torch.cat([xa, xb], dim=1)
            log_det = -(_sum_per_sample(s1) + _sum_per_sample(s2))
        return out, log_det if jac else x.new_zeros(x.shape[0])


class ChannelPermutation(InvertibleModule):
    """Fixed, seeded permutation of the channels. Unconditional; volume preserving.

    ``x`` (B, C, h, w), any values -> ``y = x[:, perm]`` (B, C, h, w); reverse
    ``x = y[:, argsort(perm)]``. ``perm = randperm(C)`` from a CPU generator seeded
    with ``seed`` (a non-persistent buffer: not in the state dict, rebuilt from the
    seed). ``c`` is ignored; log-det is 0.

    Args:
        channels: ``C``.
        seed: seed of the permutation.
    """

    def __init__(self, channels: int, seed: int) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        perm = torch.randperm(channels, generator=generator)
        self.register_buffer("perm", perm, persistent=False)
        self.register_buffer("inverse", torch.argsort(perm), persistent=False)

    def forward(
        self, x: Tensor, c: Tensor | None = None, rev: bool = False, jac: bool = True
    ) -> tuple[Tensor, Tensor]:
        """``x`` (B, C, h, w) -> ``(x[:, perm] (B, C, h, w), zeros (B,))``."""
        index = self.inverse if rev else self.perm
        return x[:, index], x.new_zeros(x.shape[0])


class InvertibleSequence(nn.ModuleList, InvertibleModule):
    """A chain of :class:`InvertibleModule` s, itself invertible (FrEIA ``SequenceINN``).

    ``forward(x, c, rev=False)`` runs ``f_n(... f_2(f_1(x; c); c) ...; c)``;
    ``rev=True`` runs the inverses in the opposite order,
    ``f_1^-1(... f_n^-1(y; c) ...; c)``. The same condition ``c`` (or None) is passed
    to every module (unconditional ones ignore it, conditional ones require it), and
    the returned log-det ``(B,)`` is the sum of the modules' log-dets (zeros when
    ``jac=False``). Shapes are those of the modules (each maps ``(B, C, h, w)`` to the
    same shape, so the sequence does too).

    It is an ``nn.ModuleList`` on purpose: the parameters of module ``i`` are stored
    under ``<attribute>.<i>.<param>`` exactly as with a plain ``nn.ModuleList``, so
    weight files saved before this class existed load unchanged.

    Args:
        modules: the invertible modules, in forward order (``TypeError`` if one is
            not an :class:`InvertibleModule`).
    """

    def __init__(self, modules: Iterable[nn.Module] | None = None) -> None:
        modules = list(modules) if modules is not None else []
        for index, module in enumerate(modules):
            if not isinstance(module, InvertibleModule):
                raise TypeError(
                    f"InvertibleSequence item {index} is a {type(module).__name__}, "
                    f"not an InvertibleModule"
                )
        super().__init__(modules)

    @property
    def conditional(self) -> bool:  # type: ignore[override]
        """Whether any module needs the condition ``c``."""
        return any(getattr(module, "conditional", False) for module in self)

    def forward(
        self, x: Tensor, c: Tensor | None = None, rev: bool = False, jac: bool = True
    ) -> tuple[Tensor, Tensor]:
        """``x`` (B, C, h, w), ``c`` (B, K, h, w) or None -> ``(y, log_det (B,))``."""
        log_det = x.new_zeros(x.shape[0])
        modules = reversed(self) if rev else iter(self)
        for module in modules:
            x, step_log_det = module(x, c=c, rev=rev, jac=jac)
            if jac:
                log_det = log_det + step_log_det
        return x, log_det

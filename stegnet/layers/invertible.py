"""Invertible building blocks (FrEIA-style).

Every block is an :class:`InvertibleModule` whose ``forward(x, rev=False)``
returns ``(output, log_det)`` where ``log_det`` has shape ``(B,)`` and is the
log-determinant of the Jacobian of the direction that was run (for ``rev=True``
it is the log-det of the inverse, i.e. the negative of the forward one).

Scales are soft-clamped, ``s -> (2 * clamp / pi) * atan(s / clamp)``, so that
``exp(s)`` stays within ``[exp(-clamp), exp(clamp)]`` and training is stable.
The last convolution of every subnet is zero-initialised so each block starts
as the identity.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def soft_clamp(scale: Tensor, clamp: float) -> Tensor:
    """Smoothly bound ``scale`` to ``(-clamp, clamp)``; linear with slope 2/pi near 0."""
    return (2.0 * clamp / math.pi) * torch.atan(scale / clamp)


class SubNet(nn.Module):
    """Small CNN used inside couplings: conv3x3 -> LeakyReLU -> ... -> conv3x3.

    ``(B, in_channels, h, w) -> (B, out_channels, h, w)``; the last layer is
    zero-initialised so the subnet outputs 0 at initialisation.
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
        return self.body(features)


class InvertibleModule(nn.Module):
    """Base class: ``forward(x, rev=False) -> (y, log_det)``."""

    def forward(self, x: Tensor, rev: bool = False) -> tuple[Tensor, Tensor]:  # pragma: no cover
        raise NotImplementedError


class HidingCoupling(InvertibleModule):
    """HiNet's coupling over a (cover branch, secret branch) pair.

    Input ``x`` is ``(B, 2C, h, w)``: channels ``[:C]`` are the cover branch
    ``x1`` (wavelet bands of the cover), ``[C:]`` the secret branch ``x2``.

    Forward::

        y1 = x1 + phi(x2)
        y2 = x2 * exp(clamp(rho(y1))) + eta(y1)

    Reverse::

        x2 = (y2 - eta(y1)) * exp(-clamp(rho(y1)))
        x1 = y1 - phi(x2)

    ``phi`` is one :class:`SubNet`; ``rho`` and ``eta`` share one subnet with
    ``2C`` outputs. log-det = sum of the clamped scales.
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

    def forward(self, x: Tensor, rev: bool = False) -> tuple[Tensor, Tensor]:
        first, second = x[:, : self.channels], x[:, self.channels :]
        if not rev:
            y1 = first + self.phi(second)
            scale, shift = self._scale_shift(y1)
            y2 = second * torch.exp(scale) + shift
            return torch.cat([y1, y2], dim=1), scale.flatten(1).sum(1)
        scale, shift = self._scale_shift(first)
        x2 = (second - shift) * torch.exp(-scale)
        x1 = first - self.phi(x2)
        return torch.cat([x1, x2], dim=1), -scale.flatten(1).sum(1)


class ConditionalAffineCoupling(InvertibleModule):
    """GLOW-style double affine coupling with a condition (RealNVP / FrEIA GLOWCouplingBlock).

    ``x`` is ``(B, C, h, w)`` split into ``xa = x[:, :Ca]`` and ``xb = x[:, Ca:]``
    (``Ca = C // 2``); ``cond`` is ``(B, K, h, w)`` and is concatenated to each
    subnet's input. Forward::

        yb = xb * exp(clamp(s1([xa, cond]))) + t1([xa, cond])
        ya = xa * exp(clamp(s2([yb, cond]))) + t2([yb, cond])

    Reverse undoes the two steps in the opposite order. log-det is the sum of
    both clamped scales.
    """

    def __init__(
        self, channels: int, cond_channels: int, hidden: int, depth: int = 3, clamp: float = 2.0
    ) -> None:
        super().__init__()
        self.split = channels // 2
        rest = channels - self.split
        self.clamp = clamp
        self.net_b = SubNet(self.split + cond_channels, 2 * rest, hidden, depth)
        self.net_a = SubNet(rest + cond_channels, 2 * self.split, hidden, depth)

    def _affine(self, net: SubNet, given: Tensor, cond: Tensor) -> tuple[Tensor, Tensor]:
        scale, shift = torch.chunk(net(torch.cat([given, cond], dim=1)), 2, dim=1)
        return soft_clamp(scale, self.clamp), shift

    def forward(self, x: Tensor, cond: Tensor, rev: bool = False) -> tuple[Tensor, Tensor]:
        xa, xb = x[:, : self.split], x[:, self.split :]
        if not rev:
            s1, t1 = self._affine(self.net_b, xa, cond)
            yb = xb * torch.exp(s1) + t1
            s2, t2 = self._affine(self.net_a, yb, cond)
            ya = xa * torch.exp(s2) + t2
            log_det = s1.flatten(1).sum(1) + s2.flatten(1).sum(1)
            return torch.cat([ya, yb], dim=1), log_det
        ya, yb = xa, xb
        s2, t2 = self._affine(self.net_a, yb, cond)
        xa = (ya - t2) * torch.exp(-s2)
        s1, t1 = self._affine(self.net_b, xa, cond)
        xb = (yb - t1) * torch.exp(-s1)
        log_det = -(s1.flatten(1).sum(1) + s2.flatten(1).sum(1))
        return torch.cat([xa, xb], dim=1), log_det


class ChannelPermutation(InvertibleModule):
    """Fixed (seeded) permutation of channels; log-det 0. ``(B, C, h, w)``."""

    def __init__(self, channels: int, seed: int) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        perm = torch.randperm(channels, generator=generator)
        self.register_buffer("perm", perm, persistent=False)
        self.register_buffer("inverse", torch.argsort(perm), persistent=False)

    def forward(self, x: Tensor, rev: bool = False) -> tuple[Tensor, Tensor]:
        index = self.inverse if rev else self.perm
        return x[:, index], x.new_zeros(x.shape[0])

"""HiNet-16, the architecture of HiNet (Jing et al., ICCV 2021), as a speed reference only.

Untrained: it exists so that ``stegnet bench`` can time our hiding network against the
published architecture on the same machine in the same run. Shapes as in
:mod:`stegnet.models.hinet`::

    cover, secret (B, 3, H, W) --Haar DWT--> x1, x2 (B, 12, H/2, W/2)
    16 x  x1 <- x1 + phi(x2)
          x2 <- x2 * exp(clamp * (2 * sigmoid(rho(x1)) - 1)) + eta(x1)
    stego = IDWT(x1); r = x2 (dropped); reveal runs the blocks backwards from (stego, r)

Each of ``phi``, ``rho``, ``eta`` is a 5-convolution dense block (3x3 convs, growth 32,
LeakyReLU, every conv sees the input and all earlier outputs; 12 -> 12 channels), about
84 k parameters; 16 blocks x 3 subnets = about 4.05 M parameters.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from stegnet.layers.wavelet import haar_dwt, haar_idwt

BANDS = 12


class DenseBlock(nn.Module):
    """Five 3x3 convolutions with dense connections: (B, c, h, w) -> (B, c, h, w)."""

    def __init__(self, channels: int = BANDS, growth: int = 32) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(channels + i * growth, growth if i < 4 else channels, 3, padding=1)
            for i in range(5))
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        features = [x]
        for conv in self.convs[:-1]:
            features.append(self.act(conv(torch.cat(features, dim=1))))
        return self.convs[-1](torch.cat(features, dim=1))


class Coupling(nn.Module):
    """One HiNet invertible block on (x1, x2), both (B, 12, h, w)."""

    def __init__(self, clamp: float = 2.0) -> None:
        super().__init__()
        self.phi, self.rho, self.eta = DenseBlock(), DenseBlock(), DenseBlock()
        self.clamp = clamp

    def _scale(self, y1: Tensor) -> Tensor:
        return torch.exp(self.clamp * (2 * torch.sigmoid(self.rho(y1)) - 1))

    def forward(self, x1: Tensor, x2: Tensor, rev: bool = False) -> tuple[Tensor, Tensor]:
        if not rev:
            y1 = x1 + self.phi(x2)
            return y1, x2 * self._scale(y1) + self.eta(y1)
        x2 = (x2 - self.eta(x1)) / self._scale(x1)
        return x1 - self.phi(x2), x2


class HiNet16(nn.Module):
    """16 HiNet blocks over Haar bands: :meth:`hide` and :meth:`reveal`."""

    def __init__(self, blocks: int = 16) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(Coupling() for _ in range(blocks))

    def hide(self, cover: Tensor, secret: Tensor) -> tuple[Tensor, Tensor]:
        """cover, secret (B, 3, H, W) -> (stego (B, 3, H, W), r (B, 12, H/2, W/2))."""
        x1, x2 = haar_dwt(cover), haar_dwt(secret)
        for block in self.blocks:
            x1, x2 = block(x1, x2)
        return haar_idwt(x1), x2

    def reveal(self, stego: Tensor, r: Tensor) -> tuple[Tensor, Tensor]:
        """stego (B, 3, H, W), r (B, 12, H/2, W/2) -> (cover, secret), both (B, 3, H, W)."""
        x1, x2 = haar_dwt(stego), r
        for block in reversed(self.blocks):
            x1, x2 = block(x1, x2, rev=True)
        return haar_idwt(x1), haar_idwt(x2)


def parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())

"""HiNet-style invertible hiding network.

Pipeline for a cover and a secret image, both ``(B, 3, H, W)`` in ``[0, 1]``
with even ``H`` and ``W``::

    cover  --DWT--> c (B, 12, H/2, W/2) \
                                         [c, s] --K x HidingCoupling--> [y1, r]
    secret --DWT--> s (B, 12, H/2, W/2) /

    stego = IDWT(y1)             (B, 3, H, W), ~cover, later rounded to 8 bits
    r     = lost information     (B, 12, H/2, W/2), dropped

Reveal runs the blocks backwards from ``[DWT(stego), r_hat]`` where ``r_hat``
is the fixed latent (zeros by default; ``"gaussian"`` draws a seeded N(0, 1)),
and returns ``IDWT`` of the secret branch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from stegnet.layers.invertible import HidingCoupling
from stegnet.layers.wavelet import haar_dwt, haar_idwt
from stegnet.models.registry import register_model


@dataclass(frozen=True)
class HideNetConfig:
    """Architecture hyper-parameters (stored in the weight file's metadata)."""

    blocks: int = 8
    hidden: int = 32
    depth: int = 3
    clamp: float = 2.0
    refine: int = 0  # width of the optional reveal refinement CNN (0: none)

    def to_dict(self) -> dict:
        return asdict(self)


@register_model("hinet", HideNetConfig, task="hide")
class HideNet(nn.Module):
    """Invertible image-in-image hiding network (see module docstring)."""

    def __init__(self, config: HideNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or HideNetConfig()
        cfg = self.config
        self.blocks = nn.ModuleList(
            HidingCoupling(12, cfg.hidden, cfg.depth, cfg.clamp) for _ in range(cfg.blocks)
        )
        self.refiner = RevealRefiner(cfg.refine) if cfg.refine else None

    def forward(self, x: Tensor, rev: bool = False) -> tuple[Tensor, Tensor]:
        """Run the coupling stack on wavelet features ``(B, 24, h, w)``; returns (y, log_det)."""
        log_det = x.new_zeros(x.shape[0])
        blocks = reversed(self.blocks) if rev else self.blocks
        for block in blocks:
            x, block_log_det = block(x, rev=rev)
            log_det = log_det + block_log_det
        return x, log_det

    def hide(self, cover: Tensor, secret: Tensor) -> tuple[Tensor, Tensor]:
        """cover, secret (B, 3, H, W) in [0, 1] -> (stego (B, 3, H, W) float, r (B, 12, H/2, W/2)).

        The stego is not clamped or rounded here; callers quantise it to 8 bits.
        """
        features = torch.cat([haar_dwt(cover), haar_dwt(secret)], dim=1)
        out, _ = self.forward(features)
        return haar_idwt(out[:, :12]), out[:, 12:]

    def reveal(self, stego: Tensor, latent: str = "zeros", seed: int = 0,
               refine: bool = True) -> Tensor:
        """stego (B, 3, H, W) in [0, 1] -> recovered secret (B, 3, H, W) (unclamped).

        With a refiner (``config.refine > 0``) and ``refine=True`` the invertible
        reveal is followed by the residual refinement CNN.
        """
        revealed = self.reveal_invertible(stego, latent, seed)
        if refine and self.refiner is not None:
            revealed = self.refiner(revealed, stego)
        return revealed

    def reveal_invertible(self, stego: Tensor, latent: str = "zeros", seed: int = 0) -> Tensor:
        """The blocks run backwards from ``[DWT(stego), r_hat]``; secret branch -> IDWT."""
        stego_bands = haar_dwt(stego)
        if latent == "zeros":
            lost = torch.zeros_like(stego_bands)
        elif latent == "gaussian":
            generator = torch.Generator(device="cpu").manual_seed(seed)
            lost = torch.randn(stego_bands.shape, generator=generator).to(stego_bands)
        else:
            raise ValueError(f"unknown latent {latent!r}: use 'zeros' or 'gaussian'")
        out, _ = self.forward(torch.cat([stego_bands, lost], dim=1), rev=True)
        return haar_idwt(out[:, 12:])


class RevealRefiner(nn.Module):
    """Residual CNN after the invertible reveal (not invertible; optional).

    ``refined = revealed + body([revealed, stego])`` with revealed and stego
    (B, 3, H, W); five 3x3 convolutions (dilations 1, 2, 4, 1) of ``width``
    channels, last one zero-initialised so the refiner starts as the identity.
    """

    def __init__(self, width: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(6, width, 3, padding=1), nn.LeakyReLU(0.2, True)]
        for dilation in (2, 4, 1):
            layers += [nn.Conv2d(width, width, 3, padding=dilation, dilation=dilation),
                       nn.LeakyReLU(0.2, True)]
        last = nn.Conv2d(width, 3, 3, padding=1)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.body = nn.Sequential(*layers, last)

    def forward(self, revealed: Tensor, stego: Tensor) -> Tensor:
        return revealed + self.body(torch.cat([revealed, stego], dim=1))


def quantize_8bit(image: Tensor) -> Tensor:
    """Clamp to [0, 1] and round to the 8-bit grid (k / 255) with a straight-through gradient.

    Forward value equals what writing an 8-bit PNG and reading it back gives;
    the backward pass treats rounding as identity (clamping keeps its gradient mask).
    """
    clamped = image.clamp(0.0, 1.0)
    rounded = torch.round(clamped * 255.0) / 255.0
    return clamped + (rounded - clamped).detach()

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

The K couplings form one :class:`~stegnet.layers.invertible.InvertibleSequence`
(``HideNet.blocks``), so ``HideNet.forward(x, c=None, rev=False, jac=True)`` has the
same calling convention as every invertible layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from stegnet.layers.invertible import HidingCoupling, InvertibleSequence
from stegnet.layers.wavelet import haar_dwt, haar_idwt
from stegnet.models.registry import register_model

BANDS = 12  # Haar bands of one RGB image: 4 bands x 3 channels


@dataclass(frozen=True)
class HideNetConfig:
    """Architecture hyper-parameters (stored in the weight file's metadata)."""

    blocks: int = 8
    hidden: int = 32
    depth: int = 3
    clamp: float = 2.0

    def to_dict(self) -> dict:
        return asdict(self)


@register_model("hinet", HideNetConfig, task="hide")
class HideNet(nn.Module):
    """Invertible image-in-image hiding network (see module docstring).

    ``blocks`` is an :class:`InvertibleSequence` of ``config.blocks``
    :class:`HidingCoupling` s over 12 + 12 wavelet channels; the network itself
    follows the same calling convention, ``forward(x, c=None, rev=False, jac=True)``.
    """

    def __init__(self, config: HideNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or HideNetConfig()
        cfg = self.config
        self.blocks = InvertibleSequence(
            HidingCoupling(BANDS, cfg.hidden, cfg.depth, cfg.clamp) for _ in range(cfg.blocks)
        )

    def forward(
        self, x: Tensor, c: Tensor | None = None, rev: bool = False, jac: bool = True
    ) -> tuple[Tensor, Tensor]:
        """Run the coupling stack on wavelet features.

        ``x`` (B, 24, h, w) = ``[DWT(cover), DWT(secret)]`` (``rev=False``) or
        ``[DWT(stego), r]`` (``rev=True``) -> ``(y (B, 24, h, w), log_det (B,))``.
        ``c`` is unused (the couplings are unconditional).
        """
        return self.blocks(x, c=c, rev=rev, jac=jac)

    def hide(self, cover: Tensor, secret: Tensor) -> tuple[Tensor, Tensor]:
        """cover, secret (B, 3, H, W) in [0, 1] -> (stego (B, 3, H, W) float, r (B, 12, H/2, W/2)).

        The stego is not clamped or rounded here; callers quantise it to 8 bits.
        """
        features = torch.cat([haar_dwt(cover), haar_dwt(secret)], dim=1)
        out, _ = self.forward(features, jac=False)
        return haar_idwt(out[:, :BANDS]), out[:, BANDS:]

    def reveal(self, stego: Tensor, latent: str = "zeros", seed: int = 0) -> Tensor:
        """stego (B, 3, H, W) in [0, 1] -> recovered secret (B, 3, H, W) (unclamped).

        The blocks run backwards from ``[DWT(stego), r_hat]`` and the secret branch is
        returned through the inverse DWT. ``r_hat`` is zeros (``latent="zeros"``) or a
        seeded standard normal (``latent="gaussian"``, ``seed``).
        """
        stego_bands = haar_dwt(stego)
        if latent == "zeros":
            lost = torch.zeros_like(stego_bands)
        elif latent == "gaussian":
            generator = torch.Generator(device="cpu").manual_seed(seed)
            lost = torch.randn(stego_bands.shape, generator=generator).to(stego_bands)
        else:
            raise ValueError(f"unknown latent {latent!r}: use 'zeros' or 'gaussian'")
        out, _ = self.forward(torch.cat([stego_bands, lost], dim=1), rev=True, jac=False)
        return haar_idwt(out[:, BANDS:])


def quantize_8bit(image: Tensor) -> Tensor:
    """Clamp to [0, 1] and round to the 8-bit grid (k / 255) with a straight-through gradient.

    Forward value equals what writing an 8-bit PNG and reading it back gives;
    the backward pass treats rounding as identity (clamping keeps its gradient mask).
    """
    clamped = image.clamp(0.0, 1.0)
    rounded = torch.round(clamped * 255.0) / 255.0
    return clamped + (rounded - clamped).detach()

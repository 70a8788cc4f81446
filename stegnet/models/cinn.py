"""Conditional invertible network over the colour of a photo (Steg-cINN style).

A photo ``rgb`` (B, 3, H, W) in [0, 1] (H, W even) is split in CIELAB into
lightness ``L`` and colour ``ab``. The colour is Haar-transformed::

    ab --DWT--> [ab_LL (B, 2, h, w), ab_HF (B, 6, h, w)]      h, w = H/2, W/2

``ab_LL`` (the half-resolution colour of the cover) is KEPT, so the stego has
the cover's colours; only the high-frequency colour detail ``ab_HF`` is
modelled. The condition is computed from what survives in the stego::

    cond = CondNet([DWT(L) (B, 4, h, w), ab_LL (B, 2, h, w)])  -> (B, K, h, w)

and a stack of conditional affine couplings maps ``ab_HF / HF_SCALE`` to a
latent ``z`` (B, 6, h, w) that is standard normal for natural photos
(trained by maximum likelihood). ``forward`` = analysis (colour -> z),
``rev=True`` = synthesis (z -> colour). Payload bits are the signs of ``z``.

The couplings, each followed by a fixed channel permutation, form one
:class:`~stegnet.layers.invertible.InvertibleSequence` (``ColourFlow.layers``), so
``ColourFlow.forward(x, c, rev=False, jac=True)`` has the same calling convention as
every invertible layer, with ``c = condition(cond_input)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from stegnet.color import lab_to_rgb, rgb_to_lab
from stegnet.layers.invertible import (
    ChannelPermutation,
    ConditionalAffineCoupling,
    InvertibleModule,
    InvertibleSequence,
)
from stegnet.layers.wavelet import haar_dwt, haar_idwt
from stegnet.models.registry import register_model

HF_SCALE = 2.0  # ab high-frequency coefficients are divided by this before the flow
L_SCALE = 50.0  # L in [0, 100] -> [-1, 1]; ab_LL (range ~[-256, 256]) divided by AB_SCALE
AB_SCALE = 64.0
LATENT_CHANNELS = 6


@dataclass(frozen=True)
class ColourFlowConfig:
    """Architecture hyper-parameters (stored in the weight file's metadata)."""

    blocks: int = 6
    hidden: int = 32
    cond_channels: int = 32
    depth: int = 3
    clamp: float = 2.0

    def to_dict(self) -> dict:
        return asdict(self)


class CondNet(nn.Module):
    """Conditioning CNN: (B, 6, h, w) [DWT(L), ab_LL] -> (B, K, h, w) features.

    Three 3x3 convolutions, the middle one dilated (2) for wider context.
    """

    def __init__(self, out_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(6, out_channels, 3, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=2, dilation=2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1),
        )

    def forward(self, features: Tensor) -> Tensor:
        return self.body(features)


def split_colour(rgb: Tensor) -> tuple[Tensor, Tensor]:
    """rgb (B, 3, H, W) in [0, 1] -> (cond input (B, 6, h, w), ab_HF / HF_SCALE (B, 6, h, w))."""
    lab = rgb_to_lab(rgb)
    lightness = (lab[:, :1] - L_SCALE) / L_SCALE
    ab_bands = haar_dwt(lab[:, 1:])
    cond_input = torch.cat([haar_dwt(lightness), ab_bands[:, :2] / AB_SCALE], dim=1)
    return cond_input, ab_bands[:, 2:] / HF_SCALE


def merge_colour(rgb: Tensor, colour_hf: Tensor) -> Tensor:
    """Replace the high-frequency colour of ``rgb`` (B, 3, H, W) by ``colour_hf`` (B, 6, h, w).

    Returns the new RGB image (B, 3, H, W), clamped to [0, 1] (not rounded).
    """
    lab = rgb_to_lab(rgb)
    ab_bands = haar_dwt(lab[:, 1:])
    ab = haar_idwt(torch.cat([ab_bands[:, :2], colour_hf * HF_SCALE], dim=1))
    return lab_to_rgb(torch.cat([lab[:, :1], ab], dim=1), clamp=True)


@register_model("colour-cinn", ColourFlowConfig, task="flow")
class ColourFlow(nn.Module):
    """Conditional INN: colour detail <-> standard normal latent (see module docstring)."""

    def __init__(self, config: ColourFlowConfig | None = None) -> None:
        super().__init__()
        self.config = config or ColourFlowConfig()
        cfg = self.config
        self.cond_net = CondNet(cfg.cond_channels)
        layers: list[InvertibleModule] = []
        for index in range(cfg.blocks):
            layers.append(
                ConditionalAffineCoupling(
                    LATENT_CHANNELS, cfg.cond_channels, cfg.hidden, cfg.depth, cfg.clamp
                )
            )
            layers.append(ChannelPermutation(LATENT_CHANNELS, seed=index))
        self.layers = InvertibleSequence(layers)

    def condition(self, cond_input: Tensor) -> Tensor:
        """(B, 6, h, w) -> (B, K, h, w)."""
        return self.cond_net(cond_input)

    def forward(
        self, x: Tensor, c: Tensor | None = None, rev: bool = False, jac: bool = True
    ) -> tuple[Tensor, Tensor]:
        """Run the flow: ``(y, log_det (B,))``.

        ``rev=False``: colour detail ``x`` (B, 6, h, w) -> latent ``z`` (B, 6, h, w);
        ``rev=True``: ``z`` -> colour detail. ``c`` is the condition (B, K, h, w) from
        :meth:`condition` (required: ``ValueError`` if None).
        """
        return self.layers(x, c=c, rev=rev, jac=jac)

    def analyse(self, rgb: Tensor) -> Tensor:
        """rgb (B, 3, H, W) in [0, 1] -> latent z (B, 6, H/2, W/2)."""
        cond_input, colour_hf = split_colour(rgb)
        z, _ = self.forward(colour_hf, self.condition(cond_input), jac=False)
        return z

    def synthesise(self, cover: Tensor, z: Tensor) -> Tensor:
        """cover (B, 3, H, W) in [0, 1], z (B, 6, H/2, W/2) -> stego RGB (B, 3, H, W), unrounded."""
        cond_input, _ = split_colour(cover)
        colour_hf, _ = self.forward(z, self.condition(cond_input), rev=True, jac=False)
        return merge_colour(cover, colour_hf)

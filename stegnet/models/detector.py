"""A small CNN steganalyser (XuNet / SRNet-style) that learns to tell stego from cover.

Architecture (input ``(B, 3, H, W)`` float, 8-bit sample values 0..255, any H, W >= 32):

1. **Fixed high-pass front end** (:class:`HighPassFilters`): six residual filters from
   the spatial rich model (SRM), applied to each colour channel separately, plus the
   same six applied to two opponent-colour planes ``R - G`` and ``B - G`` (an embedder
   that changes chroma leaves correlated traces there): ``(B, 30, H, W)``. The filters
   suppress image content and keep the noise where embedding hides.
2. **Truncation** (TLU): ``clamp(residual, -T, T)``, T = 3 levels, since stego noise is
   small and large residuals are edges.
3. Four conv blocks (conv, batch norm, activation, 2x average pooling after the first
   three). The first is a 1x1 conv (a learned mix of the 30 residuals, cheap at full
   resolution) and takes ``abs()`` of its output (residual signs are symmetric, as in
   XuNet) before tanh; the others are 3x3 with ReLU. Widths ``width, width, 2*width,
   4*width``.
4. Global average pooling and a linear layer: one logit, > 0 means "stego".

With ``width`` = 16 it has 26,145 parameters, small enough to train on a CPU in
minutes on 128 x 128 crops and to run on any image size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from stegnet.models.registry import register_model


def srm_kernels() -> torch.Tensor:
    """Six 5x5 SRM residual kernels, ``(6, 1, 5, 5)``, each summing to 0.

    First-order horizontal / vertical, second-order horizontal / vertical, the 3x3
    "KB" square and the 5x5 "KV" square, each normalised by its central weight.
    """
    kernels = torch.zeros(6, 5, 5)
    kernels[0, 2, 1:3] = torch.tensor([1.0, -1.0])
    kernels[1, 1:3, 2] = torch.tensor([1.0, -1.0])
    kernels[2, 2, 1:4] = torch.tensor([1.0, -2.0, 1.0]) / 2
    kernels[3, 1:4, 2] = torch.tensor([1.0, -2.0, 1.0]) / 2
    kernels[4, 1:4, 1:4] = torch.tensor([[-1.0, 2, -1], [2, -4, 2], [-1, 2, -1]]) / 4
    kernels[5] = torch.tensor([
        [-1.0, 2, -2, 2, -1],
        [2, -6, 8, -6, 2],
        [-2, 8, -12, 8, -2],
        [2, -6, 8, -6, 2],
        [-1, 2, -2, 2, -1],
    ]) / 12
    return kernels.unsqueeze(1)


#: Colour planes the residuals are taken of: R, G, B, R - G, B - G (rows: RGB weights).
PLANES = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (1.0, -1.0, 0.0), (0.0, -1.0, 1.0))


class HighPassFilters(nn.Module):
    """Fixed SRM residuals of R, G, B, R-G and B-G: ``(B, 3, H, W) -> (B, 30, H, W)``.

    Output channel ``6 * plane + filter``; zero padding (2 px) keeps the size.
    """

    def __init__(self) -> None:
        super().__init__()
        planes = torch.tensor(PLANES)  # (5, 3)
        kernels = srm_kernels()[:, 0]  # (6, 5, 5)
        weight = planes[:, None, :, None, None] * kernels[None, :, None]  # (5, 6, 3, 5, 5)
        self.register_buffer("weight", weight.reshape(-1, 3, 5, 5), persistent=False)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return F.conv2d(image, self.weight, padding=2)


@dataclass
class DetectorConfig:
    """Hyper-parameters of :class:`StegDetector`."""

    width: int = 16
    truncation: float = 3.0

    def to_dict(self) -> dict:
        return asdict(self)


@register_model("steg-detector", DetectorConfig, task="detect", aliases=("xunet",))
class StegDetector(nn.Module):
    """``forward(images (B, 3, H, W) in 0..255) -> logits (B,)``; > 0 means stego."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__()
        self.config = config or DetectorConfig()
        width = self.config.width
        self.front = HighPassFilters()
        widths = [30, width, width, 2 * width, 4 * width]
        self.convs = nn.ModuleList(
            nn.Conv2d(widths[i], widths[i + 1], 1 if i == 0 else 3, padding=0 if i == 0 else 1,
                      bias=False) for i in range(4))
        self.norms = nn.ModuleList(nn.BatchNorm2d(widths[i + 1]) for i in range(4))
        self.head = nn.Linear(widths[-1], 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        limit = self.config.truncation
        features = self.front(images).clamp(-limit, limit)
        for index, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            features = conv(features)
            if index == 0:
                features = torch.tanh(norm(features.abs()))
            else:
                features = F.relu(norm(features))
            features = F.avg_pool2d(features, 2) if index < 3 else features
        return self.head(features.mean(dim=(2, 3))).squeeze(1)


# --------------------------------------------------------------------------------------
# A stronger steganalyser for the detection-vs-payload study (stegnet_research.detstudy).
# --------------------------------------------------------------------------------------


def srm30_kernels() -> torch.Tensor:
    """The 30 basic high-pass kernels of the spatial rich model, ``(30, 5, 5)``.

    As in Ye-Net / Yedroudj-Net: first order (8 directions), second order (4), third
    order (8), the 3x3 and 5x5 squares ("KB", "KV") and their halves ("edges", 4 + 4).
    Each is divided by the SRM quantisation step of its class (1, 2, 3, 4, 12), so a
    +-1 change of the centre pixel moves every residual by at most 1 level (first order:
    exactly 1), and every kernel sums to 0 (content with a constant level is removed).
    """
    def rotations(kernel: np.ndarray, count: int = 4) -> list[np.ndarray]:
        return [np.rot90(kernel, k) for k in range(count)]

    out: list[np.ndarray] = []
    first, diagonal = np.zeros((5, 5)), np.zeros((5, 5))
    first[2, 2], first[2, 3] = -1, 1
    diagonal[2, 2], diagonal[1, 3] = -1, 1
    out += rotations(first) + rotations(diagonal)  # 8 first-order
    second, second_d = np.zeros((5, 5)), np.zeros((5, 5))
    second[2, 1:4] = [1, -2, 1]
    second_d[1, 1], second_d[2, 2], second_d[3, 3] = 1, -2, 1
    out += [k / 2 for k in rotations(second, 2) + rotations(second_d, 2)]  # 4 second-order
    third, third_d = np.zeros((5, 5)), np.zeros((5, 5))
    third[2, 1:5] = [1, -3, 3, -1]
    for i, value in enumerate([1, -3, 3, -1]):
        third_d[1 + i, 1 + i] = value
    out += [k / 3 for k in rotations(third) + rotations(third_d)]  # 8 third-order
    square3 = np.zeros((5, 5))
    square3[1:4, 1:4] = [[-1, 2, -1], [2, -4, 2], [-1, 2, -1]]
    square5 = np.array([[-1, 2, -2, 2, -1], [2, -6, 8, -6, 2], [-2, 8, -12, 8, -2],
                        [2, -6, 8, -6, 2], [-1, 2, -2, 2, -1]], dtype=float)
    out += [square3 / 4, square5 / 12]
    edge3, edge5 = square3.copy(), square5.copy()
    edge3[3], edge5[3:] = 0, 0
    out += [k / 4 for k in rotations(edge3)] + [k / 12 for k in rotations(edge5)]
    return torch.tensor(np.stack(out), dtype=torch.float32)


class SRMFrontEnd(nn.Module):
    """``(B, 3, H, W) -> (fixed (B, 90, H, W), learned (B, L, H, W) or None)``.

    ``fixed``: the 30 SRM residuals of each of R, G and B (channel ``30 * colour +
    kernel``). ``learned``: ``L`` trainable 5x5 filters over all three colours
    (initialised as SRM squares of random colour mixes). Kept apart so that no gradient
    is computed through the fixed residuals (they are half of the training time).
    """

    def __init__(self, learned: int = 6) -> None:
        super().__init__()
        kernels = srm30_kernels()
        self.register_buffer("weight", kernels.repeat(3, 1, 1).unsqueeze(1), persistent=False)
        self.learned = nn.Conv2d(3, learned, 5, padding=2, bias=False) if learned else None
        if self.learned is not None:
            generator = torch.Generator().manual_seed(0)
            mixes = torch.randn(learned, 3, generator=generator) / 3
            base = kernels[28:30].repeat(learned // 2 + 1, 1, 1)[:learned]  # KB, KV, ...
            with torch.no_grad():
                self.learned.weight.copy_(mixes[:, :, None, None] * base[:, None])

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        with torch.no_grad():
            fixed = F.conv2d(image, self.weight, padding=2, groups=3)
        return fixed, None if self.learned is None else self.learned(image)


@dataclass
class StrongDetectorConfig:
    """Hyper-parameters of :class:`StrongDetector`."""

    width: int = 16
    learned: int = 6
    truncation: float = 3.0

    def to_dict(self) -> dict:
        return asdict(self)


@register_model("strong-detector", StrongDetectorConfig, task="detect", aliases=("strong",))
class StrongDetector(nn.Module):
    """SRM front end + a wider, deeper body: ``forward(images 0..255) -> logits (B,)``.

    1. :class:`SRMFrontEnd`: 90 fixed residuals (30 SRM kernels x R, G, B) + ``learned``
       trainable 5x5 filters, truncated to ``+-truncation`` levels (TLU).
    2. Full resolution, no pooling (weak stego noise must not be averaged away before
       the network has looked at it): a 1x1 conv (a learned mix of the residuals,
       across colours too: embedding each colour independently breaks the correlation
       of their noise) with ``abs``, batch norm and tanh (XuNet), then a 3x3 conv,
       batch norm, ReLU; widths ``width``.
    3. Four 3x3 conv blocks (batch norm, ReLU), each after a 3x3 average pooling with
       stride 2; widths ``2w, 4w, 8w, 8w``.
    4. Global average and standard-deviation pooling (how the features spread over
       the image is itself a statistic), a linear layer to one logit (> 0: stego).

    With ``width`` = 16 it has 250,521 parameters; the wide layers run after pooling, so
    a training step on 16 pairs of 128 px crops takes ~2 s on one CPU thread.
    """

    def __init__(self, config: StrongDetectorConfig | None = None) -> None:
        super().__init__()
        self.config = config or StrongDetectorConfig()
        width, learned = self.config.width, self.config.learned
        self.front = SRMFrontEnd(learned)
        self.mix = nn.Conv2d(90, width, 1, bias=False)  # fixed residuals
        self.mix_learned = nn.Conv2d(learned, width, 1, bias=False) if learned else None
        self.mix_norm = nn.BatchNorm2d(width)
        self.full = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.full_norm = nn.BatchNorm2d(width)
        widths = [width, 2 * width, 4 * width, 8 * width, 8 * width]
        self.convs = nn.ModuleList(nn.Conv2d(widths[i], widths[i + 1], 3, padding=1, bias=False)
                                   for i in range(4))
        self.norms = nn.ModuleList(nn.BatchNorm2d(widths[i + 1]) for i in range(4))
        self.head = nn.Linear(2 * widths[-1], 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        limit = self.config.truncation
        fixed, learned = self.front(images)
        features = self.mix(fixed.clamp_(-limit, limit))
        if learned is not None and self.mix_learned is not None:
            features = features + self.mix_learned(learned.clamp(-limit, limit))
        features = torch.tanh(self.mix_norm(features.abs()))
        features = F.relu(self.full_norm(self.full(features)))
        for conv, norm in zip(self.convs, self.norms, strict=True):
            features = F.avg_pool2d(features, 3, stride=2, padding=1)
            features = F.relu(norm(conv(features)))
        pooled = torch.cat([features.mean(dim=(2, 3)), features.std(dim=(2, 3))], 1)
        return self.head(pooled).squeeze(1)

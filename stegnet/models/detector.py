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

import torch
import torch.nn.functional as F
from torch import nn


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

"""Embedding costs in the pixel domain: what changing one 8-bit sample by one level costs.

:func:`hill_costs` is HILL (Li, Wang, Li, Huang 2014). It is used by the pixel channel
(:mod:`stegnet.channels.pixel`) to place its +-1 changes and by the colour flow's sparse
mode (:mod:`stegnet.channels.flow.sparse`) to weight latent flips by texture.
"""

from __future__ import annotations

import numpy as np

HILL_SMALL = 1e-2  # keeps the reciprocal finite in perfectly flat areas


def hill_costs(image: np.ndarray) -> np.ndarray:
    """HILL cost of changing each sample of an 8-bit image (H, W, 3) by one level.

    Per channel: the residual of the 3x3 high-pass ``[[-1, 2, -1], [2, -4, 2], [-1, 2, -1]]
    / 4``, its magnitude averaged over 3x3, reciprocal, averaged over 15x15 (reflected
    edges). Returns (H, W, 3) float64, > 0: large in smooth areas, small in texture.
    """
    import torch
    import torch.nn.functional as F

    height, width = image.shape[:2]
    samples = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))
    planes = samples.permute(2, 0, 1)[:, None]  # (3, 1, H, W)
    high = torch.tensor([[-1, 2, -1], [2, -4, 2], [-1, 2, -1]], dtype=torch.float32) / 4

    def pad(x: torch.Tensor, p: int) -> torch.Tensor:
        # Reflection needs p < side; tiny images fall back to edge replication.
        mode = "reflect" if min(height, width) > p else "replicate"
        return F.pad(x, (p, p, p, p), mode=mode)

    with torch.no_grad():
        residual = F.conv2d(pad(planes, 1), high[None, None])
        spread = F.avg_pool2d(pad(residual.abs(), 1), 3, 1)
        rho = F.avg_pool2d(pad(1.0 / (spread + HILL_SMALL), 7), 15, 1)
    return rho[:, 0].permute(1, 2, 0).double().numpy()

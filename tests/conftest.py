"""Shared fixtures: small synthetic photos (smooth gradients + texture), no downloads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stegnet.synthetic import synthetic_photo

torch.set_num_threads(1)


@pytest.fixture
def photo() -> np.ndarray:
    return synthetic_photo(96, 128, seed=1)


@pytest.fixture
def other_photo() -> np.ndarray:
    return synthetic_photo(80, 64, seed=2)

"""Shared fixtures: small synthetic photos (smooth gradients + texture), no downloads."""

from __future__ import annotations

import os

# One CPU thread in tests, in this process and in the CLI subprocesses (stegnet honours
# $OMP_NUM_THREADS; see stegnet.device).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from stegnet.synthetic import synthetic_photo  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def photo() -> np.ndarray:
    return synthetic_photo(96, 128, seed=1)


@pytest.fixture
def other_photo() -> np.ndarray:
    return synthetic_photo(80, 64, seed=2)

"""Compute device (``auto`` = CUDA when present, ``cpu``, ``cuda``) and CPU threads.

Threads: torch's own default is one thread per physical core of the machine, which
ignores CPU quotas (containers) and makes two stegnet processes on a small machine fight
over the same cores. The number used here is, in order:

1. what the user asked for (``stegnet --threads N``, recorded by :func:`request_threads`);
2. ``$OMP_NUM_THREADS`` when it is set to a positive integer;
3. the cores this process may use (CPU affinity and the cgroup CPU quota), at most
   :data:`MAX_DEFAULT_THREADS`.

Nothing here imports torch at import time (``stegnet --help`` must stay fast): the
number is applied by :func:`apply_threads` where torch is first needed
(:func:`resolve_device` calls it).
"""

from __future__ import annotations

import math
import os
import sys
from functools import lru_cache
from pathlib import Path

from stegnet.errors import UsageError

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "float32", "bfloat16")
MAX_DEFAULT_THREADS = 8  # the networks are small: more threads than this buy little
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")

_requested: int | None = None


def _cgroup_cpu_limit(path: Path = CGROUP_CPU_MAX) -> int | None:
    """CPUs allowed by a cgroup v2 quota (``cpu.max``: "QUOTA PERIOD"), rounded up; None if
    unlimited or unknown."""
    try:
        quota, period = path.read_text().split()[:2]
        if quota == "max":
            return None
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        return None


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    limit = _cgroup_cpu_limit()
    if limit is not None:
        cores = min(cores, limit)
    return max(1, cores)


def env_threads() -> int | None:
    """``$OMP_NUM_THREADS`` as a positive integer, or None when unset or not one."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    try:
        threads = int(value)
    except ValueError:
        return None
    return threads if threads > 0 else None


def default_threads() -> int:
    """Threads when the user asked for none: ``$OMP_NUM_THREADS``, else the usable cores
    (at most :data:`MAX_DEFAULT_THREADS`)."""
    return env_threads() or min(usable_cores(), MAX_DEFAULT_THREADS)


def parse_threads(value: str) -> int:
    """The value of ``--threads`` as a positive integer; UsageError otherwise."""
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise UsageError(f"--threads must be a positive integer (got '{value}')")
    return threads


def request_threads(threads: int | None) -> None:
    """Record the user's thread count (None: back to the default); applied at once if
    torch is already loaded, else when :func:`apply_threads` runs."""
    global _requested
    if threads is not None and threads < 1:
        raise UsageError(f"--threads must be a positive integer (got {threads})")
    _requested = threads
    if "torch" in sys.modules:
        apply_threads()


def requested_threads() -> int | None:
    """The thread count the user asked for explicitly (``--threads``), or None."""
    return _requested


def thread_count() -> int:
    """The number of CPU threads stegnet uses (see the module docstring)."""
    return _requested if _requested is not None else default_threads()


def apply_threads(jobs: int = 1) -> int:
    """Set torch's intra-op threads to :func:`thread_count` (shared by ``jobs`` parallel
    jobs: each gets at least one); returns the number set. Imports torch."""
    import torch

    threads = max(1, thread_count() // max(1, jobs))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def resolve_device(name: str = "auto") -> str:
    """Map a user's device choice to a torch device string; UsageError if unavailable.

    Also applies the CPU thread count (:func:`apply_threads`): this is where the
    commands first need torch.
    """
    if name not in DEVICES:
        raise UsageError(f"unknown device '{name}' (choose from {', '.join(DEVICES)})")
    import torch

    apply_threads()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda requested but no CUDA device is available")
    return name


@lru_cache(maxsize=1)
def bfloat16_is_native() -> bool:
    """Whether this CPU computes bfloat16 convolutions natively (AVX512-BF16 or AMX), so
    that they are faster than float32 rather than emulated. Imports torch."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(name: str, device: str) -> str:
    """Map ``--precision`` to ``"float32"`` or ``"bfloat16"`` for a resolved ``device``.

    ``auto`` is bfloat16 on a CPU with native bfloat16 (the hiding network's convolutions
    run ~2x faster and the PNG round trip loses 0.01 dB; see the speed section of docs/results.md),
    float32 elsewhere (CUDA: not measured). An explicit ``bfloat16`` is honoured everywhere
    (on a CPU without native support it is only slower). UsageError for an unknown name.
    """
    if name not in PRECISIONS:
        raise UsageError(f"unknown precision '{name}' (choose from {', '.join(PRECISIONS)})")
    if name == "auto":
        return "bfloat16" if device == "cpu" and bfloat16_is_native() else "float32"
    return name

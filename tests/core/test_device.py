"""Device choice and CPU thread count (stegnet.device)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stegnet import device
from stegnet.errors import UsageError


def test_cgroup_cpu_limit(tmp_path: Path) -> None:
    quota = tmp_path / "cpu.max"
    quota.write_text("150000 100000\n")
    assert device._cgroup_cpu_limit(quota) == 2
    quota.write_text("max 100000\n")
    assert device._cgroup_cpu_limit(quota) is None
    assert device._cgroup_cpu_limit(tmp_path / "missing") is None


def test_usable_cores_respects_affinity_and_quota(monkeypatch) -> None:
    monkeypatch.setattr(device.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5},
                        raising=False)
    monkeypatch.setattr(device, "_cgroup_cpu_limit", lambda: None)
    assert device.usable_cores() == 6
    monkeypatch.setattr(device, "_cgroup_cpu_limit", lambda: 2)
    assert device.usable_cores() == 2


def test_default_threads_env_then_cores_capped(monkeypatch) -> None:
    monkeypatch.setattr(device, "usable_cores", lambda: 64)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert device.default_threads() == 3
    for bad in ("", "0", "-2", "four"):
        monkeypatch.setenv("OMP_NUM_THREADS", bad)
        assert device.default_threads() == device.MAX_DEFAULT_THREADS
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr(device, "usable_cores", lambda: 2)
    assert device.default_threads() == 2


def test_requested_threads_win_and_apply_to_torch(monkeypatch) -> None:
    import torch

    before = torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    try:
        device.request_threads(2)
        assert device.thread_count() == 2 and torch.get_num_threads() == 2
        assert device.apply_threads(jobs=4) == 1  # parallel jobs share the threads
        device.request_threads(None)
        assert device.apply_threads() == 1 and device.requested_threads() is None
    finally:
        device.request_threads(None)
        torch.set_num_threads(before)


@pytest.mark.parametrize("value", ["0", "-1", "two", ""])
def test_parse_threads_rejects_non_positive(value: str) -> None:
    with pytest.raises(UsageError):
        device.parse_threads(value)
    assert device.parse_threads("4") == 4


def test_resolve_device_errors() -> None:
    with pytest.raises(UsageError, match="unknown device"):
        device.resolve_device("tpu")
    assert device.resolve_device("cpu") == "cpu"


def test_resolve_precision(monkeypatch) -> None:
    with pytest.raises(UsageError, match="unknown precision"):
        device.resolve_precision("half", "cpu")
    assert device.resolve_precision("float32", "cpu") == "float32"
    assert device.resolve_precision("bfloat16", "cuda") == "bfloat16"  # explicit: honoured
    assert device.resolve_precision("auto", "cuda") == "float32"
    monkeypatch.setattr(device, "bfloat16_is_native", lambda: True)
    assert device.resolve_precision("auto", "cpu") == "bfloat16"
    monkeypatch.setattr(device, "bfloat16_is_native", lambda: False)
    assert device.resolve_precision("auto", "cpu") == "float32"

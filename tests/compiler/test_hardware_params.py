"""HardwareParams: TVM's fields, the host's defaults, and what /sys says of the caches."""

from pathlib import Path

import pytest

import schedopt
from schedopt.errors import SchedOptError
from schedopt.hardware_params import HardwareParams, data_cache_bytes, host_hardware_params, host_num_cores
from schedopt.runtime import default_num_threads


def test_host_defaults_fill_unset_fields():
    host = host_hardware_params()
    assert host.num_cores == host_num_cores() >= 1
    assert host.vector_unit_bytes in (16, 32, 64)
    assert host.cache_line_bytes is not None and host.cache_line_bytes > 0
    assert (host.max_shared_memory_per_block, host.max_threads_per_block, host.warp_size) == (0, 0, 0)
    assert host.target == "llvm"


def test_given_fields_are_kept():
    params = schedopt.HardwareParams(num_cores=3, vector_unit_bytes=32)
    assert (params.num_cores, params.vector_unit_bytes) == (3, 32)
    assert params.cache_line_bytes == host_hardware_params().cache_line_bytes


def test_other_targets_get_no_host_defaults():
    params = HardwareParams(target="opencl", warp_size=32)  # CUDA's defaults: test_gpu_search_task.py
    assert params.num_cores is None and params.warp_size == 32


@pytest.mark.parametrize(
    ("field", "value"), [("num_cores", 0), ("cache_line_bytes", -64), ("warp_size", 1.5)]
)
def test_bad_values_are_named(field: str, value: object):
    with pytest.raises(SchedOptError, match=f"HardwareParams: {field} must be an integer"):
        HardwareParams(**{field: value})


def test_data_cache_sizes_from_sysfs(tmp_path: Path):
    caches = [
        ("1", "Data", "48K"),
        ("1", "Instruction", "32K"),
        ("2", "Unified", "2048K"),
        ("3", "Unified", "32M"),
    ]
    for n, (level, kind, size) in enumerate(caches):
        index = tmp_path / f"index{n}"
        index.mkdir()
        (index / "level").write_text(level + "\n")
        (index / "type").write_text(kind + "\n")
        (index / "size").write_text(size + "\n")
    assert data_cache_bytes(tmp_path) == {1: 48 << 10, 2: 2 << 20, 3: 32 << 20}


def test_no_cache_description(tmp_path: Path):
    assert data_cache_bytes(tmp_path / "missing") == {}


@pytest.mark.parametrize(
    ("value", "threads"), [("3", 3), ("4,2", 4), (" 5 ", 5), ("0", None), ("many", None)]
)
def test_default_threads_follow_omp_num_threads(
    monkeypatch: pytest.MonkeyPatch, value: str, threads: int | None
):
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert default_num_threads() == (threads or host_num_cores())


def test_default_threads_without_omp_num_threads(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert default_num_threads() == host_num_cores()

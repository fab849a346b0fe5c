"""`apply-schedule{gpu=true}`: the loop nests `convert-bound-loops-to-gpu` turns into kernels.

The option is the first stage of `lower-to-nvptx`; the lowering of each
State for a GPU is tested in tests/gpu.
"""

from pathlib import Path

import pytest

from schedopt.passes import get_all_passes
from schedopt.passes.apply_schedule import ApplySchedulePass
from schedopt.tools.sched_opt_main import main

TILED_MATMUL = Path(__file__).parents[2] / "lit-tests" / "gpu" / "lower-to-nvptx.mlir"


def sched_opt(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main([str(TILED_MATMUL), *args]) == 0
    return capsys.readouterr().out


def test_the_gpu_option_is_parsed_and_defaults_to_the_cpu():
    assert get_all_passes()["apply-schedule"]() is ApplySchedulePass
    assert ApplySchedulePass().gpu is False


def test_gpu_loop_nests_size_shared_stages_for_the_block(capsys: pytest.CaptureFixture[str]):
    cpu = sched_opt(capsys, "-p", "apply-schedule")
    gpu = sched_opt(capsys, "-p", "apply-schedule{gpu=true}")
    assert "transform.named_sequence" not in gpu and "te.compute" not in gpu
    # For a GPU, A.shared covers what all 16 threads of the block read: 16 rows of the k slice of 8.
    assert "memref<16x8xf32, 3 : i64>" in gpu
    assert "memref<16x8xf32, 3 : i64>" not in cpu


def test_gpu_loop_nests_are_what_lower_to_nvptx_makes_kernels_of(capsys: pytest.CaptureFixture[str]):
    staged = sched_opt(capsys, "-p", "apply-schedule{gpu=true},convert-bound-loops-to-gpu")
    assert staged.count("gpu.launch_func") == 1 and "gpu.barrier" in staged

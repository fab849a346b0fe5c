"""CUDA tasks: the sm_80 defaults of HardwareParams, overrides, records, and the GPU policy's guard."""

import pytest

import schedopt.workloads  # noqa: F401  (registers matmul)
from schedopt.errors import SchedOptError, TargetError
from schedopt.hardware_params import CUDA_DEFAULTS, RECORD_FIELDS, HardwareParams, is_cuda_target
from schedopt.layout_rewrite import LayoutRewriteOption
from schedopt.measurement import MeasureInput, MeasureResult
from schedopt.records.codec import decode_record, encode_record
from schedopt.schedule.loop_state import State
from schedopt.search_policy import SketchPolicy
from schedopt.search_task import SearchTask

SM80 = {
    "num_cores": -1,
    "vector_unit_bytes": 16,
    "cache_line_bytes": 64,
    "max_shared_memory_per_block": 49152,
    "max_local_memory_per_block": 2147483647,
    "max_threads_per_block": 1024,
    "max_vthread_extent": 8,
    "warp_size": 32,
}
"""TVM's GetDefaultHardwareParams for a CUDA device of compute capability 8.0."""


@pytest.mark.parametrize("target", ["cuda", "nvptx", "cuda -arch=sm_80"])
def test_cuda_targets_get_the_sm80_defaults(target: str):
    params = HardwareParams(target=target)
    assert {name: getattr(params, name) for name in RECORD_FIELDS} == SM80 == CUDA_DEFAULTS
    assert is_cuda_target(target)


def test_given_fields_override_the_gpu_defaults():
    params = HardwareParams(max_threads_per_block=512, max_shared_memory_per_block=65536, target="cuda")
    assert (params.max_threads_per_block, params.max_shared_memory_per_block) == (512, 65536)
    assert params.warp_size == 32


def test_a_cuda_task_without_hardware_params_gets_the_defaults_and_no_layout_rewrite():
    for target in ("cuda", "nvptx"):
        task = SearchTask("matmul", (64, 64, 64), target=target)
        assert task.hardware_params.max_threads_per_block == 1024
        assert task.layout_rewrite_option == LayoutRewriteOption.NO_REWRITE
    assert LayoutRewriteOption.get_target_default("cuda", True) == LayoutRewriteOption.NO_REWRITE


def test_minus_one_cores_is_tvms_unknown_and_zero_stays_an_error():
    assert HardwareParams(num_cores=-1, target="cuda").num_cores == -1
    with pytest.raises(SchedOptError, match="num_cores must be an integer >= 1"):
        HardwareParams(num_cores=0, target="cuda")


@pytest.mark.parametrize("target", ["cuda", "nvptx"])
def test_a_cuda_task_round_trips_through_a_record(target: str):
    hardware = HardwareParams(max_threads_per_block=256, target=target)
    task = SearchTask("matmul", (64, 64, 64), target=target, hardware_params=hardware)
    line = encode_record(MeasureInput(task, State([], [])), MeasureResult((1e-3,), 0, "", 0.5, 1.7e9))
    decoded, _ = decode_record(line)
    assert decoded.task.target == target
    assert decoded.task.workload_key == task.workload_key
    read = decoded.task.hardware_params
    assert [getattr(read, name) for name in RECORD_FIELDS] == [
        getattr(hardware, name) for name in RECORD_FIELDS
    ]
    assert decoded.task.layout_rewrite_option == LayoutRewriteOption.NO_REWRITE


def test_the_gpu_policy_refuses_cpu_hardware_params_by_name():
    task = SearchTask("matmul", (64, 64, 64), target="cuda", hardware_params=HardwareParams(num_cores=4))
    with pytest.raises(TargetError, match="max_threads_per_block, max_vthread_extent, warp_size"):
        SketchPolicy(task, verbose=0)


def test_the_policy_picks_the_gpu_rules_for_cuda_only():
    gpu = SketchPolicy(SearchTask("matmul", (64, 64, 64), target="nvptx"), verbose=0)
    cpu = SketchPolicy(
        SearchTask("matmul", (64, 64, 64), hardware_params=HardwareParams(num_cores=2)), verbose=0
    )
    assert gpu.is_gpu and not cpu.is_gpu
    assert [rule.name for rule in gpu.sketch_rules][:3] == [
        "AddCacheRead",
        "SpecialComputeLocationGPU",
        "AlwaysInline",
    ]
    assert [rule.weight for rule in gpu.mutation_rules] == [0.90, 0.10]
    assert [rule.__name__ for rule in gpu.init_rules] == ["fill_gpu_tile_size", "thread_bind", "gpu_unroll"]

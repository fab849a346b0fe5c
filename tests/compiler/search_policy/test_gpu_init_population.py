"""GPU initial populations and mutations: bound, within the block limits, and lossless in records.

Every program sampled from the GPU sketches of matmul, conv2d and softmax
must pass bound inference, bind each kernel to threads, stay within the
threads / shared memory / vthread limits of the hardware parameters (the
defaults or tighter ones given), and survive the round trips through a
record line and through the transform program.
"""

import math
import sys
from pathlib import Path

import pytest
from xdsl.dialects import memref

import schedopt.workloads  # noqa: F401  (registers the workloads)
from schedopt.build import lower_gpu
from schedopt.dialects.sched import LoopAnnotation
from schedopt.hardware_params import HardwareParams
from schedopt.measurement import MeasureInput, MeasureResult
from schedopt.passes.convert_bound_loops_to_gpu import is_shared
from schedopt.passes.llvm_type_conversion import element_size_in_bytes
from schedopt.records.codec import decode_record, encode_record
from schedopt.schedule.loop_state import State
from schedopt.schedule.schedule_program import parse_program, print_program, program_to_state
from schedopt.schedule.stage import ComputeAtKind, IteratorKind, StageKind
from schedopt.schedule.transform_steps import FollowFusedSplitStep, PragmaStep, SplitStep
from schedopt.search_policy import SketchPolicy
from schedopt.search_policy.gpu_init_rules import fill_gpu_tile_size
from schedopt.search_policy.gpu_limits import gpu_limit_violation, kernel_stages, kernel_usage
from schedopt.search_policy.init_population import GPU_AUTO_UNROLL_CONFIGS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/compiler, for the shared helper
from random_gpu_schedules import gpu_policy, random_gpu_states

WORKLOADS = [
    ("matmul", (128, 128, 128)),
    ("conv2d_nchw", (1, 16, 14, 14, 32, 3, 3, 1, 1)),
    ("softmax", (4, 512)),
]
TIGHT = HardwareParams(
    max_threads_per_block=128, max_shared_memory_per_block=8192, max_vthread_extent=2, target="cuda"
)
"""Limits well below the sm_80 defaults: the search must honour the ones it is given."""


def population(
    name: str, args: tuple, hardware: HardwareParams | None = None, seed: int = 0, size: int = 48
) -> tuple:
    policy = gpu_policy(
        name, args, seed, hardware, evolutionary_search_population=size, sample_init_min_population=4
    )
    states = policy.sample_initial_population()
    assert len(states) >= 4, f"{name}: only {len(states)} programs"
    return policy, states


def assert_within_limits(policy: SketchPolicy, state: State, hardware: HardwareParams) -> None:
    assert gpu_limit_violation(policy.dag, state, hardware) is None
    for usage in kernel_usage(policy.dag, state):
        assert 1 <= usage.threads_per_block <= hardware.max_threads_per_block
        assert usage.max_vthread_extent <= hardware.max_vthread_extent
        assert usage.shared_memory_bytes <= hardware.max_shared_memory_per_block


def assert_every_kernel_is_bound(state: State) -> None:
    for root in state.stages:
        if root.kind != StageKind.COMPUTE or root.compute_at != ComputeAtKind.ROOT:
            continue
        annotations = {it.annotation for name in kernel_stages(state, root.name) for it in state[name].iters}
        assert LoopAnnotation.THREAD_X in annotations, f"kernel {root.name} has no threads:\n{state}"


def assert_round_trips(policy: SketchPolicy, state: State) -> None:
    """Steps -> record line -> steps, and State -> transform program -> State, give the same program."""
    line = encode_record(MeasureInput(policy.search_task, state), MeasureResult((1e-3,), 0, "", 0.1, 1.7e9))
    decoded, _ = decode_record(line)
    assert decoded.state.transform_steps == state.transform_steps
    assert decoded.task.target == "cuda"
    replayed = policy.dag.infer_bound_from_state(policy.dag.replay_steps(decoded.state.transform_steps))
    assert str(replayed) == str(state)
    program = parse_program(print_program(policy.dag, state))
    assert str(policy.dag.infer_bound_from_state(program_to_state(policy.dag, program))) == str(state)


@pytest.mark.parametrize(("name", "args"), WORKLOADS)
def test_sampled_programs_are_bound_within_limits_and_round_trip(name: str, args: tuple):
    policy, states = population(name, args)
    for state in states:
        assert all(it.extent is not None for s in state.stages for it in s.iters), str(state)
        assert_within_limits(policy, state, policy.hardware_params)
        assert_every_kernel_is_bound(state)
        assert_round_trips(policy, state)
        for step in state.transform_steps:
            if isinstance(step, PragmaStep):
                assert int(step.pragma_type.split("$")[1]) in GPU_AUTO_UNROLL_CONFIGS


@pytest.mark.parametrize(("name", "args"), WORKLOADS)
def test_given_hardware_limits_bound_the_samples(name: str, args: tuple):
    policy, states = population(name, args, TIGHT, seed=1, size=16)
    assert policy.hardware_params.max_threads_per_block == 128
    for state in states:
        assert_within_limits(policy, state, TIGHT)


def lowered_shared_memory_bytes(policy: SketchPolicy, state: State) -> int:
    """The bytes of the shared-memory buffers the GPU lowering allocates for `state`."""
    module = lower_gpu(policy.dag, state, policy.hardware_params)
    total = 0
    for op in module.walk():
        if isinstance(op, memref.AllocaOp) and is_shared(op.memref.type):
            total += math.prod(op.memref.type.get_shape()) * element_size_in_bytes(
                op.memref.type.get_element_type()
            )
    return total


@pytest.mark.parametrize(
    ("name", "args"), [("matmul", (256, 256, 256)), ("conv2d_nchw", (1, 16, 14, 14, 32, 3, 3, 1, 1))]
)
def test_the_search_counts_the_shared_memory_the_lowering_allocates(name: str, args: tuple):
    """A shared buffer is the whole block's tile (thread and vthread loops relaxed), in the search as in
    the lowering; counted per thread, the search let through GEMMs that asked for 10x the limit."""
    policy, states = population(name, args, seed=2)
    for state in states:
        (usage,) = kernel_usage(policy.dag, state)
        assert usage.shared_memory_bytes == lowered_shared_memory_bytes(policy, state) > 0


def test_programs_of_one_sketch_share_one_rewritten_dag_whatever_their_tile_sizes():
    """The DAG with the cache stages depends on the cache steps alone, not on the split factors
    drawn before them (GPU sketches split before they cache): one rewrite serves the population."""
    policy, states = population("matmul", (128, 128, 128))
    splits = {tuple(s.lengths for s in state.transform_steps if isinstance(s, SplitStep)) for state in states}
    assert len(splits) > 1
    rewritten = {id(policy.dag.apply_steps_from_state(state)) for state in states}
    assert len(rewritten) == 1


def test_tile_sizes_are_drawn_within_the_thread_and_vthread_limits():
    policy, _ = population("matmul", (128, 128, 128), TIGHT, seed=3)
    (sketch,) = policy.generate_sketches()
    for _ in range(40):
        filled = fill_gpu_tile_size(policy, sketch, policy.rng)
        assert filled is not None
        splits = [s for s in filled.transform_steps if isinstance(s, SplitStep) and len(s.lengths) == 4]
        assert len(splits) == 2
        assert math.prod(s.lengths[0] or 0 for s in splits) <= 2
        assert 32 <= math.prod(s.lengths[1] or 0 for s in splits) <= 128


def test_matmul_binds_block_vthread_and_thread_tiles_and_fetches_cooperatively():
    _, states = population("matmul", (128, 128, 128))
    for state in states:
        outer = state["C"].iters[:3]
        assert [it.annotation for it in outer] == [
            LoopAnnotation.BLOCK_X,
            LoopAnnotation.VTHREAD,
            LoopAnnotation.THREAD_X,
        ]
        assert [it.name for it in outer] == ["i.0@j.0@", "i.1@j.1@", "i.2@j.2@"]
        assert 32 <= outer[2].extent <= 1024 and outer[1].extent <= 8
        # Each copy is split by C's thread count (its loop shrinks to the tile where that is smaller).
        fetch_splits = [s for s in state.transform_steps if isinstance(s, FollowFusedSplitStep)]
        assert [s.length(state.transform_steps) for s in fetch_splits] == [outer[2].extent] * 2
        for cache in ("A.shared", "B.shared"):
            threads = [it for it in state[cache].iters if it.annotation == LoopAnnotation.THREAD_X]
            assert len(threads) == 1 and threads[0].extent <= outer[2].extent, str(state)
            assert state[cache].iters[-1].annotation == LoopAnnotation.VECTORIZE


def test_softmax_rows_are_blocks_and_both_reductions_run_across_their_threads():
    _, states = population("softmax", (4, 512))
    reductions = ("T_softmax_maxelem", "T_softmax_expsum")
    fused = [s for s in states if all(s[name].compute_at == ComputeAtKind.ITER for name in reductions)]
    assert fused
    for state in fused:
        row, *_, threads = state["T_softmax_norm"].iters
        assert (row.annotation, row.extent) == (LoopAnnotation.BLOCK_X, 4)
        assert threads.annotation == LoopAnnotation.THREAD_X
        for name in reductions:
            (across,) = [it for it in state[name].iters if it.annotation == LoopAnnotation.THREAD_X]
            assert across.kind == IteratorKind.REDUCE and across.extent == threads.extent


def test_gpu_mutations_keep_programs_valid():
    policy, states = population("matmul", (64, 64, 128))
    best = policy.evolutionary_search(states, 16)
    assert best
    for state in best:
        assert_within_limits(policy, state, policy.hardware_params)
        assert_every_kernel_is_bound(state)


def test_random_gpu_states_are_deterministic_and_distinct():
    first = random_gpu_states("matmul", (64, 64, 64), 6, seed=5)
    again = random_gpu_states("matmul", (64, 64, 64), 6, seed=5)
    assert [str(s) for s in first] == [str(s) for s in again]
    assert len({str(s) for s in first}) == len(first) == 6

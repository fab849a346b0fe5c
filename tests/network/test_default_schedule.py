"""The default schedule: every workload of the library builds under it and matches numpy.

Shapes are small but large enough that the schedule splits, vectorises and
parallelises (at least 16K iterations in the main stage of most cases), and
some innermost extents are prime or not a multiple of the vector width.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from schedopt.build import build
from schedopt.compute_dag import ComputeDAG
from schedopt.default_schedule import default_schedule
from schedopt.dialects.sched import LoopAnnotation
from schedopt.hardware_params import HardwareParams
from schedopt.random_inputs import random_inputs
from schedopt.schedule.stage import ComputeAtKind
from schedopt.workload_registry import make_workload_key
from schedopt.workloads import WORKLOADS, reference

CASES: list[tuple[str, tuple[Any, ...]]] = [
    ("matmul", (32, 48, 16)),
    ("matmul", (17, 13, 9)),
    ("matmul", (16, 64, 8, "int32")),
    ("batch_matmul", (2, 16, 40, 8)),
    ("dense_bias_relu", (32, 40, 24)),
    ("conv2d_nchw", (1, 3, 12, 16, 8, 3, 3, 1, 1)),
    ("conv2d_nhwc", (1, 3, 12, 16, 32, 3, 3, 1, 1)),
    ("conv2d_nhwc", (2, 4, 9, 7, 6, 3, 3, 2, (1, 0))),
    ("conv2d_bn_relu", (1, 12, 10, 4, 16, 3, 1, 1)),
    ("conv2d_bn_residual_relu", (1, 10, 12, 4, 16, 3, 1, 1)),
    ("conv2d_winograd_nhwc", (1, 8, 8, 3, 16, 3, 1, 1)),
    ("depthwise_conv2d_nchw", (1, 8, 12, 16, 3, 3, 1, 1)),
    ("conv2d_transpose_nchw", (1, 3, 6, 8, 4, 3, 3, 2, 1)),
    ("max_pool2d", (2, 8, 16, 16, 3, 2, 1)),
    ("avg_pool2d", (2, 8, 16, 16, 3, 1, 1, "float32", True)),
    ("softmax", (64, 256)),
    ("layer_norm", (64, 129)),
    ("add", (128, 160)),
    ("add", (7, 5, "float64")),
    ("elementwise_chain", (96, 200)),
]

TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12), "int32": (0.0, 0.0)}

HARDWARE = HardwareParams(num_cores=2)


@pytest.mark.parametrize(("name", "args"), CASES, ids=[f"{n}{list(a)}".replace(" ", "") for n, a in CASES])
def test_default_schedule_builds_and_matches_numpy(name: str, args: tuple[Any, ...]):
    dag = ComputeDAG(make_workload_key(name, args))
    state = default_schedule(dag, HARDWARE)
    kernel = build(dag, state, hardware_params=HARDWARE)
    inputs = random_inputs(name, dag, np.random.default_rng(0))
    outputs = [np.empty(dag.op(o).shape, dag.op(o).dtype) for o in dag.output_names]
    kernel(*inputs, *outputs)
    for output, got, want in zip(dag.output_names, outputs, reference(name, args, inputs), strict=True):
        rtol, atol = TOLERANCES[str(got.dtype)]
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"{name}{args}: {output}")


def test_every_workload_is_covered():
    assert {name for name, _ in CASES} == set(WORKLOADS)


def annotations(state, stage: str) -> list[LoopAnnotation]:
    return [it.annotation for it in state[stage].iters]


def test_matmul_vectorises_its_columns_inside_the_reduction_and_runs_rows_in_parallel():
    dag = ComputeDAG(make_workload_key("matmul", (64, 256, 32)))
    state = default_schedule(dag, HardwareParams(num_cores=4, vector_unit_bytes=32))
    loops = state["C"].iters
    # 4 cores x 16 tasks = 64 rows: i alone is enough; j is split by 4 AVX2 registers of float32.
    assert [(it.name, it.extent) for it in loops] == [("i", 64), ("j.0", 8), ("k", 32), ("j.1", 32)]
    assert annotations(state, "C") == [
        LoopAnnotation.PARALLEL,
        LoopAnnotation.NONE,
        LoopAnnotation.NONE,
        LoopAnnotation.VECTORIZE,
    ]


def test_a_reduction_read_across_its_inner_loop_keeps_the_reduce_loop_innermost():
    dag = ComputeDAG(make_workload_key("softmax", (256, 128)))
    state = default_schedule(dag, HardwareParams(num_cores=4))
    max_stage = dag.compute_ops[0].name_str
    assert [it.name for it in state[max_stage].iters][-1] == dag.compute_ops[0].reduce_names[0]
    assert LoopAnnotation.VECTORIZE not in annotations(state, max_stage)


def test_elementwise_producers_are_inlined_and_small_stages_stay_serial():
    dag = ComputeDAG(make_workload_key("elementwise_chain", (4, 8)))
    state = default_schedule(dag, HardwareParams(num_cores=8))
    inlined = [s.name for s in state.stages if s.compute_at == ComputeAtKind.INLINED]
    assert inlined and all(name not in dag.output_names for name in inlined)
    for output in dag.output_names:
        assert LoopAnnotation.PARALLEL not in annotations(state, output)


def test_one_core_gives_no_parallel_loop():
    dag = ComputeDAG(make_workload_key("add", (256, 256)))
    state = default_schedule(dag, HardwareParams(num_cores=1))
    assert all(LoopAnnotation.PARALLEL not in annotations(state, s.name) for s in state.stages[2:])

"""Sketches and initial populations of SketchPolicy: TVM's structures, complete programs, numpy's results."""

import pytest
from programs_vs_numpy import assert_programs_match_numpy

from schedopt.compute_dag import ComputeDAG
from schedopt.dialects.sched import LoopAnnotation
from schedopt.hardware_params import HardwareParams
from schedopt.schedule.stage import ComputeAtKind
from schedopt.schedule.transform_steps import SplitStep
from schedopt.search_policy import PreloadCustomSketchRule, SketchPolicy
from schedopt.search_policy.sketch_rules import Condition
from schedopt.search_policy.split_factors import divisors, factorizations
from schedopt.search_task import SearchTask
from schedopt.workload_registry import make_workload_key


def policy_for(name: str, args: tuple, seed: int = 0, **params) -> SketchPolicy:
    task = SearchTask(name, args, hardware_params=HardwareParams(num_cores=2, vector_unit_bytes=32))
    return SketchPolicy(task, params=params or None, seed=seed, verbose=0)


SAMPLING = dict(evolutionary_search_population=200, sample_init_min_population=50)
"""Initial populations of a few hundred programs: enough for the properties tested, and fast."""


MATMUL_CACHE_WRITE_SKETCH = """\
Placeholder: A, B
for i.0 (0,?)
  for j.0 (0,?)
    for i.0 (0,?)
      for j.0 (0,?)
        for i.1 (0,?)
          for j.1 (0,?)
            for k.0 (0,?)
              for i.2 (0,?)
                for j.2 (0,?)
                  for k.1 (0,?)
                    for i.3 (0,?)
                      for j.3 (0,?)
                        C.local = ...
    for i.1 (0,?)
      for j.1 (0,?)
        C = ...
"""


def test_matmul_has_tvms_three_sketches():
    sketches = policy_for("matmul", (64, 64, 64)).generate_sketches()
    assert len(sketches) == 3
    # Tiled "SSRSRS" with a cache_write accumulator computed at the output's
    # first and second tile levels, and tiled without one.
    plain_sketch, level_1, level_2 = sketches
    assert str(level_1) == MATMUL_CACHE_WRITE_SKETCH
    assert [s.name for s in level_2.stages] == ["A", "B", "C.local", "C"]
    assert level_2["C.local"].attach == ("C", "j.1")
    plain = plain_sketch["C"]
    assert [it.name for it in plain.iters] == [
        *("i.0", "j.0", "i.1", "j.1", "k.0", "i.2", "j.2", "k.1", "i.3", "j.3"),
    ]


def test_elementwise_consumers_are_inlined_or_fused():
    sketches = policy_for("dense_bias_relu", (8, 32, 16)).generate_sketches()
    assert len(sketches) == 3
    for sketch in sketches:
        assert sketch["T_add"].compute_at == ComputeAtKind.INLINED
    # The dense is tiled inside T_relu's tiles (two levels), or tiled alone.
    assert [s["T_dense"].attach for s in sketches] == [("T_relu", "j.0"), ("T_relu", "j.1"), None]


def test_conv2d_is_tiled_with_and_without_a_cache_write_stage():
    sketches = policy_for("conv2d_nchw", (1, 4, 8, 8, 8, 3, 3, 1, 1)).generate_sketches()
    assert len(sketches) == 3
    # The padding (a branch: not strictly inlineable on CPU) stays a root stage.
    for sketch in sketches:
        assert sketch["pad_temp"].compute_at == ComputeAtKind.ROOT
    plain, level_1, level_2 = sketches
    spatial, reduce = ("nn", "ff", "yy", "xx"), ("rc", "ry", "rx")
    structure = [
        *(f"{a}.0" for a in spatial),
        *(f"{a}.1" for a in spatial),
        *(f"{a}.0" for a in reduce),
        *(f"{a}.2" for a in spatial),
        *(f"{a}.1" for a in reduce),
        *(f"{a}.3" for a in spatial),
    ]
    assert [it.name for it in plain["conv2d_nchw"].iters] == structure
    assert [it.name for it in level_1["conv2d_nchw.local"].iters] == structure
    assert level_1["conv2d_nchw.local"].attach == ("conv2d_nchw", "xx.0")
    assert level_2["conv2d_nchw.local"].attach == ("conv2d_nchw", "xx.1")


def test_const_tensor_indices_are_unrolled_and_the_rest_tiled_in_two_levels():
    from schedopt import te

    data = te.placeholder((8, 16), name="data")
    r = te.reduce_axis((0, 4), name="r")
    weights = te.compute((4, 4), lambda a, b: (a + b).astype("float32"), name="G")
    out = te.compute(
        (8, 4, 16),
        lambda i, a, j: te.sum(data[i, j] * weights[a, r], axis=r),
        name="transform",
        attrs={"auto_scheduler_simplify_const_tensor_indices": ["a", "r"]},
    )
    task = SearchTask(compute_dag=ComputeDAG([data, out]), hardware_params=HardwareParams(num_cores=2))
    sketches = SketchPolicy(task, seed=0, verbose=0).generate_sketches()
    loops = [(it.name, it.annotation) for it in sketches[0]["transform"].iters]
    assert loops == [
        ("i.0", LoopAnnotation.NONE),
        ("j.0", LoopAnnotation.NONE),
        ("i.1", LoopAnnotation.NONE),
        ("j.1", LoopAnnotation.NONE),
        ("a", LoopAnnotation.UNROLL),
        ("r", LoopAnnotation.UNROLL),
    ]


def test_long_reductions_get_rfactor_sketches():
    sketches = policy_for("softmax", (4, 1024)).generate_sketches()
    names = [{s.name for s in sketch.stages} for sketch in sketches]
    assert any("T_softmax_maxelem.rf" in n for n in names)
    assert any("T_softmax_expsum.rf" in n for n in names)
    assert {"T_softmax_maxelem", "T_softmax_expsum"} <= names[-1] and len(names[-1]) == 5
    assert len(sketches) == 9  # {no rfactor, rfactor outer, rfactor inner} for each reduction


def test_custom_sketch_rule_runs_first():
    def meet(policy, state, stage_id):
        return Condition.APPLY_AND_SKIP_REST if state.stages[stage_id].name == "C" else Condition.SKIP

    def apply(policy, state, stage_id):
        state.split("C", "i", [None])
        return [(state, stage_id - 1)]

    task = SearchTask("matmul", (16, 16, 16), hardware_params=HardwareParams(num_cores=2))
    policy = SketchPolicy(
        task, seed=0, verbose=0, init_search_callbacks=[PreloadCustomSketchRule(meet, apply)]
    )
    (sketch,) = policy.generate_sketches()
    assert [it.name for it in sketch["C"].iters] == ["i.0", "i.1", "j", "k"]


def test_factorizations_are_perfect_and_bounded():
    assert divisors(12) == (1, 2, 3, 4, 6, 12)
    schemes = factorizations(16, 2, 4)
    assert (4, 4) in schemes and (16, 1) in schemes and (1, 8) not in schemes
    for a, b in schemes:
        assert 16 % (a * b) == 0 and b <= 4


@pytest.mark.parametrize("name", ["matmul", "softmax"])
def test_initial_population_is_complete_distinct_and_seeded(name: str):
    args = (32, 32, 32) if name == "matmul" else (8, 64)
    population = policy_for(name, args, seed=7, **SAMPLING).sample_initial_population()
    assert len(population) >= 50
    assert len({str(s) for s in population}) == len(population)
    for state in population:
        for step in state.transform_steps:
            if isinstance(step, SplitStep):
                assert None not in step.lengths
        for stage in state.stages:
            assert all(it.extent is not None for it in stage.iters)
    again = policy_for(name, args, seed=7, **SAMPLING).sample_initial_population()
    assert [str(s) for s in again] == [str(s) for s in population]


def test_initial_population_is_a_batch_of_the_evolution_population():
    # Ansor samples whole batches: the minimum only matters when most draws fail.
    population = policy_for("matmul", (64, 64, 64), **SAMPLING).sample_initial_population()
    assert len(population) > 0.9 * SAMPLING["evolutionary_search_population"]


def test_sampling_a_small_space_ends_when_batches_find_nothing_new():
    policy = policy_for(
        "matmul", (2, 2, 2), evolutionary_search_population=32, sample_init_min_population=10**6
    )
    population = policy.sample_initial_population()
    assert 0 < len(population) < 10**6
    assert len({str(s) for s in population}) == len(population)


def test_initial_population_is_annotated():
    population = policy_for("matmul", (64, 64, 64), **SAMPLING).sample_initial_population()
    annotations = {it.annotation for s in population for st in s.stages for it in st.iters}
    assert {LoopAnnotation.PARALLEL, LoopAnnotation.VECTORIZE} <= annotations
    assert any(st.auto_unroll_max_step for s in population for st in s.stages)


WORKLOADS = [
    ("matmul", (24, 20, 18)),
    ("dense_bias_relu", (6, 16, 12)),
    ("conv2d_nchw", (1, 4, 8, 8, 8, 3, 3, 1, 1)),
    ("softmax", (6, 40)),
    ("layer_norm", (6, 40)),
]


@pytest.mark.parametrize("name,args", WORKLOADS, ids=[w for w, _ in WORKLOADS])
def test_sampled_programs_match_numpy(name: str, args: tuple):
    policy = policy_for(name, args, seed=1, evolutionary_search_population=12, sample_init_min_population=12)
    dag = ComputeDAG(make_workload_key(name, args))
    assert_programs_match_numpy(name, args, dag, policy.sample_initial_population()[:12])

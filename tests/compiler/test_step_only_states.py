"""A State read from a record holds only its steps; every API that takes a State replays them.

TVM replays the steps of such a state whenever it needs the stages (bound
inference, printing, building). Lowering it as if it had no stages built a
wrong program without any error, so each entry point is checked here, and
the public flow end to end: record file -> load_best_record -> build -> numpy.
"""

from pathlib import Path

import numpy as np
import pytest

import schedopt as ss
from schedopt.build import build, build_llvm_ir
from schedopt.errors import ScheduleError
from schedopt.layout_rewrite import LayoutRewriteOption
from schedopt.schedule.loop_state import State

RECORDS = Path(__file__).parents[1] / "benchmarks_support" / "data" / "matmul_512_records.json"


@pytest.fixture(scope="module")
def task() -> ss.SearchTask:
    return ss.SearchTask("matmul", (512, 512, 512))


@pytest.fixture(scope="module")
def best(task: ss.SearchTask) -> State:
    inp, _ = ss.load_best_record(str(RECORDS), task.workload_key)
    assert not inp.state.stages and inp.state.transform_steps
    return inp.state


def test_a_loaded_best_record_builds_the_right_program(task: ss.SearchTask, best: State):
    rng = np.random.default_rng(0)
    a, b = (rng.random((512, 512), dtype=np.float32) for _ in range(2))
    c = np.empty((512, 512), np.float32)
    build(task.compute_dag, best)(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4)


def test_step_only_state_lowers_as_its_replay(task: ss.SearchTask, best: State):
    dag = task.compute_dag
    replayed = dag.replay_steps(best.transform_steps)
    assert build_llvm_ir(dag, best) == build_llvm_ir(dag, replayed)
    assert dag.concrete_state(best).stages == replayed.stages


def test_dag_analyses_replay_a_step_only_state(task: ss.SearchTask, best: State):
    dag = task.compute_dag
    replayed = dag.replay_steps(best.transform_steps)
    inferred = dag.infer_bound_from_state(best)
    assert inferred.stages == dag.infer_bound_from_state(replayed).stages
    assert len(inferred.stages) == 4  # A, B, C.local, C
    assert dag.print_python_code_from_state(best) == dag.print_python_code_from_state(replayed)
    assert str(dag.apply_steps_from_state(best)) == str(dag.apply_steps_from_state(replayed))
    option = LayoutRewriteOption.INSERT_TRANSFORM_STAGE
    assert str(dag.rewrite_layout_from_state(best, option)) == str(
        dag.rewrite_layout_from_state(replayed, option)
    )


def test_primitives_on_a_step_only_state_say_to_replay(best: State):
    assert not best.is_concrete
    assert "transform steps only" in str(best)
    with pytest.raises(ScheduleError, match="holds only its 12 transform steps"):
        best.split(2, 0, [4])


def test_a_state_without_stages_or_steps_is_the_initial_one(task: ss.SearchTask):
    dag = task.compute_dag
    assert str(dag.concrete_state(State([]))) == str(dag.get_init_state())
    assert build_llvm_ir(dag, State([])) == build_llvm_ir(dag)

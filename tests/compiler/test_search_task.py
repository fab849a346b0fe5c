"""SearchTask: the three ways to make one, its defaults, and pickling with its DAG as IR."""

import pickle

import numpy as np
import pytest

import schedopt.workloads  # noqa: F401  (registers matmul)
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import WorkloadError
from schedopt.hardware_params import HardwareParams
from schedopt.layout_rewrite import LayoutRewriteOption
from schedopt.search_task import SearchTask, target_kind
from schedopt.workload_registry import make_workload_key

KEY = make_workload_key("matmul", (16, 16, 16))


def test_from_function_and_args():
    task = SearchTask(func="matmul", args=(16, 16, 16), target="llvm")
    assert task.workload_key == KEY
    assert task.compute_dag is not None and task.compute_dag.workload_key() == KEY


def test_from_workload_key_and_from_dag():
    assert SearchTask(workload_key=KEY).compute_dag.hash_key() == ComputeDAG(KEY).hash_key()
    dag = ComputeDAG.from_module(str(ComputeDAG(KEY).module))
    assert SearchTask(compute_dag=dag).workload_key == dag.workload_key()


def test_defaults_follow_the_target():
    task = SearchTask(workload_key=KEY)
    assert isinstance(task.hardware_params, HardwareParams)
    assert task.layout_rewrite_option == LayoutRewriteOption.get_target_default("llvm")
    explicit = SearchTask(workload_key=KEY, layout_rewrite_option=0)
    assert explicit.layout_rewrite_option is LayoutRewriteOption.NO_REWRITE


def test_bad_construction_names_the_problem():
    with pytest.raises(WorkloadError, match="needs func and args, a compute_dag or a workload_key"):
        SearchTask()
    with pytest.raises(WorkloadError, match="not both"):
        SearchTask(func="matmul", args=(4, 4, 4), workload_key=KEY)
    with pytest.raises(WorkloadError, match="target must be a non-empty string"):
        SearchTask(workload_key=KEY, target="")


def test_pickles_with_its_dag_as_ir():
    inputs = {"A": np.ones((16, 16), "float32")}
    task = SearchTask(workload_key=KEY, target="llvm -mcpu=skylake", task_inputs=inputs, desc="mm")
    copy = pickle.loads(pickle.dumps(task))
    assert copy.workload_key == KEY and copy.target == task.target and copy.desc == "mm"
    assert str(copy.compute_dag.module) == str(task.compute_dag.module)
    assert copy.compute_dag.workload_key() == KEY
    assert copy.task_input_names == ("A",)
    np.testing.assert_array_equal(copy.task_inputs["A"], inputs["A"])


def test_without_dag():
    task = SearchTask.without_dag(KEY, "llvm", task_input_names=["A"])
    assert task.compute_dag is None
    assert pickle.loads(pickle.dumps(task)).compute_dag is None


def test_target_kind():
    assert target_kind("llvm -mcpu=skylake-avx512") == "llvm"
    assert target_kind("cuda") == "cuda"


def test_a_task_on_a_target_without_a_search_space_fails_with_our_error():
    from schedopt.errors import TargetError
    from schedopt.search_policy import SketchPolicy

    # cuda has one now (tests/compiler/search_policy/test_gpu_sketches.py).
    task = SearchTask("matmul", (64, 64, 64), target="opencl")
    with pytest.raises(TargetError, match="no search space for target 'opencl'"):
        SketchPolicy(task)


def test_a_task_read_from_records_is_the_users_class_with_tvms_methods(tmp_path):
    import schedopt as ss
    from schedopt.errors import RecordError

    task = SearchTask.without_dag(KEY, "llvm")
    assert type(task) is ss.SearchTask
    copy = pickle.loads(pickle.dumps(task))
    assert (copy.workload_key, copy.compute_dag) == (KEY, None)
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(RecordError, match="has no valid record of workload"):
        copy.apply_best(str(empty))

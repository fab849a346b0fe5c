"""parallelize-annotated-loops on scheduled loop nests: the outermost parallel loop of each nest."""

from xdsl.dialects import scf
from xdsl.dialects.builtin import ModuleOp

from schedopt.build import lower
from schedopt.compute_dag import ComputeDAG
from schedopt.dialects.sched import LoopAnnotation, loop_annotation
from schedopt.workload_registry import make_workload_key


def parallel_loops(module: ModuleOp) -> list[scf.ParallelOp]:
    return [op for op in module.walk() if isinstance(op, scf.ParallelOp)]


def annotated_parallel_for_loops(module: ModuleOp) -> list[scf.ForOp]:
    return [
        op
        for op in module.walk()
        if isinstance(op, scf.ForOp) and loop_annotation(op) == LoopAnnotation.PARALLEL
    ]


def matmul() -> ComputeDAG:
    return ComputeDAG(make_workload_key("matmul", (16, 12, 8)))


def lower_with_parallel_loop(position: int) -> ModuleOp:
    """The matmul lowered with loop `position` of C (0: i, 1: j) annotated parallel."""
    dag = matmul()
    state = dag.get_init_state()
    state.parallel("C", state["C"].iters[position])
    return lower(dag, state)


def test_outermost_parallel_loop_becomes_scf_parallel():
    module = lower_with_parallel_loop(0)
    (loop,) = parallel_loops(module)
    assert loop.parent_op() is module.body.block.first_op  # directly in the kernel function
    assert not annotated_parallel_for_loops(module)


def test_nested_parallel_loop_stays_serial():
    dag = matmul()
    state = dag.get_init_state()
    io, ii = state.split("C", state["C"].iters[0], [4])
    state.parallel("C", io)
    state.parallel("C", ii)
    module = lower(dag, state)
    (outer,) = parallel_loops(module)
    inner = annotated_parallel_for_loops(module)
    assert inner and all(outer.is_ancestor(loop) for loop in inner)


def test_parallel_loop_inside_serial_loop():
    (loop,) = parallel_loops(lower_with_parallel_loop(1))
    assert isinstance(loop.parent_op(), scf.ForOp)


def test_unannotated_nest_is_unchanged():
    assert not parallel_loops(lower(matmul()))

"""What a user does with a task: tune it, read back its best schedule, print it.

These are TVM's `SearchTask.tune`, `apply_best` and `print_best`. They need
the tuning loop, the records and the compiler, all of which sit above
`schedopt.search_task`; this module lives at the top of the graph and
installs them into SearchTask when the package is imported (see
`schedopt.search_task` for why the task does not import them itself).
"""

from __future__ import annotations

from schedopt.auto_schedule import tune
from schedopt.build import lower_to_llvm_dialect
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import RecordError, WorkloadError
from schedopt.layout_rewrite import LayoutRewriteOption, rewrite_layout
from schedopt.records import load_best_record
from schedopt.runtime import translate_to_llvm_ir
from schedopt.schedule.loop_state import State
from schedopt.search_task import SearchTask, TaskWorkflow, install_task_workflow


def apply_best(
    task: SearchTask, log_file: str, layout_rewrite_option: int | None = None
) -> tuple[ComputeDAG, State]:
    """The DAG and the best State `log_file` holds for `task` (see `SearchTask.apply_best`)."""
    best, _ = load_best_record(log_file, task.workload_key, task.target, task.workload_hash)
    if best is None:
        raise RecordError(f"{log_file} has no valid record of workload {task.workload_key} on {task.target}")
    dag = task.dag_or_error()
    state = dag.infer_bound_from_state(dag.replay_steps(best.state.transform_steps))
    option = task.layout_rewrite_option if layout_rewrite_option is None else layout_rewrite_option
    rewritten = rewrite_layout(dag, state, LayoutRewriteOption(option))
    return rewritten.dag, rewritten.state


def print_best(task: SearchTask, log_file: str, print_mode: str = "schedule") -> str:
    """The best schedule in `log_file` as a transform program or LLVM IR (see `SearchTask.print_best`)."""
    if print_mode == "schedule":
        dag, state = apply_best(task, log_file, LayoutRewriteOption.NO_REWRITE)
        return dag.print_python_code_from_state(state)
    if print_mode == "llvm":
        return translate_to_llvm_ir(lower_to_llvm_dialect(*apply_best(task, log_file)))
    if print_mode == "ptx":
        raise WorkloadError("print_mode 'ptx' needs the GPU back end, which this build does not have yet")
    raise WorkloadError(f"print_mode must be 'schedule', 'llvm' or 'ptx', not {print_mode!r}")


install_task_workflow(TaskWorkflow(tune=tune, apply_best=apply_best, print_best=print_best))

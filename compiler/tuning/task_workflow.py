"""What a user does with a task: tune it, read back its best schedule, print it.

These are TVM's `SearchTask.tune`, `apply_best` and `print_best`. They need
the tuning loop, the records and the compiler, all of which sit above
`schedopt.search_task`; this module lives at the top of the graph and
installs them into SearchTask when the package is imported (see
`schedopt.search_task` for why the task does not import them itself).
"""

from __future__ import annotations

from schedopt.build import build_gpu, lower_gpu, lower_to_llvm_dialect
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import RecordError, WorkloadError
from schedopt.layout_rewrite import LayoutRewriteOption, rewrite_layout
from schedopt.records import load_best_record
from schedopt.runtime import translate_to_llvm_ir
from schedopt.schedule.loop_state import State
from schedopt.search_policy import SearchPolicy
from schedopt.search_task import Proposer, SearchTask, TaskWorkflow, TuningRequest, install_task_workflow
from schedopt.tuning.auto_schedule import tune
from schedopt.tuning_options import TuningOptions


def tune_task(
    task: SearchTask, options: TuningRequest, search_policy: Proposer | None = None
) -> State | None:
    """`SearchTask.tune`: `tune`, once the options and policy are checked to be what it takes."""
    if not isinstance(options, TuningOptions):
        raise TypeError(f"SearchTask.tune takes TuningOptions, not {type(options).__name__}")
    if search_policy is not None and not isinstance(search_policy, SearchPolicy):
        raise TypeError(f"SearchTask.tune takes a SearchPolicy, not {type(search_policy).__name__}")
    return tune(task, options, search_policy)


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


PRINT_MODES = {"llvm": ("llvm",), "cuda": ("cuda", "nvptx"), "ptx": ("cuda", "nvptx")}
"""The code `print_best` prints besides the schedule, and the target kinds it prints it for."""


def print_best(task: SearchTask, log_file: str, print_mode: str = "schedule") -> str:
    """The best schedule in `log_file` as a transform program, LLVM IR, GPU kernels or PTX
    (see `SearchTask.print_best`)."""
    if print_mode == "schedule":
        dag, state = apply_best(task, log_file, LayoutRewriteOption.NO_REWRITE)
        return dag.print_python_code_from_state(state)
    if print_mode not in PRINT_MODES:
        raise WorkloadError(
            f"print_mode must be 'schedule', {', '.join(map(repr, PRINT_MODES))}, not {print_mode!r}"
        )
    kind = task.target.split()[0]
    if kind not in PRINT_MODES[print_mode]:
        raise WorkloadError(
            f"print_mode {print_mode!r} prints a program for target {' or '.join(PRINT_MODES[print_mode])}; "
            f"task {task.workload_key} targets {task.target!r}"
        )
    if print_mode == "llvm":
        return translate_to_llvm_ir(lower_to_llvm_dialect(*apply_best(task, log_file)))
    dag, state = apply_best(task, log_file)
    if print_mode == "cuda":
        return str(lower_gpu(dag, state, task.hardware_params))
    return build_gpu(dag, state, task.target, task.hardware_params).ptx


install_task_workflow(TaskWorkflow(tune=tune_task, apply_best=apply_best, print_best=print_best))

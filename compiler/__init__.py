"""sched-opt: an Ansor-style auto-scheduler for tensor programs on xDSL.

The public API mirrors `tvm.auto_scheduler`:

```python
import schedopt as ss
from schedopt import te

task = ss.SearchTask(my_workload, (512, 512, 512))
task.tune(ss.TuningOptions(num_measure_trials=200, measure_callbacks=[ss.RecordToFile("log.json")]))
dag, state = task.apply_best("log.json")
kernel = ss.build(dag, state)
```
"""

import importlib

from schedopt import te
from schedopt import workloads as workloads
from schedopt.aligned_arrays import aligned_array, aligned_empty
from schedopt.build import build, lower
from schedopt.compiled_model import CompiledModel, compile_model
from schedopt.compute_dag import ComputeDAG
from schedopt.cost_model import CostModel, RandomModel, XGBModel
from schedopt.dispatcher import ApplyHistoryBest, DispatchContext
from schedopt.errors import (
    CompileError,
    FrontendError,
    LoweringError,
    NetworkError,
    RecordError,
    RuntimeArgumentError,
    SchedOptError,
    ScheduleError,
    TargetError,
    TEError,
    WorkloadError,
)
from schedopt.gpu_kernel import GPUKernel, KernelLaunch
from schedopt.hardware_params import HardwareParams
from schedopt.layout_rewrite import (
    LayoutRewriteOption,
    get_shape_from_rewritten_layout,
    remove_index_check,
    rewrite_compute_body,
)
from schedopt.measurement import (
    CUDARunner,
    LocalBuilder,
    LocalRunner,
    MeasureCallback,
    MeasureErrorNo,
    MeasureInput,
    MeasureResult,
    ProgramBuilder,
    ProgramRunner,
)
from schedopt.measurement.program_measurer import ProgramMeasurer
from schedopt.records import (
    RecordReader,
    RecordToFile,
    load_best_record,
    load_records,
    recover_measure_input,
    save_records,
)
from schedopt.runtime import Kernel
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import Iterator, Stage
from schedopt.search_policy import (
    EmptyPolicy,
    PreloadCustomSketchRule,
    PreloadMeasuredStates,
    SearchCallback,
    SearchPolicy,
    SketchPolicy,
)
from schedopt.search_task import SearchTask
from schedopt.task_extraction import extract_tasks

# Imported for their effect (the redundant aliases say so): the library's workloads register; SearchTask
# gets tune, apply_best, print_best.
from schedopt.tuning import task_workflow as task_workflow
from schedopt.tuning.auto_schedule import auto_schedule, create_task
from schedopt.tuning.task_scheduler import TaskScheduler
from schedopt.tuning.task_scheduler_callbacks import (
    LogEstimatedLatency,
    PrintTableInfo,
    TaskSchedulerCallback,
)
from schedopt.tuning_options import TuningOptions
from schedopt.workload_registry import make_workload_key, register_workload, workload_key_to_tensors

__all__ = [
    "ApplyHistoryBest",
    "CUDARunner",
    "CompileError",
    "CompiledModel",
    "ComputeDAG",
    "CostModel",
    "DispatchContext",
    "EmptyPolicy",
    "FrontendError",
    "GPUKernel",
    "HardwareParams",
    "Iterator",
    "Kernel",
    "KernelLaunch",
    "LayoutRewriteOption",
    "LocalBuilder",
    "LocalRunner",
    "LogEstimatedLatency",
    "LoweringError",
    "MeasureCallback",
    "MeasureErrorNo",
    "MeasureInput",
    "MeasureResult",
    "NetworkError",
    "PreloadCustomSketchRule",
    "PreloadMeasuredStates",
    "PrintTableInfo",
    "ProgramBuilder",
    "ProgramMeasurer",
    "ProgramRunner",
    "RandomModel",
    "RecordError",
    "RecordReader",
    "RecordToFile",
    "RuntimeArgumentError",
    "SchedOptError",
    "ScheduleError",
    "SearchCallback",
    "SearchPolicy",
    "SearchTask",
    "SketchPolicy",
    "Stage",
    "State",
    "TEError",
    "TargetError",
    "TaskScheduler",
    "TaskSchedulerCallback",
    "TuningOptions",
    "WorkloadError",
    "XGBModel",
    "aligned_array",
    "aligned_empty",
    "auto_schedule",
    "build",
    "compile_model",
    "create_task",
    "extract_tasks",
    "get_shape_from_rewritten_layout",
    "load_best_record",
    "load_records",
    "lower",
    "make_workload_key",
    "recover_measure_input",
    "register_workload",
    "remove_index_check",
    "rewrite_compute_body",
    "save_records",
    "te",
    "workload_key_to_tensors",
]

_DISTRIBUTED_EXPORTS = {
    "LocalRPCMeasureContext": "schedopt.measurement.local_rpc",
    "RPCBuilder": "schedopt.measurement.rpc_builder",
    "RPCRunner": "schedopt.measurement.rpc_runner",
}
"""Names that need Dask (the `distributed` extra): imported on first use, so `import schedopt` does not."""


def __getattr__(name: str) -> object:
    if name not in _DISTRIBUTED_EXPORTS:
        raise AttributeError(f"module 'schedopt' has no attribute {name!r}")
    try:
        module = importlib.import_module(_DISTRIBUTED_EXPORTS[name])
    except ModuleNotFoundError as error:
        if error.name not in ("dask", "distributed"):
            raise
        raise SchedOptError(
            f"schedopt.{name} measures on Dask, which is not installed: pip install 'sched-opt[distributed]'"
        ) from None
    return getattr(module, name)

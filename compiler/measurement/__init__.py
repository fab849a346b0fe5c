"""Measurement: build candidate schedules, run them, time them, and say what went wrong.

The search hands a batch of `MeasureInput`s (a task and a State) to a
`ProgramBuilder`, then the builds to a `ProgramRunner`, and gets one
`MeasureResult` per candidate: its costs in seconds, or an error code of
`MeasureErrorNo` with a message. `LocalBuilder` compiles candidates in a
pool of worker processes (`process_pool`); `LocalRunner` checks each
against the unscheduled program (`correctness`) and times it
(`time_evaluator`) in a worker process of its own; `CUDARunner` measures cuda
candidates with pycuda, and `LocalRunner` hands them to it. `ProgramMeasurer` drives
both for the tuning loop.
"""

from schedopt.measurement.cuda_runner import CUDARunner
from schedopt.measurement.interfaces import MeasureCallback, MeasuredPolicy, ProgramBuilder, ProgramRunner
from schedopt.measurement.local_builder import BuildFunc, LocalBuilder, default_build_func
from schedopt.measurement.local_runner import LocalRunner
from schedopt.measurement.results import MAX_FLOAT, BuildResult, MeasureErrorNo, MeasureInput, MeasureResult

__all__ = [
    "MAX_FLOAT",
    "BuildFunc",
    "BuildResult",
    "CUDARunner",
    "LocalBuilder",
    "LocalRunner",
    "MeasureCallback",
    "MeasureErrorNo",
    "MeasureInput",
    "MeasureResult",
    "MeasuredPolicy",
    "ProgramBuilder",
    "ProgramRunner",
    "default_build_func",
]

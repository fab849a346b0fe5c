"""What a measurement takes and gives: a candidate (`MeasureInput`), its build, its result.

Error codes and the failure cost are TVM's, as records store them; a
candidate that fails never stops a batch, every failure mode is a result.
"""

from __future__ import annotations

import enum
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from schedopt.layout_rewrite import PlaceholderLayout, pre_transform
from schedopt.runtime import BufferSpec
from schedopt.schedule.loop_state import State
from schedopt.schedule.transform_steps import step_from_record
from schedopt.search_task import SearchTask

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from schedopt.gpu_kernel import GPUKernel

MAX_FLOAT = 1e10
"""The cost recorded for a failed measurement (TVM's value)."""


class MeasureErrorNo(enum.IntEnum):
    """Why a measurement failed; the values are TVM's, as stored in records."""

    NO_ERROR = 0
    INSTANTIATION_ERROR = 1
    COMPILE_HOST = 2
    COMPILE_DEVICE = 3
    RUNTIME_DEVICE = 4
    WRONG_ANSWER = 5
    BUILD_TIMEOUT = 6
    RUN_TIMEOUT = 7
    UNKNOWN_ERROR = 8

    def describe(self) -> str:
        """A phrase for a person: "the schedule does not apply", ..."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    MeasureErrorNo.NO_ERROR: "no error",
    MeasureErrorNo.INSTANTIATION_ERROR: "the schedule does not apply to the workload",
    MeasureErrorNo.COMPILE_HOST: "the program failed to compile for the host",
    MeasureErrorNo.COMPILE_DEVICE: "the program failed to compile for the device",
    MeasureErrorNo.RUNTIME_DEVICE: "the program failed while running",
    MeasureErrorNo.WRONG_ANSWER: "the program computed a wrong answer",
    MeasureErrorNo.BUILD_TIMEOUT: "the build timed out",
    MeasureErrorNo.RUN_TIMEOUT: "the run timed out",
    MeasureErrorNo.UNKNOWN_ERROR: "unknown error",
}


@dataclass(frozen=True)
class MeasureInput:
    """A candidate to measure: the task and the State whose steps schedule it.

    Inputs read from records carry a task without DAG and a State holding
    only the steps (`schedopt.records.recover_measure_input` rebuilds both).
    """

    task: SearchTask
    state: State

    def serialize(self) -> bytes:
        """The input as bytes for another process: the task (its DAG as IR text) and the steps.

        The State's stages are not sent: the receiver replays the steps on
        the DAG, which checks them.
        """
        return pickle.dumps((self.task, [step.to_record() for step in self.state.transform_steps]))

    @staticmethod
    def deserialize(data: bytes) -> MeasureInput:
        """The input `serialize` gave, with a State holding only the steps."""
        task, step_records = pickle.loads(data)
        return MeasureInput(task, State([], [step_from_record(record) for record in step_records]))


@dataclass(frozen=True)
class MeasureResult:
    """The outcome of a measurement: costs in seconds, or an error code with its message.

    `error_msg` is never empty when `error_no` is not `NO_ERROR`: without a
    message of its own (a record file keeps only the code), it is the code's
    description. `all_cost` is the seconds spent building and running;
    `timestamp` the time of the measurement (seconds since the epoch);
    `device_key` the key of the devices that measured it (`RPCRunner`),
    None for this host.
    """

    costs: tuple[float, ...]
    error_no: MeasureErrorNo
    error_msg: str
    all_cost: float
    timestamp: float
    device_key: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "costs", tuple(float(c) for c in self.costs))
        object.__setattr__(self, "error_no", MeasureErrorNo(self.error_no))
        if self.error_no != MeasureErrorNo.NO_ERROR and not self.error_msg:
            object.__setattr__(self, "error_msg", self.error_no.describe())

    @staticmethod
    def failure(error_no: MeasureErrorNo, error_msg: str, all_cost: float = 0.0) -> MeasureResult:
        """A failed measurement, costed `MAX_FLOAT` as TVM records it."""
        return MeasureResult((MAX_FLOAT,), error_no, error_msg, all_cost, time.time())

    def mean_cost(self) -> float:
        """The cost records are ranked by: the mean of the costs (`MAX_FLOAT` for a failure)."""
        if self.error_no != MeasureErrorNo.NO_ERROR or not self.costs:
            return MAX_FLOAT
        return sum(self.costs) / len(self.costs)


@dataclass(frozen=True)
class BuildResult:
    """A built candidate: its artifact, name and arguments; or why the build failed.

    The artifact is `llvm_ir` for a CPU target and `gpu_kernel` for a cuda
    one; the other is None, and both are None for a failed build.
    """

    llvm_ir: str | None
    func_name: str
    arg_specs: tuple[BufferSpec, ...]
    error_no: MeasureErrorNo
    error_msg: str
    time_cost: float
    pre_transformed: tuple[PlaceholderLayout, ...] = ()
    """The inputs the kernel takes in a rewritten layout (REWRITE_FOR_PRE_TRANSFORMED)."""
    gpu_kernel: GPUKernel | None = None
    """For a cuda target: the PTX of the kernels and their launches."""

    def kernel_inputs(self, inputs: Sequence[NDArray[Any]]) -> list[NDArray[Any]]:
        """The kernel's inputs from the workload's (placeholder order): weights in their new layouts."""
        names = [spec.name for spec in self.arg_specs[: len(inputs)]]
        return pre_transform(self.pre_transformed, names, inputs)

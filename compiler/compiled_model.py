"""`compile_model`: a whole network compiled for the CPU, each operator under its best record or a default.

What TVM's `relay.build` inside `ApplyHistoryBest` gives: the model is
loaded and fused (`schedopt.frontend.load_network`); each distinct operator
computation (`schedopt.task_extraction.operator_workloads`, so the calls
of twelve identical blocks share one kernel) is scheduled by the best
record of `records` (matched by workload key or structural hash, as
`ApplyHistoryBest` matches) or else by `default_schedule`, and built once.

Everything that does not depend on the inputs is done here, once:

- weights: where a schedule rewrites the layout of a layout-free input
  (REWRITE_FOR_PRE_TRANSFORMED, the CPU default of a network) and every
  call binds it to a parameter, the parameter is transformed now and the
  kernel takes it in its new layout;
- memory: the intermediate tensors share buffers by liveness
  (`schedopt.memory_plan`), allocated once; only the outputs are new
  arrays on each run, so results never change under the caller's feet.
  Weights, buffers and outputs start on a cache line, as the kernels were
  tuned on (`schedopt.aligned_arrays`); an input that does not is copied.

```python
compiled = ss.compile_model("resnet.onnx", records="resnet.json")
(logits,) = compiled(images)
```

A `CompiledModel` reuses its buffers, so one instance must not be called
from several threads at once.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.ir import SSAValue

from schedopt.aligned_arrays import aligned_array, aligned_empty
from schedopt.build import build_cpu
from schedopt.compute_dag import ComputeDAG
from schedopt.default_schedule import default_schedule
from schedopt.dispatcher import ApplyHistoryBest
from schedopt.errors import NetworkError, RuntimeArgumentError, SchedOptError, TargetError
from schedopt.frontend.loading import load_network
from schedopt.frontend.network import Network, NetworkInput, shape_and_dtype
from schedopt.hardware_params import HardwareParams
from schedopt.layout_rewrite import LayoutRewrite, LayoutRewriteOption, PlaceholderLayout, rewrite_layout
from schedopt.measurement import MeasureInput, MeasureResult
from schedopt.measurement.timing import Timing, time_callable
from schedopt.memory_plan import Lifetime, plan_memory, view
from schedopt.runtime import BufferSpec, Kernel, is_numpy_array
from schedopt.schedule.loop_state import State
from schedopt.search_task import target_kind
from schedopt.task_extraction import OperatorWorkload, operator_workloads

Records = str | os.PathLike[str] | ApplyHistoryBest | Iterable[tuple[MeasureInput, MeasureResult]]
"""A record file (.json or .db), an `ApplyHistoryBest`, or (input, result) pairs."""


MODEL_TARGETS = ("llvm",)
"""The targets a whole model compiles for: its operators run as host kernels called in order."""


@dataclass(frozen=True)
class CompiledOperator:
    """One distinct operator computation of the model, compiled once for all its calls."""

    function_names: tuple[str, ...]
    workload_key: str
    kernel: Kernel
    tuned: bool
    """Whether the schedule is a record's (else the default schedule)."""
    calls: int
    placeholder_names: tuple[str, ...]
    """The kernel's inputs, in order (the operator functions' arguments)."""
    pre_transformed: tuple[PlaceholderLayout, ...]
    """The layout-free inputs the kernel takes in a new layout (transformed at compile time)."""


@dataclass(frozen=True)
class _Step:
    kernel: Kernel
    slots: tuple[int, ...]


def compile_model(
    model: Any,
    records: Records | None = None,
    target: str = "llvm",
    params: Mapping[str, np.ndarray] | None = None,
    hardware_params: HardwareParams | None = None,
) -> CompiledModel:
    """Compile `model` (anything `load_network` takes) into a callable on numpy arrays.

    Each operator uses its best record in `records` when there is one, else
    the default schedule. Parallel loops run on `hardware_params.num_cores`
    threads (None: the host's).
    """
    if target_kind(target) not in MODEL_TARGETS:
        raise TargetError(
            f"compile_model: no back end for target {target!r} (supported: {', '.join(MODEL_TARGETS)}; "
            "GPU kernels build one operator at a time with build(..., target='cuda'))"
        )
    network = load_network(model, params, target)
    hardware = hardware_params if hardware_params is not None else HardwareParams()
    history = _history(records)
    _check_param_values(network)
    compiled = [_compile_operator(w, network, history, target, hardware) for w in operator_workloads(network)]
    return CompiledModel(network, compiled)


def _history(records: Records | None) -> ApplyHistoryBest | None:
    if records is None or isinstance(records, ApplyHistoryBest):
        return records
    return ApplyHistoryBest(records)


def _check_param_values(network: Network) -> None:
    missing = [p.name for p in network.parameters if p.name not in network.params]
    if missing:
        raise NetworkError(f"no value for parameter {', '.join(missing)}: pass it in params")


def _compile_operator(
    workload: OperatorWorkload,
    network: Network,
    history: ApplyHistoryBest | None,
    target: str,
    hardware: HardwareParams,
) -> CompiledOperator:
    """The kernel of one computation: its record's schedule, else the default, else the naive program."""
    dag = workload.dag
    best = None if history is None else history.best(target, workload.workload_key, dag.hash_key())
    schedules: list[tuple[bool, Callable[[], State]]] = []
    if best is not None:
        steps = best[0].state.transform_steps
        schedules.append((True, lambda: dag.replay_steps(steps)))
    schedules.append((False, lambda: default_schedule(dag, hardware)))
    for tuned, schedule in schedules:
        try:
            rewrite = _layout_rewrite(workload, network, schedule(), target)
            kernel = build_cpu(rewrite.dag, rewrite.state, hardware)
        except SchedOptError as error:
            what = "its best record" if tuned else "the default schedule"
            warnings.warn(
                f"operator {', '.join(workload.function_names)}: {what} does not build ({error}); "
                "falling back to a simpler schedule",
                stacklevel=3,
            )
            continue
        return _compiled(workload, kernel, tuned, rewrite.pre_transformed)
    return _compiled(workload, build_cpu(dag, None, hardware), False, ())


def _compiled(
    workload: OperatorWorkload, kernel: Kernel, tuned: bool, pre_transformed: tuple[PlaceholderLayout, ...]
) -> CompiledOperator:
    return CompiledOperator(
        tuple(workload.function_names),
        workload.workload_key,
        kernel,
        tuned,
        len(workload.calls),
        tuple(workload.dag.placeholder_names),
        pre_transformed,
    )


def _layout_rewrite(
    workload: OperatorWorkload, network: Network, state: State, target: str
) -> LayoutRewrite[ComputeDAG]:
    """The network's layout rewrite, where every call binds the rewritten inputs to parameters."""
    dag = workload.dag
    option = LayoutRewriteOption.get_target_default(target, in_relay_integration=True)
    rewrite = rewrite_layout(dag, state, option)
    params = {p.value for p in network.parameters}
    positions = [dag.placeholder_names.index(layout.placeholder) for layout in rewrite.pre_transformed]
    if all(call.args[p] in params for call in workload.calls for p in positions):
        return rewrite
    return rewrite_layout(dag, state, LayoutRewriteOption.NO_REWRITE)


class CompiledModel:
    """A compiled network: call it with the inputs (numpy arrays, in the model's order) for the outputs.

    `inputs` and `output_specs` describe the signature; `operators` tells,
    for each distinct operator computation, its kernel and whether a record
    scheduled it; `num_buffers` buffers of `buffer_bytes` in all hold its
    `num_intermediates` intermediate tensors.
    """

    def __init__(self, network: Network, operators: Sequence[CompiledOperator]):
        self.name = network.graph.sym_name.data
        self.inputs: list[NetworkInput] = network.inputs
        self.operators = list(operators)
        self.output_specs = [
            BufferSpec(f"output {i}", shape, np.dtype(dtype))
            for i, (shape, dtype) in enumerate(map(shape_and_dtype, network.outputs))
        ]
        self._slots: list[np.ndarray | None] = []
        self._slot_of: dict[Any, int] = {}
        self._input_slots = tuple(self._slot(i.value) for i in self.inputs)
        self._steps: list[_Step] = []
        self._fresh: list[tuple[int, BufferSpec]] = []
        intermediates = self._plan_calls(network)
        plan = plan_memory([lifetime for _, lifetime in intermediates])
        buffers = plan.allocate()
        for (value, _), buffer in zip(intermediates, plan.buffer_of, strict=True):
            shape, dtype = shape_and_dtype(value)
            self._slots[self._slot_of[value]] = view(buffers[buffer], shape, np.dtype(dtype))
        self.num_intermediates = len(intermediates)
        self.num_buffers = len(plan.buffer_bytes)
        self.buffer_bytes = plan.total_bytes
        computed = {result for call in network.calls for result in call.results}
        returned: set[SSAValue] = set()
        self._returns: list[tuple[int, bool]] = []
        for value in network.outputs:
            # A returned input or parameter, or a value returned twice, is copied: each output is its own array.
            self._returns.append((self._slot(value), value in returned or value not in computed))
            returned.add(value)

    def _slot(self, key: Any, value: np.ndarray | None = None) -> int:
        """The slot of a graph value (or of a parameter in a layout), made with `value` if new."""
        if key not in self._slot_of:
            self._slot_of[key] = len(self._slots)
            self._slots.append(value)
        return self._slot_of[key]

    def _plan_calls(self, network: Network) -> list[tuple[SSAValue, Lifetime]]:
        """The kernel calls with their argument slots; the intermediate values and their lifetimes."""
        operator_of = {name: op for op in self.operators for name in op.function_names}
        param_names = {p.value: p.name for p in network.parameters}
        outputs = set(network.outputs)
        calls = network.calls
        last_use = {arg: step for step, call in enumerate(calls) for arg in call.args}
        intermediates: list[tuple[SSAValue, Lifetime]] = []
        for step, call in enumerate(calls):
            operator = operator_of[call.name]
            layouts = {layout.placeholder: layout for layout in operator.pre_transformed}
            slots: list[int] = []
            for arg, placeholder in zip(call.args, operator.placeholder_names, strict=True):
                if arg in param_names:
                    name, layout = param_names[arg], layouts.get(placeholder)
                    value = network.params[name] if layout is None else layout.transform(network.params[name])
                    slots.append(self._slot((name, layout), aligned_array(value)))
                else:
                    slots.append(self._slot(arg))
            for result in call.results:
                shape, dtype = shape_and_dtype(result)
                slots.append(self._slot(result))
                if result in outputs:
                    self._fresh.append(
                        (slots[-1], BufferSpec(f"output of @{call.name}", shape, np.dtype(dtype)))
                    )
                else:
                    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
                    intermediates.append((result, Lifetime(nbytes, step, last_use.get(result, step))))
            self._steps.append(_Step(operator.kernel, tuple(slots)))
        return intermediates

    def __call__(self, *inputs: np.ndarray) -> list[np.ndarray]:
        """Run the model; the outputs are new arrays, in the model's output order."""
        if len(inputs) != len(self.inputs):
            expected = ", ".join(i.name for i in self.inputs)
            raise RuntimeArgumentError(
                f"model @{self.name} takes {len(self.inputs)} inputs ({expected}), got {len(inputs)}"
            )
        slots = self._slots
        for spec, index, value in zip(self.inputs, self._input_slots, inputs, strict=True):
            slots[index] = _checked_input(spec, value)
        for index, spec in self._fresh:
            slots[index] = aligned_empty(spec.shape, spec.dtype)
        try:
            for step in self._steps:
                step.kernel(*_filled(slots, step.slots))
            outputs: list[np.ndarray] = []
            for index, copy in self._returns:
                array = slots[index]
                assert array is not None, "every returned slot is an input, a parameter or computed"
                outputs.append(array.copy() if copy else array)
            return outputs
        finally:
            for index in (*self._input_slots, *(i for i, _ in self._fresh)):
                slots[index] = None

    def benchmark(
        self, inputs: Sequence[np.ndarray], repeat: int = 5, min_repeat_ms: float = 100.0
    ) -> Timing:
        """Seconds per run of the model on `inputs` (min and median of `repeat` repeats, after a warm-up)."""
        return time_callable(lambda: self(*inputs), repeat, min_repeat_ms)

    @property
    def tuned_functions(self) -> list[str]:
        """The operator functions scheduled by a record."""
        return [name for op in self.operators if op.tuned for name in op.function_names]

    @property
    def default_functions(self) -> list[str]:
        """The operator functions under the default schedule (no record, or one that did not build)."""
        return [name for op in self.operators if not op.tuned for name in op.function_names]

    def __repr__(self) -> str:
        functions = sum(len(op.function_names) for op in self.operators)
        tuned = ", ".join(self.tuned_functions) or "none"
        default = ", ".join(self.default_functions) or "none"
        return (
            f"CompiledModel(@{self.name}: {len(self.inputs)} inputs, {len(self.output_specs)} outputs, "
            f"{functions} operator functions in {len(self.operators)} kernels; records: {tuned}; "
            f"default schedule: {default}; {self.num_buffers} buffers for {self.num_intermediates} "
            f"intermediate tensors, {self.buffer_bytes} bytes)"
        )


def _filled(slots: Sequence[np.ndarray | None], indices: Iterable[int]) -> list[np.ndarray]:
    """The arrays of a kernel call's slots: inputs, parameters and planned buffers, all set while the model runs."""
    arrays = [slots[i] for i in indices]
    filled = [array for array in arrays if array is not None]
    assert len(filled) == len(arrays), "a kernel call reads a slot the model did not fill"
    return filled


def _checked_input(spec: NetworkInput, value: Any) -> np.ndarray:
    """`value` as the aligned C-contiguous array input `spec` expects (copied if it is not one), or a
    RuntimeArgumentError naming the input."""
    dtype = np.dtype(spec.dtype)
    array = value if is_numpy_array(value) else np.asarray(value, dtype=dtype)
    expected = f"{dtype}[{', '.join(map(str, spec.shape))}]"
    if array.dtype != dtype or array.shape != spec.shape:
        got = f"{array.dtype}[{', '.join(map(str, array.shape))}]"
        raise RuntimeArgumentError(f"input {spec.name!r}: expected {expected}, got {got}")
    return aligned_array(array)

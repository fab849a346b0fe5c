"""Small operator functions (the package's operators on placeholders) and a reference interpreter of network modules.

`run_network` runs the graph function's calls in order, each operator
function compiled unscheduled (`ss.build(ComputeDAG(function))`), so fused
and unfused networks can be compared number for number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from xdsl.ir import SSAValue

import schedopt as ss
from schedopt import te
from schedopt.frontend import operators
from schedopt.frontend.network import Network, shape_and_dtype
from schedopt.workloads.matmul import matmul_stage

_kernels: dict[str, ss.Kernel] = {}


def run_network(network: Network, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """The network's outputs for `inputs` (by input name), with its parameter values."""
    env: dict[SSAValue, np.ndarray] = {}
    for argument in network.inputs:
        env[argument.value] = np.asarray(inputs[argument.name], argument.dtype)
    for argument in network.parameters:
        env[argument.value] = network.params[argument.name]
    for call in network.calls:
        key = str(call.callee)
        if key not in _kernels:
            _kernels[key] = ss.build(ss.ComputeDAG(call.callee))
        outputs = [np.empty(*shape_and_dtype(r)) for r in call.results]
        _kernels[key](*(env[a] for a in call.args), *outputs)
        env.update(zip(call.results, outputs, strict=True))
    return [env[v] for v in network.outputs]


def matmul(n: int, k: int, m: int) -> list[te.Tensor]:
    """The library's matmul stage, named as a network's (`T_matmul`)."""
    A = te.placeholder((n, k), name="A")
    B = te.placeholder((k, m), name="B")
    return [A, B, matmul_stage(A, B, name="T_matmul")]


def on_placeholders(
    operator: Callable[..., te.Tensor], *shapes: tuple[int, ...], names: Sequence[str] = ("A", "B")
) -> list[te.Tensor]:
    """An operator function's tensors: placeholders of `shapes` named `names`, then the package's `operator`."""
    inputs = [te.placeholder(shape, name=name) for shape, name in zip(shapes, names, strict=False)]
    return [*inputs, operator(*inputs)]


def bias_add(n: int, m: int) -> list[te.Tensor]:
    return on_placeholders(operators.add, (n, m), (m,), names=("A", "bias"))


def add(shape: tuple[int, ...]) -> list[te.Tensor]:
    return on_placeholders(operators.add, shape, shape)


def multiply(shape: tuple[int, ...]) -> list[te.Tensor]:
    return on_placeholders(operators.multiply, shape, shape)


def relu(shape: tuple[int, ...]) -> list[te.Tensor]:
    return on_placeholders(operators.relu, shape)


def exp(shape: tuple[int, ...]) -> list[te.Tensor]:
    A = te.placeholder(shape, name="A")
    return [A, te.compute(shape, lambda *i: te.exp(A[i]), name="T_exp")]


def transpose(n: int, m: int) -> list[te.Tensor]:
    return on_placeholders(operators.transpose, (n, m))


def reshape(shape: tuple[int, int], new_shape: tuple[int, int]) -> list[te.Tensor]:
    return on_placeholders(lambda data: operators.reshape(data, new_shape), shape)


def row_sum(n: int, m: int) -> list[te.Tensor]:
    A = te.placeholder((n, m), name="A")
    r = te.reduce_axis((0, m), name="k")
    return [A, te.compute((n,), lambda i: te.sum(A[i, r], axis=r), name="T_sum")]

"""Small te operators and a reference interpreter of network modules, for the network tests.

`run_network` runs the graph function's calls in order, each operator
function compiled unscheduled (`ss.build(ComputeDAG(function))`), so fused
and unfused networks can be compared number for number.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from xdsl.ir import SSAValue

import schedopt as ss
from schedopt import te
from schedopt.frontend.network import Network, shape_and_dtype

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
    A = te.placeholder((n, k), name="A")
    B = te.placeholder((k, m), name="B")
    r = te.reduce_axis((0, k), name="k")
    C = te.compute(
        (n, m),
        lambda i, j: te.sum(A[i, r] * B[r, j], axis=r),
        name="T_matmul",
        attrs={"layout_free_placeholders": [B]},
    )
    return [A, B, C]


def bias_add(n: int, m: int) -> list[te.Tensor]:
    A = te.placeholder((n, m), name="A")
    bias = te.placeholder((m,), name="bias")
    return [A, bias, te.compute((n, m), lambda i, j: A[i, j] + bias[j], name="T_add")]


def add(shape: tuple[int, ...]) -> list[te.Tensor]:
    A = te.placeholder(shape, name="A")
    B = te.placeholder(shape, name="B")
    return [A, B, te.compute(shape, lambda *i: A[i] + B[i], name="T_add")]


def multiply(shape: tuple[int, ...]) -> list[te.Tensor]:
    A = te.placeholder(shape, name="A")
    B = te.placeholder(shape, name="B")
    return [A, B, te.compute(shape, lambda *i: A[i] * B[i], name="T_multiply")]


def relu(shape: tuple[int, ...]) -> list[te.Tensor]:
    A = te.placeholder(shape, name="A")
    return [A, te.compute(shape, lambda *i: te.max(A[i], te.const(0.0)), name="T_relu")]


def exp(shape: tuple[int, ...]) -> list[te.Tensor]:
    A = te.placeholder(shape, name="A")
    return [A, te.compute(shape, lambda *i: te.exp(A[i]), name="T_exp")]


def transpose(n: int, m: int) -> list[te.Tensor]:
    A = te.placeholder((n, m), name="A")
    return [A, te.compute((m, n), lambda i, j: A[j, i], name="T_transpose")]


def reshape(shape: tuple[int, int], new_shape: tuple[int, int]) -> list[te.Tensor]:
    """Row-major reshape between two 2-D shapes."""
    A = te.placeholder(shape, name="A")
    cols = shape[1]
    flat = lambda i, j: i * new_shape[1] + j  # noqa: E731
    return [A, te.compute(new_shape, lambda i, j: A[flat(i, j) // cols, flat(i, j) % cols], name="T_reshape")]


def row_sum(n: int, m: int) -> list[te.Tensor]:
    A = te.placeholder((n, m), name="A")
    r = te.reduce_axis((0, m), name="k")
    return [A, te.compute((n,), lambda i: te.sum(A[i, r], axis=r), name="T_sum")]

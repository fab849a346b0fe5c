"""Small networks for the task-extraction and compile_model tests, built with NetworkBuilder."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from schedopt import te
from schedopt.frontend import operators
from schedopt.frontend.network import GraphValue, Network, NetworkBuilder, OpPattern
from schedopt.workloads import matmul


def on_placeholders(operator: Callable[..., te.Tensor], *shapes: tuple[int, ...]) -> list[te.Tensor]:
    """A network operator's tensors: placeholders of `shapes`, then the package's `operator` of them."""
    inputs = [te.placeholder(shape, name=f"x{index}") for index, shape in enumerate(shapes)]
    return [*inputs, operator(*inputs)]


def row_sum(n: int, m: int) -> list[te.Tensor]:
    x = te.placeholder((n, m), name="x")
    r = te.reduce_axis((0, m), name="k")
    return [x, te.compute((n,), lambda i: te.sum(x[i, r], axis=r), name="T_sum")]


def dense_block(b: NetworkBuilder, x: GraphValue, index: int, rng: np.random.Generator) -> GraphValue:
    """relu(x @ w + bias), w layout-free (the library's `matmul`): one task after fusion."""
    n, k = x.shape
    m = k
    w = b.param(f"w{index}", (rng.standard_normal((k, m)) / np.sqrt(k)).astype(np.float32))
    bias = b.param(f"b{index}", rng.standard_normal(m).astype(np.float32))
    (y,) = b.call(matmul(n, m, k), [x, w], name="dense", pattern=OpPattern.OUT_ELEMWISE_FUSABLE)
    (y,) = b.call(
        on_placeholders(operators.add, (n, m), (m,)), [y, bias], name="bias_add", pattern=OpPattern.BROADCAST
    )
    (y,) = b.call(on_placeholders(operators.relu, (n, m)), [y], name="relu", pattern=OpPattern.ELEMWISE)
    return y


def mlp(blocks: int = 3, n: int = 16, width: int = 32, seed: int = 0) -> Network:
    """`blocks` identical dense blocks, a transpose and a row sum: outputs (sums, last block's output)."""
    rng = np.random.default_rng(seed)
    b = NetworkBuilder("mlp")
    y = b.input("data", (n, width))
    for index in range(blocks):
        y = dense_block(b, y, index, rng)
    (t,) = b.call(
        on_placeholders(operators.transpose, (n, width)), [y], name="transpose", pattern=OpPattern.INJECTIVE
    )
    (s,) = b.call(row_sum(width, n), [t], name="sum", pattern=OpPattern.COMM_REDUCE)
    return b.build([s, y])


def mlp_reference(network: Network, data: np.ndarray, blocks: int = 3) -> list[np.ndarray]:
    """The outputs of `mlp` in numpy (float64)."""
    y = data.astype(np.float64)
    for index in range(blocks):
        y = np.maximum(y @ network.params[f"w{index}"] + network.params[f"b{index}"], 0.0)
    return [y.T.sum(axis=1), y]

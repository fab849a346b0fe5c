"""Small networks for the task-extraction and compile_model tests, built with NetworkBuilder."""

from __future__ import annotations

import numpy as np

from schedopt import te
from schedopt.frontend.network import GraphValue, Network, NetworkBuilder, OpPattern


def dense(n: int, k: int, m: int) -> list[te.Tensor]:
    """x @ w with w (k, m) layout-free, as a network's weight."""
    x = te.placeholder((n, k), name="x")
    w = te.placeholder((k, m), name="w")
    r = te.reduce_axis((0, k), name="k")
    y = te.compute(
        (n, m),
        lambda i, j: te.sum(x[i, r] * w[r, j], axis=r),
        name="T_dense",
        attrs={"layout_free_placeholders": [w]},
    )
    return [x, w, y]


def bias_add(n: int, m: int) -> list[te.Tensor]:
    x = te.placeholder((n, m), name="x")
    b = te.placeholder((m,), name="bias")
    return [x, b, te.compute((n, m), lambda i, j: x[i, j] + b[j], name="T_add")]


def relu(shape: tuple[int, ...]) -> list[te.Tensor]:
    x = te.placeholder(shape, name="x")
    return [x, te.compute(shape, lambda *i: te.max(x[i], te.const(0.0)), name="T_relu")]


def transpose(n: int, m: int) -> list[te.Tensor]:
    x = te.placeholder((n, m), name="x")
    return [x, te.compute((m, n), lambda i, j: x[j, i], name="T_transpose")]


def row_sum(n: int, m: int) -> list[te.Tensor]:
    x = te.placeholder((n, m), name="x")
    r = te.reduce_axis((0, m), name="k")
    return [x, te.compute((n,), lambda i: te.sum(x[i, r], axis=r), name="T_sum")]


def dense_block(b: NetworkBuilder, x: GraphValue, index: int, rng: np.random.Generator) -> GraphValue:
    """relu(x @ w + bias): one task after fusion."""
    n, k = x.shape
    m = k
    w = b.param(f"w{index}", (rng.standard_normal((k, m)) / np.sqrt(k)).astype(np.float32))
    bias = b.param(f"b{index}", rng.standard_normal(m).astype(np.float32))
    (y,) = b.call(dense(n, k, m), [x, w], name="dense", pattern=OpPattern.OUT_ELEMWISE_FUSABLE)
    (y,) = b.call(bias_add(n, m), [y, bias], name="bias_add", pattern=OpPattern.BROADCAST)
    (y,) = b.call(relu((n, m)), [y], name="relu", pattern=OpPattern.ELEMWISE)
    return y


def mlp(blocks: int = 3, n: int = 16, width: int = 32, seed: int = 0) -> Network:
    """`blocks` identical dense blocks, a transpose and a row sum: outputs (sums, last block's output)."""
    rng = np.random.default_rng(seed)
    b = NetworkBuilder("mlp")
    y = b.input("data", (n, width))
    for index in range(blocks):
        y = dense_block(b, y, index, rng)
    (t,) = b.call(transpose(n, width), [y], name="transpose", pattern=OpPattern.INJECTIVE)
    (s,) = b.call(row_sum(width, n), [t], name="sum", pattern=OpPattern.COMM_REDUCE)
    return b.build([s, y])


def mlp_reference(network: Network, data: np.ndarray, blocks: int = 3) -> list[np.ndarray]:
    """The outputs of `mlp` in numpy (float64)."""
    y = data.astype(np.float64)
    for index in range(blocks):
        y = np.maximum(y @ network.params[f"w{index}"] + network.params[f"b{index}"], 0.0)
    return [y.T.sum(axis=1), y]

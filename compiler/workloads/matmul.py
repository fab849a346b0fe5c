"""Matrix products: matmul, batch_matmul and topi's dense + bias + relu."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import schedopt.te as te
from schedopt.workload_registry import register_workload
from schedopt.workloads.library import Array, Baseline, add_to_library
from schedopt.workloads.numpy_support import f64


@register_workload
def matmul(N: int, M: int, K: int, dtype: str = "float32") -> list[te.Tensor]:
    """C = A @ B: A is N x K, B is K x M, C is N x M.

    `C[i, j] = sum_k A[i, k] * B[k, j]`, with B marked layout-free as in
    TVM's `matmul_auto_scheduler_test`.
    """
    A = te.placeholder((N, K), dtype, name="A")
    B = te.placeholder((K, M), dtype, name="B")
    return [A, B, matmul_stage(A, B)]


def _product_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    """`matmul`, and `batch_matmul` batch by batch (`np.matmul` takes the leading axis as the batch)."""
    A, B = inputs
    return [np.matmul(f64(A), f64(B)).astype(args.dtype)]


def _product_baseline(inputs: list[Array], args: SimpleNamespace) -> Baseline:
    a, b = inputs
    out = np.matmul(a, b)
    return lambda: np.matmul(a, b, out=out)


add_to_library(matmul, _product_reference, _product_baseline)


def matmul_stage(A: te.Tensor, B: te.Tensor, columns: int | None = None, name: str = "C") -> te.Tensor:
    """The stage of `matmul` on given tensors: `sum_k A[i, k] * B[k, j]`, B marked layout-free.

    The output has B's columns, or `columns` where B is stored in another
    layout (a pre-transformed weight read at its original axes).
    """
    n, k_extent = A.shape
    k = te.reduce_axis((0, k_extent), name="k")
    return te.compute(
        (n, B.shape[1] if columns is None else columns),
        lambda i, j: te.sum(A[i, k] * B[k, j], axis=k),
        name=name,
        attrs={"layout_free_placeholders": [B]},
    )


@register_workload
def batch_matmul(batch: int, N: int, M: int, K: int, dtype: str = "float32") -> list[te.Tensor]:
    """C[b] = A[b] @ B[b]: A is batch x N x K, B is batch x K x M, C is batch x N x M.

    The "NN" layout of Ansor's `batch_matmul_nkkm` benchmark (topi's
    `batch_matmul` defaults to B transposed).
    """
    A = te.placeholder((batch, N, K), dtype, name="A")
    B = te.placeholder((batch, K, M), dtype, name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((batch, N, M), lambda b, i, j: te.sum(A[b, i, k] * B[b, k, j], axis=k), name="C")
    return [A, B, C]


add_to_library(batch_matmul, _product_reference, _product_baseline)


@register_workload
def dense_bias_relu(batch: int, in_dim: int, out_dim: int, dtype: str = "float32") -> list[te.Tensor]:
    """relu(data @ weight^T + bias), in topi's three stages T_dense, T_add, T_relu.

    data is batch x in_dim, weight is out_dim x in_dim (topi's dense layout),
    bias has out_dim elements; the output is batch x out_dim.
    """
    data = te.placeholder((batch, in_dim), dtype, name="data")
    weight = te.placeholder((out_dim, in_dim), dtype, name="weight")
    bias = te.placeholder((out_dim,), dtype, name="bias")
    k = te.reduce_axis((0, in_dim), name="k")
    dense = te.compute(
        (batch, out_dim),
        lambda i, j: te.sum(data[i, k] * weight[j, k], axis=k),
        name="T_dense",
        attrs={"layout_free_placeholders": [weight]},
    )
    biased = te.compute((batch, out_dim), lambda i, j: dense[i, j] + bias[j], name="T_add")
    relu = te.compute((batch, out_dim), lambda i, j: te.max(biased[i, j], te.const(0, dtype)), name="T_relu")
    return [data, weight, bias, relu]


def _dense_bias_relu_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    data, weight, bias = inputs
    return [np.maximum(f64(data) @ f64(weight).T + f64(bias), 0.0).astype(args.dtype)]


def _dense_bias_relu_baseline(inputs: list[Array], args: SimpleNamespace) -> Baseline:
    data, weight, bias = inputs
    out = data @ weight.T

    def run() -> Array:
        np.matmul(data, weight.T, out=out)
        np.add(out, bias, out=out)
        return np.maximum(out, 0, out=out)

    return run


add_to_library(dense_bias_relu, _dense_bias_relu_reference, _dense_bias_relu_baseline)

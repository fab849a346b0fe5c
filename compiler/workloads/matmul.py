"""Matrix products: matmul, batch_matmul and topi's dense + bias + relu."""

from __future__ import annotations

import schedopt.te as te
from schedopt.workload_registry import register_workload


@register_workload
def matmul(N: int, M: int, K: int, dtype: str = "float32") -> list[te.Tensor]:
    """C = A @ B: A is N x K, B is K x M, C is N x M.

    `C[i, j] = sum_k A[i, k] * B[k, j]`, with B marked layout-free as in
    TVM's `matmul_auto_scheduler_test`.
    """
    A = te.placeholder((N, K), dtype, name="A")
    B = te.placeholder((K, M), dtype, name="B")
    return [A, B, matmul_stage(A, B)]


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

"""Elementwise workloads: a single add, and a chain of three stages."""

from __future__ import annotations

import schedopt.te as te
from schedopt.workload_registry import register_workload


@register_workload
def add(M: int, N: int, dtype: str = "float32") -> list[te.Tensor]:
    """T_add = A + B, all M x N."""
    A = te.placeholder((M, N), dtype, name="A")
    B = te.placeholder((M, N), dtype, name="B")
    out = te.compute((M, N), lambda i, j: A[i, j] + B[i, j], name="T_add")
    return [A, B, out]


@register_workload
def elementwise_chain(M: int, N: int, dtype: str = "float32") -> list[te.Tensor]:
    """relu(A * B + C), all M x N, in three stages T_multiply, T_add, T_relu.

    The kind of chain Ansor inlines into one loop nest.
    """
    A = te.placeholder((M, N), dtype, name="A")
    B = te.placeholder((M, N), dtype, name="B")
    C = te.placeholder((M, N), dtype, name="C")
    product = te.compute((M, N), lambda i, j: A[i, j] * B[i, j], name="T_multiply")
    total = te.compute((M, N), lambda i, j: product[i, j] + C[i, j], name="T_add")
    relu = te.compute((M, N), lambda i, j: te.max(total[i, j], te.const(0, dtype)), name="T_relu")
    return [A, B, C, relu]

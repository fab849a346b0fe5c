"""Elementwise workloads: a single add, and a chain of three stages."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import schedopt.te as te
from schedopt.workload_registry import register_workload
from schedopt.workloads.library import Array, Baseline, add_to_library
from schedopt.workloads.numpy_support import f64


@register_workload
def add(M: int, N: int, dtype: str = "float32") -> list[te.Tensor]:
    """T_add = A + B, all M x N."""
    A = te.placeholder((M, N), dtype, name="A")
    B = te.placeholder((M, N), dtype, name="B")
    out = te.compute((M, N), lambda i, j: A[i, j] + B[i, j], name="T_add")
    return [A, B, out]


def _add_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    A, B = inputs
    return [(f64(A) + f64(B)).astype(args.dtype)]


def _add_baseline(inputs: list[Array], args: SimpleNamespace) -> Baseline:
    a, b = inputs
    out = np.empty_like(a)
    return lambda: np.add(a, b, out=out)


add_to_library(add, _add_reference, _add_baseline)


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


def _elementwise_chain_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    A, B, C = (f64(x) for x in inputs)
    return [np.maximum(A * B + C, 0.0).astype(args.dtype)]


def _elementwise_chain_baseline(inputs: list[Array], args: SimpleNamespace) -> Baseline:
    a, b, c = inputs
    out = np.empty_like(a)

    def run() -> Array:
        np.multiply(a, b, out=out)
        np.add(out, c, out=out)
        return np.maximum(out, 0, out=out)

    return run


add_to_library(elementwise_chain, _elementwise_chain_reference, _elementwise_chain_baseline)

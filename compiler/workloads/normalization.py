"""Normalisations over the last axis: softmax and layer norm."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import schedopt.te as te
from schedopt.workload_registry import register_workload
from schedopt.workloads.library import Array, Baseline, add_to_library
from schedopt.workloads.numpy_support import f64


@register_workload
def softmax(M: int, N: int, dtype: str = "float32") -> list[te.Tensor]:
    """Softmax of each row of data (M x N), in topi's four stages.

    `T_softmax_maxelem` (row max), `T_softmax_exp` (exp(x - max)),
    `T_softmax_expsum` (row sum) and `T_softmax_norm` (exp / sum), as
    `topi.nn.softmax(data, axis=1)`.
    """
    data = te.placeholder((M, N), dtype, name="data")
    k1 = te.reduce_axis((0, N), name="k")
    max_elem = te.compute((M,), lambda i: te.max(data[i, k1], axis=k1), name="T_softmax_maxelem")
    exp = te.compute((M, N), lambda i, j: te.exp(data[i, j] - max_elem[i]), name="T_softmax_exp")
    k2 = te.reduce_axis((0, N), name="k")
    expsum = te.compute((M,), lambda i: te.sum(exp[i, k2], axis=k2), name="T_softmax_expsum")
    norm = te.compute((M, N), lambda i, j: exp[i, j] / expsum[i], name="T_softmax_norm", attrs={"axis": 1})
    return [data, norm]


def _softmax_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    x = f64(inputs[0])
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return [(e / e.sum(axis=1, keepdims=True)).astype(args.dtype)]


def _softmax_baseline(inputs: list[Array], args: SimpleNamespace) -> Baseline:
    (data,) = inputs

    def run() -> Array:
        e = np.exp(data - data.max(axis=1, keepdims=True))
        e /= e.sum(axis=1, keepdims=True)
        return e

    return run


add_to_library(softmax, _softmax_reference, _softmax_baseline)


@register_workload
def layer_norm(M: int, N: int, eps: float = 1e-5, dtype: str = "float32") -> list[te.Tensor]:
    """Layer normalisation of each row of data (M x N), scaled by gamma and shifted by beta (N each).

    `out[i, j] = (data[i, j] - mean[i]) / sqrt(var[i] + eps) * gamma[j] + beta[j]`,
    with the biased variance. Stages `T_layer_norm_mean` and
    `T_layer_norm_var` reduce (the variance in a second pass over the row,
    more accurate than topi's single pass of x and x^2), `T_layer_norm`
    normalises.
    """
    data = te.placeholder((M, N), dtype, name="data")
    gamma = te.placeholder((N,), dtype, name="gamma")
    beta = te.placeholder((N,), dtype, name="beta")
    inv_n = te.const(1.0 / N, dtype)
    k1 = te.reduce_axis((0, N), name="k")
    mean = te.compute((M,), lambda i: te.sum(data[i, k1] * inv_n, axis=k1), name="T_layer_norm_mean")
    k2 = te.reduce_axis((0, N), name="k")

    def variance(i: te.IterVar) -> te.Expr:
        centred = data[i, k2] - mean[i]
        return te.sum(centred * centred * inv_n, axis=k2)

    var = te.compute((M,), variance, name="T_layer_norm_var")
    out = te.compute(
        (M, N),
        lambda i, j: (data[i, j] - mean[i]) * te.rsqrt(var[i] + te.const(eps, dtype)) * gamma[j] + beta[j],
        name="T_layer_norm",
    )
    return [data, gamma, beta, out]


def _layer_norm_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    data, gamma, beta = (f64(x) for x in inputs)
    mean = data.mean(axis=1, keepdims=True)
    var = data.var(axis=1, keepdims=True)
    return [((data - mean) / np.sqrt(var + args.eps) * gamma + beta).astype(args.dtype)]


def _layer_norm_baseline(inputs: list[Array], args: SimpleNamespace) -> Baseline:
    data, gamma, beta = inputs

    def run() -> Array:
        mean = data.mean(axis=1, keepdims=True)
        centred = data - mean
        var = (centred * centred).mean(axis=1, keepdims=True)
        return centred / np.sqrt(var + args.eps) * gamma + beta

    return run


add_to_library(layer_norm, _layer_norm_reference, _layer_norm_baseline)

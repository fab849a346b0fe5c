"""Winograd convolution: its transform matrices, its te stages, and the transform of a weight.

A convolution F(m, r) (m x m outputs per tile, an r x r kernel) computes each
tile as Y = A^T [U * (B^T d B)] A with U = G g G^T: (m + r - 1)^2
multiplications per tile and channel pair instead of m^2 r^2, 4x fewer for
F(4, 3). U depends on the weight only, so a network transforms its weights
once, when it is loaded (`transform_weight`), and the kernel takes U.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

import schedopt.te as te
from schedopt.errors import WorkloadError
from schedopt.workloads.utils import Padding, WindowGeometry, pad

WINOGRAD_POINTS = (0, -1, 1, Fraction(1, 2), -2, Fraction(-1, 2), 2, Fraction(1, 4), -4)
"""Interpolation points of the Winograd transforms, in the order they are taken (small ones first: accuracy)."""

Matrix = tuple[tuple[float, ...], ...]


def winograd_matrices(m: int, r: int) -> tuple[Matrix, Matrix, Matrix]:
    """A (alpha x m), B (alpha x alpha) and G (alpha x r) of Winograd F(m, r): Y = A^T [(G g G^T) * (B^T d B)] A.

    Toom-Cook at alpha - 1 points and infinity: the correlation of d with g
    is the transpose of the linear convolution s = g * x, which evaluates g
    and x at the points, multiplies, and interpolates (Lagrange basis at the
    points, plus the leading coefficient times the points' product
    polynomial). Exact in fractions, then rounded to floats.
    """
    alpha = m + r - 1
    if alpha - 1 > len(WINOGRAD_POINTS):
        raise WorkloadError(
            f"Winograd F({m}, {r}) needs more than {len(WINOGRAD_POINTS)} interpolation points"
        )
    points = [Fraction(p) for p in WINOGRAD_POINTS[: alpha - 1]]

    def poly_product(roots: list[Fraction]) -> list[Fraction]:
        coefficients = [Fraction(1)]  # lowest degree first
        for root in roots:
            shifted = [Fraction(0), *coefficients]
            coefficients = [s - root * c for s, c in zip(shifted, [*coefficients, Fraction(0)], strict=True)]
        return coefficients

    a_t = [[p**k for p in points] + [Fraction(int(k == m - 1))] for k in range(m)]
    g: list[list[Fraction]] = []
    b_t: list[list[Fraction]] = []
    for i, p in enumerate(points):
        others = points[:i] + points[i + 1 :]
        scale = Fraction(1)
        for q in others:
            scale *= p - q
        g.append([p**t / scale for t in range(r)])
        b_t.append([*poly_product(others), Fraction(0)])
    g.append([Fraction(int(t == r - 1)) for t in range(r)])
    b_t.append(poly_product(points))
    a = tuple(tuple(float(a_t[k][i]) for k in range(m)) for i in range(alpha))
    b = tuple(tuple(float(b_t[j][i]) for j in range(alpha)) for i in range(alpha))
    return a, b, tuple(tuple(float(v) for v in row) for row in g)


def const_matrix(values: Matrix, dtype: str, name: str) -> te.Tensor:
    """A constant matrix as TVM's `winograd_util.const_matrix`: a chain of selects over the iterators.

    The stage reads nothing, so the search inlines it; with its consumer's
    loops over the indices unrolled, the selects fold to numbers.
    """

    def select(i: te.IterVar, j: te.IterVar) -> te.Expr:
        value: te.Expr = te.const(0.0, dtype)
        for row, entries in enumerate(values):
            for col, entry in enumerate(entries):
                if entry != 0.0:
                    value = te.if_then_else(te.all(i == row, j == col), te.const(entry, dtype), value)
        return value

    return te.compute((len(values), len(values[0])), select, name=name, attrs={"const_matrix": True})


def winograd_conv2d_nhwc(
    data: te.Tensor, weight: te.Tensor, padding: Padding, tile_size: int, kernel_size: int = 3
) -> te.Tensor:
    """The output of Winograd F(tile_size, kernel_size) on NHWC `data` and a transformed `weight`.

    `weight` is alpha x alpha x CI x CO (alpha = tile_size + kernel_size - 1),
    the kernel already transformed (`transform_weight`); stride and dilation
    are 1. Stages as TVM's `conv2d_winograd_nhwc`: `data_pad` (padded to whole
    tiles), `input_tile`, the constant matrices `B` and `A`, `data_pack`
    (B^T d B) and `inverse` (A^T M A), both marked for const-tensor
    simplification, `bgemm` (the batched product with the weight, which is
    layout-free) and `conv2d_winograd`.
    """
    n_batch, height, width, _ = (int(d) for d in data.shape)
    alpha, _, _, out_channels = (int(d) for d in weight.shape)
    m, r = tile_size, kernel_size
    if alpha != m + r - 1:
        raise WorkloadError(f"winograd_conv2d_nhwc: a weight of {alpha} x {alpha} tiles is not F({m}, {r})'s")
    window = WindowGeometry.of("conv2d_winograd_nhwc", (height, width), (r, r), 1, padding)
    pad_top, pad_left, pad_bottom, pad_right = window.pads
    out_h, out_w = window.out_h, window.out_w
    n_h, n_w = -(-out_h // m), -(-out_w // m)
    tiles = n_batch * n_h * n_w
    extra_h = (n_h - 1) * m + alpha - (height + pad_top + pad_bottom)
    extra_w = (n_w - 1) * m + alpha - (width + pad_left + pad_right)
    data_pad = pad(
        data, (0, pad_top, pad_left, 0), (0, pad_bottom + extra_h, pad_right + extra_w, 0), name="data_pad"
    )
    a_values, b_values, _ = winograd_matrices(m, r)
    matrix_a = const_matrix(a_values, data.dtype, "A")
    matrix_b = const_matrix(b_values, data.dtype, "B")
    div, mod = te.indexdiv, te.indexmod
    in_channels = int(data.shape[3])
    input_tile = te.compute(
        (alpha, alpha, tiles, in_channels),
        lambda eps, nu, p, ci: data_pad[
            div(p, n_h * n_w), mod(div(p, n_w), n_h) * m + eps, mod(p, n_w) * m + nu, ci
        ],
        name="input_tile",
    )
    r_a = te.reduce_axis((0, alpha), "r_a")
    r_b = te.reduce_axis((0, alpha), "r_b")
    data_pack = te.compute(
        (alpha, alpha, tiles, in_channels),
        lambda eps, nu, p, ci: te.sum(
            input_tile[r_a, r_b, p, ci] * matrix_b[r_a, eps] * matrix_b[r_b, nu], axis=[r_a, r_b]
        ),
        name="data_pack",
        attrs={"auto_scheduler_simplify_const_tensor_indices": ["eps", "nu", "r_a", "r_b"]},
    )
    rc = te.reduce_axis((0, in_channels), name="ci")
    bgemm = te.compute(
        (alpha, alpha, tiles, out_channels),
        lambda eps, nu, p, co: te.sum(data_pack[eps, nu, p, rc] * weight[eps, nu, rc, co], axis=[rc]),
        name="bgemm",
        attrs={"layout_free_placeholders": [weight]},
    )
    r_a = te.reduce_axis((0, alpha), "r_a")
    r_b = te.reduce_axis((0, alpha), "r_b")
    inverse = te.compute(
        (m, m, tiles, out_channels),
        lambda vh, vw, p, co: te.sum(
            bgemm[r_a, r_b, p, co] * matrix_a[r_a, vh] * matrix_a[r_b, vw], axis=[r_a, r_b]
        ),
        name="inverse",
        attrs={"auto_scheduler_simplify_const_tensor_indices": ["vh", "vw", "r_a", "r_b"]},
    )
    return te.compute(
        (n_batch, out_h, out_w, out_channels),
        lambda n, h, w, co: inverse[mod(h, m), mod(w, m), n * n_h * n_w + div(h, m) * n_w + div(w, m), co],
        name="conv2d_winograd",
    )


def transform_weight(kernel: np.ndarray, tile_size: int) -> np.ndarray:
    """U = G g G^T of an HWIO `kernel` (r x r x CI x CO): the alpha x alpha x CI x CO weight the stages take."""
    r = kernel.shape[0]
    if kernel.ndim != 4 or kernel.shape[1] != r:
        raise WorkloadError(
            f"transform_weight: expected a square HWIO kernel, got shape {list(kernel.shape)}"
        )
    _, _, g = winograd_matrices(tile_size, r)
    g_matrix = np.asarray(g, dtype=np.float64)
    transformed = np.einsum("ea,abio,nb->enio", g_matrix, kernel.astype(np.float64), g_matrix)
    return np.ascontiguousarray(transformed.astype(kernel.dtype))

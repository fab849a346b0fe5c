"""The transform matrices of Winograd convolution, and te stages that hold a constant matrix."""

from __future__ import annotations

from fractions import Fraction

import schedopt.te as te
from schedopt.errors import WorkloadError

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

"""Divisors and exact factorisations of loop extents, memoised (TVM's `SplitFactorizationMemo`).

Tile sizes in the search are perfect: the lengths of a split multiply to a
divisor of the extent, so no tile needs a bound guard. The same extents come
up again and again during a search, hence the memo.
"""

from __future__ import annotations

import functools


@functools.cache
def divisors(n: int) -> tuple[int, ...]:
    """The divisors of `n` in increasing order (1 first, `n` last)."""
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return tuple(small + [n // d for d in reversed(small) if d * d != n])


@functools.cache
def factorizations(extent: int, n_lengths: int, max_innermost: int) -> tuple[tuple[int, ...], ...]:
    """Every tuple of `n_lengths` split lengths whose product divides `extent`, innermost <= `max_innermost`.

    The outermost part (extent / product) is implied, as in a SplitStep.
    """
    if n_lengths == 0:
        return ((),)
    result: list[tuple[int, ...]] = []
    for first in divisors(extent):
        if n_lengths == 1 and first > max_innermost:
            break
        for rest in factorizations(extent // first, n_lengths - 1, max_innermost):
            result.append((first, *rest))
    return tuple(result)

"""Checks of the options the builders and runners share (timeout, number, repeat, n_parallel)."""

from __future__ import annotations

from schedopt.errors import SchedOptError


def require_positive(owner: str, **options: float | None) -> None:
    """A `SchedOptError` naming `owner` and the first option that is not positive; None is an option left
    to its default."""
    for option, value in options.items():
        if value is not None and value <= 0:
            raise SchedOptError(f"{owner}: {option} must be positive, got {value}")

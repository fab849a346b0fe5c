"""`JSON`: the type of a value that `json.loads` returns, for record and codec code."""

from __future__ import annotations

from typing import TypeAlias

JSON: TypeAlias = "dict[str, JSON] | list[JSON] | str | int | float | bool | None"
"""Any JSON value; code that reads one narrows it with isinstance checks."""

"""Distinct names by suffix: `name`, else `name_1`, `name_2`, ... (how TVM and sched-opt rename clashes)."""

from collections.abc import Container


def unique_name(name: str, taken: set[str], reserved: Container[str] = ()) -> str:
    """`name` if it is not taken, else `name_<n>` for the least n free in `taken` and `reserved`; claimed in `taken`.

    `reserved` holds names that later claims keep as they are (a stage's own
    name), so no suffixed name takes one of them first.
    """
    candidate, suffix = name, 0
    while candidate in taken or (suffix and candidate in reserved):
        suffix += 1
        candidate = f"{name}_{suffix}"
    taken.add(candidate)
    return candidate

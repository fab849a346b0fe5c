"""IR definitions of sched-opt: the `te` dialect of compute declarations, the `sched` dialect of schedules.

Importing this package imports no dialect; `get_all_dialects` maps each
dialect name to a factory, in the manner of `xdsl.dialects.get_all_dialects`.
"""

from collections.abc import Callable

from xdsl.ir import Dialect


def get_all_dialects() -> dict[str, Callable[[], Dialect]]:
    """Name -> factory of every dialect sched-opt defines."""

    def get_sched() -> Dialect:
        from schedopt.dialects.sched import SCHED

        return SCHED

    def get_te() -> Dialect:
        from schedopt.dialects.te import TE

        return TE

    return {"sched": get_sched, "te": get_te}

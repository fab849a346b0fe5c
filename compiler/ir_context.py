"""The xDSL contexts sched-opt parses and rewrites IR in.

A leaf module (it imports only dialects), so that the DAG, the schedule IR and
the lowering can all parse text without importing each other.
"""

from xdsl.context import Context
from xdsl.dialects import arith, builtin, func, math, scf, transform

from schedopt.dialects import sched, te


def te_context() -> Context:
    """A context with the dialects a workload function may use."""
    ctx = Context()
    for dialect in (builtin.Builtin, func.Func, arith.Arith, math.Math, scf.Scf, te.TE):
        ctx.load_dialect(dialect)
    return ctx


def schedule_context() -> Context:
    """A context with the dialects of a workload and of its schedule (`transform`, `sched`)."""
    ctx = te_context()
    ctx.load_dialect(transform.Transform)
    ctx.load_dialect(sched.SCHED)
    return ctx

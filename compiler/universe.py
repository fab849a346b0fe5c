"""The xDSL `Universe` of sched-opt.

Registered under the `xdsl.universe` entry point, so plain `xdsl-opt` (and
any xDSL-based tool) sees the `te` dialect and sched-opt's passes too.
"""

from xdsl.universe import Universe

from schedopt.dialects import get_all_dialects
from schedopt.passes import get_all_passes

SCHEDOPT_UNIVERSE = Universe(
    all_dialects=get_all_dialects(),
    all_passes=get_all_passes(),
)

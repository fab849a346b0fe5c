"""sched-opt: an Ansor-style auto-scheduler for tensor programs on xDSL.

The public API mirrors `tvm.auto_scheduler`:

```python
import schedopt as ss
from schedopt import te

dag = ss.ComputeDAG(ss.make_workload_key(my_workload, (512, 512, 512)))
state = dag.get_init_state()
kernel = ss.build(dag, state)
```
"""

from schedopt import te
from schedopt.build import build, lower
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import (
    CompileError,
    LoweringError,
    RuntimeArgumentError,
    SchedOptError,
    ScheduleError,
    TEError,
    WorkloadError,
)
from schedopt.loop_state import Iterator, Stage, State
from schedopt.runtime import Kernel
from schedopt.workload_registry import make_workload_key, register_workload, workload_key_to_tensors

__all__ = [
    "CompileError",
    "ComputeDAG",
    "Iterator",
    "Kernel",
    "LoweringError",
    "RuntimeArgumentError",
    "SchedOptError",
    "ScheduleError",
    "Stage",
    "State",
    "TEError",
    "WorkloadError",
    "build",
    "lower",
    "make_workload_key",
    "register_workload",
    "te",
    "workload_key_to_tensors",
]

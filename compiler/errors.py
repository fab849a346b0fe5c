"""The exception types a user of sched-opt can meet.

Every error a user can cause (bad IR, an impossible schedule, a malformed
record, an unknown workload, a wrong option) is raised as one of these, with a
message that names the offending thing. They derive from xDSL's
`DiagnosticException`, so the `sched-opt` driver reports them the way
`xdsl-opt` reports verifier failures: a message and a non-zero exit.
"""

from xdsl.utils.exceptions import DiagnosticException


class SchedOptError(DiagnosticException):
    """Base class of every error sched-opt raises on bad input."""


class TEError(SchedOptError):
    """An ill-formed tensor-expression declaration (te DSL or te dialect)."""


class WorkloadError(SchedOptError):
    """An unknown workload key, or a workload function that cannot be called."""


class LoweringError(SchedOptError):
    """IR that the lowering or the conversion to LLVM cannot handle."""


class CompileError(SchedOptError):
    """LLVM rejected the generated module or could not compile it."""


class RuntimeArgumentError(SchedOptError):
    """Arguments passed to a compiled kernel do not match its signature."""


class DeviceError(SchedOptError):
    """A GPU could not run a kernel: no driver or pycuda, a launch the driver refuses, a fault."""


class ScheduleError(SchedOptError):
    """A transform step the state refuses: unknown stage or iterator, impossible factors, ..."""


class RecordError(SchedOptError):
    """A measurement record that cannot be read or written: malformed line, unknown version, bad file."""


class TargetError(SchedOptError):
    """A target sched-opt has no search space or back end for (yet), or a malformed target string."""


class NetworkError(SchedOptError):
    """A network module that breaks the convention (graph function, operator functions), or bad parameters."""


class FrontendError(NetworkError):
    """A model a front end cannot import: an unsupported operator or attribute, a symbolic input shape."""

"""Worker processes that run untrusted jobs: one that hangs is killed, one that crashes is replaced.

Building and running candidate schedules executes code that may never
return (an LLVM pass that loops, a kernel whose loop never ends) or kill its
process (a segfault in generated code, an abort in LLVM). `WorkerPool.map`
runs each job in a worker process with a deadline and reports, per job,
either its return value or a `JobFailure` saying what went wrong; the other
jobs of the batch are unaffected. This is the role of TVM's `PopenPoolExecutor`.

Workers are fresh interpreters (`python -c`, not a fork: no inherited
threads of OpenMP or OpenBLAS, no copied LLVM state; and not multiprocessing's
`spawn`, which would re-run the user's main script in every worker) that
import the `preload` modules, then serve jobs one at a time over a socket
until the pool closes. A worker that timed out
or died is replaced by a fresh one when the next job needs it. Starting a
worker (about half a second of imports) is not charged to any job's deadline.
"""

from __future__ import annotations

import importlib
import signal
import socket
import subprocess
import sys
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from multiprocessing.connection import Connection, wait
from typing import Any

from schedopt.errors import SchedOptError

WORKER_START_TIMEOUT_S = 120.0
"""How long a fresh worker may take to import its modules."""

_READY = "ready"
_RUNNING = object()
"""What `_collect` answers for a job still running (None is a valid result)."""


class FailureKind(Enum):
    TIMEOUT = "timeout"
    """The job did not finish before its deadline; its worker was killed."""
    CRASHED = "crashed"
    """The worker process died while running the job (a signal or an exit)."""
    RAISED = "raised"
    """The job raised an exception; the worker lives on."""


@dataclass(frozen=True)
class JobFailure:
    """Why a job gave no result: its kind and a message for a person."""

    kind: FailureKind
    message: str


def serve(fd: int) -> None:
    """The worker's loop on socket `fd`.

    It receives the parent's `sys.path` (so jobs import as they do there) and
    the modules to preload, imports them, says ready, then runs (function,
    argument) jobs until EOF.
    """
    connection = Connection(fd)
    sys.path[:], preload = connection.recv()
    for name in preload:
        importlib.import_module(name)
    connection.send(_READY)
    while True:
        try:
            function, argument = connection.recv()
        except EOFError:
            return
        try:
            reply: tuple[bool, Any] = (True, function(argument))
        except Exception:
            reply = (False, traceback.format_exc())
        connection.send(reply)


_WORKER_MAIN = "import sys; from schedopt.measurement.process_pool import serve; serve(int(sys.argv[1]))"


class _Worker:
    """One worker process and our end of the pipe to it."""

    def __init__(self, preload: tuple[str, ...]):
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WORKER_MAIN, str(theirs.fileno())], pass_fds=(theirs.fileno(),)
        )
        theirs.close()
        self.connection = Connection(ours.detach())
        self.connection.send((sys.path, preload))

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self) -> None:
        if not self.connection.poll(WORKER_START_TIMEOUT_S):
            self.kill()
            raise SchedOptError(f"a measurement worker did not start within {WORKER_START_TIMEOUT_S:.0f} s")
        try:
            message = self.connection.recv()
        except EOFError:
            message = None
        if message != _READY:
            code = self.process.poll()
            self.kill()
            raise SchedOptError(f"a measurement worker failed to start ({_describe_exit(code)})")

    def kill(self) -> None:
        if self.is_alive():
            self.process.kill()
        self.process.wait()
        self.connection.close()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


@dataclass
class _Running:
    index: int
    deadline: float


class WorkerPool:
    """Up to `size` worker processes, each importing the modules of `preload` before its first job."""

    def __init__(self, size: int, preload: Sequence[str] = ()):
        if size < 1:
            raise SchedOptError(f"a worker pool needs at least one process, got {size}")
        self.size = size
        self.preload = tuple(preload)
        self._idle: list[_Worker] = []
        self._finalizer = weakref.finalize(self, _kill_all, self._idle)

    def map(
        self, function: Callable[[Any], Any], arguments: Sequence[Any], timeout: float
    ) -> list[Any | JobFailure]:
        """`function(argument)` for each argument, each in a worker within `timeout` seconds.

        `function` must be importable by name (a module-level function) and
        the arguments and results picklable. The results come in the order of
        `arguments`; a job that timed out, crashed its worker or raised gives
        a `JobFailure` in its place.
        """
        results: list[Any] = [None] * len(arguments)
        pending = deque(range(len(arguments)))
        running: dict[_Worker, _Running] = {}
        try:
            while pending or running:
                self._start_jobs(function, arguments, timeout, pending, running)
                self._wait_for_any(running)
                for worker in list(running):
                    outcome = self._collect(worker, running[worker])
                    if outcome is not _RUNNING:
                        results[running.pop(worker).index] = outcome
        except BaseException:  # an argument that does not pickle, an interrupt: stop the busy workers
            _kill_all(list(running))
            raise
        return results

    def close(self) -> None:
        """Stop the workers (a later `map` starts new ones)."""
        _kill_all(self._idle)

    def _start_jobs(
        self,
        function: Callable[[Any], Any],
        arguments: Sequence[Any],
        timeout: float,
        pending: deque[int],
        running: dict[_Worker, _Running],
    ) -> None:
        wanted = min(self.size - len(running), len(pending))
        self._discard_dead_idle()
        workers = [self._idle.pop() for _ in range(min(wanted, len(self._idle)))]
        fresh = [_Worker(self.preload) for _ in range(wanted - len(workers))]
        for worker in fresh:  # started together, so their imports overlap
            worker.wait_ready()
        for worker in workers + fresh:
            index = pending.popleft()
            worker.connection.send((function, arguments[index]))
            running[worker] = _Running(index, time.monotonic() + timeout)

    def _discard_dead_idle(self) -> None:
        """Forget idle workers that died between jobs (killed from outside)."""
        for worker in [w for w in self._idle if not w.is_alive()]:
            self._idle.remove(worker)
            worker.kill()

    @staticmethod
    def _wait_for_any(running: dict[_Worker, _Running]) -> None:
        if not running:
            return
        next_deadline = min(job.deadline for job in running.values())
        # A worker that dies closes its end of the socket: its connection becomes readable.
        wait([w.connection for w in running], timeout=max(0.0, next_deadline - time.monotonic()))

    def _collect(self, worker: _Worker, job: _Running) -> Any:
        """The job's outcome if it is over (its worker goes back to idle or is discarded), else `_RUNNING`."""
        if worker.connection.poll(0):
            try:
                succeeded, value = worker.connection.recv()
            except (EOFError, OSError):
                return self._discard_dead(worker)
            self._idle.append(worker)
            return value if succeeded else JobFailure(FailureKind.RAISED, value)
        if not worker.is_alive():
            return self._discard_dead(worker)
        if time.monotonic() >= job.deadline:
            worker.kill()
            return JobFailure(FailureKind.TIMEOUT, "the job did not finish in time; its process was killed")
        return _RUNNING

    @staticmethod
    def _discard_dead(worker: _Worker) -> JobFailure:
        code = worker.process.wait()
        worker.kill()
        return JobFailure(FailureKind.CRASHED, f"the worker process died ({_describe_exit(code)})")


def _kill_all(workers: list[_Worker]) -> None:
    while workers:
        workers.pop().kill()

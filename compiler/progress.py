"""Where tuning progress goes: the `schedopt.progress` logger, printed to stdout unless routed elsewhere.

TVM's tuners print their progress to stdout: the per-candidate marks
('.' built, '*' measured, 'E' failed, 'T' timed out), a line per round,
why tuning stopped. sched-opt reports the same through `logging`, so that
an application can route it, silence it or log it with its own handlers,
and a tool whose stdout is data (the `auto-schedule` pass prints IR) can
send it to stderr without capturing anything else (`progress_to`).

Out of the box the logger prints bare messages to the current `sys.stdout`
(looked up at each message, so redirections and test captures see them),
as TVM does, and does not propagate to the root logger, which would print
them twice. `logging.getLogger("schedopt.progress").setLevel(logging.WARNING)`
silences it; replacing its handlers and setting `propagate` hands it to the
application's logging.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Generator
from contextlib import contextmanager
from typing import TextIO

PROGRESS = logging.getLogger("schedopt.progress")

_END = "end"
"""The `extra` key of a message that ends without a newline (the candidate marks)."""


class _ProgressHandler(logging.Handler):
    """Writes each message and its end (a newline unless the record says otherwise) to a stream."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.stream: TextIO | None = None
        """Where messages go; None: the `sys.stdout` of the moment."""

    def emit(self, record: logging.LogRecord) -> None:
        stream = self.stream if self.stream is not None else sys.stdout
        try:
            stream.write(self.format(record) + str(getattr(record, _END, "\n")))
            stream.flush()
        except Exception:
            self.handleError(record)


_HANDLER = _ProgressHandler()
PROGRESS.addHandler(_HANDLER)
PROGRESS.setLevel(logging.INFO)
PROGRESS.propagate = False


def report(message: str, end: str = "\n") -> None:
    """Report `message` (followed by `end`) as tuning progress."""
    PROGRESS.info(message, extra={_END: end})


@contextmanager
def progress_to(stream: TextIO) -> Generator[None]:
    """Send the default handler's progress messages to `stream` while the block runs."""
    before, _HANDLER.stream = _HANDLER.stream, stream
    try:
        yield
    finally:
        _HANDLER.stream = before

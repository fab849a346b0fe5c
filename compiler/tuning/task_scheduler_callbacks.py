"""Callbacks of the `TaskScheduler`: the live table of tasks, and a log of the estimated latency.

`PrintTableInfo` shows, after every round, each task's latency, speed and
trials, then the estimated network latency, trials and time so far, as TVM's
task scheduler prints them. On a terminal the table redraws in place (a
person follows one table that fills in); piped to a file, each round appends
a plain summary line and the full table is printed at the end, so logs stay
readable. `LogEstimatedLatency` appends one tab-separated line per round
(elapsed seconds, estimated latency in ms, trials): the curve of latency
against trials that `sched-opt-records plot` draws.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence, Set
from typing import Protocol, TextIO

from schedopt.measurement.results import MAX_FLOAT
from schedopt.search_task import SearchTask
from schedopt.tuning_options import TuningOptions

DESCRIPTION_WIDTH = 40


class TaskSchedulerProgress(Protocol):
    """What the callbacks read of the task scheduler (`TaskScheduler` is one).

    The scheduler runs its callbacks, so they name this protocol rather than
    the scheduler: task_scheduler imports this module, not the reverse.
    """

    @property
    def tasks(self) -> Sequence[SearchTask]: ...

    @property
    def tune_option(self) -> TuningOptions:
        """The options of the tuning run in progress."""
        ...

    @property
    def best_costs(self) -> Sequence[float]:
        """Each task's best mean cost so far (seconds; `MAX_FLOAT` while it has none)."""
        ...

    @property
    def flop_cts(self) -> Sequence[float]:
        """Each task's floating-point operations."""
        ...

    @property
    def task_trials(self) -> Sequence[int]:
        """Programs measured for each task."""
        ...

    @property
    def dead_tasks(self) -> Set[int]:
        """The tasks whose search is over."""
        ...

    @property
    def ct(self) -> int:
        """Programs measured in all."""
        ...

    @property
    def tic(self) -> float:
        """When tuning started (`time.perf_counter`)."""
        ...

    def estimated_latency_s(self) -> float | None:
        """The objective under the best costs so far; None while a task has no valid program."""
        ...


class TaskSchedulerCallback:
    """Called by the task scheduler before and after each round of a task, and once at the end."""

    def pre_tune(self, task_scheduler: TaskSchedulerProgress, task_id: int) -> None:
        """Before task `task_id`'s round."""

    def post_tune(self, task_scheduler: TaskSchedulerProgress, task_id: int) -> None:
        """After task `task_id`'s round."""

    def post_tune_all(self, task_scheduler: TaskSchedulerProgress) -> None:
        """After the last round."""


def task_description(task_scheduler: TaskSchedulerProgress, task_id: int) -> str:
    """The task's description (its fused function's name), else its workload key, cut to the table's width."""
    task = task_scheduler.tasks[task_id]
    text = task.desc or task.workload_key
    return text if len(text) <= DESCRIPTION_WIDTH else text[: DESCRIPTION_WIDTH - 3] + "..."


def format_table(task_scheduler: TaskSchedulerProgress) -> list[str]:
    """The table's lines: one row per task, then the totals."""
    header = f"|  ID  | {'Task Description':<{DESCRIPTION_WIDTH}} | Latency (ms) | Speed (GFLOPS) | Trials |"
    rule = "-" * len(header)
    lines = [rule, header, rule]
    for task_id in range(len(task_scheduler.tasks)):
        cost = task_scheduler.best_costs[task_id]
        if cost < MAX_FLOAT:
            latency = f"{cost * 1e3:12.3f}"
            speed = f"{task_scheduler.flop_cts[task_id] / cost / 1e9:14.2f}"
        else:
            latency, speed = f"{'-':>12}", f"{'-':>14}"
        trials = task_scheduler.task_trials[task_id]
        done = "*" if task_id in task_scheduler.dead_tasks else " "
        lines.append(
            f"| {task_id:4d} | {task_description(task_scheduler, task_id):<{DESCRIPTION_WIDTH}} "
            f"| {latency} | {speed} | {trials:5d}{done}|"
        )
    lines.append(rule)
    lines.append(summary_line(task_scheduler))
    return lines


def summary_line(task_scheduler: TaskSchedulerProgress) -> str:
    """Estimated total latency, trials and time so far (and the next task, between rounds)."""
    latency = task_scheduler.estimated_latency_s()
    shown = f"{latency * 1e3:.3f} ms" if latency is not None else "- (a task has no valid program yet)"
    elapsed = time.perf_counter() - task_scheduler.tic
    return f"Estimated total latency: {shown}\tTrials: {task_scheduler.ct}\tUsed time: {elapsed:.0f} s"


class PrintTableInfo(TaskSchedulerCallback):
    """The live table of tasks (see the module); `stream` defaults to stdout; `live` None: when it is a terminal."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None):
        self.stream = stream
        self.live = live
        self._drawn_lines = 0

    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def _is_live(self) -> bool:
        if self.live is not None:
            return self.live
        isatty = getattr(self._out(), "isatty", None)
        return bool(isatty and isatty())

    def pre_tune(self, task_scheduler: TaskSchedulerProgress, task_id: int) -> None:
        if task_scheduler.tune_option.verbose and not self._is_live():
            print(
                f"round: task {task_id} ({task_description(task_scheduler, task_id)})",
                file=self._out(),
                flush=True,
            )

    def post_tune(self, task_scheduler: TaskSchedulerProgress, task_id: int) -> None:
        if not task_scheduler.tune_option.verbose:
            return
        out = self._out()
        if self._is_live():
            lines = format_table(task_scheduler)
            if self._drawn_lines:
                out.write(f"\x1b[{self._drawn_lines}F\x1b[J")  # back to the table's first line, clear below
            out.write("\n".join(lines) + "\n")
            out.flush()
            self._drawn_lines = len(lines)
        else:
            print(summary_line(task_scheduler), file=out, flush=True)

    def post_tune_all(self, task_scheduler: TaskSchedulerProgress) -> None:
        if task_scheduler.tune_option.verbose and not self._is_live():
            print("\n".join(format_table(task_scheduler)), file=self._out(), flush=True)


class LogEstimatedLatency(TaskSchedulerCallback):
    """Appends `ElapsedTime(s)\\t...\\tEstimatedLatency(ms)\\t...\\tTrials\\t...` to `log_file` after every round."""

    def __init__(self, log_file: str | os.PathLike[str]):
        self.log_file = os.fspath(log_file)

    def post_tune(self, task_scheduler: TaskSchedulerProgress, task_id: int) -> None:
        latency = task_scheduler.estimated_latency_s()
        shown = f"{latency * 1e3:.6g}" if latency is not None else "N/A"
        elapsed = time.perf_counter() - task_scheduler.tic
        with open(self.log_file, "a", encoding="utf-8") as log:
            log.write(
                f"ElapsedTime(s)\t{elapsed:.0f}\tEstimatedLatency(ms)\t{shown}\tTrials\t{task_scheduler.ct}\n"
            )

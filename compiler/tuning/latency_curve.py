"""The estimated end-to-end latency of a network against the trials spent tuning it, and its plot.

A record log of a network's tuning holds, in measurement order, every
candidate of every task. Replaying it gives the curve the task scheduler
followed: after each trial, the weighted sum of the tasks' best latencies
so far (a task's weight: how often the network runs it), defined once every
task has a valid program. `sched-opt-run` draws it next to its log, and
`sched-opt-records plot LOG` from any log afterwards. Drawing needs
matplotlib (the `plot` extra); computing the curve does not.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from schedopt.errors import SchedOptError
from schedopt.records.codec import Record


class _CurveAxes(Protocol):
    """The calls of matplotlib's `Axes` the plot makes, typed: matplotlib leaves their `**kwargs` unannotated."""

    def step(
        self, x: Sequence[int], y: Sequence[float], *, where: Literal["pre", "post", "mid"]
    ) -> object: ...
    def set_xlabel(self, xlabel: str) -> object: ...
    def set_ylabel(self, ylabel: str) -> object: ...
    def set_title(self, label: str) -> object: ...
    def grid(self, visible: bool, *, alpha: float) -> None: ...


class _CurveFigure(Protocol):
    """The calls of matplotlib's `Figure` the plot makes, typed as `_CurveAxes` are."""

    def tight_layout(self) -> None: ...
    def savefig(self, fname: str, *, dpi: float) -> None: ...


@dataclass(frozen=True)
class CurvePoint:
    """After `trials` measurements: the estimated latency in seconds."""

    trials: int
    latency_s: float


def latency_curve(records: Iterable[Record], weights: Mapping[str, float] | None = None) -> list[CurvePoint]:
    """The estimated latency after each trial that changed it, in record order, and at the last trial.

    `weights` maps workload keys to weights; only those tasks count (None:
    every task of the log, weight 1). A point exists once every counted
    task has a valid program.
    """
    records = list(records)
    if weights is None:
        weights = {record.input.task.workload_key: 1.0 for record in records}
    best: dict[str, float] = {}
    points: list[CurvePoint] = []
    trials = 0
    for record in records:
        key = record.input.task.workload_key
        if key not in weights:
            continue
        trials += 1
        if not record.is_valid or record.result.mean_cost() >= best.get(key, float("inf")):
            continue
        best[key] = record.result.mean_cost()
        if len(best) == len(weights):
            points.append(CurvePoint(trials, sum(weights[k] * cost for k, cost in best.items())))
    if points and trials > points[-1].trials:  # flat to the end of the log
        points.append(CurvePoint(trials, points[-1].latency_s))
    return points


def plot_latency_curve(points: Sequence[CurvePoint], path: str | os.PathLike[str], title: str = "") -> None:
    """Draw the curve (latency in ms against trials) into the PNG file `path`."""
    if not points:
        raise SchedOptError(
            f"no latency curve to plot into {os.fspath(path)}: no task set has a valid program yet"
        )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SchedOptError("plotting needs matplotlib: pip install 'sched-opt[plot]'") from None
    figure, axes = plt.subplots(figsize=(7, 4))
    _draw_curve(figure, axes, points, title, os.fspath(path))
    plt.close(figure)


def _draw_curve(
    figure: _CurveFigure, axes: _CurveAxes, points: Sequence[CurvePoint], title: str, path: str
) -> None:
    """Draw on matplotlib's figure and axes, through the typed calls of `_CurveFigure` and `_CurveAxes`."""
    trials = [p.trials for p in points]
    latency_ms = [p.latency_s * 1e3 for p in points]
    axes.step(trials, latency_ms, where="post")
    axes.set_xlabel("trials")
    axes.set_ylabel("estimated latency (ms)")
    axes.set_title(title or "estimated end-to-end latency")
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)

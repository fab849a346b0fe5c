"""`sched-opt-records`: look into record files, convert them, prune them.

    sched-opt-records list tune.json                 every record, one per row
    sched-opt-records best tune.db --program         the best record of each workload, and its schedule
    sched-opt-records convert tune.json tune.db      JSON lines <-> SQLite (by suffix), losslessly
    sched-opt-records prune tune.json --top 10       keep the 10 best successful records of each workload
    sched-opt-records plot net.json --model resnet18 the estimated network latency against trials, as a PNG

Bad lines are reported as warnings naming the file and line, and skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from schedopt.errors import SchedOptError, WorkloadError
from schedopt.records import (
    Record,
    RecordWarning,
    append_records,
    best_record,
    read_records,
    recover_measure_input,
    rewrite_records,
)
from schedopt.task_extraction import extract_tasks
from schedopt.tools.model_arguments import ZOO_MODELS, load_model_argument
from schedopt.tuning.latency_curve import latency_curve, plot_latency_curve

PROG = "sched-opt-records"
CONVERT_CHUNK = 1000
"""Records appended per transaction when converting, and how often progress is reported."""


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: set[int]) -> str:
    """Rows as aligned columns; the columns in `numeric` are right-aligned."""
    cells = [list(map(str, headers)), *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]

    def line(row: list[str]) -> str:
        padded = (
            cell.rjust(width) if column in numeric else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    return "\n".join(line(row) for row in cells)


def _cost_ms(record: Record) -> str:
    return f"{record.result.mean_cost() * 1e3:.4f}" if record.is_valid else "-"


def _result(record: Record) -> str:
    return "ok" if record.is_valid else record.result.error_no.name


def _time(timestamp: float) -> str:
    try:
        return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return str(timestamp)


def _group_by_task(records: Iterable[Record]) -> dict[tuple[str, str], list[Record]]:
    groups: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for record in records:
        groups[(record.workload_key, record.target_kind)].append(record)
    return groups


# --- subcommands ---------------------------------------------------------------------------


def list_records(options: argparse.Namespace) -> int:
    records = list(read_records(options.file, options.workload, options.target))
    failed = sum(not r.is_valid for r in records)
    shown = [r for r in records if r.is_valid or not options.valid][: options.limit]
    print(f"{options.file}: {len(records)} records, {failed} failed")
    headers = ("record", "workload", "target", "result", "cost (ms)", "steps", "time", "device")
    print(_table(headers, map(_list_row, shown), numeric={4, 5}))
    return 0


def _list_row(record: Record) -> tuple[object, ...]:
    steps = len(record.input.state.transform_steps)
    return (record.location, record.workload_key, record.target_kind, _result(record), _cost_ms(record), steps,
            _time(record.result.timestamp), record.result.device_key or "host")  # fmt: skip


def show_best(options: argparse.Namespace) -> int:
    groups = _group_by_task(read_records(options.file, options.workload, options.target))
    rows: list[tuple[object, ...]] = []
    bests: list[Record] = []
    for (key, target), records in groups.items():
        best = best_record(records)
        failed = sum(not r.is_valid for r in records)
        if best is None:
            rows.append((key, target, len(records), failed, "-", "-"))
            continue
        rows.append((key, target, len(records), failed, _cost_ms(best), best.location))
        bests.append(best)
    headers = ("workload", "target", "records", "failed", "best (ms)", "best record")
    print(_table(headers, rows, numeric={2, 3, 4}))
    if options.program:
        for best in bests:
            print(f"\n// {best.location}: {best.workload_key} on {best.target_kind}, {_cost_ms(best)} ms")
            print(_schedule_text(best))
    return 0


def _schedule_text(record: Record) -> str:
    """The record's schedule as transform IR if its workload is registered, else its steps as records."""
    try:
        recovered = recover_measure_input(record.input, rebuild_state=True)
    except WorkloadError:
        steps = [step.to_record() for step in record.input.state.transform_steps]
        return "// (workload not registered here: the steps as recorded)\n" + "\n".join(
            map(json.dumps, steps)
        )
    assert recovered.task.compute_dag is not None
    return recovered.task.compute_dag.print_python_code_from_state(recovered.state)


def convert(options: argparse.Namespace) -> int:
    if os.path.exists(options.destination):
        raise SchedOptError(f"{options.destination} exists; convert writes a new file")
    written = 0
    chunk: list[Record] = []
    for record in read_records(options.source):
        chunk.append(record)
        if len(chunk) == CONVERT_CHUNK:
            append_records(options.destination, chunk)
            written += len(chunk)
            chunk = []
            print(f"\r{written} records written...", end="", file=sys.stderr, flush=True)
    append_records(options.destination, chunk)
    written += len(chunk)
    print(f"\rwrote {written} records from {options.source} to {options.destination}", file=sys.stderr)
    return 0


def prune(options: argparse.Namespace) -> int:
    if options.output is not None and os.path.exists(options.output):
        raise SchedOptError(f"{options.output} exists; prune writes a new file (or, without -o, the input)")
    records = list(read_records(options.file))
    kept = _kept_by_prune(records, options.top, options.keep_errors)
    if options.output is None:
        rewrite_records(options.file, kept)
    else:
        append_records(options.output, kept)
    failed = sum(not r.is_valid for r in records)
    destination = options.output or options.file
    print(f"kept {len(kept)} of {len(records)} records ({failed} failed) in {destination}", file=sys.stderr)
    return 0


def _kept_by_prune(records: list[Record], top: int | None, keep_errors: bool) -> list[Record]:
    """The `top` best successful records of each task (None: all), and the failed ones if asked, in order."""
    keep: set[int] = set()
    for group in _group_by_task(records).values():
        valid = sorted((r for r in group if r.is_valid), key=lambda r: r.result.mean_cost())
        keep.update(id(r) for r in valid[:top])
        if keep_errors:
            keep.update(id(r) for r in group if not r.is_valid)
    return [r for r in records if id(r) in keep]


def plot(options: argparse.Namespace) -> int:
    weights = None
    if options.model is not None:
        tasks, task_weights = extract_tasks(load_model_argument(options.model), target="llvm")
        weights = {task.workload_key: float(weight) for task, weight in zip(tasks, task_weights, strict=True)}
    points = latency_curve(read_records(options.file), weights)
    output = options.output or str(Path(options.file).with_suffix(".latency.png"))
    what = f"{options.model} tasks" if options.model else "every task of the log, weight 1"
    plot_latency_curve(points, output, title=f"{Path(options.file).name}: estimated latency ({what})")
    if points:
        first, last = points[0], points[-1]
        print(
            f"{first.latency_s * 1e3:.3f} ms at trial {first.trials} -> {last.latency_s * 1e3:.3f} ms "
            f"at trial {last.trials}; plot in {output}"
        )
    return 0


# --- driver -------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def add_filters(command: argparse.ArgumentParser) -> None:
        command.add_argument("--workload", help="only records of this workload key")
        command.add_argument("--target", help="only records of this target's kind (e.g. llvm)")

    listing = commands.add_parser("list", help="print every record")
    listing.add_argument("file")
    add_filters(listing)
    listing.add_argument("--valid", action="store_true", help="only successful measurements")
    listing.add_argument("--limit", type=int, help="print at most this many rows")
    listing.set_defaults(run=list_records)

    best = commands.add_parser("best", help="print the best record of each workload and target")
    best.add_argument("file")
    add_filters(best)
    best.add_argument("--program", action="store_true", help="also print each best schedule")
    best.set_defaults(run=show_best)

    converting = commands.add_parser("convert", help="copy records to a new file of another format")
    converting.add_argument("source")
    converting.add_argument("destination", help="a new file: .db for SQLite, else JSON lines")
    converting.set_defaults(run=convert)

    pruning = commands.add_parser("prune", help="keep the best records of each workload and target")
    pruning.add_argument("file")
    pruning.add_argument(
        "--top", type=int, default=None, help="successful records kept per workload (default all)"
    )
    pruning.add_argument("--keep-errors", action="store_true", help="keep failed measurements too")
    pruning.add_argument("-o", "--output", help="write here (a new file) instead of replacing the input")
    pruning.set_defaults(run=prune)

    plotting = commands.add_parser(
        "plot", help="draw the estimated latency of a tuned network against trials"
    )
    plotting.add_argument("file")
    plotting.add_argument(
        "--model", help="weigh the tasks as this network runs them: an .onnx file or " + ", ".join(ZOO_MODELS)
    )
    plotting.add_argument("-o", "--output", help="the PNG to write (default: FILE with suffix .latency.png)")
    plotting.set_defaults(run=plot)
    return parser


def _show_warning(message: Warning | str, *_: object, **__: object) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", RecordWarning)
        warnings.showwarning = _show_warning
        try:
            return options.run(options)
        except SchedOptError as error:
            print(f"{PROG}: error: {error}", file=sys.stderr)
            return 1


def console_main() -> None:
    """Entry point of the `sched-opt-records` console script."""
    sys.exit(main())

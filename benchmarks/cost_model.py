"""Cost-model benchmark: how well `XGBModel` ranks candidates it has not seen, and how much sooner
its guidance finds fast programs than random guidance.

    python benchmarks/cost_model.py matmul.json conv2d.json          # `accuracy` is the default
    python benchmarks/cost_model.py accuracy matmul.json --json out.json
    python benchmarks/cost_model.py noise matmul.json --sample 100 --repeats 3
    python benchmarks/cost_model.py remeasure matmul.json --passes 3 --out matmul.remeasured.json
    python benchmarks/cost_model.py curve --workload matmul --args 512 512 512 --trials 200 --out-dir runs
    python benchmarks/cost_model.py curve --from-logs runs/matmul-512-512-512.sketch.xgb.seed0.json \
        runs/matmul-512-512-512.sketch.random.seed0.json

`accuracy` reads record files of measured candidates (a tuning run's log),
groups the successful ones by task, and per task trains a fresh `XGBModel`
on a seeded 80% of them and scores the other 20%. The table gives, per task
and over all tasks: pairwise ranking accuracy (the share of held-out pairs
of different measured cost whose scores order them as the costs do, ties of
scores counting half), the recall of the 10 truly fastest held-out
candidates among the 50 best scored (fewer where the held-out set is
smaller: the table marks those), the median speed of the 64 best scored
(what a round of tuning would measure) against that of all held-out
candidates, and the seconds spent training (feature extraction and
boosting) and predicting. A small `--train-fraction` plays an early round
of tuning, when the model knows few candidates. Over all tasks, accuracy weighs
each task by its pairs, recall by its true top and speeds by its held-out
candidates.

`noise` measures a seeded sample of each task's logged candidates again,
`--repeats` times with the tuning runner's settings (run it on a quiet
machine), and prints how well the logged costs agree in pairwise order with
the median re-measurement: the accuracy a model that knew every program's
true speed would score against those logged costs, i.e. the ceiling
measurement noise puts on `accuracy`; beside it the agreement of two
re-measurements and the median spread of a candidate's re-measurements.

`remeasure` measures every successful candidate of the record files again
in `--passes` passes over all of them (run it on a quiet machine) and writes
them to `--out` as records whose costs are the passes' costs, so that
`accuracy` on that file judges a model by labels averaged over
measurements minutes apart. On a shared host a slow phase (a neighbour's
cache traffic, say) slows the cache-hungry programs it meets by up to a quarter for
seconds at a time: one logged measurement then agrees with another in
only 0.8-0.9 of pairs, and no model can rank better than the labels agree
with themselves.

`curve` tunes one workload twice from the same seed and for the same trials,
guided by `sketch.xgb` and then by `sketch.random` (record files
`WORKLOAD-ARGS.POLICY.seedN.json` in `--out-dir`; a complete one is read
again, a partial one is an error, since a resumed search would not
compare), once per seed of
`--seed`, or reads pairs of such logs with `--from-logs`. Per pair it
prints the best GFLOP/s found so far after every round of trials (in record
order) and the number of trials XGB guidance took to reach the random
policy's final best; with several pairs, a summary of those numbers (one
seed's curve says little: the best of a few hundred candidates varies from
seed to seed by more than the policies differ).

Targets of issue 7: pairwise accuracy of at least 0.85 on held-out
candidates of the same task; on matmul 512, XGB guidance reaches the random
policy's 200-trial best in at most half the trials.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

POLICIES = ("sketch.xgb", "sketch.random")
TOP_TRUE = 10
TOP_PREDICTED = 50
PICKED = 64
"""Held-out candidates a round of tuning would measure: the best scored, as many as a round has."""
MIN_RECORDS = 10
"""A task with fewer successful records is left out of `accuracy`: its held-out set says nothing."""


# --- metrics -----------------------------------------------------------------------------------


def pairwise_ranking_accuracy(costs: Sequence[float], scores: Sequence[float]) -> float:
    """The share of pairs of distinct cost that the scores order as the costs (higher score = faster).

    A pair whose scores tie counts half, as in a concordance index; NaN when no two costs differ.
    """
    cost, score = np.asarray(costs, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    if cost.shape != score.shape:
        raise ValueError(f"pairwise_ranking_accuracy: {cost.size} costs but {score.size} scores")
    faster = cost[:, None] < cost[None, :]
    pairs = int(faster.sum())
    if pairs == 0:
        return math.nan
    higher = score[:, None] > score[None, :]
    tied = score[:, None] == score[None, :]
    return float((faster & higher).sum() + 0.5 * (faster & tied).sum()) / pairs


def distinct_cost_pairs(costs: Sequence[float]) -> int:
    """The pairs `pairwise_ranking_accuracy` judges: those of different cost."""
    cost = np.asarray(costs, dtype=np.float64)
    return int((cost[:, None] < cost[None, :]).sum())


def top_k_recall(
    costs: Sequence[float], scores: Sequence[float], k_true: int = TOP_TRUE, k_predicted: int = TOP_PREDICTED
) -> float:
    """The share of the `k_true` fastest candidates among the `k_predicted` best scored.

    Both are cut to the number of candidates; ties go to the earlier candidate.
    """
    cost, score = np.asarray(costs, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    if cost.shape != score.shape or cost.size == 0:
        raise ValueError(f"top_k_recall: needs as many scores as costs, got {score.size} and {cost.size}")
    true_top = set(np.argsort(cost, kind="stable")[:k_true].tolist())
    predicted_top = set(np.argsort(-score, kind="stable")[:k_predicted].tolist())
    return len(true_top & predicted_top) / len(true_top)


def picked_speed(costs: Sequence[float], scores: Sequence[float], k: int = PICKED) -> float:
    """The median speed (the least cost over the cost) of the `k` best-scored candidates: what a
    round that measures the model's favourites gets."""
    cost, score = np.asarray(costs, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    picked = cost[np.argsort(-score, kind="stable")[:k]]
    return float(np.median(cost.min() / picked))


def best_so_far(values: Sequence[float]) -> np.ndarray:
    """The running maximum: after each trial, the best value measured up to it."""
    return np.maximum.accumulate(np.asarray(values, dtype=np.float64))


def trials_to_reach(curve: Sequence[float], target: float) -> int | None:
    """The number of trials after which a best-so-far curve first reaches `target` (None: never)."""
    reached = np.flatnonzero(np.asarray(curve) >= target)
    return int(reached[0]) + 1 if reached.size else None


def round_ends(n_trials: int, per_round: int) -> list[int]:
    """The trial counts at the end of each round of `per_round`, the last one possibly shorter."""
    return sorted({*range(per_round, n_trials + 1, per_round), n_trials} - {0})


# --- accuracy ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccuracyRow:
    """One task (or "overall") of the accuracy table and of `--json`.

    `top_predicted` is how many best-scored candidates the recall looked in:
    `TOP_PREDICTED`, or the held-out count when that is smaller (None for
    "overall"). `picked_speed` is `picked_speed` of the held-out candidates,
    `median_speed` the median speed of all of them (what random picks get).
    """

    task: str
    n_train: int
    n_test: int
    n_pairs: int
    pairwise_accuracy: float
    top_true: int
    top_predicted: int | None
    top_recall: float
    picked_speed: float
    median_speed: float
    train_s: float
    predict_s: float


def successful_records_by_task(files: Sequence[str]) -> dict[str, list]:
    """The successful (input, result) pairs of the files, by workload key in order of appearance."""
    from schedopt.measurement import MeasureErrorNo
    from schedopt.records import load_records

    tasks: dict[str, list] = {}
    for file in files:
        for inp, res in load_records(file):
            if res.error_no == MeasureErrorNo.NO_ERROR:
                tasks.setdefault(inp.task.workload_key, []).append((inp, res))
    return tasks


def split(n: int, train_fraction: float, seed: int, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded train/test split of `n` records; the shuffle depends only on the seed
    and the task's key, not on the other tasks of the files."""
    order = _shuffled(n, seed, key)
    n_train = min(max(round(train_fraction * n), 1), n - 1)
    return order[:n_train], order[n_train:]


def folds(n: int, k: int, seed: int, key: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """`k` seeded (train, test) splits of `n` records in which every record is held out once."""
    order = _shuffled(n, seed, key)
    return [(np.setdiff1d(order, order[i::k]), order[i::k]) for i in range(k)]


def _shuffled(n: int, seed: int, key: str) -> np.ndarray:
    return np.random.default_rng([seed, zlib.crc32(key.encode())]).permutation(n)


def evaluate_task(
    key: str,
    records: list,
    train_fraction: float,
    seed: int,
    objective: str | None = None,
    n_folds: int | None = None,
) -> AccuracyRow:
    """Train fresh XGBModels on the task's training splits and score their held-out splits.

    One split by `train_fraction`, or with `n_folds` a k-fold cross-validation (every record
    held out once; the folds' rows pooled as `overall` pools tasks)."""
    from schedopt.measurement import MeasureInput
    from schedopt.records import recover_measure_input

    task = recover_measure_input(records[0][0]).task
    inputs = [MeasureInput(task, inp.state) for inp, _ in records]
    costs = np.array([res.mean_cost() for _, res in records])
    splits = (
        folds(len(records), n_folds, seed, key)
        if n_folds
        else [split(len(records), train_fraction, seed, key)]
    )
    rows = [
        _evaluate_split(key, task, inputs, records, costs, train, test, objective) for train, test in splits
    ]
    if len(rows) == 1:
        return rows[0]
    pooled = overall(rows)
    return replace(pooled, task=key, n_train=pooled.n_train // len(rows), top_predicted=rows[0].top_predicted)


def _evaluate_split(
    key: str,
    task: Any,
    inputs: list,
    records: list,
    costs: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    objective: str | None,
) -> AccuracyRow:
    from schedopt.cost_model import XGBModel

    model = XGBModel(verbose_eval=0, num_warmup_sample=0, **({"objective": objective} if objective else {}))
    start = time.perf_counter()
    model.update([inputs[i] for i in train], [records[i][1] for i in train])
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    scores = model.predict(task, [inputs[i].state for i in test])
    predict_s = time.perf_counter() - start

    test_costs = costs[test]
    return AccuracyRow(
        key,
        len(train),
        len(test),
        distinct_cost_pairs(test_costs),
        pairwise_ranking_accuracy(test_costs, scores),
        min(TOP_TRUE, len(test)),
        min(TOP_PREDICTED, len(test)),
        top_k_recall(test_costs, scores),
        picked_speed(test_costs, scores),
        float(np.median(test_costs.min() / test_costs)),
        train_s,
        predict_s,
    )


def overall(rows: Sequence[AccuracyRow]) -> AccuracyRow:
    """The tasks pooled: accuracy weighted by pairs, recall by the size of the true top, speeds
    by held-out candidates."""
    pairs = sum(r.n_pairs for r in rows)
    top = sum(r.top_true for r in rows)
    tested = sum(r.n_test for r in rows)
    return AccuracyRow(
        "overall",
        sum(r.n_train for r in rows),
        sum(r.n_test for r in rows),
        pairs,
        sum(r.pairwise_accuracy * r.n_pairs for r in rows if r.n_pairs) / pairs if pairs else math.nan,
        top,
        None,
        sum(r.top_recall * r.top_true for r in rows) / top,
        sum(r.picked_speed * r.n_test for r in rows) / tested,
        sum(r.median_speed * r.n_test for r in rows) / tested,
        sum(r.train_s for r in rows),
        sum(r.predict_s for r in rows),
    )


def print_accuracy(rows: Sequence[AccuracyRow], total: AccuracyRow, skipped: dict[str, int]) -> None:
    width = max(len(r.task) for r in [*rows, total]) + 2
    header = (
        f"{'task':<{width}}{'train':>7}{'test':>6}{'pairwise':>10}"
        f"{f'top-{TOP_TRUE} in top-{TOP_PREDICTED}':>22}{f'top-{PICKED} speed':>14}{'all speed':>11}"
        f"{'train s':>9}{'predict s':>11}"
    )
    print(header + "\n" + "-" * len(header))
    cut = False
    for row in [*rows, total]:
        mark = ""
        if row.top_predicted is not None and row.top_predicted < TOP_PREDICTED:
            mark, cut = f" (top-{row.top_predicted})*", True
        print(
            f"{row.task:<{width}}{row.n_train:>7}{row.n_test:>6}{row.pairwise_accuracy:>10.3f}"
            f"{f'{row.top_recall:.2f}{mark}':>22}{row.picked_speed:>14.2f}{row.median_speed:>11.2f}"
            f"{row.train_s:>9.2f}{row.predict_s:>11.2f}"
        )
    if cut:
        print(
            f"* fewer than {TOP_PREDICTED} held-out candidates: the predicted top holds all of them,"
            " so the recall is 1 by construction"
        )
    print(
        f"speed: the task's least held-out cost over a candidate's cost; median over the {PICKED} best"
        " scored (what a round of tuning measures) and over all held-out candidates"
    )
    for key, n in skipped.items():
        print(f"skipped {key}: {n} successful records (fewer than {MIN_RECORDS})")


def run_accuracy(options: argparse.Namespace) -> int:
    from schedopt.cost_model import XGBModel
    from schedopt.errors import RecordError

    by_task = successful_records_by_task(options.records)
    skipped = {key: len(records) for key, records in by_task.items() if len(records) < MIN_RECORDS}
    rows = [
        evaluate_task(key, records, options.train_fraction, options.seed, options.objective, options.folds)
        for key, records in by_task.items()
        if key not in skipped
    ]
    if not rows:
        raise RecordError(
            f"no task of {', '.join(options.records)} has {MIN_RECORDS} or more successful records"
        )
    total = overall(rows)
    held_out = (
        f"{options.folds}-fold cross-validation"
        if options.folds
        else f"{1 - options.train_fraction:.0%} held out"
    )
    print(f"XGBModel objective: {options.objective or XGBModel().objective}; {held_out}\n")
    print_accuracy(rows, total, skipped)
    if options.json:
        report = {"tasks": [asdict(r) for r in rows], "overall": asdict(total), "skipped": skipped}
        Path(options.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


# --- measurement noise -------------------------------------------------------------------------


@dataclass(frozen=True)
class NoiseRow:
    """How well measurements of one task's candidates agree with themselves: a model's ceiling.

    `logged_vs_remeasured` is the pairwise accuracy of the median re-measurement as a score of the
    logged costs (what `accuracy` judges a model against): a perfect model of the program's true
    speed would score about this, since the logged costs carry the same noise. `remeasured_pairs`
    is the accuracy of one re-measurement against another. `spread` is the median over candidates
    of (slowest - fastest) / fastest of a candidate's re-measurements."""

    task: str
    candidates: int
    logged_vs_remeasured: float
    remeasured_pairs: float
    spread: float
    seconds: float


def remeasure(records: list, repeats: int) -> np.ndarray:
    """The costs of `records` measured again `repeats` times (rows: repeats), with the tuning
    runner's settings; one build each."""
    from schedopt.measurement import LocalBuilder, LocalRunner, MeasureErrorNo, MeasureInput
    from schedopt.records import recover_measure_input

    task = recover_measure_input(records[0][0]).task
    inputs = [MeasureInput(task, inp.state) for inp, _ in records]
    builder, runner = LocalBuilder(), LocalRunner()
    try:
        built = builder.build(inputs, verbose=0)
        rows = []
        for _ in range(repeats):
            results = runner.run(inputs, built, verbose=0)
            rows.append(
                [r.mean_cost() if r.error_no == MeasureErrorNo.NO_ERROR else math.nan for r in results]
            )
    finally:
        builder.close()
        runner.close()
    return np.array(rows)


def noise_of_task(key: str, records: list, sample: int, repeats: int, seed: int) -> NoiseRow:
    """Re-measure a seeded sample of the task's records and compare (see `NoiseRow`)."""
    start = time.perf_counter()
    chosen = np.sort(_shuffled(len(records), seed, key)[:sample])
    picked = [records[i] for i in chosen]
    again = remeasure(picked, repeats)
    ok = ~np.isnan(again).any(axis=0)
    logged = np.array([res.mean_cost() for _, res in picked])[ok]
    again = again[:, ok]
    median = np.median(again, axis=0)
    pairs = [
        pairwise_ranking_accuracy(again[a], -again[b])
        for a in range(repeats)
        for b in range(repeats)
        if a != b
    ]
    return NoiseRow(
        key,
        int(ok.sum()),
        pairwise_ranking_accuracy(logged, -median),
        float(np.mean(pairs)),
        float(np.median((again.max(axis=0) - again.min(axis=0)) / again.min(axis=0))),
        time.perf_counter() - start,
    )


def run_noise(options: argparse.Namespace) -> int:
    from schedopt.errors import RecordError

    by_task = successful_records_by_task(options.records)
    rows = [
        noise_of_task(key, records, options.sample, options.repeats, options.seed)
        for key, records in by_task.items()
        if len(records) >= MIN_RECORDS
    ]
    if not rows:
        raise RecordError(
            f"no task of {', '.join(options.records)} has {MIN_RECORDS} or more successful records"
        )
    print(f"{'task':<48} {'cands':>6} {'logged~again':>13} {'again~again':>12} {'spread':>7} {'s':>6}")
    for row in rows:
        print(
            f"{row.task[:48]:<48} {row.candidates:>6} {row.logged_vs_remeasured:>13.3f} "
            f"{row.remeasured_pairs:>12.3f} {row.spread:>7.1%} {row.seconds:>6.0f}"
        )
    if options.json:
        Path(options.json).write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    return 0


def remeasured_records(records: list, passes: int) -> tuple[list, float]:
    """`records` whose results carry `passes` fresh costs, one per pass (`remeasure`), leaving
    out a candidate that fails in any pass; and how well their mean orders pairs as the logged
    costs do."""
    from schedopt.measurement import MeasureResult

    again = remeasure(records, passes)
    kept = ~np.isnan(again).any(axis=0)
    fresh = [
        (inp, MeasureResult(tuple(costs), res.error_no, "", res.all_cost, res.timestamp))
        for (inp, res), costs, ok in zip(records, again.T, kept, strict=True)
        if ok
    ]
    logged = np.array([res.mean_cost() for _, res in records])[kept]
    return fresh, pairwise_ranking_accuracy(logged, -again[:, kept].mean(axis=0))


def run_remeasure(options: argparse.Namespace) -> int:
    from schedopt.errors import RecordError
    from schedopt.records import save_records

    if os.path.exists(options.out):
        raise RecordError(f"{options.out} exists: remove it, or choose another --out")
    written = []
    for key, records in successful_records_by_task(options.records).items():
        start = time.perf_counter()
        fresh, agreement = remeasured_records(records, options.passes)
        print(
            f"{key[:60]}: {len(fresh)} of {len(records)} candidates measured {options.passes} times "
            f"in {time.perf_counter() - start:.0f} s; their mean orders pairs as the logged costs do "
            f"in {agreement:.3f}"
        )
        written += fresh
    save_records(options.out, [inp for inp, _ in written], [res for _, res in written])
    print(f"wrote {len(written)} records to {options.out}")
    return 0


# --- tuning curve ------------------------------------------------------------------------------


def gflops_of_log(file: str) -> tuple[str, list[float]]:
    """The workload key of a one-task record file and the GFLOP/s of each record in file order
    (0 for a failed measurement, which still spends a trial)."""
    from schedopt.errors import RecordError
    from schedopt.measurement import MeasureErrorNo
    from schedopt.records import load_records
    from schedopt.search_task import SearchTask

    records = load_records(file)
    keys = {inp.task.workload_key for inp, _ in records}
    if len(keys) != 1:
        raise RecordError(f"{file}: a tuning curve needs the records of one task, found {len(keys)}")
    key = keys.pop()
    flop_ct = SearchTask(workload_key=key).compute_dag.flop_ct
    gflops = [
        flop_ct / res.mean_cost() / 1e9 if res.error_no == MeasureErrorNo.NO_ERROR else 0.0
        for _, res in records
    ]
    return key, gflops


def xgb_variant(options: argparse.Namespace) -> str:
    """The XGB policy's name in log files: `sketch.xgb`, plus the settings that differ from the defaults."""
    name = "sketch.xgb"
    if options.num_warmup_sample is not None:
        name += f".warmup{options.num_warmup_sample}"
    if options.objective is not None:
        name += f".{options.objective}"
    return name


def tune(options: argparse.Namespace, seed: int) -> tuple[str, str]:
    """Tune the workload under each policy from the same seed; the two record files.

    A log that already holds all the trials is read, not tuned again (so the
    random runs serve several XGB variants); a partial one is an error.
    """
    import schedopt as ss
    from schedopt.cost_model import XGBModel
    from schedopt.errors import RecordError
    from schedopt.search_policy import SketchPolicy

    name = "-".join([options.workload, *map(str, options.args)])
    policies = (xgb_variant(options), "sketch.random")
    logs = tuple(os.path.join(options.out_dir, f"{name}.{p}.seed{seed}.json") for p in policies)
    os.makedirs(options.out_dir, exist_ok=True)
    for policy_name, log in zip(policies, logs, strict=True):
        if os.path.exists(log):
            with open(log) as file:
                held = sum(1 for line in file if line.strip())
            if held == options.trials:
                print(f"=== {policy_name}: reading {log} ({held} trials) ===")
                continue
            raise RecordError(
                f"{log} exists with {held} of {options.trials} trials: remove it, or read it with --from-logs"
            )
        task = ss.SearchTask(options.workload, options.args)
        print(f"=== {policy_name}: {task.workload_key}, {options.trials} trials, seed {seed} ===")
        if policy_name == "sketch.random":
            model = ss.RandomModel(seed)
        else:
            settings = {"num_warmup_sample": options.num_warmup_sample, "objective": options.objective}
            model = XGBModel(
                verbose_eval=0, seed=seed, **{k: v for k, v in settings.items() if v is not None}
            )
        policy = SketchPolicy(task, model, seed=seed, verbose=1)
        tuning = ss.TuningOptions(
            options.trials, None, options.per_round, 1, measure_callbacks=[ss.RecordToFile(log)]
        )
        task.tune(tuning, policy)
    return logs[0], logs[1]


def curve_report(xgb_log: str, random_log: str, per_round: int) -> dict:
    """The best GFLOP/s so far of both logs at the end of each round (None past a log's end),
    and the trials the XGB-guided search took to reach the random-guided one's final best."""
    from schedopt.errors import RecordError

    (xgb_key, xgb), (random_key, random) = gflops_of_log(xgb_log), gflops_of_log(random_log)
    if xgb_key != random_key:
        raise RecordError(f"curve: {xgb_log} tunes {xgb_key} but {random_log} tunes {random_key}")
    curves = dict(zip(POLICIES, (best_so_far(xgb), best_so_far(random)), strict=True))
    ends = sorted({*round_ends(len(xgb), per_round), *round_ends(len(random), per_round)})
    random_best = float(curves["sketch.random"][-1])
    reached = trials_to_reach(curves["sketch.xgb"], random_best)
    return {
        "workload_key": xgb_key,
        "logs": dict(zip(POLICIES, (xgb_log, random_log), strict=True)),
        "trials": {p: len(c) for p, c in curves.items()},
        "round_ends": ends,
        "best_gflops": {
            p: [float(c[e - 1]) if e <= len(c) else None for e in ends] for p, c in curves.items()
        },
        "random_best_gflops": random_best,
        "xgb_trials_to_random_best": reached,
        "xgb_share_of_random_trials": None if reached is None else reached / len(random),
    }


def print_curve(report: dict) -> None:
    trials = report["trials"]
    print(f"\nworkload  {report['workload_key']}")
    for policy, log in report["logs"].items():
        print(f"records   {policy:<14}{log} ({trials[policy]} trials)")
    print(f"\n{'trials':>8}{'sketch.xgb':>14}{'sketch.random':>16}   (best GFLOP/s so far)")
    columns = [report["best_gflops"][p] for p in POLICIES]
    for row, end in enumerate(report["round_ends"]):
        cells = ["" if c[row] is None else f"{c[row]:.2f}" for c in columns]
        print(f"{end:>8}{cells[0]:>14}{cells[1]:>16}")
    best = f"sketch.random's best ({report['random_best_gflops']:.2f} GFLOP/s)"
    reached = report["xgb_trials_to_random_best"]
    if reached is None:
        print(f"\nsketch.xgb did not reach {best}")
        return
    print(
        f"\nsketch.xgb reached {best} after {reached} trials, "
        f"{report['xgb_share_of_random_trials']:.2f} of sketch.random's {trials['sketch.random']}"
    )


def curve_summary(reports: Sequence[dict]) -> dict:
    """Over the runs: how many reached the random best, and the median share of the random trials
    it took (a run that never reached it counts as needing more than all of them)."""
    shares = [r["xgb_share_of_random_trials"] for r in reports]
    median = float(np.median([math.inf if s is None else s for s in shares]))
    return {
        "runs": len(reports),
        "reached": sum(s is not None for s in shares),
        "shares": shares,
        "median_share": None if math.isinf(median) else median,
    }


def print_curve_summary(summary: dict) -> None:
    shares = " ".join("-" if s is None else f"{s:.2f}" for s in summary["shares"])
    median = "never" if summary["median_share"] is None else f"{summary['median_share']:.2f}"
    print(
        f"\nover {summary['runs']} runs: sketch.xgb reached sketch.random's best in {summary['reached']}; "
        f"share of the random trials it took: {shares} (median {median})"
    )


def run_curve(options: argparse.Namespace) -> int:
    from schedopt.errors import RecordError

    if options.from_logs:
        if len(options.from_logs) % 2:
            raise RecordError("curve --from-logs takes pairs of logs: XGB_LOG RANDOM_LOG ...")
        pairs = list(zip(options.from_logs[::2], options.from_logs[1::2], strict=True))
    else:
        pairs = [tune(options, seed) for seed in options.seed]
    reports = [curve_report(xgb_log, random_log, options.per_round) for xgb_log, random_log in pairs]
    for report in reports:
        print_curve(report)
    summary = curve_summary(reports)
    if len(reports) > 1:
        print_curve_summary(summary)
    if options.json:
        Path(options.json).write_text(json.dumps({"runs": reports, "summary": summary}, indent=2) + "\n")
    return 0


# --- command line ------------------------------------------------------------------------------


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _at_least_two(text: str) -> int:
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2, got {value}")
    return value


def _parse_arg(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True)
    accuracy = commands.add_parser("accuracy", help="rank held-out candidates of record files (default)")
    accuracy.add_argument("records", nargs="+", help="record files of measured candidates")
    accuracy.add_argument(
        "--train-fraction", type=_fraction, default=0.8, help="share trained on (default 0.8)"
    )
    accuracy.add_argument(
        "--folds",
        type=_at_least_two,
        help="k-fold cross-validation instead of one split: every candidate held out once (less noise)",
    )
    accuracy.add_argument("--seed", type=int, default=0, help="seed of the train/test split")
    accuracy.add_argument("--objective", help="XGBModel's objective: pairwise-rank (default) or throughput")
    accuracy.add_argument("--json", metavar="FILE", help="also write the table as JSON")
    accuracy.set_defaults(run=run_accuracy)

    noise = commands.add_parser(
        "noise", help="re-measure logged candidates: how far measurement noise caps any model's accuracy"
    )
    noise.add_argument("records", nargs="+", help="record files of measured candidates")
    noise.add_argument("--sample", type=_positive, default=100, help="candidates per task (default 100)")
    noise.add_argument("--repeats", type=_at_least_two, default=3, help="re-measurements of each (default 3)")
    noise.add_argument("--seed", type=int, default=0, help="seed of the sample")
    noise.add_argument("--json", metavar="FILE", help="also write the table as JSON")
    noise.set_defaults(run=run_noise)

    again = commands.add_parser(
        "remeasure", help="measure every logged candidate again, in passes; write them as records"
    )
    again.add_argument("records", nargs="+", help="record files of measured candidates")
    again.add_argument("--passes", type=_positive, default=3, help="passes over all candidates (default 3)")
    again.add_argument("--out", required=True, metavar="FILE", help="the record file to write")
    again.set_defaults(run=run_remeasure)

    curve = commands.add_parser("curve", help="best GFLOP/s per trial, sketch.xgb against sketch.random")
    source = curve.add_mutually_exclusive_group(required=True)
    source.add_argument("--workload", help="a registered workload to tune, e.g. matmul")
    source.add_argument(
        "--from-logs",
        nargs="+",
        metavar="LOG",
        help="read pairs of logs, XGB_LOG RANDOM_LOG ..., instead of tuning",
    )
    curve.add_argument("--args", nargs="*", type=_parse_arg, default=[], help="its arguments (JSON values)")
    curve.add_argument("--trials", type=_positive, default=200, help="measurements per policy (default 200)")
    curve.add_argument("--per-round", type=_positive, default=64, help="measurements per round (default 64)")
    curve.add_argument("--seed", type=int, nargs="+", default=[0], help="seeds: a pair of searches each")
    curve.add_argument("--out-dir", default=".", help="where the record files go (default: here)")
    curve.add_argument(
        "--num-warmup-sample", type=int, help="XGBModel's warm-up (default: its own, 100); named in the log"
    )
    curve.add_argument(
        "--objective", help="XGBModel's objective: pairwise-rank (default) or throughput; named in the log"
    )
    curve.add_argument("--json", metavar="FILE", help="also write the curves as JSON")
    curve.set_defaults(run=run_curve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from schedopt.errors import SchedOptError

    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] not in ("accuracy", "noise", "remeasure", "curve", "-h", "--help"):
        arguments.insert(0, "accuracy")
    options = _parser().parse_args(arguments)
    try:
        return options.run(options)
    except SchedOptError as error:
        print(f"cost_model.py: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""The training objectives of `XGBModel`: losses over "packs", the feature rows of one program.

A program has one feature row per stage that stores a buffer, and its
prediction is the sum of its rows' predictions (the pack sum). XGBoost sees
rows only, so each objective is a custom one that sums the rows of each pack
and hands every row its program's gradient (the derivative of a pack sum by
one of its rows is 1).

Two objectives, both on the normalised throughput `y` of a program (the best
cost of its task over its cost, in (0, 1]; 0 for a failed measurement):

- `PairwiseRank` (`"pairwise-rank"`, the default): a logistic loss on the
  pairs of programs of the same task, `w * log(1 + exp(-(s_fast - s_slow)))`,
  each pair weighted by `w = sqrt(y_fast)` so that orderings near the top
  count most. The pack sums only order programs; a program's score is
  `exp(slope * s + intercept)`, the line fitted by least squares from the
  training programs' sums to their `log y`, so that scores estimate `y` as
  Ansor's do. The evolutionary search draws parents in proportion to their
  scores and needs that scale: the bare Bradley-Terry strength `exp(s)`
  spans four orders of magnitude over a population, and after training on
  one round of matmul 512 the best 100 of 2,048 random programs drew
  68-89% of the parents (15-25% with the fitted scale).
- `ThroughputSquaredError` (`"throughput"`): Ansor's, the pack sum learns `y`
  with the squared loss weighted by `y`: `y * (s - y)^2 / 2`, gradient
  `y * (s - y)` and hessian `y`; the score is the pack sum.

Why the first is the default (`benchmarks/cost_model.py accuracy`, 1,993
random matmul-512 candidates, AVX-512 host): trained on 80% of them, it
orders held-out pairs right 0.873 of the time against 0.782 for Ansor's
loss, whose weights leave the slow nine tenths of a task (throughputs span
three orders of magnitude) unordered, and the 64 it scores best are as fast
(median speed 0.76 of the best held-out candidate, Ansor's 0.77). Trained on
128 of them, as after two rounds of tuning: 0.76-0.78 against 0.70-0.73, and
its 64 favourites reach a median speed of 0.89-0.92 against 0.86-0.88
(random picks: 0.10). A squared loss on the log throughput orders pairs as
well but picks slower programs (median 177 against 196 GFLOP/s, in an
experiment outside the benchmark).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

MIN_SLOPE = 1e-3
"""The least slope `PairwiseRank.calibration` fits: scores then still rise with the pack sums."""

PAIRS_PER_PROGRAM = 256
"""Partners drawn for each program of a task too large to pair every two (more than 513 programs)."""


class PackObjective(ABC):
    """A loss over pack sums; `gradient` and `metric` have the signatures XGBoost's `train` expects.

    `pack_ids` gives the program of each row; `throughputs` and `task_ids`
    are per program; `seed` seeds whatever the objective draws at random.
    """

    name: str
    tree_params: dict[str, float]
    """XGBoost parameters of the trees this loss trains well with (depth, column sampling)."""
    boost_rounds: int
    early_stopping_rounds: int | None
    uncalibrated: tuple[float, ...] = ()
    """The calibration of a model saved without one (by sched-opt before calibrations existed)."""

    def __init__(self, pack_ids: np.ndarray, throughputs: np.ndarray, task_ids: np.ndarray, seed: int):
        self.pack_ids = pack_ids
        self.throughputs = throughputs
        self.n_programs = len(throughputs)

    def sums(self, preds: np.ndarray) -> np.ndarray:
        """The pack sum of every program."""
        return np.bincount(self.pack_ids, weights=preds, minlength=self.n_programs)

    @abstractmethod
    def gradient(self, preds: np.ndarray, data: object) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the gradient and hessian of the loss."""

    @abstractmethod
    def metric(self, preds: np.ndarray, data: object) -> tuple[str, float]:
        """The loss to print and to stop early on."""

    def calibration(self, sums: np.ndarray) -> tuple[float, ...]:
        """What `scores` needs besides the pack sums, fitted to the training programs' `sums`."""
        return ()

    @staticmethod
    @abstractmethod
    def scores(sums: np.ndarray, calibration: tuple[float, ...]) -> np.ndarray:
        """Programs' scores (higher is faster, never negative) from their pack sums."""


class ThroughputSquaredError(PackObjective):
    """Ansor's: pack sums regress the throughput, weighted by it; up to 10,000 rounds, depth 10."""

    name = "throughput"
    tree_params = {"max_depth": 10}
    boost_rounds = 10_000
    early_stopping_rounds = 50

    def __init__(self, pack_ids: np.ndarray, throughputs: np.ndarray, task_ids: np.ndarray, seed: int):
        super().__init__(pack_ids, throughputs, task_ids, seed)
        self.row_labels = throughputs[pack_ids]

    def gradient(self, preds: np.ndarray, data: object) -> tuple[np.ndarray, np.ndarray]:
        residuals = self.sums(preds)[self.pack_ids] - self.row_labels
        return residuals * self.row_labels, self.row_labels.copy()

    def metric(self, preds: np.ndarray, data: object) -> tuple[str, float]:
        return "p-rmse", float(np.sqrt(np.mean(np.square(self.sums(preds) - self.throughputs))))

    @staticmethod
    def scores(sums: np.ndarray, calibration: tuple[float, ...]) -> np.ndarray:
        return sums


class PairwiseRank(PackObjective):
    """Logistic loss on ordered pairs of one task, weighted by sqrt of the faster one's throughput.

    A fixed 400 rounds of depth-3 trees, each grown on a random half of
    the columns. Tuning logs are small (a task has 64-200 measured programs
    when the model matters most) and most of the 164 columns are constant or
    redundant there; shallow trees on sampled columns overfit them less. On
    the 200-trial logs of five workloads (`benchmarks/cost_model.py accuracy
    --folds 5`), held-out pairs are ordered right 0.844 of the time on
    average, against 0.833 for depth-6 trees on all columns (150 rounds),
    and on the per-task logs of a ResNet-18 tuning (18 tasks, 1,536
    programs) 0.744 against 0.732. The training loss falls for as long as
    trees are added and is no signal to stop on.
    """

    name = "pairwise-rank"
    tree_params = {"max_depth": 3, "colsample_bytree": 0.5}
    boost_rounds = 400
    early_stopping_rounds = None
    uncalibrated = (1.0, 0.0)

    def __init__(self, pack_ids: np.ndarray, throughputs: np.ndarray, task_ids: np.ndarray, seed: int):
        super().__init__(pack_ids, throughputs, task_ids, seed)
        self.faster, self.slower = _ordered_pairs(throughputs, task_ids, np.random.default_rng(seed))
        weights = np.sqrt(throughputs[self.faster])
        # Normalised so that the loss per program, and with it the hessians, do not grow with the pairs.
        total = weights.sum()
        self.weights = weights * (self.n_programs / total) if total > 0 else weights

    def _pair_terms(self, preds: np.ndarray) -> np.ndarray:
        """The probability the model gives each pair's true order."""
        sums = self.sums(preds)
        return 1.0 / (1.0 + np.exp(-np.clip(sums[self.faster] - sums[self.slower], -30.0, 30.0)))

    def gradient(self, preds: np.ndarray, data: object) -> tuple[np.ndarray, np.ndarray]:
        right = self._pair_terms(preds)
        pull = self.weights * (1.0 - right)
        curvature = self.weights * right * (1.0 - right)
        n = self.n_programs
        grad = np.bincount(self.slower, pull, n) - np.bincount(self.faster, pull, n)
        hess = np.bincount(self.slower, curvature, n) + np.bincount(self.faster, curvature, n)
        return grad[self.pack_ids], np.maximum(hess[self.pack_ids], 1e-6)

    def metric(self, preds: np.ndarray, data: object) -> tuple[str, float]:
        right = self._pair_terms(preds)
        loss = float(-(self.weights * np.log(np.maximum(right, 1e-300))).sum())
        return "pair-loss", loss / max(self.n_programs, 1)

    def calibration(self, sums: np.ndarray) -> tuple[float, ...]:
        """The slope and intercept of the least-squares line from pack sums to log throughputs.

        Failed programs (y = 0) have no log and are left out. A slope that
        would not rise (too few distinct programs, or a model that orders
        its training data backwards) gives way to `MIN_SLOPE`, which keeps
        the order of the sums.
        """
        measured = self.throughputs > 0
        x, log_y = sums[measured], np.log(self.throughputs[measured])
        if x.size == 0:
            return self.uncalibrated
        spread = float(np.var(x))
        slope = float(np.cov(x, log_y, bias=True)[0, 1] / spread) if spread > 0 else 0.0
        slope = max(slope, MIN_SLOPE)
        return slope, float(log_y.mean() - slope * x.mean())

    @staticmethod
    def scores(sums: np.ndarray, calibration: tuple[float, ...]) -> np.ndarray:
        slope, intercept = calibration
        return np.exp(np.minimum(slope * sums + intercept, 60.0))


OBJECTIVES: dict[str, type[PackObjective]] = {
    PairwiseRank.name: PairwiseRank,
    ThroughputSquaredError.name: ThroughputSquaredError,
}
"""The objectives by name, the default first."""


def _ordered_pairs(
    throughputs: np.ndarray, task_ids: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of programs of the same task and different throughput, as (faster, slower) indices.

    Every two programs of a task are paired while that makes at most
    `PAIRS_PER_PROGRAM` pairs per program; larger tasks draw that many
    partners per program at random.
    """
    faster: list[np.ndarray] = []
    slower: list[np.ndarray] = []
    for task in np.unique(task_ids):
        members = np.flatnonzero(task_ids == task)
        n = len(members)
        if n < 2:
            continue
        if n - 1 <= 2 * PAIRS_PER_PROGRAM:
            first, second = np.triu_indices(n, 1)
        else:
            first = np.repeat(np.arange(n), PAIRS_PER_PROGRAM)
            second = rng.integers(0, n - 1, first.size)
            second += second >= first  # a uniform partner other than the program itself
        a, b = members[first], members[second]
        distinct = throughputs[a] != throughputs[b]
        a, b = a[distinct], b[distinct]
        a_faster = throughputs[a] > throughputs[b]
        faster.append(np.where(a_faster, a, b))
        slower.append(np.where(a_faster, b, a))
    if not faster:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(faster), np.concatenate(slower)

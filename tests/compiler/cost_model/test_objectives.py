"""The pack objectives of XGBModel: pairs within a task, and gradients that match their losses."""

from __future__ import annotations

import numpy as np
import pytest

from schedopt.cost_model.objectives import (
    MIN_SLOPE,
    OBJECTIVES,
    PAIRS_PER_PROGRAM,
    PairwiseRank,
    ThroughputSquaredError,
    _ordered_pairs,
)

# Five programs of two tasks; program 1 has two rows (two stages), program 4 failed.
PACK_IDS = np.array([0, 1, 1, 2, 3, 4])
THROUGHPUTS = np.array([1.0, 0.5, 0.5, 1.0, 0.0])
TASK_IDS = np.array([0, 0, 0, 1, 1])


def test_pairs_join_programs_of_one_task_faster_first_and_skip_equal_throughputs():
    faster, slower = _ordered_pairs(THROUGHPUTS, TASK_IDS, np.random.default_rng(0))
    # Programs 1 and 2 tie: no pair; the failed program 4 is slower than every one that ran.
    assert sorted(zip(faster.tolist(), slower.tolist(), strict=True)) == [(0, 1), (0, 2), (3, 4)]


def test_large_tasks_draw_a_fixed_number_of_partners_per_program():
    n = 2 * PAIRS_PER_PROGRAM + 10
    throughputs = np.random.default_rng(1).uniform(0.01, 1.0, n)
    faster, slower = _ordered_pairs(throughputs, np.zeros(n, dtype=np.int64), np.random.default_rng(2))
    assert len(faster) == n * PAIRS_PER_PROGRAM
    assert (throughputs[faster] > throughputs[slower]).all()
    again = _ordered_pairs(throughputs, np.zeros(n, dtype=np.int64), np.random.default_rng(2))
    assert (again[0] == faster).all() and (again[1] == slower).all()


@pytest.mark.parametrize("objective", OBJECTIVES.values(), ids=OBJECTIVES.keys())
def test_gradients_are_the_derivatives_of_the_loss(objective):
    loss = objective(PACK_IDS, THROUGHPUTS, TASK_IDS, seed=0)
    preds = np.random.default_rng(3).normal(size=len(PACK_IDS))
    grad, hess = loss.gradient(preds, None)
    assert (hess >= 0).all()

    def total(p: np.ndarray) -> float:
        if isinstance(loss, ThroughputSquaredError):
            return float((THROUGHPUTS * (loss.sums(p) - THROUGHPUTS) ** 2).sum() / 2)
        return loss.metric(p, None)[1] * loss.n_programs

    step = 1e-6
    for row in range(len(preds)):
        bump = np.zeros_like(preds)
        bump[row] = step
        numeric = (total(preds + bump) - total(preds - bump)) / (2 * step)
        assert grad[row] == pytest.approx(numeric, rel=1e-4, abs=1e-7)
    # The rows of one program share its gradient.
    assert grad[1] == grad[2]


def test_scores_follow_the_pack_sums():
    sums = np.array([-3.0, 0.0, 2.5, 100.0])
    assert (ThroughputSquaredError.scores(sums, ()) == sums).all()
    for calibration in (PairwiseRank.uncalibrated, (0.25, -2.0), (MIN_SLOPE, 0.0)):
        scores = PairwiseRank.scores(sums, calibration)
        assert np.isfinite(scores).all() and (scores > 0).all() and (np.diff(scores) > 0).all()


def test_rank_scores_are_calibrated_to_the_throughputs():
    # Sums that order the programs right, on another scale: log y = 0.5 * s - 1.
    sums = np.array([0.0, 1.0, 2.0, 3.0, 9.0])
    throughputs = np.exp(0.5 * sums - 1.0)
    throughputs[4] = 0.0  # a failed program has no log throughput and is left out of the fit
    objective = PairwiseRank(np.arange(5), throughputs, np.zeros(5, dtype=np.int64), seed=0)
    slope, intercept = objective.calibration(sums)
    assert (slope, intercept) == pytest.approx((0.5, -1.0))
    assert PairwiseRank.scores(sums[:4], (slope, intercept)) == pytest.approx(throughputs[:4])
    # Sums that order the training programs backwards still give scores that rise with them.
    assert objective.calibration(-sums)[0] == MIN_SLOPE

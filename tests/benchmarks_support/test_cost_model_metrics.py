"""benchmarks/cost_model.py: its ranking metrics and curves, and both commands on a small record file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from benchmark_scripts import load_benchmark

RECORDS = Path(__file__).resolve().parent / "data" / "matmul_512_records.json"
"""120 measured candidates of matmul 512 from a sketch.xgb tuning run."""

cm = load_benchmark("cost_model")


# --- metrics -----------------------------------------------------------------------------------


def test_pairwise_accuracy_is_one_for_the_true_order_and_zero_for_its_reverse():
    costs = [4.0, 1.0, 3.0, 2.0]
    assert cm.pairwise_ranking_accuracy(costs, [-c for c in costs]) == 1.0
    assert cm.pairwise_ranking_accuracy(costs, costs) == 0.0


def test_pairwise_accuracy_skips_equal_costs_and_counts_tied_scores_half():
    # Pairs of distinct cost: (0,2), (1,2); (0,1) has equal costs. Scores tie on (0,2), order (1,2) right.
    assert cm.distinct_cost_pairs([1.0, 1.0, 2.0]) == 2
    assert cm.pairwise_ranking_accuracy([1.0, 1.0, 2.0], [0.5, 0.9, 0.5]) == pytest.approx(0.75)


def test_pairwise_accuracy_ranks_unscorable_states_last():
    # The cost model scores a state whose features cannot be computed -inf.
    assert cm.pairwise_ranking_accuracy([1.0, 2.0, 3.0], [0.9, -math.inf, -math.inf]) == pytest.approx(
        (2 + 0.5) / 3
    )


def test_pairwise_accuracy_of_equal_costs_is_nan_and_of_mismatched_lengths_an_error():
    assert math.isnan(cm.pairwise_ranking_accuracy([2.0, 2.0], [0.1, 0.2]))
    with pytest.raises(ValueError, match="3 costs but 2 scores"):
        cm.pairwise_ranking_accuracy([1.0, 2.0, 3.0], [0.1, 0.2])


def test_top_k_recall_counts_the_true_top_among_the_predicted_top():
    costs = np.arange(1.0, 9.0)  # candidate 0 is the fastest
    scores = np.array([8, 1, 7, 6, 5, 4, 3, 2], dtype=float)  # candidate 1 is scored second to last
    assert cm.top_k_recall(costs, scores, k_true=2, k_predicted=3) == 0.5
    assert cm.top_k_recall(costs, scores, k_true=2, k_predicted=8) == 1.0
    # Fewer candidates than either k: all of them, so the recall is 1 by construction.
    assert cm.top_k_recall(costs[:4], scores[:4]) == 1.0


def test_picked_speed_is_the_median_speed_of_the_best_scored():
    costs = [1.0, 2.0, 4.0, 8.0]
    assert cm.picked_speed(costs, [4, 3, 2, 1], k=2) == pytest.approx(0.75)  # speeds 1 and 0.5
    assert cm.picked_speed(costs, [1, 2, 3, 4], k=1) == pytest.approx(0.125)


def test_best_so_far_and_the_trials_to_reach_a_value():
    curve = cm.best_so_far([1.0, 3.0, 2.0, 0.0, 5.0])
    assert curve.tolist() == [1.0, 3.0, 3.0, 3.0, 5.0]
    assert cm.trials_to_reach(curve, 3.0) == 2
    assert cm.trials_to_reach(curve, 5.0) == 5
    assert cm.trials_to_reach(curve, 6.0) is None


def test_round_ends_close_with_a_short_last_round():
    assert cm.round_ends(200, 64) == [64, 128, 192, 200]
    assert cm.round_ends(128, 64) == [64, 128]
    assert cm.round_ends(10, 64) == [10]
    assert cm.round_ends(0, 64) == []


def test_the_split_is_seeded_per_task_and_holds_out_a_fifth():
    train, test = cm.split(120, 0.8, 0, '["matmul", 512, 512, 512]')
    assert (len(train), len(test)) == (96, 24)
    assert sorted([*train, *test]) == list(range(120))
    again, _ = cm.split(120, 0.8, 0, '["matmul", 512, 512, 512]')
    other, _ = cm.split(120, 0.8, 0, '["matmul", 256, 256, 256]')
    assert train.tolist() == again.tolist() != other.tolist()


def test_folds_hold_out_every_record_once_and_train_on_the_rest():
    splits = cm.folds(23, 5, 0, '["matmul", 512, 512, 512]')
    assert len(splits) == 5
    held_out = sorted(i for _, test in splits for i in test)
    assert held_out == list(range(23))
    for train, test in splits:
        assert sorted([*train, *test]) == list(range(23))


# --- commands ----------------------------------------------------------------------------------


def test_accuracy_trains_on_four_fifths_and_ranks_the_rest(tmp_path, capsys):
    report_file = tmp_path / "accuracy.json"
    assert cm.main([str(RECORDS), "--json", str(report_file)]) == 0
    out = capsys.readouterr().out
    assert '["matmul", 512, 512, 512]' in out and "overall" in out
    assert "fewer than 50 held-out candidates" in out
    report = json.loads(report_file.read_text())
    (row,) = report["tasks"]
    assert (row["n_train"], row["n_test"], row["top_true"], row["top_predicted"]) == (96, 24, 10, 24)
    assert row["n_pairs"] == 24 * 23 // 2
    assert 0.0 <= row["pairwise_accuracy"] <= 1.0
    assert report["overall"]["pairwise_accuracy"] == row["pairwise_accuracy"]


def test_accuracy_by_folds_holds_out_every_candidate(tmp_path, capsys):
    report_file = tmp_path / "accuracy.json"
    assert cm.main(["accuracy", str(RECORDS), "--folds", "3", "--json", str(report_file)]) == 0
    assert "3-fold cross-validation" in capsys.readouterr().out
    (row,) = json.loads(report_file.read_text())["tasks"]
    assert (row["n_train"], row["n_test"]) == (80, 120)
    assert 0.0 <= row["pairwise_accuracy"] <= 1.0


def test_accuracy_without_enough_records_is_a_clear_error(tmp_path, capsys):
    few = tmp_path / "few.json"
    few.write_text("".join(RECORDS.read_text().splitlines(keepends=True)[:5]))
    assert cm.main(["accuracy", str(few)]) == 1
    assert "has 10 or more successful records" in capsys.readouterr().err


def test_curve_from_logs_reports_best_so_far_per_round(tmp_path, capsys):
    shorter = tmp_path / "random.json"
    shorter.write_text("".join(RECORDS.read_text().splitlines(keepends=True)[:100]))
    report_file = tmp_path / "curve.json"
    code = cm.main(["curve", "--from-logs", str(RECORDS), str(shorter), "--json", str(report_file)])
    assert code == 0
    out = capsys.readouterr().out
    (report,) = json.loads(report_file.read_text())["runs"]
    assert report["trials"] == {"sketch.xgb": 120, "sketch.random": 100}
    assert report["round_ends"] == [64, 100, 120]
    xgb, random = report["best_gflops"]["sketch.xgb"], report["best_gflops"]["sketch.random"]
    assert xgb[:2] == random[:2] and random[2] is None
    assert xgb[0] <= xgb[1] <= xgb[2] and random[1] == report["random_best_gflops"]
    # The first 100 records are the same, so XGB reaches the random best exactly when random did.
    reached = report["xgb_trials_to_random_best"]
    assert 1 <= reached <= 100 and report["xgb_share_of_random_trials"] == reached / 100
    assert f"after {reached} trials" in out


def test_curve_of_several_runs_sums_them_up(tmp_path, capsys):
    lines = RECORDS.read_text().splitlines(keepends=True)
    early, late = tmp_path / "early.json", tmp_path / "late.json"
    early.write_text("".join(lines[:60]))
    late.write_text("".join(lines[60:]))
    report_file = tmp_path / "curve.json"
    logs = [str(RECORDS), str(early), str(early), str(RECORDS)]
    assert cm.main(["curve", "--from-logs", *logs, "--json", str(report_file)]) == 0
    summary = json.loads(report_file.read_text())["summary"]
    # The whole file reaches the best of its first 60 records; those never reach the whole file's best
    # unless it lies among them.
    first, second = summary["shares"]
    assert first is not None and first <= 1.0
    assert summary["runs"] == 2 and summary["reached"] == 1 + (second is not None)
    assert "over 2 runs: sketch.xgb reached sketch.random's best in" in capsys.readouterr().out
    assert cm.main(["curve", "--from-logs", str(RECORDS), str(early), str(late)]) == 1
    assert "takes pairs of logs" in capsys.readouterr().err


def test_curve_needs_logs_of_one_task(tmp_path, capsys):
    lines = RECORDS.read_text().splitlines(keepends=True)
    mixed = tmp_path / "mixed.json"
    mixed.write_text(lines[0] + lines[1].replace("512, 512, 512", "256, 256, 256"))
    assert cm.main(["curve", "--from-logs", str(mixed), str(RECORDS)]) == 1
    assert "needs the records of one task, found 2" in capsys.readouterr().err


def test_curve_reads_complete_logs_again_and_names_xgb_settings_in_them(tmp_path, capsys):
    name = "matmul-512-512-512"
    for policy in ("sketch.xgb.warmup50.throughput", "sketch.random"):
        (tmp_path / f"{name}.{policy}.seed3.json").write_text(RECORDS.read_text())
    arguments = ["curve", "--workload", "matmul", "--args", "512", "512", "512", "--trials", "120"]
    settings = ["--seed", "3", "--num-warmup-sample", "50", "--objective", "throughput"]
    assert cm.main([*arguments, *settings, "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"reading {tmp_path / name}.sketch.xgb.warmup50.throughput.seed3.json (120 trials)" in out
    assert "reached sketch.random's best" in out


def test_curve_does_not_resume_an_existing_log(tmp_path, capsys):
    (tmp_path / "matmul-64-64-64.sketch.xgb.seed0.json").write_text("")
    code = cm.main(["curve", "--workload", "matmul", "--args", "64", "64", "64", "--out-dir", str(tmp_path)])
    assert code == 1
    assert "exists with 0 of 200 trials: remove it, or read it with --from-logs" in capsys.readouterr().err


def test_noise_scores_the_logged_costs_against_their_re_measurement(monkeypatch):
    records = cm.successful_records_by_task([str(RECORDS)])
    ((key, task_records),) = records.items()

    def remeasure(picked, repeats):
        logged = np.array([res.mean_cost() for _, res in picked])
        again = np.array([logged * (1.0 + 0.01 * r) for r in range(repeats)])
        again[:, 0] = math.nan  # a candidate that failed again is left out
        return again

    monkeypatch.setattr(cm, "remeasure", remeasure)
    row = cm.noise_of_task(key, task_records, sample=20, repeats=3, seed=0)
    assert row.candidates == 19
    assert row.logged_vs_remeasured == row.remeasured_pairs == 1.0
    assert math.isclose(row.spread, 0.02)


def test_remeasure_writes_records_of_the_fresh_costs_for_accuracy_to_read(tmp_path, monkeypatch, capsys):
    def remeasure(records, passes):
        logged = np.array([res.mean_cost() for _, res in records])
        again = np.array([logged * (1.0 + 0.01 * p) for p in range(passes)])
        again[1, 0] = math.nan  # a candidate that failed in one pass is left out
        return again

    monkeypatch.setattr(cm, "remeasure", remeasure)
    out = tmp_path / "remeasured.json"
    assert cm.main(["remeasure", str(RECORDS), "--passes", "2", "--out", str(out)]) == 0
    assert "119 of 120 candidates measured 2 times" in capsys.readouterr().out
    ((_, fresh),) = cm.successful_records_by_task([str(out)]).items()
    ((_, logged),) = cm.successful_records_by_task([str(RECORDS)]).items()
    assert [len(res.costs) for _, res in fresh] == [2] * 119
    assert math.isclose(fresh[0][1].costs[1], 1.01 * logged[1][1].mean_cost())
    assert cm.main(["accuracy", str(out)]) == 0

    assert cm.main(["remeasure", str(RECORDS), "--out", str(out)]) == 1
    assert "exists: remove it" in capsys.readouterr().err

"""benchmarks/bench_build.py: a short run prints its table and writes its JSON."""

from __future__ import annotations

import json

import pytest
from benchmark_scripts import load_benchmark

bench_build = load_benchmark("bench_build")


def test_sampling_is_seeded_and_distinct():
    case = bench_build.CASES["matmul-512"]
    _, first = bench_build.sampled_states(case, 5, seed=3)
    _, again = bench_build.sampled_states(case, 5, seed=3)
    assert len(first) == 5 and len({str(s) for s in first}) == 5
    assert [str(s) for s in first] == [str(s) for s in again]


def test_a_short_run_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "build.json"
    assert bench_build.main(["matmul-512", "--candidates", "2", "--json", str(out)]) == 0
    assert "matmul-512" in capsys.readouterr().out
    (row,) = json.loads(out.read_text())
    assert row["case"] == "matmul-512" and row["candidates"] == 2
    assert row["naive_s"] > 0 and row["median_vs_naive"] == pytest.approx(row["median_s"] / row["naive_s"])


def test_the_row_summarizes_the_build_times_against_the_naive_build():
    row = bench_build.summarize("c", [0.5, 0.1, 0.3, 0.2, 0.4, 0.6, 0.9, 0.7, 0.8, 1.0, 2.0], naive_s=0.25)
    assert (row.candidates, row.median_s, row.p90_s, row.max_s) == (11, 0.6, 1.0, 2.0)
    assert row.total_s == pytest.approx(7.5)
    assert row.per_second == pytest.approx(11 / 7.5) and row.median_vs_naive == pytest.approx(2.4)


def test_unknown_cases_are_refused():
    with pytest.raises(SystemExit):
        bench_build.main(["gemm-4096"])

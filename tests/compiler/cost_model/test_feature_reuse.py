"""The reuse-type features against TVM's `ComputeReuse` (src/auto_scheduler/feature.cc), worked by hand.

Going outwards from a statement's innermost loop: the first loop that no
index of the buffer uses gives loop-multiple-read reuse (count: its extent);
before that, a loop in which more than one statement touched the buffer so
far, in program order, gives serial-multiple-read-write reuse (count: the
other statements). A statement's reads of one buffer count as one access.
"""

from __future__ import annotations

import numpy as np
import pytest

import schedopt as ss
from schedopt import te
from schedopt.cost_model.features import get_per_store_feature_names, get_per_store_features_from_states

NAMES = get_per_store_feature_names()
REUSE_TYPES = ("loop_multiple_read", "serial_multiple_read_write", "no_reuse")


def buffers(row: np.ndarray) -> list[dict[str, float]]:
    """The row's buffer features (before the log transform), one dict per buffer present."""
    values = np.sign(row) * (np.exp2(np.abs(row.astype(np.float64))) - 1)
    named = dict(zip(NAMES, values, strict=True))
    found = []
    for b in range(5):
        entry = {key.split(".", 1)[1]: float(v) for key, v in named.items() if key.startswith(f"B{b}.")}
        if any(entry[f"acc_type.{t}"] for t in ("read", "write", "read_write")):
            found.append(entry)
    return found


def reuse_type(buffer: dict[str, float]) -> str:
    (kind,) = [t for t in REUSE_TYPES if buffer[f"reuse_type.{t}"] == 1]
    return kind


def access(row: np.ndarray, acc_type: str, unique_bytes: float) -> dict[str, float]:
    """The one buffer of the row with this access type and this many unique bytes."""
    (found,) = [
        b
        for b in buffers(row)
        if b[f"acc_type.{acc_type}"] == 1 and b["unique_bytes"] == pytest.approx(unique_bytes, rel=1e-4)
    ]
    return found


def rows_of(tensors: list[te.Tensor], schedule=None) -> np.ndarray:
    dag = ss.ComputeDAG(tensors)
    state = dag.get_init_state()
    if schedule is not None:
        schedule(state)
    (rows,) = get_per_store_features_from_states([state], ss.SearchTask(compute_dag=dag))
    return rows


def test_buffer_read_by_two_statements_of_a_loop_has_serial_reuse():
    """B = A * 2 computed at C's loop i, C = B + A: both statements of loop i read A[i, j]."""
    A = te.placeholder((64, 32), "float32", name="A")
    B = te.compute((64, 32), lambda i, j: A[i, j] * te.const(2.0, "float32"), name="B")
    C = te.compute((64, 32), lambda i, j: B[i, j] + A[i, j], name="C")
    rows = rows_of([A, C], lambda s: s.compute_at("B", "C", s["C"].iters[0]))
    b_row, c_row = rows
    whole, row = 64 * 32 * 4, 32 * 4

    a_in_c = access(c_row, "read", whole)
    assert reuse_type(a_in_c) == "serial_multiple_read_write"
    assert a_in_c["reuse_ct"] == pytest.approx(1)  # one other statement
    assert a_in_c["reuse_dis_iter"] == pytest.approx(64 * 32 / 64)  # the smaller region over i's extent
    # Bytes of loop i's accesses: B's statement (B 128, A 8192) and C's (C 8192, B 128, A 8192), over 64.
    assert a_in_c["reuse_dis_bytes"] == pytest.approx((row + whole + whole + row + whole) / 64)

    # When B's store is reached, C's statement has not run yet: A has no reuse there.
    assert reuse_type(access(b_row, "read", whole)) == "no_reuse"

    # B's row buffer is indexed by j alone: loop i reuses it 64 times, after C's 32 iterations of j.
    b_in_c = access(c_row, "read", row)
    assert reuse_type(b_in_c) == "loop_multiple_read"
    assert (b_in_c["reuse_ct"], b_in_c["reuse_dis_iter"]) == pytest.approx((64, 32))
    assert b_in_c["reuse_dis_bytes"] == pytest.approx(3 * row)  # C, B and A over j
    assert reuse_type(access(c_row, "write", whole)) == "no_reuse"


def test_inlined_chain_reads_a_buffer_once_per_statement():
    """With B inlined, C = A * 2 + A is one statement: its two reads of A are one access, no reuse."""
    A = te.placeholder((64, 32), "float32", name="A")
    B = te.compute((64, 32), lambda i, j: A[i, j] * te.const(2.0, "float32"), name="B")
    C = te.compute((64, 32), lambda i, j: B[i, j] + A[i, j], name="C")
    (row,) = rows_of([A, C], lambda s: s.compute_inline("B"))
    assert [reuse_type(b) for b in buffers(row)] == ["no_reuse", "no_reuse"]


def test_loop_that_no_read_uses_gives_loop_multiple_read():
    """A[i] broadcast along j: reused across j, 32 times, at distance 1."""
    A = te.placeholder((64,), "float32", name="A")
    C = te.compute((64, 32), lambda i, j: A[i] + te.const(1.0, "float32"), name="C")
    (row,) = rows_of([A, C])
    a = access(row, "read", 64 * 4)
    assert reuse_type(a) == "loop_multiple_read"
    assert (a["reuse_ct"], a["reuse_dis_iter"]) == pytest.approx((32, 1))


def test_every_read_of_the_buffer_decides_whether_a_loop_uses_it():
    """A[i, 0] + A[i, j]: the second read uses j, so j gives no loop-multiple-read reuse."""
    A = te.placeholder((64, 32), "float32", name="A")
    C = te.compute((64, 32), lambda i, j: A[i, 0] + A[i, j], name="C")
    (row,) = rows_of([A, C])
    (a,) = [b for b in buffers(row) if b["acc_type.read"] == 1]
    assert reuse_type(a) == "no_reuse"

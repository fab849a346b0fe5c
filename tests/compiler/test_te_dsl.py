"""The te DSL builds the te dialect and rejects ill-formed declarations clearly."""

import pytest

from schedopt import te
from schedopt.compute_dag import ComputeDAG
from schedopt.dialects import te as te_dialect
from schedopt.errors import TEError


def matmul(n: int = 8, m: int = 6, k_: int = 4):
    A = te.placeholder((n, k_), name="A")
    B = te.placeholder((k_, m), name="B")
    k = te.reduce_axis((0, k_), name="k")
    C = te.compute((n, m), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return [A, B, C]


def computes(tensors):
    return ComputeDAG(tensors).compute_ops


def test_matmul_builds_one_reduction_stage():
    [C] = computes(matmul())
    assert C.name_str == "C"
    assert C.spatial_names == ("i", "j")
    assert C.reduce_names == ("k",)
    assert C.reduction_kind == te_dialect.ReductionKind.SUM
    reads = [op for op in C.body.walk() if isinstance(op, te_dialect.ReadOp)]
    assert [te_dialect.tensor_name(r.tensor) for r in reads] == ["A", "B"]


def test_if_then_else_reading_a_tensor_is_lazy():
    A = te.placeholder((4,), name="A")
    P = te.compute((6,), lambda i: te.if_then_else(te.all(i >= 1, i < 5), A[i - 1], 0.0), name="P")
    [stage] = computes([A, P])
    ifs = [op for op in stage.body.walk() if op.name == "scf.if"]
    assert len(ifs) == 1
    assert any(isinstance(op, te_dialect.ReadOp) for op in ifs[0].walk())


def test_if_then_else_of_constants_is_a_select():
    A = te.placeholder((4,), name="A")
    B = te.compute((4,), lambda i: A[i] * te.if_then_else(i < 2, 1.0, 2.0), name="B")
    [stage] = computes([A, B])
    assert any(op.name == "arith.select" for op in stage.body.walk())


def test_elementwise_max_and_casts():
    A = te.placeholder((4,), name="A", dtype="int32")
    B = te.compute((4,), lambda i: te.max(A[i], 0).astype("float64") + i.astype("float64"), name="B")
    [stage] = computes([A, B])
    names = {op.name for op in stage.body.walk()}
    assert {"arith.maxsi", "arith.sitofp", "arith.index_cast"} <= names


def test_reduce_axis_with_offset():
    A = te.placeholder((10,), name="A")
    r = te.reduce_axis((2, 5), name="r")
    S = te.compute((1,), lambda i: te.sum(A[r], axis=r), name="S")
    [stage] = computes([A, S])
    assert stage.reduce_extent_values == (3,)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda A, k: te.compute((4,), lambda i: A[i, k], name="X"), "axis k is used outside a reduction"),
        (lambda A, k: te.compute((4,), lambda i: te.sum(A[i, k], axis=k) + 1.0, name="X"), "whole body"),
        (lambda A, k: te.compute((4,), lambda i: A[i], name="X"), "has rank 2, indexed with 1"),
        (lambda A, k: te.compute((4,), lambda i: A[i, 0, 1], name="X"), "has rank 2, indexed with 3"),
        (lambda A, k: te.compute((4,), lambda i: A[i, k] if A[i, 0] else 0, name="X"), "no truth value"),
        (
            lambda A, k: te.compute((4,), lambda i: A[i, 0] + A[i, 0].astype("float64"), name="X"),
            "different dtypes",
        ),
        (lambda A, k: te.compute((4,), lambda i: i // 2 / 3, name="X"), "ambiguous"),
        (lambda A, k: te.compute((0,), lambda i: A[i, 0], name="X"), "positive integers"),
        (
            lambda A, k: te.compute((4,), lambda i: te.sum(A[i, k], axis=k, where=None) + 0, name="X"),
            "whole body",
        ),
    ],
)
def test_ill_formed_declarations_raise_te_error(build, message):
    A = te.placeholder((4, 3), name="A")
    k = te.reduce_axis((0, 3), name="k")
    with pytest.raises(TEError, match=message):
        build(A, k)


def test_unlisted_placeholder_is_named():
    A, _B, C = matmul()
    with pytest.raises(TEError, match="placeholder B is read by C but is not in the workload's tensor list"):
        ComputeDAG([A, C])


def test_stages_sharing_a_name_get_distinct_ones():
    # Two topi.nn.relu calls both make a stage called "compute" (TVM keeps both names).
    A = te.placeholder((4,), name="A")
    B = te.compute((4,), lambda i: A[i] + 1.0, name="compute")
    C = te.compute((4,), lambda i: B[i] * 2.0, name="compute")
    X = te.placeholder((4,), name="compute_1")
    D = te.compute((4,), lambda i: C[i] + X[i], name="compute")
    dag = ComputeDAG([A, X, D])
    assert [op.name for op in dag.ops] == ["A", "compute_1", "compute", "compute_2", "compute_3"]
    assert dag.output_names == ["compute_3"]
    assert [B.name, C.name] == ["compute", "compute"]  # the user's tensors keep their names


def test_a_tensor_listed_twice_is_named():
    A, B, C = matmul()
    with pytest.raises(TEError, match="names A more than once"):
        ComputeDAG([A, B, A, C])


def test_outputs_are_the_stages_nobody_reads():
    # TVM: listing B does not make it an output when C reads it, so B may be computed at C's loops.
    A = te.placeholder((4, 4), name="A")
    B = te.compute((4, 4), lambda i, j: A[i, j] + 1.0, name="B")
    C = te.compute((4, 4), lambda i, j: B[i, j] * 2.0, name="C")
    dag = ComputeDAG([A, B, C])
    assert dag.output_names == ["C"]
    state = dag.get_init_state()
    state.compute_at(B, C, state[C].iters[1])
    assert state["B"].attach == ("C", "j")


def test_chained_indexing_reads_an_element():
    A = te.placeholder((4, 3), name="A")
    B = te.compute((4, 3), lambda i, j: A[i][j] * 2.0, name="B")
    [read] = [op for op in computes([A, B])[0].body.walk() if isinstance(op, te_dialect.ReadOp)]
    assert len(read.indices) == 2
    with pytest.raises(TEError, match="tensor A has rank 2, indexed with 1 indices"):
        te.compute((4,), lambda i: A[i] * 2.0, name="C")


def test_a_tuple_body_makes_one_tensor_per_element():
    A = te.placeholder((4,), name="A")
    lo, hi = te.compute((4,), lambda i: (A[i] - 1.0, A[i] + 1.0), name="T")
    assert (lo.name, hi.name) == ("T.v0", "T.v1")
    dag = ComputeDAG([A, lo, hi])
    assert dag.output_names == ["T.v0", "T.v1"]
    assert str(dag).splitlines()[1:] == ["T.v0(i) = (A[i]-1.0)", "T.v1(i) = (A[i]+1.0)"]


def test_flop_attribute_overrides_the_count():
    A = te.placeholder((4,), name="A")
    B = te.compute((4,), lambda i: A[i] * 2.0, name="B", attrs={"FLOP": 1000})
    C = te.compute((4,), lambda i: B[i] + 1.0, name="C")
    assert ComputeDAG([A, C]).flop_ct == 1000 + 4
    D = te.compute((4,), lambda i: A[i] * 2.0, name="D", attrs={"FLOP": "many"})
    with pytest.raises(TEError, match="stage D: the FLOP attribute must be a non-negative integer"):
        _ = ComputeDAG([A, D]).flop_ct


def test_unsupported_dtype():
    with pytest.raises(TEError, match="unsupported dtype 'complex64'"):
        te.placeholder((4,), dtype="complex64")


def test_indexing_past_the_rank_fails_at_once():
    A = te.placeholder((4, 3), name="A")
    i = te.reduce_axis((0, 4), name="i")
    with pytest.raises(TEError, match="tensor A has rank 2, indexed with 3 indices"):
        _ = A[i, 0][1]


def test_equality_builds_a_condition():
    A = te.placeholder((4,), name="A")
    B = te.compute((4,), lambda i: te.if_then_else(i == 2, A[i], 0.0), name="B")
    [stage] = computes([A, B])
    assert any(op.name == "arith.cmpi" for op in stage.body.walk())
    with pytest.raises(TEError, match="cannot use 'two' of type str in a te expression"):
        te.compute((4,), lambda i: te.if_then_else(i == "two", A[i], 0.0), name="C")


def test_reducer_axes_must_be_reduce_axes():
    A = te.placeholder((4, 3), name="A")
    with pytest.raises(TEError, match=r"te\.sum: axis j is not a reduce axis"):
        te.compute((4, 3), lambda i, j: te.sum(A[i, j], axis=[j]), name="S")
    with pytest.raises(TEError, match=r"te\.max needs axis="):
        te.max(te.const(1.0), te.const(2.0), where=te.const(True))


def test_reduction_where_masks_with_the_identity():
    A = te.placeholder((6,), name="A", dtype="int32")
    k = te.reduce_axis((0, 6), name="k")
    M = te.compute((1,), lambda i: te.max(A[k], axis=k, where=k < 3), name="M")
    body = M.op.body
    assert isinstance(body, te.Reduce) and isinstance(body.body, te.Select)
    assert isinstance(body.body.false_value, te.Const) and body.body.false_value.value == -(2**31)


def test_not_needs_a_condition():
    with pytest.raises(TEError, match="'~' expects a condition"):
        ~te.const(1)


def test_layout_free_placeholders_are_read_as_tensors():
    A = te.placeholder((4,), name="A")
    B = te.compute((4,), lambda i: A[i] * 2.0, name="B", attrs={"layout_free_placeholders": [A], "axis": 1})
    assert isinstance(B.op, te.ComputeDecl)
    assert B.op.tensor_list_attr("layout_free_placeholders") == [A]
    assert B.op.tensor_list_attr("absent") == []
    with pytest.raises(TEError, match="compute B: attribute axis=1 is not a list of tensors"):
        B.op.tensor_list_attr("axis")


def test_attributes_become_ir_attributes():
    A = te.placeholder((4,), name="A")
    B = te.compute((4,), lambda i: A[i] * 2.0, name="B", attrs={"free": [A], "names": ["x"], "flag": True})
    [stage] = computes([A, B])
    assert str(stage.attributes["free"]) == '["A"]'
    assert str(stage.attributes["names"]) == '["x"]'
    assert str(stage.attributes["flag"]) == "1 : i64"

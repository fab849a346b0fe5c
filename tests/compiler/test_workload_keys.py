"""Workload keys and the structural hash: one computation, one hash, however it is declared or named."""

import hashlib
import json
from collections.abc import Callable

import pytest

from schedopt import te
from schedopt.compute_dag import ComputeDAG, hash_of_workload_key
from schedopt.dispatcher import ApplyHistoryBest
from schedopt.measurement import MeasureInput, MeasureResult
from schedopt.search_task import SearchTask
from schedopt.workload_hash import canonical_encoding, is_structural_hash
from schedopt.workload_registry import make_workload_key
from schedopt.workloads.matmul import matmul

MATMUL_64 = make_workload_key("matmul", (64, 64, 64))

GOLDEN_IR = """\
func.func @golden(%X: tensor<4x8xf32> {te.name = "X"}) -> tensor<4xf32> {
  %R = te.compute "R" spatial(i: 4, j: 8) ins(%X : tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%i: index, %j: index):
    %x = te.read %X[%i, %j] : tensor<4x8xf32>
    %zero = arith.constant 0.5 : f32
    %pos = arith.cmpf ogt, %x, %zero : f32
    %s = arith.select %pos, %x, %zero : f32
    te.yield %s : f32
  }
  %M = te.compute "M" spatial(i: 4) reduce<max>(k: 8) ins(%R : tensor<4x8xf32>) -> tensor<4xf32> {
  ^bb0(%i: index, %k: index):
    %r = te.read %R[%i, %k] : tensor<4x8xf32>
    te.yield %r : f32
  }
  func.return %M : tensor<4xf32>
}
"""

GOLDEN_ENCODING = (
    '["schedopt.workload_hash",1,[[[4,8],"f32"]],'
    '[[[4,8],"f32",[["S",4],["S",8]],null,[["p",0]],[],'
    '[["te.read",[["p",0],["v",0],["v",1]],[],[],["f32"]],'
    '["arith.constant",[],[["value",["float","0x1.0000000000000p-1","f32"]]],[],["f32"]],'
    '["arith.cmpf",[["v",2],["v",3]],[["predicate",["int",2,"i64"]]],[],["i1"]],'
    '["arith.select",[["v",4],["v",2],["v",3]],[],[],["f32"]],'
    '["te.yield",[["v",5]],[],[],[]]]],'
    '[[4],"f32",[["S",4],["R",8]],"max",[["s",0]],[],'
    '[["te.read",[["s",0],["v",0],["v",1]],[],[],["f32"]],["te.yield",[["v",2]],[],[],[]]]]],'
    '[["s",1]]]'
)
GOLDEN_HASH = "49ddb41830589aaf011cb28de389edc2ba90bccdb955692b686b347a2aea2288"


def declared_matmul(n: int = 64, m: int = 64, k_: int = 64, body: str = "mul", reduce: str = "sum"):
    """Matmul written by hand with other names than the registered one's: X, W, r, out."""
    X = te.placeholder((n, k_), name="X")
    W = te.placeholder((k_, m), name="W")
    r = te.reduce_axis((0, k_), name="r")
    combine: dict[str, Callable[[te.Expr, te.Expr], te.Expr]] = {
        "mul": lambda a, b: a * b,
        "add": lambda a, b: a + b,
    }
    reducer = {"sum": te.sum, "max": te.max}[reduce]
    out = te.compute(
        (n, m),
        lambda u, v: reducer(combine[body](X[u, r], W[r, v]), axis=r),
        name="out",
        attrs={"layout_free_placeholders": [W]},
    )
    return [X, W, out]


def renamed(text: str) -> str:
    """The IR of the registered matmul with every name changed: function, tensors, stage, iterators, SSA."""
    for old, new in [
        ("@matmul", "@gemm"),
        ('"A"', '"lhs"'),
        ('"B"', '"rhs"'),
        ('"C"', '"acc"'),
        ("%A", "%lhs"),
        ("%B", "%rhs"),
        ("%C", "%acc"),
        ("(i: 64, j: 64)", "(row: 64, col: 64)"),
        ("(k: 64)", "(red: 64)"),
        ("%i", "%row"),
        ("%j", "%col"),
        ("%k", "%red"),
        ("%0", "%first"),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_four_declarations_of_matmul_have_one_hash():
    registered = ComputeDAG(MATMUL_64)
    from_tensors = ComputeDAG(declared_matmul())
    parsed = ComputeDAG.from_module(str(registered.module))
    renamed_text = renamed(str(registered.module))
    renamed_dag = ComputeDAG.from_module(renamed_text)
    assert renamed_dag.func_name == "gemm" and renamed_dag.compute_ops[0].name_str == "acc"
    hashes = {dag.hash_key() for dag in (registered, from_tensors, parsed, renamed_dag)}
    assert len(hashes) == 1 and is_structural_hash(hashes.pop())
    # the keys of DAGs that are not registered workloads agree too: [hash, shapes...]
    assert from_tensors.workload_key() == parsed.workload_key() == renamed_dag.workload_key()
    assert json.loads(parsed.workload_key())[0] == registered.hash_key()
    assert registered.workload_key() == MATMUL_64  # TVM's key for a registered workload


@pytest.mark.parametrize(
    "other",
    [
        lambda: ComputeDAG(make_workload_key("matmul", (64, 64, 32))),
        lambda: ComputeDAG(declared_matmul(body="add")),
        lambda: ComputeDAG(declared_matmul(reduce="max")),
        lambda: ComputeDAG(matmul(64, 64, 64, "float64")),
    ],
    ids=["shape", "A+B", "max", "dtype"],
)
def test_another_computation_has_another_hash(other: Callable[[], ComputeDAG]):
    assert other().hash_key() != ComputeDAG(MATMUL_64).hash_key()


def test_placeholder_order_and_attributes_count():
    """Records refer to stages by position, and layout-free marks change the search: both are hashed."""
    A, B, C = declared_matmul()
    assert ComputeDAG([B, A, C]).hash_key() != ComputeDAG([A, B, C]).hash_key()
    X = te.placeholder((64, 64), name="X")
    W = te.placeholder((64, 64), name="W")
    r = te.reduce_axis((0, 64), name="r")
    unmarked = te.compute((64, 64), lambda u, v: te.sum(X[u, r] * W[r, v], axis=r), name="out")
    assert ComputeDAG([X, W, unmarked]).hash_key() != ComputeDAG([A, B, C]).hash_key()


def test_golden_encoding_and_hash():
    """The format's contract: an accidental change of the encoding fails here (a deliberate one bumps its version)."""
    dag = ComputeDAG.from_module(GOLDEN_IR)
    text = json.dumps(canonical_encoding(dag.func), separators=(",", ":"))
    assert text == GOLDEN_ENCODING
    assert hashlib.sha256(GOLDEN_ENCODING.encode()).hexdigest() == GOLDEN_HASH
    assert dag.hash_key() == GOLDEN_HASH


def test_hash_of_workload_key():
    registered = ComputeDAG(MATMUL_64)
    assert hash_of_workload_key(MATMUL_64) == registered.hash_key()
    parsed = ComputeDAG.from_module(str(registered.module))
    assert hash_of_workload_key(parsed.workload_key()) == registered.hash_key()
    md5_key = json.dumps(["0123456789abcdef0123456789abcdef", [4, 4], [4, 4]])  # an older record's key
    for key in ('["not_registered", 1, 2]', "not json", md5_key):
        assert hash_of_workload_key(key) is None


def test_search_task_hash_from_dag_record_or_key():
    task = SearchTask("matmul", (64, 64, 64))
    assert task.workload_key == MATMUL_64 and task.workload_hash == ComputeDAG(MATMUL_64).hash_key()
    assert SearchTask.without_dag(MATMUL_64, "llvm").workload_hash == task.workload_hash
    assert SearchTask.without_dag(MATMUL_64, "llvm", workload_hash="f" * 64).workload_hash == "f" * 64
    assert SearchTask.without_dag('["not_registered", 1]', "llvm").workload_hash is None


def test_dispatcher_answers_any_front_end():
    """`ApplyHistoryBest` holds records of the registered key; a query for the DAG parsed from IR finds them."""
    task = SearchTask("matmul", (64, 64, 64))
    assert task.compute_dag is not None
    state = task.compute_dag.get_init_state()
    state.split("C", "j", [16])
    history = ApplyHistoryBest([(MeasureInput(task, state), MeasureResult((1e-3,), 0, "", 0.0, 0.0))])
    parsed = ComputeDAG.from_module(renamed(str(task.compute_dag.module)))
    with history:
        answer = history.query("llvm -mcpu=native", parsed.workload_key(), True, parsed)
    assert answer is not None and answer.transform_steps == state.transform_steps
    assert history.best("llvm", parsed.workload_key()) is not None  # the hash taken from the key
    assert history.best("llvm", ComputeDAG(declared_matmul(k_=32)).workload_key()) is None

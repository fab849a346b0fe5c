"""The te dialect: printing round-trips and the verifier names what is wrong."""

import pytest
from xdsl.parser import Parser
from xdsl.utils.exceptions import VerifyException

from schedopt.dialects import te
from schedopt.ir_context import te_context


def parse(text: str):
    return Parser(te_context(), text).parse_module()


def documented_example() -> str:
    """The IR of the dialect's module docstring (its ```mlir block): the tests keep the docs honest."""
    assert te.__doc__ is not None
    return te.__doc__.split("```mlir\n")[1].split("```")[0]


MATMUL = str(parse(documented_example())) + "\n"
"""The documented example as the printer writes it."""


def test_print_parse_print_is_identity():
    module = parse(MATMUL)
    module.verify()
    assert str(module) + "\n" == MATMUL
    assert str(parse(str(module))) == str(module)


def test_compute_views():
    compute = next(op for op in parse(MATMUL).walk() if isinstance(op, te.ComputeOp))
    assert compute.name_str == "C"
    assert compute.spatial_names == ("i", "j")
    assert compute.reduce_names == ("k",)
    assert compute.spatial_extents == (64, 16)
    assert compute.reduce_extent_values == (32,)
    assert compute.reduction_kind == te.ReductionKind.SUM
    assert len(compute.iter_args) == 3


def test_generic_form_round_trips():
    module = parse(MATMUL)
    from io import StringIO

    from xdsl.printer import Printer

    out = StringIO()
    Printer(stream=out, print_generic_format=True).print_op(module)
    assert str(parse(out.getvalue())) == str(module)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("te.read %A[%i, %k] :", "te.read %A[%i] :", "te.read of A: 1 indices for a tensor of rank 2"),
        (
            "ins(%A, %B : tensor<64x32xf32>, tensor<32x16xf32>)",
            "ins(%B : tensor<32x16xf32>)",
            'te.read of A: A is not an input of te.compute "C"',
        ),
        (
            "te.yield %p : f32",
            "%q = arith.extf %p : f32 to f64\n      te.yield %q : f64",
            "te.yield type f64 does not match",
        ),
        ("i: 64, j: 16) reduce<sum>(k: 32)", "i: 64, j: 16, k: 32)", "spatial extents"),
    ],
)
def test_verifier_names_the_problem(old: str, new: str, message: str):
    assert old in MATMUL
    with pytest.raises(Exception, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(MATMUL.replace(old, new)).verify()


def test_reduce_axis_outside_reduction():
    compute = next(op for op in parse(MATMUL).walk() if isinstance(op, te.ComputeOp))
    compute.reduction = None
    with pytest.raises(VerifyException, match=r"reduce axes \['k'\] are used outside a reduction"):
        compute.verify()


def test_body_may_not_capture_outer_values():
    text = MATMUL.replace(
        "%C = te.compute",
        "%c = arith.constant 2.0 : f32\n    %C = te.compute",
    ).replace("te.yield %p : f32", "%q = arith.mulf %p, %c : f32\n      te.yield %q : f32")
    with pytest.raises(VerifyException, match="defined outside the compute"):
        parse(text).verify()

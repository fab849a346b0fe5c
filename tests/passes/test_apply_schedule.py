"""The apply-schedule pass: which function a schedule applies to, what replaces it, and errors."""

import numpy as np
import pytest
from xdsl.dialects import func, transform
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from schedopt.build import argument_specs
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import ScheduleError
from schedopt.ir_context import schedule_context
from schedopt.layout_rewrite import LayoutRewriteOption
from schedopt.passes import get_all_passes
from schedopt.passes.apply_schedule import ApplySchedulePass, find_schedules
from schedopt.passes.convert_to_llvm import ConvertToLLVMPass
from schedopt.runtime import compile_module
from schedopt.schedule.loop_nest_emitter import lower_state
from schedopt.schedule.schedule_program import program_to_state
from schedopt.search_task import function_task

MATMUL_RELU = """\
func.func @{name}(%A: tensor<8x4xf32> {{te.name = "A"}}, %B: tensor<4x6xf32> {{te.name = "B"}}) -> tensor<8x6xf32> {{
  %C = te.compute "C" spatial(i: 8, j: 6) reduce<sum>(k: 4) ins(%A, %B : tensor<8x4xf32>, tensor<4x6xf32>) -> tensor<8x6xf32> {{
  ^bb0(%i: index, %j: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<8x4xf32>
    %b = te.read %B[%k, %j] : tensor<4x6xf32>
    %p = arith.mulf %a, %b : f32
    te.yield %p : f32
  }}
  %D = te.compute "D" spatial(i: 8, j: 6) ins(%C : tensor<8x6xf32>) -> tensor<8x6xf32> {{
  ^bb0(%i: index, %j: index):
    %c = te.read %C[%i, %j] : tensor<8x6xf32>
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %c, %z : f32
    te.yield %m : f32
  }}
  func.return %D : tensor<8x6xf32>
}}
"""

SCHEDULE = """\
transform.named_sequence @{name}(%root: !transform.any_op {{transform.readonly}}) {attributes}{{
  %D = sched.get_stage "D" in %root : (!transform.any_op) -> !sched.stage
  %i, %j = sched.get_iters %D : !sched.iter, !sched.iter
  %io, %ii = sched.split %D, %i by [4] : !sched.iter, !sched.iter
  %jo, %ji = sched.split %D, %j by [3] : !sched.iter, !sched.iter
  sched.reorder %D, [%io, %jo, %ii, %ji]
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  sched.compute_at %C at %D, %jo
  sched.annotate %D, %ji unroll
  transform.yield
}}
"""


def schedule(name: str = "__transform_main", target: str | None = None) -> str:
    attributes = "" if target is None else f"attributes {{sched.target = @{target}}} "
    return SCHEDULE.format(name=name, attributes=attributes)


def parse(text: str) -> ModuleOp:
    return Parser(schedule_context(), text).parse_module()


def apply(text: str) -> ModuleOp:
    module = parse(text)
    ApplySchedulePass().apply(schedule_context(), module)
    module.verify()
    return module


def expected_function(name: str) -> func.FuncOp:
    """What the pass must put in place of `@name`: the State API's lowering of the same schedule."""
    module = parse(MATMUL_RELU.format(name=name) + schedule())
    dag = ComputeDAG(next(op for op in module.ops if isinstance(op, func.FuncOp)))
    s = dag.get_init_state()
    io, ii = s.split("D", "i", [4])
    jo, ji = s.split("D", "j", [3])
    s.reorder("D", [io, jo, ii, ji])
    s.compute_at("C", "D", jo)
    s.unroll("D", ji)
    program = next(op for op in module.ops if isinstance(op, transform.NamedSequenceOp))
    assert program_to_state(dag, program).transform_steps == s.transform_steps
    return lower_state(dag, s)


def test_registered():
    assert get_all_passes()["apply-schedule"]() is ApplySchedulePass
    assert ApplySchedulePass.name == "apply-schedule"


def test_transform_main_schedules_the_only_te_function():
    module = apply(MATMUL_RELU.format(name="mm") + schedule())
    assert [type(op) for op in module.ops] == [func.FuncOp]
    assert str(module.body.block.first_op) == str(expected_function("mm"))


def test_nested_transform_module_is_removed():
    text = (
        "builtin.module attributes {transform.with_named_sequence} {\n"
        + MATMUL_RELU.format(name="mm")
        + "builtin.module attributes {transform.with_named_sequence} {\n"
        + schedule()
        + "}\n}\n"
    )
    module = apply(text)
    assert [type(op) for op in module.ops] == [func.FuncOp]
    assert "transform.with_named_sequence" not in module.attributes
    assert str(module.body.block.first_op) == str(expected_function("mm"))


def test_target_attribute_picks_the_function_and_leaves_others():
    text = (
        MATMUL_RELU.format(name="first")
        + MATMUL_RELU.format(name="second")
        + schedule(name="second_schedule", target="second")
        + "  transform.named_sequence @unrelated(%x: !transform.any_op) {\n    transform.yield\n  }\n"
    )
    module = apply(text)
    first, second, unrelated = module.ops
    assert isinstance(first, func.FuncOp) and "te.compute" in str(first)
    assert str(second) == str(expected_function("second"))
    assert isinstance(unrelated, transform.NamedSequenceOp)


def test_empty_schedule_is_te_lower():
    module = apply(
        MATMUL_RELU.format(name="mm")
        + "transform.named_sequence @__transform_main(%root: !transform.any_op) {\n  transform.yield\n}\n"
    )
    dag = ComputeDAG(parse(MATMUL_RELU.format(name="mm")))
    assert str(module.body.block.first_op) == str(lower_state(dag, dag.get_init_state()))


def test_scheduled_function_computes_the_same_as_numpy():
    module = apply(MATMUL_RELU.format(name="mm") + schedule())
    ConvertToLLVMPass().apply(schedule_context(), module)
    dag = ComputeDAG(parse(MATMUL_RELU.format(name="mm")))
    kernel = compile_module(module).get_function("mm", argument_specs(dag))
    rng = np.random.default_rng(0)
    a = rng.standard_normal((8, 4), dtype=np.float32)
    b = rng.standard_normal((4, 6), dtype=np.float32)
    d = np.empty((8, 6), np.float32)
    kernel(a, b, d)
    np.testing.assert_allclose(d, np.maximum(a @ b, 0), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            MATMUL_RELU.format(name="f") + MATMUL_RELU.format(name="g") + schedule(),
            "applies to the module's only te function, but it has @f, @g; name the function with sched.target",
        ),
        (
            MATMUL_RELU.format(name="f") + schedule(name="s", target="nope"),
            "schedule @s: no te function @nope",
        ),
        (
            MATMUL_RELU.format(name="f") + schedule() + schedule(name="again", target="f"),
            "te function @f has two schedules",
        ),
        (
            MATMUL_RELU.format(name="f") + schedule().replace("by [4]", "by [0]"),
            "sched.split: split of i in stage D: factor 0",
        ),
    ],
)
def test_bad_modules_raise_schedule_errors(text: str, message: str):
    with pytest.raises(ScheduleError, match=message):
        apply(text)


def test_find_schedules_pairs_functions_and_programs():
    module = parse(
        MATMUL_RELU.format(name="f") + MATMUL_RELU.format(name="g") + schedule(name="s", target="g")
    )
    [found] = find_schedules(module)
    assert (found.function.sym_name.data, found.program.sym_name.data) == ("g", "s")


def test_tasks_of_the_pipeline_measure_what_it_emits():
    """apply-schedule keeps declared layouts, so its tasks measure without layout rewrite."""
    (scheduled,) = find_schedules(parse(MATMUL_RELU.format(name="matmul_relu") + schedule()))
    function = scheduled.function
    task = function_task(function, "llvm")
    assert task.layout_rewrite_option == LayoutRewriteOption.NO_REWRITE
    assert task.compute_dag.func_name == function.sym_name.data

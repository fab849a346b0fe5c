"""The lower-to-llvm pass: the command line compiles the program `schedopt.build` compiles, vectors and threads included."""

import re
from pathlib import Path

import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

import schedopt.workloads  # noqa: F401  (registers the workloads)
from schedopt.build import build_llvm_ir, lower_to_llvm_dialect
from schedopt.compute_dag import ComputeDAG
from schedopt.ir_context import schedule_context
from schedopt.measurement import MeasureInput, MeasureResult
from schedopt.passes import get_all_passes
from schedopt.passes.apply_schedule import ApplySchedulePass
from schedopt.passes.lower_to_llvm import LowerToLLVMPass
from schedopt.records import save_records
from schedopt.runtime import host_target_machine, optimize, parse_llvm_ir
from schedopt.schedule.loop_state import State
from schedopt.search_task import SearchTask
from schedopt.tools.sched_opt_main import main
from schedopt.workload_registry import make_workload_key

DEFINITION = re.compile(r'^define [^@]*@"?([\w.]+)"?\(.*?^}$', re.MULTILINE | re.DOTALL)


def matmul() -> ComputeDAG:
    return ComputeDAG(make_workload_key("matmul", (64, 64, 64)))


def tiled_state(dag: ComputeDAG) -> State:
    """Tiles of 8x16: rows of tiles in parallel, 16 columns a vector, 8 rows unrolled."""
    state = dag.get_init_state()
    io, ii = state.split("C", "i", [8])
    jo, ji = state.split("C", "j", [16])
    state.reorder("C", [io, jo, "k", ii, ji])
    state.parallel("C", io)
    state.vectorize("C", ji)
    state.unroll("C", ii)
    return state


def parse(text: str) -> ModuleOp:
    return Parser(schedule_context(), text).parse_module()


def sched_opt_llvm_ir(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """What `sched-opt ARGS -t llvm` prints, optimised as `build_llvm_ir` optimises.

    xDSL's llvm target leaves the data layout empty, where `build` translates
    with the host's; with it, LLVM optimises both texts the same way.
    """
    capsys.readouterr()
    assert main([*args, "-t", "llvm"]) == 0
    module = parse_llvm_ir(capsys.readouterr().out)
    module.data_layout = str(host_target_machine().target_data)
    optimize(module)
    return str(module)


def definitions(llvm_ir: str) -> dict[str, str]:
    """Function name -> the text of its definition."""
    return {match.group(1): match.group(0) for match in DEFINITION.finditer(llvm_ir)}


def assert_vectorized_and_parallel(functions: dict[str, str]) -> None:
    assert "call void @GOMP_parallel(" in functions["matmul"]
    assert any(re.search(r"<\d+ x float>", text) for text in functions.values())


def test_registered():
    assert get_all_passes()["lower-to-llvm"]() is LowerToLLVMPass
    assert LowerToLLVMPass.name == "lower-to-llvm"


def test_scheduled_module_on_the_command_line_is_what_build_compiles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    dag = matmul()
    state = tiled_state(dag)
    source = tmp_path / "matmul.mlir"
    source.write_text(str(dag.func) + "\n" + dag.print_python_code_from_state(state) + "\n")
    functions = definitions(sched_opt_llvm_ir(capsys, str(source), "-p", "lower-to-llvm"))
    assert functions == definitions(build_llvm_ir(dag, state))
    assert_vectorized_and_parallel(functions)


def test_best_record_on_the_command_line_is_what_build_compiles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    dag = matmul()
    state = tiled_state(dag)
    source = tmp_path / "matmul.mlir"
    source.write_text(str(dag.func) + "\n")
    # Keyed by the function in the file, as apply-history-best looks records up.
    ir_dag = ComputeDAG.from_module(source.read_text())
    record = MeasureInput(SearchTask(compute_dag=ir_dag), ir_dag.replay_steps(state.transform_steps))
    db = tmp_path / "mm.json"
    save_records(db, [record], [MeasureResult((1e-3,), 0, "", 0.0, 0.0)])
    pipeline = f'apply-history-best{{db="{db}"}},lower-to-llvm'
    functions = definitions(sched_opt_llvm_ir(capsys, str(source), "-p", pipeline))
    assert functions == definitions(build_llvm_ir(dag, state))
    assert_vectorized_and_parallel(functions)


def test_unscheduled_te_function_lowers_as_build_lowers_it():
    dag = matmul()
    module = parse(str(dag.func))
    LowerToLLVMPass().apply(schedule_context(), module)
    assert str(module) == str(lower_to_llvm_dialect(dag))


def test_loop_nests_skip_the_te_stage():
    """apply-schedule's output goes through the rest of the pipeline as the te module does."""
    dag = matmul()
    text = str(dag.func) + "\n" + dag.print_python_code_from_state(tiled_state(dag)) + "\n"
    from_te, from_loops = parse(text), parse(text)
    ApplySchedulePass().apply(schedule_context(), from_loops)
    LowerToLLVMPass().apply(schedule_context(), from_te)
    LowerToLLVMPass().apply(schedule_context(), from_loops)
    assert str(from_loops) == str(from_te)
    assert "vector<16xf32>" in str(from_te)


def test_python_tuned_records_deploy_on_the_command_line_as_build_deploys_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Tune from Python, write the workload as IR under another name, apply the best record there."""
    import schedopt as ss
    from schedopt.tuning.auto_schedule import make_search_policy

    task = ss.SearchTask("matmul", (64, 64, 64), hardware_params=ss.HardwareParams(num_cores=2))
    log = tmp_path / "mm.json"
    options = ss.TuningOptions(
        num_measure_trials=4,
        num_measures_per_round=4,
        verbose=0,
        measure_callbacks=[ss.RecordToFile(str(log))],
    )
    task.tune(options, make_search_policy(task, "sketch.random", 0, verbose=0))
    best, _ = ss.load_best_record(str(log), task.workload_key)
    source = tmp_path / "gemm.mlir"
    source.write_text(str(task.compute_dag.func).replace("@matmul(", "@gemm(", 1) + "\n")
    pipeline = f'apply-history-best{{db="{log}"}},lower-to-llvm'
    functions = definitions(sched_opt_llvm_ir(capsys, str(source), "-p", pipeline))
    expected = definitions(build_llvm_ir(task.compute_dag, best.state).replace("matmul", "gemm"))

    def spaced(text: str) -> str:  # LLVM pads a label's comment to a column: the names differ in length
        return re.sub(r" +", " ", text)

    assert {name: spaced(text) for name, text in functions.items()} == {
        name: spaced(text) for name, text in expected.items()
    }

"""extract_tasks and load_network: one task per distinct fused operator, weighted by its calls."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from model_builders import mlp

import schedopt as ss
from schedopt.errors import NetworkError
from schedopt.frontend import load_network
from schedopt.frontend.network import NetworkBuilder
from schedopt.layout_rewrite import LayoutRewriteOption


def test_identical_blocks_make_one_task_weighted_by_their_calls():
    network = mlp(blocks=3)
    tasks, weights = ss.extract_tasks(network)
    fused = [call.name for call in load_network(network).calls]
    assert len(fused) == 5  # three dense blocks, the transpose, the sum
    assert weights == [3, 1]
    assert tasks[0].desc == ",".join(fused[:3])
    assert tasks[1].desc == fused[4]
    assert len({task.workload_key for task in tasks}) == 2
    assert all(task.compute_dag is not None for task in tasks)


def test_simple_tasks_only_on_request_in_order_of_first_call():
    network = mlp(blocks=2)
    tasks, weights = ss.extract_tasks(network, include_simple_tasks=True)
    assert [task.desc.split(",")[0] for task in tasks] == [
        "fused_dense_bias_add_relu",
        "transpose",
        "sum",
    ]
    assert weights == [2, 1, 1]


def test_options_reach_the_tasks():
    hardware = ss.HardwareParams(num_cores=3)
    tasks, _ = ss.extract_tasks(mlp(blocks=1), hardware_params=hardware)
    assert all(task.hardware_params is hardware for task in tasks)
    assert all(
        task.layout_rewrite_option == LayoutRewriteOption.REWRITE_FOR_PRE_TRANSFORMED for task in tasks
    )
    tasks, _ = ss.extract_tasks(mlp(blocks=1), layout_rewrite_option=LayoutRewriteOption.NO_REWRITE)
    assert all(task.layout_rewrite_option == LayoutRewriteOption.NO_REWRITE for task in tasks)


def test_a_task_is_rebuilt_from_its_key():
    (task, _), _ = ss.extract_tasks(mlp(blocks=1))
    assert task.compute_dag is not None
    rebuilt = ss.SearchTask(workload_key=task.workload_key)
    assert rebuilt.compute_dag is not None
    assert rebuilt.compute_dag.hash_key() == task.compute_dag.hash_key()
    assert rebuilt.compute_dag.func_name == task.desc.split(",")[0]


def test_a_network_module_as_text_with_its_params():
    network = mlp(blocks=2)
    from_text, text_weights = ss.extract_tasks(str(network.module), params=network.params)
    direct, weights = ss.extract_tasks(network)
    assert [t.workload_key for t in from_text] == [t.workload_key for t in direct]
    assert text_weights == weights


def test_load_network_fuses_and_binds_params():
    network = mlp(blocks=1)
    new_weight = np.ones_like(network.params["w0"])
    loaded = load_network(network, params={"w0": new_weight})
    assert len(loaded.calls) == 3
    assert loaded.params["w0"] is not network.params["w0"]
    np.testing.assert_array_equal(loaded.params["w0"], new_weight)
    with pytest.raises(NetworkError, match="nope"):
        load_network(network, params={"nope": new_weight})


def test_load_network_errors_name_the_problem(tmp_path):
    with pytest.raises(NetworkError, match="no graph function"):
        load_network("func.func @f() {\n  func.return\n}")
    with pytest.raises(NetworkError, match="cannot parse"):
        load_network("func.func @f( {")
    with pytest.raises(NetworkError, match=r"missing\.mlir"):
        load_network(tmp_path / "missing.mlir")
    with pytest.raises(NetworkError, match="type int"):
        load_network(3)


def test_an_onnx_model_without_onnx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    monkeypatch.delitem(sys.modules, "schedopt.frontend.onnx_importer", raising=False)
    with pytest.raises(NetworkError, match=r"sched-opt\[onnx\]"):
        load_network("model.onnx")


def test_a_network_file(tmp_path):
    b = NetworkBuilder()
    x = b.input("x", (4, 4))
    network = b.build([x])
    path = tmp_path / "net.mlir"
    path.write_text(str(network.module))
    assert load_network(path).inputs[0].name == "x"
    assert load_network(str(path)).inputs[0].name == "x"


LINALG_DENSE = """
func.func @dense(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %bias: tensor<32xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<8x32xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<8x32xf32>) -> tensor<8x32xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>)
                      outs(%acc : tensor<8x32xf32>) -> tensor<8x32xf32>
  %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>,
                                           affine_map<(d0, d1) -> (d0, d1)>],
                          iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<8x32xf32>, tensor<32xf32>) outs(%empty : tensor<8x32xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  } -> tensor<8x32xf32>
  func.return %relu : tensor<8x32xf32>
}
"""


def test_a_linalg_module_is_imported_fused_and_compiled():
    rng = np.random.default_rng(0)
    params = {
        "w": rng.standard_normal((16, 32)).astype(np.float32),
        "bias": rng.standard_normal(32).astype(np.float32),
    }
    tasks, weights = ss.extract_tasks(LINALG_DENSE, params=params)
    assert [t.desc for t in tasks] == ["fused_mm_relu"] and weights == [1]
    compiled = ss.compile_model(LINALG_DENSE, params=params, hardware_params=ss.HardwareParams(num_cores=2))
    x = rng.standard_normal((8, 16)).astype(np.float32)
    (got,) = compiled(x)
    np.testing.assert_allclose(got, np.maximum(x @ params["w"] + params["bias"], 0), rtol=1e-4, atol=1e-5)

"""The linalg front end: modules of linalg on tensors imported as networks, run against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from network_testing import run_network
from xdsl.dialects.builtin import ArrayAttr, StringAttr
from xdsl.utils.hints import isa

from schedopt.dialects import te as te_dialect
from schedopt.errors import FrontendError
from schedopt.frontend.linalg_importer import from_linalg
from schedopt.frontend.network import Network, OpPattern

RNG = np.random.default_rng(0)

ID2 = "affine_map<(d0, d1) -> (d0, d1)>"
COLS = "affine_map<(d0, d1) -> (d1)>"
ROWS = "affine_map<(d0, d1) -> (d0)>"


def dense(values: np.ndarray) -> str:
    """An MLIR dense literal of a float32 array."""
    return f"dense<{np.array2string(values, separator=', ', floatmode='unique', threshold=10**6)}>"


def patterns(network: Network) -> list[OpPattern]:
    return [call.pattern for call in network.calls]


def stages(network: Network, call: int) -> list[te_dialect.ComputeOp]:
    """The te stages of the operator function of the `call`-th call."""
    function = network.calls[call].callee
    return [op for op in function.body.block.ops if isinstance(op, te_dialect.ComputeOp)]


def layout_free(stage: te_dialect.ComputeOp) -> list[str]:
    attr = stage.attributes.get("layout_free_placeholders")
    assert isa(attr, ArrayAttr[StringAttr])
    return [name.data for name in attr.data]


def test_matmul_bias_relu() -> None:
    bias = RNG.standard_normal(16).astype(np.float32)
    text = f"""
    func.func @dense(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x16xf32> {{
      %bias = arith.constant {dense(bias)} : tensor<16xf32>
      %zero = arith.constant 0.0 : f32
      %empty = tensor.empty() : tensor<4x16xf32>
      %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<4x16xf32>) -> tensor<4x16xf32>
      %mm = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x16xf32>)
                          outs(%acc : tensor<4x16xf32>) -> tensor<4x16xf32>
      %biased = linalg.generic {{indexing_maps = [{ID2}, {COLS}, {ID2}],
                                 iterator_types = ["parallel", "parallel"]}}
          ins(%mm, %bias : tensor<4x16xf32>, tensor<16xf32>) outs(%empty : tensor<4x16xf32>) {{
      ^bb0(%a: f32, %b: f32, %out: f32):
        %s = arith.addf %a, %b : f32
        linalg.yield %s : f32
      }} -> tensor<4x16xf32>
      %relu = linalg.generic {{indexing_maps = [{ID2}, {ID2}], iterator_types = ["parallel", "parallel"]}}
          ins(%biased : tensor<4x16xf32>) outs(%empty : tensor<4x16xf32>) {{
      ^bb0(%a: f32, %out: f32):
        %r = arith.maximumf %a, %zero : f32
        linalg.yield %r : f32
      }} -> tensor<4x16xf32>
      func.return %relu : tensor<4x16xf32>
    }}
    """
    w = RNG.standard_normal((8, 16)).astype(np.float32)
    network = from_linalg(text, params={"w": w})
    assert [i.name for i in network.inputs] == ["x"]
    assert [p.name for p in network.parameters] == ["w", "bias"]
    np.testing.assert_array_equal(network.params["bias"], bias)
    assert [c.name for c in network.calls] == ["mm", "biased", "relu"]
    assert patterns(network) == [OpPattern.OUT_ELEMWISE_FUSABLE, OpPattern.BROADCAST, OpPattern.ELEMWISE]
    (matmul,) = stages(network, 0)  # the zero fill folds into the reduction
    assert matmul.reduction_kind == te_dialect.ReductionKind.SUM
    assert layout_free(matmul) == ["w"]
    x = RNG.standard_normal((4, 8)).astype(np.float32)
    (out,) = run_network(network, {"x": x})
    np.testing.assert_allclose(out, np.maximum(x @ w + bias, 0), rtol=1e-4, atol=1e-5)


def test_weights_that_are_inputs_are_not_layout_free() -> None:
    text = """
    func.func @product(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>) -> tensor<4x16xf32> {
      %zero = arith.constant 0.0 : f32
      %empty = tensor.empty() : tensor<4x16xf32>
      %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<4x16xf32>) -> tensor<4x16xf32>
      %mm = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x16xf32>)
                          outs(%acc : tensor<4x16xf32>) -> tensor<4x16xf32>
      func.return %mm : tensor<4x16xf32>
    }
    """
    network = from_linalg(text)
    assert [i.name for i in network.inputs] == ["x", "w"]
    (matmul,) = stages(network, 0)
    assert "layout_free_placeholders" not in matmul.attributes


def test_batch_matmul_adds_its_init_tensor_in_an_epilogue() -> None:
    text = """
    func.func @bmm(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x3x5xf32>) -> tensor<2x3x5xf32> {
      %r = linalg.batch_matmul ins(%a, %b : tensor<2x3x4xf32>, tensor<2x4x5xf32>)
                               outs(%c : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
      func.return %r : tensor<2x3x5xf32>
    }
    """
    network = from_linalg(text)
    assert patterns(network) == [OpPattern.OUT_ELEMWISE_FUSABLE]
    assert [s.name_str for s in stages(network, 0)] == ["r", "r_init"]
    a, b, c = (RNG.standard_normal(s).astype(np.float32) for s in ((2, 3, 4), (2, 4, 5), (2, 3, 5)))
    (out,) = run_network(network, {"a": a, "b": b, "c": c})
    np.testing.assert_allclose(out, a @ b + c, rtol=1e-4, atol=1e-5)


def conv_nhwc(x: np.ndarray, k: np.ndarray, stride: int, dilation: int) -> np.ndarray:
    kh, kw, _, f = k.shape
    oh = (x.shape[1] - dilation * (kh - 1) - 1) // stride + 1
    ow = (x.shape[2] - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, f), np.float32)
    for i in range(kh):
        for j in range(kw):
            window = x[:, i * dilation :: stride, j * dilation :: stride, :][:, :oh, :ow, :]
            out += window @ k[i, j]
    return out


def test_padded_conv_2d_nhwc_hwcf_with_strides() -> None:
    text = """
    func.func @conv(%x: tensor<1x9x9x3xf32>, %k: tensor<3x3x3x8xf32>) -> tensor<1x5x5x8xf32> {
      %zero = arith.constant 0.0 : f32
      %padded = tensor.pad %x low[0, 1, 1, 0] high[0, 1, 1, 0] {
      ^bb0(%i: index, %j: index, %l: index, %m: index):
        tensor.yield %zero : f32
      } : tensor<1x9x9x3xf32> to tensor<1x11x11x3xf32>
      %empty = tensor.empty() : tensor<1x5x5x8xf32>
      %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<1x5x5x8xf32>) -> tensor<1x5x5x8xf32>
      %conv = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
          ins(%padded, %k : tensor<1x11x11x3xf32>, tensor<3x3x3x8xf32>)
          outs(%acc : tensor<1x5x5x8xf32>) -> tensor<1x5x5x8xf32>
      func.return %conv : tensor<1x5x5x8xf32>
    }
    """
    k = RNG.standard_normal((3, 3, 3, 8)).astype(np.float32)
    network = from_linalg(text, params={"k": k})
    assert patterns(network) == [OpPattern.INJECTIVE, OpPattern.OUT_ELEMWISE_FUSABLE]
    (conv,) = stages(network, 1)
    assert layout_free(conv) == ["k"]
    x = RNG.standard_normal((1, 9, 9, 3)).astype(np.float32)
    (out,) = run_network(network, {"x": x})
    expected = conv_nhwc(np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), k, stride=2, dilation=1)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_dilated_conv_2d_nchw_fchw() -> None:
    text = """
    func.func @conv(%x: tensor<1x2x8x8xf32>, %k: tensor<4x2x3x3xf32>) -> tensor<1x4x4x4xf32> {
      %zero = arith.constant 0.0 : f32
      %empty = tensor.empty() : tensor<1x4x4x4xf32>
      %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
      %conv = linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
          ins(%x, %k : tensor<1x2x8x8xf32>, tensor<4x2x3x3xf32>)
          outs(%acc : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
      func.return %conv : tensor<1x4x4x4xf32>
    }
    """
    network = from_linalg(text)
    x = RNG.standard_normal((1, 2, 8, 8)).astype(np.float32)
    k = RNG.standard_normal((4, 2, 3, 3)).astype(np.float32)
    (out,) = run_network(network, {"x": x, "k": k})
    expected = conv_nhwc(x.transpose(0, 2, 3, 1), k.transpose(2, 3, 1, 0), stride=1, dilation=2)
    np.testing.assert_allclose(out, expected.transpose(0, 3, 1, 2), rtol=1e-4, atol=1e-5)


def test_int8_conv_accumulates_in_int32() -> None:
    text = """
    func.func @qconv(%x: tensor<1x6x6x4xi8>, %k: tensor<3x3x4x2xi8>) -> tensor<1x4x4x2xi32> {
      %zero = arith.constant 0 : i32
      %empty = tensor.empty() : tensor<1x4x4x2xi32>
      %acc = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x4x4x2xi32>) -> tensor<1x4x4x2xi32>
      %conv = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
          ins(%x, %k : tensor<1x6x6x4xi8>, tensor<3x3x4x2xi8>)
          outs(%acc : tensor<1x4x4x2xi32>) -> tensor<1x4x4x2xi32>
      func.return %conv : tensor<1x4x4x2xi32>
    }
    """
    network = from_linalg(text)
    assert patterns(network) == [OpPattern.OUT_ELEMWISE_FUSABLE]
    x = RNG.integers(-128, 128, (1, 6, 6, 4), dtype=np.int8)
    k = RNG.integers(-128, 128, (3, 3, 4, 2), dtype=np.int8)
    (out,) = run_network(network, {"x": x, "k": k})
    expected = conv_nhwc(x.astype(np.int32), k.astype(np.int32), stride=1, dilation=1)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize(("init", "epilogue"), [("0xFF800000", False), ("0.0", True)])
def test_max_pooling_nchw(init: str, epilogue: bool) -> None:
    text = f"""
    func.func @pool(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {{
      %init = arith.constant {init} : f32
      %window = tensor.empty() : tensor<2x2xf32>
      %empty = tensor.empty() : tensor<1x3x4x4xf32>
      %acc = linalg.fill ins(%init : f32) outs(%empty : tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
      %pool = linalg.pooling_nchw_max {{dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}}
          ins(%x, %window : tensor<1x3x8x8xf32>, tensor<2x2xf32>)
          outs(%acc : tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
      func.return %pool : tensor<1x3x4x4xf32>
    }}
    """
    network = from_linalg(text)
    assert patterns(network) == [OpPattern.OUT_ELEMWISE_FUSABLE]
    assert len(stages(network, 0)) == (2 if epilogue else 1)
    x = RNG.standard_normal((1, 3, 8, 8)).astype(np.float32)
    (out,) = run_network(network, {"x": x})
    expected = x.reshape(1, 3, 4, 2, 4, 2).max(axis=(3, 5))
    np.testing.assert_allclose(out, np.maximum(expected, 0) if epilogue else expected, rtol=1e-6)


def test_softmax_of_generic_reductions_and_broadcasts() -> None:
    text = f"""
    func.func @softmax(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {{
      %ninf = arith.constant 0xFF800000 : f32
      %zero = arith.constant 0.0 : f32
      %rows = tensor.empty() : tensor<4xf32>
      %empty = tensor.empty() : tensor<4x16xf32>
      %max_init = linalg.fill ins(%ninf : f32) outs(%rows : tensor<4xf32>) -> tensor<4xf32>
      %max = linalg.generic {{indexing_maps = [{ID2}, {ROWS}], iterator_types = ["parallel", "reduction"]}}
          ins(%x : tensor<4x16xf32>) outs(%max_init : tensor<4xf32>) {{
      ^bb0(%in: f32, %acc: f32):
        %m = arith.maximumf %in, %acc : f32
        linalg.yield %m : f32
      }} -> tensor<4xf32>
      %exp = linalg.generic {{indexing_maps = [{ID2}, {ROWS}, {ID2}], iterator_types = ["parallel", "parallel"]}}
          ins(%x, %max : tensor<4x16xf32>, tensor<4xf32>) outs(%empty : tensor<4x16xf32>) {{
      ^bb0(%in: f32, %m: f32, %out: f32):
        %d = arith.subf %in, %m : f32
        %e = math.exp %d : f32
        linalg.yield %e : f32
      }} -> tensor<4x16xf32>
      %sum_init = linalg.fill ins(%zero : f32) outs(%rows : tensor<4xf32>) -> tensor<4xf32>
      %sum = linalg.reduce ins(%exp : tensor<4x16xf32>) outs(%sum_init : tensor<4xf32>) dimensions = [1]
        (%in: f32, %acc: f32) {{
          %s = arith.addf %acc, %in : f32
          linalg.yield %s : f32
        }}
      %softmax = linalg.generic {{indexing_maps = [{ID2}, {ROWS}, {ID2}], iterator_types = ["parallel", "parallel"]}}
          ins(%exp, %sum : tensor<4x16xf32>, tensor<4xf32>) outs(%empty : tensor<4x16xf32>) {{
      ^bb0(%e: f32, %s: f32, %out: f32):
        %q = arith.divf %e, %s : f32
        linalg.yield %q : f32
      }} -> tensor<4x16xf32>
      func.return %softmax : tensor<4x16xf32>
    }}
    """
    network = from_linalg(text)
    assert patterns(network) == [
        OpPattern.COMM_REDUCE,
        OpPattern.BROADCAST,
        OpPattern.COMM_REDUCE,
        OpPattern.BROADCAST,
    ]
    assert stages(network, 0)[0].reduction_kind == te_dialect.ReductionKind.MAX
    x = RNG.standard_normal((4, 16)).astype(np.float32)
    (out,) = run_network(network, {"x": x})
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(out, e / e.sum(axis=1, keepdims=True), rtol=1e-4)


def test_layout_ops_and_named_elementwise_ops() -> None:
    text = """
    func.func @layout(%x: tensor<2x3x4xf32>, %y: tensor<3x4xf32>) -> (tensor<3x2x4xf32>, tensor<2x3x4xf32>) {
      %e = tensor.empty() : tensor<3x2x4xf32>
      %t = linalg.transpose ins(%x : tensor<2x3x4xf32>) outs(%e : tensor<3x2x4xf32>) permutation = [1, 0, 2]
      %flat = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
      %back = tensor.expand_shape %flat [[0, 1], [2]] output_shape [2, 3, 4] : tensor<6x4xf32> into tensor<2x3x4xf32>
      %e2 = tensor.empty() : tensor<2x3x4xf32>
      %yb = linalg.broadcast ins(%y : tensor<3x4xf32>) outs(%e2 : tensor<2x3x4xf32>) dimensions = [0]
      %sum = linalg.add ins(%back, %yb : tensor<2x3x4xf32>, tensor<2x3x4xf32>)
                        outs(%e2 : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
      %exp = linalg.exp ins(%sum : tensor<2x3x4xf32>) outs(%e2 : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
      %max = linalg.max ins(%exp, %back : tensor<2x3x4xf32>, tensor<2x3x4xf32>)
                        outs(%e2 : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
      func.return %t, %max : tensor<3x2x4xf32>, tensor<2x3x4xf32>
    }
    """
    network = from_linalg(text)
    assert [(c.name, c.pattern) for c in network.calls] == [
        ("t", OpPattern.INJECTIVE),
        ("flat", OpPattern.INJECTIVE),
        ("back", OpPattern.INJECTIVE),
        ("yb", OpPattern.BROADCAST),
        ("sum", OpPattern.ELEMWISE),
        ("exp", OpPattern.ELEMWISE),
        ("max", OpPattern.ELEMWISE),
    ]
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    y = RNG.standard_normal((3, 4)).astype(np.float32)
    transposed, out = run_network(network, {"x": x, "y": y})
    np.testing.assert_array_equal(transposed, x.transpose(1, 0, 2))
    np.testing.assert_allclose(out, np.maximum(np.exp(x + y), x), rtol=1e-5)


def test_causal_mask_from_loop_indices_is_injective() -> None:
    text = f"""
    func.func @mask(%x: tensor<5x5xf32>) -> tensor<5x5xf32> {{
      %ninf = arith.constant 0xFF800000 : f32
      %empty = tensor.empty() : tensor<5x5xf32>
      %masked = linalg.generic {{indexing_maps = [{ID2}, {ID2}], iterator_types = ["parallel", "parallel"]}}
          ins(%x : tensor<5x5xf32>) outs(%empty : tensor<5x5xf32>) {{
      ^bb0(%a: f32, %out: f32):
        %i = linalg.index 0 : index
        %j = linalg.index 1 : index
        %keep = arith.cmpi sge, %i, %j : index
        %r = arith.select %keep, %a, %ninf : f32
        linalg.yield %r : f32
      }} -> tensor<5x5xf32>
      func.return %masked : tensor<5x5xf32>
    }}
    """
    network = from_linalg(text)
    assert patterns(network) == [OpPattern.INJECTIVE]
    x = RNG.standard_normal((5, 5)).astype(np.float32)
    (out,) = run_network(network, {"x": x})
    np.testing.assert_array_equal(out, np.where(np.tril(np.ones((5, 5), bool)), x, -np.inf))


def test_a_returned_fill_is_an_operator() -> None:
    text = """
    func.func @ones() -> tensor<2x3xf32> {
      %one = arith.constant 1.0 : f32
      %e = tensor.empty() : tensor<2x3xf32>
      %f = linalg.fill ins(%one : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
      func.return %f : tensor<2x3xf32>
    }
    """
    network = from_linalg(text)
    assert patterns(network) == [OpPattern.ELEMWISE]
    (out,) = run_network(network, {})
    np.testing.assert_array_equal(out, np.ones((2, 3), np.float32))


def test_func_name_picks_one_of_several_public_functions() -> None:
    text = """
    func.func @first(%x: tensor<4xf32>) -> tensor<4xf32> {
      %e = tensor.empty() : tensor<4xf32>
      %r = linalg.exp ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
      func.return %r : tensor<4xf32>
    }
    func.func @second(%x: tensor<4xf32>) -> tensor<4xf32> {
      %e = tensor.empty() : tensor<4xf32>
      %r = linalg.sqrt ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
      func.return %r : tensor<4xf32>
    }
    """
    with pytest.raises(FrontendError, match=r"2 public functions .*func_name="):
        from_linalg(text)
    network = from_linalg(text, func_name="second")
    assert network.graph.sym_name.data == "second"
    x = RNG.random(4).astype(np.float32)
    np.testing.assert_allclose(run_network(network, {"x": x})[0], np.sqrt(x), rtol=1e-6)


def module(body: str, args: str = "%x: tensor<4x8xf32>", result: str = "tensor<4x8xf32>") -> str:
    return f"func.func @f({args}) -> {result} {{\n{body}\n}}"


EMPTY = "%e = tensor.empty() : tensor<4x8xf32>"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            module(
                f"""{EMPTY}
                %s = tensor.extract_slice %x[0, 0] [4, 8] [1, 1] : tensor<4x8xf32> to tensor<4x8xf32>
                func.return %s : tensor<4x8xf32>"""
            ),
            r"tensor.extract_slice %s is not supported",
        ),
        (
            module(
                f"""{EMPTY}
                %r = linalg.generic {{indexing_maps = [{ID2}, {ID2}], iterator_types = ["parallel", "parallel"]}}
                    ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {{
                ^bb0(%a: f32, %o: f32):
                  %s = math.sin %a : f32
                  linalg.yield %s : f32
                }} -> tensor<4x8xf32>
                func.return %r : tensor<4x8xf32>"""
            ),
            r"linalg.generic %r: math.sin in the body is not supported",
        ),
        (
            module(
                f"""{EMPTY}
                %r = linalg.add ins(%x, %e : tensor<4x8xf32>, tensor<4x8xf32>)
                                outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
                func.return %r : tensor<4x8xf32>"""
            ),
            r"linalg.add %r: reads %e, a tensor.empty whose elements are undefined",
        ),
        (
            module(
                """%e = tensor.empty() : tensor<4x4xf32>
                %r = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x4xf32>)
                                   outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
                func.return %r : tensor<4x4xf32>""",
                args="%x: tensor<4x8xf32>, %w: tensor<8x4xf32>",
                result="tensor<4x4xf32>",
            ),
            r"linalg.matmul %r: the reduction starts from %e, an uninitialized tensor.empty",
        ),
        (
            module(
                f"""%e = tensor.empty() : tensor<4xf32>
                %r = linalg.generic {{indexing_maps = [{ID2}, {ROWS}], iterator_types = ["parallel", "reduction"]}}
                    ins(%x : tensor<4x8xf32>) outs(%e : tensor<4xf32>) {{
                ^bb0(%a: f32, %o: f32):
                  %s = arith.subf %o, %a : f32
                  linalg.yield %s : f32
                }} -> tensor<4xf32>
                func.return %r : tensor<4xf32>""",
                result="tensor<4xf32>",
            ),
            r"linalg.generic %r: the body of a reduction must yield the accumulator combined",
        ),
        (
            module(
                """linalg.add ins(%x, %x : memref<4x8xf32>, memref<4x8xf32>) outs(%x : memref<4x8xf32>)
                func.return""",
                args="%x: memref<4x8xf32>",
                result="()",
            ),
            r"argument x: memref<4x8xf32> is not a tensor \(networks compute on tensors\)",
        ),
        (
            module("func.return %x : tensor<?x8xf32>", args="%x: tensor<?x8xf32>", result="tensor<?x8xf32>"),
            r"argument x: tensor<\?x8xf32> has a dynamic shape",
        ),
        (
            module(
                """%p = tensor.pad %x low[1, 0] high[0, 0] {
                ^bb0(%i: index, %j: index):
                  %v = arith.index_cast %i : index to i32
                  %f = arith.sitofp %v : i32 to f32
                  tensor.yield %f : f32
                } : tensor<4x8xf32> to tensor<5x8xf32>
                func.return %p : tensor<5x8xf32>""",
                result="tensor<5x8xf32>",
            ),
            r"tensor.pad %p: the padding value must be a scalar arith.constant",
        ),
    ],
)
def test_unsupported_input_is_a_frontend_error(text: str, message: str) -> None:
    with pytest.raises(FrontendError, match=message):
        from_linalg(text)


def test_bad_params_are_frontend_errors() -> None:
    text = module("func.return %x : tensor<4x8xf32>")
    with pytest.raises(
        FrontendError, match=r"params names nope, not arguments of the function \(arguments: x\)"
    ):
        from_linalg(text, params={"nope": np.zeros(3)})
    with pytest.raises(
        FrontendError, match=r"parameter x is float64\[4, 8\], the argument is float32\[4, 8\]"
    ):
        from_linalg(text, params={"x": np.zeros((4, 8))})


def test_unparsable_text_is_a_frontend_error() -> None:
    with pytest.raises(FrontendError, match="cannot parse the linalg module"):
        from_linalg("func.func @f() { linalg.frobnicate }")

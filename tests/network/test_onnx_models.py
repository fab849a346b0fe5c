"""ONNX models end to end: extract_tasks and compile_model against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

import schedopt as ss

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from schedopt.frontend.model_zoo import resnet18  # noqa: E402  (needs onnx)


@pytest.fixture(scope="module")
def model():
    """ResNet-18 on 32 x 32 images with 10 classes: every kind of block, small enough to compile fast."""
    return resnet18(batch=1, image=32, classes=10)


def onnxruntime_outputs(model, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


def test_resnet_tasks_dedup_its_repeated_blocks(model):
    tasks, weights = ss.extract_tasks(model)
    assert len(tasks) == len(weights) == len({t.workload_key for t in tasks})
    # Each stage repeats its 3x3 convolution (+ReLU, +residual): some tasks are called twice.
    assert 2 in weights
    assert all(t.layout_rewrite_option == ss.LayoutRewriteOption.REWRITE_FOR_PRE_TRANSFORMED for t in tasks)
    every, every_weight = ss.extract_tasks(model, include_simple_tasks=True)
    assert len(every) > len(tasks) and sum(every_weight) > sum(weights)


def test_resnet_compiled_matches_onnxruntime(model, tmp_path):
    path = tmp_path / "resnet18.onnx"
    onnx.save(model, path)
    compiled = ss.compile_model(path, hardware_params=ss.HardwareParams(num_cores=2))
    assert [i.name for i in compiled.inputs] == ["data"]
    assert compiled.num_buffers < compiled.num_intermediates
    images = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    (got,) = compiled(images)
    (want,) = onnxruntime_outputs(model, {"data": images})
    assert got.shape == want.shape == (1, 10)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_resnet18_full_size_tasks_and_weights():
    """ResNet-18 at 224 x 224: 20 convolutions, two pools and the dense layer make 18 tasks, 23 calls."""
    tasks, weights = ss.extract_tasks(resnet18())
    # conv1 (7x7) + relu, the max pool, then per stage: layer1 twice [3x3 + relu, 3x3 + add + relu];
    # layers 2-4 each [3x3/2 + relu, 1x1/2 downsample, 3x3 + add + relu (twice), 3x3 + relu]; pool, dense
    expected = [1, 1, 2, 2] + [1, 1, 2, 1] * 3 + [1, 1]
    assert weights == expected
    names = [t.desc.split(",")[0] for t in tasks]
    assert names[0].startswith("fused_conv2d") and "max_pool" in names[1] and names[-1].startswith("dense")
    convolutions = [weight for name, weight in zip(names, weights, strict=True) if "conv2d" in name]
    assert len(convolutions) == 15 and sum(convolutions) == 20


def test_mobilenet_v2_small_compiled_matches_onnxruntime():
    from schedopt.frontend.model_zoo import mobilenet_v2

    model = mobilenet_v2(batch=1, image=32, classes=10)
    tasks, weights = ss.extract_tasks(model)
    assert len(tasks) > 10 and sum(weights) > len(tasks)  # inverted residual blocks repeat
    compiled = ss.compile_model(model, hardware_params=ss.HardwareParams(num_cores=2))
    images = np.random.default_rng(1).standard_normal((1, 3, 32, 32)).astype(np.float32)
    (got,) = compiled(images)
    (want,) = onnxruntime_outputs(model, {compiled.inputs[0].name: images})
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3 * float(np.abs(want).max()))


def test_bert_layer_small_compiled_matches_onnxruntime():
    from schedopt.frontend.model_zoo import bert_layer

    model = bert_layer(batch=1, seq=16, hidden=64, heads=4)
    tasks, _ = ss.extract_tasks(model)
    assert tasks
    compiled = ss.compile_model(model, hardware_params=ss.HardwareParams(num_cores=2))
    rng = np.random.default_rng(2)
    inputs = [rng.standard_normal(spec.shape).astype(spec.dtype) for spec in compiled.inputs]
    got = compiled(*inputs)
    want = onnxruntime_outputs(
        model, {spec.name: value for spec, value in zip(compiled.inputs, inputs, strict=True)}
    )
    for have, expected in zip(got, want, strict=True):
        np.testing.assert_allclose(have, expected, rtol=1e-3, atol=1e-3 * float(np.abs(expected).max()))

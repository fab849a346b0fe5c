"""Reference networks as ONNX models, built in code: ResNet-18, MobileNetV2 and a BERT encoder layer.

These are the networks TVM's auto-scheduler papers and tutorials tune, with
their real shapes, so network benchmarks need no downloads. Weights are
random (seeded), scaled as He et al. (convolutions before ReLU) or LeCun
(the attention and feed-forward products) so that activations stay of order
one through the whole network; batch-norm statistics are random but
well-conditioned. Every model is opset 17 and passes `onnx.checker` with
full shape inference.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from schedopt.errors import FrontendError

OPSET = 17
"""The operator set of every model here."""


class _ModelBuilder:
    """Nodes and initializers of one graph, with unique names and seeded weights."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.counts: dict[str, int] = {}
        self.shared: dict[str, str] = {}

    def _name(self, base: str) -> str:
        count = self.counts.get(base, 0)
        self.counts[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def constant(self, name: str, value: np.ndarray) -> str:
        name = self._name(name)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def shared_constant(self, name: str, value: np.ndarray) -> str:
        """One initializer `name` for all the nodes that use this value (ReLU6's bounds)."""
        if name not in self.shared:
            self.shared[name] = self.constant(name, value)
        return self.shared[name]

    def weight(self, name: str, shape: tuple[int, ...], fan_in: int, gain: float = 2.0) -> str:
        """Normal weights of variance gain / fan_in (He for ReLU networks with gain 2)."""
        std = math.sqrt(gain / fan_in)
        return self.constant(name, (self.rng.standard_normal(shape) * std).astype(np.float32))

    def small(self, name: str, shape: tuple[int, ...], scale: float = 0.1) -> str:
        return self.constant(name, (self.rng.standard_normal(shape) * scale).astype(np.float32))

    def node(self, op_type: str, inputs: list[str], name: str, **attrs: object) -> str:
        name = self._name(name)
        node = helper.make_node(op_type, inputs, [name], name=name)
        # as make_node(**attrs) would, without passing attributes as its keyword parameters
        node.attribute.extend(helper.make_attribute(k, v) for k, v in sorted(attrs.items()) if v is not None)
        self.nodes.append(node)
        return name

    def model(
        self, name: str, inputs: list[onnx.ValueInfoProto], outputs: list[onnx.ValueInfoProto]
    ) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="sched-opt"
        )
        onnx.checker.check_model(model, full_check=True)
        return model

    # --- layers ---------------------------------------------------------------------------

    def conv_bn(
        self,
        x: str,
        in_channels: int,
        out_channels: int,
        kernel: int,
        stride: int,
        name: str,
        groups: int = 1,
    ) -> str:
        """Conv (no bias, "same" padding) then BatchNormalization, as torchvision's blocks."""
        fan_in = in_channels // groups * kernel * kernel
        weight = self.weight(f"{name}.weight", (out_channels, in_channels // groups, kernel, kernel), fan_in)
        pad = kernel // 2
        conv = self.node(
            "Conv",
            [x, weight],
            f"{name}.conv",
            kernel_shape=[kernel, kernel],
            strides=[stride, stride],
            pads=[pad, pad, pad, pad],
            group=groups,
        )
        gamma = self.constant(
            f"{name}.bn.weight", self.rng.uniform(0.5, 1.0, out_channels).astype(np.float32)
        )
        beta = self.small(f"{name}.bn.bias", (out_channels,))
        mean = self.small(f"{name}.bn.running_mean", (out_channels,))
        var = self.constant(
            f"{name}.bn.running_var", self.rng.uniform(0.5, 1.5, out_channels).astype(np.float32)
        )
        return self.node("BatchNormalization", [conv, gamma, beta, mean, var], f"{name}.bn", epsilon=1e-5)

    def relu6(self, x: str, name: str) -> str:
        low = self.shared_constant("relu6.min", np.array(0.0, np.float32))
        high = self.shared_constant("relu6.max", np.array(6.0, np.float32))
        return self.node("Clip", [x, low, high], name)

    def classifier(self, x: str, in_features: int, classes: int) -> str:
        """Global average pooling, Flatten and a fully connected Gemm (weight classes x in_features)."""
        pooled = self.node("GlobalAveragePool", [x], "avgpool")
        flat = self.node("Flatten", [pooled], "flatten", axis=1)
        weight = self.weight("fc.weight", (classes, in_features), in_features, gain=1.0)
        bias = self.small("fc.bias", (classes,))
        return self.node("Gemm", [flat, weight, bias], "fc", transB=1)

    def linear(self, x: str, in_features: int, out_features: int, name: str) -> str:
        """x @ W + b with W in_features x out_features (MatMul then Add, as PyTorch exports nn.Linear on 3-D input)."""
        weight = self.weight(f"{name}.weight", (in_features, out_features), in_features, gain=1.0)
        bias = self.small(f"{name}.bias", (out_features,), 0.02)
        product = self.node("MatMul", [x, weight], f"{name}.matmul")
        return self.node("Add", [product, bias], f"{name}.add")

    def layer_norm(self, x: str, hidden: int, name: str) -> str:
        gamma = self.constant(f"{name}.weight", self.rng.uniform(0.8, 1.2, hidden).astype(np.float32))
        beta = self.small(f"{name}.bias", (hidden,), 0.02)
        return self.node("LayerNormalization", [x, gamma, beta], name, axis=-1, epsilon=1e-12)


def _image_input(batch: int, image: int) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info("data", TensorProto.FLOAT, [batch, 3, image, image])


def resnet18(batch: int = 1, image: int = 224, classes: int = 1000, seed: int = 0) -> onnx.ModelProto:
    """torchvision's ResNet-18 (basic blocks, 1x1 downsampling shortcuts) on batch x 3 x image x image.

    Input `data`, output `output` (batch x classes). The residual Add takes
    the block's main path first, the shortcut second, as PyTorch exports it.
    """
    b = _ModelBuilder(seed)
    x = b.conv_bn("data", 3, 64, 7, 2, "conv1")
    x = b.node("Relu", [x], "relu")
    x = b.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    channels = 64
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            name = f"layer{stage}.{block}"
            out = b.node("Relu", [b.conv_bn(x, channels, width, 3, stride, f"{name}.conv1")], f"{name}.relu1")
            out = b.conv_bn(out, width, width, 3, 1, f"{name}.conv2")
            shortcut = x
            if stride != 1 or channels != width:
                shortcut = b.conv_bn(x, channels, width, 1, stride, f"{name}.downsample")
            x = b.node("Relu", [b.node("Add", [out, shortcut], f"{name}.add")], f"{name}.relu2")
            channels = width
    logits = b.classifier(x, channels, classes)
    output = b.node("Identity", [logits], "output")
    return b.model("resnet18", [_image_input(batch, image)], [_output(output, [batch, classes])])


_MOBILENET_V2_BLOCKS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
"""(expansion t, output channels c, repeats n, first stride s) of each stage, as in the paper and torchvision."""


def mobilenet_v2(batch: int = 1, image: int = 224, classes: int = 1000, seed: int = 0) -> onnx.ModelProto:
    """torchvision's MobileNetV2 (width 1.0): inverted residual blocks with depthwise 3x3 convolutions and ReLU6.

    Input `data`, output `output` (batch x classes). ReLU6 is Clip(0, 6);
    the classifier's dropout (an identity at inference) is left out.
    """
    b = _ModelBuilder(seed)
    x = b.relu6(b.conv_bn("data", 3, 32, 3, 2, "features.0"), "features.0.relu6")
    channels = 32
    index = 1
    for expansion, width, repeats, first_stride in _MOBILENET_V2_BLOCKS:
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            name = f"features.{index}"
            hidden = channels * expansion
            out = x
            if expansion != 1:
                out = b.relu6(
                    b.conv_bn(out, channels, hidden, 1, 1, f"{name}.expand"), f"{name}.expand.relu6"
                )
            out = b.relu6(
                b.conv_bn(out, hidden, hidden, 3, stride, f"{name}.depthwise", groups=hidden),
                f"{name}.depthwise.relu6",
            )
            out = b.conv_bn(out, hidden, width, 1, 1, f"{name}.project")
            if stride == 1 and channels == width:
                out = b.node("Add", [out, x], f"{name}.add")
            x, channels = out, width
            index += 1
    x = b.relu6(b.conv_bn(x, channels, 1280, 1, 1, f"features.{index}"), f"features.{index}.relu6")
    logits = b.classifier(x, 1280, classes)
    output = b.node("Identity", [logits], "output")
    return b.model("mobilenet_v2", [_image_input(batch, image)], [_output(output, [batch, classes])])


def bert_layer(
    batch: int = 1, seq: int = 128, hidden: int = 768, heads: int = 12, seed: int = 0
) -> onnx.ModelProto:
    """One BERT encoder layer (BERT-base by default), as PyTorch exports it with a static shape.

    Input `hidden_states` and output `output`, both batch x seq x hidden.
    Self-attention: Q, K, V projections (MatMul + Add), heads split by
    Reshape and Transpose, scores Q K^T / sqrt(head size), Softmax,
    the weighted sum of V, heads merged, the output projection, the residual
    and LayerNormalization; then the feed-forward block (4 x hidden) with
    GELU in its erf form, its residual and LayerNormalization.
    """
    if hidden % heads:
        raise FrontendError(f"bert_layer: hidden={hidden} is not a multiple of heads={heads}")
    head_size = hidden // heads
    b = _ModelBuilder(seed)
    x = "hidden_states"
    split_shape = b.constant("split_heads.shape", np.array([batch, seq, heads, head_size], np.int64))
    merge_shape = b.constant("merge_heads.shape", np.array([batch, seq, hidden], np.int64))

    def heads_of(name: str, perm: list[int]) -> str:
        projected = b.linear(x, hidden, hidden, f"attention.{name}")
        split = b.node("Reshape", [projected, split_shape], f"attention.{name}.reshape")
        return b.node("Transpose", [split], f"attention.{name}.transpose", perm=perm)

    query = heads_of("query", [0, 2, 1, 3])  # batch x heads x seq x head_size
    key = heads_of("key", [0, 2, 3, 1])  # batch x heads x head_size x seq
    value = heads_of("value", [0, 2, 1, 3])
    scores = b.node("MatMul", [query, key], "attention.scores")
    scale = b.constant("attention.scale", np.array(math.sqrt(head_size), np.float32))
    scores = b.node("Div", [scores, scale], "attention.scaled")
    probs = b.node("Softmax", [scores], "attention.softmax", axis=-1)
    context = b.node("MatMul", [probs, value], "attention.context")
    context = b.node("Transpose", [context], "attention.context.transpose", perm=[0, 2, 1, 3])
    context = b.node("Reshape", [context, merge_shape], "attention.context.reshape")
    attention = b.linear(context, hidden, hidden, "attention.output")
    attention = b.node("Add", [attention, x], "attention.residual")
    attention = b.layer_norm(attention, hidden, "attention.layer_norm")

    inner = b.linear(attention, hidden, 4 * hidden, "intermediate")
    root2 = b.constant("gelu.sqrt2", np.array(math.sqrt(2.0), np.float32))
    one = b.constant("gelu.one", np.array(1.0, np.float32))
    half = b.constant("gelu.half", np.array(0.5, np.float32))
    erf = b.node("Erf", [b.node("Div", [inner, root2], "intermediate.gelu.div")], "intermediate.gelu.erf")
    gelu = b.node("Add", [erf, one], "intermediate.gelu.add")
    gelu = b.node("Mul", [gelu, inner], "intermediate.gelu.mul")
    gelu = b.node("Mul", [gelu, half], "intermediate.gelu.half")
    ffn = b.linear(gelu, 4 * hidden, hidden, "output")
    ffn = b.node("Add", [ffn, attention], "output.residual")
    out = b.layer_norm(ffn, hidden, "output.layer_norm")
    output = b.node("Identity", [out], "output")
    shape = [batch, seq, hidden]
    return b.model(
        "bert_layer",
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, shape)],
        [_output(output, shape)],
    )


def _output(name: str, shape: list[int]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)

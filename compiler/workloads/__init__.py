"""The workload library: common tensor programs, registered under their names.

Importing `schedopt.workloads` registers every workload below with
`register_workload`, so their keys (`make_workload_key("matmul", (64, 64,
64))`) can be turned back into tensors. Each returns `[inputs..., outputs...]`
as te tensors, with topi's stage names and layouts; see each function's
docstring for its layout. Beside each te definition its family module writes
the workload's numpy reference and baseline (`library`), which `reference`
and `baseline` look up by name.
"""

from schedopt.workloads.conv2d import (
    conv2d_bn_relu,
    conv2d_bn_residual_relu,
    conv2d_nchw,
    conv2d_nhwc,
    conv2d_transpose_nchw,
    conv2d_winograd_nhwc,
    depthwise_conv2d_nchw,
)
from schedopt.workloads.elementwise import add, elementwise_chain
from schedopt.workloads.library import WORKLOADS, LibraryWorkload, baseline, reference
from schedopt.workloads.matmul import batch_matmul, dense_bias_relu, matmul
from schedopt.workloads.normalization import layer_norm, softmax
from schedopt.workloads.pool import avg_pool2d, max_pool2d

__all__ = [
    "WORKLOADS",
    "LibraryWorkload",
    "add",
    "avg_pool2d",
    "baseline",
    "batch_matmul",
    "conv2d_bn_relu",
    "conv2d_bn_residual_relu",
    "conv2d_nchw",
    "conv2d_nhwc",
    "conv2d_transpose_nchw",
    "conv2d_winograd_nhwc",
    "dense_bias_relu",
    "depthwise_conv2d_nchw",
    "elementwise_chain",
    "layer_norm",
    "matmul",
    "max_pool2d",
    "reference",
    "softmax",
]

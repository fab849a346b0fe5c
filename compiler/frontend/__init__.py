"""Whole networks: the network module convention and the front ends that produce it.

A network is an xDSL module of operator functions (te functions, one per
operator or fused group) and one graph function that calls them
(`schedopt.frontend.network`). Front ends (ONNX, linalg) build such modules;
`schedopt.passes.fuse_ops` fuses their operators; task extraction and
`compile_model` consume them. `load_network` takes a model in any of these
forms; it imports a front end only for a model of its kind, and this package
imports no other submodule, so using one front end never pulls in another's
dependencies.
"""

from schedopt.frontend.loading import load_network

__all__ = ["load_network"]

"""Build functions that inject each failure mode of a measurement, for `LocalBuilder(build_func=...)`.

They are module-level so that the builder's worker processes can import
them by name. Each returns LLVM IR text for the kernel `@dag.func_name`
(taking one pointer per argument), or fails the way its name says.
"""

from __future__ import annotations

import ctypes
import time

from schedopt import te
from schedopt.build import argument_specs, build_llvm_ir
from schedopt.compute_dag import ComputeDAG
from schedopt.measurement import default_build_func
from schedopt.schedule.loop_state import State
from schedopt.te import build_te_module


def _kernel(dag: ComputeDAG, body: str) -> str:
    params = ", ".join(f"ptr %a{i}" for i in range(len(argument_specs(dag))))
    return f"define void @{dag.func_name}({params}) {{\n{body}\n}}\n"


def segfaulting_kernel(dag: ComputeDAG, state: State, target: str) -> str:
    """A kernel that writes to address 8."""
    return _kernel(dag, "entry:\n  store volatile i32 0, ptr inttoptr (i64 8 to ptr)\n  ret void")


def hanging_kernel(dag: ComputeDAG, state: State, target: str) -> str:
    """A kernel that never returns."""
    return _kernel(dag, "entry:\n  br label %loop\nloop:\n  br label %loop")


def idle_kernel(dag: ComputeDAG, state: State, target: str) -> str:
    """A kernel that leaves its outputs unwritten."""
    return _kernel(dag, "entry:\n  ret void")


def transposed_matmul(dag: ComputeDAG, state: State, target: str) -> str:
    """A valid kernel of the same signature that computes A @ B^T instead of A @ B (square matmuls)."""
    (n, k), (_, m) = (dag.op(name).shape for name in dag.placeholder_names)
    A = te.placeholder((n, k), name="A")
    B = te.placeholder((m, k), name="B")
    r = te.reduce_axis((0, k), name="k")
    C = te.compute((n, m), lambda i, j: te.sum(A[i, r] * B[j, r], axis=r), name="C")
    wrong = ComputeDAG(build_te_module([A, B, C], dag.func_name))
    return build_llvm_ir(wrong, None, target)


def invalid_ir(dag: ComputeDAG, state: State, target: str) -> str:
    """Text LLVM rejects."""
    return _kernel(dag, "entry:\n  %x = add i32 %undefined, 1\n  ret void")


def crashing_compiler(dag: ComputeDAG, state: State, target: str) -> str:
    """A compiler that segfaults on any scheduled program (the unscheduled one builds)."""
    if state.transform_steps:
        ctypes.string_at(0)
    return default_build_func(dag, state, target)


def hanging_compiler(dag: ComputeDAG, state: State, target: str) -> str:
    """A compiler that never finishes a scheduled program (the unscheduled one builds)."""
    while state.transform_steps:
        time.sleep(1)
    return default_build_func(dag, state, target)

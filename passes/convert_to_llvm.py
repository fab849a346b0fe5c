"""`convert-to-llvm`: everything to the `llvm` dialect, as upstream MLIR's umbrella pass.

Runs, in order: xDSL's `convert-scf-to-openmp` and `convert-openmp-to-gomp`
(parallel loops to calls of the OpenMP runtime), xDSL's `convert-scf-to-cf`,
`finalize-memref-to-llvm`, `convert-vector-to-llvm`, `convert-math-to-llvm`,
`convert-arith-to-llvm`, `convert-cf-to-llvm`, `convert-func-to-llvm`, then
xDSL's `reconcile-unrealized-casts` and `dce`. Afterwards a module of
func/scf/cf/arith/math/memref/vector (1-D vectors)/omp holds only llvm ops,
ready for xDSL's LLVM backend (`-t llvm`) or `schedopt.runtime.compile_module`.
An op left unconverted raises `LoweringError` naming it, rather than
surfacing later as a backend failure.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr, UnrealizedConversionCastOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.transforms.convert_scf_to_cf import ConvertScfToCf
from xdsl.transforms.convert_scf_to_openmp import ConvertScfToOpenMPPass
from xdsl.transforms.dead_code_elimination import DeadCodeElimination
from xdsl.transforms.reconcile_unrealized_casts import ReconcileUnrealizedCastsPass

from schedopt.errors import LoweringError
from schedopt.passes.convert_arith_to_llvm import ConvertArithToLLVMPass
from schedopt.passes.convert_cf_to_llvm import ConvertCfToLLVMPass
from schedopt.passes.convert_func_to_llvm import ConvertFuncToLLVMPass
from schedopt.passes.convert_math_to_llvm import ConvertMathToLLVMPass
from schedopt.passes.convert_openmp_to_gomp import ConvertOpenMPToGompPass
from schedopt.passes.convert_vector_to_llvm import ConvertVectorToLLVMPass
from schedopt.passes.finalize_memref_to_llvm import FinalizeMemRefToLLVMPass


def run_conversions_to_llvm(ctx: Context, module: ModuleOp, conversions: Sequence[ModulePass]) -> None:
    """Apply `conversions`, then reconcile the casts between them, remove dead code and check.

    Raises `LoweringError` (see `check_llvm_only`) when anything but llvm ops remains.
    """
    for pass_ in (*conversions, ReconcileUnrealizedCastsPass(), DeadCodeElimination()):
        pass_.apply(ctx, module)
    check_llvm_only(module)


def check_llvm_only(module: ModuleOp) -> None:
    """Raise `LoweringError` naming the first op that is not in the llvm dialect.

    An op with no conversion is named before any cast left around it, since
    the casts only say that something next to them was not converted.
    """
    leftovers = [op for op in module.walk() if op is not module and op.dialect_name() != "llvm"]
    if not leftovers:
        return
    unconverted = [op for op in leftovers if not isinstance(op, UnrealizedConversionCastOp)]
    if unconverted:
        op = unconverted[0]
        raise LoweringError(
            f"convert-to-llvm: {op.name}{_in_function(op)} has no conversion to the llvm dialect"
        )
    cast = leftovers[0]
    raise LoweringError(
        f"convert-to-llvm: a cast from {', '.join(map(str, cast.operand_types))} to "
        f"{', '.join(map(str, cast.result_types))}{_in_function(cast)} could not be reconciled"
    )


def _in_function(op: Operation) -> str:
    """' in @name' for the symbol (function) directly in the module that holds `op`."""
    top = op
    while (parent := top.parent_op()) is not None and not isinstance(parent, ModuleOp):
        top = parent
    name = top.properties.get("sym_name")
    return f" in @{name.data}" if isinstance(name, StringAttr) else ""


@dataclass(frozen=True)
class ConvertToLLVMPass(ModulePass):
    """Convert func, scf, cf, arith, math, memref, vector and omp ops to the llvm dialect.

    Options:

    - alignment: int = 64: passed to `finalize-memref-to-llvm` (least
      alignment of allocated buffers, in bytes).
    """

    name = "convert-to-llvm"

    alignment: int = 64

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        conversions: tuple[ModulePass, ...] = (
            ConvertScfToOpenMPPass(),
            ConvertOpenMPToGompPass(),
            ConvertScfToCf(),
            FinalizeMemRefToLLVMPass(alignment=self.alignment),
            ConvertVectorToLLVMPass(),
            ConvertMathToLLVMPass(),
            ConvertArithToLLVMPass(),
            ConvertCfToLLVMPass(),
            ConvertFuncToLLVMPass(),
        )
        run_conversions_to_llvm(ctx, op, conversions)

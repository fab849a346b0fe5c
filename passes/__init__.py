"""ModulePasses of sched-opt.

`get_all_passes` maps each pass name to a lazy factory, sorted by name, as
`xdsl.transforms.get_all_passes` does: importing this package imports no pass.
"""

from collections.abc import Callable

from xdsl.passes import ModulePass


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Name -> factory of every pass sched-opt defines."""

    def get_apply_history_best():
        from schedopt.passes.apply_history_best import ApplyHistoryBestPass

        return ApplyHistoryBestPass

    def get_auto_schedule():
        from schedopt.passes.auto_schedule import AutoSchedulePass

        return AutoSchedulePass

    def get_apply_schedule():
        from schedopt.passes.apply_schedule import ApplySchedulePass

        return ApplySchedulePass

    def get_convert_arith_to_llvm():
        from schedopt.passes.convert_arith_to_llvm import ConvertArithToLLVMPass

        return ConvertArithToLLVMPass

    def get_convert_bound_loops_to_gpu():
        from schedopt.passes.convert_bound_loops_to_gpu import ConvertBoundLoopsToGPUPass

        return ConvertBoundLoopsToGPUPass

    def get_convert_cf_to_llvm():
        from schedopt.passes.convert_cf_to_llvm import ConvertCfToLLVMPass

        return ConvertCfToLLVMPass

    def get_convert_func_to_llvm():
        from schedopt.passes.convert_func_to_llvm import ConvertFuncToLLVMPass

        return ConvertFuncToLLVMPass

    def get_convert_gpu_to_cpu():
        from schedopt.passes.convert_gpu_to_cpu import ConvertGPUToCPUPass

        return ConvertGPUToCPUPass

    def get_convert_gpu_to_nvvm():
        from schedopt.passes.convert_gpu_to_nvvm import ConvertGPUToNVVMPass

        return ConvertGPUToNVVMPass

    def get_convert_math_to_llvm():
        from schedopt.passes.convert_math_to_llvm import ConvertMathToLLVMPass

        return ConvertMathToLLVMPass

    def get_convert_vector_to_llvm():
        from schedopt.passes.convert_vector_to_llvm import ConvertVectorToLLVMPass

        return ConvertVectorToLLVMPass

    def get_convert_openmp_to_gomp():
        from schedopt.passes.convert_openmp_to_gomp import ConvertOpenMPToGompPass

        return ConvertOpenMPToGompPass

    def get_convert_to_llvm():
        from schedopt.passes.convert_to_llvm import ConvertToLLVMPass

        return ConvertToLLVMPass

    def get_finalize_memref_to_llvm():
        from schedopt.passes.finalize_memref_to_llvm import FinalizeMemRefToLLVMPass

        return FinalizeMemRefToLLVMPass

    def get_fuse_ops():
        from schedopt.passes.fuse_ops import FuseOpsPass

        return FuseOpsPass

    def get_lower_to_llvm():
        from schedopt.passes.lower_to_llvm import LowerToLLVMPass

        return LowerToLLVMPass

    def get_lower_to_nvptx():
        from schedopt.passes.lower_to_nvptx import LowerToNVPTXPass

        return LowerToNVPTXPass

    def get_math_polynomial_approximation():
        from schedopt.passes.math_polynomial_approximation import MathPolynomialApproximationPass

        return MathPolynomialApproximationPass

    def get_measure():
        from schedopt.passes.measure import MeasurePass

        return MeasurePass

    def get_memref_forwarding():
        from schedopt.passes.memref_forwarding import MemrefForwardingPass

        return MemrefForwardingPass

    def get_parallelize_annotated_loops():
        from schedopt.passes.parallelize_annotated_loops import ParallelizeAnnotatedLoopsPass

        return ParallelizeAnnotatedLoopsPass

    def get_te_lower():
        from schedopt.passes.te_lower import TeLowerPass

        return TeLowerPass

    def get_train_cost_model():
        from schedopt.passes.train_cost_model import TrainCostModelPass

        return TrainCostModelPass

    def get_unroll_annotated_loops():
        from schedopt.passes.unroll_annotated_loops import UnrollAnnotatedLoopsPass

        return UnrollAnnotatedLoopsPass

    def get_vectorize_annotated_loops():
        from schedopt.passes.vectorize_annotated_loops import VectorizeAnnotatedLoopsPass

        return VectorizeAnnotatedLoopsPass

    return {
        "apply-history-best": get_apply_history_best,
        "apply-schedule": get_apply_schedule,
        "auto-schedule": get_auto_schedule,
        "convert-arith-to-llvm": get_convert_arith_to_llvm,
        "convert-bound-loops-to-gpu": get_convert_bound_loops_to_gpu,
        "convert-cf-to-llvm": get_convert_cf_to_llvm,
        "convert-func-to-llvm": get_convert_func_to_llvm,
        "convert-gpu-to-cpu": get_convert_gpu_to_cpu,
        "convert-gpu-to-nvvm": get_convert_gpu_to_nvvm,
        "convert-math-to-llvm": get_convert_math_to_llvm,
        "convert-openmp-to-gomp": get_convert_openmp_to_gomp,
        "convert-to-llvm": get_convert_to_llvm,
        "convert-vector-to-llvm": get_convert_vector_to_llvm,
        "finalize-memref-to-llvm": get_finalize_memref_to_llvm,
        "fuse-ops": get_fuse_ops,
        "lower-to-llvm": get_lower_to_llvm,
        "lower-to-nvptx": get_lower_to_nvptx,
        "math-polynomial-approximation": get_math_polynomial_approximation,
        "measure": get_measure,
        "memref-forwarding": get_memref_forwarding,
        "parallelize-annotated-loops": get_parallelize_annotated_loops,
        "te-lower": get_te_lower,
        "train-cost-model": get_train_cost_model,
        "unroll-annotated-loops": get_unroll_annotated_loops,
        "vectorize-annotated-loops": get_vectorize_annotated_loops,
    }

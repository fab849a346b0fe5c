"""PTX from the kernels of a `gpu.module` in the `llvm` dialect, through llvmlite's NVPTX target.

`device_llvm_ir` translates the kernels `convert-gpu-to-nvvm` produced to
LLVM IR for `nvptx64-nvidia-cuda` (xDSL's LLVM backend, then the
`ptx_kernel` calling convention on the functions marked `nvvm.kernel`
and the alignment of globals, which the backend does not carry over, and
the address spaces of its
getelementptrs, see `keep_address_spaces`); `emit_ptx` optimises it at O3 and
prints PTX for an `sm_XX` architecture; `check_with_ptxas` assembles that
PTX with NVIDIA's `ptxas`, where it is installed, and turns its complaint
into a `CompileError` naming the kernels.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import llvmlite.binding as llvm
import llvmlite.ir as ir
from xdsl.backend.llvm.convert import convert_module
from xdsl.dialects import gpu
from xdsl.dialects import llvm as llvm_dialect
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import LLVMTranslationException

from schedopt.errors import CompileError
from schedopt.passes.convert_gpu_to_nvvm import is_kernel

NVPTX_TRIPLE = "nvptx64-nvidia-cuda"
DEFAULT_ARCH = "sm_80"
"""The architecture PTX is generated for unless one is given (an A100-class GPU)."""

PTXAS_TIMEOUT_S = 60


def _check_arch(arch: str) -> None:
    if re.fullmatch(r"sm_\d+a?", arch) is None or int(re.sub(r"\D", "", arch)) < 80:
        raise CompileError(f"unsupported GPU architecture {arch!r} (sm_80 and up, like 'sm_80' or 'sm_90')")


@functools.cache
def nvptx_target_machine(arch: str = DEFAULT_ARCH, opt_level: int = 3) -> llvm.TargetMachine:
    """LLVM's NVPTX target machine for `arch`."""
    _check_arch(arch)
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    return llvm.Target.from_triple(NVPTX_TRIPLE).create_target_machine(cpu=arch, opt=opt_level)


def device_modules(module: ModuleOp) -> list[gpu.ModuleOp]:
    """The `gpu.module`s of `module`."""
    return [op for op in module.walk() if isinstance(op, gpu.ModuleOp)]


def kernel_names(module: ModuleOp) -> list[str]:
    """The kernels (functions marked `nvvm.kernel`) of the converted `gpu.module`s of `module`."""
    return [op.sym_name.data for op in module.walk() if isinstance(op, llvm_dialect.FuncOp) and is_kernel(op)]


def device_llvm_ir(module: ModuleOp) -> str:
    """The LLVM IR of the kernels of every `gpu.module` of `module` (converted by `convert-gpu-to-nvvm`)."""
    device = ModuleOp(
        [op.clone() for gpu_module in device_modules(module) for op in gpu_module.body.block.ops]
    )
    if device.body.block.first_op is None:
        raise CompileError(
            "the module has no gpu.module with kernels to compile to PTX (lower it with lower-to-nvptx first)"
        )
    machine = nvptx_target_machine()
    try:
        ir_module = convert_module(
            device, fallback_target_triple=NVPTX_TRIPLE, data_layout=str(machine.target_data)
        )
    except (LLVMTranslationException, NotImplementedError, KeyError, TypeError) as error:
        raise CompileError(
            f"cannot translate the GPU kernels to LLVM IR: {error} (lower them with lower-to-nvptx first)"
        ) from error
    for name in kernel_names(device):
        kernel = ir_module.get_global(name)
        assert isinstance(kernel, ir.Function), f"the kernel @{name} translates to an LLVM function"
        kernel.calling_convention = "ptx_kernel"
    for op in device.body.block.ops:
        if isinstance(op, llvm_dialect.GlobalOp) and op.alignment is not None:
            variable = ir_module.get_global(op.sym_name.data)
            assert isinstance(variable, ir.GlobalVariable), (
                f"@{op.sym_name.data} translates to a global variable"
            )
            variable.align = op.alignment.value.data
    keep_address_spaces(ir_module)
    return str(ir_module)


def keep_address_spaces(module: ir.Module) -> None:
    """Put the pointer casts and getelementptrs xDSL's backend emits back in their base's address space.

    The backend translates `llvm.getelementptr` as a bitcast of the base to
    a pointer in address space 0, then a getelementptr on it: from global
    (1) or shared (3) memory, a cast LLVM refuses. Retyping the cast (a
    no-op between pointers of one address space) and the getelementptr
    keeps the address in the base's space.
    """
    changed = True
    while changed:
        changed = False
        for function in module.functions:
            for block in function.blocks:
                for instruction in block.instructions:
                    if instruction.opname not in ("bitcast", "getelementptr"):
                        continue
                    base = instruction.operands[0].type
                    target = instruction.type
                    if not isinstance(base, ir.PointerType) or not isinstance(target, ir.PointerType):
                        continue
                    if base.addrspace == target.addrspace:
                        continue
                    pointee = getattr(target, "pointee", None)
                    instruction.type = ir.PointerType(pointee, addrspace=base.addrspace)
                    changed = True


def emit_ptx(llvm_ir: str, arch: str = DEFAULT_ARCH) -> str:
    """PTX for `arch` from the LLVM IR of GPU kernels, optimised at O3."""
    machine = nvptx_target_machine(arch)
    try:
        module = llvm.parse_assembly(llvm_ir)
        module.triple = NVPTX_TRIPLE
        module.data_layout = str(machine.target_data)
        module.verify()
    except RuntimeError as error:
        raise CompileError(f"LLVM rejected the GPU kernels: {error}") from error
    tuning = llvm.create_pipeline_tuning_options(speed_level=3)
    builder = llvm.create_pass_builder(machine, tuning)
    builder.getModulePassManager().run(module, builder)
    return machine.emit_assembly(module)


def ptxas_path() -> str | None:
    """Where `ptxas` is on PATH (None where it is not installed)."""
    return shutil.which("ptxas")


def check_with_ptxas(ptx: str, arch: str = DEFAULT_ARCH) -> None:
    """Assemble `ptx` for `arch` with `ptxas`; a `CompileError` naming the kernels if it refuses.

    Raises `CompileError` too when ptxas is not installed: callers that can
    do without it ask `ptxas_path()` first.
    """
    _check_arch(arch)
    ptxas = ptxas_path()
    if ptxas is None:
        raise CompileError("ptxas is not on PATH (it comes with the CUDA toolkit)")
    entries = ", ".join(re.findall(r"\.entry\s+(\w+)", ptx)) or "no kernel"
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "kernels.ptx"
        source.write_text(ptx)
        try:
            done = subprocess.run(
                [ptxas, f"-arch={arch}", str(source), "-o", str(Path(folder) / "kernels.cubin")],
                capture_output=True,
                text=True,
                timeout=PTXAS_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise CompileError(
                f"ptxas -arch={arch} on kernels {entries} took over {PTXAS_TIMEOUT_S} s"
            ) from error
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().replace(str(source), source.name)
        raise CompileError(f"ptxas -arch={arch} rejected kernels {entries}: {message}")

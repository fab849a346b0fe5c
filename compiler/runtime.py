"""The CPU runtime: compile an `llvm`-dialect module for the host, call it on numpy arrays.

`compile_module` translates a module (the output of `convert-to-llvm`) to LLVM
IR with xDSL's llvmlite backend, optimises it with LLVM's O3 pipeline for the
host CPU (its name and features, so AVX-512 is used where the host has it) and
JIT-compiles it with MCJIT. `CompiledModule.get_function` gives a `Kernel`: a
callable that checks numpy arrays against the kernel's `BufferSpec`s and
passes their data pointers, following the bare-pointer calling convention of
`convert-func-to-llvm` (every argument a pointer, no return value).

Parallel loops call the OpenMP runtime, libgomp (`convert-openmp-to-gomp`):
a module that does is compiled after `openmp_runtime` loads the library
into the process, where MCJIT finds its symbols, and its kernels set the
size of the thread team before each call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn, TypeGuard

import llvmlite.binding as llvm
import numpy as np
from xdsl.backend.llvm.convert import convert_module
from xdsl.dialects import llvm as llvm_dialect
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import LLVMTranslationException

from schedopt.errors import CompileError, RuntimeArgumentError
from schedopt.hardware_params import host_num_cores


@functools.cache
def _initialize_llvm() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()


def _host_cpu_features() -> str:
    try:
        return llvm.get_host_cpu_features().flatten()
    except RuntimeError:  # LLVM cannot tell on some hosts: baseline features then
        return ""


def create_host_target_machine(opt_level: int = 3) -> llvm.TargetMachine:
    """A new target machine for the host CPU, its name and all its features."""
    _initialize_llvm()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=_host_cpu_features(), opt=opt_level
    )


@functools.cache
def host_target_machine(opt_level: int = 3) -> llvm.TargetMachine:
    """The cached host target machine, for optimising and printing assembly.

    Not for execution engines: MCJIT takes ownership of the target machine it
    is given, so each engine gets its own from `create_host_target_machine`.
    """
    return create_host_target_machine(opt_level)


def optimize(module: llvm.ModuleRef, opt_level: int = 3) -> None:
    """Run the new pass manager's default pipeline at `opt_level` (0-3) on `module`; from
    level 2, twice, so that its GVN and dead-store elimination see the code it unrolls late.

    A reduction accumulated in its output buffer (a sketch without a local
    accumulator: `C[i, j] += A[i, k] * B[k, j]` over short inner loops of k
    and i) reads and writes each accumulator once per term. The pipeline
    fully unrolls those short loops only in its last loop passes, after GVN
    and DSE have run, so one run leaves every store and reload in the
    unrolled body and each term waits for the store of the one before (2.7x
    slower on a conv2d tiling whose TVM build runs at peak). The second run
    keeps each accumulator in a register across its terms; it costs about
    50 ms of a build. (NewGVN and DSE alone, llvmlite's only GVN, gave wrong
    results on two random conv2d schedules of the tests.)
    """
    machine = host_target_machine(opt_level)
    tuning = llvm.create_pipeline_tuning_options(speed_level=opt_level)
    builder = llvm.create_pass_builder(machine, tuning)
    for _ in range(2 if opt_level >= 2 else 1):
        builder.getModulePassManager().run(module, builder)


def translate_to_llvm_ir(module: ModuleOp) -> str:
    """The LLVM IR text of an `llvm`-dialect module, with the host's triple and data layout."""
    machine = host_target_machine()
    try:
        ir_module = convert_module(
            module, fallback_target_triple=machine.triple, data_layout=str(machine.target_data)
        )
    except (LLVMTranslationException, NotImplementedError, KeyError, TypeError) as error:
        raise CompileError(f"cannot translate the module to LLVM IR: {error}") from error
    return str(ir_module)


def parse_llvm_ir(text: str) -> llvm.ModuleRef:
    """Parse and verify LLVM IR text; LLVM's complaint becomes a `CompileError`."""
    _initialize_llvm()
    try:
        module = llvm.parse_assembly(text)
        module.verify()
    except RuntimeError as error:
        raise CompileError(f"LLVM rejected the module: {error}") from error
    return module


def defined_function(module: llvm.ModuleRef, name: str) -> llvm.ValueRef:
    """The function `@name` the module defines; a `CompileError` if it only declares it or lacks it."""
    try:
        function = module.get_function(name)
    except NameError:
        function = None
    if function is None or function.is_declaration:
        raise CompileError(f"the built module defines no function @{name}")
    return function


OPENMP_SYMBOL_PREFIXES = ("GOMP_", "omp_")
"""A module declaring an external function named so calls the OpenMP runtime."""


@functools.cache
def openmp_runtime() -> ctypes.CDLL:
    """libgomp, loaded once into the process for LLVM's JIT linker and for ctypes.

    MCJIT resolves a module's external functions among the libraries loaded
    permanently into LLVM; ctypes gives Python `omp_set_num_threads`.
    """
    name = ctypes.util.find_library("gomp")
    if name is None:
        raise CompileError(
            "the module has parallel loops, but the OpenMP runtime libgomp (libgomp.so.1) "
            "was not found (on Debian and Ubuntu it is the package libgomp1)"
        )
    try:
        llvm.load_library_permanently(name)
    except RuntimeError as error:
        raise CompileError(f"cannot load the OpenMP runtime {name}: {error}") from error
    library = ctypes.CDLL(name)
    library.omp_set_num_threads.argtypes = [ctypes.c_int]
    library.omp_set_num_threads.restype = None
    return library


def default_num_threads() -> int:
    """The OpenMP team size without HardwareParams: OMP_NUM_THREADS, else every core we may use.

    Only the first entry of a nested list ("4,2") counts, as libgomp reads it
    for the outermost level; a value that is not a positive count is ignored.
    """
    first = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(first) if first.isdigit() and int(first) > 0 else host_num_cores()


@dataclass(frozen=True)
class BufferSpec:
    """What a kernel expects of one argument: a C-contiguous array of `shape` and `dtype`.

    `written` says whether the kernel may write the buffer (the safe default):
    a written buffer must not share memory with any other argument, since the
    kernel's pointers are `noalias`. Buffers only read may alias each other.
    """

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    written: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))
        object.__setattr__(self, "dtype", np.dtype(self.dtype))

    def describe(self) -> str:
        """As in messages: float32[512, 512]."""
        return f"{self.dtype}[{', '.join(map(str, self.shape))}]"


def is_numpy_array(value: object) -> TypeGuard[np.ndarray]:
    """Whether `value` is a numpy array: what a kernel's caller, typed or not, must pass."""
    return isinstance(value, np.ndarray)


def _describe_array(array: np.ndarray) -> str:
    return f"{array.dtype}[{', '.join(map(str, array.shape))}]"


# `array.ctypes.data` costs about 2 us, most of a kernel call's overhead. The
# data pointer is the first field after the object header in numpy's
# `PyArrayObject_fields` (stable since numpy 1.7, numpy 2 included); reading it
# there costs 0.2 us. The layout is checked once, with a fallback.
_DATA_POINTER_OFFSET = object.__basicsize__
_read_pointer = ctypes.c_void_p.from_address


def _data_pointer_by_layout(array: np.ndarray) -> int:
    return _read_pointer(id(array) + _DATA_POINTER_OFFSET).value or 0


def _data_pointer_by_ctypes(array: np.ndarray) -> int:
    return array.ctypes.data


def _choose_data_pointer():
    probe = np.arange(4, dtype=np.float64)[1:]
    if _data_pointer_by_layout(probe) == probe.ctypes.data:
        return _data_pointer_by_layout
    return _data_pointer_by_ctypes


data_pointer = _choose_data_pointer()
"""The address of an array's first element."""


@dataclass(eq=False)
class Kernel:
    """A compiled function, called with numpy arrays as `kernel(*arrays)`.

    Arrays are checked against `arg_specs` (count, shape, dtype, C order,
    alignment, aliasing of written buffers); a mismatch raises
    `RuntimeArgumentError` naming the argument. The function receives the
    arrays' data pointers and writes its outputs in place. Any element-aligned
    array works; arrays starting on a cache line (`schedopt.aligned_empty`,
    `schedopt.aligned_array`) run at the speed the tuner measured, numpy's own
    (16-byte aligned) up to a fifth slower for some schedules.

    `num_threads` (None for a kernel without parallel loops) is the OpenMP
    team size, set with `omp_set_num_threads` before each call: libgomp
    keeps it per calling thread, so one kernel's count must not carry over
    to the next kernel called from that thread.
    """

    name: str
    arg_specs: tuple[BufferSpec, ...]
    compiled: CompiledModule = field(repr=False)
    address: int = field(repr=False)
    num_threads: int | None = None
    _function: Callable[..., None] = field(init=False, repr=False)
    _pairs_to_check: tuple[tuple[int, int], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        prototype = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * len(self.arg_specs)))
        self._function = prototype(self.address)
        # Pairs of arguments that must not overlap: those where one is written.
        written = [spec.written for spec in self.arg_specs]
        self._pairs_to_check = tuple(
            (i, j)
            for i in range(len(written))
            for j in range(i + 1, len(written))
            if written[i] or written[j]
        )

    def __call__(self, *arrays: np.ndarray) -> None:
        pointers = self.check_arguments(arrays)
        if self.num_threads is not None:
            openmp_runtime().omp_set_num_threads(self.num_threads)
        self._function(*pointers)

    def check_arguments(self, arrays: Sequence[np.ndarray]) -> list[int]:
        """The arrays' data pointers, after checking them against the specs."""
        specs = self.arg_specs
        if len(arrays) != len(specs):
            expected = ", ".join(spec.name for spec in specs)
            raise RuntimeArgumentError(
                f"{self.name}: expected {len(specs)} arguments ({expected}), got {len(arrays)}"
            )
        pointers = [
            self._check_argument(index, array, spec)
            for index, (array, spec) in enumerate(zip(arrays, specs, strict=True))
        ]
        self._check_aliasing(arrays, pointers)
        return pointers

    def _check_argument(self, index: int, array: object, spec: BufferSpec) -> int:
        """The data pointer of argument `index`, checked against `spec` (callers need not be type-checked)."""
        if not is_numpy_array(array):
            self._reject(index, f"expected a numpy array {spec.describe()}, got {type(array).__name__}")
        if array.dtype != spec.dtype or array.shape != spec.shape:
            self._reject(index, f"expected {spec.describe()}, got {_describe_array(array)}")
        flags = array.flags
        if not flags.c_contiguous:
            self._reject(index, "expected a C-contiguous array (use numpy.ascontiguousarray)")
        if not flags.aligned:
            self._reject(index, "the array's data is not aligned to its element size")
        if spec.written and not flags.writeable:
            self._reject(index, "the kernel writes this buffer, but the array is read-only")
        return data_pointer(array)

    def _reject(self, index: int, problem: str) -> NoReturn:
        raise RuntimeArgumentError(f"argument {index} ({self.arg_specs[index].name}): {problem}")

    def _check_aliasing(self, arrays: Sequence[np.ndarray], pointers: Sequence[int]) -> None:
        # The arrays are C-contiguous: they overlap exactly when their extents do.
        ends = [pointer + array.nbytes for pointer, array in zip(pointers, arrays, strict=True)]
        for i, j in self._pairs_to_check:
            if pointers[i] < ends[j] and pointers[j] < ends[i]:
                written, other = (i, j) if self.arg_specs[i].written else (j, i)
                self._reject(
                    written,
                    f"shares memory with argument {other} ({self.arg_specs[other].name}); "
                    "the kernel writes it, and its arguments must not overlap",
                )


@dataclass(eq=False)
class CompiledModule:
    """A module compiled for the host; keeps its execution engine alive.

    `llvm_ir` is the optimised LLVM IR; `assembly()` prints the host assembly.
    `uses_openmp`: whether the module calls the OpenMP runtime.
    """

    llvm_ir: str
    signatures: dict[str, llvm_dialect.LLVMFunctionType]
    opt_level: int
    _engine: llvm.ExecutionEngine = field(repr=False)
    uses_openmp: bool = False

    def assembly(self) -> str:
        """The host assembly of the optimised module (for inspection and lit checks)."""
        return host_target_machine(self.opt_level).emit_assembly(parse_llvm_ir(self.llvm_ir))

    def get_function(
        self, name: str, arg_specs: Sequence[BufferSpec], num_threads: int | None = None
    ) -> Kernel:
        """The function `name` as a `Kernel` taking arrays that match `arg_specs`.

        Its parallel loops, if the module has any, run on `num_threads`
        threads (None: `default_num_threads()`).
        """
        signature = self.signatures.get(name)
        if signature is None:
            known = ", ".join(f"@{n}" for n in sorted(self.signatures)) or "none"
            raise CompileError(f"no function @{name} in the compiled module (functions: {known})")
        inputs = signature.inputs.data
        if not isinstance(signature.output, llvm_dialect.LLVMVoidType) or not all(
            isinstance(t, llvm_dialect.LLVMPointerType) for t in inputs
        ):
            raise CompileError(
                f"@{name} has type {signature}; a kernel takes only pointers and returns nothing"
            )
        if len(inputs) != len(arg_specs):
            raise CompileError(
                f"@{name} takes {len(inputs)} arguments, but {len(arg_specs)} specs were given"
            )
        address = self._engine.get_function_address(name)
        if not address:
            raise CompileError(f"@{name} has no address in the compiled module")
        threads = (num_threads or default_num_threads()) if self.uses_openmp else None
        return Kernel(name, tuple(arg_specs), self, address, threads)


def optimized_llvm_module(module: ModuleOp, opt_level: int = 3) -> llvm.ModuleRef:
    """An `llvm`-dialect module translated to LLVM IR, verified and optimised for the host CPU.

    What `compile_module` JITs; the measurement builder stops here and hands
    the IR text to the runner, which generates the machine code.
    """
    llvm_module = parse_llvm_ir(translate_to_llvm_ir(module))
    optimize(llvm_module, opt_level)
    return llvm_module


def compile_module(module: ModuleOp, opt_level: int = 3) -> CompiledModule:
    """Compile an `llvm`-dialect module for the host CPU and JIT it.

    Raises `CompileError` when the module cannot be translated or LLVM
    rejects it, with LLVM's message.
    """
    if not 0 <= opt_level <= 3:
        raise CompileError(f"opt_level {opt_level} is not in 0..3")
    signatures = {
        op.sym_name.data: op.function_type
        for op in module.ops
        if isinstance(op, llvm_dialect.FuncOp) and op.body.blocks
    }
    uses_openmp = any(
        isinstance(op, llvm_dialect.FuncOp)
        and not op.body.blocks
        and op.sym_name.data.startswith(OPENMP_SYMBOL_PREFIXES)
        for op in module.ops
    )
    if uses_openmp:
        openmp_runtime()
    llvm_module = optimized_llvm_module(module, opt_level)
    optimized_ir = str(llvm_module)
    try:
        engine = llvm.create_mcjit_compiler(llvm_module, create_host_target_machine(opt_level))
        engine.finalize_object()
    except RuntimeError as error:
        raise CompileError(f"LLVM could not compile the module: {error}") from error
    return CompiledModule(optimized_ir, signatures, opt_level, engine, uses_openmp)

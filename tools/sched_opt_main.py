"""`sched-opt`: xDSL's `xdsl-opt` driver with sched-opt's dialects and passes.

Everything `xdsl-opt` does still works. On top of it, bad input (malformed IR,
a failing verifier, an unknown pass, an error raised by one of our passes) is
reported as a diagnostic on stderr with a non-zero exit, never as a Python
traceback; `--verify-diagnostics` and `--parsing-diagnostics` keep xDSL's
meaning (print the diagnostic on stdout, exit 0), for lit tests. One target
is added: `-t asm`, the host assembly of a module in the llvm dialect; and
`-t ptx` (`-t 'ptx{arch=sm_90}'`), the PTX of the GPU kernels `lower-to-nvptx`
made.
"""

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import ArgSpecParseError, DiagnosticException, LLVMTranslationException, ParseError
from xdsl.utils.target import Target
from xdsl.xdsl_opt_main import xDSLOptMain

from schedopt.dialects import get_all_dialects
from schedopt.passes import get_all_passes
from schedopt.ptx import DEFAULT_ARCH, device_llvm_ir, emit_ptx
from schedopt.runtime import host_target_machine, optimize, parse_llvm_ir, translate_to_llvm_ir


@dataclass(frozen=True)
class HostAssemblyTarget(Target):
    """`-t asm`: the module (in the llvm dialect) optimised at O3 for the host CPU, as assembly.

    What the runtime would run, for reading and for lit checks of the
    instructions chosen (FMAs, vector widths).
    """

    name = "asm"

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        llvm_module = parse_llvm_ir(translate_to_llvm_ir(module))
        optimize(llvm_module)
        output.write(host_target_machine().emit_assembly(llvm_module))


@dataclass(frozen=True)
class PTXTarget(Target):
    """`-t ptx`: the kernels of the module's `gpu.module`s (in the llvm dialect) as PTX for `arch`.

    Options:

    - arch: str = "sm_80": the GPU architecture (sm_80 and up).
    """

    name = "ptx"

    arch: str = DEFAULT_ARCH

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        output.write(emit_ptx(device_llvm_ir(module), self.arch))


class SchedOptMain(xDSLOptMain):
    """The `sched-opt` driver."""

    def __init__(self, args: Sequence[str] | None = None):
        super().__init__(description="sched-opt: the sched-opt modular optimizer driver", args=args)

    def register_all_dialects(self):
        super().register_all_dialects()
        for name, factory in get_all_dialects().items():
            if name not in self.ctx.registered_dialect_names:
                self.ctx.register_dialect(name, factory)

    def register_all_passes(self):
        super().register_all_passes()
        for name, factory in get_all_passes().items():
            self.register_pass(name, factory)

    def register_all_targets(self):
        super().register_all_targets()
        self.available_targets[HostAssemblyTarget.name] = lambda: HostAssemblyTarget
        self.available_targets[PTXTarget.name] = lambda: PTXTarget


def main(args: Sequence[str] | None = None) -> int:
    """Run the driver; report user errors as diagnostics and exit non-zero."""
    try:
        SchedOptMain(args).run()
    except (DiagnosticException, ParseError) as error:
        print(error, file=sys.stderr)
        for note in getattr(error, "__notes__", ()):
            print(note, file=sys.stderr)
        return 1
    except (NotImplementedError, LLVMTranslationException) as error:
        # xDSL's llvm target translates only the llvm dialect.
        print(
            f"sched-opt: error: cannot translate to the target: {error} (lower with lower-to-llvm first)",
            file=sys.stderr,
        )
        return 1
    except (ValueError, ArgSpecParseError) as error:
        # xDSL reports an unknown pass or option as a ValueError, a malformed
        # pipeline (`db=a.json` where a path needs quotes) as an ArgSpecParseError.
        print(f"sched-opt: error: {error}", file=sys.stderr)
        return 1
    return 0


def console_main() -> None:
    """Entry point of the `sched-opt` console script."""
    sys.exit(main())


if __name__ == "__main__":
    console_main()

"""lit configuration of sched-opt's FileCheck tests."""

import os

import lit.formats

config.name = "sched-opt"  # noqa: F821
config.test_format = lit.formats.ShTest()  # noqa: F821
config.suffixes = [".mlir"]  # noqa: F821
config.test_source_root = os.path.dirname(__file__)  # noqa: F821
config.excludes = ["lit.cfg.py", "Output"]  # noqa: F821

# The tools run from the environment lit was started in (PATH, the venv).
config.environment["PATH"] = os.environ["PATH"]  # noqa: F821
for name in ("HOME", "VIRTUAL_ENV", "PYTHONPATH"):
    if name in os.environ:
        config.environment[name] = os.environ[name]  # noqa: F821

# Round-trip checks, as in xDSL's lit config: print, parse back, print again.
config.substitutions.append(  # noqa: F821
    ("%roundtrip", "sched-opt --split-input-file %s | sched-opt --split-input-file")
)

# Tests of host assembly (`-t asm`) check instructions only some CPUs have.
try:
    import llvmlite.binding

    llvmlite.binding.initialize_native_target()
    if llvmlite.binding.get_host_cpu_features().get("fma"):
        config.available_features.add("host-fma")  # noqa: F821
except RuntimeError:  # LLVM cannot tell the host's features: those tests are skipped
    pass

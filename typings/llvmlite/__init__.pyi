"""Stubs for the parts of llvmlite that schedopt uses (llvmlite ships no types)."""

__version__: str

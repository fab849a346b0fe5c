"""Stubs for the part of threadpoolctl that schedopt uses (threadpoolctl ships no types)."""

from types import TracebackType
from typing import NotRequired, Self, TypedDict

class ThreadpoolInfo(TypedDict):
    """One native thread pool a loaded library runs, as `threadpool_info` describes it."""

    user_api: str
    internal_api: str
    num_threads: int
    prefix: str
    filepath: str
    version: str | None
    threading_layer: NotRequired[str]
    architecture: NotRequired[str]

def threadpool_info() -> list[ThreadpoolInfo]: ...

class threadpool_limits:
    """Limits the native thread pools to `limits` threads from its construction (or within a `with` block)."""

    def __init__(
        self, limits: int | dict[str, int] | str | None = None, user_api: str | None = None
    ) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, type: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None: ...
    def restore_original_limits(self) -> None: ...

"""The interface of a record back end: append whole records, read their lines back in order."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from schedopt.records.codec import Record


@dataclass(frozen=True)
class LineFilter:
    """The lines a reader wants: a workload (by key or by structural hash) on a target kind; None: any.

    A hint that a back end with an index uses to read less: the caller
    still checks each decoded record. A record may be wanted for its
    workload key or for its structural hash, so with both given a back end
    returns the lines that match either.
    """

    workload_key: str | None = None
    target_kind: str | None = None
    workload_hash: str | None = None


ALL_LINES = LineFilter()


@dataclass(frozen=True)
class StoredLine:
    """The text of one stored record and where it is ("tune.json:12"), not yet decoded."""

    location: str
    text: str


class RecordStore(ABC):
    """Records of one file, in the order they were appended.

    `append` is atomic per record: several processes may append to the same
    file at once, and a process killed while appending leaves every earlier
    record intact.
    """

    def __init__(self, filename: str):
        self.filename = filename

    @abstractmethod
    def append(self, records: Sequence[Record]) -> None:
        """Add records at the end, creating the file if needed."""

    @abstractmethod
    def rewrite(self, records: Sequence[Record]) -> None:
        """Replace the file's records by `records`, atomically: a reader sees the old or the new ones."""

    @abstractmethod
    def lines(self, wanted: LineFilter = ALL_LINES) -> Iterator[StoredLine]:
        """The stored lines in order (`wanted` may leave some out); `RecordError` if the file cannot be read."""

"""The JSON-lines back end (`.json`): TVM's log file, one record per line.

Appends go through one `write` of whole lines on a descriptor opened with
`O_APPEND`, under an exclusive `flock`, so records of concurrent writers
never interleave; `rewrite` writes a new file and renames it over the old
one under the same lock. If the file does not end with a newline (a writer was
killed mid-line), the append starts a new line first: the truncated record
stays one bad line, which readers skip, and the new ones stay whole.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence

from schedopt.errors import RecordError
from schedopt.records.codec import Record
from schedopt.records.store import ALL_LINES, LineFilter, RecordStore, StoredLine


class JsonLinesStore(RecordStore):
    def append(self, records: Sequence[Record]) -> None:
        if not records:
            return
        data = _lines(records)
        descriptor = self._lock()
        try:
            size = os.fstat(descriptor).st_size
            if size and os.pread(descriptor, 1, size - 1) != b"\n":
                data = b"\n" + data
            _write_all(descriptor, data)
        finally:
            os.close(descriptor)  # also releases the lock

    def rewrite(self, records: Sequence[Record]) -> None:
        temporary = f"{self.filename}.{os.getpid()}.tmp"
        try:
            with open(temporary, "wb") as file:
                file.write(_lines(records))
            descriptor = self._lock()  # no append is half-way through while the file is replaced
            try:
                os.replace(temporary, self.filename)
            finally:
                os.close(descriptor)
        except OSError as error:
            raise RecordError(f"cannot rewrite record file {self.filename}: {error.strerror}") from None
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def _lock(self) -> int:
        """A descriptor of the file (created if missing), open for appending and locked.

        A writer that waited for the lock while `rewrite` replaced the file
        holds the old one: it opens the file again.
        """
        while True:
            try:
                descriptor = os.open(self.filename, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            except OSError as error:
                raise RecordError(f"cannot open record file {self.filename}: {error.strerror}") from None
            if _same_file(descriptor, self.filename):
                return descriptor
            os.close(descriptor)

    def lines(self, wanted: LineFilter = ALL_LINES) -> Iterator[StoredLine]:
        try:
            file = open(self.filename, encoding="utf-8", errors="replace")  # noqa: SIM115 (a generator)
        except OSError as error:
            raise RecordError(f"cannot read record file {self.filename}: {error.strerror}") from None
        with file:
            for number, line in enumerate(file, start=1):
                text = line.strip()
                if text and not text.startswith("#"):
                    yield StoredLine(f"{self.filename}:{number}", text)


def _lines(records: Sequence[Record]) -> bytes:
    return "".join(record.text + "\n" for record in records).encode()


def _same_file(descriptor: int, filename: str) -> bool:
    try:
        status = os.stat(filename)
    except FileNotFoundError:
        return False
    opened = os.fstat(descriptor)
    return (opened.st_dev, opened.st_ino) == (status.st_dev, status.st_ino)


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]

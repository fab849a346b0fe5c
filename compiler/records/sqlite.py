"""The SQLite back end (`.db`): the same record lines in a table indexed by workload key and target.

Each row keeps the record's JSON text as written, so converting a log to a
database and back gives the same lines; beside it the columns a query
needs: the workload key, the target's kind, the error code and the mean
cost. The database runs in WAL mode, so readers do not block the writer;
each append or rewrite is one transaction, and concurrent writers wait for
each other (up to `BUSY_TIMEOUT_S`).

A process keeps one connection per database open: when the last connection
to a WAL database closes, SQLite checkpoints and syncs it (about 10 ms), which
per append would dominate writing records one at a time. A connection is
reopened when the file was replaced or removed, and is never used by a
forked child.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from schedopt.errors import RecordError
from schedopt.records.codec import Record
from schedopt.records.store import RecordStore, StoredLine

SCHEMA_VERSION = 1
"""Stored in `PRAGMA user_version`; a database of another version is refused."""

BUSY_TIMEOUT_S = 60.0

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS records (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        workload_key TEXT NOT NULL,
        target TEXT NOT NULL,
        error_no INTEGER NOT NULL,
        cost REAL NOT NULL,
        timestamp REAL NOT NULL,
        record TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS records_by_task ON records (workload_key, target, cost)",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)
"""The table, its index by task (workload key, target kind) and cost, and the schema version."""


_INSERT = (
    "INSERT INTO records (workload_key, target, error_no, cost, timestamp, record) VALUES (?, ?, ?, ?, ?, ?)"
)


def _row(r: Record) -> tuple[object, ...]:
    return (
        r.workload_key,
        r.target_kind,
        int(r.result.error_no),
        r.result.mean_cost(),
        r.result.timestamp,
        r.text,
    )


@dataclass
class _OpenDatabase:
    """A connection of this process, and the file it was opened on (device, inode)."""

    connection: sqlite3.Connection
    pid: int
    file_id: tuple[int, int]
    lock: threading.Lock = field(default_factory=threading.Lock)


_open_databases: dict[str, _OpenDatabase] = {}
_open_databases_lock = threading.Lock()


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


class SqliteStore(RecordStore):
    def append(self, records: Sequence[Record]) -> None:
        rows = [
            (
                r.workload_key,
                r.target_kind,
                int(r.result.error_no),
                r.result.mean_cost(),
                r.result.timestamp,
                r.text,
            )
            for r in records
        ]
        database = self._database(create=True)
        with database.lock, self._write_transaction(database.connection):
            database.connection.executemany(
                "INSERT INTO records (workload_key, target, error_no, cost, timestamp, record) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def rewrite(self, records: Sequence[Record]) -> None:
        database = self._database(create=True)
        with database.lock, self._write_transaction(database.connection):
            database.connection.execute("DELETE FROM records")
            database.connection.executemany(_INSERT, [_row(r) for r in records])

    def lines(self, workload_key: str | None = None, target_kind: str | None = None) -> Iterator[StoredLine]:
        conditions = {"workload_key": workload_key, "target": target_kind}
        used = {column: value for column, value in conditions.items() if value is not None}
        where = " AND ".join(f"{column} = ?" for column in used)
        query = f"SELECT id, record FROM records {'WHERE ' + where if where else ''} ORDER BY id"
        database = self._database(create=False)
        try:
            with database.lock:
                rows = database.connection.execute(query, tuple(used.values())).fetchall()
        except sqlite3.Error as error:
            raise RecordError(f"cannot read record database {self.filename}: {error}") from None
        for row_id, text in rows:
            yield StoredLine(f"{self.filename}:row {row_id}", text)

    def _database(self, create: bool) -> _OpenDatabase:
        """This process's connection to the file (opened, and the schema checked or created, once)."""
        path = os.path.abspath(self.filename)
        with _open_databases_lock:
            known = _open_databases.get(path)
            if known is not None and known.pid == os.getpid() and known.file_id == _file_id(path):
                return known
            if known is not None and known.pid == os.getpid():
                known.connection.close()  # the file was replaced or removed
            _open_databases.pop(path, None)
            if not create and _file_id(path) is None:
                raise RecordError(f"record database {self.filename} does not exist")
            connection = self._connect(path, create)
            file_id = _file_id(path)
            assert file_id is not None
            database = _OpenDatabase(connection, os.getpid(), file_id)
            _open_databases[path] = database
            return database

    def _connect(self, path: str, create: bool) -> sqlite3.Connection:
        """A connection in autocommit mode (transactions are explicit), its schema checked or created."""
        uri = f"file:{urllib.parse.quote(path)}?mode={'rwc' if create else 'rw'}"
        try:
            connection = sqlite3.connect(
                uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise RecordError(f"cannot open record database {self.filename}: {error}") from None
        try:
            self._check_schema(connection, create)
        except BaseException:
            connection.close()
            raise
        return connection

    def _check_schema(self, connection: sqlite3.Connection, create: bool) -> None:
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            connection.execute("PRAGMA synchronous = NORMAL")  # durable in WAL mode but for power loss
        except sqlite3.Error as error:
            raise RecordError(f"cannot open record database {self.filename}: {error}") from None
        if version not in (0, SCHEMA_VERSION) or (version == 0 and not create):
            raise RecordError(
                f"{self.filename} is not a sched-opt record database of schema version {SCHEMA_VERSION} "
                f"(its user_version is {version})"
            )
        if version == 0:
            self._create_schema(connection)

    def _create_schema(self, connection: sqlite3.Connection) -> None:
        self._enable_wal(connection)
        with self._write_transaction(connection):
            for statement in _SCHEMA:  # IF NOT EXISTS: a concurrent writer may have won
                connection.execute(statement)

    def _enable_wal(self, connection: sqlite3.Connection) -> None:
        """Switch the file to WAL mode, waiting for other connections as a transaction would.

        SQLite does not call the busy handler for this switch, so a process
        setting up the file while another one does is told "locked" at once.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as error:
                busy = error.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
                if not busy or time.monotonic() > deadline:
                    raise RecordError(f"cannot set up record database {self.filename}: {error}") from None
            time.sleep(0.01)

    @contextmanager
    def _write_transaction(self, connection: sqlite3.Connection) -> Iterator[None]:
        """One write transaction; SQLite's complaint becomes a `RecordError` and the transaction is undone."""
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise RecordError(f"cannot write record database {self.filename}: {error}") from None

"""The SQLite back end (`.db`): the same record lines in a table indexed by workload key, hash and target.

Each row keeps the record's JSON text as written, so converting a log to a
database and back gives the same lines; beside it the columns a query
needs: the workload key, the structural hash of the computation (NULL when
the record has none and its key does not give one), the target's kind, the
error code and the mean cost. A database of schema version 1 (no hash
column) is upgraded in place when it is first opened. The database runs in WAL mode, so readers do not block the writer;
each append or rewrite is one transaction, and concurrent writers wait for
each other (up to `BUSY_TIMEOUT_S`).

A process keeps one connection per database open: when the last connection
to a WAL database closes, SQLite checkpoints and syncs it (about 10 ms), which
per append would dominate writing records one at a time. A connection is
reopened when the file was replaced or removed, and is never used by a
forked child.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from schedopt.errors import RecordError
from schedopt.json_value import JSON
from schedopt.records.codec import Record
from schedopt.records.store import ALL_LINES, LineFilter, RecordStore, StoredLine

SCHEMA_VERSION = 2
"""Stored in `PRAGMA user_version`; version 1 is upgraded, any other is refused."""

BUSY_TIMEOUT_S = 60.0

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS records (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        workload_key TEXT NOT NULL,
        target TEXT NOT NULL,
        error_no INTEGER NOT NULL,
        cost REAL NOT NULL,
        timestamp REAL NOT NULL,
        record TEXT NOT NULL,
        workload_hash TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS records_by_task ON records (workload_key, target, cost)",
    "CREATE INDEX IF NOT EXISTS records_by_hash ON records (workload_hash, target, cost)",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)
"""The table, its indexes by task (workload key or hash, target kind) and cost, and the schema version."""

_UPGRADE_FROM_1 = (
    "ALTER TABLE records ADD COLUMN workload_hash TEXT",
    "CREATE INDEX IF NOT EXISTS records_by_hash ON records (workload_hash, target, cost)",
)
"""Version 1 had no hash column; its rows get the hash their record text holds (or NULL)."""

_INSERT = (
    "INSERT INTO records (workload_key, workload_hash, target, error_no, cost, timestamp, record) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _row(r: Record) -> tuple[object, ...]:
    return (
        r.workload_key,
        r.workload_hash,
        r.target_kind,
        int(r.result.error_no),
        r.result.mean_cost(),
        r.result.timestamp,
        r.text,
    )


def _stored_hash(text: str) -> str | None:
    """The hash field of a record's text, for rows written before the column existed."""
    try:
        task: JSON = json.loads(text)["i"][0]
    except (ValueError, LookupError, TypeError):
        return None
    return task[6] if isinstance(task, list) and len(task) > 6 and isinstance(task[6], str) else None


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
        rows = [_row(r) for r in records]
        database = self._database(create=True)
        with database.lock, self._write_transaction(database.connection):
            database.connection.executemany(_INSERT, rows)

    def rewrite(self, records: Sequence[Record]) -> None:
        database = self._database(create=True)
        with database.lock, self._write_transaction(database.connection):
            database.connection.execute("DELETE FROM records")
            database.connection.executemany(_INSERT, [_row(r) for r in records])

    def lines(self, wanted: LineFilter = ALL_LINES) -> Iterator[StoredLine]:
        where, parameters = _where(wanted)
        query = f"SELECT id, record FROM records {'WHERE ' + where if where else ''} ORDER BY id"
        database = self._database(create=False)
        try:
            with database.lock:
                rows = database.connection.execute(query, parameters).fetchall()
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
        if version not in (0, 1, SCHEMA_VERSION) or (version == 0 and not create):
            raise RecordError(
                f"{self.filename} is not a sched-opt record database of schema version {SCHEMA_VERSION} "
                f"(its user_version is {version})"
            )
        if version == 0:
            self._create_schema(connection)
        elif version == 1:
            self._upgrade_from_1(connection)

    def _create_schema(self, connection: sqlite3.Connection) -> None:
        self._enable_wal(connection)
        with self._write_transaction(connection):
            for statement in _SCHEMA:  # IF NOT EXISTS: a concurrent writer may have won
                connection.execute(statement)

    def _upgrade_from_1(self, connection: sqlite3.Connection) -> None:
        """Add the hash column (in one transaction; a concurrent opener may have done it first)."""
        try:
            with self._write_transaction(connection):
                if connection.execute("PRAGMA user_version").fetchone()[0] != 1:
                    return
                for statement in _UPGRADE_FROM_1:
                    connection.execute(statement)
                rows = connection.execute("SELECT id, record FROM records").fetchall()
                hashes = [(_stored_hash(text), row_id) for row_id, text in rows]
                connection.executemany("UPDATE records SET workload_hash = ? WHERE id = ?", hashes)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except RecordError as error:
            raise RecordError(
                f"cannot upgrade record database {self.filename} to schema version {SCHEMA_VERSION}: {error}"
            ) from None

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
    def _write_transaction(self, connection: sqlite3.Connection) -> Generator[None]:
        """One write transaction; SQLite's complaint becomes a `RecordError` and the transaction is undone."""
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise RecordError(f"cannot write record database {self.filename}: {error}") from None


def _where(wanted: LineFilter) -> tuple[str, tuple[str, ...]]:
    """The WHERE clause of a lookup: the workload by key or hash, and the target's kind.

    Rows without a hash match any hash: the reader derives theirs from the
    key (a registered workload) and checks.
    """
    workload_key, target_kind, workload_hash = wanted.workload_key, wanted.target_kind, wanted.workload_hash
    clauses: list[str] = []
    parameters: list[str] = []
    if workload_key is not None and workload_hash is not None:
        clauses.append("(workload_key = ? OR workload_hash = ? OR workload_hash IS NULL)")
        parameters += [workload_key, workload_hash]
    elif workload_key is not None:
        clauses.append("workload_key = ?")
        parameters.append(workload_key)
    elif workload_hash is not None:
        clauses.append("(workload_hash = ? OR workload_hash IS NULL)")
        parameters.append(workload_hash)
    if target_kind is not None:
        clauses.append("target = ?")
        parameters.append(target_kind)
    return " AND ".join(clauses), tuple(parameters)

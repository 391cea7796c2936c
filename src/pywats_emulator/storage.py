"""SQLite storage shared by every router: reports (header columns plus the WSJF document) and processes.

Rules:

1. One report per id. Storing a report whose id exists replaces it in place (``receive_count`` goes up, the
   legacy ``Report_ID`` stays): re-sending never duplicates.
2. ``timestamp`` is the processing order: a counter kept in ``meta`` that only ever grows, even across
   overwrites and :meth:`Storage.clear_reports`, so "newer" is always "larger".
3. Every SQL statement binds its values as parameters. Identifiers spliced into SQL come from constants in
   this package (column lists, OData field maps), never from a request.

Threads: uvicorn runs blocking handlers in a thread pool. Each thread gets its own connection (SQLite
connections must not be shared between threads without care); writes also take a process-wide lock and
``BEGIN IMMEDIATE``, so two uploads of the same id never race. WAL lets readers run during a write.
Other domains add their tables with :meth:`Storage.ensure_schema` and use :meth:`Storage.read` /
:meth:`Storage.write`.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pywats.processes import ProcessInfo

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('timestamp', 0);
CREATE TABLE IF NOT EXISTS processes (
    code INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    is_test INTEGER NOT NULL,
    is_repair INTEGER NOT NULL,
    is_wip INTEGER NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY,            -- lower-case GUID
    type TEXT NOT NULL,             -- T or R
    sn TEXT NOT NULL,
    pn TEXT NOT NULL,
    rev TEXT,
    process_code INTEGER NOT NULL,
    process_name TEXT,
    station TEXT,                   -- machineName
    location TEXT,
    purpose TEXT,
    result TEXT NOT NULL,           -- P F E T (D)
    start TEXT NOT NULL,            -- as the report gave it, ISO 8601 with offset
    start_utc TEXT NOT NULL,        -- YYYY-MM-DDTHH:MM:SS.ffffffZ, sorts and compares as text
    user_name TEXT,
    batch_number TEXT,
    comment TEXT,
    execution_time REAL,
    sw_filename TEXT,
    sw_version TEXT,
    fixture_id TEXT,
    test_socket_index INTEGER,
    error_code INTEGER,
    error_message TEXT,
    caused_uut_failure TEXT,
    caused_uut_failure_path TEXT,
    referenced_uut TEXT,
    first_received TEXT NOT NULL,   -- UTC, ISO 8601
    received TEXT NOT NULL,         -- UTC, ISO 8601, of the latest upload
    timestamp INTEGER NOT NULL,     -- processing order (rule 2)
    receive_count INTEGER NOT NULL,
    size INTEGER NOT NULL,          -- bytes of the stored document
    format TEXT NOT NULL,           -- WSJF or WSXF: how it was uploaded
    body TEXT NOT NULL              -- the WSJF document
);
CREATE INDEX IF NOT EXISTS reports_timestamp ON reports (timestamp);
CREATE INDEX IF NOT EXISTS reports_start ON reports (start_utc);
CREATE INDEX IF NOT EXISTS reports_sn ON reports (sn, pn);
"""

HEADER_COLUMNS = (
    "type", "sn", "pn", "rev", "process_code", "process_name", "station", "location", "purpose", "result",
    "start", "start_utc", "user_name", "batch_number", "comment", "execution_time", "sw_filename",
    "sw_version", "fixture_id", "test_socket_index", "error_code", "error_message", "caused_uut_failure",
    "caused_uut_failure_path", "referenced_uut",
)  # fmt: skip
"""The columns a report's header fills (see :func:`pywats_emulator.headers.header_columns`)."""


@dataclass(frozen=True)
class StoredReport:
    """What storing a report gave: the legacy numeric id, how often it was received, its processing order."""

    id: str
    report_no: int
    receive_count: int
    timestamp: int


class Storage:
    """The emulator's database. Open it once per app; :meth:`close` when the app stops."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._temp_dir: str | None = None
        if path is None or str(path) in ("", ":memory:"):
            self._temp_dir = tempfile.mkdtemp(prefix="pywats-emulator-")
            path = Path(self._temp_dir) / "emulator.db"
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False
        self.ensure_schema(SCHEMA)

    @property
    def is_temporary(self) -> bool:
        """Whether the database is deleted on :meth:`close`."""
        return self._temp_dir is not None

    # -- connections and transactions -------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            if self._closed:
                raise RuntimeError("the emulator storage is closed")
            # check_same_thread=False only so that close() may close it from another thread; each
            # connection is otherwise used by the thread that opened it.
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            self._local.connection = connection
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``), committed on success, rolled back on error."""
        with self._write_lock:
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one query."""
        return self._connection().execute(sql, params).fetchall()

    def ensure_schema(self, script: str) -> None:
        """Run ``CREATE ... IF NOT EXISTS`` statements (one domain's tables) in one transaction."""
        with self.write() as connection:
            for statement in script.split(";"):
                if statement.strip():
                    connection.execute(statement)

    def close(self) -> None:
        """Close every connection and, for a temporary database, delete it."""
        self._closed = True
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            try:
                connection.close()
            except sqlite3.Error:  # pragma: no cover - closing is best effort
                pass
        self._local = threading.local()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    # -- processes --------------------------------------------------------------------------------

    def set_processes(self, processes: Sequence[ProcessInfo], inactive: frozenset[int] = frozenset()) -> None:
        """Replace the process table."""
        with self.write() as connection:
            connection.execute("DELETE FROM processes")
            connection.executemany(
                "INSERT INTO processes (code, name, is_test, is_repair, is_wip, is_active) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (p.code, p.name, p.is_test_operation, p.is_repair_operation, p.is_wip_operation,
                     p.code not in inactive)
                    for p in processes
                ],
            )  # fmt: skip

    def processes(self) -> list[sqlite3.Row]:
        return self.read("SELECT * FROM processes ORDER BY code")

    def process(self, code: int) -> sqlite3.Row | None:
        rows = self.read("SELECT * FROM processes WHERE code = ?", (code,))
        return rows[0] if rows else None

    # -- reports ----------------------------------------------------------------------------------

    def store_report(self, report_id: str, header: dict[str, Any], body: str, fmt: str, received: str) -> StoredReport:
        """Insert a report, or replace the one with the same id (rule 1; ids are GUIDs: case is ignored)."""
        report_id = report_id.lower()
        columns = list(HEADER_COLUMNS)
        values = [header.get(name) for name in columns]
        size = len(body.encode("utf-8"))
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        updates = ", ".join(f"{name} = excluded.{name}" for name in columns)
        with self.write() as connection:
            connection.execute("UPDATE meta SET value = value + 1 WHERE key = 'timestamp'")
            timestamp = connection.execute("SELECT value FROM meta WHERE key = 'timestamp'").fetchone()[0]
            connection.execute(
                f"INSERT INTO reports (id, {names}, first_received, received, timestamp, receive_count, size, format,"
                f" body) VALUES (?, {marks}, ?, ?, ?, 1, ?, ?, ?)"
                f" ON CONFLICT (id) DO UPDATE SET {updates}, received = excluded.received,"
                " timestamp = excluded.timestamp, receive_count = reports.receive_count + 1,"
                " size = excluded.size, format = excluded.format, body = excluded.body",
                (report_id, *values, received, received, timestamp, size, fmt, body),
            )
            row = connection.execute(
                "SELECT rowid, receive_count FROM reports WHERE id = ?", (report_id,)
            ).fetchone()
        return StoredReport(report_id, row[0], row[1], timestamp)

    def get_report(self, report_id: str) -> sqlite3.Row | None:
        """The whole row of one report (``body`` included), or None."""
        rows = self.read("SELECT rowid AS report_no, * FROM reports WHERE id = ?", (report_id.lower(),))
        return rows[0] if rows else None

    def recent_reports(self, limit: int, offset: int = 0) -> list[sqlite3.Row]:
        """Header rows (no body), newest processed first."""
        return self.read(
            f"SELECT id, {', '.join(HEADER_COLUMNS)}, received, timestamp, receive_count, size, format"
            " FROM reports ORDER BY timestamp DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )

    def count_reports(self) -> int:
        return self.read("SELECT COUNT(*) FROM reports")[0][0]

    def clear_reports(self) -> int:
        """Delete every report (the timestamp counter keeps counting); how many there were."""
        with self.write() as connection:
            return connection.execute("DELETE FROM reports").rowcount

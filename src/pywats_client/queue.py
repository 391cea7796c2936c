"""The durable report queue: SQLite in WAL mode with ``synchronous=FULL``, one row per report.

States of a row::

    pending ──claim──▶ uploading ──server accepted──▶ done ──retention──▶ (pruned)
       ▲                   │ │ │
       │  transient fault  │ │ └── rejected (400/413/422) ──▶ failed ──retry──▶ pending
       └───────────────────┘ └──── auth/config fault ───────▶ held   ──release─▶ pending

Rules:

1. **Nothing is lost.** :meth:`ReportQueue.enqueue` returns only after the transaction is committed and synced
   to disk; only then may the caller move the source file away. A row leaves the queue only through
   :meth:`complete` (the server accepted it) or :meth:`drop` (a person asked).
2. **Nothing is duplicated.** The report id is the primary key. Enqueueing an id that is already there with the
   same content changes nothing; with new content it replaces the payload and, if an upload of the old content
   is in flight, ``revision`` makes sure its completion does not mark the new content as sent.
3. **Crash recovery.** A row is ``uploading`` only while a live service works on it: :meth:`recover`, called
   by the service at start (holding the instance lock), puts every ``uploading`` row back to ``pending``.
   Re-sending it is safe, since the server overwrites a report with the same id.
4. **Done rows are a ledger** (source file → report id → server answer → serial number) without their payload,
   kept for ``done_retention_days`` and then pruned.
5. **Synced where it matters.** A write whose loss could lose a report or undo a person's command (enqueue,
   retry, drop, the ledger) is synced to disk before it returns (``synchronous=FULL``). Bookkeeping whose loss
   only means a harmless resend after a power cut (claiming, marking done, rescheduling) is committed with
   ``synchronous=NORMAL``: still atomic and never corrupt in WAL mode, it becomes durable with the next synced
   write. That halves the syncs per report.
6. **Errors are loud.** A database error is raised as :class:`QueueError` (:attr:`QueueError.disk_full` when
   the disk is full), never swallowed: the service pauses intake on a full disk and stops on anything else.

One connection per :class:`ReportQueue`, used from one thread at a time (the service runs all queue work on one
dedicated thread, see :class:`AsyncReportQueue`). Other processes (the CLI) may open the same file: WAL lets them
read while the service writes, and ``BEGIN IMMEDIATE`` with a busy timeout serialises writers.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

STATES = ("pending", "uploading", "done", "failed", "held")
ACTIVE_STATES = ("pending", "uploading", "failed", "held")  # what counts towards max_queue_size

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY,                 -- the report's id (lower-case UUID)
    state TEXT NOT NULL CHECK (state IN ('pending', 'uploading', 'done', 'failed', 'held')),
    revision INTEGER NOT NULL DEFAULT 1, -- grows when the content is replaced
    payload TEXT,                        -- the WSJF document; NULL once done
    payload_sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    source TEXT,                         -- the file it came from
    source_sha256 TEXT,
    converter TEXT,
    correlation_id TEXT,
    serial_number TEXT,
    part_number TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,       -- Unix time
    last_error TEXT,
    server_answer TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    done_at REAL
);
CREATE INDEX IF NOT EXISTS reports_due ON reports (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS reports_waiting ON reports (state, created_at);  -- counts, oldest waiting
CREATE INDEX IF NOT EXISTS reports_done ON reports (done_at) WHERE state = 'done';
CREATE TABLE IF NOT EXISTS sources (
    path TEXT NOT NULL,                  -- where the file was found
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    converter TEXT,
    outcome TEXT NOT NULL,               -- queued or error
    reports INTEGER NOT NULL,
    detail TEXT,
    taken_at REAL NOT NULL,
    PRIMARY KEY (path, size, mtime_ns)
);
CREATE INDEX IF NOT EXISTS sources_taken ON sources (taken_at);
"""

_COLUMNS = ("id", "state", "revision", "size", "source", "converter", "correlation_id", "serial_number",
            "part_number", "attempts", "next_attempt_at", "last_error", "server_answer", "created_at",
            "updated_at", "done_at")  # fmt: skip


class QueueError(RuntimeError):
    """The queue database failed. ``disk_full``: the disk (or the database) has no room left."""

    def __init__(self, message: str, *, disk_full: bool = False) -> None:
        super().__init__(message)
        self.disk_full = disk_full


@dataclass(frozen=True)
class NewReport:
    """A converted report to enqueue."""

    id: str
    payload: str
    source: str | None = None
    source_sha256: str | None = None
    converter: str | None = None
    correlation_id: str | None = None
    serial_number: str | None = None
    part_number: str | None = None


@dataclass(frozen=True)
class SourceRecord:
    """A source file the service took, for the ledger (and so a kept file is not taken twice)."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    converter: str | None
    outcome: str  # "queued" or "error"
    reports: int
    detail: str | None = None


@dataclass(frozen=True)
class QueueItem:
    """A row of the queue (``payload`` only when asked for, or when claimed for upload)."""

    id: str
    state: str
    revision: int
    size: int
    source: str | None
    converter: str | None
    correlation_id: str | None
    serial_number: str | None
    part_number: str | None
    attempts: int
    next_attempt_at: float
    last_error: str | None
    server_answer: str | None
    created_at: float
    updated_at: float
    done_at: float | None
    payload: str | None = None

    def as_dict(self, *, payload: bool = False) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _COLUMNS}
        if payload:
            data["payload"] = self.payload
        return data


def _wrap(error: sqlite3.Error, doing: str) -> QueueError:
    code = getattr(error, "sqlite_errorcode", None)
    full = code == sqlite3.SQLITE_FULL if code is not None else "full" in str(error).lower()
    return QueueError(f"queue database error while {doing}: {error}", disk_full=full)


class ReportQueue:
    """The queue in one SQLite file (see the module docstring). Not thread-safe: one thread at a time."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time, cache_kib: int = 2048) -> None:
        self.path = Path(path)
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute(f"PRAGMA cache_size=-{int(cache_kib)}")  # KiB of page cache for this connection
            self._db.executescript(SCHEMA)
        except sqlite3.Error as error:
            raise _wrap(error, f"opening {self.path}") from None

    def close(self) -> None:
        self._db.close()

    # -- writing ---------------------------------------------------------------------------------------------

    def _transaction(self, doing: str, work: Callable[[sqlite3.Connection], T], *, durable: bool = True) -> T:
        try:
            if not durable:
                self._db.execute("PRAGMA synchronous=NORMAL")  # rule 5; set back below
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result
        except sqlite3.Error as error:
            if self._db.in_transaction:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise _wrap(error, doing) from None
        finally:
            if not durable:
                try:
                    self._db.execute("PRAGMA synchronous=FULL")
                except sqlite3.Error:
                    pass

    def enqueue(self, reports: Sequence[NewReport], source: SourceRecord | None = None) -> list[str]:
        """Add reports durably (and the source to the ledger) in one transaction.

        Returns, for each report, what happened: ``"added"``, ``"unchanged"`` (same id, same content) or
        ``"replaced"`` (same id, new content: it will be sent again).
        """
        now = self._clock()

        def work(db: sqlite3.Connection) -> list[str]:
            outcomes = []
            for report in reports:
                digest = hashlib.sha256(report.payload.encode()).hexdigest()
                row = db.execute("SELECT state, payload_sha256 FROM reports WHERE id = ?", (report.id,)).fetchone()
                if row is not None and row["payload_sha256"] == digest:
                    outcomes.append("unchanged")
                    continue
                values = (report.payload, digest, len(report.payload.encode()), report.source, report.source_sha256,
                          report.converter, report.correlation_id, report.serial_number, report.part_number)  # fmt: skip
                if row is None:
                    db.execute(
                        "INSERT INTO reports (payload, payload_sha256, size, source, source_sha256, converter, "
                        "correlation_id, serial_number, part_number, id, state, next_attempt_at, created_at, "
                        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                        (*values, report.id, now, now, now),
                    )
                    outcomes.append("added")
                else:
                    # An upload of the old content may be in flight: keep its state, bump the revision, and
                    # complete() will put the row back to pending instead of done.
                    db.execute(
                        "UPDATE reports SET payload = ?, payload_sha256 = ?, size = ?, source = ?, source_sha256 = ?, "
                        "converter = ?, correlation_id = ?, serial_number = ?, part_number = ?, "
                        "revision = revision + 1, attempts = 0, last_error = NULL, next_attempt_at = ?, "
                        "updated_at = ?, done_at = NULL, "
                        "state = CASE WHEN state = 'uploading' THEN 'uploading' ELSE 'pending' END WHERE id = ?",
                        (*values, now, now, report.id),
                    )
                    outcomes.append("replaced")
            if source is not None:
                self._record_source(db, source, now)
            return outcomes

        return self._transaction("adding reports", work)

    def record_source(self, source: SourceRecord) -> None:
        """Add a source file to the ledger on its own (a file that failed to convert)."""
        self._transaction("recording a source", lambda db: self._record_source(db, source, self._clock()))

    @staticmethod
    def _record_source(db: sqlite3.Connection, source: SourceRecord, now: float) -> None:
        db.execute(
            "INSERT OR REPLACE INTO sources (path, size, mtime_ns, sha256, converter, outcome, reports, detail, "
            "taken_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (source.path, source.size, source.mtime_ns, source.sha256, source.converter, source.outcome,
             source.reports, source.detail, now),
        )  # fmt: skip

    def recover(self) -> int:
        """Put rows a dead service left ``uploading`` back to ``pending``; how many. Call only while holding
        the instance lock."""
        return self._transaction("recovering interrupted uploads", lambda db: db.execute(
            "UPDATE reports SET state = 'pending', updated_at = ? WHERE state = 'uploading'", (self._clock(),)
        ).rowcount, durable=False)  # fmt: skip

    def claim(self, limit: int) -> list[QueueItem]:
        """Up to ``limit`` due pending rows, oldest due first, now ``uploading``, with their payloads."""
        now = self._clock()

        def work(db: sqlite3.Connection) -> list[QueueItem]:
            rows = db.execute(
                "SELECT * FROM reports WHERE state = 'pending' AND next_attempt_at <= ? "
                "ORDER BY next_attempt_at, created_at LIMIT ?", (now, limit),
            ).fetchall()  # fmt: skip
            if rows:
                db.executemany(
                    "UPDATE reports SET state = 'uploading', attempts = attempts + 1, updated_at = ? WHERE id = ?",
                    [(now, row["id"]) for row in rows],
                )
            return [_item(row, payload=True, claimed=True) for row in rows]

        return self._transaction("claiming reports", work, durable=False)

    def unclaim(self, ids: Sequence[str]) -> int:
        """Claimed rows that were not sent after all back to pending, their attempt not counted; how many."""
        now = self._clock()
        return self._transaction("returning claimed reports", lambda db: sum(db.execute(
            "UPDATE reports SET state = 'pending', attempts = MAX(attempts - 1, 0), updated_at = ? "
            "WHERE id = ? AND state = 'uploading'", (now, report_id)).rowcount for report_id in ids
        ), durable=False)  # fmt: skip

    def complete(self, results: Iterable[tuple[str, int, str]]) -> int:
        """Mark uploads the server accepted as done: ``(id, revision, server answer)`` each. A row whose content
        was replaced during the upload goes back to pending. Returns how many became done."""
        now = self._clock()
        results = list(results)

        def work(db: sqlite3.Connection) -> int:
            done = 0
            for report_id, revision, answer in results:
                cursor = db.execute(
                    "UPDATE reports SET state = 'done', payload = NULL, done_at = ?, updated_at = ?, last_error = NULL, "
                    "server_answer = ? WHERE id = ? AND revision = ? AND state = 'uploading'",
                    (now, now, answer, report_id, revision),
                )  # fmt: skip
                if cursor.rowcount:
                    done += 1
                else:
                    db.execute("UPDATE reports SET state = 'pending', updated_at = ? WHERE id = ? AND state = 'uploading'",
                               (now, report_id))  # fmt: skip
            return done

        return self._transaction("marking uploads done", work, durable=False) if results else 0

    def reschedule(self, report_id: str, *, delay: float, error: str | None, count_attempt: bool = True) -> None:
        """Back to pending, due in ``delay`` seconds (a transient failure, or an upload that was not made)."""
        now = self._clock()
        self._transaction("rescheduling a report", lambda db: db.execute(
            "UPDATE reports SET state = 'pending', next_attempt_at = ?, updated_at = ?, "
            "last_error = COALESCE(?, last_error), attempts = attempts - ? WHERE id = ? AND state = 'uploading'",
            (now + max(delay, 0.0), now, error, 0 if count_attempt else 1, report_id),
        ), durable=False)  # fmt: skip

    def fail(self, report_id: str, error: str) -> None:
        """The server rejected the report: dead-letter it with the server's reason."""
        self._set_state(report_id, "failed", error, only_from=("uploading",))

    def hold(self, report_id: str, error: str) -> None:
        """A configuration fault (401, 403, wrong URL, TLS): keep the report until the fault is fixed."""
        self._set_state(report_id, "held", error, only_from=("uploading",))

    def _set_state(self, report_id: str, state: str, error: str | None, only_from: Sequence[str]) -> int:
        now = self._clock()
        marks = ", ".join("?" for _ in only_from)
        return self._transaction(f"marking a report {state}", lambda db: db.execute(
            f"UPDATE reports SET state = ?, last_error = COALESCE(?, last_error), updated_at = ? "
            f"WHERE id = ? AND state IN ({marks})", (state, error, now, report_id, *only_from),
        ).rowcount)  # fmt: skip

    def release_held(self) -> int:
        """Every held row back to pending, due now (the fault was fixed); how many."""
        now = self._clock()
        return self._transaction("releasing held reports", lambda db: db.execute(
            "UPDATE reports SET state = 'pending', next_attempt_at = ?, updated_at = ? WHERE state = 'held'",
            (now, now),
        ).rowcount)  # fmt: skip

    def make_due(self) -> int:
        """Every pending row due now (the server is back: no need to wait out each backoff); how many."""
        now = self._clock()
        return self._transaction("making reports due", lambda db: db.execute(
            "UPDATE reports SET next_attempt_at = ? WHERE state = 'pending' AND next_attempt_at > ?", (now, now)
        ).rowcount, durable=False)  # fmt: skip

    def retry(self, ids: Sequence[str] | None = None, *, states: Sequence[str] = ("failed", "held")) -> int:
        """Failed (and held) rows back to pending with a fresh attempt count: all of them, or those in ``ids``
        (pending rows named in ``ids`` become due now). How many."""
        now = self._clock()
        named = (*states, "pending")

        def work(db: sqlite3.Connection) -> int:
            def sql(chosen: tuple[str, ...]) -> str:
                marks = ", ".join("?" for _ in chosen)
                return (f"UPDATE reports SET state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? "
                        f"WHERE state IN ({marks})")  # fmt: skip

            if ids is None:
                return db.execute(sql(tuple(states)), (now, now, *states)).rowcount
            return sum(db.execute(sql(named) + " AND id = ?", (now, now, *named, report_id.lower())).rowcount
                       for report_id in ids)  # fmt: skip

        return self._transaction("retrying reports", work)

    def drop(self, ids: Sequence[str]) -> int:
        """Delete rows (never one being uploaded right now); how many."""
        return self._transaction("dropping reports", lambda db: sum(
            db.execute("DELETE FROM reports WHERE id = ? AND state != 'uploading'", (report_id,)).rowcount
            for report_id in ids
        ))  # fmt: skip

    def prune(self, retention_s: float) -> int:
        """Delete done rows older than ``retention_s`` (and ledger entries of sources as old); how many reports."""
        cutoff = self._clock() - retention_s

        def work(db: sqlite3.Connection) -> int:
            removed = db.execute("DELETE FROM reports WHERE state = 'done' AND done_at < ?", (cutoff,)).rowcount
            db.execute("DELETE FROM sources WHERE taken_at < ?", (cutoff,))
            return removed

        return self._transaction("pruning the ledger", work)

    # -- reading ---------------------------------------------------------------------------------------------

    def _read(self, doing: str, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise _wrap(error, doing) from None

    def writable(self) -> bool:
        """Whether a write transaction can be started now (the database is not read-only, locked or gone)."""
        self._transaction("checking the queue is writable", lambda db: None, durable=False)
        return True

    def counts(self) -> dict[str, int]:
        """Rows by state (every state listed, 0 included)."""
        counts = dict.fromkeys(STATES, 0)
        for row in self._read("counting", "SELECT state, COUNT(*) AS n FROM reports GROUP BY state"):
            counts[row["state"]] = row["n"]
        return counts

    def summary(self) -> dict[str, Any]:
        """Counts by state and the oldest waiting report's age, in one call (what status shows)."""
        return {**self.counts(), "oldest_pending_age_s": self.oldest_pending_age()}

    def active_count(self) -> int:
        marks = ", ".join("?" for _ in ACTIVE_STATES)
        return self._read("counting", f"SELECT COUNT(*) FROM reports WHERE state IN ({marks})", ACTIVE_STATES)[0][0]

    def oldest_pending_age(self) -> float | None:
        """Seconds since the oldest report waiting to be sent (pending, uploading or held) was queued."""
        row = self._read("reading ages", "SELECT MIN(created_at) FROM reports WHERE state IN "
                                         "('pending', 'uploading', 'held')")[0]  # fmt: skip
        return None if row[0] is None else max(0.0, self._clock() - row[0])

    def next_due(self) -> float | None:
        """Seconds until the next pending row is due (0 when one is due now), None when none is pending."""
        row = self._read("reading due times", "SELECT MIN(next_attempt_at) FROM reports WHERE state = 'pending'")[0]
        return None if row[0] is None else max(0.0, row[0] - self._clock())

    def get(self, report_id: str, *, payload: bool = False) -> QueueItem | None:
        rows = self._read("reading a report", "SELECT * FROM reports WHERE id = ?", (report_id.lower(),))
        return _item(rows[0], payload=payload) if rows else None

    def list(self, state: str | None = None, *, limit: int = 100, offset: int = 0) -> list[QueueItem]:
        """Rows newest first, of one state or all."""
        if state is not None and state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, not {state!r}")
        where, params = ("WHERE state = ?", [state]) if state else ("", [])
        rows = self._read("listing reports", f"SELECT * FROM reports {where} ORDER BY created_at DESC, id "
                                             "LIMIT ? OFFSET ?", (*params, limit, offset))  # fmt: skip
        return [_item(row) for row in rows]

    def source_taken(self, path: str, size: int, mtime_ns: int) -> SourceRecord | None:
        """The ledger entry of this exact file (path, size and modification time), if it was taken before."""
        rows = self._read("reading the ledger", "SELECT * FROM sources WHERE path = ? AND size = ? AND mtime_ns = ?",
                          (path, size, mtime_ns))  # fmt: skip
        if not rows:
            return None
        row = rows[0]
        return SourceRecord(row["path"], row["size"], row["mtime_ns"], row["sha256"], row["converter"], row["outcome"],
                            row["reports"], row["detail"])  # fmt: skip


def _item(row: sqlite3.Row, *, payload: bool = False, claimed: bool = False) -> QueueItem:
    values = {name: row[name] for name in _COLUMNS}
    if claimed:  # the row as it is after claim()
        values.update(state="uploading", attempts=row["attempts"] + 1)
    return QueueItem(**values, payload=row["payload"] if payload else None)


class ThreadQueues:
    """One :class:`ReportQueue` connection per thread, for worker threads that write the queue themselves (the
    intake's conversion workers: read, convert, enqueue and move a file without a hop back to the loop)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._opened: list[ReportQueue] = []
        self._lock = threading.Lock()

    def get(self) -> ReportQueue:
        queue = getattr(self._local, "queue", None)
        if queue is None:
            # Small page caches: there is one connection per worker thread, and the OS caches the file anyway.
            queue = self._local.queue = ReportQueue(self.path, cache_kib=256)
            with self._lock:
                self._opened.append(queue)
        return queue

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for queue in opened:
            try:
                queue.close()
            except sqlite3.Error:
                pass


class AsyncReportQueue:
    """The queue for asyncio code: every call runs on one dedicated thread, in order, never on the loop."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pywats-queue")
        self._queue = self._executor.submit(ReportQueue, path, clock=clock).result()
        self.path = self._queue.path

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        function = getattr(self._queue, method)
        return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: function(*args, **kwargs))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_") or not callable(getattr(ReportQueue, name, None)):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def close(self) -> None:
        self._executor.submit(self._queue.close).result()
        self._executor.shutdown(wait=True)


__all__ = ["ACTIVE_STATES", "STATES", "AsyncReportQueue", "NewReport", "QueueError", "QueueItem", "ReportQueue",
           "SourceRecord", "ThreadQueues"]  # fmt: skip

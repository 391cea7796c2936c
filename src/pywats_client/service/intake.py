"""Intake: one converter entry's watch folder → conversion → durable queue → done folder.

The order of one source (the rule everything else relies on):

1. the scanner judges it stable and takeable;
2. it is read completely and closed, and converted (within its time limit);
3. its reports are written to the queue, committed and synced (:meth:`ReportQueue.enqueue`), together with a
   ledger entry for the source;
4. only then is the post-action applied (move / zip / delete / keep).

Steps 2-4 run on one worker thread of the conversion pool, with that thread's own queue connection, so a file
costs the event loop one hand-over, not five. A crash between 3 and 4 leaves the file in place: it is taken again,
the ledger knows it, and only the post-action is done. A source that fails to convert goes to the error folder
with a ``.error.txt``. A file a tester still holds, a vanished file, a full disk: each leaves the file where it is,
to be tried again later; nothing is dropped.

A conversion that overruns its time limit is abandoned: the source goes to the error folder, and the worker,
should the converter ever return, finds its job cancelled and writes nothing (a lock per job makes "cancelled"
and "queued" exclusive).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pywats.formats import wsjf

from ..config import ConverterConfig
from ..converters import ConversionContext, ConversionError, Converter, ConverterCrashed, SourceFile, SourceFolder
from ..converters import convert_source
from ..converters.sandbox import SandboxedConverter
from ..converters.sources import sidecar_paths
from ..postactions import finish, to_error_folder
from ..queue import NewReport, QueueError, SourceRecord, ThreadQueues
from ..scanner import Entry, FolderScanner
from .conversions import ConversionPool
from .events import Alerts, EventBus, Stats, wait_event

log = logging.getLogger("pywats_client.intake")


@dataclass
class IntakeSettings:
    """What intake reads from the configuration on every pass (so a hot reload applies at once)."""

    rescan_interval_s: float = 30.0
    polling: bool = False
    polling_interval_s: float = 2.0
    stability_window_s: float = 0.5
    max_queue_size: int = 100_000


@dataclass
class _Job:
    entry: Entry
    correlation_id: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    cancelled: bool = False


@dataclass
class _Outcome:
    """What became of one source (reported by the event loop: events, counters, wake-ups)."""

    kind: str  # queued, failed, again (already in the ledger), full, changed, gone, unreadable, abandoned
    reports: int = 0
    new: int = 0
    reason: str = ""
    seconds: float = 0.0


@dataclass
class IntakeBase:
    """What every intake of a converter entry has (file and folder intake here, scheduled in :mod:`.scheduled`)."""

    entry: ConverterConfig
    converter: Converter
    queues: ThreadQueues
    pool: Callable[[], ConversionPool]
    context: Callable[[], ConversionContext]
    gate: Callable[[], str | None]
    """None when new sources may be taken, else why not (paused, disk low, queue full)."""
    bus: EventBus
    stats: Stats
    alerts: Alerts
    on_queued: Callable[[], None]
    on_fatal: Callable[[BaseException], None]

    @property
    def name(self) -> str:
        return self.entry.name

    def _queue_failed(self, error: QueueError) -> None:
        """A full disk pauses intake with an alert (nothing was acknowledged); any other queue error is fatal."""
        if error.disk_full:
            self.alerts.raise_("disk_full", f"the queue's disk is full: intake waits ({error})")
        else:
            self.on_fatal(error)


@dataclass
class Intake(IntakeBase):
    """The intake of one watch folder. :meth:`run` is a supervised task of the service."""

    watch: Path
    done: Path
    error: Path
    settings: Callable[[], IntakeSettings]
    trigger: asyncio.Event = field(default_factory=asyncio.Event)
    scanner: FolderScanner = field(init=False)
    _backlog: collections.deque[Entry] = field(init=False, default_factory=collections.deque)
    _in_flight: dict[Path, asyncio.Task[None]] = field(init=False, default_factory=dict)
    _kept: set[tuple[str, int, int]] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        patterns = self.entry.patterns or list(self.converter.patterns)
        self.scanner = FolderScanner(
            self.watch, patterns=patterns, kind=self.converter.kind, recursive=self.entry.recursive,
            exclude=(self.done, self.error), stability_window=self.settings().stability_window_s,
            ready_marker=self.entry.ready_marker, folder_ready=getattr(self.converter, "is_ready", None),
        )  # fmt: skip

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def _time_limit(self) -> float:
        # A sandboxed converter enforces timeout_s itself (and says so more precisely); the pool's limit is the
        # backstop, with room for reading the file and the sandbox's own kill.
        return self.entry.timeout_s + (10.0 if isinstance(self.converter, SandboxedConverter) else 0.0)

    async def run(self) -> None:
        await asyncio.to_thread(self.make_folders)
        while True:
            settings = self.settings()
            self.scanner.stability_window = settings.stability_window_s
            wait = settings.polling_interval_s if settings.polling else settings.rescan_interval_s
            if self.gate() is None:
                recheck = await self._take_some()
                if recheck is not None:
                    wait = min(wait, recheck + 0.005)
            else:
                wait = min(wait, 1.0)  # look again soon: pauses and disk space change
            self.trigger.clear()
            await wait_event(self.trigger, wait)

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` for sources being converted; whatever is not done stays in the watch folder."""
        tasks = list(self._in_flight.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        for task in tasks:
            task.cancel()

    def make_folders(self) -> None:
        for folder in (self.watch, self.done, self.error):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                log.warning("%s: cannot create %s: %s (looking again at the next scan)", self.name, folder, error)

    async def _take_some(self) -> float | None:
        limit = self.pool().concurrency * 2
        recheck: float | None = None
        if not self._backlog:
            if not self.watch.is_dir():
                await asyncio.to_thread(self.make_folders)
            result = await asyncio.to_thread(self.scanner.scan, list(self._in_flight))
            self._backlog.extend(entry for entry in result.ready
                                 if (str(entry.path), entry.size, entry.mtime_ns) not in self._kept)  # fmt: skip
            recheck = result.recheck_in
        while self._backlog and len(self._in_flight) < limit:
            entry = self._backlog.popleft()
            if entry.path not in self._in_flight:
                self._in_flight[entry.path] = asyncio.create_task(self._take(entry), name=f"take {entry.path.name}")
        if self._backlog:
            recheck = 0.0
        return recheck

    # -- one source, on the event loop ----------------------------------------------------------------------

    async def _take(self, entry: Entry) -> None:
        job = _Job(entry, uuid.uuid4().hex[:12])
        try:
            try:
                outcome = await self.pool().run(lambda: self._process(job), timeout=self._time_limit,
                                                what=f"{self.name}: {entry.path.name}")  # fmt: skip
            except ConverterCrashed as error:  # the time limit: abandon the job, set the file aside
                outcome = await asyncio.to_thread(self._abandon, job, str(error))
            self._report(job, outcome)
        except QueueError as error:
            self._queue_failed(error)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - one file's trouble must not end the intake
            log.exception("%s: unexpected error with %s", self.name, entry.path)
            self.stats.error(self.name, f"{entry.path.name}: {error}")
        finally:
            self._in_flight.pop(entry.path, None)
            self.scanner.forget(entry.path)
            if self._backlog or not self._in_flight:
                self.trigger.set()

    def _report(self, job: _Job, outcome: _Outcome) -> None:
        source = str(job.entry.path)
        extra = {"correlation_id": job.correlation_id}
        if outcome.kind in ("queued", "failed"):
            self.stats.files_picked += 1
            self.bus.publish("picked_up", converter=self.name, source=source, correlation_id=job.correlation_id)
        if outcome.kind == "queued":
            self.stats.conversions[(self.name, "ok")] += 1
            log.info("%s: %s → %d report(s) queued (%d new) in %.3f s", self.name, job.entry.path.name,
                     outcome.reports, outcome.new, outcome.seconds, extra=extra)  # fmt: skip
            self.bus.publish("converted", converter=self.name, source=source, reports=outcome.reports,
                             seconds=outcome.seconds, correlation_id=job.correlation_id)  # fmt: skip
            if outcome.new:
                self.on_queued()
        elif outcome.kind == "failed":
            self.stats.conversions[(self.name, "failed")] += 1
            self.stats.error(self.name, f"{job.entry.path.name}: {outcome.reason}")
            log.warning("%s: %s failed to convert: %s", self.name, job.entry.path.name, outcome.reason, extra=extra)
            self.bus.publish("conversion_failed", converter=self.name, source=source, reason=outcome.reason,
                             correlation_id=job.correlation_id)  # fmt: skip
        elif outcome.kind == "full":
            limit = self.settings().max_queue_size
            self.alerts.raise_("queue_full", f"the queue holds {limit} reports waiting (max_queue_size): intake waits")
        elif outcome.kind == "changed":
            log.info("%s: %s changed while it was read; waiting for it to settle", self.name, job.entry.path.name)
        elif outcome.kind == "unreadable":
            log.warning("%s: cannot read %s: %s (trying again later)", self.name, job.entry.path.name, outcome.reason)

    # -- one source, on a worker thread ---------------------------------------------------------------------

    def _key(self, entry: Entry) -> tuple[str, int, int]:
        return str(entry.path), entry.size, entry.mtime_ns

    def _process(self, job: _Job) -> _Outcome:
        """Ledger check, read, convert, enqueue, post-action (see the module docstring)."""
        entry = job.entry
        queue = self.queues.get()
        ledger = queue.source_taken(*self._key(entry))
        if ledger is not None:  # taken before: only the post-action is left to do (or it is kept on purpose)
            self._after(entry, ledger.outcome, ledger.detail or "")
            return _Outcome("again")
        if queue.active_count() >= self.settings().max_queue_size:
            return _Outcome("full")  # the file waits in the watch folder until the queue has room
        started = time.perf_counter()
        try:
            source = SourceFolder.read(entry.path) if entry.is_dir else SourceFile.read(entry.path)
            if not entry.is_dir:
                stat = entry.path.stat()
                if (stat.st_size, stat.st_mtime_ns) != (entry.size, entry.mtime_ns) or len(source.data) != entry.size:
                    return _Outcome("changed")
        except FileNotFoundError:
            return _Outcome("gone")
        except (OSError, ConversionError) as error:
            return _Outcome("unreadable", reason=str(error))
        try:
            conversion = convert_source(self.converter, source, self.context())
            reports = [
                NewReport(id=str(report.id).lower(), payload=wsjf.dumps(report), source=str(entry.path),
                          source_sha256=source.sha256, converter=conversion.converter.name,
                          correlation_id=job.correlation_id, serial_number=report.sn, part_number=report.pn)
                for report in conversion.reports
            ]  # fmt: skip
        except ConversionError as error:
            with job.lock:
                if job.cancelled:
                    return _Outcome("abandoned")
                record = SourceRecord(*self._key(entry), source.sha256, self.converter.name, "error", 0, str(error))
                queue.record_source(record)
                self._after(entry, "error", str(error))
            return _Outcome("failed", reason=str(error))
        with job.lock:
            if job.cancelled:
                return _Outcome("abandoned")
            record = SourceRecord(*self._key(entry), source.sha256, conversion.converter.name, "queued", len(reports))
            outcomes = queue.enqueue(reports, record)
            self._after(entry, "queued", "")
        new = sum(outcome != "unchanged" for outcome in outcomes)
        return _Outcome("queued", reports=len(reports), new=new, seconds=time.perf_counter() - started)

    def _abandon(self, job: _Job, reason: str) -> _Outcome:
        """The conversion overran its time limit: set the file aside (unless the worker just queued it)."""
        with job.lock:
            job.cancelled = True
            try:
                stat = job.entry.path.stat()
            except OSError:
                return _Outcome("gone")
            if (stat.st_size, stat.st_mtime_ns) != (job.entry.size, job.entry.mtime_ns):
                return _Outcome("changed")
            record = SourceRecord(*self._key(job.entry), "", self.converter.name, "error", 0, reason)
            self.queues.get().record_source(record)
            self._after(job.entry, "error", reason)
        return _Outcome("failed", reason=reason)

    def _companions(self, entry: Entry) -> list[Path]:
        companions = sidecar_paths(entry.path) if entry.is_dir else []
        if self.entry.ready_marker:
            companions.append(Path(str(entry.path) + self.entry.ready_marker))
        return companions

    def _after(self, entry: Entry, outcome: str, reason: str) -> None:
        """The post-action for a source already recorded in the ledger (tried again at the next scan if it fails)."""
        companions = self._companions(entry)
        try:
            if outcome == "error":
                to_error_folder(entry.path, self.watch, self.error, converter=self.converter.name, reason=reason,
                                companions=companions)  # fmt: skip
            elif self.entry.post_action == "keep":
                self._kept.add(self._key(entry))
                if self.entry.ready_marker:  # the marker has done its job; the file itself stays
                    Path(str(entry.path) + self.entry.ready_marker).unlink(missing_ok=True)
            else:
                finish(entry.path, self.entry.post_action, self.watch, self.done, companions)
        except FileNotFoundError:
            pass  # someone else moved it already
        except OSError as error:
            log.warning("%s: %s could not be moved out of the watch folder: %s (trying again at the next scan)",
                        self.name, entry.path.name, error)  # fmt: skip


__all__ = ["Intake", "IntakeBase", "IntakeSettings"]

"""Running an untrusted converter in a child process, with a time limit, a memory limit and an output cap.

A converter loaded from a user's file (``path/to/file.py::Class``) is code nobody reviewed: it may crash the
interpreter, hang, eat memory or print rubbish. :class:`SandboxedConverter` runs it in a worker process
(``python -m pywats_client.converters._sandbox_worker``) and looks, to the service, like any other converter.
:func:`make_converter` decides, from a converter entry, whether to sandbox.

What is enforced, and how:

==================  ==========================================================================================
time                ``timeout_s`` per call: at the limit the worker (on POSIX its whole process group) is
                    killed → :class:`ConverterCrashed` "timed out ... and was stopped"; the next call starts a
                    fresh worker. Starting a worker (interpreter, imports, loading the file) has its own
                    limit, ``max(timeout_s, 30)``, and does not eat into the call's.
memory              ``memory_mb`` (default 1024): ``setrlimit(RLIMIT_AS)``, soft and hard, in the worker before
                    the converter is loaded, so allocation beyond it raises MemoryError there (→
                    :class:`ConverterCrashed` "ran out of memory"; the worker is replaced). **Not enforced on
                    Windows** (no ``resource`` module; a Job object would do it, this module has none), nor
                    where ``setrlimit`` refuses (some macOS versions): the worker says so at start and it is
                    logged once as a warning.
output              ``max_output_mb`` (default 256) per call, reports and log messages together: beyond it
                    the worker is killed → :class:`ConverterCrashed` "... more than N MB".
death               exit code, signal, a crash of the interpreter → :class:`ConverterCrashed` with the exit
                    code or signal and the last lines the worker wrote to stderr.
garbage             anything on the protocol channel that is not a frame of the protocol (see below) →
                    :class:`ConverterCrashed` "... wrote garbage ..."; the worker is killed.
==================  ==========================================================================================

The protocol (:mod:`._sandbox_worker`) runs over a private channel: the worker duplicates its stdin and stdout
to new file descriptors and turns fd 0 into the null device and fd 1 into a copy of stderr before it loads
the converter. **A converter that prints to stdout still works**: its prints (``print``, ``sys.stdout``,
``os.write(1, ...)``, native code) go to stderr, which the parent keeps the last lines of (and logs at debug
level). Only bytes written to the private channel itself can confuse the protocol, and they are detected:
every frame starts with a magic number and a length, messages are JSON, reports are WSJF text that the
parent parses again (and :func:`~pywats_client.converters.run.convert_source` re-validates, as for every
converter that is not built in). On Windows, native code or a child process writing to the *standard output
handle* (not fd 1) reaches the channel and is reported as garbage; Python code is redirected as on POSIX.

What comes back:

- reports: parsed from WSJF in the parent, equal to what the converter made in its process;
- :class:`ConversionError` raised by the converter: the same class (:class:`ConverterCrashed` stays
  :class:`ConverterCrashed`), message, ``line``, ``element`` and ``field``; the worker is kept;
- any other exception (a bug): :class:`ConverterCrashed` "converter X 1.0 failed: TypeError: ... (at
  file.py:12)", as in process; the worker is replaced, since its state may be broken;
- something that is not a list of reports: :class:`ConverterCrashed` naming what it was; the worker is kept;
- the converter's log records (any logger, INFO and up): logged in the parent on the call's
  ``context.log``.

Threads: **one worker per calling thread**. The service converts on up to ``conversion_concurrency`` threads
at once; a call takes an idle worker or starts a new one, and gives it back afterwards, so concurrent
conversions run in parallel (the GIL does not serialise them, as it would in process) and no call's time
limit is spent waiting behind another's. At most ``idle_workers`` (default 2) are kept between calls; the
others are stopped when they are given back, so a burst does not leave ten interpreters idling. A worker is
replaced after a timeout, a crash, garbage, an oversized answer, MemoryError or a converter bug; a
:class:`ConversionError` (a bad file) keeps it. :meth:`SandboxedConverter.close` stops every worker (busy
ones when their call ends); workers also end when the converter is garbage-collected, when this process
exits, or (POSIX) within a second of this process dying.

The sandbox protects the service from *broken* converters, it is no security boundary against a hostile one:
the worker runs as the same user, with the same file access (the instance's ``config.json`` included). It
does not get this process's ``PYWATS_*`` environment variables (the API token may be one of them).
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Mapping
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ConfigDict

from pywats import ReportFormatError
from pywats.formats import wsjf

from . import _sandbox_worker as protocol
from .base import ConversionContext, Converter, ConverterArgumentError, ConverterArguments, Report
from .errors import ConversionError, ConverterCrashed, ConverterLoadError
from .loader import load_converter_class
from .sources import Source, SourceFile, SourceFolder

log = logging.getLogger("pywats_client.converters.sandbox")

DEFAULT_MEMORY_MB = 1024
DEFAULT_MAX_OUTPUT_MB = 256
STDERR_LINES = 12
START_TIMEOUT_MIN_S = 30.0


class SandboxedArguments(ConverterArguments):
    """The arguments of a sandboxed converter as its own schema validated them in the worker (any keys)."""

    model_config = ConfigDict(extra="allow", frozen=True)


def is_file_spec(spec: str) -> bool:
    """Whether ``spec`` names a converter in a Python file (``path/to/file.py::Class``)."""
    return "::" in spec.strip()


def make_converter(
    spec: str, arguments: Mapping[str, Any] | None, *, base_dir: Path | None, sandbox: bool | None, timeout_s: float,
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> Converter:  # fmt: skip
    """The converter a configuration entry asks for: in this process, or in a sandbox.

    ``sandbox`` True: sandboxed; False: in process; None: sandboxed when ``spec`` is a file
    (``path/to/file.py::Class``), in process for built-in converters, plug-ins and importable classes.

    Raises:
        ConverterLoadError: the converter cannot be loaded (the worker's message when sandboxed).
        ConverterArgumentError: the arguments do not fit its schema.
    """
    use_sandbox = is_file_spec(spec) if sandbox is None else sandbox
    if not use_sandbox:
        return load_converter_class(spec, base_dir=base_dir)(arguments)
    return SandboxedConverter(spec, arguments, base_dir=base_dir, timeout_s=timeout_s, memory_mb=memory_mb)


class SandboxedConverter(Converter):
    """A converter that runs in worker processes (see the module docstring for limits and threads).

    Creating it starts one worker, which loads ``spec`` and reports the converter's metadata (``name``,
    ``version``, ``patterns``, ``kind``, ``source_ids``, the argument schema and the validated arguments).

    Raises (on creation):
        ConverterLoadError: the worker could not load the converter (its message), or did not start.
        ConverterArgumentError: the arguments do not fit the converter's schema.
    """

    Arguments: ClassVar[type[ConverterArguments]] = SandboxedArguments

    def __init__(
        self, spec: str, arguments: Mapping[str, Any] | None = None, *, base_dir: Path | None = None,
        timeout_s: float = 60.0, memory_mb: int | None = DEFAULT_MEMORY_MB,
        max_output_mb: float = DEFAULT_MAX_OUTPUT_MB, idle_workers: int = 2,
    ) -> None:  # fmt: skip
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.spec = spec
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.timeout_s = float(timeout_s)
        self.memory_mb = memory_mb
        self.max_output_bytes = int(max_output_mb * 1024 * 1024)
        self.idle_workers = max(0, int(idle_workers))
        self._init_arguments = dict(arguments or {})
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._closed = False
        self._replacing = False
        self._warned_memory = False
        first = _Worker.start(self._init_message(), label=f"converter {spec!r}", max_output=self.max_output_bytes,
                              start_timeout=self.start_timeout_s, for_load=True)  # fmt: skip
        try:
            meta = self._meta = first.meta
            self.name = str(meta["name"])  # type: ignore[misc]
            self.version = str(meta["version"])  # type: ignore[misc]
            self.description = str(meta["description"])  # type: ignore[misc]
            self.patterns = tuple(str(pattern) for pattern in meta["patterns"])  # type: ignore[misc]
            self.kind = str(meta["kind"])  # type: ignore[misc]
            self.source_ids = bool(meta["source_ids"])  # type: ignore[misc]
            self.interval_s = float(meta["interval_s"])
            self.arguments = SandboxedArguments.model_validate(meta["arguments"])
            self._schema = dict(meta["schema"])
        except (KeyError, TypeError, ValueError) as error:
            first.kill()
            raise ConverterLoadError(f"converter {spec!r}: its sandbox worker misdescribed it: {error!r}") from None
        self._label = f"converter {self.name} {self.version}"
        first.label = self._label
        self._note_memory(first)
        self._idle.append(first)
        self._finalizer = weakref.finalize(self, _stop_workers, self._idle, self._busy, self._lock)

    # -- the converter interface ------------------------------------------------------------------------------

    @property
    def start_timeout_s(self) -> float:
        return max(self.timeout_s, START_TIMEOUT_MIN_S)

    def argument_schema(self) -> dict[str, Any]:  # type: ignore[override]
        """The JSON schema of the sandboxed converter's arguments (as its class gives it)."""
        return dict(self._schema)

    def matches(self, name: str) -> bool:  # type: ignore[override]
        import fnmatch

        lowered = name.lower()
        return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in self.patterns)

    def convert(self, source: Source, context: ConversionContext) -> list[Report]:  # type: ignore[override]
        """The reports the sandboxed converter makes of ``source`` (see the module docstring for failures).

        Raises:
            ConversionError: the converter refused the source (its own error).
            ConverterCrashed: the converter or its worker failed, timed out or broke the protocol.
        """
        request, blobs = _source_request(source)
        request.update(op="convert", context=_context_message(context))
        answer, reports = self._call(request, blobs, f"converting {source.name}", context)
        return self._parse_reports(reports)

    def run(self, context: ConversionContext) -> list[Report]:
        """A scheduled converter's run, in the sandbox (same failures as :meth:`convert`)."""
        answer, reports = self._call({"op": "run", "context": _context_message(context)}, [], "running", context)
        return self._parse_reports(reports)

    def validate(self, source: Source) -> float:  # type: ignore[override]
        """The sandboxed converter's confidence; 0 when its ``validate`` breaks or its worker fails (logged)."""
        request, blobs = _source_request(source)
        request["op"] = "validate"
        try:
            answer, _ = self._call(request, blobs, f"validating {source.name}", None)
        except ConversionError as error:
            log.warning("%s: validate(%s) failed: %s", self._label, source.name, error)
            return 0.0
        return float(answer.get("value") or 0.0)

    def is_ready(self, folder: Path) -> bool:
        """The sandboxed folder converter's ``is_ready`` (True when it has none); False when it fails (logged)."""
        if not self._meta.get("has_is_ready"):
            return True
        try:
            answer, _ = self._call({"op": "is_ready", "path": str(folder)}, [], f"checking {folder.name}", None)
        except ConversionError as error:
            log.warning("%s: is_ready(%s) failed: %s (looking again later)", self._label, folder.name, error)
            return False
        return bool(answer.get("value"))

    def close(self) -> None:
        """Stop the workers: idle ones now, busy ones when their call ends. Calls after this fail."""
        with self._lock:
            self._closed = True
            idle, self._idle[:] = list(self._idle), []
        for worker in idle:
            worker.stop()

    @property
    def worker_pids(self) -> list[int]:
        """The process ids of the workers alive now (idle and busy)."""
        with self._lock:
            return [worker.pid for worker in (*self._idle, *self._busy) if worker.alive]

    def __repr__(self) -> str:
        return f"<SandboxedConverter {self.name} {self.version} ({self.spec})>"

    # -- workers ----------------------------------------------------------------------------------------------

    def _init_message(self) -> dict[str, Any]:
        return {"op": "init", "spec": self.spec, "arguments": self._init_arguments,
                "base_dir": str(self.base_dir) if self.base_dir is not None else None, "memory_mb": self.memory_mb,
                "log_level": logging.INFO}  # fmt: skip

    def _note_memory(self, worker: _Worker) -> None:
        note = worker.memory_note
        if note and note != "enforced" and self.memory_mb and not self._warned_memory:
            self._warned_memory = True
            log.warning("%s: %s (the sandbox still enforces the time limit and the output cap)", self._label, note)

    def _checkout(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise ConverterCrashed(f"{self._label}: the sandbox was closed")
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    self._busy.add(worker)
                    return worker
                worker.kill()
        worker = self._start_worker()
        with self._lock:
            if self._closed:
                worker.stop()
                raise ConverterCrashed(f"{self._label}: the sandbox was closed")
            self._busy.add(worker)
        return worker

    def _start_worker(self) -> _Worker:
        """A new worker for this converter. Raises ConverterCrashed when it cannot be started or loaded."""
        try:
            worker = _Worker.start(self._init_message(), label=self._label, max_output=self.max_output_bytes,
                                   start_timeout=self.start_timeout_s, for_load=False)  # fmt: skip
        except (ConverterLoadError, ConverterArgumentError) as error:
            raise ConverterCrashed(f"{self._label}: the sandbox could not start the converter again: {error}") from None
        self._note_memory(worker)
        mine = {key: self._meta[key] for key in ("name", "version", "kind", "source_ids")}
        theirs = {key: worker.meta.get(key) for key in mine}
        if mine != theirs:
            log.warning("%s: the converter changed since it was loaded (now %s); reload the converters to use "
                        "the new one", self._label, theirs)  # fmt: skip
        return worker

    def _checkin(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            keep = worker.usable and not self._closed and len(self._idle) < self.idle_workers
            if keep:
                self._idle.append(worker)
            replace = not worker.usable and not self._closed and not self._idle and not self._replacing \
                and self.idle_workers > 0  # fmt: skip
            if replace:
                self._replacing = True
        if not keep:
            worker.stop()
        if replace:  # start the replacement now, so the next call does not spend its time limit on it
            threading.Thread(target=self._replace, name=f"sandbox-replace-{self.name}", daemon=True).start()

    def _replace(self) -> None:
        try:
            worker = self._start_worker()
        except ConversionError as error:
            log.warning("%s", error)  # the next call tries again, and says why it failed
            worker = None
        with self._lock:
            self._replacing = False
            if worker is not None and not self._closed and len(self._idle) < self.idle_workers:
                self._idle.append(worker)
                return
        if worker is not None:
            worker.stop()

    def _call(
        self, request: dict[str, Any], blobs: list[bytes], doing: str, context: ConversionContext | None,
    ) -> tuple[dict[str, Any], list[bytes]]:  # fmt: skip
        worker = self._checkout()
        try:
            return worker.call(request, blobs, timeout=self.timeout_s, doing=doing,
                               logger=context.log if context is not None else log)  # fmt: skip
        finally:
            self._checkin(worker)

    def _parse_reports(self, texts: list[bytes]) -> list[Report]:
        reports: list[Report] = []
        for index, blob in enumerate(texts):
            try:
                text = blob.decode("utf-8")
            except UnicodeDecodeError:
                raise ConverterCrashed(f"{self._label} wrote garbage: report {index} is not UTF-8 text") from None
            try:
                reports.append(wsjf.loads(text))  # type: ignore[arg-type]
            except (ReportFormatError, ValueError) as error:
                raise ConverterCrashed(f"{self._label} made an invalid report {index}: {error}") from None
        return reports


def _stop_workers(idle: list[_Worker], busy: set[_Worker], lock: threading.Lock) -> None:
    with lock:
        workers = [*idle, *busy]
        idle[:] = []
    for worker in workers:
        worker.stop()


# -- messages ---------------------------------------------------------------------------------------------------


def _source_request(source: Source) -> tuple[dict[str, Any], list[bytes]]:
    if isinstance(source, SourceFile):
        return {"source": {"kind": "file", "path": str(source.path)}}, [bytes(source.data)]
    if isinstance(source, SourceFolder):
        files = list(source.files)
        sidecars = list(source.sidecars)
        blobs = [bytes(source.files[name]) for name in files] + [bytes(source.sidecars[name]) for name in sidecars]
        return {"source": {"kind": "folder", "path": str(source.path), "files": files, "sidecars": sidecars}}, blobs
    raise ConverterCrashed(f"the sandbox cannot send a {type(source).__name__} to a converter")


def _timezone_message(zone: tzinfo | None) -> dict[str, Any] | None:
    if zone is None:
        return None
    key = getattr(zone, "key", None)  # zoneinfo.ZoneInfo
    if isinstance(key, str) and key:
        return {"zone": key}
    offset = zone.utcoffset(None)
    if offset is None:  # a zone with daylight saving but no IANA name: today's offset is the best we can do
        offset = datetime.now(timezone.utc).astimezone(zone).utcoffset()
        log.debug("time zone %r has no name; the sandbox uses its current offset %s", zone, offset)
    return {"offset_s": offset.total_seconds() if offset is not None else 0, "name": zone.tzname(None)}


def _context_message(context: ConversionContext) -> dict[str, Any]:
    station = context.station
    return {
        "station": [station.name, station.location, station.purpose] if station is not None else None,
        "timezone": _timezone_message(context.timezone), "log": context.log.name,
    }  # fmt: skip


def _error_from(answer: dict[str, Any], label: str, doing: str) -> ConversionError:
    kind = answer.get("kind")
    if kind in ("conversion", "crashed") and "reason" in answer:
        cls = ConverterCrashed if kind == "crashed" else ConversionError
        return cls(str(answer.get("reason")), line=_int(answer.get("line")), element=_str(answer.get("element")),
                   field=_str(answer.get("field")))  # fmt: skip
    if kind == "memory":
        return ConverterCrashed(f"{answer.get('message') or label} while {doing}; the sandbox process was restarted")
    return ConverterCrashed(str(answer.get("message") or f"{label} failed while {doing}"))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# -- one worker process -------------------------------------------------------------------------------------------


def _worker_environment() -> dict[str, str]:
    """The worker's environment: ours, with the import path of this process that the worker would not have by
    itself (folders added to ``sys.path`` at run time, the current folder), so it imports what we would."""
    # The service's own settings (its API token among them) are none of the converter's business.
    environment = {name: value for name, value in os.environ.items() if not name.upper().startswith("PYWATS_")}
    environment.pop("PYTHONSTARTUP", None)
    environment["PYTHONUNBUFFERED"] = "1"  # the converter's last words reach stderr before a crash
    own = {os.path.normcase(os.path.abspath(folder)) for folder in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    extra: list[str] = []
    for entry in sys.path:
        folder = os.path.abspath(entry or os.getcwd())
        key = os.path.normcase(folder)
        if any(key == prefix or key.startswith(prefix + os.sep) for prefix in own) or folder in extra:
            continue  # the standard library and site-packages: the worker has them (in their right order)
        extra.append(folder)
    if environment.get("PYTHONPATH"):
        extra.append(environment["PYTHONPATH"])
    if extra:
        environment["PYTHONPATH"] = os.pathsep.join(extra)
    return environment


def _write_all(stream: Any, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = stream.write(view)
        if written is None:  # a non-blocking pipe that is full: cannot happen with ours, but do not spin
            time.sleep(0.001)
            continue
        view = view[written:]


class _Worker:
    """One worker process and the two threads reading its channel and its stderr. Used by one thread at a time."""

    def __init__(self, process: subprocess.Popen[bytes], label: str, max_output: int) -> None:
        self.process = process
        self.pid = process.pid
        self.label = label
        self.max_output = max_output
        self.meta: dict[str, Any] = {}
        self.memory_note = ""
        self.usable = True
        self.killed = False
        self.timed_out = False
        self._next_id = 0
        self._frames: collections.deque[tuple[str, Any]] = collections.deque()
        self._arrived = threading.Condition()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._reader = threading.Thread(target=self._read_channel, name=f"sandbox-{self.pid}-out", daemon=True)
        self._stderr = threading.Thread(target=self._read_stderr, name=f"sandbox-{self.pid}-err", daemon=True)
        self._reader.start()
        self._stderr.start()

    @classmethod
    def start(cls, init: dict[str, Any], *, label: str, max_output: int, start_timeout: float,
              for_load: bool) -> _Worker:  # fmt: skip
        """A worker that has loaded the converter.

        Raises:
            ConverterLoadError / ConverterArgumentError: the worker could not load it (its message).
            ConverterLoadError (``for_load``) or ConverterCrashed: the worker did not start.
        """
        options: dict[str, Any] = {}
        if os.name == "posix":
            options["start_new_session"] = True  # its own process group: killed with whatever it starts
        else:
            options["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0) | getattr(
                subprocess, "CREATE_NEW_PROCESS_GROUP", 0)  # fmt: skip
        # -P (3.11+): the current folder is not put first on the worker's import path by -m.
        command = [sys.executable, *(["-P"] if sys.version_info >= (3, 11) else []), "-m", protocol.WORKER_MODULE]
        failure = ConverterLoadError if for_load else ConverterCrashed
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       bufsize=0, env=_worker_environment(), **options)  # fmt: skip
        except OSError as error:
            raise failure(f"{label}: the sandbox process could not be started: {error}") from None
        worker = cls(process, label, max_output)
        deadline = time.monotonic() + start_timeout
        try:
            worker._send(init, [])
            answer = worker._next_message(deadline)
            while answer.get("type") == "log":  # the converter's module may log while it is imported
                _relay_log(log, answer, label)
                answer = worker._next_message(deadline)
        except _Failure as failed:
            detail = worker._describe(failed, "starting", start_timeout)
            worker.kill()
            raise failure(detail) from None
        if answer.get("type") == "load_error":
            worker.stop()
            message = str(answer.get("message") or "the converter could not be loaded")
            if answer.get("error") == "arguments":
                raise ConverterArgumentError(message)
            raise ConverterLoadError(message)
        if answer.get("type") != "ready" or not isinstance(answer.get("meta"), dict):
            worker.kill()
            raise failure(f"{label} wrote garbage on the sandbox channel while starting: {str(answer)[:200]}; the "
                          "sandbox process was stopped")  # fmt: skip
        worker.meta = answer["meta"]
        worker.memory_note = str(answer.get("memory") or "")
        return worker

    @property
    def alive(self) -> bool:
        return not self.killed and self.process.poll() is None

    # -- one call ---------------------------------------------------------------------------------------------

    def call(self, request: dict[str, Any], blobs: list[bytes], *, timeout: float, doing: str,
             logger: logging.Logger) -> tuple[dict[str, Any], list[bytes]]:  # fmt: skip
        """Send one request; its answer (JSON and blobs). Raises ConversionError or ConverterCrashed."""
        self._next_id += 1
        request = {**request, "id": self._next_id}
        deadline = time.monotonic() + timeout
        self._drain_stray(logger)
        # The deadline also holds while the request is written: a child that stopped reading is killed then,
        # which ends the write with a broken pipe.
        watchdog = threading.Timer(timeout, self._expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            self._send(request, blobs)
            received = 0
            while True:
                answer = self._next_message(deadline)
                received += answer.pop("_size", 0)
                if received > self.max_output:
                    raise _Failure("too_large", received)
                if answer.get("type") == "log":
                    _relay_log(logger, answer, self.label)
                    continue
                if answer.get("id") != request["id"] or answer.get("type") not in ("result", "error"):
                    raise _Failure("garbage", f"an answer out of turn: {str(answer)[:200]}")
                answer_blobs = self._blobs(answer, deadline, received)
                break
        except _Failure as failed:
            detail = self._describe(failed, doing, timeout)
            self.kill()
            raise ConverterCrashed(detail) from None
        finally:
            watchdog.cancel()
        if answer["type"] == "error":
            if answer.get("restart", True):
                self.usable = False  # the worker ends itself after a bug or MemoryError
            raise _error_from(answer, self.label, doing)
        return answer, answer_blobs

    def _blobs(self, answer: dict[str, Any], deadline: float, received: int) -> list[bytes]:
        count = answer.get("blobs", 0)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise _Failure("garbage", f"a blob count of {count!r}")
        blobs = []
        for _ in range(count):
            kind, payload = self._next_frame(deadline)
            if kind != protocol.BYTES_FRAME:
                raise _Failure("garbage", "a message where a report was due")
            received += len(payload)
            if received > self.max_output:
                raise _Failure("too_large", received)
            blobs.append(payload)
        return blobs

    def _drain_stray(self, logger: logging.Logger) -> None:
        """Log messages a converter's thread wrote between calls; anything else there is garbage."""
        while True:
            with self._arrived:
                if not self._frames or self._frames[0][0] != "frame":
                    return
                _, (kind, payload) = self._frames.popleft()
            try:
                message = protocol.decode_message(payload) if kind == protocol.JSON_FRAME else {}
            except protocol.ProtocolError:
                message = {}
            if message.get("type") != "log":
                self.kill()
                raise ConverterCrashed(f"{self.label} wrote garbage on the sandbox channel between calls; the "
                                       "sandbox process was stopped")  # fmt: skip
            _relay_log(logger, message, self.label)

    # -- the channel ------------------------------------------------------------------------------------------

    def _send(self, message: dict[str, Any], blobs: list[bytes]) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            for part in protocol.message_parts(message, blobs):
                _write_all(stdin, part)
        except (OSError, ValueError):  # a broken pipe, or a pipe we closed: the worker is gone
            raise _Failure("eof", None) from None

    def _read_channel(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                try:
                    item = protocol.read_frame(stdout, self.max_output)
                except protocol.FrameTooLarge:
                    self._put(("too_large", None))
                    return
                except protocol.ProtocolError as error:
                    self._put(("garbage", str(error)))
                    return
                except (OSError, ValueError):
                    item = None
                if item is None:
                    self._put(("eof", None))
                    return
                self._put(("frame", item))
        finally:
            try:
                stdout.close()
            except OSError:
                pass

    def _put(self, item: tuple[str, Any]) -> None:
        with self._arrived:
            self._frames.append(item)
            self._arrived.notify_all()

    def _next_frame(self, deadline: float) -> tuple[bytes, bytes]:
        with self._arrived:
            while not self._frames:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _Failure("timeout", None)
                self._arrived.wait(remaining)
            what, value = self._frames[0]
            if what != "frame":  # end of input or garbage: left at the head for whoever asks next
                raise _Failure(what, value)
            self._frames.popleft()
            return value

    def _next_message(self, deadline: float) -> dict[str, Any]:
        kind, payload = self._next_frame(deadline)
        if kind != protocol.JSON_FRAME:
            raise _Failure("garbage", "bytes where a message was due")
        try:
            message = protocol.decode_message(payload)
        except protocol.ProtocolError as error:
            raise _Failure("garbage", str(error)) from None
        message["_size"] = len(payload)
        return message

    def _read_stderr(self) -> None:
        stderr = self.process.stderr
        assert stderr is not None
        try:
            for raw in iter(stderr.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if len(line) > 500:
                    line = line[:500] + "..."
                self.stderr_tail.append(line)
                log.debug("%s [pid %d] %s", self.label, self.pid, line)
        except (OSError, ValueError):
            pass
        finally:
            try:
                stderr.close()
            except OSError:
                pass

    # -- ending -----------------------------------------------------------------------------------------------

    def _expire(self) -> None:
        self.timed_out = True
        self.kill()

    def kill(self) -> None:
        """Kill the worker (on POSIX with every process in its group) and reap it."""
        self.usable = False
        self.killed = True
        if os.name == "posix" and self.process.returncode is None:
            # Not reaped yet, so the worker's pid (and the group it leads) cannot belong to anyone else.
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.process.kill()
        except OSError:
            pass
        self._reap(5.0)

    def stop(self) -> None:
        """End the worker: on POSIX at once, with its group (it holds nothing worth a goodbye); on Windows by
        closing its input, then killing it after a second."""
        self.usable = False
        if os.name != "posix" and self.process.poll() is None:
            try:
                if self.process.stdin is not None:
                    self.process.stdin.close()
                self.process.wait(1.0)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def _reap(self, timeout: float) -> None:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.error("%s: sandbox process %d did not end after being killed", self.label, self.pid)
        if self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass

    def _describe(self, failed: _Failure, doing: str, timeout: float) -> str:
        """What went wrong, in words, with the worker's last stderr lines."""
        what = failed.what
        if what == "timeout" or self.timed_out:
            text = f"{self.label} timed out after {timeout:g} s {doing} and was stopped (its process was killed)"
        elif what == "garbage":
            text = (f"{self.label} wrote garbage on the sandbox channel while {doing} ({failed.value}); the sandbox "
                    "process was stopped")  # fmt: skip
        elif what == "too_large":
            limit = round(self.max_output / 1048576, 3)
            text = f"{self.label} produced more than {limit:g} MB while {doing}; the sandbox process was stopped"
        else:
            text = f"{self.label} crashed while {doing}: {self._exit_reason()}"
        if what != "eof":
            self.kill()  # so that its stderr ends too
        self._stderr.join(1.0)
        tail = [line for line in self.stderr_tail if line.strip()]
        if tail:
            text += "; its last output: " + " | ".join(tail[-6:])[-1500:]
        return text

    def _exit_reason(self) -> str:
        try:
            code = self.process.wait(2.0)
        except subprocess.TimeoutExpired:
            self.kill()
            return "the sandbox process closed its channel and was stopped"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = " (the system's out-of-memory killer?)" if name == "SIGKILL" else ""
            return f"the sandbox process was killed by {name}{hint}"
        return f"the sandbox process exited with code {code}"


class _Failure(Exception):
    """Why a worker stopped answering: eof, timeout, garbage or too_large (``value`` says more)."""

    def __init__(self, what: str, value: Any) -> None:
        super().__init__(what)
        self.what = what
        self.value = value


def _relay_log(logger: logging.Logger, message: dict[str, Any], label: str) -> None:
    level = message.get("level")
    level = level if isinstance(level, int) else logging.INFO
    name = str(message.get("logger") or "")
    text = str(message.get("message") or "")
    prefix = f"[{label}] " if name in ("", logger.name) else f"[{label} {name}] "
    logger.log(level, "%s%s", prefix, text)


__all__ = ["DEFAULT_MEMORY_MB", "SandboxedArguments", "SandboxedConverter", "is_file_spec", "make_converter"]

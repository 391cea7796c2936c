"""The station service: the asyncio daemon that runs one instance.

Lifecycle (uvicorn's shape)::

    STOPPED ─start()─▶ START_PENDING ─▶ RUNNING ⇄ PAUSED ─stop()─▶ STOP_PENDING ─▶ STOPPED
                             │              │                                     ▲
                             └── a fatal error (lock held, queue I/O error) ──▶ ERROR

:meth:`AsyncClientService.run` takes the instance lock, loads the configuration, opens the queue (putting
interrupted uploads back to pending), starts the supervised tasks and waits for a stop. SIGTERM/SIGINT (and
SIGBREAK on Windows) ask for a graceful stop; a second SIGINT stops at once. Stopping has two phases: first
intake stops and in-flight conversions finish (what does not finish stays in the watch folder), then uploads
stop claiming and in-flight ones get ``shutdown_timeout_s`` to finish (what does not finish is sent again at the
next start, which the server overwrites).

Supervised tasks: one intake per enabled converter entry, the file-event watcher, the uploader, the pinger
(server online/offline every ``ping_interval_s``), the configuration watcher (hot reload), and the monitor
(disk reserve, queue size, ledger pruning). See :mod:`.supervisor`.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import math
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from pywats import AsyncWATS, CircuitBreaker, RateLimit
from pywats import __version__ as pywats_version

from .. import config as config_module
from ..config import ClientConfig, ConfigError, ConverterConfig
from ..converters import ConversionContext, Converter, ConverterArgumentError, ConverterLoadError
from ..converters.sandbox import make_converter
from ..instance import InstancePaths
from ..lock import InstanceLock
from ..logs import REDACT, InstanceLogging
from ..queue import AsyncReportQueue, ThreadQueues
from .conversions import ConversionPool
from .events import Alerts, EventBus, Stats
from .intake import Intake, IntakeSettings
from .scheduled import ScheduledIntake
from .supervisor import Supervisor
from .uploader import UploadSettings, Uploader
from .watch import watch_folders

log = logging.getLogger("pywats_client.service")


class ServiceState(str, Enum):
    STOPPED = "STOPPED"
    START_PENDING = "START_PENDING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOP_PENDING = "STOP_PENDING"
    ERROR = "ERROR"


class ServiceError(RuntimeError):
    """The service cannot start (configuration, lock) or stopped on a fatal error."""


class AsyncClientService:
    """The service of one instance.

    Args:
        instance: the instance name (or its :class:`InstancePaths`).
        config_file: a configuration file to use instead of the instance's ``config.json``.
        overrides: top-level configuration keys set on top of file and environment (CLI flags).
        log_to_stderr: also log to stderr (the foreground ``service`` command does; tests need not).
        control: serve the control API and the health and metrics endpoints (on by default).
    """

    def __init__(
        self, instance: str | InstancePaths = "default", *, config_file: Path | None = None,
        overrides: dict[str, Any] | None = None, log_to_stderr: bool = False, control: bool = True,
    ) -> None:  # fmt: skip
        self.paths = instance if isinstance(instance, InstancePaths) else InstancePaths.of(instance)
        self.config_file = Path(config_file) if config_file is not None else self.paths.config_file
        self.overrides = dict(overrides or {})
        self.log_to_stderr = log_to_stderr
        self.state = ServiceState.STOPPED
        self.bus = EventBus()
        self.stats = Stats()
        self.alerts = Alerts(self.bus)
        self.config: ClientConfig | None = None
        self.queue: AsyncReportQueue | None = None
        self.reader: AsyncReportQueue | None = None
        """A second connection on its own thread for status, metrics and listings: reads never wait behind the
        uploader's and intake's writes (WAL lets them run while a write transaction is open)."""
        self.intakes: dict[str, Intake | ScheduledIntake] = {}
        self.converter_errors: dict[str, str] = {}
        self.server_online: bool | None = None
        self.server_version: str | None = None
        self.last_ping: float | None = None
        self.fatal_error: BaseException | None = None
        self.start_error: BaseException | None = None
        self.started_at: float | None = None
        from ..control.health import HealthServer
        from ..control.metrics import Metrics
        from ..control.server import ControlServer

        self.metrics = Metrics()
        self.bus.listen(self.metrics.on_event)
        self.health = HealthServer(self.metrics)
        self.extensions: list[Any] = [self.health, ControlServer()] if control else []
        """Objects with ``async start(service)`` / ``async stop()``, started after the core (health, control API)."""
        self._stop = asyncio.Event()
        self._force = False
        self._lock = InstanceLock(self.paths.lock_file)
        self._logging: InstanceLogging | None = None
        self._supervisor = Supervisor(self.stats, self.bus)
        self._restart = False
        self._pool: ConversionPool | None = None
        self._worker_queues: ThreadQueues | None = None
        self._uploader: Uploader | None = None
        self._client: AsyncWATS | None = None
        self._probe_client: AsyncWATS | None = None
        self._retired_clients: list[AsyncWATS] = []
        self._breaker: CircuitBreaker | None = None
        self._config_signature: tuple[int, int] | None = None
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- public controls -------------------------------------------------------------------------------------

    def request_restart(self) -> None:
        """Stop gracefully, then start again in the same process (configuration and converters read afresh)."""
        self._restart = True
        self._stop.set()

    def request_stop(self, *, force: bool = False) -> None:
        """Ask the service to stop (thread-safe from the loop's thread; use :meth:`stop_threadsafe` elsewhere).
        A stop asked for while a restart is pending wins: the service stops."""
        self._restart = False
        self._force = self._force or force
        self._stop.set()

    def stop_threadsafe(self, *, force: bool = False) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(lambda: self.request_stop(force=force))

    def pause(self) -> None:
        """Stop taking files and uploading (work in flight finishes); :meth:`resume` goes on."""
        if self.state is ServiceState.RUNNING:
            self._set_state(ServiceState.PAUSED)

    def resume(self) -> None:
        if self.state is ServiceState.PAUSED:
            self._set_state(ServiceState.RUNNING)
            self.sync_now_nowait()

    def sync_now_nowait(self) -> None:
        """Rescan every watch folder and look at the queue now."""
        for intake in self.intakes.values():
            intake.trigger.set()
        if self._uploader is not None:
            self._uploader.notify()

    async def sync_now(self) -> None:
        """Rescan now, and make every pending report due now (skipping its backoff)."""
        if self.queue is not None:
            await self.queue.make_due()
        self.sync_now_nowait()

    async def release_hold(self) -> None:
        if self._uploader is not None:
            await self._uploader.release("asked to")

    @property
    def uploader(self) -> Uploader | None:
        return self._uploader

    @property
    def breaker(self) -> CircuitBreaker | None:
        return self._breaker

    def wait_started(self, timeout: float | None = None) -> bool:
        """Block until the service is running (or failed to start): for threads other than the loop's."""
        return self._started.wait(timeout)

    # -- running ---------------------------------------------------------------------------------------------

    async def run(self, *, install_signal_handlers: bool = False) -> int:
        """Start, serve until asked to stop, stop. Returns the exit code (0, or 1 after a fatal error).

        Raises:
            ServiceError: the service could not start (the reason is in the message).
        """
        self._loop = asyncio.get_running_loop()
        restore = self._install_signal_handlers() if install_signal_handlers else None
        try:
            while True:
                try:
                    try:
                        await self.start()
                    except BaseException as error:
                        self.start_error = error
                        self._started.set()
                        raise
                    self._started.set()
                    await self._stop.wait()
                finally:
                    await self.shutdown()
                if not self._restart or self.fatal_error is not None:
                    break
                log.info("restarting instance %s", self.paths.name)
                self._restart = False
                self._stop.clear()
                self._force = False
                self._supervisor = Supervisor(self.stats, self.bus)
                self.intakes.clear()
        finally:
            if restore is not None:
                restore()
        return 1 if self.fatal_error is not None else 0

    async def start(self) -> None:
        self.started_at = time.time()
        self._set_state(ServiceState.START_PENDING)
        try:
            self.paths.ensure()
            self._lock.acquire()
            self.config = self._load_config()
        except (ConfigError, RuntimeError, OSError) as error:
            self._set_state(ServiceState.ERROR)
            self._lock.release()
            raise ServiceError(str(error)) from error
        config = self.config
        REDACT.add(config.token)
        self._logging = InstanceLogging(self.paths.log_dir, level=config.log_level, kind=config.log_format,
                                        stderr=self.log_to_stderr)  # fmt: skip
        log.info("starting instance %s (pywats %s, pid %d)", self.paths.name, pywats_version, os.getpid())
        try:
            self.queue = await asyncio.to_thread(AsyncReportQueue, self.paths.queue_db)
            self.reader = await asyncio.to_thread(AsyncReportQueue, self.paths.queue_db)
            self._worker_queues = ThreadQueues(self.paths.queue_db)
            recovered = await self.queue.recover()
        except Exception as error:
            self._set_state(ServiceState.ERROR)
            raise ServiceError(f"cannot open the queue {self.paths.queue_db}: {error}") from error
        if recovered:
            log.info("%d interrupted upload(s) put back in the queue", recovered)
        self._breaker = CircuitBreaker(config.circuit_failure_threshold, config.circuit_recovery_s)
        self._build_clients(config)
        self._pool = ConversionPool(config.conversion_concurrency)
        self._uploader = Uploader(
            queue=self.queue, client=lambda: self._client, probe=self._probe, breaker=self._breaker,
            settings=self._upload_settings, paused=lambda: self.state is not ServiceState.RUNNING, bus=self.bus,
            stats=self.stats, alerts=self.alerts, on_fatal=self._on_fatal,
        )  # fmt: skip
        self._config_signature = self._signature()
        self._supervisor.start("uploader", self._uploader.run)
        for entry in config.converters:
            self._start_intake(entry)
        self._start_watcher()
        self._supervisor.start("pinger", self._ping_loop)
        self._supervisor.start("config", self._config_loop)
        self._supervisor.start("monitor", self._monitor_loop)
        for extension in self.extensions:
            await extension.start(self)
        # Everything loaded so far lives as long as the service: keep it out of the garbage collector's way, so
        # a collection only looks at objects made since (measured: a third off conversion time, bench/converters.py).
        gc.freeze()
        # Conversions are CPU work on worker threads; a shorter GIL switch interval than Python's 5 ms keeps the
        # event loop (uploads, control API) answering promptly while they run (bench/control_api.py).
        sys.setswitchinterval(0.001)
        self._set_state(ServiceState.RUNNING)
        log.info("instance %s running: %d converter(s), server %s", self.paths.name, len(self.intakes),
                 config.server_url or "(none configured)")  # fmt: skip

    async def shutdown(self) -> None:
        if self.state in (ServiceState.STOPPED,) and self.queue is None:
            return
        final = ServiceState.ERROR if self.fatal_error is not None or self.state is ServiceState.ERROR else ServiceState.STOPPED
        self._set_state(ServiceState.STOP_PENDING)
        timeout = 0.0 if self._force else (self.config.shutdown_timeout_s if self.config else 0.0)
        # Phase 1: no new files; conversions in flight finish (or their files stay in the watch folder).
        intake_tasks = [f"intake:{name}" for name in self.intakes] + ["watcher"]
        await self._supervisor.stop(*intake_tasks)
        await asyncio.gather(*(intake.drain(timeout) for intake in self.intakes.values()), return_exceptions=True)
        for intake in self.intakes.values():
            _close_converter(intake.converter)
        # Phase 2: uploads stop claiming; in-flight ones get the rest of the time.
        await self._supervisor.stop("uploader")
        if self._uploader is not None:
            await self._uploader.drain(timeout)
        await self._supervisor.stop()
        for extension in reversed(self.extensions):
            try:
                await extension.stop()
            except Exception:  # noqa: BLE001 - stopping must go on
                log.exception("stopping %r failed", extension)
        for client in [self._client, self._probe_client, *self._retired_clients]:
            if client is not None:
                await client.aclose()
        self._client = self._probe_client = None
        if self._pool is not None:
            self._pool.close()
        if self._worker_queues is not None:
            self._worker_queues.close()
        if self.queue is not None:
            try:
                await self.queue.recover()  # uploads cut short go back to pending now, not at the next start
            except Exception:  # noqa: BLE001
                pass
            await asyncio.to_thread(self.queue.close)
            self.queue = None
        if self.reader is not None:
            await asyncio.to_thread(self.reader.close)
            self.reader = None
        self._set_state(final)
        log.info("instance %s stopped (%s)", self.paths.name, final.value)
        if self._logging is not None:
            self._logging.close()
            self._logging = None
        self._lock.release()

    def _install_signal_handlers(self) -> Callable[[], None] | None:
        if threading.current_thread() is not threading.main_thread():
            return None
        loop = asyncio.get_running_loop()
        count = {"interrupts": 0}

        def handle(signum: int) -> None:
            count["interrupts"] += 1
            force = signum == signal.SIGINT and count["interrupts"] > 1
            log.info("signal %s: %s", signal.Signals(signum).name, "stopping now" if force else "stopping gracefully")
            self.request_stop(force=force)

        signums = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGBREAK] if hasattr(signal, "SIGBREAK") else [])
        previous: dict[int, Any] = {}
        for signum in signums:
            try:
                loop.add_signal_handler(signum, handle, signum)
            except (NotImplementedError, RuntimeError):  # Windows: no add_signal_handler
                previous[signum] = signal.signal(signum, lambda s, _f: loop.call_soon_threadsafe(handle, s))

        def restore() -> None:
            for signum in signums:
                if signum in previous:
                    signal.signal(signum, previous[signum])
                else:
                    loop.remove_signal_handler(signum)

        return restore

    # -- configuration ---------------------------------------------------------------------------------------

    def _load_config(self) -> ClientConfig:
        config = config_module.validate(config_module.load_file(self.config_file))
        return config_module.apply_overrides(config, self.overrides) if self.overrides else config

    def _signature(self) -> tuple[int, int] | None:
        try:
            stat = self.config_file.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    async def _config_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            signature = await asyncio.to_thread(self._signature)
            if signature != self._config_signature:
                self._config_signature = signature
                await self.reload_config()

    async def reload_config(self) -> bool:
        """Read the configuration again and apply what changed; an invalid one is refused (logged, alerted) and
        the current one stays in force. Returns whether the new configuration was applied."""
        try:
            new = await asyncio.to_thread(self._load_config)
        except ConfigError as error:
            log.error("configuration change refused, keeping the current configuration: %s", error)
            self.alerts.raise_("config_rejected", f"configuration change refused: {error}")
            return False
        self.alerts.clear("config_rejected")
        await self.apply_config(new)
        return True

    async def apply_config(self, new: ClientConfig) -> None:
        """Switch to ``new`` without a restart and without dropping work."""
        old, self.config = self.config, new
        assert old is not None
        REDACT.add(new.token)
        if self._logging is not None:
            self._logging.configure(level=new.log_level, kind=new.log_format)
        client_keys = ("server_url", "api_token", "request_timeout_s", "rate_limit_per_minute")
        if any(getattr(old, key) != getattr(new, key) for key in client_keys):
            self._build_clients(new)
            self.server_online = None
            if self._uploader is not None:
                await self._uploader.release("the server configuration changed")
        if self._breaker is not None:
            self._breaker.failure_threshold = new.circuit_failure_threshold
            self._breaker.recovery_timeout = new.circuit_recovery_s
        if self._pool is not None:
            self._pool.resize(new.conversion_concurrency)
        old_entries = {entry.name: entry for entry in old.converters}
        new_entries = {entry.name: entry for entry in new.converters}
        changed = [name for name in old_entries if old_entries[name] != new_entries.get(name)]
        for name in changed:
            await self._stop_intake(name)
        for name, entry in new_entries.items():
            if name in changed or name not in old_entries:
                self._start_intake(entry)
        if changed or set(new_entries) != set(old_entries):
            await self._supervisor.stop("watcher")
            self._start_watcher()
        log.info("configuration reloaded (%d converter(s) restarted or added)",
                 len(changed) + len(set(new_entries) - set(old_entries)))  # fmt: skip
        self.sync_now_nowait()

    def save_config(self, config: ClientConfig) -> None:
        """Write ``config`` to this service's configuration file (blocking; the watcher then sees no change)."""
        config_module.save(config, self.config_file)

    async def reload_converters(self) -> list[str]:
        """Load every converter entry again (a converter file was edited); the names restarted."""
        assert self.config is not None
        names = [entry.name for entry in self.config.converters]
        for name in list(self.intakes):
            await self._stop_intake(name)
        for entry in self.config.converters:
            self._start_intake(entry)
        await self._supervisor.stop("watcher")
        self._start_watcher()
        self.sync_now_nowait()
        return names

    def restarted_tasks(self) -> dict[str, float]:
        """Background tasks that died and were restarted, with when (Unix time)."""
        return dict(self._supervisor.restarted)

    @property
    def health_url(self) -> str | None:
        return self.health.url

    def _upload_settings(self) -> UploadSettings:
        config = self.config
        assert config is not None
        return UploadSettings(config.upload_concurrency, config.retry_base_s, config.retry_cap_s, config.hold_recheck_s)

    def _intake_settings(self) -> IntakeSettings:
        config = self.config
        assert config is not None
        return IntakeSettings(config.rescan_interval_s, config.polling, config.polling_interval_s,
                              config.stability_window_s, config.max_queue_size)  # fmt: skip

    def _context(self) -> ConversionContext:
        assert self.config is not None
        return ConversionContext(station=self.config.station.station())

    # -- server clients --------------------------------------------------------------------------------------

    def _build_clients(self, config: ClientConfig) -> None:
        for client in (self._client, self._probe_client):
            if client is not None:
                self._retired_clients.append(client)  # in-flight uploads may still use it; closed at shutdown
        self._client = self._probe_client = None
        if not config.server_url or not config.token:
            return
        rate = RateLimit(config.rate_limit_per_minute, 60.0) if config.rate_limit_per_minute else None
        options = dict(timeout=config.request_timeout_s, retry=None, rate_limit=rate)
        try:
            self._client = AsyncWATS(config.server_url, config.token, circuit_breaker=self._breaker, **options)
            self._probe_client = AsyncWATS(config.server_url, config.token, **options)
        except ValueError as error:
            log.error("cannot use the server configuration: %s", error)

    async def _probe(self) -> Any:
        if self._probe_client is None:
            raise ServiceError("no server configured")
        return await self._probe_client.process.get_processes()

    async def _ping_loop(self) -> None:
        while True:
            client = self._probe_client
            if client is not None:
                was_online = self.server_online
                try:
                    self.server_version = await client.get_version()
                    self.server_online = True
                except Exception as error:  # noqa: BLE001 - any failure means "offline"
                    if self.server_online is not False:
                        log.warning("server %s is offline: %s", client.base_url, error)
                    self.server_online = False
                else:
                    if was_online is False:
                        log.info("server %s is online again", client.base_url)
                        if self._breaker is not None:
                            self._breaker.reset()
                        await self.sync_now()  # the backlog goes now, not when each backoff ends
                self.last_ping = time.time()
            assert self.config is not None
            await asyncio.sleep(self.config.ping_interval_s)

    # -- intake ----------------------------------------------------------------------------------------------

    def _gate(self) -> str | None:
        if self.state is not ServiceState.RUNNING:
            return self.state.value.lower()
        for name in ("disk_low", "disk_full", "queue_full"):
            if name in self.alerts:
                return name
        return None

    def _start_intake(self, entry: ConverterConfig) -> None:
        self.converter_errors.pop(entry.name, None)
        self.alerts.clear(f"converter:{entry.name}")
        if not entry.enabled:
            return
        try:
            converter = self._make_converter(entry)
        except (ConverterLoadError, ConverterArgumentError) as error:
            self.converter_errors[entry.name] = str(error)
            self.alerts.raise_(f"converter:{entry.name}", f"converter {entry.name} not loaded: {error}")
            log.error("converter %s not loaded: %s", entry.name, error)
            return
        assert self._worker_queues is not None and self._uploader is not None
        if converter.kind == "scheduled":
            self.intakes[entry.name] = ScheduledIntake(
                entry=entry, converter=converter, queues=self._worker_queues, pool=lambda: self._pool,
                context=self._context, gate=self._gate, bus=self.bus, stats=self.stats, alerts=self.alerts,
                on_queued=self._uploader.notify, on_fatal=self._on_fatal,
            )  # fmt: skip
            self._supervisor.start(f"intake:{entry.name}", self.intakes[entry.name].run)
            return
        watch, done, error_folder = entry.folders(self.paths)
        intake = Intake(
            entry=entry, converter=converter, watch=watch, done=done, error=error_folder, queues=self._worker_queues,
            pool=lambda: self._pool, context=self._context, settings=self._intake_settings, gate=self._gate,
            bus=self.bus, stats=self.stats, alerts=self.alerts, on_queued=self._uploader.notify,
            on_fatal=self._on_fatal,
        )  # fmt: skip
        intake.make_folders()  # before the watcher starts, so it watches them from the first moment
        self.intakes[entry.name] = intake
        self._supervisor.start(f"intake:{entry.name}", intake.run)

    def _make_converter(self, entry: ConverterConfig) -> Converter:
        return self.make_converter(entry.converter, entry.arguments, entry.sandbox, entry.timeout_s)

    def make_converter(self, spec: str, arguments: dict[str, Any], sandbox: bool | None, timeout_s: float) -> Converter:
        """A converter for ``spec`` (relative file paths from the instance folder): in this process, or in a
        sandbox subprocess for converters loaded from a user's file (see :mod:`..converters.sandbox`)."""
        return make_converter(spec, arguments, base_dir=self.paths.root, sandbox=sandbox, timeout_s=timeout_s)

    async def _stop_intake(self, name: str) -> None:
        intake = self.intakes.pop(name, None)
        await self._supervisor.stop(f"intake:{name}")
        if intake is not None:
            await intake.drain(self.config.shutdown_timeout_s if self.config else 0)
            _close_converter(intake.converter)

    def _start_watcher(self) -> None:
        assert self.config is not None
        if self.config.polling:
            return
        recursive = any(intake.entry.recursive for intake in self.intakes.values() if intake.watch is not None)
        folders = lambda: [(intake.watch, intake.trigger) for intake in self.intakes.values()  # noqa: E731
                           if intake.watch is not None]
        self._supervisor.start("watcher", lambda: watch_folders(folders, recursive=recursive))

    # -- monitoring ------------------------------------------------------------------------------------------

    async def _monitor_loop(self) -> None:
        pruned_at = -math.inf  # prune at start, then hourly (monotonic time may be small on a fresh machine)
        handled = self.stats.files_picked + self.stats.uploads["accepted"]
        busy_at, trimmed = time.monotonic(), True
        while True:
            config = self.config
            assert config is not None and self.queue is not None
            free = await asyncio.to_thread(self.disk_free)
            reserve = config.disk_reserve_mb * 1024 * 1024
            if free is not None and free < reserve:
                self.alerts.raise_("disk_low", f"free disk {free / 1e6:.0f} MB is below the reserve of "
                                               f"{config.disk_reserve_mb:g} MB: intake waits")  # fmt: skip
            else:
                self.alerts.clear("disk_low")
                self.alerts.clear("disk_full")
            assert self.reader is not None
            active = await self.reader.active_count()
            if active >= config.max_queue_size:
                self.alerts.raise_("queue_full", f"{active} reports are waiting (max_queue_size "
                                                 f"{config.max_queue_size}): intake waits")  # fmt: skip
            elif "queue_full" in self.alerts:
                self.alerts.clear("queue_full")
                self.sync_now_nowait()
            now_handled = self.stats.files_picked + self.stats.uploads["accepted"]
            if now_handled != handled or active:
                handled, busy_at, trimmed = now_handled, time.monotonic(), False
            elif not trimmed and time.monotonic() - busy_at > IDLE_TRIM_S:
                trimmed = True
                await asyncio.to_thread(release_memory)  # a burst is over: give its memory back to the system
            if time.monotonic() - pruned_at > 3600:
                pruned_at = time.monotonic()
                removed = await self.queue.prune(config.done_retention_days * 86_400)
                if removed:
                    log.info("ledger: %d uploaded report(s) older than %g days pruned", removed,
                             config.done_retention_days)  # fmt: skip
            await asyncio.sleep(2.0)

    def disk_free(self) -> int | None:
        try:
            return shutil.disk_usage(self.paths.root).free
        except OSError:
            return None

    # -- state -----------------------------------------------------------------------------------------------

    def _set_state(self, state: ServiceState) -> None:
        if state is not self.state:
            self.state = state
            self.bus.publish("state", state=state.value)
            if state in (ServiceState.RUNNING, ServiceState.PAUSED):
                self.sync_now_nowait()

    def _on_fatal(self, error: BaseException) -> None:
        if self.fatal_error is None:
            self.fatal_error = error
            log.critical("stopping: %s", error)
            self.stats.error("service", str(error))
            self.state = ServiceState.ERROR
            self.bus.publish("state", state=ServiceState.ERROR.value, reason=str(error))
        self.request_stop()

    async def status(self) -> dict[str, Any]:
        """Everything a person or a monitor wants to know, as plain data (no secrets)."""
        config = self.config
        queue = await self.reader.summary() if self.reader is not None else {}
        converters = []
        for entry in config.converters if config else []:
            intake = self.intakes.get(entry.name)
            converters.append({
                "name": entry.name, "converter": entry.converter, "enabled": entry.enabled,
                "state": "error" if entry.name in self.converter_errors else ("running" if intake else "disabled"),
                "error": self.converter_errors.get(entry.name),
                "watch": str(intake.watch) if intake and intake.watch else None,
                "in_flight": intake.in_flight if intake else 0,
                "converted": self.stats.conversions[(entry.name, "ok")],
                "failed": self.stats.conversions[(entry.name, "failed")],
            })  # fmt: skip
        return {
            "instance": self.paths.name,
            "instance_id": config.instance_id if config else None,
            "state": self.state.value,
            "pid": os.getpid(),
            "version": pywats_version,
            "started_at": self.started_at,
            "health_url": self.health_url,
            "uptime_s": round(time.time() - self.started_at, 3) if self.started_at else None,
            "server": {
                "url": config.server_url if config else None, "online": self.server_online,
                "version": self.server_version, "last_ping": self.last_ping,
                "circuit": self._breaker.state.value if self._breaker else None,
            },  # fmt: skip
            "queue": queue,
            "held": self._uploader.held_reason if self._uploader else None,
            "uploads": {"in_flight": self._uploader.in_flight if self._uploader else 0, **self.stats.uploads},
            "files_picked": self.stats.files_picked,
            "converters": converters,
            "alerts": self.alerts.active(),
            "last_errors": list(self.stats.last_errors),
            "task_restarts": dict(self.stats.task_restarts),
            "fatal_error": str(self.fatal_error) if self.fatal_error else None,
        }


IDLE_TRIM_S = 10.0


def release_memory() -> None:
    """Collect garbage and, with glibc, return freed heap memory to the system (a station PC runs for months;
    a backlog of thousands of reports should not leave the service at its peak size)."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # musl (Alpine) has no malloc_trim
            pass


def _close_converter(converter: Converter) -> None:
    """Stop a sandboxed converter's worker processes (plain converters have nothing to close)."""
    close = getattr(converter, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # noqa: BLE001 - stopping goes on
            log.exception("closing converter %s failed", converter.name)


__all__ = ["AsyncClientService", "ServiceError", "ServiceState"]

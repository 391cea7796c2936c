"""Uploads: reports from the queue to the server, N at a time, each failure sorted into what to do about it.

=================================================  ============================================================
what happened                                      what the uploader does
=================================================  ============================================================
2xx with WATS's answer                             done (recorded in batches: a lost batch only means a resend,
                                                   which the server overwrites)
connect error, timeout, 408, 429, 5xx              transient: back to pending with full-jitter backoff
                                                   (``retry_base_s * 2**n``, capped at ``retry_cap_s``), or the
                                                   server's ``Retry-After``; retried forever
circuit breaker open                               back to pending, attempt not counted; nothing is claimed until
                                                   the breaker lets a probe through, then one at a time
400, 413, 422 (and other 4xx)                      rejected: failed, with the server's reason
401, 403, 404, 405, 3xx, TLS, an answer that is    a configuration fault: the report is held, and so is the whole
not WATS's, no server configured                   queue (an alert is raised); every ``hold_recheck_s`` the server
                                                   is probed, and a configuration change releases it at once
=================================================  ============================================================

The client (``AsyncWATS``) does not retry by itself here: the queue is the retry loop, so a report that waits
does not hold an upload slot.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pywats import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    AsyncWATS,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    RateLimitError,
)
from pywats._retry import FailureKind, classify_transport_error, parse_retry_after

from ..queue import AsyncReportQueue, QueueError, QueueItem
from .events import Alerts, EventBus, Stats, wait_event

log = logging.getLogger("pywats_client.upload")

QUEUE_POLL_S = 5.0
REJECTED = "rejected"
TRANSIENT = "transient"
CONFIG = "config"


@dataclass
class UploadSettings:
    concurrency: int = 5
    retry_base_s: float = 1.0
    retry_cap_s: float = 300.0
    hold_recheck_s: float = 60.0


def classify(error: BaseException) -> tuple[str, str, float | None]:
    """``(kind, reason, retry_after)`` for an upload that raised ``error`` (see the module docstring)."""
    if isinstance(error, CircuitOpenError):
        return TRANSIENT, str(error), error.retry_after
    if isinstance(error, APIStatusError):
        status = error.status_code
        reason = f"HTTP {status}: {error.message}" if getattr(error, "message", None) else f"HTTP {status}"
        retry_after = error.retry_after if isinstance(error, RateLimitError) else parse_retry_after(
            error.response.headers.get("retry-after"), now=_utcnow())
        if status in (408, 429) or status >= 500:
            return TRANSIENT, reason, retry_after
        if status in (401, 403):
            return CONFIG, f"{reason} (check the API token and its permissions)", None
        if status in (404, 405) or 300 <= status < 400:
            return CONFIG, f"{reason} (check server_url: this is not a WATS report endpoint)", None
        return REJECTED, reason, None
    if isinstance(error, APIResponseValidationError):
        return CONFIG, f"the server's answer is not WATS's ({error}); check server_url", None
    if isinstance(error, APIConnectionError):
        cause = error.__cause__ if error.__cause__ is not None else error
        if _is_tls(cause):
            return CONFIG, f"TLS failure: {error} (check the certificate or server_url)", None
        if classify_transport_error(cause) is FailureKind.FATAL:
            return CONFIG, f"{error} (check server_url)", None
        return TRANSIENT, str(error), None
    return TRANSIENT, f"{type(error).__name__}: {error}", None


def _is_tls(error: BaseException | None) -> bool:
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(error):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def _utcnow() -> Any:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def backoff(attempts: int, settings: UploadSettings, retry_after: float | None, rng: Callable[[], float]) -> float:
    """Seconds before the next attempt of a report that failed ``attempts`` times."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), settings.retry_cap_s)
    ceiling = min(settings.retry_cap_s, settings.retry_base_s * 2.0 ** min(max(attempts - 1, 0), 40))
    return rng() * ceiling


@dataclass
class Uploader:
    """The upload dispatcher: a supervised task of the service (:meth:`run`)."""

    queue: AsyncReportQueue
    client: Callable[[], AsyncWATS | None]
    """The upload client (with the shared circuit breaker, no retries of its own); None: no server configured."""
    probe: Callable[[], Any]
    """An awaitable factory checking the server with an authenticated request (raises like an upload would)."""
    breaker: CircuitBreaker
    settings: Callable[[], UploadSettings]
    paused: Callable[[], bool]
    bus: EventBus
    stats: Stats
    alerts: Alerts
    on_fatal: Callable[[BaseException], None]
    random: Callable[[], float] = random.random
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    held_reason: str | None = None
    _in_flight: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _ready: collections.deque[QueueItem] = field(default_factory=collections.deque)
    _done: list[tuple[str, int, str]] = field(default_factory=list)
    _flushing: asyncio.Task[None] | None = None
    _held_since: float = 0.0

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def notify(self) -> None:
        """New reports are queued (or something changed): look again now."""
        self.wake.set()

    async def release(self, why: str) -> None:
        """End a hold (the configuration changed, or the server answers again): held reports go back to pending."""
        if self.held_reason is None:
            return
        self.held_reason = None
        count = await self.queue.release_held()
        self.alerts.clear("held")
        self.bus.publish("released", count=count)
        log.info("queue released (%s): %d held report(s) back to pending", why, count)
        self.wake.set()

    def _hold(self, reason: str) -> None:
        if self.held_reason is None:
            log.error("queue held: %s. Nothing is dropped; uploads resume when this is fixed.", reason)
            self.bus.publish("held", reason=reason)
            self._held_since = time.monotonic()
        self.held_reason = reason
        self.alerts.raise_("held", f"uploads held: {reason}")

    async def run(self) -> None:
        while True:
            self.wake.clear()
            wait = await self._dispatch()
            if wait is None:
                continue
            await wait_event(self.wake, wait)

    async def _dispatch(self) -> float | None:
        """Start what can be started; how long to sleep (None: look again at once).

        Reports are claimed ahead, up to twice the concurrency, into a small buffer: one claim per batch
        instead of one per finished upload. Whatever is buffered goes back to pending the moment uploads
        must stop (pause, hold, breaker open, shutdown).
        """
        settings = self.settings()
        client = self.client()
        if self.paused() or client is None or self.held_reason is not None:
            await self._unclaim()
            if self.paused():
                return 1.0
            if client is None:
                self._hold("no server configured (set server_url and api_token)")
                return settings.hold_recheck_s
            return await self._recheck_hold(settings)
        state = self.breaker.state
        if state is CircuitState.OPEN:
            await self._unclaim()
            return max(self.breaker.retry_in, 0.05)
        if state is CircuitState.HALF_OPEN:
            free = 0 if self._in_flight else 1  # one probe at a time
        else:
            free = settings.concurrency - len(self._in_flight)
        claimed_all = False
        if free > len(self._ready) and state is CircuitState.CLOSED:
            want = settings.concurrency * 2 - len(self._ready)
            items = await self.queue.claim(want)
            self._ready.extend(items)
            claimed_all = len(items) == want
        elif free > len(self._ready):
            self._ready.extend(await self.queue.claim(free - len(self._ready)))
        while free > 0 and self._ready:
            item = self._ready.popleft()
            self._in_flight[item.id] = asyncio.create_task(self._upload(client, item), name=f"upload {item.id}")
            free -= 1
        if self._ready or claimed_all:
            return 1.0  # more is waiting: a finishing upload wakes us
        due = await self.queue.next_due()
        # Another process (submit, an OpenHTF callback) may queue reports meanwhile: look at least every 5 s.
        return QUEUE_POLL_S if due is None else min(max(due, 0.01), QUEUE_POLL_S)

    async def _unclaim(self) -> None:
        if self._ready:
            ids, self._ready = [item.id for item in self._ready], collections.deque()
            await self.queue.unclaim(ids)

    async def _recheck_hold(self, settings: UploadSettings) -> float:
        waited = time.monotonic() - self._held_since
        if waited < settings.hold_recheck_s:
            return settings.hold_recheck_s - waited
        self._held_since = time.monotonic()
        try:
            await self.probe()
        except Exception as error:  # noqa: BLE001 - any failure keeps the hold
            kind, reason, _ = classify(error)
            if kind == CONFIG:
                self._hold(reason)
            log.info("queue still held (%s)", reason)
            return settings.hold_recheck_s
        await self.release("the server accepts the configuration again")
        return 0.0

    async def _upload(self, client: AsyncWATS, item: QueueItem) -> None:
        started = time.perf_counter()
        try:
            try:
                report_id = await client.report.submit(item.payload or "", check=False)
            except Exception as error:  # noqa: BLE001 - every failure is sorted below
                await self._failed(item, error)
            else:
                seconds = time.perf_counter() - started
                self.stats.uploads["accepted"] += 1
                self.stats.upload_outcome(True)
                self.bus.publish("uploaded", report_id=item.id, serial_number=item.serial_number, seconds=seconds,
                                 correlation_id=item.correlation_id)  # fmt: skip
                log.info("uploaded %s (SN %s) in %.3f s", item.id, item.serial_number, seconds,
                         extra={"correlation_id": item.correlation_id})  # fmt: skip
                self._mark_done(item, str(report_id))
        except QueueError as error:
            self.on_fatal(error)
        except asyncio.CancelledError:
            # Shutting down mid-upload: the row stays "uploading" and the next start sends it again (overwrite).
            raise
        finally:
            self._in_flight.pop(item.id, None)
            self.wake.set()

    async def _failed(self, item: QueueItem, error: BaseException) -> None:
        kind, reason, retry_after = classify(error)
        extra = {"correlation_id": item.correlation_id}
        if not isinstance(error, CircuitOpenError):
            self.stats.upload_outcome(False)
        if isinstance(error, CircuitOpenError):
            await self.queue.reschedule(item.id, delay=retry_after or 1.0, error=None, count_attempt=False)
            return
        if kind == TRANSIENT:
            delay = backoff(item.attempts, self.settings(), retry_after, self.random)
            self.stats.uploads["retried"] += 1
            self.stats.error("upload", f"{item.id}: {reason}")
            self.bus.publish("upload_retry", report_id=item.id, reason=reason, delay=delay)
            log.warning("upload of %s failed (%s); attempt %d, next in %.1f s", item.id, reason, item.attempts,
                        delay, extra=extra)  # fmt: skip
            await self.queue.reschedule(item.id, delay=delay, error=reason)
        elif kind == REJECTED:
            self.stats.uploads["rejected"] += 1
            self.stats.error("upload", f"{item.id}: {reason}")
            self.bus.publish("upload_failed", report_id=item.id, reason=reason)
            log.error("server rejected %s (SN %s, from %s): %s", item.id, item.serial_number, item.source, reason,
                      extra=extra)  # fmt: skip
            await self.queue.fail(item.id, reason)
        else:
            self.stats.uploads["held"] += 1
            self.stats.error("upload", f"{item.id}: {reason}")
            self.bus.publish("upload_held", report_id=item.id, reason=reason)
            await self.queue.hold(item.id, reason)
            self._hold(reason)

    def _mark_done(self, item: QueueItem, answer: str) -> None:
        self._done.append((item.id, item.revision, answer))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush(), name="mark uploads done")

    async def _flush(self) -> None:
        while self._done:
            batch, self._done = self._done, []
            try:
                await self.queue.complete(batch)
            except QueueError as error:
                self.on_fatal(error)
                return

    async def drain(self, timeout: float) -> None:
        """Stop claiming; give uploads in flight up to ``timeout`` to finish, then cancel them (they stay
        "uploading" and are sent again at the next start)."""
        await self._unclaim()
        tasks = list(self._in_flight.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        if self._done:
            await self._flush()


__all__ = ["Uploader", "UploadSettings", "backoff", "classify"]

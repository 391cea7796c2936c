"""Prometheus metrics of one service, in a registry of its own (several instances may run in one process).

Counters and histograms move when their event happens (the service's event bus calls :meth:`Metrics.on_event`);
gauges are read from the service at scrape time (:meth:`Metrics.refresh`).

=====================================  =========  ===================================================
metric                                 type       labels
=====================================  =========  ===================================================
``pywats_queue_reports``               gauge      ``state`` (pending, uploading, done, failed, held)
``pywats_queue_oldest_pending_seconds``  gauge
``pywats_uploads_total``               counter    ``result`` (accepted, rejected, retried, held)
``pywats_upload_seconds``              histogram
``pywats_conversions_total``           counter    ``converter``, ``result`` (ok, failed)
``pywats_conversion_seconds``          histogram  ``converter``
``pywats_circuit_state``               gauge      ``state`` (1 for the current one)
``pywats_server_online``               gauge      (1 online, 0 offline, -1 not known yet)
``pywats_disk_free_bytes``             gauge
``pywats_service_state``               gauge      ``state`` (1 for the current one)
``pywats_task_restarts_total``         counter    ``task``
=====================================  =========  ===================================================
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from ..queue import STATES

if TYPE_CHECKING:
    from ..service.events import Event
    from ..service.service import AsyncClientService

_SERVICE_STATES = ("STOPPED", "START_PENDING", "RUNNING", "PAUSED", "STOP_PENDING", "ERROR")
_CIRCUIT_STATES = ("closed", "open", "half_open")
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.queue = Gauge("pywats_queue_reports", "Reports in the queue by state", ["state"], registry=r)
        self.oldest = Gauge("pywats_queue_oldest_pending_seconds", "Age of the oldest report waiting", registry=r)
        self.uploads = Counter("pywats_uploads", "Upload attempts by result", ["result"], registry=r)
        self.upload_seconds = Histogram("pywats_upload_seconds", "Time of accepted uploads", buckets=_SECONDS,
                                        registry=r)  # fmt: skip
        self.conversions = Counter("pywats_conversions", "Conversions by converter and result",
                                   ["converter", "result"], registry=r)  # fmt: skip
        self.conversion_seconds = Histogram("pywats_conversion_seconds", "Time of successful conversions",
                                            ["converter"], buckets=_SECONDS, registry=r)  # fmt: skip
        self.circuit = Gauge("pywats_circuit_state", "Circuit breaker state", ["state"], registry=r)
        self.online = Gauge("pywats_server_online", "1 online, 0 offline, -1 not known yet", registry=r)
        self.disk_free = Gauge("pywats_disk_free_bytes", "Free disk space where the queue lives", registry=r)
        self.state = Gauge("pywats_service_state", "Service state", ["state"], registry=r)
        self.restarts = Counter("pywats_task_restarts", "Background tasks that died and were restarted", ["task"],
                                registry=r)  # fmt: skip
        for result in ("accepted", "rejected", "retried", "held"):
            self.uploads.labels(result)  # present at 0 before the first one happens
        self.online.set(-1)

    def on_event(self, event: Event) -> None:
        data = event.data
        if event.kind == "uploaded":
            self.uploads.labels("accepted").inc()
            self.upload_seconds.observe(data.get("seconds", 0.0))
        elif event.kind == "upload_retry":
            self.uploads.labels("retried").inc()
        elif event.kind == "upload_failed":
            self.uploads.labels("rejected").inc()
        elif event.kind == "upload_held":
            self.uploads.labels("held").inc()
        elif event.kind == "converted":
            self.conversions.labels(data.get("converter", "?"), "ok").inc()
            self.conversion_seconds.labels(data.get("converter", "?")).observe(data.get("seconds", 0.0))
        elif event.kind == "conversion_failed":
            self.conversions.labels(data.get("converter", "?"), "failed").inc()
        elif event.kind == "task_restarted":
            self.restarts.labels(data.get("task", "?")).inc()

    async def refresh(self, service: AsyncClientService) -> None:
        """Read the gauges from the service (queue counts, breaker, server, disk, state)."""
        if service.reader is not None:
            counts = await service.reader.counts()
            for state in STATES:
                self.queue.labels(state).set(counts.get(state, 0))
            self.oldest.set(await service.reader.oldest_pending_age() or 0.0)
        breaker = service.breaker
        for state in _CIRCUIT_STATES:
            self.circuit.labels(state).set(1 if breaker is not None and breaker.state.value == state else 0)
        self.online.set(-1 if service.server_online is None else int(service.server_online))
        free = await asyncio.to_thread(service.disk_free)
        if free is not None:
            self.disk_free.set(free)
        for state in _SERVICE_STATES:
            self.state.labels(state).set(1 if service.state.value == state else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)



__all__ = ["Metrics"]

"""Health and metrics over plain HTTP for monitoring systems, bound to 127.0.0.1 unless configured otherwise.

- ``GET /health``: liveness: 200 while the service's event loop answers.
- ``GET /ready``: 200 when the service is running, the server answered its last ping, the queue is writable,
  every configured converter loaded and the disk is above the reserve; 503 with the failed checks otherwise.
- ``GET /health/details``: JSON: ``status`` ``ok`` or ``degraded``, with the reasons (a report waiting longer
  than ``health_queue_age_s``, more than half of the recent uploads failing, the circuit open, the queue held,
  the disk low, a background task restarted in the last 10 minutes, a converter not loaded, the server offline).
- ``GET /metrics``: Prometheus text format (:mod:`.metrics`).

These endpoints carry no secrets and change nothing, so they need no token; keep them on loopback (or behind
the firewall) all the same.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .metrics import Metrics
from .serving import SocketServer

if TYPE_CHECKING:
    from ..service.service import AsyncClientService

log = logging.getLogger("pywats_client.control")

RESTART_RECENT_S = 600.0
ERROR_RATE_WINDOW_S = 300.0


async def readiness(service: AsyncClientService) -> dict[str, bool]:
    checks = {
        "running": service.state.value == "RUNNING",
        "server_reachable": service.server_online is True,
        "queue_writable": False,
        "converters_loaded": not service.converter_errors,
        "disk_above_reserve": "disk_low" not in service.alerts and "disk_full" not in service.alerts,
    }
    if service.queue is not None:
        try:
            checks["queue_writable"] = await service.queue.writable()
        except Exception:  # noqa: BLE001 - any failure means "not writable"
            checks["queue_writable"] = False
    return checks


async def details(service: AsyncClientService) -> dict[str, Any]:
    config = service.config
    reasons: list[str] = []
    oldest = await service.reader.oldest_pending_age() if service.reader is not None else None
    if config is not None and oldest is not None and oldest > config.health_queue_age_s:
        reasons.append(f"a report has waited {oldest:.0f} s (threshold {config.health_queue_age_s:g} s)")
    recent = service.stats.recent_uploads(ERROR_RATE_WINDOW_S)
    failed = sum(1 for ok in recent if not ok)
    if len(recent) >= 4 and failed * 2 > len(recent):
        reasons.append(f"{failed} of the last {len(recent)} upload attempts failed")
    if service.breaker is not None and service.breaker.state.value != "closed":
        reasons.append(f"circuit breaker {service.breaker.state.value}")
    if service.uploader is not None and service.uploader.held_reason:
        reasons.append(f"queue held: {service.uploader.held_reason}")
    for alert in service.alerts.active():
        if alert["name"] in ("disk_low", "disk_full", "queue_full", "config_rejected"):
            reasons.append(alert["message"])
    now = time.time()
    for task, when in service.restarted_tasks().items():
        if now - when < RESTART_RECENT_S:
            reasons.append(f"task {task} failed and was restarted {now - when:.0f} s ago")
    for name, error in service.converter_errors.items():
        reasons.append(f"converter {name} not loaded: {error}")
    if service.server_online is False:
        reasons.append("server offline")
    return {
        "status": "degraded" if reasons else "ok",
        "reasons": reasons,
        "state": service.state.value,
        "ready": await readiness(service),
        "oldest_pending_age_s": oldest,
        "recent_uploads": {"attempts": len(recent), "failed": failed, "window_s": ERROR_RATE_WINDOW_S},
    }


def make_app(service: AsyncClientService, metrics: Metrics) -> Starlette:
    async def health(request: Request) -> Response:
        return JSONResponse({"status": "alive", "state": service.state.value})

    async def ready(request: Request) -> Response:
        checks = await readiness(service)
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    async def health_details(request: Request) -> Response:
        return JSONResponse(await details(service))

    async def metrics_text(request: Request) -> Response:
        await metrics.refresh(service)
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return Starlette(routes=[
        Route("/health", health), Route("/ready", ready), Route("/health/details", health_details),
        Route("/metrics", metrics_text),
    ])  # fmt: skip


class HealthServer:
    """Serves health and metrics while the service runs (an extension of :class:`AsyncClientService`)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.url: str | None = None
        self._server: SocketServer | None = None

    async def start(self, service: AsyncClientService) -> None:
        config = service.config
        assert config is not None
        if config.health_port is None:
            return
        family = socket.AF_INET6 if ":" in config.health_host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((config.health_host, config.health_port))
        except OSError as error:
            sock.close()
            log.error("health endpoints not started: cannot listen on %s:%s (%s)", config.health_host,
                      config.health_port, error)  # fmt: skip
            service.alerts.raise_("health_port", f"health endpoints not started: {error}")
            return
        host, port = sock.getsockname()[:2]
        self.url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        self._server = SocketServer(make_app(service, self.metrics), sock, name="health")
        await self._server.start()
        log.info("health and metrics on %s", self.url)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
        self._server = None
        self.url = None


__all__ = ["HealthServer", "details", "make_app", "readiness"]

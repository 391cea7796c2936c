"""Supervised background tasks: a task that dies is logged, counted, marks the service degraded, and is
restarted after a growing pause (1 s, 2 s, ... 30 s). Cancelling stops it for good."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from .events import EventBus, Stats

log = logging.getLogger("pywats_client.service")


class Supervisor:
    def __init__(self, stats: Stats, bus: EventBus) -> None:
        self._stats = stats
        self._bus = bus
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.restarted: dict[str, float] = {}
        """Task name → when it last died and was restarted (for /health/details)."""

    def start(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        if name in self._tasks and not self._tasks[name].done():
            raise RuntimeError(f"task {name!r} is already running")
        self._tasks[name] = asyncio.create_task(self._keep_running(name, factory), name=name)

    async def _keep_running(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        pause = 1.0
        while True:
            started = time.monotonic()
            try:
                await factory()
                log.debug("task %s ended", name)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the point of a supervisor
                if time.monotonic() - started > 60:
                    pause = 1.0  # it ran fine for a while: start over with a short pause
                log.exception("task %s failed (%s: %s); restarting it in %.0f s", name, type(error).__name__, error, pause)
                self._stats.task_restarts[name] += 1
                self._stats.error(name, f"{type(error).__name__}: {error}")
                self.restarted[name] = time.time()
                self._bus.publish("task_restarted", task=name, reason=f"{type(error).__name__}: {error}")
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)

    def names(self) -> list[str]:
        return [name for name, task in self._tasks.items() if not task.done()]

    async def stop(self, *names: str) -> None:
        """Cancel the named tasks (all of them when none is named) and wait for them to end."""
        chosen = [self._tasks.pop(name) for name in (names or list(self._tasks)) if name in self._tasks]
        for task in chosen:
            task.cancel()
        if chosen:
            await asyncio.gather(*chosen, return_exceptions=True)


__all__ = ["Supervisor"]

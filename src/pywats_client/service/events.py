"""What the service tells the world: a live event stream, counters, and the alerts in force.

Events (``kind`` and the data each carries):

=====================  ==========================================================================
``state``              ``state``: the service's new state
``picked_up``          ``converter``, ``source``, ``correlation_id``
``converted``          ``converter``, ``source``, ``reports``, ``seconds``, ``correlation_id``
``conversion_failed``  ``converter``, ``source``, ``reason``, ``correlation_id``
``uploaded``           ``report_id``, ``serial_number``, ``seconds``, ``correlation_id``
``upload_retry``       ``report_id``, ``reason``, ``delay``
``upload_failed``      ``report_id``, ``reason`` (the server rejected it)
``held``               ``reason`` (a configuration fault: the queue waits)
``released``           ``count``
``alert`` / ``cleared``  ``name``, ``message``
=====================  ==========================================================================

Subscribers get their own bounded asyncio queue; a subscriber too slow to keep up loses the oldest events
(and is told how many), never slows the service down.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait until ``event`` is set or ``timeout`` passes; whether it was set.

    Not ``asyncio.wait_for(event.wait(), timeout)``: on Python 3.11 that can swallow a cancellation arriving
    just as the event is set, and a supervised loop would then never stop.
    """
    waiter = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
    finally:
        waiter.cancel()
    return bool(done)


@dataclass(frozen=True)
class Event:
    kind: str
    time: float
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "time": self.time, **self.data}


class EventBus:
    def __init__(self, *, history: int = 200, subscriber_buffer: int = 1000) -> None:
        self._subscribers: list[asyncio.Queue[Event]] = []
        self._listeners: list[Callable[[Event], None]] = []
        self._history: deque[Event] = deque(maxlen=history)
        self._buffer = subscriber_buffer

    def publish(self, kind: str, **data: Any) -> Event:
        event = Event(kind, time.time(), data)
        self._history.append(event)
        for listener in self._listeners:
            listener(event)
        for queue in list(self._subscribers):
            if queue.full():
                dropped = queue.get_nowait()  # the oldest goes; the subscriber learns it missed some
                queue.put_nowait(Event("dropped", dropped.time, {"missed": 1}))
                continue
            queue.put_nowait(event)
        return event

    def listen(self, listener: Callable[[Event], None]) -> None:
        """Call ``listener`` with every event as it is published (it must be quick and must not raise)."""
        self._listeners.append(listener)

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=self._buffer)
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    def recent(self, count: int = 50) -> list[Event]:
        return list(self._history)[-count:]


@dataclass
class Stats:
    """Counters since the service started (the queue holds the durable truth; these are for status and metrics)."""

    files_picked: int = 0
    conversions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (converter, ok|failed) → count
    uploads: Counter[str] = field(default_factory=Counter)  # accepted, rejected, retried, held → count
    task_restarts: Counter[str] = field(default_factory=Counter)
    last_errors: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20))

    recent: deque[tuple[float, bool]] = field(default_factory=lambda: deque(maxlen=1000))
    """Recent upload attempts: (time, accepted)."""

    def upload_outcome(self, accepted: bool) -> None:
        self.recent.append((time.time(), accepted))

    def recent_uploads(self, window_s: float) -> list[bool]:
        cutoff = time.time() - window_s
        return [accepted for when, accepted in self.recent if when >= cutoff]

    def error(self, where: str, message: str) -> None:
        self.last_errors.append({"time": time.time(), "where": where, "message": message})



class Alerts:
    """Conditions a person should know about, by name, while they last (queue held, disk low, ...)."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._active: dict[str, dict[str, Any]] = {}

    def raise_(self, name: str, message: str) -> None:
        if self._active.get(name, {}).get("message") != message:
            self._active[name] = {"name": name, "message": message, "since": time.time()}
            self._bus.publish("alert", name=name, message=message)

    def clear(self, name: str) -> None:
        if self._active.pop(name, None) is not None:
            self._bus.publish("cleared", name=name)

    def active(self) -> list[dict[str, Any]]:
        return list(self._active.values())

    def __contains__(self, name: str) -> bool:
        return name in self._active


__all__ = ["Alerts", "Event", "EventBus", "Stats", "wait_event"]

"""The state of one running emulator, shared by every router through ``request.app.state.emulator``.

A router reaches it with the :func:`get_state` dependency::

    @router.get("/api/Thing")
    def thing(state: EmulatorState = Depends(get_state)) -> ...:
        return state.storage.read("SELECT ...")
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from .config import EmulatorConfig
from .faults import FaultInjector
from .storage import Storage


@dataclass
class Stats:
    """Counters since start (or the last reset): requests, statuses, reports accepted and rejected."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    reports_received: int = 0
    reports_rejected: int = 0

    def count_response(self, status: int) -> None:
        with self._lock:
            self.requests += 1
            self.statuses[status] += 1

    def count_report(self, accepted: bool) -> None:
        with self._lock:
            if accepted:
                self.reports_received += 1
            else:
                self.reports_rejected += 1

    def clear(self) -> None:
        with self._lock:
            self.requests = self.reports_received = self.reports_rejected = 0
            self.statuses = Counter()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "responses": {str(status): count for status, count in sorted(self.statuses.items())},
                "reports_received": self.reports_received,
                "reports_rejected": self.reports_rejected,
            }


@dataclass
class EmulatorState:
    """Configuration, storage, fault injector and counters of one app."""

    config: EmulatorConfig
    storage: Storage
    faults: FaultInjector
    stats: Stats = field(default_factory=Stats)

    def snapshot(self) -> dict[str, Any]:
        """What ``GET /_emulator/stats`` returns."""
        return {
            **self.stats.snapshot(),
            "reports_stored": self.storage.count_reports(),
            "faults_injected": self.faults.counts(),
        }


def get_state(request: Request) -> EmulatorState:
    """FastAPI dependency: the emulator state of the app serving ``request``."""
    return request.app.state.emulator

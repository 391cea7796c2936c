"""A circuit breaker: stop sending to a server that keeps failing, and probe it now and then.

When a WATS server is down, a station with a backlog would otherwise spend every retry of every report on it.
The breaker fails those requests at once with :class:`~pywats.CircuitOpenError` (no request is sent) until
the server has had ``recovery_timeout`` seconds to recover, then lets exactly one probe through.

State machine (``.state``)::

      CLOSED ── failure_threshold consecutive failures ──▶ OPEN
        ▲                                                    │ recovery_timeout passes
        │ the probe succeeds                                 ▼
        └──────────────────────────────────────────────  HALF_OPEN ── the probe fails ──▶ OPEN (timer restarts)

Rules:

1. Only the request loop calls :meth:`acquire` (before each attempt) and :meth:`record` (after it, always: a
   ``finally`` records ``NEUTRAL`` when the attempt ended in something else, such as cancellation).
2. A *failure* is the server failing: no connection, a timeout, 408 or 5xx. Any other answer, 4xx included,
   proves the server is up and is a *success*. 429 is *neutral*: the server is alive but wants us slower, which
   the retry and rate-limit code handle.
3. In HALF_OPEN exactly one request (the probe) is in flight; the others get ``CircuitOpenError`` at once. A
   neutral probe outcome frees the slot for the next request to probe.
4. Outcomes of requests that were sent while CLOSED but finish after the breaker opened are ignored: they say
   nothing about the server after it was found failing.

The breaker is **opt-in** (``circuit_breaker=CircuitBreaker()``): an interactive script wants each call to try
the server, while a service uploading a backlog wants to stop hammering it. One breaker may be shared by
several clients of the same server; it is thread-safe and holds its lock only for the arithmetic.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from enum import Enum
from typing import Callable

from ._exceptions import CircuitOpenError

log = logging.getLogger("pywats")


class CircuitState(str, Enum):
    """Where the breaker is: CLOSED sends everything, OPEN sends nothing, HALF_OPEN sends one probe."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Outcome(str, Enum):
    """What an attempt says about the server's health."""

    SUCCESS = "success"
    FAILURE = "failure"
    NEUTRAL = "neutral"


class CircuitBreaker:
    """Closed / open / half-open breaker with a consecutive-failure threshold.

    Args:
        failure_threshold: consecutive failed attempts that open the breaker.
        recovery_timeout: seconds the breaker stays open before it lets one probe through.
        clock: monotonic seconds; tests pass a fake one.

    >>> breaker = CircuitBreaker(failure_threshold=3, recovery_timeout=10.0)
    >>> breaker.state
    <CircuitState.CLOSED: 'closed'>
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if not (recovery_timeout >= 0 and math.isfinite(recovery_timeout)):
            raise ValueError(f"recovery_timeout must be a finite number of seconds >= 0, not {recovery_timeout!r}")
        self.failure_threshold = failure_threshold
        self.recovery_timeout = float(recovery_timeout)
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.state.value} failures={self._failures}/{self.failure_threshold}>"

    @property
    def state(self) -> CircuitState:
        """The current state; an OPEN breaker whose recovery time has passed reads HALF_OPEN."""
        with self._lock:
            if self._state is CircuitState.OPEN and self._remaining(self._clock()) <= 0:
                return CircuitState.HALF_OPEN
            return self._state

    @property
    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through; 0 when closed or half-open."""
        with self._lock:
            if self._state is CircuitState.OPEN:
                return max(0.0, self._remaining(self._clock()))
            return 0.0

    @property
    def failures(self) -> int:
        """Consecutive failures counted while closed."""
        return self._failures

    def _remaining(self, now: float) -> float:
        return self._opened_at + self.recovery_timeout - now

    def acquire(self) -> bool:
        """Ask to send one attempt. Returns True when this attempt is the half-open probe.

        Raises:
            CircuitOpenError: the breaker is open, or half-open with a probe already in flight.
        """
        with self._lock:
            if self._state is CircuitState.CLOSED:
                return False
            now = self._clock()
            if self._state is CircuitState.OPEN:
                remaining = self._remaining(now)
                if remaining > 0:
                    raise CircuitOpenError(
                        f"circuit breaker open after {self.failure_threshold} consecutive failures; "
                        f"next probe in {remaining:.1f} s",
                        retry_after=remaining,
                    )
                self._state = CircuitState.HALF_OPEN
                log.info("circuit breaker half-open: sending one probe request")
            if self._probe_in_flight:
                raise CircuitOpenError(
                    "circuit breaker half-open: a probe request is in flight",
                    retry_after=min(1.0, self.recovery_timeout),
                )
            self._probe_in_flight = True
            return True

    def record(self, probe: bool, outcome: Outcome) -> None:
        """Report how an attempt allowed by :meth:`acquire` ended. Always call it, once per ``acquire``."""
        with self._lock:
            if probe:
                self._probe_in_flight = False
                if outcome is Outcome.SUCCESS:
                    self._close()
                elif outcome is Outcome.FAILURE:
                    self._open(self._clock(), "the probe request failed")
                return  # NEUTRAL: stay half-open; the next request probes
            if self._state is not CircuitState.CLOSED:
                return  # rule 4: a late answer to a request sent before the breaker opened
            if outcome is Outcome.SUCCESS:
                self._failures = 0
            elif outcome is Outcome.FAILURE:
                self._failures += 1
                if self._failures >= self.failure_threshold:
                    self._open(self._clock(), f"{self._failures} consecutive failures")

    def reset(self) -> None:
        """Close the breaker by hand (after fixing the server or the configuration)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._state is not CircuitState.CLOSED:
            log.info("circuit breaker closed: the server answers again")
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._probe_in_flight = False

    def _open(self, now: float, reason: str) -> None:
        log.warning("circuit breaker open for %.1f s: %s", self.recovery_timeout, reason)
        self._state = CircuitState.OPEN
        self._opened_at = now


__all__ = ["CircuitBreaker", "CircuitState", "Outcome"]

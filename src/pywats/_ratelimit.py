"""Client-side rate limiting: a token bucket that both clients share the arithmetic of.

WATS servers (cloud ones in particular) throttle clients that send too much; a station replaying a backlog after a
network outage easily does. Limiting on our side keeps a backlog from turning into a storm of 429s.

The bucket holds up to ``requests`` tokens and refills at ``requests / per`` tokens a second; every HTTP attempt
(retries included) takes one. :meth:`TokenBucket.reserve` never waits itself: it takes a token, on credit if
the bucket is empty, and returns how long the caller must wait before using it. That keeps the bucket free of
I/O, so the sync client waits with ``time.sleep`` (other threads keep going: the lock is held only for the
arithmetic) and the async client with ``asyncio.sleep`` (the event loop is never blocked). Reserving on credit
also makes waiting callers first-come, first-served: each one's wait is computed when it asks.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` requests per ``per`` seconds, with bursts of up to ``requests``.

    The default, 500 requests a minute, is what a busy station needs and far below what a WATS server takes.

    >>> RateLimit(requests=100, per=10.0).rate
    10.0
    """

    requests: int = 500
    per: float = 60.0

    def __post_init__(self) -> None:
        if self.requests < 1:
            raise ValueError("requests must be at least 1; pass rate_limit=None to turn limiting off")
        if not (self.per > 0 and math.isfinite(self.per)):
            raise ValueError(f"per must be a finite number of seconds > 0, not {self.per!r}")

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self.requests / self.per


class TokenBucket:
    """A thread-safe token bucket. ``clock`` returns seconds (monotonic); tests pass a fake one.

    Share one bucket between clients (pass it as ``rate_limit=``) to limit them together.
    """

    def __init__(self, capacity: float, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if capacity < 1 or rate <= 0:
            raise ValueError("a token bucket needs capacity >= 1 and rate > 0")
        self.capacity = float(capacity)
        self.rate = float(rate)
        self._clock = clock
        self._tokens = float(capacity)  # start full: the first burst goes out at once
        self._updated = clock()
        self._lock = threading.Lock()

    @classmethod
    def from_limit(cls, limit: RateLimit, *, clock: Callable[[], float] = time.monotonic) -> TokenBucket:
        """A full bucket for ``limit``."""
        return cls(limit.requests, limit.rate, clock=clock)

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)  # a clock that steps back must not drain the bucket
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = now

    def reserve(self) -> float:
        """Take one token and return the seconds to wait before using it (0.0 when one was there)."""
        with self._lock:
            self._refill(self._clock())
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def try_take(self) -> float:
        """Take one token if one is there and return 0.0; otherwise take nothing and return the seconds until
        one will be (for servers answering 429 with ``Retry-After`` instead of making the caller wait)."""
        with self._lock:
            self._refill(self._clock())
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate

    @property
    def available(self) -> float:
        """Tokens in the bucket now; negative while callers wait on credit."""
        with self._lock:
            self._refill(self._clock())
            return self._tokens


def make_bucket(rate_limit: RateLimit | TokenBucket | None) -> TokenBucket | None:
    """The bucket a client uses for its ``rate_limit=`` argument: a new one per client, a shared one, or none."""
    if rate_limit is None or isinstance(rate_limit, TokenBucket):
        return rate_limit
    if isinstance(rate_limit, RateLimit):
        return TokenBucket.from_limit(rate_limit)
    raise TypeError(f"rate_limit must be a RateLimit, a TokenBucket or None, not {type(rate_limit).__name__}")


__all__ = ["RateLimit", "TokenBucket", "make_bucket"]

"""When to retry a request and how long to wait: pure functions, no I/O, no clock of their own.

The client's request loop (``pyWATS._request`` / ``AsyncWATS._request``) is the only place that retries; it asks
these functions and sleeps. Keeping them pure makes the whole policy testable as tables.

Rules:

1. **What is retried.** Connection failures, timeouts, 408, 429 and every 5xx. Nothing else: a 4xx other than
   408/429 means the request itself is wrong and sending it again changes nothing.
2. **Which requests.** Idempotent ones (GET, HEAD, PUT, DELETE, OPTIONS, and any request the endpoint marks
   idempotent, like a report submission: a resubmitted report id overwrites, it does not duplicate). A request
   that is *not* idempotent is retried only when the server certainly did not act on it: the connection was
   never made (``CONNECT``), or the server answered 408 or 429. A read timeout or a 5xx after sending it is
   ambiguous, so it is not retried.
3. **How long.** ``Retry-After`` (seconds or an HTTP date) when the server sent one, capped at
   ``max_retry_after``; otherwise "full jitter" exponential backoff: a uniform random wait in
   ``[0, min(max_delay, base_delay * 2**n)]`` for the n-th retry (n from 0). Full jitter spreads a crowd of
   stations that all failed at once instead of having them retry in lockstep.
4. **How often.** At most ``max_attempts`` attempts in total (the first one included).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Callable

import httpx

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

_SECONDS = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class RetryConfig:
    """How the client retries transient failures.

    Args:
        max_attempts: attempts in total, the first included; 1 turns retrying off.
        base_delay: the backoff scale in seconds: the n-th retry waits up to ``base_delay * 2**n``.
        max_delay: the backoff cap in seconds.
        max_retry_after: the longest ``Retry-After`` honoured; a longer one is cut to this.

    >>> RetryConfig(max_attempts=6, base_delay=1.0, max_delay=60.0)
    RetryConfig(max_attempts=6, base_delay=1.0, max_delay=60.0, max_retry_after=120.0)
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts counts the first attempt too: it must be at least 1")
        for name in ("base_delay", "max_delay", "max_retry_after"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number of seconds >= 0, not {value!r}")


NO_RETRY = RetryConfig(max_attempts=1)


class FailureKind(str, Enum):
    """Why a request got no HTTP answer, as far as retrying cares."""

    CONNECT = "connect"  # the request never left: connect error or timeout, pool timeout. Always safe to resend.
    TIMEOUT = "timeout"  # sent, then no answer in time: the server may have acted on it.
    NETWORK = "network"  # the connection broke mid-way: the server may have acted on it.
    FATAL = "fatal"  # will not get better by retrying: unsupported scheme, invalid URL, broken proxy setup.


def classify_transport_error(exc: BaseException) -> FailureKind:
    """Sort an httpx exception into a :class:`FailureKind`."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return FailureKind.CONNECT
    if isinstance(exc, httpx.TimeoutException):
        return FailureKind.TIMEOUT
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.ProxyError, httpx.InvalidURL)):
        return FailureKind.FATAL
    if isinstance(exc, (httpx.NetworkError, httpx.ProtocolError)):
        return FailureKind.NETWORK
    return FailureKind.FATAL


def is_idempotent(method: str, marked: bool | None = None) -> bool:
    """Whether sending the request twice has the same effect as once. ``marked`` overrides the method."""
    return marked if marked is not None else method.upper() in IDEMPOTENT_METHODS


def is_retryable_status(status_code: int) -> bool:
    """408, 429 and 5xx: the server is overloaded, restarting or failing, not refusing the request itself."""
    return status_code in (408, 429) or status_code >= 500


def should_retry(*, idempotent: bool, status_code: int | None = None, failure: FailureKind | None = None) -> bool:
    """Whether this outcome is worth another attempt (ignoring how many were made: see :func:`retry_delay`).

    Give either ``status_code`` (the server answered) or ``failure`` (it did not).
    """
    if failure is not None:
        if failure is FailureKind.FATAL:
            return False
        return idempotent or failure is FailureKind.CONNECT
    if status_code is None or not is_retryable_status(status_code):
        return False
    # 408 and 429 say the server did not process the request, so even a non-idempotent one may be resent.
    return idempotent or status_code in (408, 429)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds, or None when absent or unreadable.

    Accepts delay-seconds (``"120"``, and leniently ``"1.5"``) and an HTTP date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``), which is measured from ``now`` (timezone-aware); a date in the past
    means "now" (0). Negative, non-numeric or non-finite values are ignored.
    """
    if value is None:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # Python 3.10 returns None for some malformed dates instead of raising
        return None
    if when.tzinfo is None:  # HTTP dates are always GMT; "-0000" comes back naive
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(retry_index: int, config: RetryConfig, random: Callable[[], float]) -> float:
    """Full-jitter backoff for the ``retry_index``-th retry (0 for the first): uniform in [0, cap).

    ``random`` returns a float in [0, 1), like :func:`random.random`; tests pass a constant.
    """
    # 2**64 is far past any cap; bounding the exponent keeps the float finite for absurd indexes.
    ceiling = min(config.max_delay, config.base_delay * 2.0 ** min(max(retry_index, 0), 64))
    return random() * ceiling


def retry_delay(
    config: RetryConfig,
    *,
    attempt: int,
    idempotent: bool,
    status_code: int | None = None,
    failure: FailureKind | None = None,
    retry_after: float | None = None,
    random: Callable[[], float],
) -> float | None:
    """Seconds to wait before the next attempt, or None to give up and raise.

    Args:
        attempt: how many attempts have been made so far (1 after the first).
        retry_after: the server's ``Retry-After`` in seconds (see :func:`parse_retry_after`), if any.
    """
    if attempt >= config.max_attempts:
        return None
    if not should_retry(idempotent=idempotent, status_code=status_code, failure=failure):
        return None
    if retry_after is not None:
        return min(retry_after, config.max_retry_after)
    return backoff_delay(attempt - 1, config, random)


__all__ = [
    "IDEMPOTENT_METHODS",
    "NO_RETRY",
    "FailureKind",
    "RetryConfig",
    "backoff_delay",
    "classify_transport_error",
    "is_idempotent",
    "is_retryable_status",
    "parse_retry_after",
    "retry_delay",
    "should_retry",
]

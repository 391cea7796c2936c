"""``BaseClient``: everything the sync and async clients share. No I/O happens here.

``pyWATS`` and ``AsyncWATS`` (:mod:`pywats._client`) each add only what must differ: the httpx client they own,
how they sleep, and a request loop written twice, line for line. Every decision that loop makes is a call into
this module:

- configuration: base URL, token, timeouts, station registry, error mode, retry, rate limit, breaker;
- building the ``httpx.Request`` for an ``Op``;
- translating httpx exceptions into pywats ones (:func:`translate_transport_errors`, the only place);
- turning an error status into the right exception (:func:`make_status_error`);
- whether and how long to wait before retrying (:mod:`pywats._retry`, with this client's clock and random);
- what an attempt tells the circuit breaker (:func:`outcome_of`).

Clocks and randomness are attributes (``_now``, ``_clock``, ``_random``) so tests can pin them.
"""

from __future__ import annotations

import json
import logging
import random
import ssl
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Callable
from urllib.parse import urlsplit

import httpx

from ._circuit import CircuitBreaker, CircuitState, Outcome
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    CircuitOpenError,
    RateLimitError,
    status_error_class,
)
from ._ops import Op
from ._ratelimit import RateLimit, TokenBucket, make_bucket
from ._retry import RetryConfig, classify_transport_error, parse_retry_after, retry_delay
from ._station import Station, StationRegistry

log = logging.getLogger("pywats")
log.addHandler(logging.NullHandler())  # a library logs; the application decides where it goes

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
"""Connect within 10 s; 60 s for each read, write and wait for a pooled connection (a big report takes a while)."""

DEFAULT_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0)

_BODY_TEXT_LIMIT = 10_000  # keep an error page's text, not a megabyte of it
_MESSAGE_LIMIT = 1_000


class ErrorMode(str, Enum):
    """What a client does when the server has no such thing.

    ``STRICT`` (default) raises :class:`~pywats.NotFoundError`. ``LENIENT`` returns ``None`` instead from calls
    that read one resource (``report.get``, ``report.get_wsjf``, attachments, ``process.code_for``...); every
    other error still raises, in both modes, since a missing answer there is never a normal outcome.
    """

    STRICT = "strict"
    LENIENT = "lenient"


@contextmanager
def translate_transport_errors(request: httpx.Request) -> Iterator[None]:
    """Re-raise httpx's transport exceptions as pywats ones, chained with ``from`` (the one place that does)."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise APITimeoutError(f"{request.method} {request.url}: timed out ({type(exc).__name__})",
                              request=request) from exc  # fmt: skip
    except httpx.RequestError as exc:
        detail = str(exc) or type(exc).__name__
        raise APIConnectionError(f"{request.method} {request.url}: {detail}", request=request) from exc


def decode_body(response: httpx.Response) -> Any:
    """An error answer's body: the JSON value when it is JSON, else its (shortened) text, None when empty."""
    if not response.content:
        return None
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        return None
    if "json" in response.headers.get("content-type", "") or text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text[:_BODY_TEXT_LIMIT]


def server_message(body: Any) -> str:
    """The server's explanation inside an error body, or "" (ASP.NET's ``Message`` / ``ModelState`` shapes,
    ``error`` / ``title`` / ``detail`` of other servers, plain text; never an HTML page)."""
    if isinstance(body, str):
        text = body.strip()
        return "" if text[:1] == "<" else text[:_MESSAGE_LIMIT]
    if isinstance(body, list):
        return "; ".join(filter(None, (server_message(item) for item in body)))[:_MESSAGE_LIMIT]
    if not isinstance(body, dict):
        return ""
    by_key = {str(key).lower(): value for key, value in body.items()}
    parts: list[str] = []
    for key in ("message", "exceptionmessage", "error_description", "error", "title", "detail"):
        value = by_key.get(key)
        if isinstance(value, str) and value.strip() and value.strip() not in parts:
            parts.append(value.strip())
    details = by_key.get("modelstate") or by_key.get("errors")
    if isinstance(details, dict):
        for field, problems in details.items():
            for problem in problems if isinstance(problems, list) else [problems]:
                parts.append(f"{field}: {problem}" if field else str(problem))
    return "; ".join(parts)[:_MESSAGE_LIMIT]


def make_status_error(response: httpx.Response, *, now: datetime) -> APIStatusError:
    """The exception for an error answer: the most specific class, the server's message and body."""
    body = decode_body(response)
    message = server_message(body) or response.reason_phrase
    location = response.headers.get("location")
    if 300 <= response.status_code < 400 and location:
        message += f" (redirected to {location}: use the final address as base_url)"
    cls = status_error_class(response.status_code)
    if cls is RateLimitError:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)
        return RateLimitError(message, response=response, body=body, retry_after=retry_after)
    return cls(message, response=response, body=body)


def outcome_of(status_code: int | None) -> Outcome:
    """What an attempt says about the server's health (None: no answer at all). See :mod:`pywats._circuit`."""
    if status_code is None or status_code == 408 or status_code >= 500:
        return Outcome.FAILURE
    if status_code == 429:
        return Outcome.NEUTRAL
    return Outcome.SUCCESS


def normalize_base_url(base_url: str) -> str:
    """``https://acme.wats.com/`` → ``https://acme.wats.com``. A trailing ``/api`` is dropped too, since every
    endpoint path starts with it."""
    url = str(base_url).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url must be an http:// or https:// address, not {base_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"base_url must not have a query or fragment: {base_url!r}")
    if url.lower().endswith("/api"):
        url = url[:-4]
    return url


class BaseClient:
    """Configuration and policy shared by :class:`~pywats.pyWATS` and :class:`~pywats.AsyncWATS`.

    Args:
        base_url: the WATS server, e.g. ``https://acme.wats.com``.
        token: the API token from WATS Control Panel → Tokens, sent verbatim as ``Authorization: Basic <token>``
            (surrounding whitespace, such as the newline of a token file, is removed).
        station: the station reports are sent from; it becomes the active one in :attr:`stations`.
        timeout: seconds, an ``httpx.Timeout``, or None for no timeout. Default: connect 10 s, read 60 s.
        retry: retry policy; None turns retrying off.
        error_mode: :class:`ErrorMode` (or its value).
        rate_limit: a :class:`~pywats.RateLimit` (default 500 requests / 60 s), a shared
            :class:`~pywats.TokenBucket`, or None for no limit.
        circuit_breaker: a :class:`~pywats.CircuitBreaker` to stop hammering a failing server (opt-in).
        http2: use HTTP/2 when the server offers it (needs the ``h2`` package: ``pip install pywats[http2]``).
        verify: TLS verification, as httpx takes it (True, a CA bundle path, or an ``ssl.SSLContext``).
        headers: extra headers sent with every request.
        transport: an httpx transport to use instead of the network (``httpx.MockTransport`` in tests).
    """

    is_async: bool = False

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        station: Station | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        retry: RetryConfig | None = RetryConfig(),
        error_mode: ErrorMode | str = ErrorMode.STRICT,
        rate_limit: RateLimit | TokenBucket | None = RateLimit(),
        circuit_breaker: CircuitBreaker | None = None,
        http2: bool = False,
        verify: bool | str | ssl.SSLContext = True,
        headers: Mapping[str, str] | None = None,
        transport: Any = None,
    ) -> None:
        if not isinstance(token, str) or not token.strip():
            raise ValueError("token must be the non-empty API token string from WATS Control Panel → Tokens")
        if circuit_breaker is not None and not isinstance(circuit_breaker, CircuitBreaker):
            raise TypeError("circuit_breaker must be a CircuitBreaker or None")
        if retry is not None and not isinstance(retry, RetryConfig):
            raise TypeError("retry must be a RetryConfig or None")
        self.base_url = normalize_base_url(base_url)
        self._token = token.strip()
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.retry = retry
        self.error_mode = ErrorMode(error_mode)
        self.rate_limiter = make_bucket(rate_limit)
        self.circuit_breaker = circuit_breaker
        self.stations = StationRegistry([station] if station is not None else [])
        self.http2 = http2
        self._verify = verify
        self._extra_headers = dict(headers or {})
        self._transport = transport
        # Injected clocks and randomness: wall-clock time for HTTP dates in Retry-After, monotonic time for
        # cache ages, jitter for backoff.
        self._now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
        self._clock: Callable[[], float] = time.monotonic
        self._random: Callable[[], float] = random.random
        self._setup()

    def _setup(self) -> None:  # pragma: no cover - each client opens its own httpx client and attaches domains
        raise NotImplementedError

    def _run(self, work: Any) -> Any:  # pragma: no cover - each client runs Ops and flows its own way
        raise NotImplementedError

    def __repr__(self) -> str:  # never shows the token
        return f"<{type(self).__name__} {self.base_url}>"

    # -- building requests -------------------------------------------------------------------------------------

    def _httpx_options(self) -> dict[str, Any]:
        """Keyword arguments for the ``httpx.Client`` / ``httpx.AsyncClient`` this client owns."""
        from . import __version__

        headers = {
            "Authorization": f"Basic {self._token}",
            "User-Agent": f"pywats/{__version__}",
            **self._extra_headers,
        }
        options: dict[str, Any] = {
            "base_url": self.base_url,
            "headers": headers,
            "timeout": self.timeout,
            "limits": DEFAULT_LIMITS,
            "http2": self.http2,
            "verify": self._verify,
            "follow_redirects": False,  # a redirected POST would silently turn into a GET; report it instead
        }
        if self._transport is not None:
            options["transport"] = self._transport
        return options

    @staticmethod
    def _build_request(http: httpx.Client | httpx.AsyncClient, op: Op[Any]) -> httpx.Request:
        return http.build_request(op.method, op.url, content=op.body, headers=op.headers)

    # -- policy --------------------------------------------------------------------------------------------------

    def _throttle_delay(self) -> float:
        """Seconds to wait before the next attempt under the rate limit (taking its token)."""
        return self.rate_limiter.reserve() if self.rate_limiter is not None else 0.0

    def _breaker_enter(self, last_error: BaseException | None) -> bool:
        """Ask the breaker for an attempt; True when it is the half-open probe. Raises CircuitOpenError."""
        if self.circuit_breaker is None:
            return False
        try:
            return self.circuit_breaker.acquire()
        except CircuitOpenError as exc:
            if last_error is not None:
                raise exc from last_error
            raise

    def _breaker_exit(self, probe: bool, outcome: Outcome) -> None:
        if self.circuit_breaker is not None:
            self.circuit_breaker.record(probe, outcome)

    def _breaker_is_open(self) -> bool:
        return self.circuit_breaker is not None and self.circuit_breaker.state is CircuitState.OPEN

    def _retry_after_error(self, op: Op[Any], attempt: int, error: APIConnectionError) -> float | None:
        """Seconds to wait before retrying after a transport failure, or None to raise it."""
        if self.retry is None:
            return None
        failure = classify_transport_error(error.__cause__ if error.__cause__ is not None else error)
        return retry_delay(self.retry, attempt=attempt, idempotent=op.is_idempotent, failure=failure,
                           random=self._random)  # fmt: skip

    def _retry_after_status(self, op: Op[Any], attempt: int, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying after an error status, or None to raise it."""
        if self.retry is None:
            return None
        retry_after = parse_retry_after(response.headers.get("retry-after"), now=self._now())
        return retry_delay(self.retry, attempt=attempt, idempotent=op.is_idempotent,
                           status_code=response.status_code, retry_after=retry_after, random=self._random)  # fmt: skip

    def _status_error(self, response: httpx.Response) -> APIStatusError:
        return make_status_error(response, now=self._now())

    def _missing_is_none(self, op: Op[Any]) -> bool:
        """Whether LENIENT mode turns this 404 into a None result."""
        return self.error_mode is ErrorMode.LENIENT and op.missing_ok

    @staticmethod
    def _log_retry(op: Op[Any], attempt: int, delay: float, reason: str) -> None:
        log.info("retrying %s %s in %.2f s (attempt %d failed: %s)", op.method, op.path, delay, attempt, reason)


__all__ = [
    "DEFAULT_TIMEOUT",
    "BaseClient",
    "ErrorMode",
    "decode_body",
    "make_status_error",
    "normalize_base_url",
    "outcome_of",
    "server_message",
    "translate_transport_errors",
]

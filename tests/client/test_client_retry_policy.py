"""The retry policy as tables: Retry-After parsing, backoff bounds, what is retried, and when to give up."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pywats._retry import (
    FailureKind,
    RetryConfig,
    backoff_delay,
    classify_transport_error,
    parse_retry_after,
    retry_delay,
    should_retry,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("0", 0.0),
        ("5", 5.0),
        ("  120 ", 120.0),
        ("121", 121.0),
        ("1.5", 1.5),
        ("86400", 86400.0),
        ("-1", None),
        ("", None),
        ("soon", None),
        ("1e3", None),
        ("inf", None),
        ("nan", None),
        ("5 s", None),
        ("Wed, 01 May 2024 12:00:30 GMT", 30.0),
        ("Wed, 01 May 2024 12:02:00 GMT", 120.0),
        ("Wed, 01 May 2024 11:59:00 GMT", 0.0),  # in the past: now
        ("Wed, 01 May 2024 12:00:10 -0000", 10.0),  # naive after parsing: GMT by definition
        ("Wed, 01 May 2024 14:00:10 +0200", 10.0),
        ("Wednesday, 01-May-24 12:00:10 GMT", 10.0),  # obsolete RFC 850 form, which RFC 9110 says to accept
        ("Wed May  1 12:00:10 2024", 10.0),  # obsolete asctime form
        ("Wed, 32 May 2024 12:00:00 GMT", None),
        ("Wed, 01 Foo 2024 12:00:00 GMT", None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    result = parse_retry_after(header, now=NOW)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


@given(st.integers(min_value=0, max_value=10**9))
def test_parse_retry_after_any_seconds(seconds: int) -> None:
    assert parse_retry_after(str(seconds), now=NOW) == seconds


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=timezone.utc)))  # fmt: skip
def test_parse_retry_after_any_date(when: datetime) -> None:
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(header, now=NOW) == pytest.approx(max(0.0, (when - NOW).total_seconds()))


@given(st.text(max_size=40))
def test_parse_retry_after_never_raises(text: str) -> None:
    result = parse_retry_after(text, now=NOW)
    assert result is None or result >= 0


CONFIG = RetryConfig(max_attempts=10, base_delay=0.5, max_delay=8.0, max_retry_after=60.0)


@pytest.mark.parametrize(
    ("retry_index", "ceiling"),
    [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (60, 8.0), (10_000, 8.0)],
)
def test_backoff_ceiling(retry_index: int, ceiling: float) -> None:
    assert backoff_delay(retry_index, CONFIG, lambda: 0.0) == 0.0
    assert backoff_delay(retry_index, CONFIG, lambda: 0.5) == pytest.approx(ceiling / 2)
    assert backoff_delay(retry_index, CONFIG, lambda: 0.999999) == pytest.approx(ceiling, rel=1e-5)


@given(st.integers(min_value=0, max_value=200), st.floats(min_value=0, max_value=1, exclude_max=True))
def test_backoff_within_bounds(retry_index: int, draw: float) -> None:
    delay = backoff_delay(retry_index, CONFIG, lambda: draw)
    assert 0 <= delay <= min(CONFIG.max_delay, CONFIG.base_delay * 2**retry_index)


@pytest.mark.parametrize(
    ("idempotent", "status", "expected"),
    [
        (True, 200, False), (True, 400, False), (True, 401, False), (True, 403, False), (True, 404, False),
        (True, 409, False), (True, 413, False), (True, 422, False),
        (True, 408, True), (True, 429, True), (True, 500, True), (True, 502, True), (True, 503, True),
        (True, 504, True), (True, 599, True),
        (False, 400, False), (False, 408, True), (False, 429, True), (False, 500, False), (False, 503, False),
        (False, 504, False),
    ],
)  # fmt: skip
def test_should_retry_status(idempotent: bool, status: int, expected: bool) -> None:
    assert should_retry(idempotent=idempotent, status_code=status) is expected


@pytest.mark.parametrize(
    ("idempotent", "failure", "expected"),
    [
        (True, FailureKind.CONNECT, True), (True, FailureKind.TIMEOUT, True), (True, FailureKind.NETWORK, True),
        (True, FailureKind.FATAL, False),
        (False, FailureKind.CONNECT, True), (False, FailureKind.TIMEOUT, False),
        (False, FailureKind.NETWORK, False), (False, FailureKind.FATAL, False),
    ],
)  # fmt: skip
def test_should_retry_failure(idempotent: bool, failure: FailureKind, expected: bool) -> None:
    assert should_retry(idempotent=idempotent, failure=failure) is expected


REQUEST = httpx.Request("GET", "https://wats.example.com/api/App/Version")


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ConnectError("refused", request=REQUEST), FailureKind.CONNECT),
        (httpx.ConnectTimeout("slow", request=REQUEST), FailureKind.CONNECT),
        (httpx.PoolTimeout("busy", request=REQUEST), FailureKind.CONNECT),
        (httpx.ReadTimeout("slow", request=REQUEST), FailureKind.TIMEOUT),
        (httpx.WriteTimeout("slow", request=REQUEST), FailureKind.TIMEOUT),
        (httpx.ReadError("reset", request=REQUEST), FailureKind.NETWORK),
        (httpx.WriteError("reset", request=REQUEST), FailureKind.NETWORK),
        (httpx.RemoteProtocolError("dropped", request=REQUEST), FailureKind.NETWORK),
        (httpx.UnsupportedProtocol("ftp", request=REQUEST), FailureKind.FATAL),
        (httpx.ProxyError("proxy", request=REQUEST), FailureKind.FATAL),
        (httpx.DecodingError("gzip", request=REQUEST), FailureKind.FATAL),
    ],
)
def test_classify_transport_error(exc: Exception, kind: FailureKind) -> None:
    assert classify_transport_error(exc) is kind


@pytest.mark.parametrize(
    ("attempt", "kwargs", "expected"),
    [
        (1, {"status_code": 503}, 0.25),  # backoff: random 0.5 * min(8, 0.5 * 2**0)
        (2, {"status_code": 503}, 0.5),
        (4, {"status_code": 503}, 2.0),
        (9, {"status_code": 503}, 4.0),
        (10, {"status_code": 503}, None),  # max_attempts reached
        (1, {"status_code": 503, "retry_after": 7.0}, 7.0),  # Retry-After replaces backoff
        (1, {"status_code": 429, "retry_after": 0.0}, 0.0),
        (1, {"status_code": 429, "retry_after": 3600.0}, 60.0),  # capped
        (1, {"status_code": 404, "retry_after": 5.0}, None),  # not retryable, whatever the header says
        (1, {"failure": FailureKind.TIMEOUT}, 0.25),
        (1, {"failure": FailureKind.FATAL}, None),
    ],
)
def test_retry_delay(attempt: int, kwargs: dict, expected: float | None) -> None:
    assert retry_delay(CONFIG, attempt=attempt, idempotent=True, random=lambda: 0.5, **kwargs) == expected


def test_retry_delay_non_idempotent_ambiguous_is_not_retried() -> None:
    for kwargs in ({"status_code": 500}, {"status_code": 503, "retry_after": 1.0}, {"failure": FailureKind.TIMEOUT}):
        assert retry_delay(CONFIG, attempt=1, idempotent=False, random=lambda: 0.5, **kwargs) is None
    assert retry_delay(CONFIG, attempt=1, idempotent=False, failure=FailureKind.CONNECT, random=lambda: 0.5) == 0.25


def test_single_attempt_never_retries() -> None:
    one = RetryConfig(max_attempts=1)
    assert retry_delay(one, attempt=1, idempotent=True, status_code=503, random=lambda: 0.5) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base_delay": -1}, {"max_delay": float("inf")}, {"max_retry_after": float("nan")}],
)
def test_retry_config_rejects_nonsense(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        RetryConfig(**kwargs)


def test_retry_after_date_and_cap_together() -> None:
    later = (NOW + timedelta(hours=2)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    wait = parse_retry_after(later, now=NOW)
    assert wait == pytest.approx(7200)
    assert retry_delay(CONFIG, attempt=1, idempotent=True, status_code=503, retry_after=wait,
                       random=lambda: 0.5) == 60.0  # fmt: skip

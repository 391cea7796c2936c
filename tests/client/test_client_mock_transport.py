"""Both clients over ``httpx.MockTransport``: status → exception, retry counts, Retry-After, the breaker and the
limiter inside the request loop, LENIENT mode, and httpx exceptions translated with ``from``.

Every test runs twice (``mode`` = sync / async) through ``wats_helpers.call``; sleeps are recorded, not slept.
"""

from __future__ import annotations

import json
from uuid import UUID, uuid4

import httpx
import pytest
from wats_helpers import FakeClock, call, mode  # noqa: F401 - mode is a fixture

import pywats
from pywats import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    ConflictError,
    ErrorMode,
    NotFoundError,
    PermissionDeniedError,
    ProcessNotFoundError,
    RateLimit,
    RateLimitError,
    RetryConfig,
    ServerError,
    TokenBucket,
)

RID = UUID("6f1c8f4e-2b0c-4a7e-9a51-8a0a7e0c1d11")


def counting(*responses: httpx.Response | Exception):
    """A handler answering with ``responses`` in turn (the last one repeats); ``handler.requests`` lists requests."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        answer = responses[min(len(requests), len(responses)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    handler.requests = requests  # type: ignore[attr-defined]
    return handler


def report():
    builder = pywats.ReportBuilder.uut(pn="PCBA-100", sn="SN-1", rev="A", process_code=50)
    builder.numeric("Voltage", 5.0, low=4.5, high=5.5, unit="V")
    return builder.build()


@pytest.mark.parametrize(
    ("status", "exc_type"),
    [
        (400, BadRequestError), (401, AuthenticationError), (403, PermissionDeniedError), (404, NotFoundError),
        (409, ConflictError), (429, RateLimitError), (500, ServerError), (502, ServerError), (503, ServerError),
        (504, ServerError), (405, APIStatusError), (413, APIStatusError), (422, APIStatusError),
        (301, APIStatusError),
    ],
)  # fmt: skip
async def test_status_maps_to_exception(mode: str, status: int, exc_type: type) -> None:
    handler = counting(httpx.Response(status, json={"Message": "because"}))
    error, _ = await call(mode, handler, lambda api: api.get_version(), retry=None)
    assert type(error) is exc_type
    assert error.status_code == status and error.message == "because" and error.body == {"Message": "because"}
    assert str(error) == f"GET /api/App/Version: {status} {error.response.reason_phrase}: because"


async def test_redirect_says_where_to(mode: str) -> None:
    moved = httpx.Response(301, headers={"location": "https://new.example.com/api/App/Version"})
    error, _ = await call(mode, counting(moved), lambda api: api.get_version())
    assert type(error) is APIStatusError and "https://new.example.com" in error.message


async def test_bad_request_carries_the_servers_text(mode: str) -> None:
    handler = counting(httpx.Response(400, text="Report validation failed: pn is required"))
    error, _ = await call(mode, handler, lambda api: api.report.submit(report()))
    assert isinstance(error, BadRequestError) and error.message == "Report validation failed: pn is required"
    assert len(handler.requests) == 1  # 400 is never retried


async def test_model_state_and_html_bodies(mode: str) -> None:
    body = {"Message": "The request is invalid.", "ModelState": {"report.sn": ["too long"]}}
    error, _ = await call(mode, counting(httpx.Response(400, json=body)), lambda api: api.get_version())
    assert error.message == "The request is invalid.; report.sn: too long"
    page = httpx.Response(502, text="<html><body>Bad gateway</body></html>", headers={"content-type": "text/html"})
    error, _ = await call(mode, counting(page), lambda api: api.get_version(), retry=None)
    assert error.message == "Bad Gateway" and "html" in error.body


async def test_retries_5xx_then_succeeds(mode: str) -> None:
    handler = counting(httpx.Response(503), httpx.Response(500), httpx.Response(200, json="2025.1.0"))
    result, api = await call(mode, handler, lambda api: api.get_version())
    assert result == "2025.1.0" and len(handler.requests) == 3
    assert api.sleeps == [0.25, 0.5]  # full jitter with random() = 0.5: half of 0.5 s, half of 1 s


async def test_gives_up_after_max_attempts(mode: str) -> None:
    handler = counting(httpx.Response(503))
    error, api = await call(mode, handler, lambda api: api.get_version(), retry=RetryConfig(max_attempts=3))
    assert isinstance(error, ServerError) and len(handler.requests) == 3 and len(api.sleeps) == 2


async def test_retry_after_is_honoured_and_capped(mode: str) -> None:
    handler = counting(
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(503, headers={"Retry-After": "3600"}),
        httpx.Response(200, json="v"),
    )
    retry = RetryConfig(max_attempts=5, max_retry_after=30)
    result, api = await call(mode, handler, lambda api: api.get_version(), retry=retry)
    assert result == "v" and api.sleeps == [7.0, 30.0]


async def test_rate_limit_error_has_retry_after(mode: str) -> None:
    handler = counting(httpx.Response(429, headers={"Retry-After": "12"}))
    error, _ = await call(mode, handler, lambda api: api.get_version(), retry=None)
    assert isinstance(error, RateLimitError) and error.retry_after == 12.0


async def test_submission_is_retried_with_the_same_id(mode: str) -> None:
    answer = httpx.Response(200, json={"ID": str(RID), "uuid": str(RID), "Report_ID": 1})
    handler = counting(httpx.Response(502), httpx.ReadTimeout("slow"), answer)
    result, _ = await call(mode, handler, lambda api: api.report.submit(report()))
    assert result == RID and len(handler.requests) == 3
    assert len({json.loads(request.content)["id"] for request in handler.requests}) == 1


async def test_non_idempotent_post_is_not_retried_on_ambiguous_failures(mode: str, monkeypatch) -> None:
    monkeypatch.setattr("pywats.domains.report._validate_wsxf", lambda xml: None)
    xml = "<Reports><Report /></Reports>"  # no ID: a resend would store a second report
    for failure in (httpx.Response(503), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped")):
        handler = counting(failure, httpx.Response(200, json={"ID": str(RID)}))
        error, _ = await call(mode, handler, lambda api: api.report.submit_wsxf(xml))
        assert isinstance(error, pywats.APIError) and len(handler.requests) == 1
    # ...but it is when the request certainly never arrived, or the server said "not now".
    for failure in (httpx.ConnectError("refused"), httpx.Response(429), httpx.Response(408)):
        handler = counting(failure, httpx.Response(200, json={"ID": str(RID)}))
        result, _ = await call(mode, handler, lambda api: api.report.submit_wsxf(xml))
        assert result == RID and len(handler.requests) == 2


@pytest.mark.parametrize(
    ("raised", "exc_type"),
    [
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.ConnectTimeout("slow"), APITimeoutError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.PoolTimeout("busy"), APITimeoutError),
        (httpx.ReadError("reset"), APIConnectionError),
        (httpx.RemoteProtocolError("dropped"), APIConnectionError),
    ],
)
async def test_transport_errors_translated_with_cause(mode: str, raised: Exception, exc_type: type) -> None:
    handler = counting(raised)
    error, api = await call(mode, handler, lambda api: api.get_version())
    assert type(error) is exc_type and error.__cause__ is raised
    assert error.request.url.path == "/api/App/Version"
    assert len(handler.requests) == 4 and len(api.sleeps) == 3  # idempotent: retried to the limit


async def test_fatal_transport_error_is_not_retried(mode: str) -> None:
    handler = counting(httpx.UnsupportedProtocol("nope"))
    error, _ = await call(mode, handler, lambda api: api.get_version())
    assert isinstance(error, APIConnectionError) and len(handler.requests) == 1


async def test_unreadable_success_answer(mode: str) -> None:
    handler = counting(httpx.Response(200, text="{not json"))
    error, _ = await call(mode, handler, lambda api: api.report.query_headers())
    assert isinstance(error, APIResponseValidationError) and error.status_code == 200
    handler = counting(httpx.Response(200, json={"type": "T"}))
    error, _ = await call(mode, handler, lambda api: api.report.get(RID))
    assert isinstance(error, APIResponseValidationError)
    assert isinstance(error.__cause__, pywats.ReportFormatError)


async def test_lenient_mode_turns_missing_reads_into_none(mode: str) -> None:
    handler = counting(httpx.Response(404))
    for action in (
        lambda api: api.report.get(RID), lambda api: api.report.get_wsjf(RID), lambda api: api.report.get_wsxf(RID),
        lambda api: api.report.get_attachment(RID, step_id=1), lambda api: api.report.get_attachments_zip(RID),
    ):  # fmt: skip
        result, _ = await call(mode, handler, action, error_mode=ErrorMode.LENIENT)
        assert result is None
        error, _ = await call(mode, handler, action)  # STRICT (default)
        assert isinstance(error, NotFoundError)
    # Not-found on a list or a submission is still an error: it means a wrong URL, not "no such report".
    error, _ = await call(mode, handler, lambda api: api.report.query_headers(), error_mode="lenient")
    assert isinstance(error, NotFoundError)


async def test_process_cache(mode: str, monkeypatch) -> None:
    processes = [{"code": 20, "name": "ICT", "isTestOperation": True, "futureField": 1},
                 {"code": 500, "name": "Repair", "isRepairOperation": True}]  # fmt: skip
    handler = counting(httpx.Response(200, json=processes))
    clock = FakeClock()

    async def run(api):
        api._clock = clock
        results = []
        for lookup in (lambda: api.process.code_for("ICT"), lambda: api.process.name_for(500),
                       lambda: api.process.code_for("ICT")):  # fmt: skip
            value = lookup()
            results.append(await value if api.is_async else value)
        return results

    def action(api):
        return run(api) if api.is_async else _sync_run(run, api)

    results, api = await call(mode, handler, action)
    assert results == [20, "Repair", 20] and len(handler.requests) == 1
    assert dict(httpx.URL(str(handler.requests[0].url)).params) == {
        "includeTestOperations": "true", "includeRepairOperations": "true", "includeWipOperations": "true",
        "includeInactiveProcesses": "true"}  # fmt: skip
    assert api.process.cached[0].model_extra == {"futureField": 1}


def _sync_run(coroutine_function, api):
    """Run an ``async def`` helper that awaits nothing for a sync client (its calls return plain values)."""
    coroutine = coroutine_function(api)
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the sync path awaited something")


async def test_process_miss_refreshes_at_most_once_a_minute(mode: str) -> None:
    first = httpx.Response(200, json=[{"code": 20, "name": "ICT"}])
    later = httpx.Response(200, json=[{"code": 20, "name": "ICT"}, {"code": 700, "name": "Calibration"}])
    handler = counting(first, later)
    clock = FakeClock()

    async def run(api):
        api._clock = clock

        async def code(name):
            value = api.process.code_for(name)
            return await value if api.is_async else value

        assert await code("ICT") == 20  # load
        clock.advance(10)
        with pytest.raises(ProcessNotFoundError):
            await code("Calibration")  # miss, but the cache is only 10 s old: no reload
        assert len(handler.requests) == 1
        clock.advance(60)
        assert await code("Calibration") == 700  # miss on a 70 s old cache: one reload finds it
        clock.advance(3601)
        assert await code("ICT") == 20  # older than max_age: reloaded
        return len(handler.requests)

    result, _ = await call(mode, handler, lambda api: run(api) if api.is_async else _sync_run(run, api))
    assert result == 3


async def test_breaker_opens_and_refuses_without_sending(mode: str) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, recovery_timeout=30, clock=clock)
    handler = counting(httpx.Response(503))
    error, api = await call(mode, handler, lambda api: api.get_version(), circuit_breaker=breaker,
                            retry=RetryConfig(max_attempts=10))  # fmt: skip
    # The third failure opened the breaker; the fourth attempt was refused before it was sent, and without
    # waiting for it first.
    assert isinstance(error, CircuitOpenError) and isinstance(error.__cause__, ServerError)
    assert len(api.sleeps) == 2
    assert len(handler.requests) == 3 and breaker.state is CircuitState.OPEN
    error, _ = await call(mode, handler, lambda api: api.get_version(), circuit_breaker=breaker)
    assert isinstance(error, CircuitOpenError) and len(handler.requests) == 3
    clock.advance(30)
    ok = counting(httpx.Response(200, json="v"))
    result, _ = await call(mode, ok, lambda api: api.get_version(), circuit_breaker=breaker)
    assert result == "v" and breaker.state is CircuitState.CLOSED


async def test_breaker_counts_4xx_as_alive(mode: str) -> None:
    breaker = CircuitBreaker(failure_threshold=2, clock=FakeClock())
    for status in (404, 400, 401, 429):
        await call(mode, counting(httpx.Response(status)), lambda api: api.get_version(), circuit_breaker=breaker)
    assert breaker.state is CircuitState.CLOSED and breaker.failures == 0


async def test_rate_limiter_waits_inside_the_loop(mode: str) -> None:
    clock = FakeClock()
    bucket = TokenBucket(3, 1.0, clock=clock)
    handler = counting(httpx.Response(200, json="v"))

    async def run(api):
        for _ in range(6):
            value = api.get_version()
            if api.is_async:
                await value
        return api.sleeps

    sleeps, _ = await call(mode, handler, lambda api: run(api) if api.is_async else _sync_run(run, api),
                           rate_limit=bucket)  # fmt: skip
    assert len(handler.requests) == 6 and sleeps == [1.0, 2.0, 3.0]


async def test_auth_header_and_user_agent(mode: str) -> None:
    handler = counting(httpx.Response(200, json="v"))
    await call(mode, handler, lambda api: api.get_version())
    request = handler.requests[0]
    assert request.headers["authorization"] == "Basic dG9rZW4="
    assert request.headers["user-agent"] == f"pywats/{pywats.__version__}"
    assert str(request.url) == "https://wats.example.com/api/App/Version"


async def test_flows_see_errors_and_are_closed(mode: str) -> None:
    handler = counting(httpx.Response(500))
    error, api = await call(mode, handler, lambda api: api.process.refresh(), retry=None)
    assert isinstance(error, ServerError) and api.process.cached == []


def test_client_configuration_checks() -> None:
    for bad in ("ftp://x", "wats.example.com", "https://x?a=1", ""):
        with pytest.raises(ValueError):
            pywats.pyWATS(bad, "t")
    with pytest.raises(ValueError):
        pywats.pyWATS("https://x", "  ")
    with pytest.raises(TypeError):
        pywats.pyWATS("https://x", "t", circuit_breaker=True)  # type: ignore[arg-type]
    with pywats.pyWATS("https://x.example.com/api/", " tok\n", rate_limit=RateLimit(10, 1)) as api:
        assert api.base_url == "https://x.example.com" and "tok" not in repr(api)
        assert api.timeout.connect == 10 and api.timeout.read == 60
    assert api.is_closed


async def test_async_methods_are_coroutines_and_validate_at_await() -> None:
    import inspect

    api = pywats.AsyncWATS("https://x.example.com", "t", transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    assert inspect.iscoroutinefunction(api.report.get)
    pending = api.report.get("not-a-uuid")  # nothing raised yet...
    with pytest.raises(ValueError):
        await pending  # ...but at await, like every other error
    await api.aclose()


def test_station_argument_becomes_active() -> None:
    station = pywats.Station("ICT-01", "Line 1", "Production")
    with pywats.pyWATS("https://x.example.com", "t", station=station) as api:
        assert api.stations.active is station
        assert api.report is api.report and api.report.get is api.report.get  # bound once


def test_breaker_slot_is_released_when_a_probe_is_interrupted() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=1, clock=clock)
    breaker.record(breaker.acquire(), pywats._circuit.Outcome.FAILURE)
    clock.advance(1)

    def interrupt(request):
        raise KeyboardInterrupt

    api = pywats.pyWATS("https://x.example.com", "t", transport=httpx.MockTransport(interrupt),
                        circuit_breaker=breaker)  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        api.get_version()
    assert breaker.acquire() is True  # the interrupted probe did not keep the slot


def test_uuid4_ids_differ_between_reports() -> None:
    assert uuid4() != uuid4()

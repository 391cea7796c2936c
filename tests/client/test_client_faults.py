"""Retry, Retry-After, the circuit breaker, the rate limiter and concurrency against a real emulator that
injects faults (``fresh_server``: reset before each test; ``isolated_server``: its own, for hanging requests).

No assertion depends on timing except two generous lower bounds on how long rate limiting takes; retry waits
are recorded (``hook_sleep``) and the server is changed between attempts from inside that hook, so each
scenario plays out the same way on every run.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
from wats_helpers import (  # noqa: F401 - mode and the *_server names are fixtures
    FakeClock,
    _fault_server,
    fresh_server,
    hook_sleep,
    isolated_server,
    maybe,
    mode,
    run_scenario,
)

import pywats
from pywats import (
    APITimeoutError,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    F,
    RateLimit,
    RateLimitError,
    ReportBuilder,
    RetryConfig,
    ServerError,
    TokenBucket,
)


def uut_report(sn: str):
    builder = ReportBuilder.uut(pn="PCBA-200", sn=sn, rev="B", process_code=20)
    builder.numeric("Current", 0.42, low=0.1, high=0.5, unit="A")
    return builder.build()


async def test_outage_with_retry_after_then_recovery(mode: str, fresh_server) -> None:
    fresh_server.set_faults(outage=True, retry_after_s=3)

    async def scenario(api):
        sleeps = hook_sleep(api, lambda seconds: fresh_server.clear_faults())
        version = await maybe(api.get_version())
        return version, sleeps

    version, sleeps = await run_scenario(mode, scenario, fresh_server.url, fresh_server.token)
    assert version == "2025.1.0"
    assert sleeps == [3.0]  # the server's Retry-After, not the client's backoff
    assert fresh_server.stats()["faults_injected"]["outage"] == 1


async def test_random_503s_are_absorbed_by_retries(mode: str, fresh_server) -> None:
    fresh_server.set_faults(error_rate=0.3, retry_after_s=1, seed=7)
    reports = [uut_report(f"SN-{uuid.uuid4().hex[:10]}") for _ in range(15)]

    async def scenario(api):
        sleeps = hook_sleep(api)
        ids = [await maybe(api.report.submit(report)) for report in reports]
        return ids, sleeps

    ids, sleeps = await run_scenario(mode, scenario, fresh_server.url, fresh_server.token,
                                     retry=RetryConfig(max_attempts=10))  # fmt: skip
    injected = fresh_server.stats()["faults_injected"]["error"]
    assert ids == [report.id for report in reports]
    assert injected > 0 and len(sleeps) == injected and set(sleeps) == {1.0}
    assert fresh_server.stats()["reports_stored"] == 15


async def test_dropped_answers_are_resent_without_duplicates(mode: str, fresh_server) -> None:
    fresh_server.set_faults(drop_rate=0.5, seed=3)
    sn = f"SN-{uuid.uuid4().hex[:10]}"
    reports = [uut_report(sn) for _ in range(10)]

    async def scenario(api):
        hook_sleep(api)
        for report in reports:
            await maybe(api.report.submit(report))
        fresh_server.clear_faults()
        return await maybe(api.report.query_headers(F.serial_number == sn, top=100))

    headers = await run_scenario(mode, scenario, fresh_server.url, fresh_server.token,
                                 retry=RetryConfig(max_attempts=20))  # fmt: skip
    assert fresh_server.stats()["faults_injected"]["drop"] > 0
    assert sorted(header.uuid for header in headers) == sorted(report.id for report in reports)


async def test_timeout_then_resend_overwrites(mode: str, isolated_server) -> None:
    isolated_server.set_faults(hang_rate=1.0, hang_s=5)
    report = uut_report(f"SN-{uuid.uuid4().hex[:10]}")

    async def scenario(api):
        sleeps = hook_sleep(api, lambda seconds: isolated_server.clear_faults())
        report_id = await maybe(api.report.submit(report))
        return report_id, sleeps

    report_id, sleeps = await run_scenario(mode, scenario, isolated_server.url, isolated_server.token, timeout=0.5)
    assert report_id == report.id and len(sleeps) == 1
    assert isolated_server.stats()["reports_stored"] == 1


async def test_timeout_error_without_retries(mode: str, isolated_server) -> None:
    isolated_server.set_faults(hang_rate=1.0, hang_s=5)

    async def scenario(api):
        with pytest.raises(APITimeoutError) as caught:
            await maybe(api.get_version())
        return type(caught.value.__cause__).__name__

    assert await run_scenario(mode, scenario, isolated_server.url, isolated_server.token, timeout=0.3,
                              retry=None) == "ReadTimeout"  # fmt: skip


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_injected_status_types(mode: str, fresh_server, status: int) -> None:
    fresh_server.set_faults(outage=True, error_status=status, retry_after_s=4)

    async def scenario(api):
        with pytest.raises(pywats.APIStatusError) as caught:
            await maybe(api.get_version())
        return caught.value

    error = await run_scenario(mode, scenario, fresh_server.url, fresh_server.token, retry=None)
    assert error.status_code == status
    assert isinstance(error, RateLimitError if status == 429 else ServerError)
    if status == 429:
        assert error.retry_after == 4.0


async def test_breaker_opens_during_outage_and_closes_after(mode: str, fresh_server) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, recovery_timeout=30, clock=clock)
    fresh_server.set_faults(outage=True)

    async def scenario(api):
        for _ in range(3):
            with pytest.raises(ServerError):
                await maybe(api.get_version())
        assert breaker.state is CircuitState.OPEN
        fresh_server.clear_faults()
        with pytest.raises(CircuitOpenError) as refused:
            await maybe(api.get_version())  # refused without a request, though the server is back
        assert refused.value.retry_after == pytest.approx(30)
        requests_while_open = fresh_server.stats()["requests"]
        clock.advance(30)
        assert breaker.state is CircuitState.HALF_OPEN
        version = await maybe(api.get_version())  # the probe
        return version, requests_while_open

    version, requests_while_open = await run_scenario(mode, scenario, fresh_server.url, fresh_server.token,
                                                      retry=None, circuit_breaker=breaker)  # fmt: skip
    assert version == "2025.1.0" and breaker.state is CircuitState.CLOSED
    assert requests_while_open == 3 and fresh_server.stats()["requests"] == 4


async def test_breaker_stops_retries_mid_loop(mode: str, fresh_server) -> None:
    breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=60, clock=FakeClock())
    fresh_server.set_faults(outage=True, retry_after_s=0)

    async def scenario(api):
        hook_sleep(api)
        with pytest.raises(CircuitOpenError) as caught:
            await maybe(api.report.submit(uut_report("SN-breaker")))
        return caught.value

    error = await run_scenario(mode, scenario, fresh_server.url, fresh_server.token, circuit_breaker=breaker,
                               retry=RetryConfig(max_attempts=10))  # fmt: skip
    assert isinstance(error.__cause__, ServerError)
    assert fresh_server.stats()["requests"] == 2  # not 10: the open breaker ended the retries


async def test_rate_limit_counts_against_real_server(mode: str, fresh_server) -> None:
    clock = FakeClock()
    bucket = TokenBucket(5, 10.0, clock=clock)  # 5 at once, then one per 0.1 s of (fake) time

    async def scenario(api):
        sleeps = hook_sleep(api)
        for _ in range(12):
            await maybe(api.get_version())
        return sleeps

    sleeps = await run_scenario(mode, scenario, fresh_server.url, fresh_server.token, rate_limit=bucket)
    assert sleeps == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    assert fresh_server.stats()["requests"] == 12


async def test_async_rate_limit_never_blocks_the_event_loop(fresh_server) -> None:
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    async with pywats.AsyncWATS(fresh_server.url, fresh_server.token, rate_limit=RateLimit(2, per=0.25)) as api:
        ticking = asyncio.create_task(ticker())
        started = time.monotonic()
        versions = await asyncio.gather(*(api.get_version() for _ in range(10)))
        elapsed = time.monotonic() - started
        stop.set()
        await ticking
    assert versions == ["2025.1.0"] * 10
    assert elapsed >= 0.8  # 8 of the 10 waited for tokens at 8 per second: about 1 s
    assert ticks >= 10  # the loop kept running while requests waited


def test_sync_client_from_eight_threads(fresh_server) -> None:
    errors: list[BaseException] = []
    ids: list[uuid.UUID] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)
    with pywats.pyWATS(fresh_server.url, fresh_server.token, station=pywats.Station("T", "L", "P")) as api:

        def work(worker: int) -> None:
            try:
                barrier.wait()
                for index in range(5):
                    report_id = api.report.submit(uut_report(f"SN-{worker}-{index}"))
                    assert api.report.get(report_id).sn == f"SN-{worker}-{index}"
                    with lock:
                        ids.append(report_id)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        headers = api.report.query_headers(F.part_number == "PCBA-200", top=100)
    assert errors == []
    assert len(set(ids)) == 40 and {header.uuid for header in headers} == set(ids)
    assert {header.station_name for header in headers} == {"T"}


def test_sync_rate_limit_is_shared_by_threads(fresh_server) -> None:
    with pywats.pyWATS(fresh_server.url, fresh_server.token, rate_limit=RateLimit(4, per=0.2)) as api:
        started = time.monotonic()
        threads = [threading.Thread(target=lambda: [api.get_version() for _ in range(2)]) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        elapsed = time.monotonic() - started
    assert fresh_server.stats()["requests"] == 16
    assert elapsed >= 0.5  # 12 of 16 requests waited for tokens at 20 per second: about 0.6 s


async def test_sync_client_inside_a_running_event_loop(fresh_server) -> None:
    asyncio.get_running_loop()  # as in a Jupyter cell
    with pywats.pyWATS(fresh_server.url, fresh_server.token) as api:
        assert api.get_version() == "2025.1.0"
        assert api.process.code_for("ICT") == 20
        report = uut_report("SN-loop")
        assert api.report.submit(report) == report.id

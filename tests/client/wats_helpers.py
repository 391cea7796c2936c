"""Helpers and fixtures of the client tests: a fake clock, clients over ``httpx.MockTransport`` that never
sleep, emulator fixtures.

The fixtures live here, not in a ``conftest.py``: a second ``conftest`` module would shadow the top-level one
that other test folders import helpers from. Test modules import the fixtures they use by name.

The mock clients record every sleep instead of sleeping, so retry and rate-limit tests assert on the delays
the client *asked* for (counts and values) and run in milliseconds.
"""

from __future__ import annotations

from typing import Any, Callable

import httpx
import pytest

import pywats


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_sync(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> pywats.pyWATS:
    """A ``pyWATS`` over a mock transport; ``api.sleeps`` lists the waits it asked for."""
    options.setdefault("rate_limit", None)
    api = pywats.pyWATS("https://wats.example.com", "dG9rZW4=", transport=httpx.MockTransport(handler), **options)
    api.sleeps = []  # type: ignore[attr-defined]
    api._sleep = api.sleeps.append  # type: ignore[attr-defined]
    api._random = lambda: 0.5
    return api


def make_async(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> pywats.AsyncWATS:
    """An ``AsyncWATS`` over a mock transport; ``api.sleeps`` lists the waits it asked for."""
    options.setdefault("rate_limit", None)
    api = pywats.AsyncWATS("https://wats.example.com", "dG9rZW4=", transport=httpx.MockTransport(handler), **options)
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    api.sleeps = sleeps  # type: ignore[attr-defined]
    api._sleep = record  # type: ignore[method-assign]
    api._random = lambda: 0.5
    return api


async def call(mode: str, handler: Callable[[httpx.Request], httpx.Response], action: Callable[[Any], Any],
               **options: Any) -> tuple[Any, Any]:  # fmt: skip
    """Build the client for ``mode``, run ``action(api)`` (awaiting it for the async client), close it.

    Returns ``(result_or_exception, api)``: an exception is returned, not raised, so one test body checks both.
    """
    if mode == "sync":
        api = make_sync(handler, **options)
        try:
            return action(api), api
        except Exception as error:  # noqa: BLE001 - handed back for the test to check
            return error, api
        finally:
            api.close()
    api_async = make_async(handler, **options)
    try:
        return await action(api_async), api_async
    except Exception as error:  # noqa: BLE001
        return error, api_async
    finally:
        await api_async.aclose()


async def maybe(value: Any) -> Any:
    """``await value`` when it is awaitable (async client), else ``value`` (sync client).

    Lets one ``async def`` scenario drive either client; for the sync client it never suspends, so
    :func:`run_sync` can run it without an event loop.
    """
    if hasattr(value, "__await__"):
        return await value
    return value


def run_sync(coroutine: Any) -> Any:
    """Run a scenario coroutine that never suspends (one written with :func:`maybe`, given a sync client)."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    coroutine.close()
    raise AssertionError("the sync scenario suspended: something awaited real async work")


async def run_scenario(mode: str, scenario: Callable[[Any], Any], url: str, token: str, **options: Any) -> Any:
    """Run ``scenario(api)`` against a real server with the sync or the async client, then close it."""
    if mode == "sync":
        with pywats.pyWATS(url, token, **options) as api:
            return run_sync(scenario(api))
    async with pywats.AsyncWATS(url, token, **options) as api:
        return await scenario(api)


def hook_sleep(api: Any, on_sleep: Callable[[float], None] = lambda seconds: None) -> list[float]:
    """Make ``api`` record its waits instead of sleeping, calling ``on_sleep(seconds)`` at each one.

    Tests use ``on_sleep`` to change the server between two attempts (end an outage...), which makes retry
    scenarios exact: no race with a timer.
    """
    sleeps: list[float] = []

    def record(seconds: float) -> None:
        sleeps.append(seconds)
        on_sleep(seconds)

    if api.is_async:

        async def record_async(seconds: float) -> None:
            record(seconds)

        api._sleep = record_async
    else:
        api._sleep = record
    return sleeps


# -- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Runs a test once per client; use with ``wats_helpers.call``."""
    return request.param


@pytest.fixture(scope="module")
def wats_server():
    """A WATS emulator on loopback, shared by a test module (tests use their own serial numbers)."""
    testing = pytest.importorskip("pywats_emulator.testing")
    with testing.running_emulator() as server:
        yield server


@pytest.fixture(scope="module")
def _fault_server():
    testing = pytest.importorskip("pywats_emulator.testing")
    with testing.running_emulator() as server:
        yield server


@pytest.fixture
def fresh_server(_fault_server):
    """An emulator with no reports, zeroed counters and no faults, for tests that inject faults or count
    requests (one server per module, reset around each test: starting and stopping one costs 0.2 s)."""
    _fault_server.reset()
    yield _fault_server
    _fault_server.reset()


@pytest.fixture
def isolated_server():
    """An emulator of its own, for tests that leave requests hanging inside the server."""
    testing = pytest.importorskip("pywats_emulator.testing")
    with testing.running_emulator() as server:
        yield server

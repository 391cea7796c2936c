"""The two clients: ``pyWATS`` (sync) and ``AsyncWATS`` (async).

They share everything through :class:`~pywats._base_client.BaseClient` (policy) and
:mod:`pywats.domains` (endpoints). What is written here twice, mirrored line for line so a change to one is
made to the other, is only the part that does I/O:

- ``_request``: the request loop (rate limit → breaker → send → retry decision → sleep);
- ``_execute``: ``_request`` plus parsing and the LENIENT not-found rule;
- ``_run``: runs an ``Op`` or drives a flow;
- opening and closing the httpx client.

The sync client calls ``httpx.Client`` directly: no event loop is created, so it works from any number of
threads at once (httpx's connection pool and our limiter and breaker are thread-safe) and from code that
already runs inside an event loop, such as a Jupyter notebook. The async client never blocks its event loop:
it waits with ``asyncio.sleep``.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any, Awaitable, Callable

import httpx

from ._base_client import BaseClient, outcome_of, translate_transport_errors
from ._circuit import Outcome
from ._exceptions import APIConnectionError, APIError, NotFoundError, WATSError
from ._ops import Op
from .domains import Domains
from .domains._domain import Async, Done, Sync, Work, run_flow_step


class pyWATS(BaseClient, Domains[Sync]):  # noqa: N801 - the product's name
    """The synchronous WATS client. Use it as a context manager, or call :meth:`close`.

    >>> with pyWATS("https://acme.wats.com", token, station=Station("ICT-01", "Line 1", "Production")) as api:
    ...     report_id = api.report.submit(report)
    ...     print(api.get_version())

    See :class:`~pywats._base_client.BaseClient` for the arguments.
    """

    is_async = False

    def _setup(self) -> None:
        self._http = httpx.Client(**self._httpx_options())
        self._sleep: Callable[[float], None] = time.sleep
        self._attach_domains()

    def close(self) -> None:
        """Close the connection pool. The client cannot be used afterwards."""
        self._http.close()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    def __enter__(self) -> pyWATS:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _request(self, op: Op[Any]) -> httpx.Response:
        """Send ``op`` until it succeeds or the retry policy gives up; raises the mapped exception."""
        request = self._build_request(self._http, op)
        attempt = 0
        last_error: APIError | None = None
        while True:
            attempt += 1
            probe = self._breaker_enter(last_error)  # first: an open breaker must not use up rate-limit tokens
            outcome = Outcome.NEUTRAL  # what the breaker hears if this attempt ends in anything unexpected
            try:
                wait = self._throttle_delay()
                if wait > 0:
                    self._sleep(wait)
                try:
                    with translate_transport_errors(request):
                        response = self._http.send(request)
                except APIConnectionError as error:
                    outcome = Outcome.FAILURE
                    delay = self._retry_after_error(op, attempt, error)
                    if delay is None:
                        raise
                    last_error = error
                else:
                    outcome = outcome_of(response.status_code)
                    if response.is_success:
                        return response
                    last_error = self._status_error(response)
                    delay = self._retry_after_status(op, attempt, response)
                    if delay is None:
                        raise last_error
            finally:
                self._breaker_exit(probe, outcome)
            if self._breaker_is_open():
                continue  # the next attempt raises CircuitOpenError at once: no point in waiting for it
            self._log_retry(op, attempt, delay, str(last_error))
            self._sleep(delay)

    def _execute(self, op: Op[Any]) -> Any:
        """Run one ``Op``: send it, parse the answer; in LENIENT mode a missing resource is None."""
        try:
            response = self._request(op)
        except NotFoundError:
            if self._missing_is_none(op):
                return None
            raise
        return op.parse(response)

    def _run(self, work: Work[Any]) -> Any:
        """Run an ``Op``, or drive a flow: send each ``Op`` it yields, hand back the result or the error."""
        if isinstance(work, Op):
            return self._execute(work)
        try:
            step = run_flow_step(work)
            while not isinstance(step, Done):
                try:
                    result = self._execute(step)
                except WATSError as error:
                    step = run_flow_step(work, throw=error)
                else:
                    step = run_flow_step(work, result)
            return step.value
        finally:
            work.close()


class AsyncWATS(BaseClient, Domains[Async]):
    """The asynchronous WATS client. Use it as an async context manager, or call :meth:`aclose`.

    >>> async with AsyncWATS("https://acme.wats.com", token) as api:
    ...     report_id = await api.report.submit(report)
    ...     print(await api.get_version())

    See :class:`~pywats._base_client.BaseClient` for the arguments.
    """

    is_async = True

    def _setup(self) -> None:
        self._http = httpx.AsyncClient(**self._httpx_options())
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._attach_domains()

    async def aclose(self) -> None:
        """Close the connection pool. The client cannot be used afterwards."""
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def __aenter__(self) -> AsyncWATS:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _request(self, op: Op[Any]) -> httpx.Response:
        """Send ``op`` until it succeeds or the retry policy gives up; raises the mapped exception."""
        request = self._build_request(self._http, op)
        attempt = 0
        last_error: APIError | None = None
        while True:
            attempt += 1
            probe = self._breaker_enter(last_error)  # first: an open breaker must not use up rate-limit tokens
            outcome = Outcome.NEUTRAL  # what the breaker hears if this attempt ends in anything unexpected
            try:
                wait = self._throttle_delay()
                if wait > 0:
                    await self._sleep(wait)
                try:
                    with translate_transport_errors(request):
                        response = await self._http.send(request)
                except APIConnectionError as error:
                    outcome = Outcome.FAILURE
                    delay = self._retry_after_error(op, attempt, error)
                    if delay is None:
                        raise
                    last_error = error
                else:
                    outcome = outcome_of(response.status_code)
                    if response.is_success:
                        return response
                    last_error = self._status_error(response)
                    delay = self._retry_after_status(op, attempt, response)
                    if delay is None:
                        raise last_error
            finally:
                self._breaker_exit(probe, outcome)
            if self._breaker_is_open():
                continue  # the next attempt raises CircuitOpenError at once: no point in waiting for it
            self._log_retry(op, attempt, delay, str(last_error))
            await self._sleep(delay)

    async def _execute(self, op: Op[Any]) -> Any:
        """Run one ``Op``: send it, parse the answer; in LENIENT mode a missing resource is None."""
        try:
            response = await self._request(op)
        except NotFoundError:
            if self._missing_is_none(op):
                return None
            raise
        return op.parse(response)

    async def _run(self, work: Work[Any]) -> Any:
        """Run an ``Op``, or drive a flow: send each ``Op`` it yields, hand back the result or the error."""
        if isinstance(work, Op):
            return await self._execute(work)
        try:
            step = run_flow_step(work)
            while not isinstance(step, Done):
                try:
                    result = await self._execute(step)
                except WATSError as error:
                    step = run_flow_step(work, throw=error)
                else:
                    step = run_flow_step(work, result)
            return step.value
        finally:
            work.close()


__all__ = ["AsyncWATS", "pyWATS"]

"""``ClientService``: the station service for synchronous code. It only drives :class:`AsyncClientService`
on a background thread with an event loop of its own; all the work is the async service's.

>>> with ClientService("line1") as service:      # doctest: +SKIP
...     print(service.status()["state"])
RUNNING
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from types import TracebackType
from typing import Any, Coroutine

from .service import AsyncClientService, ServiceError


class ClientService:
    """Start, control and stop a service from synchronous code (scripts, tests, a Windows service host).

    Takes the arguments of :class:`AsyncClientService`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.service = AsyncClientService(*args, **kwargs)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.exit_code: int | None = None

    def run(self) -> int:
        """Run in the foreground until SIGINT/SIGTERM; the exit code."""
        return asyncio.run(self.service.run(install_signal_handlers=True))

    def start(self, timeout: float = 60.0) -> ClientService:
        """Start on a background thread; return once it runs.

        Raises:
            ServiceError: it did not start (the reason is in the message).
        """
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the service is already running")
        self._error = None
        self._thread = threading.Thread(target=self._main, name=f"pywats-service-{self.service.paths.name}", daemon=True)
        self._thread.start()
        if not self.service.wait_started(timeout):
            raise ServiceError(f"the service did not start within {timeout} s")
        error = self.service.start_error or self._error
        if error is not None:
            self._thread.join(30)
            self._thread = None
            raise error if isinstance(error, ServiceError) else ServiceError(str(error))
        return self

    def _main(self) -> None:
        try:
            self.exit_code = asyncio.run(self.service.run())
        except BaseException as error:  # noqa: BLE001 - handed to the thread that called start()
            self._error = error
            self.service._started.set()

    def stop(self, timeout: float = 60.0, *, force: bool = False) -> int | None:
        """Stop gracefully (two phases, see the service) and wait; the exit code."""
        if self._thread is None:
            return self.exit_code
        self.service.stop_threadsafe(force=force)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise ServiceError(f"the service did not stop within {timeout} s")
        self._thread = None
        return self.exit_code

    def call(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
        """Run a coroutine on the service's loop and wait for its result (e.g. ``service.service.status()``)."""
        loop = self.service._loop
        if loop is None or self._thread is None:
            coroutine.close()
            raise ServiceError("the service is not running")
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, loop)
        return future.result(timeout)

    def status(self) -> dict[str, Any]:
        return self.call(self.service.status())

    def pause(self) -> None:
        self.call(_call(self.service.pause))

    def resume(self) -> None:
        self.call(_call(self.service.resume))

    def sync_now(self) -> None:
        self.call(self.service.sync_now())

    @property
    def state(self) -> str:
        return self.service.state.value

    def __enter__(self) -> ClientService:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


async def _call(function: Any) -> Any:
    return function()


__all__ = ["ClientService"]

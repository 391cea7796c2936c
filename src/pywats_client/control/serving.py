"""Serving an ASGI app on a socket we bound ourselves, inside the service's event loop (control API, health).

We bind the socket (so a Unix socket gets its 0600 mode before anyone can connect, and port 0 gives a free
port without a race), and uvicorn serves it without touching signals: those belong to the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any


class _Server:
    """Made on first use: uvicorn is imported only by a service that serves something."""

    @staticmethod
    def make(config: Any) -> Any:
        import uvicorn

        class Server(uvicorn.Server):
            def install_signal_handlers(self) -> None:  # uvicorn < 0.29
                pass

            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:  # uvicorn >= 0.29
                yield

        return Server(config)


class SocketServer:
    """One ASGI app served on one bound socket until :meth:`stop`."""

    def __init__(self, app: Any, sock: socket.socket, *, name: str) -> None:
        import uvicorn

        sock.listen(64)
        self.socket = sock
        self._server = _Server.make(uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", ws="none", timeout_keep_alive=5,
            limit_concurrency=64, timeout_graceful_shutdown=1,
        ))  # fmt: skip
        self._name = name
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serve; return once uvicorn accepts connections (or raise what stopped it)."""
        self._task = asyncio.create_task(self._server.serve(sockets=[self.socket]), name=self._name)
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 5)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - stopping must finish
                self._task.cancel()
        self.socket.close()


__all__ = ["SocketServer"]

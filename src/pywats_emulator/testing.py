"""A live emulator for tests and scripts: uvicorn in a background thread on a free loopback port.

>>> with running_emulator(latency_ms=20) as emulator:   # doctest: +SKIP
...     httpx.post(f"{emulator.url}/api/Report/WSJF", content=text, headers=emulator.headers)
...     emulator.set_faults(drop_rate=1.0)        # the next upload is stored, then the connection drops
...     emulator.stats()["reports_stored"]

The socket is bound before uvicorn starts (port 0: the OS picks a free port, no race), and the context
manager returns only once the server accepts connections. uvicorn installs no signal handlers here (they
belong to the main thread's program). On exit the server stops, waiting at most ``shutdown_timeout`` for
requests still running (a hanging request is cut short), and a temporary database is deleted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from .app import create_app
from .config import EmulatorConfig
from .faults import FaultConfig
from .state import EmulatorState

_FAULT_FIELDS = {field.name for field in dataclasses.fields(FaultConfig)}


class _ThreadServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the program that runs it."""

    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        pass

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # uvicorn >= 0.29
        yield


@dataclass
class RunningEmulator:
    """A running emulator: where it is, how to authenticate, and its controls."""

    url: str
    token: str
    db_path: Path
    config: EmulatorConfig
    state: EmulatorState
    app: Any

    @property
    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header a WATS client sends."""
        return {"Authorization": f"Basic {self.token}"}

    def set_faults(self, **changes: Any) -> FaultConfig:
        """Change fault settings now (see :class:`~pywats_emulator.faults.FaultConfig`)."""
        return self.state.faults.configure(**changes)

    def clear_faults(self) -> FaultConfig:
        """Turn every fault off."""
        return self.state.faults.reset()

    def stats(self) -> dict[str, Any]:
        """What ``GET /_emulator/stats`` answers."""
        return self.state.snapshot()

    def reset(self) -> None:
        """Delete every report, zero the counters and turn every fault off."""
        self.state.storage.clear_reports()
        self.state.stats.clear()
        self.state.faults.clear_counts()
        self.state.faults.reset()

    def client(self, **options: Any) -> Any:
        """An ``httpx.Client`` for this emulator, with the token set."""
        import httpx

        return httpx.Client(base_url=self.url, headers=self.headers, **options)


@contextlib.contextmanager
def running_emulator(
    config: EmulatorConfig | None = None, *, startup_timeout: float = 15, shutdown_timeout: float = 2,
    **options: Any,
) -> Iterator[RunningEmulator]:  # fmt: skip
    """Run an emulator on ``127.0.0.1`` in a background thread for the duration of the ``with`` block.

    Args:
        config: the whole configuration; or give its fields as keyword arguments instead.
        startup_timeout: seconds to wait for the server to accept connections.
        shutdown_timeout: seconds running requests get to finish when the block ends.
        **options: :class:`EmulatorConfig` fields (``db_path``, ``tokens``, ``processes``...) and
            :class:`FaultConfig` fields (``latency_ms``, ``error_rate``...) for the initial faults.

    Raises:
        RuntimeError: the server did not start in time.
    """
    if config is None:
        faults = {key: options.pop(key) for key in list(options) if key in _FAULT_FIELDS}
        if faults:
            base = options.pop("faults", FaultConfig())
            options["faults"] = (FaultConfig(**base) if isinstance(base, dict) else base).replace(**faults)
        config = EmulatorConfig(**options)
    elif options:
        raise TypeError("give either config or keyword options, not both")
    app = create_app(config)
    state: EmulatorState = app.state.emulator
    # proto=IPPROTO_TCP matters: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they are TCP,
    # and accepted connections inherit it; without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _ThreadServer(uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", ws="none",
        timeout_graceful_shutdown=shutdown_timeout,
    ))  # fmt: skip
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"pywats-emulator-{port}", daemon=True
    )
    thread.start()
    try:
        _wait_until_serving(server, thread, port, startup_timeout)
        yield RunningEmulator(
            url=f"http://127.0.0.1:{port}", token=config.token, db_path=state.storage.path, config=config,
            state=state, app=app,
        )  # fmt: skip
    finally:
        server.should_exit = True
        thread.join(timeout=shutdown_timeout + 10)
        sock.close()
        if thread.is_alive():  # pragma: no cover - uvicorn did not stop; do not hang the test run
            server.force_exit = True
            thread.join(timeout=5)
        state.storage.close()  # idempotent: lifespan shutdown normally did it


def _wait_until_serving(server: uvicorn.Server, thread: threading.Thread, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the emulator stopped while starting (see the log above)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the emulator did not start within {timeout} s")
        time.sleep(0.01)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout):
        pass

"""Start the emulator in its own process for a benchmark (so client and server don't share one GIL)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

TOKEN = "YmVuY2g6YmVuY2g="  # base64 of "bench:bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def emulator_process(*extra: str) -> Iterator[str]:
    """Run ``pywats-emulator serve`` on a free loopback port with a temporary database; yield its URL."""
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        command = [sys.executable, "-m", "pywats_emulator", "serve", "--port", str(port), "--token", TOKEN,
                   "--db", str(Path(folder) / "bench.db"), "--log-level", "warning", *extra]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{url}/api/App/Version", headers={"Authorization": f"Basic {TOKEN}"}, timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("the emulator did not start") from None
                    time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            process.wait(10)


def set_faults(url: str, **faults: object) -> None:
    response = httpx.put(f"{url}/_emulator/faults", json=faults, headers={"Authorization": f"Basic {TOKEN}"})
    response.raise_for_status()

"""Running real station services against a real emulator in tests: instances under a temporary PYWATS_HOME,
real files in real folders, the real SQLite queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pywats import pyWATS
from pywats.formats import wsjf
from pywats.synthetic import synthetic_report
from pywats_client import ClientService
from pywats_client import config as config_module
from pywats_client.instance import InstancePaths
from pywats_client.queue import ReportQueue

FAST = {
    # Short intervals so a test sees in a second what a station sees in a minute.
    "rescan_interval_s": 1.0,
    "stability_window_s": 0.2,
    "retry_base_s": 0.05,
    "retry_cap_s": 0.5,
    "ping_interval_s": 0.5,
    "hold_recheck_s": 0.5,
    "circuit_recovery_s": 0.5,
    "circuit_failure_threshold": 3,
    "request_timeout_s": 5.0,
    "disk_reserve_mb": 0,
    "shutdown_timeout_s": 5.0,
}


def wait_until(condition: Callable[[], Any], *, timeout: float = 30.0, what: str = "the condition") -> Any:
    """Poll ``condition`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {value!r})")
        time.sleep(0.05)


class Station:
    """One instance: its folders, its configuration, and the service once started."""

    def __init__(self, home: Path, name: str, emulator: Any, *, converter: str = "wsjf", **config: Any) -> None:
        self.name = name
        self.paths = InstancePaths(name, home / "instances" / name)
        self.watch = home / f"{name}-in"
        self.done = home / f"{name}-done"
        self.error = home / f"{name}-error"
        entry = {"name": "main", "converter": converter, "watch": str(self.watch), "done": str(self.done),
                 "error": str(self.error)}  # fmt: skip
        data = {"server_url": emulator.url if emulator else None, "api_token": emulator.token if emulator else None,
                "converters": [entry], **FAST, **config}  # fmt: skip
        config_module.save(data, self.paths.config_file)
        self.service: ClientService | None = None

    # -- configuration -----------------------------------------------------------------------------------------

    def file_config(self) -> dict[str, Any]:
        return config_module.load_file(self.paths.config_file)

    def edit_config(self, **changes: Any) -> None:
        data = self.file_config()
        data.update(changes)
        config_module.save(data, self.paths.config_file)

    # -- running -----------------------------------------------------------------------------------------------

    def start(self) -> ClientService:
        self.service = ClientService(self.paths).start()
        return self.service

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None

    def status(self) -> dict[str, Any]:
        assert self.service is not None
        return self.service.status()

    def counts(self) -> dict[str, int]:
        queue = ReportQueue(self.paths.queue_db)
        try:
            return queue.counts()
        finally:
            queue.close()

    def wait_done(self, count: int, timeout: float = 60.0) -> dict[str, int]:
        return wait_until(lambda: (c := self.counts())["done"] >= count and c, timeout=timeout,
                          what=f"{count} reports done in {self.name}")  # fmt: skip

    # -- files -------------------------------------------------------------------------------------------------

    def drop(self, filename: str, text: str) -> Path:
        """Write a file into the watch folder the way a careful tester does: complete, then renamed into place."""
        self.watch.mkdir(parents=True, exist_ok=True)
        temporary = self.watch / (filename + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        target = self.watch / filename
        os.replace(temporary, target)
        return target


def report_text(sn: str, steps: int = 20, **fields: Any) -> str:
    return wsjf.dumps(synthetic_report(steps, sn=sn, **fields))


def server_reports(emulator: Any, sn: str) -> list[Any]:
    """The report headers the emulator holds for one serial number."""
    with pyWATS(emulator.url, emulator.token, rate_limit=None) as api:
        from pywats import F

        return api.report.query_headers(F.serial_number == sn, top=100)


def stored_count(emulator: Any) -> int:
    return emulator.state.storage.count_reports()


def run_service_process(home: Path, name: str, *extra: str) -> subprocess.Popen[bytes]:
    """``python -m pywats_client --instance NAME service`` as its own process (for kill tests)."""
    environment = {**os.environ, "PYWATS_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "pywats_client", "--instance", name, "service", *extra],
                            env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip


def dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)

"""Configuration keys that no other end-to-end test exercises, each shown to do what docs/service.md says,
with a real service, the emulator and real files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from station_support import Station, report_text, stored_count, wait_until

from pywats_client.queue import NewReport, ReportQueue

SLOW_CONVERTER = '''
import time
from pywats_client.converters import FileConverter

class Slow(FileConverter):
    name = "slow"
    patterns = ("*.slow",)

    def convert(self, source, context):
        time.sleep(3)
        return []
'''


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYWATS_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def station(home: Path, fresh_emulator):
    made: list[Station] = []

    def make(**config) -> Station:
        made.append(Station(home, f"keys{len(made)}", fresh_emulator, **config))
        return made[-1]

    yield make
    for one in made:
        one.stop()


def test_json_logs_follow_one_file_by_its_correlation_id(station) -> None:
    line = station(log_format="json")
    line.start()
    line.drop("j.json", report_text("SN-JSON"))
    line.wait_done(1)
    records = [json.loads(text) for text in (line.paths.log_dir / "service.log").read_text().splitlines()]
    queued = next(record for record in records if "j.json" in record["message"] and "queued" in record["message"])
    uploaded = [record for record in records if record["message"].startswith("uploaded")]
    assert queued["correlation_id"] != "-" and queued["level"] == "INFO"
    assert [record["correlation_id"] for record in uploaded] == [queued["correlation_id"]]


def test_rate_limit_per_minute_spaces_the_uploads(station, fresh_emulator) -> None:
    line = station(rate_limit_per_minute=1)
    line.start()
    line.drop("a.json", report_text("SN-RATE-1"))
    line.drop("b.json", report_text("SN-RATE-2"))
    wait_until(lambda: stored_count(fresh_emulator) == 1, what="the first upload")
    time.sleep(2.0)
    assert stored_count(fresh_emulator) == 1  # the second waits for the next token, a minute later
    assert line.counts()["failed"] == 0


def test_request_timeout_turns_a_hanging_server_into_a_retry(station, fresh_emulator) -> None:
    fresh_emulator.set_faults(hang_rate=1.0, hang_s=5)
    line = station(request_timeout_s=0.5)
    line.start()
    line.drop("h.json", report_text("SN-HANG"))
    wait_until(lambda: any("timed out" in (e["message"] or "") for e in line.status()["last_errors"]),
               what="a timed-out upload")  # fmt: skip
    fresh_emulator.clear_faults()
    line.wait_done(1)
    assert stored_count(fresh_emulator) == 1 and line.counts()["failed"] == 0  # resent, stored once


def test_a_converter_that_hangs_past_timeout_s_is_abandoned_and_the_file_set_aside(station, home) -> None:
    line = station()
    source = home / "slow.py"
    source.write_text(SLOW_CONVERTER, encoding="utf-8")
    data = line.file_config()
    data["converters"][0].update(converter=f"{source}::Slow", sandbox=False, timeout_s=0.5)
    line.edit_config(converters=data["converters"])
    line.start()
    line.drop("x.slow", "anything")
    sidecar = wait_until(lambda: next(iter(line.error.glob("x.slow.error.txt")), None), what="the file set aside")
    assert "longer than 0.5 s" in sidecar.read_text(encoding="utf-8")
    assert line.status()["state"] == "RUNNING"


def test_a_disabled_entry_is_not_watched(station) -> None:
    line = station()
    data = line.file_config()
    data["converters"][0]["enabled"] = False
    line.edit_config(converters=data["converters"])
    line.start()
    line.drop("d.json", report_text("SN-OFF"))
    time.sleep(1.5)
    assert (line.watch / "d.json").exists() and line.counts()["pending"] == 0
    assert line.status()["converters"][0]["state"] == "disabled"


def test_done_retention_prunes_old_ledger_rows_at_start(station) -> None:
    line = station(done_retention_days=1)
    queue = ReportQueue(line.paths.queue_db, clock=lambda: time.time() - 3 * 86_400)
    queue.enqueue([NewReport(id="old-report", payload="{}")])
    queue.complete([(item.id, item.revision, "ok") for item in queue.claim(1)])
    queue.close()
    line.start()
    wait_until(lambda: line.counts()["done"] == 0, what="the old row pruned")


def test_health_port_null_turns_the_endpoints_off(station) -> None:
    line = station(health_port=None)
    line.start()
    assert line.status()["health_url"] is None

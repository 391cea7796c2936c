"""The station service end to end: a real service, a real emulator over loopback HTTP, real files, real SQLite.

Each test starts its own emulator (``fresh_emulator``) so faults and counts are its own.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from station_support import Station, report_text, run_service_process, server_reports, stored_count, wait_until

from pywats import pyWATS
from pywats.formats import wsjf
from pywats.processes import DEFAULT_PROCESSES, ProcessInfo
from pywats_client import ClientService, ServiceError
from pywats_client.queue import ReportQueue


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYWATS_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def station(home: Path, fresh_emulator):
    made: list[Station] = []

    def make(name: str = "line1", **config) -> Station:
        made.append(Station(home, name, fresh_emulator, **config))
        return made[-1]

    yield make
    for one in made:
        one.stop()


def test_dropped_files_reach_the_server_once_each_field_for_field(station, fresh_emulator) -> None:
    line = station()
    line.start()
    texts = {f"SN-{index:03d}": report_text(f"SN-{index:03d}") for index in range(12)}
    for sn, text in texts.items():
        line.drop(f"{sn}.json", text)
    line.wait_done(len(texts))
    assert stored_count(fresh_emulator) == len(texts)
    with pyWATS(fresh_emulator.url, fresh_emulator.token, rate_limit=None) as api:
        for sn, text in texts.items():
            headers = server_reports(fresh_emulator, sn)
            assert len(headers) == 1
            sent = wsjf.loads(text)
            assert api.report.get(sent.id) == sent
    assert sorted(path.name for path in line.done.iterdir()) == sorted(f"{sn}.json" for sn in texts)
    assert not any(line.watch.iterdir())


def test_the_same_file_dropped_twice_gives_one_report(station, fresh_emulator) -> None:
    line = station()
    line.start()
    text = report_text("SN-TWICE")
    line.drop("a.json", text)
    line.wait_done(1)
    line.drop("a.json", text)  # the tester writes the same file again
    line.drop("copy.json", text)  # and a copy under another name
    wait_until(lambda: len(list(line.done.iterdir())) == 3, what="both files moved to done")
    assert line.counts()["done"] == 1
    assert len(server_reports(fresh_emulator, "SN-TWICE")) == 1


def test_a_server_outage_is_ridden_out_without_a_restart(station, fresh_emulator) -> None:
    fresh_emulator.set_faults(outage=True, retry_after_s=None)
    line = station()
    line.start()
    for index in range(8):
        line.drop(f"out-{index}.json", report_text(f"SN-OUT-{index}"))
    wait_until(lambda: line.counts()["pending"] + line.counts()["uploading"] == 8, what="8 reports waiting")
    wait_until(lambda: line.status()["server"]["online"] is False, what="the server seen offline")
    assert stored_count(fresh_emulator) == 0
    fresh_emulator.clear_faults()
    line.wait_done(8)
    assert stored_count(fresh_emulator) == 8
    assert line.status()["state"] == "RUNNING"


def test_a_rejected_report_is_dead_lettered_and_delivered_after_a_fix_and_retry(station, fresh_emulator) -> None:
    line = station()
    line.start()
    line.drop("new-process.json", report_text("SN-REJECT", process_code=777))
    line.drop("fine.json", report_text("SN-FINE"))
    wait_until(lambda: line.counts()["failed"] == 1 and line.counts()["done"] == 1, what="one failed, one done")
    queue = ReportQueue(line.paths.queue_db)
    try:
        failed = queue.list("failed")[0]
        assert "777" in failed.last_error and "HTTP 400" in failed.last_error
        # The server's administrator adds the process; the station engineer retries the dead letter.
        fresh_emulator.state.storage.set_processes((*DEFAULT_PROCESSES, ProcessInfo(777, "Burn-in 2")))
        assert queue.retry([failed.id]) == 1
    finally:
        queue.close()
    line.service.sync_now()
    line.wait_done(2)
    assert len(server_reports(fresh_emulator, "SN-REJECT")) == 1


def test_a_wrong_token_holds_the_queue_and_a_fixed_token_releases_it(station, fresh_emulator) -> None:
    line = station(api_token="not-the-token")
    line.start()
    for index in range(3):
        line.drop(f"held-{index}.json", report_text(f"SN-HELD-{index}"))
    wait_until(lambda: line.status()["held"], what="the queue held")
    status = line.status()
    assert "401" in status["held"]
    assert any(alert["name"] == "held" for alert in status["alerts"])
    time.sleep(1.5)  # rechecks happen meanwhile; nothing may be dropped or marked failed
    counts = line.counts()
    assert counts["failed"] == 0 and counts["done"] == 0
    assert counts["held"] + counts["pending"] == 3
    line.edit_config(api_token=fresh_emulator.token)
    line.wait_done(3)
    assert line.status()["held"] is None
    assert stored_count(fresh_emulator) == 3


def test_a_file_still_being_written_is_not_taken_early(station, fresh_emulator) -> None:
    line = station(stability_window_s=1.0)
    line.start()
    text = report_text("SN-SLOW")
    line.watch.mkdir(parents=True, exist_ok=True)
    target = line.watch / "slow.json"
    with open(target, "w", encoding="utf-8") as handle:  # written in pieces, under its final name
        for start in range(0, len(text), len(text) // 10 + 1):
            handle.write(text[start:start + len(text) // 10 + 1])
            handle.flush()
            time.sleep(0.3)
            assert not line.error.exists() or not any(line.error.iterdir()), "a partial file was taken"
    line.wait_done(1)
    assert len(server_reports(fresh_emulator, "SN-SLOW")) == 1
    assert not line.error.exists() or not any(line.error.iterdir())


def test_a_broken_file_goes_to_the_error_folder_with_the_reason(station, fresh_emulator) -> None:
    line = station()
    line.start()
    line.drop("broken.json", '{"type": "T", "sn": ')
    sidecar = wait_until(lambda: next(iter(line.error.glob("*.error.txt")), None), what="the .error.txt")
    text = sidecar.read_text(encoding="utf-8")
    assert "converter: wsjf" in text and "not valid JSON" in text
    assert (line.error / "broken.json").exists()
    assert line.status()["state"] == "RUNNING"


def test_a_hot_config_change_takes_effect_and_a_broken_edit_is_refused(station, home, fresh_emulator) -> None:
    line = station()
    line.start()
    second = home / "second-in"
    data = line.file_config()
    data["converters"].append({"name": "second", "converter": "wsjf", "watch": str(second)})
    line.edit_config(converters=data["converters"])
    wait_until(lambda: any(c["name"] == "second" and c["state"] == "running" for c in line.status()["converters"]),
               what="the new converter running")  # fmt: skip
    second.mkdir(parents=True, exist_ok=True)
    (second / "x.json").write_text(report_text("SN-HOT"), encoding="utf-8")
    line.wait_done(1)

    line.paths.config_file.write_text('{"upload_concurrency": 0, "converters": [}', encoding="utf-8")
    wait_until(lambda: any(a["name"] == "config_rejected" for a in line.status()["alerts"]), what="the refusal")
    line.drop("still.json", report_text("SN-STILL"))  # the old configuration is still in force
    line.wait_done(2)
    assert line.status()["state"] == "RUNNING"


def test_two_instances_side_by_side_stay_separate(station, fresh_emulator) -> None:
    one, two = station("one"), station("two")
    one.start()
    two.start()
    one.drop("a.json", report_text("SN-ONE"))
    two.drop("b.json", report_text("SN-TWO"))
    one.wait_done(1)
    two.wait_done(1)
    assert one.counts()["done"] == 1 and two.counts()["done"] == 1
    assert [p.name for p in one.done.iterdir()] == ["a.json"] and [p.name for p in two.done.iterdir()] == ["b.json"]
    assert one.paths.queue_db != two.paths.queue_db


def test_a_second_service_on_the_same_instance_refuses_to_start(station) -> None:
    line = station()
    line.start()
    with pytest.raises(ServiceError, match="already served by pid"):
        ClientService(line.paths).start()


def test_killed_mid_run_and_restarted_nothing_is_lost_or_duplicated(station, home, fresh_emulator) -> None:
    fresh_emulator.set_faults(latency_ms=40)
    line = station(upload_concurrency=2)
    total = 40
    process = run_service_process(home, line.name)
    try:
        for index in range(total):
            line.drop(f"k-{index:02d}.json", report_text(f"SN-KILL-{index:02d}"))
        wait_until(lambda: stored_count(fresh_emulator) >= 5, what="some uploads before the kill")
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    stored_before = stored_count(fresh_emulator)
    assert stored_before < total, "the kill came too late to prove anything"
    fresh_emulator.clear_faults()
    line.start()  # the lock of the killed process is taken over
    line.wait_done(total)
    wait_until(lambda: not any(line.watch.iterdir()), what="the watch folder emptied")
    assert stored_count(fresh_emulator) == total
    for index in range(total):
        assert len(server_reports(fresh_emulator, f"SN-KILL-{index:02d}")) == 1


def test_sigterm_stops_gracefully_and_the_queue_is_consistent(station, home, fresh_emulator) -> None:
    line = station()
    process = run_service_process(home, line.name)
    try:
        for index in range(5):
            line.drop(f"t-{index}.json", report_text(f"SN-TERM-{index}"))
        wait_until(lambda: stored_count(fresh_emulator) == 5, what="5 uploads")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output.decode(errors="replace")
    assert b"stopped (STOPPED)" in output
    counts = line.counts()
    assert counts["uploading"] == 0 and counts["done"] == 5
    log_text = (line.paths.log_dir / "service.log").read_text(encoding="utf-8")
    assert fresh_emulator.token not in log_text


def test_status_reports_converter_load_errors_without_stopping(station, fresh_emulator) -> None:
    line = station()
    data = line.file_config()
    data["converters"].append({"name": "missing", "converter": "no_such_module:Nope"})
    line.edit_config(converters=data["converters"])
    line.start()
    status = line.status()
    broken = next(c for c in status["converters"] if c["name"] == "missing")
    assert broken["state"] == "error" and "no_such_module" in broken["error"]
    line.drop("ok.json", report_text("SN-OK"))
    line.wait_done(1)
    assert json.dumps(status)  # plain data


def test_pause_stops_intake_and_resume_goes_on(station, fresh_emulator) -> None:
    line = station()
    service = line.start()
    service.pause()
    assert service.state == "PAUSED"
    line.drop("p.json", report_text("SN-PAUSE"))
    time.sleep(1.5)
    assert (line.watch / "p.json").exists() and stored_count(fresh_emulator) == 0
    service.resume()
    line.wait_done(1)


def test_environment_overrides_the_file(station, fresh_emulator, monkeypatch) -> None:
    line = station(api_token="wrong")
    monkeypatch.setenv("PYWATS_API_TOKEN", fresh_emulator.token)
    line.start()
    line.drop("e.json", report_text("SN-ENV"))
    line.wait_done(1)
    assert line.file_config()["api_token"] == "wrong"  # the environment is never written back
    assert os.environ["PYWATS_API_TOKEN"] == fresh_emulator.token


SCHEDULED = '''
from datetime import datetime, timezone
from pywats import ReportBuilder
from pywats_client.converters import ScheduledConverter

class Poller(ScheduledConverter):
    """Pretends to read a tester's database: the same two results every run."""
    name = "db-poller"
    version = "1.0"
    interval_s = 0.3

    def run(self, context):
        reports = []
        for sn in ("SN-DB-1", "SN-DB-2"):
            builder = ReportBuilder.uut(pn="DB-1", sn=sn, rev="A", process_code=10,
                                        start=datetime(2026, 12, 1, tzinfo=timezone.utc))
            builder.numeric("V", 1.0, low=0.5, high=1.5)
            reports.append(builder.build())
        return reports
'''


def test_a_scheduled_converter_runs_on_its_interval_and_sends_each_report_once(station, home, fresh_emulator) -> None:
    line = station()
    source = home / "poller.py"
    source.write_text(SCHEDULED, encoding="utf-8")
    data = line.file_config()
    data["converters"] = [{"name": "db", "converter": f"{source}::Poller", "sandbox": False}]
    line.edit_config(converters=data["converters"])
    line.start()
    line.wait_done(2)
    wait_until(lambda: line.status()["converters"][0]["converted"] >= 3, what="three runs")
    assert line.counts()["done"] == 2 and stored_count(fresh_emulator) == 2

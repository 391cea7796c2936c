"""Watch-folder options end to end: post-actions, polling, ready markers, recursion, temporary names, queue limits
and the ledger, each with a real service, a real emulator and real files."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from station_support import Station, report_text, stored_count, wait_until

from pywats_client.queue import NewReport, ReportQueue


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYWATS_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def station(home: Path, fresh_emulator):
    made: list[Station] = []

    def make(entry: dict | None = None, **config) -> Station:
        line = Station(home, f"line{len(made)}", fresh_emulator, **config)
        if entry:
            data = line.file_config()
            data["converters"][0].update(entry)
            line.edit_config(converters=data["converters"])
        made.append(line)
        return line

    yield make
    for one in made:
        one.stop()


def test_post_action_zip_keeps_the_file_in_an_archive(station) -> None:
    line = station({"post_action": "zip"})
    line.start()
    text = report_text("SN-ZIP")
    line.drop("z.json", text)
    line.wait_done(1)
    archive = wait_until(lambda: next(iter(line.done.glob("z.json.zip")), None), what="the archive")
    with zipfile.ZipFile(archive) as opened:
        assert opened.read("z.json").decode() == text
    assert not (line.watch / "z.json").exists()


def test_post_action_delete_removes_the_file(station) -> None:
    line = station({"post_action": "delete"})
    line.start()
    line.drop("d.json", report_text("SN-DEL"))
    line.wait_done(1)
    wait_until(lambda: not (line.watch / "d.json").exists(), what="the file removed")
    assert not line.done.exists() or not any(line.done.iterdir())


def test_post_action_keep_leaves_the_file_and_takes_it_once(station, fresh_emulator) -> None:
    line = station({"post_action": "keep"}, rescan_interval_s=0.3)
    line.start()
    line.drop("k.json", report_text("SN-KEEP"))
    line.wait_done(1)
    time.sleep(1.5)  # several rescans: the kept file is known to the ledger and not taken again
    assert (line.watch / "k.json").exists()
    assert fresh_emulator.stats()["reports_received"] == 1
    line.stop()
    line.start()  # after a restart too
    time.sleep(1.0)
    assert fresh_emulator.stats()["reports_received"] == 1


def test_polling_mode_without_file_events(station) -> None:
    line = station(polling=True, polling_interval_s=0.2, rescan_interval_s=600)
    line.start()
    line.drop("p.json", report_text("SN-POLL"))
    line.wait_done(1, timeout=20)


def test_a_ready_marker_holds_the_file_until_it_exists(station) -> None:
    line = station({"ready_marker": ".done"})
    line.start()
    line.drop("m.json", report_text("SN-MARK"))
    time.sleep(1.5)
    assert line.counts()["done"] == 0 and (line.watch / "m.json").exists()
    (line.watch / "m.json.done").write_text("", encoding="utf-8")
    line.wait_done(1)
    wait_until(lambda: not (line.watch / "m.json.done").exists(), what="the marker moved along")


def test_recursive_watching_and_temporary_names(station) -> None:
    line = station({"recursive": True})
    line.start()
    nested = line.watch / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "deep.json").write_text(report_text("SN-DEEP"), encoding="utf-8")
    (line.watch / "half.json.tmp").write_text(report_text("SN-TMP"), encoding="utf-8")
    (line.watch / "~lock.json").write_text(report_text("SN-TILDE"), encoding="utf-8")
    line.wait_done(1)
    assert (line.done / "a" / "b" / "deep.json").exists()  # the folder structure is kept
    time.sleep(1.0)
    assert line.counts()["done"] == 1  # temporary names are never taken
    assert (line.watch / "half.json.tmp").exists() and (line.watch / "~lock.json").exists()


def test_a_full_queue_stops_intake_and_files_wait(station, fresh_emulator) -> None:
    fresh_emulator.set_faults(outage=True, retry_after_s=None)
    line = station(max_queue_size=2, conversion_concurrency=1)  # one at a time: the limit is exact
    line.start()
    for index in range(4):
        line.drop(f"q{index}.json", report_text(f"SN-FULL-{index}"))
    wait_until(lambda: any(a["name"] == "queue_full" for a in line.status()["alerts"]), what="queue full")
    time.sleep(1.0)
    waiting_files = list(line.watch.glob("*.json"))
    assert len(waiting_files) >= 1  # not taken: they simply wait in the watch folder
    assert sum(line.counts()[s] for s in ("pending", "uploading")) == 2
    fresh_emulator.clear_faults()
    line.wait_done(4)
    assert stored_count(fresh_emulator) == 4


def test_the_ledger_is_pruned_after_the_retention(home, fresh_emulator) -> None:
    queue = ReportQueue(home / "q.db", clock=lambda: 1000.0)
    queue.enqueue([NewReport(id="a", payload="{}"), NewReport(id="b", payload="{}")])
    claimed = queue.claim(2)
    queue.complete([(item.id, item.revision, "ok") for item in claimed])
    queue.close()
    later = ReportQueue(home / "q.db", clock=lambda: 1000.0 + 31 * 86_400)
    assert later.counts()["done"] == 2
    assert later.prune(30 * 86_400) == 2
    assert later.counts()["done"] == 0
    later.close()

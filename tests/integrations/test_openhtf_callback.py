"""The OpenHTF output callback: into a real instance queue, through a real service, to a real emulator; and the
spool folder when the queue is out of reach. OpenHTF itself is not installed: records are dicts shaped like its
JSON output (the project's fixtures, the OpenHTF sample) or plain objects standing in for its TestRecord."""

from __future__ import annotations

import base64
import enum
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "service"))

from conftest import sample_files  # noqa: E402
from station_support import Station, server_reports, stored_count, wait_until  # noqa: E402

from pywats import Station as WATSStation  # noqa: E402
from pywats import pyWATS  # noqa: E402
from pywats.formats import wsjf  # noqa: E402
from pywats_client.converters import ConversionContext, SourceFile, convert_source  # noqa: E402
from pywats_client.converters.builtin.openhtf import OpenHTFConverter  # noqa: E402
from pywats_client.converters.base import ConverterArgumentError  # noqa: E402
from pywats_client.instance import InstancePaths  # noqa: E402
from pywats_client.integrations import WATSOutput  # noqa: E402
from pywats_client.integrations.openhtf import spool_file_name  # noqa: E402
from pywats_client.queue import ReportQueue  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "converters" / "fixtures" / "openhtf"
STATION = {"name": "LINE1-PC", "location": "Hall 3", "purpose": "Production"}


def record(name: str = "power_board_pass.json") -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYWATS_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def stations(home: Path):
    made: list[Station] = []

    def make(name: str, emulator: Any, **config: Any) -> Station:
        made.append(Station(home, name, emulator, station=STATION, **config))
        return made[-1]

    yield make
    for one in made:
        one.stop()


def queued(paths: InstancePaths) -> list[Any]:
    queue = ReportQueue(paths.queue_db)
    try:
        return [queue.get(item.id, payload=True) for item in queue.list()]
    finally:
        queue.close()


def spooled_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def add_openhtf_entry(station: Station) -> None:
    """A converter entry named ``openhtf``: its default watch folder is the callback's default spool folder."""
    entries = station.file_config()["converters"]
    station.edit_config(converters=[*entries, {"name": "openhtf", "converter": "openhtf"}])


# -- through the queue ---------------------------------------------------------------------------------------


def test_a_record_goes_through_the_queue_to_the_server_exactly_once(stations, fresh_emulator) -> None:
    line = stations("line1", fresh_emulator)
    output = WATSOutput("line1")
    first = record()
    assert output(first) == "queued"  # the service is not running: the queue keeps it
    assert output(first) == "unchanged"  # the same record again: the same report id, nothing new
    (item,) = queued(line.paths)
    assert item.state == "pending" and item.serial_number == "PCB-0001" and item.converter == "openhtf"
    report = wsjf.loads(item.payload)
    assert (report.sn, report.pn, report.rev, report.result) == ("PCB-0001", "PWR-100", "C", "P")
    assert report.machine_name == "bench-07"  # from the record's station_id
    assert (report.location, report.purpose) == ("Hall 3", "Production")  # from the instance's station

    line.start()
    line.wait_done(1)
    second = record("power_board_fail.json")
    assert output(second) == "queued"  # while the service runs: it looks at the queue by itself
    line.wait_done(2, timeout=30)
    assert output(first) == "unchanged" and output(second) == "unchanged"  # sent reports stay in the ledger
    assert stored_count(fresh_emulator) == 2
    assert len(server_reports(fresh_emulator, "PCB-0001")) == 1
    assert len(server_reports(fresh_emulator, "PCB-0002")) == 1
    with pyWATS(fresh_emulator.url, fresh_emulator.token, rate_limit=None) as api:
        assert api.report.get(report.id) == report


def test_the_report_is_the_one_the_openhtf_converter_makes_of_the_spooled_file(home: Path, stations) -> None:
    line = stations("line1", None)
    output = WATSOutput("line1")
    the_record = record()
    assert output(the_record) == "queued"
    (item,) = queued(line.paths)
    # What a service would make of the same record written to the spool folder: same id, same content.
    document = json.dumps(the_record, indent=1, ensure_ascii=False).encode("utf-8")
    source = SourceFile(Path(spool_file_name(the_record, document)), document)
    context = ConversionContext(station=WATSStation(**STATION))
    (expected,) = convert_source(OpenHTFConverter(), source, context).reports
    assert item.id == str(expected.id)
    assert item.payload == wsjf.dumps(expected)


def test_callback_arguments_are_the_converters(home: Path, stations) -> None:
    line = stations("line1", None)
    output = WATSOutput("line1", arguments={"process_code": 20, "part_number": "FALLBACK"})
    without_pn = record()
    del without_pn["metadata"]["part_number"]
    assert output(without_pn) == "queued"
    report = wsjf.loads(queued(line.paths)[0].payload)
    assert (report.process_code, report.pn) == (20, "FALLBACK")
    with pytest.raises(ConverterArgumentError, match="process_cod"):
        WATSOutput("line1", arguments={"process_cod": 20})  # a typo fails when the test is built


def test_the_openhtf_sample_record_is_queued(home: Path, stations) -> None:
    samples = sample_files("openhtf", "test.*.json")
    if not samples:
        pytest.skip("no OpenHTF samples")
    line = stations("line1", None)
    for path in samples:
        assert WATSOutput("line1")(json.loads(path.read_text(encoding="utf-8"))) == "queued"
    assert len(queued(line.paths)) == len(samples)


# -- objects instead of dicts ----------------------------------------------------------------------------------


class Outcome(enum.Enum):
    PASS = "PASS"
    FAIL = "FAIL"


@dataclass
class Attachment:
    data: bytes
    mimetype: str


@dataclass
class Phase:
    name: str
    start_time_millis: int
    end_time_millis: int
    outcome: Outcome
    measurements: dict[str, Any]
    attachments: dict[str, Attachment] = field(default_factory=dict)


@dataclass
class TestRecordStandIn:
    dut_id: str
    station_id: str
    start_time_millis: int
    end_time_millis: int
    outcome: Outcome
    metadata: dict[str, Any]
    phases: list[Phase]

    __test__ = False


def object_record() -> TestRecordStandIn:
    vcc = {"name": "vcc", "outcome": Outcome.PASS, "measured_value": 3.3, "validators": ["3.2 <= x <= 3.4"]}
    phase = Phase("power", 1717243200100, 1717243201000, Outcome.PASS, {"vcc": vcc},
                  {"scope.png": Attachment(b"\x89PNG\r\n\x1a\n binary", "image/png")})  # fmt: skip
    return TestRecordStandIn("OBJ-0001", "bench-09", 1717243200000, 1717243202000, Outcome.PASS,
                             {"test_name": "ObjectTest", "part_number": "OBJ-PN"}, [phase])  # fmt: skip


def _attachments(report: Any) -> list[Any]:
    found = []

    def walk(step: Any) -> None:
        if getattr(step, "attachment", None) is not None:
            found.append(step.attachment)
        for child in getattr(step, "steps", None) or []:
            walk(child)

    walk(report.root)
    return found


def test_a_record_object_is_read_by_its_attributes(home: Path, stations) -> None:
    line = stations("line1", None)
    assert WATSOutput("line1")(object_record()) == "queued"
    report = wsjf.loads(queued(line.paths)[0].payload)
    assert (report.sn, report.pn, report.machine_name, report.result) == ("OBJ-0001", "OBJ-PN", "bench-09", "P")
    (attachment,) = _attachments(report)
    assert base64.b64decode(attachment.data) == b"\x89PNG\r\n\x1a\n binary"


# -- when the queue is out of reach: the spool folder --------------------------------------------------------------


def test_an_unusable_queue_spools_the_record_and_a_service_delivers_it(stations, fresh_emulator, caplog) -> None:
    line = stations("line1", fresh_emulator)
    line.paths.queue_db.mkdir(parents=True)  # a folder where the database should be: SQLite cannot open it
    output = WATSOutput("line1")
    spool = line.paths.watch_dir("openhtf")
    the_record = record("power_board_fail.json")
    with caplog.at_level(logging.INFO, logger="pywats_client.integrations"):
        assert output(the_record) == "spooled"
        assert output(the_record) == "spooled"  # the same record twice: the same file, once
    (path,) = spooled_files(spool)
    assert path.name.startswith("PCB-0002_1717243260000_")
    assert json.loads(path.read_text(encoding="utf-8")) == the_record
    assert not list(spool.glob("*.tmp")) and not list(spool.glob(".*"))
    assert any(rec.levelno == logging.WARNING and "cannot be written" in rec.getMessage() and "spooled" in
               rec.getMessage() for rec in caplog.records)  # fmt: skip

    line.paths.queue_db.rmdir()  # the station engineer fixes the instance, and the service runs
    add_openhtf_entry(line)
    line.start()
    line.wait_done(1)
    wait_until(lambda: not spooled_files(spool), what="the spooled record taken")
    assert len(server_reports(fresh_emulator, "PCB-0002")) == 1
    # The queue works again: the same record now finds the report the spool file made (one id both ways).
    assert output(the_record) == "unchanged"
    assert stored_count(fresh_emulator) == 1


def test_no_instance_folder_spools_into_where_the_instance_will_watch(home: Path, stations, fresh_emulator) -> None:
    output = WATSOutput("later")
    the_record = object_record()
    assert output(the_record) == "spooled"
    paths = InstancePaths.of("later")
    assert not paths.queue_db.exists()  # the callback does not create a queue for an instance that has none
    (path,) = spooled_files(paths.watch_dir("openhtf"))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["outcome"] == "PASS" and data["phases"][0]["attachments"]["scope.png"]["data"] == (
        base64.b64encode(b"\x89PNG\r\n\x1a\n binary").decode())

    line = stations("later", fresh_emulator)  # the instance is set up afterwards, with an openhtf entry
    add_openhtf_entry(line)
    line.start()
    line.wait_done(1)
    (header,) = server_reports(fresh_emulator, "OBJ-0001")
    assert (header.part_number, header.location) == ("OBJ-PN", "Hall 3")


def test_a_record_that_makes_no_report_is_spooled_for_the_error_folder(home: Path, stations, caplog) -> None:
    line = stations("line1", None)
    broken = record()
    broken["dut_id"] = ""
    with caplog.at_level(logging.WARNING, logger="pywats_client.integrations"):
        assert WATSOutput("line1")(broken) == "spooled"
    assert "does not make a WATS report" in caplog.text and "dut_id" in caplog.text
    assert len(spooled_files(line.paths.watch_dir("openhtf"))) == 1
    assert queued(line.paths) == []


def test_the_callback_never_raises_into_the_test_run(home: Path, stations, caplog) -> None:
    line = stations("line1", None)
    line.paths.queue_db.mkdir(parents=True)
    blocked = home / "not-a-folder"
    blocked.write_text("a file where the spool folder should be")
    output = WATSOutput("line1", spool_dir=blocked)
    with caplog.at_level(logging.WARNING, logger="pywats_client.integrations"):
        assert output(record()) == "lost"
    assert any(rec.levelno == logging.ERROR and "could not be queued nor spooled" in rec.getMessage()
               for rec in caplog.records)  # fmt: skip

    class Unreadable:
        @property
        def phases(self) -> Any:
            raise RuntimeError("the record broke")

        def __getattr__(self, name: str) -> Any:
            raise RuntimeError("the record broke")

    assert WATSOutput("line1")(Unreadable()) == "lost"
    assert WATSOutput("line1")(None) == "lost"


def test_a_broken_configuration_spools(home: Path, stations) -> None:
    line = stations("line1", None)
    line.paths.config_file.write_text("{ not json", encoding="utf-8")
    assert WATSOutput("line1")(record()) == "spooled"
    assert len(spooled_files(line.paths.watch_dir("openhtf"))) == 1

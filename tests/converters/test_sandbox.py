"""The converter sandbox with real worker processes and user converter files written into tmp_path.

Every misbehaving converter here behaves on ordinary input, so each test also shows that the call after the
failure works again (on a fresh worker where the old one had to go).
"""

from __future__ import annotations

import logging
import os
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from pywats.formats import wsjf
from pywats.synthetic import synthetic_report
from pywats_client.converters import (
    ConversionContext,
    ConversionError,
    ConverterArgumentError,
    ConverterCrashed,
    ConverterLoadError,
    SourceFile,
    SourceFolder,
    convert_source,
    load_converter_class,
)
from pywats_client.converters.builtin.wats_formats import WSJFConverter
from pywats_client.converters.sandbox import SandboxedConverter, make_converter
from pywats import Station

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "service"))

CONTEXT = ConversionContext(station=Station("SANDBOX-STATION", "Lab", "Development"))
POSIX = os.name == "posix"

HEADER = '''
import os, sys, time, logging
from pydantic import Field
from pywats.synthetic import synthetic_report
from pywats_client.converters import ConversionError, ConverterArguments, FileConverter, FolderConverter


def report_for(text):
    return synthetic_report(6, sn=text, pn="SANDBOX-PN")
'''

GOOD = '''
class Good(FileConverter):
    name = "sandbox-good"
    version = "1.4"
    description = "a well-behaved test converter"
    patterns = ("*.txt", "*.sn")

    class Arguments(ConverterArguments):
        copies: int = Field(1, ge=1, description="reports per file")

    def validate(self, source):
        return 0.8 if source.data.startswith(b"SN") else 0.0

    def convert(self, source, context):
        sn = source.text().strip()
        context.log.info("converting %s", sn)
        logging.getLogger("my.module").warning("a warning from %s", sn)
        return [report_for(f"{sn}-{index}") for index in range(self.arguments.copies)]
'''


def write_converter(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return path


def source(text: str, name: str | None = None) -> SourceFile:
    return SourceFile(Path(name or f"{text[:20]}.txt"), text.encode())


def sandboxed(path: Path, cls: str, arguments: dict | None = None, **options) -> SandboxedConverter:
    options.setdefault("timeout_s", 10)
    options.setdefault("memory_mb", 512)
    return SandboxedConverter(f"{path}::{cls}", arguments, **options)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except OSError:
        return True


def wait_dead(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def converters():
    made: list[SandboxedConverter] = []

    def keep(converter: SandboxedConverter) -> SandboxedConverter:
        made.append(converter)
        return converter

    yield keep
    for converter in made:
        converter.close()


# -- a good converter --------------------------------------------------------------------------------------------


def test_a_good_converter_gives_the_same_reports_as_in_process(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "good", GOOD)
    plain = load_converter_class(f"{path}::Good")({"copies": 2})
    boxed = converters(sandboxed(path, "Good", {"copies": 2}))
    for text in ("SN-A", "SN-B"):
        expected = convert_source(plain, source(text), CONTEXT)
        got = convert_source(boxed, source(text), CONTEXT)
        assert [wsjf.dumps(report) for report in got.reports] == [wsjf.dumps(report) for report in expected.reports]
        assert [report.sn for report in got.reports] == [f"{text}-0", f"{text}-1"]
        assert got.reports[0].id == expected.reports[0].id  # ids from the converter's name and version, as in process


def test_metadata_and_arguments_come_from_the_worker(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "good", GOOD)
    plain_class = load_converter_class(f"{path}::Good")
    boxed = converters(sandboxed(path, "Good", {"copies": 3}))
    assert (boxed.name, boxed.version, boxed.kind, boxed.source_ids) == ("sandbox-good", "1.4", "file", False)
    assert boxed.patterns == ("*.txt", "*.sn")
    assert boxed.description == "a well-behaved test converter"
    assert boxed.argument_schema() == plain_class.argument_schema()
    assert boxed.arguments.model_dump() == {"copies": 3}
    assert boxed.matches("X.SN") and not boxed.matches("x.json")
    assert boxed.validate(source("SN-1")) == pytest.approx(0.8)
    assert boxed.validate(source("nothing")) == 0.0
    assert len(boxed.worker_pids) == 1


def test_the_converters_log_records_reach_the_calls_logger(tmp_path: Path, converters, caplog) -> None:
    path = write_converter(tmp_path, "good", GOOD)
    boxed = converters(sandboxed(path, "Good"))
    with caplog.at_level(logging.INFO):
        convert_source(boxed, source("SN-LOG"), CONTEXT)
    messages = [(record.name, record.levelno, record.getMessage()) for record in caplog.records]
    assert ("pywats_client.converters", logging.INFO, "[converter sandbox-good 1.4] converting SN-LOG") in messages
    assert any(level == logging.WARNING and "my.module" in text and "a warning from SN-LOG" in text
               for _, level, text in messages)  # fmt: skip


def test_the_worker_is_reused_across_calls(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "good", GOOD)
    boxed = converters(sandboxed(path, "Good"))
    (pid,) = boxed.worker_pids
    started = time.perf_counter()
    for index in range(10):
        convert_source(boxed, source(f"SN-{index}"), CONTEXT)
    assert boxed.worker_pids == [pid]
    assert time.perf_counter() - started < 5  # no interpreter start per call


def test_load_errors_are_converter_load_errors_with_the_workers_message(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("import nothing_of_that_name\n", encoding="utf-8")
    with pytest.raises(ConverterLoadError) as in_process:
        load_converter_class(f"{broken}::Broken")
    with pytest.raises(ConverterLoadError) as boxed:
        SandboxedConverter(f"{broken}::Broken", timeout_s=10)
    assert str(boxed.value) == str(in_process.value)
    assert "nothing_of_that_name" in str(boxed.value)

    path = write_converter(tmp_path, "good", GOOD)
    with pytest.raises(ConverterLoadError, match="has no 'Missing'"):
        SandboxedConverter(f"{path}::Missing", timeout_s=10)
    with pytest.raises(ConverterLoadError, match="does not exist"):
        SandboxedConverter(f"{tmp_path / 'absent.py'}::Absent", timeout_s=10)
    with pytest.raises(ConverterArgumentError, match="copies"):
        SandboxedConverter(f"{path}::Good", {"copies": 0}, timeout_s=10)
    with pytest.raises(ConverterArgumentError, match="colour"):
        SandboxedConverter(f"{path}::Good", {"colour": "red"}, timeout_s=10)


def test_a_relative_file_is_found_from_base_dir(tmp_path: Path, converters) -> None:
    write_converter(tmp_path, "good", GOOD)
    boxed = converters(SandboxedConverter("good.py::Good", base_dir=tmp_path, timeout_s=10))
    assert boxed.name == "sandbox-good"


# -- converters that fail --------------------------------------------------------------------------------------


def test_a_conversion_error_comes_back_the_same(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "refuses", '''
        class Refuses(FileConverter):
            name = "refuses"
            def convert(self, source, context):
                if source.data == b"element":
                    raise ConversionError("bad element", element="/a/b[2]")
                raise ConversionError("no serial number in the header", line=3, field="sn")
    ''')
    plain = load_converter_class(f"{path}::Refuses")()
    boxed = converters(sandboxed(path, "Refuses"))
    for text in ("header", "element"):
        with pytest.raises(ConversionError) as expected:
            convert_source(plain, source(text), CONTEXT)
        with pytest.raises(ConversionError) as got:
            convert_source(boxed, source(text), CONTEXT)
        assert type(got.value) is ConversionError
        assert str(got.value) == str(expected.value)
        assert (got.value.reason, got.value.line, got.value.element, got.value.field) == (
            expected.value.reason, expected.value.line, expected.value.element, expected.value.field)
    assert str(got.value) == "/a/b[2]: bad element"
    assert len(boxed.worker_pids) == 1  # a refused file is no reason to replace the worker


def test_a_converter_that_kills_its_process(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "dies", '''
        class Dies(FileConverter):
            name = "dies"
            def convert(self, source, context):
                if source.data == b"die":
                    print("writing the last words", file=sys.stderr)
                    print("and some on stdout")
                    os._exit(3)
                return [report_for(source.text())]
    ''')
    boxed = converters(sandboxed(path, "Dies"))
    (pid,) = boxed.worker_pids
    with pytest.raises(ConverterCrashed) as crash:
        convert_source(boxed, source("die"), CONTEXT)
    message = str(crash.value)
    assert "converter dies 1.0 crashed while converting die.txt" in message
    assert "exited with code 3" in message
    assert "writing the last words" in message and "and some on stdout" in message
    assert not pid_alive(pid)
    assert convert_source(boxed, source("SN-AFTER"), CONTEXT).reports[0].sn == "SN-AFTER"
    assert boxed.worker_pids and boxed.worker_pids != [pid]


@pytest.mark.skipif(not POSIX, reason="signals")
def test_a_converter_killed_by_a_signal(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "segv", '''
        import signal
        class Segv(FileConverter):
            name = "segv"
            def convert(self, source, context):
                if source.data == b"segv":
                    os.kill(os.getpid(), signal.SIGSEGV)
                return [report_for(source.text())]
    ''')
    boxed = converters(sandboxed(path, "Segv"))
    with pytest.raises(ConverterCrashed, match="killed by SIGSEGV"):
        convert_source(boxed, source("segv"), CONTEXT)
    assert convert_source(boxed, source("SN-OK"), CONTEXT).reports[0].sn == "SN-OK"


def test_a_converter_that_hangs_is_stopped_at_the_limit(tmp_path: Path, converters) -> None:
    marker = tmp_path / "helper.pid"
    path = write_converter(tmp_path, "hangs", f'''
        import subprocess
        class Hangs(FileConverter):
            name = "hangs"
            def convert(self, source, context):
                if source.data == b"hang":
                    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
                    open({str(marker)!r}, "w").write(str(helper.pid))
                    time.sleep(3600)
                return [report_for(source.text())]
    ''')
    boxed = converters(sandboxed(path, "Hangs", timeout_s=1.5))
    (pid,) = boxed.worker_pids
    started = time.monotonic()
    with pytest.raises(ConverterCrashed) as timeout:
        convert_source(boxed, source("hang"), CONTEXT)
    elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 4
    assert "converter hangs 1.0 timed out after 1.5 s converting hang.txt and was stopped" in str(timeout.value)
    assert wait_dead(pid)
    if POSIX:  # the worker's process group goes with it: nothing it started lives on
        assert wait_dead(int(marker.read_text()))
    assert convert_source(boxed, source("SN-NEXT"), CONTEXT).reports[0].sn == "SN-NEXT"


@pytest.mark.skipif(not POSIX, reason="the memory limit is enforced on POSIX only (RLIMIT_AS)")
def test_a_converter_that_eats_memory_hits_the_limit(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "leaks", '''
        kept = []
        class Leaks(FileConverter):
            name = "leaks"
            def convert(self, source, context):
                if source.data == b"leak":
                    while True:
                        kept.append(bytearray(16 * 1024 * 1024))
                return [report_for(source.text())]
    ''')
    boxed = converters(sandboxed(path, "Leaks", memory_mb=400, timeout_s=20))
    (pid,) = boxed.worker_pids
    with pytest.raises(ConverterCrashed) as crash:
        convert_source(boxed, source("leak"), CONTEXT)
    message = str(crash.value)
    assert "ran out of memory (the sandbox's limit is 400 MB)" in message or "killed" in message, message
    assert wait_dead(pid)
    assert convert_source(boxed, source("SN-FINE"), CONTEXT).reports[0].sn == "SN-FINE"


def test_a_converter_that_prints_junk_to_stdout_still_works(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "chatty", '''
        class Chatty(FileConverter):
            name = "chatty"
            def convert(self, source, context):
                print("hello from the converter")
                sys.stdout.write("PWSB looks like a frame\\n")
                sys.stdout.buffer.write(b"\\x00\\xff\\xfe binary junk \\x89PNG\\r\\n")
                sys.stdout.flush()
                os.write(1, b"straight to fd 1\\n")
                sys.__stdout__.write("and to the original stdout object\\n")
                return [report_for(source.text())]
    ''')
    plain = load_converter_class(f"{path}::Chatty")()
    boxed = converters(sandboxed(path, "Chatty"))
    for text in ("SN-P1", "SN-P2"):
        got = convert_source(boxed, source(text), CONTEXT)
        assert [wsjf.dumps(r) for r in got.reports] == [wsjf.dumps(r) for r in convert_source(plain, source(text),
                                                                                              CONTEXT).reports]
    assert len(boxed.worker_pids) == 1


def test_garbage_on_the_channel_itself_is_detected(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "forger", '''
        class Forger(FileConverter):
            name = "forger"
            def convert(self, source, context):
                import __main__
                channel = __main__._channel  # found by a converter that goes looking for it
                if source.data == b"junk":
                    channel.writer.write(b"\\x00\\x01 this is no frame at all")
                    channel.writer.flush()
                    time.sleep(30)
                if source.data == b"json":
                    body = b"{not json"
                    channel.writer.write(b"PWSBJ" + len(body).to_bytes(8, "big") + body)
                    channel.writer.flush()
                    time.sleep(30)
                if source.data == b"huge":
                    channel.writer.write(b"PWSBB" + (1 << 40).to_bytes(8, "big"))
                    channel.writer.flush()
                    time.sleep(30)
                return [report_for(source.text())]
    ''')
    boxed = converters(sandboxed(path, "Forger"))
    for text, detail in (("junk", "not a frame"), ("json", "not JSON"), ("huge", "produced more than")):
        started = time.monotonic()
        with pytest.raises(ConverterCrashed) as garbage:
            convert_source(boxed, source(text), CONTEXT)
        assert time.monotonic() - started < 5  # detected at once, not at the time limit
        assert detail in str(garbage.value)
        if text != "huge":
            assert "converter forger 1.0 wrote garbage on the sandbox channel while converting" in str(garbage.value)
        assert convert_source(boxed, source("SN-CLEAN"), CONTEXT).reports[0].sn == "SN-CLEAN"


def test_a_converter_that_returns_garbage_objects(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "objects", '''
        from pywats.models import UUTReport
        class Objects(FileConverter):
            name = "objects"
            def convert(self, source, context):
                what = source.data
                if what == b"numbers":
                    return [report_for("SN-X"), 42]
                if what == b"none":
                    return None
                if what == b"text":
                    return "a report, honestly"
                if what == b"dict":
                    return [{"pn": "PN", "sn": "SN"}]
                if what == b"unbuilt":
                    return [UUTReport.model_construct(pn=object(), sn=None)]
                if what == b"generator":
                    return (report_for(f"SN-G{index}") for index in range(3))
                return [report_for(source.text())]
    ''')
    boxed = converters(sandboxed(path, "Objects"))
    expected = {
        "numbers": "converter objects 1.0 returned int as report 1, not a UUT or UUR report",
        "none": "converter objects 1.0 returned NoneType, not a list of reports",
        "text": "converter objects 1.0 returned str, not a list of reports",
        "dict": "converter objects 1.0 returned dict as report 0, not a UUT or UUR report",
        "unbuilt": "converter objects 1.0 made an invalid report 0",
    }
    for text, message in expected.items():
        with pytest.raises(ConverterCrashed) as garbage:
            convert_source(boxed, source(text), CONTEXT)
        assert str(garbage.value).startswith(message), str(garbage.value)
    assert [r.sn for r in convert_source(boxed, source("generator"), CONTEXT).reports] == ["SN-G0", "SN-G1", "SN-G2"]
    assert convert_source(boxed, source("SN-OK"), CONTEXT).reports[0].sn == "SN-OK"


def test_a_converter_bug_is_reported_with_where_and_the_worker_replaced(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "buggy", '''
        class Buggy(FileConverter):
            name = "buggy"
            def convert(self, source, context):
                if source.data == b"bug":
                    return {}["missing"]
                if source.data == b"exit":
                    sys.exit(0)
                return [report_for(source.text())]
    ''')
    boxed = converters(sandboxed(path, "Buggy"))
    (pid,) = boxed.worker_pids
    bug = r"converter buggy 1\.0 failed: KeyError: 'missing' \(at buggy\.py:\d+\)"
    with pytest.raises(ConverterCrashed, match=bug):
        convert_source(boxed, source("bug"), CONTEXT)
    assert wait_dead(pid)
    with pytest.raises(ConverterCrashed, match="failed: SystemExit"):
        convert_source(boxed, source("exit"), CONTEXT)
    assert convert_source(boxed, source("SN-OK"), CONTEXT).reports[0].sn == "SN-OK"


def test_output_beyond_the_cap_is_refused(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "big", '''
        class Big(FileConverter):
            name = "big"
            def convert(self, source, context):
                steps = 2000 if source.data == b"big" else 5
                return [synthetic_report(steps, sn="SN-BIG")]
    ''')
    boxed = converters(sandboxed(path, "Big", max_output_mb=0.1))
    with pytest.raises(ConverterCrashed, match=r"produced more than 0\.1 MB while converting big\.txt"):
        convert_source(boxed, source("big"), CONTEXT)
    assert convert_source(boxed, source("small"), CONTEXT).reports[0].sn == "SN-BIG"


# -- sources, threads, lifecycle --------------------------------------------------------------------------------


def test_a_folder_converter_gets_its_files_and_sidecars(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "folder", '''
        class Folder(FolderConverter):
            name = "folder-test"
            patterns = ("run-*",)

            def is_ready(self, folder):
                return (folder / "END").exists()

            def convert(self, source, context):
                names = "+".join(sorted(source.files))
                header = source.sidecars[source.name + ".txt"].decode()
                return [report_for(f"{header}:{names}:{len(source.files['sub/data.bin'])}")]
    ''')
    boxed = converters(sandboxed(path, "Folder"))
    assert boxed.kind == "folder"
    run = tmp_path / "run-1"
    (run / "sub").mkdir(parents=True)
    (run / "a.txt").write_text("a")
    (run / "sub" / "data.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "run-1.txt").write_text("HDR")
    assert boxed.is_ready(run) is False
    (run / "END").write_text("")
    assert boxed.is_ready(run) is True
    folder = SourceFolder.read(run)
    (report,) = convert_source(boxed, folder, CONTEXT).reports
    assert report.sn == "HDR:END+a.txt+sub/data.bin:1024"


def test_concurrent_calls_each_get_a_worker(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "slow", '''
        class Slow(FileConverter):
            name = "slow"
            def convert(self, source, context):
                time.sleep(0.3)
                return [report_for(source.text())]
    ''')
    boxed = converters(sandboxed(path, "Slow", idle_workers=2))
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            for index in range(3):
                sn = f"SN-T{thread}-{index}"
                results[sn] = convert_source(boxed, source(sn), CONTEXT).reports[0].sn
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert results == {sn: sn for sn in results} and len(results) == 12
    pids = boxed.worker_pids
    assert 1 <= len(pids) <= 2  # the others were stopped when given back
    boxed.close()
    assert all(wait_dead(pid) for pid in pids)
    with pytest.raises(ConverterCrashed, match="closed"):
        boxed.convert(source("SN-LATE"), CONTEXT)


def test_a_timeout_in_one_thread_does_not_hold_up_another(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "mixed", '''
        class Mixed(FileConverter):
            name = "mixed"
            def convert(self, source, context):
                if source.data == b"hang":
                    time.sleep(3600)
                return [report_for(source.text())]
    ''')
    boxed = converters(sandboxed(path, "Mixed", timeout_s=6))
    outcome: list[BaseException] = []
    hanging = threading.Thread(target=lambda: outcome.append(pytest.raises(ConverterCrashed, convert_source,
                                                                           boxed, source("hang"), CONTEXT).value))
    hanging.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert convert_source(boxed, source("SN-MEANWHILE"), CONTEXT).reports[0].sn == "SN-MEANWHILE"
    assert time.monotonic() - started < 5  # its own worker: not after the other call's time limit
    hanging.join(15)
    assert "timed out" in str(outcome[0])


def test_context_station_and_time_zone_reach_the_worker(tmp_path: Path, converters) -> None:
    from datetime import timedelta, timezone
    from zoneinfo import ZoneInfo

    path = write_converter(tmp_path, "context", '''
        from datetime import datetime
        class Context(FileConverter):
            name = "context"
            def convert(self, source, context):
                local = context.localize(datetime(2024, 1, 15, 12, 0))
                return [report_for(f"{context.station.name}|{context.station.location}|{local.isoformat()}")]
    ''')
    boxed = converters(sandboxed(path, "Context"))
    for zone, offset in ((ZoneInfo("Europe/Oslo"), "+01:00"), (timezone(timedelta(hours=-5)), "-05:00")):
        context = ConversionContext(station=Station("ST-1", "Hall B", "Test"), timezone=zone)
        (report,) = boxed.convert(source("x"), context)
        assert report.sn == f"ST-1|Hall B|2024-01-15T12:00:00{offset}"


def test_a_scheduled_converter_runs_in_the_sandbox(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "scheduled", '''
        from pywats_client.converters import ScheduledConverter
        class Poller(ScheduledConverter):
            name = "poller"
            interval_s = 15.0
            def run(self, context):
                return [report_for(f"SN-POLL-{context.station.name}")]
    ''')
    boxed = converters(sandboxed(path, "Poller"))
    assert (boxed.kind, boxed.interval_s) == ("scheduled", 15.0)
    (report,) = boxed.run(CONTEXT)
    assert report.sn == "SN-POLL-SANDBOX-STATION"


def test_the_worker_does_not_get_the_services_settings(tmp_path: Path, converters, monkeypatch) -> None:
    monkeypatch.setenv("PYWATS_API_TOKEN", "not-for-converters")
    monkeypatch.setenv("SOME_TESTER_SETTING", "kept")
    path = write_converter(tmp_path, "nosy", '''
        class Nosy(FileConverter):
            name = "nosy"
            def convert(self, source, context):
                return [report_for(f"{os.environ.get('PYWATS_API_TOKEN')}-{os.environ.get('SOME_TESTER_SETTING')}")]
    ''')
    boxed = converters(sandboxed(path, "Nosy"))
    assert boxed.convert(source("x"), CONTEXT)[0].sn == "None-kept"


def test_make_converter_sandboxes_files_by_default(tmp_path: Path, converters) -> None:
    path = write_converter(tmp_path, "good", GOOD)
    plain = make_converter(f"{path}::Good", {}, base_dir=tmp_path, sandbox=False, timeout_s=5)
    assert type(plain).__name__ == "Good" and not isinstance(plain, SandboxedConverter)
    boxed = converters(make_converter("good.py::Good", {"copies": 2}, base_dir=tmp_path, sandbox=None, timeout_s=5,
                                      memory_mb=300))  # fmt: skip
    assert isinstance(boxed, SandboxedConverter)
    assert (boxed.timeout_s, boxed.memory_mb, boxed.arguments.model_dump()) == (5, 300, {"copies": 2})
    builtin = make_converter("wsjf", {}, base_dir=tmp_path, sandbox=None, timeout_s=5)
    assert type(builtin) is WSJFConverter
    boxed_builtin = converters(make_converter("wsjf", {}, base_dir=tmp_path, sandbox=True, timeout_s=5))
    assert isinstance(boxed_builtin, SandboxedConverter) and boxed_builtin.source_ids is True
    report = synthetic_report(8, sn="SN-WSJF")
    (back,) = convert_source(boxed_builtin, SourceFile(Path("r.json"), wsjf.dumps(report).encode()), CONTEXT).reports
    assert back.id == report.id and back.sn == "SN-WSJF"
    with pytest.raises(ConverterLoadError):
        make_converter("no-such-converter", {}, base_dir=tmp_path, sandbox=True, timeout_s=5)


def test_garbage_collection_stops_the_worker(tmp_path: Path) -> None:
    import gc

    path = write_converter(tmp_path, "good", GOOD)
    boxed = sandboxed(path, "Good")
    (pid,) = boxed.worker_pids
    del boxed
    gc.collect()
    assert wait_dead(pid)


# -- the service -------------------------------------------------------------------------------------------------


BAD_FOR_THE_SERVICE = '''
class Bad(FileConverter):
    name = "bad"
    patterns = ("*.txt",)

    def convert(self, source, context):
        text = source.text().strip()
        if text == "crash":
            print("bad converter going down", file=sys.stderr)
            os._exit(3)
        if text == "hang":
            time.sleep(3600)
        if text == "refuse":
            raise ConversionError("refused on purpose", line=1)
        print("noise on stdout", text)
        return [report_for(text)]
'''


def test_the_service_survives_a_sandboxed_converter_that_crashes_and_hangs(tmp_path, monkeypatch,
                                                                           fresh_emulator) -> None:  # fmt: skip
    from station_support import Station as StationUnderTest
    from station_support import server_reports, wait_until

    monkeypatch.setenv("PYWATS_HOME", str(tmp_path))
    path = write_converter(tmp_path, "bad", BAD_FOR_THE_SERVICE)
    line = StationUnderTest(tmp_path, "sandboxed", fresh_emulator, converter=f"{path}::Bad")
    entry = line.file_config()["converters"][0]
    line.edit_config(converters=[{**entry, "sandbox": True, "timeout_s": 3}], conversion_concurrency=2)
    line.start()
    try:
        line.drop("crash.txt", "crash")
        line.drop("hang.txt", "hang")
        line.drop("refuse.txt", "refuse")
        line.drop("good-1.txt", "SN-SANDBOX-1")
        line.wait_done(1)
        line.drop("good-2.txt", "SN-SANDBOX-2")
        line.wait_done(2)
        reasons = wait_until(lambda: (found := {path.name: path.read_text() for path in line.error.glob("*.error.txt")})
                             and len(found) == 3 and found, what="three files in the error folder")  # fmt: skip
        assert "exited with code 3" in reasons["crash.txt.error.txt"]
        assert "bad converter going down" in reasons["crash.txt.error.txt"]
        assert "timed out" in reasons["hang.txt.error.txt"] or "took longer" in reasons["hang.txt.error.txt"]
        assert "line 1: refused on purpose" in reasons["refuse.txt.error.txt"]
        for sn in ("SN-SANDBOX-1", "SN-SANDBOX-2"):
            assert len(server_reports(fresh_emulator, sn)) == 1
        assert line.status()["state"] == "RUNNING"
    finally:
        line.stop()

"""The ``xjtag`` converter on the project's own XJTAG fixtures (.xjlog archives and a lone run XML)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from converter_support import FIXTURES, convert, find_step

from pywats.formats import wsjf
from pywats_client.converters import ConversionContext, ConversionError, SourceFile
from pywats_client.converters.builtin.xjtag import XjtagConverter

XJTAG = FIXTURES / "xjtag"
UTC = ConversionContext(timezone=timezone.utc)


def _convert(name: str, context: ConversionContext = UTC, **arguments):
    return XjtagConverter(arguments).convert(SourceFile.read(XJTAG / name), context)


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> SourceFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return SourceFile(Path("x.xjlog"), buffer.getvalue())


def _members(name: str) -> dict[str, bytes]:
    with zipfile.ZipFile(XJTAG / name) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


# -- an older (XJTAG 3.7-like) log: times and skipped functions only in the summary snippets --------------


def test_header_of_an_older_log() -> None:
    (report,) = _convert("synthetic_pass.xjlog")
    assert report.sn == "SYN-0042"
    assert report.pn == "Synthetic JTAG board"
    assert report.rev == ""
    assert report.process_code == 60
    assert report.start == datetime(2021, 9, 14, 7, 41, 5, 123456, tzinfo=timezone.utc)
    assert report.result.value == "P"
    assert report.uut.user == "tester1"
    assert report.uut.exec_time == pytest.approx(0.637)  # the summary times, decimal commas and all
    misc = {info.description: info.text for info in report.misc_infos}
    assert misc["Project"] == r"C:\Users\Public\Documents\XJTAG 3.7\SynBoard\synboard.xjp"
    assert misc["XJLink serial"] == "7771"
    assert misc["Run"] == "Run 1.xml"


def test_groups_functions_and_summary_merge() -> None:
    (report,) = _convert("synthetic_pass.xjlog")
    assert [step.name for step in report.root.steps] == ["Check Chain", "Connection Test", "Memory Tests"]
    chain = find_step(report, "Check Chain", "CheckChain")
    assert chain.step_type == "ET_PFT"
    assert chain.status.value == "P" and chain.boolean_meas[0].status.value == "P"
    assert chain.tot_time == 0.031
    assert chain.report_text == "Checking the integrity of the JTAG chain.\nCheckChain passed"
    memory = find_step(report, "Memory Tests")
    assert [step.name for step in memory.steps] == ["U12.Test", "U12.TestDestructive"]
    assert memory.steps[0].report_text.startswith("Testing SRAM Device U12...")  # inline component name kept
    assert memory.steps[1].status.value == "S"  # listed as skipped in the summary only


def test_connection_test_output_can_be_attached() -> None:
    (report,) = _convert("synthetic_pass.xjlog", attach_conntest_output=True)
    attachment = find_step(report, "Connection Test", "CONNTEST full output")
    assert attachment.step_type == "WATS_AttachFile"
    assert attachment.attachment.content_type == "text/csv"
    (plain,) = _convert("synthetic_pass.xjlog")
    assert [step.name for step in find_step(plain, "Connection Test").steps] == ["CONNTEST"]
    (quiet,) = _convert("synthetic_pass.xjlog", include_output=False)
    assert find_step(quiet, "Check Chain", "CheckChain").report_text is None


# -- a newer (3.10-like) log with two runs: a failure and its retest -------------------------------------


def test_one_report_per_run() -> None:
    failed, passed = _convert("synthetic_retest_fail.xjlog")
    assert failed.sn == passed.sn == "SYN-0107"
    assert (failed.result.value, passed.result.value) == ("F", "P")
    assert failed.start == datetime(2022, 2, 1, 9, 10, 11, 500000, tzinfo=timezone.utc)
    assert passed.start == datetime(2022, 2, 1, 9, 14, 40, 250000, tzinfo=timezone.utc)
    assert failed.uut.exec_time == pytest.approx(3.801)  # testruninfo/time-taken in ms
    assert failed.uut.user == "op_anna"
    misc = {info.description: info.text for info in failed.misc_infos}
    assert (misc["XJLink name"], misc["XJTAG version"], misc["Run"]) == ("Line 3", "3.10.0.0", "Run 1.xml")
    assert {info.text for info in passed.misc_infos if info.description == "Run"} == {"Run 2.xml"}


def test_failed_and_skipped_functions() -> None:
    failed, _ = _convert("synthetic_retest_fail.xjlog")
    memory = find_step(failed, "DDR", "U5.Test")
    assert memory.status.value == "F" and memory.boolean_meas[0].status.value == "F"
    assert memory.tot_time == 2.21
    assert "D3 stuck at 0" in memory.report_text
    assert find_step(failed, "DDR").status.value == "F"
    skipped = find_step(failed, "Flash", "U7.TestNonDestructive")
    assert skipped.status.value == "S"
    assert find_step(failed, "Flash").status.value == "P"


def test_start_is_shown_in_the_station_time_zone() -> None:
    (report,) = _convert("synthetic_pass.xjlog", ConversionContext(timezone=timezone(timedelta(hours=2))))
    assert report.start.utcoffset() == timedelta(hours=2)
    assert report.start == datetime(2021, 9, 14, 7, 41, 5, 123456, tzinfo=timezone.utc)


def test_a_lone_run_xml_converts() -> None:
    (report,) = _convert("single_run_export.xml")
    assert (report.sn, report.result.value) == ("SYN-0200", "P")


def test_part_number_and_revision_arguments() -> None:
    (report,) = _convert("synthetic_pass.xjlog", part_number="PCB-9", revision="C", process_code=70)
    assert (report.pn, report.rev, report.process_code) == ("PCB-9", "C", 70)


# -- validate ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(path.name for path in XJTAG.iterdir()))
def test_validate_recognises_the_fixtures(name: str) -> None:
    assert XjtagConverter().validate(SourceFile.read(XJTAG / name)) >= 0.8


@pytest.mark.parametrize("path", [
    FIXTURES / "takaya" / "apt94xx_pass.atd",
    FIXTURES / "soundcheck" / "us_two_duts.txt",
])  # fmt: skip
def test_validate_refuses_other_formats(path: Path) -> None:
    assert XjtagConverter().validate(SourceFile.read(path)) <= 0.2


def test_validate_refuses_other_zips_and_xml() -> None:
    assert XjtagConverter().validate(_zip({"readme.txt": b"hello"})) == 0.0
    assert XjtagConverter().validate(SourceFile(Path("x.xml"), b"<Reports><Report/></Reports>")) == 0.0
    assert XjtagConverter().validate(SourceFile(Path("x.xjlog"), b"PK\x03\x04broken")) == 0.0


# -- errors ------------------------------------------------------------------------------------------------


def test_broken_zip_is_a_conversion_error() -> None:
    data = (XJTAG / "synthetic_pass.xjlog").read_bytes()
    with pytest.raises(ConversionError, match="not a readable XJTAG archive"):
        XjtagConverter().convert(SourceFile(Path("x.xjlog"), data[: len(data) // 2]), UTC)


def test_zip_bomb_is_refused_before_unpacking() -> None:
    members = _members("synthetic_pass.xjlog")
    members["Run 2.xml"] = b"\0" * (2 * 1024 * 1024)  # compresses to a few kB
    with pytest.raises(ConversionError, match="more than the 1 MB allowed"):
        XjtagConverter({"max_uncompressed_mb": 1}).convert(_zip(members), UTC)


def test_too_many_members_are_refused() -> None:
    members = {f"file{index}": b"" for index in range(1001)}
    with pytest.raises(ConversionError, match="more than 1000 members"):
        XjtagConverter().convert(_zip(members, zipfile.ZIP_STORED), UTC)


def test_run_without_serial_number_is_refused() -> None:
    members = _members("synthetic_retest_fail.xjlog")
    run = members["Run 1.xml"].replace(b"<serial>SYN-0107</serial>", b"<serial />")
    members["Run 1.xml"] = run.replace(b"Serial number set to SYN-0107", b"Serial number was not set")
    with pytest.raises(ConversionError, match="no serial number") as caught:
        XjtagConverter().convert(_zip(members), UTC)
    assert "Run 1.xml" in str(caught.value)


def test_serial_number_from_the_runner_message_when_testruninfo_has_none() -> None:
    members = _members("synthetic_pass.xjlog")
    members["Run 1.xml"] = members["Run 1.xml"].replace(b"<serial>SYN-0042</serial>", b"")
    (report,) = XjtagConverter().convert(_zip(members), UTC)
    assert report.sn == "SYN-0042"


def test_malformed_run_xml_and_entities_are_refused() -> None:
    members = _members("synthetic_pass.xjlog")
    members["Run 1.xml"] = members["Run 1.xml"][:500]
    with pytest.raises(ConversionError, match="not well-formed XML"):
        XjtagConverter().convert(_zip(members), UTC)
    members["Run 1.xml"] = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><testrun datetime="x"/>'
    with pytest.raises(ConversionError, match="document type declarations"):
        XjtagConverter().convert(_zip(members), UTC)


def test_archive_without_runs_and_bad_datetime_are_refused() -> None:
    with pytest.raises(ConversionError, match="no test run"):
        XjtagConverter().convert(_zip({"Info.xml": _members("synthetic_pass.xjlog")["Info.xml"]}), UTC)
    members = _members("synthetic_pass.xjlog")
    members["Run 1.xml"] = members["Run 1.xml"].replace(b'datetime="2021-09-14T', b'datetime="yesterday ')
    with pytest.raises(ConversionError, match="not an ISO date"):
        XjtagConverter().convert(_zip(members), UTC)


# -- the service path and the emulator ---------------------------------------------------------------------


def test_fixtures_through_the_service_path_are_accepted_by_the_emulator(emulator) -> None:
    reports = [report for path in sorted(XJTAG.iterdir()) for report in convert("xjtag", path)]
    reports += convert("xjtag", XJTAG / "synthetic_pass.xjlog", attach_conntest_output=True)
    assert len(reports) == 5
    with emulator.client(timeout=30) as client:
        for report in reports:
            answer = client.post("/api/Report/WSJF", content=wsjf.dumps(report),
                                 headers={"Content-Type": "application/json"})  # fmt: skip
            assert answer.status_code == 200, answer.text

"""The SigmaQuest UnitReport converter on the project's own fixtures (fixtures/sigmaquest/)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from converter_support import FIXTURES, convert, find_step, step_tree

from pywats_client.converters import ConversionContext, ConversionError, SourceFile, load_converter_class

HERE = FIXTURES / "sigmaquest"
UTC = ConversionContext(timezone=timezone.utc)
OTHER_XML = {
    "wsxf": b'<?xml version="1.0"?><Reports xmlns="http://wats.virinco.com/schemas/WATS/Report/wsxf">'
    b"<Report/></Reports>",
    "atml": b'<?xml version="1.0"?><tr:TestResults xmlns:tr="urn:IEEE-1636.1:2011:01:TestResults"></tr:TestResults>',
    "junit": b'<?xml version="1.0"?><testsuites><testsuite name="a"><testcase name="b"/></testsuite></testsuites>',
    "teststand": b'<?xml version="1.0"?><Reports><Report Type="UUT" Title="x"></Report></Reports>',
}


def _converter(**arguments):
    return load_converter_class("sigmaquest")(arguments)


def _convert_bytes(data: bytes, **arguments):
    return _converter(**arguments).convert(SourceFile(Path("unit.xml"), data), UTC)


def _meas(step, name: str):
    return next(m for m in step.numeric_meas if m.name == name)


def test_passing_unit_header() -> None:
    [report] = convert("sigmaquest", HERE / "unit_pass.xml")
    assert (report.sn, report.pn, report.rev, report.process_code) == ("PSU2024-0001", "PSU-200", "B", 100)
    assert report.start == datetime(2024, 3, 5, 9, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    assert report.result.value == "P"
    assert report.machine_name == "FT-LINE-3"
    assert report.uut.user == "anna"
    assert report.uut.exec_time == 745.0
    misc = {m.description: m.text for m in report.misc_infos}
    assert misc["Station GUID"] == "ST-0042"
    assert misc["Category"] == "Power/Supplies"
    assert misc["Factory order"] == "WO-7781"
    assert misc["Line"] == "3"
    [sub] = report.sub_units
    assert (sub.part_type, sub.sn, sub.pn, sub.rev) == ("Controller board", "CB-55501", "CTRL-9", "3")


def test_passing_unit_steps_and_measurements() -> None:
    [report] = convert("sigmaquest", HERE / "unit_pass.xml")
    assert report.root.name == "FINAL"
    assert step_tree(report.root) == [
        ("POWER UP", ["Rail voltages", "Inrush current", "Self check"]),
        ("IDENTIFICATION", [("Firmware", ["Version", "Checksum ok"])]),
    ]
    rails = find_step(report, "POWER UP", "Rail voltages")
    assert rails.step_type == "ET_MNLT" and rails.status.value == "P"
    rail = _meas(rails, "3V3 rail")
    assert (rail.value, rail.comp_op.value, rail.low_limit, rail.high_limit, rail.unit, rail.status.value) == (
        3.31, "GELE", 3.2, 3.4, "V", "P")  # fmt: skip
    ripple = _meas(rails, "Ripple")  # lsl 0 is SigmaQuest's "no limit": a single upper limit, kept in lowLimit
    assert (ripple.comp_op.value, ripple.low_limit, ripple.high_limit, ripple.unit) == ("LE", 50.0, None, "mV")
    assert rails.report_text == "Scope: //results/PSU2024-0001/rails.png"
    inrush = find_step(report, "POWER UP", "Inrush current")
    assert _meas(inrush, "Peak current").value == 9.0
    assert inrush.report_text == "setup Load: 10 ohm"
    assert inrush.tot_time == 25.0
    assert find_step(report, "POWER UP", "Self check").step_type == "ET_PFT"
    version = find_step(report, "IDENTIFICATION", "Firmware", "Version").string_meas[0]
    assert (version.value, version.limit, version.comp_op.value, version.status.value) == ("1.4.2", "1.4.2", "EQ", "P")


def test_failing_unit_keeps_the_grades() -> None:
    [report] = _convert_bytes((HERE / "unit_fail.xml").read_bytes())
    assert (report.sn, report.pn, report.rev) == ("SN900017", "ANL-10", "")
    assert report.start == datetime(2024, 3, 6, 14, 0, tzinfo=timezone.utc)  # naive times use the context's zone
    assert report.result.value == "F" and report.root.status.value == "F"
    assert report.machine_name == ""  # "<No Station>" is a placeholder: the service fills the station in
    assert "Factory order" not in {m.description for m in report.misc_infos}  # "None"
    vacuum = find_step(report, "PRE-TEST", "Vacuum")
    pressure = _meas(vacuum, "Pressure")
    assert (pressure.comp_op.value, pressure.low_limit, pressure.status.value) == ("LE", -2.5, "P")
    tic = _meas(vacuum, "Beam TIC")
    assert (tic.comp_op.value, tic.low_limit, tic.value) == ("GE", 2.0e11, 5.4e13)
    resolution = find_step(report, "TUNING", "Resolution")
    assert resolution.status.value == "F"
    assert resolution.error_message == "Fit: peak not found"
    assert _meas(resolution, "Peak 1 FWHH").status.value == "F"
    valley = _meas(resolution, "Valley Percent")
    assert valley.value is None and valley.status.value == "S"  # "null" in the file
    position = find_step(report, "TUNING", "Position")
    assert (position.step_type, position.status.value, position.report_text) == ("Action", "S", "grade: PENDING")
    energy = find_step(report, "TUNING", "Ion Energy")
    assert energy.status.value == "S" and _meas(energy, "High Mass Ion Energy").status.value == "P"


def test_arguments_change_limits_and_process() -> None:
    data = (HERE / "unit_fail.xml").read_bytes()
    [report] = _convert_bytes(data, zero_limit_is_none=False, operation_codes={"OP1": 110})
    assert report.process_code == 110
    pressure = _meas(find_step(report, "PRE-TEST", "Vacuum"), "Pressure")
    assert (pressure.comp_op.value, pressure.low_limit, pressure.high_limit, pressure.status.value) == (
        "GELE", 0.0, -2.5, "F")  # fmt: skip


def test_revision_and_part_number_fallbacks() -> None:
    data = (HERE / "unit_fail.xml").read_bytes().replace(b'part-no="ANL-10" ', b"")
    [report] = _convert_bytes(data, part_number="FALLBACK-PN", revision="R1")
    assert (report.pn, report.rev) == ("FALLBACK-PN", "R1")
    with pytest.raises(ConversionError, match="part number") as caught:
        _convert_bytes(data)
    assert caught.value.field == "part-no"


@pytest.mark.parametrize(
    ("old", "new", "message", "field"),
    [
        (b'serial-no="SN900017"', b'serial-no=""', "serial number", "serial-no"),
        (b'<Product part-no="ANL-10" serial-no="SN900017" factory-order="None"/>', b"", "serial number", None),
        (b">4.0000<", b">four<", "not a number", "value"),
        (b'lsl="0.4000"', b'lsl="x"', "not a number", "lsl"),
        (b'start-time="2024-03-06T14:10:00"', b'start-time="yesterday"', "ISO 8601", "start-time"),
    ],
)
def test_bad_content_is_a_conversion_error(old: bytes, new: bytes, message: str, field: str | None) -> None:
    data = (HERE / "unit_fail.xml").read_bytes()
    assert old in data
    with pytest.raises(ConversionError, match=message) as caught:
        _convert_bytes(data.replace(old, new, 1))
    assert caught.value.field == field


def test_unit_without_start_time_is_refused() -> None:
    data = re.sub(rb' start-time="[^"]*"', b"", (HERE / "unit_fail.xml").read_bytes())
    with pytest.raises(ConversionError, match="no start time") as caught:
        _convert_bytes(data)
    assert (caught.value.element, caught.value.field) == ("UnitReport", "start-time")


def test_broken_and_foreign_xml() -> None:
    data = (HERE / "unit_fail.xml").read_bytes()
    with pytest.raises(ConversionError, match="well-formed") as caught:
        _convert_bytes(data[: len(data) // 2])
    assert caught.value.line is not None
    with pytest.raises(ConversionError, match="root element is <testsuites>"):
        _convert_bytes(OTHER_XML["junit"])


def test_validate_scores() -> None:
    converter = _converter()
    for path in sorted(HERE.iterdir()):
        assert converter.validate(SourceFile.read(path)) >= 0.8, path.name
    others = [p for name in ("saki-aoi", "stepwize", "custom-xml") for p in sorted((FIXTURES / name).iterdir())]
    for path in others:
        assert converter.validate(SourceFile.read(path)) <= 0.2, path.name
    for name, data in OTHER_XML.items():
        assert converter.validate(SourceFile(Path("x.xml"), data)) <= 0.2, name
    assert converter.validate(SourceFile(Path("x.xml"), b"UnitReport <TestRun")) == 0.0

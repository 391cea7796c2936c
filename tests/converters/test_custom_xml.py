"""The custom XML (<TestReport>) converter on the project's own fixtures (fixtures/custom-xml/)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from converter_support import FIXTURES, convert, find_step, step_tree

from pywats_client.converters import ConversionContext, ConversionError, SourceFile, load_converter_class

HERE = FIXTURES / "custom-xml"
UTC = ConversionContext(timezone=timezone.utc)


def _converter(**arguments):
    return load_converter_class("custom-xml")(arguments)


def _convert_bytes(data: bytes, **arguments):
    return _converter(**arguments).convert(SourceFile(Path("report.xml"), data), UTC)


def test_passing_report() -> None:
    [report] = _convert_bytes((HERE / "report_pass.xml").read_bytes())
    assert (report.sn, report.pn, report.rev, report.process_code) == ("CX-1001", "AMP-20", "B", 50)
    assert report.start == datetime(2024, 6, 1, 8, 15, tzinfo=timezone.utc)
    assert report.result.value == "P"
    assert report.uut.user == "lena" and report.uut.exec_time == 12.25
    assert {m.description: m.text for m in report.misc_infos} == {"Fixture": "FX-7"}
    assert report.root.name == "MainSequence" and report.root.seq_call.version == "1.0"
    assert step_tree(report.root) == [
        ("Power", ["Supply", "Idle current", "Temperature"]),
        ("Audio", [("Left", ["Gain"]), "DSP firmware", "Mute works"]),
    ]
    supply = find_step(report.root, "Power", "Supply").numeric_meas[0]
    assert (supply.value, supply.comp_op.value, supply.low_limit, supply.high_limit) == (12.02, "GELE", 11.5, 12.5)
    assert (supply.unit, supply.status.value) == ("V", "P")
    idle = find_step(report.root, "Power", "Idle current").numeric_meas[0]  # only HighLim: LE, limit in lowLimit
    assert (idle.comp_op.value, idle.low_limit, idle.high_limit, idle.unit) == ("LE", 0.2, None, "A")
    assert find_step(report.root, "Power", "Temperature").numeric_meas[0].comp_op.value == "LOG"
    firmware = find_step(report.root, "Audio", "DSP firmware").string_meas[0]
    assert (firmware.value, firmware.limit, firmware.comp_op.value, firmware.status.value) == (
        "v3.4A", "V3.4a", "IGNORECASE", "P")  # fmt: skip
    mute = find_step(report.root, "Audio", "Mute works")
    assert (mute.step_type, mute.status.value) == ("ET_PFT", "P")


def test_failing_report() -> None:
    [report] = convert("custom-xml", HERE / "report_fail.xml", process_code=20)
    assert report.sn == "CX-1002"
    assert report.process_code == 20  # no OperationTypeCode: the argument
    assert report.result.value == "F"
    supply = find_step(report.root, "Power", "Supply")
    assert supply.status.value == "F" and supply.numeric_meas[0].value == 13.1
    standby = find_step(report.root, "Power", "Standby").numeric_meas[0]
    assert (standby.comp_op.value, standby.low_limit, standby.status.value) == ("GE", 0.1, "P")
    assert find_step(report.root, "Audio", "DSP firmware").status.value == "F"
    assert find_step(report.root, "Audio", "Mute works").status.value == "F"
    assert find_step(report.root, "Audio").status.value == "F"


def test_arguments() -> None:
    [report] = _convert_bytes((HERE / "report_pass.xml").read_bytes(), string_comparison="CASESENSIT",
                              sequence_name="Amplifier", sequence_version="2.1")  # fmt: skip
    assert report.root.name == "Amplifier" and report.root.seq_call.version == "2.1"
    assert find_step(report.root, "Audio", "DSP firmware").status.value == "F"


@pytest.mark.parametrize(
    ("old", "new", "message", "element"),
    [
        (b"<SerialNumber>CX-1002</SerialNumber>", b"", "serial number", "TestReport/Header/SerialNumber"),
        (b"<PartNumber>AMP-20</PartNumber>", b"<PartNumber/>", "part number", "TestReport/Header/PartNumber"),
        (b"2024-06-01 08:20:10", b"01.06.2024", "date and time", "TestReport/Header/StartDate"),
        (b"<StartDate>2024-06-01 08:20:10</StartDate>", b"", "no start date", "TestReport/Header/StartDate"),
        (b"<ExecutionTime>9.5</ExecutionTime>", b"<ExecutionTime>fast</ExecutionTime>", "not a number",
         "TestReport/Header/ExecutionTime"),
        (b'Measure="13.1"', b'Measure="13,1"', "not a number", "TestReport/Sequence[1]/NumericTest[1] 'Supply'"),
        (b'Measure="False"', b'Measure="maybe"', "not True or False",
         "TestReport/Sequence[2]/PassFailTest[1] 'Mute works'"),
    ],
)
def test_bad_content_is_a_conversion_error(old: bytes, new: bytes, message: str, element: str) -> None:
    data = (HERE / "report_fail.xml").read_bytes()
    assert old in data
    with pytest.raises(ConversionError, match=message) as caught:
        _convert_bytes(data.replace(old, new, 1))
    assert caught.value.element == element


def test_broken_and_foreign_xml() -> None:
    data = (HERE / "report_fail.xml").read_bytes()
    with pytest.raises(ConversionError, match="well-formed") as caught:
        _convert_bytes(data[:400])
    assert caught.value.line is not None
    with pytest.raises(ConversionError, match="no Header"):
        _convert_bytes(b"<TestReport><Sequence Name='x'/></TestReport>")
    with pytest.raises(ConversionError, match="root element is <Reports>"):
        _convert_bytes(b"<Reports/>")


def test_validate_scores() -> None:
    converter = _converter()
    for path in sorted(HERE.iterdir()):
        assert converter.validate(SourceFile.read(path)) >= 0.8, path.name
    for name in ("sigmaquest", "saki-aoi", "stepwize"):
        for path in sorted((FIXTURES / name).iterdir()):
            assert converter.validate(SourceFile.read(path)) <= 0.2, path.name
    teststand = b'<?xml version="1.0"?><Reports><Report Type="UUT"><TestReport/></Report></Reports>'
    assert converter.validate(SourceFile(Path("x.xml"), teststand)) == 0.0
    assert converter.validate(SourceFile(Path("x.xml"), b"<TestReport/>")) <= 0.3

"""The ``teststand-xml`` converter on the project's own TestStand XML report fixtures."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from converter_support import FIXTURES, convert

from pywats_client.converters import ConversionContext, ConversionError, SourceFile
from pywats_client.converters.builtin import teststand

TS = FIXTURES / "teststand-xml"
UTC = ConversionContext(timezone=timezone.utc)


def _converter(**arguments):
    return teststand.TestStandXmlConverter(arguments)


def _convert(name: str, **arguments):
    return _converter(**arguments).convert(SourceFile.read(TS / name), UTC)


def _source(text: str, name: str = "x.xml") -> SourceFile:
    return SourceFile(Path(name), text.encode("latin-1"))


def _by_name(steps, name):
    return next(step for step in steps if step.name == name)


def test_batch_file_gives_one_report_per_uut_report() -> None:
    reports = _convert("ts_batch.xml")
    assert [report.sn for report in reports] == ["CH-0001", "CH-0002"]  # the Batch report is skipped
    first, second = reports
    assert first.pn == "CHG-500"
    assert first.rev == ""
    assert first.process_code == 10
    assert first.start == datetime(2024, 6, 4, 9, 30, 5, 250000, tzinfo=timezone.utc)
    assert (first.result.value, second.result.value) == ("P", "F")
    assert first.machine_name == "CHARGER-LINE-2"
    assert first.uut.user == "mike"
    assert first.uut.batch_sn == "LOT-42"
    assert (first.uut.test_socket_index, second.uut.test_socket_index) == (0, 1)
    assert first.uut.exec_time == 3.5
    infos = {(info.description, info.text) for info in first.misc_infos}
    assert {("Revision", "C"), ("Station Fixture", "FX-9"), ("Sequence", "Charger.seq#MainSequence")} <= infos


def test_step_tree_and_measurements() -> None:
    report = _convert("ts_batch.xml")[0]
    root = report.root
    assert root.name == "MainSequence Callback"
    assert [step.name for step in root.steps] == [
        "Connect Charger", "Output Checks", "Cell Voltages", "Firmware", "Fan Spins", "Log Temperature", "Disconnect",
    ]  # fmt: skip
    connect = root.steps[0]
    assert (connect.step_type, connect.status.value, connect.group.value) == ("Action", "P", "S")
    assert connect.tot_time == pytest.approx(0.2)
    assert connect.ts_guid == "ID#:A0000000000000000000AA"
    # TS.StartTime counts from the engine's start: 100.1 s against the MainSequence's 100.0 s
    assert connect.start == report.start + timedelta(seconds=0.1)

    checks = root.steps[1]
    assert checks.step_type == "SequenceCall"
    assert (checks.seq_call.path, checks.seq_call.name, checks.seq_call.version) == (
        "C:\\Tests\\Charger.seq", "Output", "1.4.0.12",
    )  # fmt: skip
    voltage = checks.steps[0].numeric_meas[0]
    assert (voltage.value, voltage.comp_op.value, voltage.low_limit, voltage.high_limit, voltage.unit,
            voltage.status.value) == (
        5.02, "GELE", 4.9, 5.1, "V", "P",
    )  # fmt: skip
    leakage = checks.steps[1].numeric_meas[0]
    assert (leakage.comp_op.value, leakage.low_limit, leakage.high_limit) == ("LT", 2.0, None)

    cells = root.steps[2]
    assert cells.step_type == "NI_MultipleNumericLimitTest"
    assert [(m.name, m.value, m.comp_op.value, m.low_limit, m.high_limit, m.unit, m.status.value)
            for m in cells.numeric_meas] == [
        ("Cell 1", 3.70, "GELE", 3.6, 3.8, "V", "P"), ("Cell 2", 3.71, "GELE", 3.6, 3.8, "V", "P"),
    ]  # fmt: skip
    firmware = root.steps[3].string_meas[0]
    assert (firmware.value, firmware.limit, firmware.comp_op.value, firmware.status.value) == (
        "CHG-1.7", "chg-1.7", "IGNORECASE", "P",
    )  # fmt: skip
    assert root.steps[4].boolean_meas[0].status.value == "P"
    logged = root.steps[5]
    assert (logged.numeric_meas[0].comp_op.value, logged.numeric_meas[0].value) == ("LOG", 31.5)
    assert logged.report_text == "ambient 24 degC"
    assert root.steps[6].group.value == "C"


def test_failing_uut_keeps_the_file_verdicts() -> None:
    report = _convert("ts_batch.xml")[1]
    assert report.result.value == "F"
    assert report.root.status.value == "F"
    cells = _by_name(report.root.steps, "Cell Voltages")
    assert cells.status.value == "F"
    assert [m.status.value for m in cells.numeric_meas] == ["P", "F"]
    fan = _by_name(report.root.steps, "Fan Spins")
    assert (fan.status.value, fan.boolean_meas[0].status.value) == ("F", "F")
    firmware = _by_name(report.root.steps, "Firmware")
    assert (firmware.status.value, firmware.string_meas) == ("S", [])
    disconnect = _by_name(report.root.steps, "Disconnect")
    assert disconnect.status.value == "E"
    assert (disconnect.error_code, disconnect.error_message) == (-17300, "Relay card not found")


def test_arguments_fill_what_the_report_lacks() -> None:
    (report,) = _convert("ts_single_fail.xml", part_number="CHG-FALLBACK", revision="A", process_code=50)
    assert (report.sn, report.pn, report.rev, report.process_code) == ("CH-0101", "CHG-FALLBACK", "A", 50)
    (plain,) = _convert("ts_single_fail.xml")
    assert plain.pn == "Charger"  # UUT.PartNumber is empty: the sequence file's name stands in


def test_no_part_number_anywhere_is_a_conversion_error() -> None:
    text = (TS / "ts_single_fail.xml").read_text("latin-1").replace("C:\\Tests\\Charger.seq", "")
    with pytest.raises(ConversionError, match="part number") as caught:
        _converter().convert(_source(text), UTC)
    assert caught.value.element.endswith("Prop[@Name='PartNumber']")


def test_station_from_the_service_when_asked() -> None:
    reports = convert("teststand-xml", TS / "ts_single_fail.xml", station_from_file=False)
    assert reports[0].machine_name == "TEST-STATION"


@pytest.mark.parametrize("name", ["ts_batch.xml", "ts_single_fail.xml"])
def test_validate_claims_the_fixtures(name: str) -> None:
    assert _converter().validate(SourceFile.read(TS / name)) >= 0.8


@pytest.mark.parametrize("text", [
    '<?xml version="1.0"?>\n<Reports xmlns="http://wats.virinco.com/schemas/WATS/Report/wsxf">\n'
    '<Report type="UUT" ID="D26DDF31-FD90-47A5-AF13-180404CDE8BE" SN="1" PN="2" Rev="3"/></Reports>',
    '<?xml version="1.0"?><tr:TestResults xmlns:tr="urn:IEEE-1636.1:2013:TestResults"/>',
    '<?xml version="1.0"?><testsuites><testsuite name="a"/></testsuites>',
    "<Panel barcode='SN1' result='failed'><Program name='x'/></Panel>",
    "",
])  # fmt: skip
def test_validate_refuses_other_formats(text: str) -> None:
    assert _converter().validate(_source(text)) <= 0.2


def test_validate_refuses_the_atml_fixtures() -> None:
    for path in sorted((FIXTURES / "atml").iterdir()):
        assert _converter().validate(SourceFile.read(path)) <= 0.2


def test_utf16_report_is_read() -> None:
    text = (TS / "ts_single_fail.xml").read_text("latin-1").replace('encoding="iso-8859-1"', 'encoding="utf-16"')
    source = SourceFile(Path("u16.xml"), text.encode("utf-16"))
    assert _converter().validate(source) >= 0.8
    assert _converter().convert(source, UTC)[0].sn == "CH-0101"


def test_auto_picks_teststand_xml_for_the_fixtures() -> None:
    for path in sorted(TS.iterdir()):
        assert convert("auto", path)


def test_missing_serial_number_is_a_conversion_error_naming_it() -> None:
    text = (TS / "ts_single_fail.xml").read_text("latin-1").replace("<Value>CH-0101</Value>", "<Value></Value>")
    with pytest.raises(ConversionError, match="serial number") as caught:
        _converter().convert(_source(text), UTC)
    assert caught.value.element == "Reports/Report[1]/Prop[@Name='UUT']/Prop[@Name='SerialNumber']"


def test_missing_start_date_is_a_conversion_error() -> None:
    text = (TS / "ts_single_fail.xml").read_text("latin-1").replace("Name='Year'", "Name='Yr'")
    with pytest.raises(ConversionError, match="StartDate.Year"):
        _converter().convert(_source(text), UTC)


def test_unreadable_number_names_its_element() -> None:
    text = (TS / "ts_single_fail.xml").read_text("latin-1").replace("<Value>3.95</Value>", "<Value>3,95</Value>")
    with pytest.raises(ConversionError, match="not a number") as caught:
        _converter().convert(_source(text), UTC)
    assert "Measurement[1]/Data" in caught.value.element


@pytest.mark.parametrize("text, message", [
    ("<?xml version='1.0'?><Reports><Report Type='Batch'/></Reports>", "no UUT report"),
    ("<?xml version='1.0'?><Reports><Report Type='UUT'><Prop Name='UUT' Type='Obj'>"
     "<Prop Name='SerialNumber' Type='String'><Value>1</Value></Prop></Prop></Report></Reports>", "StartDate"),
    ("<?xml version='1.0'?><TestReport/>", "not a TestStand"),
    ("<?xml version='1.0'?><Reports><Report Type='UUT'>", "well-formed"),
])  # fmt: skip
def test_broken_reports_are_refused(text: str, message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        _converter().convert(_source(text), UTC)


def test_report_without_result_is_refused() -> None:
    text = (TS / "ts_single_fail.xml").read_text("latin-1")
    start = text.index("<Prop Type='TEResult'")
    with pytest.raises(ConversionError, match="no result"):
        _converter().convert(_source(text[:start] + "</Report>\n</Reports>\n"), UTC)

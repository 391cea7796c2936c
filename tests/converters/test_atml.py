"""The ``atml`` converter on the project's own ATML fixtures (TestStand ATML 2.02, 5.00 and 6.01)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from converter_support import FIXTURES, convert

from pywats_client.converters import ConversionContext, ConversionError, SourceFile
from pywats_client.converters.builtin.atml import AtmlConverter

ATML = FIXTURES / "atml"
UTC = ConversionContext(timezone=timezone.utc)


def _convert(name: str, **arguments):
    return AtmlConverter(arguments).convert(SourceFile.read(ATML / name), UTC)


def _source(text: str, name: str = "x.xml") -> SourceFile:
    return SourceFile(Path(name), text.encode("latin-1"))


def _steps(step) -> list:
    return list(step.steps)


def _by_name(steps, name):
    return next(step for step in steps if step.name == name)


# -- ATML 6.01: a batch file with two UUTs ---------------------------------------------------------------


def test_batch_file_gives_one_report_per_uut() -> None:
    first, second = _convert("atml601_batch.xml")
    assert (first.sn, second.sn) == ("PB0001", "PB0002")
    assert first.pn == second.pn == "PB-100"
    assert first.rev == ""
    assert first.process_code == 10
    assert first.start == datetime(2024, 3, 5, 8, 15, 0, 250000, tzinfo=timezone.utc)
    assert (first.result.value, second.result.value) == ("P", "F")
    assert first.machine_name == "STATION-A"
    assert first.uut.user == "Jane Doe"
    assert first.uut.exec_time == 4.5
    assert first.uut.batch_sn == "BATCH-7"
    assert (first.uut.test_socket_index, second.uut.test_socket_index) == (0, 1)
    assert {(info.description, info.text) for info in first.misc_infos} >= {("UUT model", "PWR-BOARD")}


def test_601_step_tree_and_measurements() -> None:
    report = _convert("atml601_batch.xml")[0]
    root = report.root
    assert root.name == "MainSequence Callback"
    assert [step.name for step in root.steps] == [
        "Power On", "Rail Checks", "Rail Currents", "Firmware Version", "LED Check",
    ]  # fmt: skip
    power_on = root.steps[0]
    assert (power_on.step_type, power_on.status.value, power_on.group.value) == ("Action", "P", "S")
    assert power_on.report_text == "Supply at 12 V"
    assert power_on.ts_guid == "ID#:AAAAAAAAAAAAAAAAAAAAAA"
    assert power_on.start == datetime(2024, 3, 5, 8, 15, 0, 300000, tzinfo=timezone.utc)
    assert power_on.tot_time == pytest.approx(0.1)

    rails = root.steps[1]
    assert rails.step_type == "SequenceCall"
    assert (rails.seq_call.path, rails.seq_call.name) == ("C:\\Seq\\Power Board.seq", "Rails")
    assert [step.name for step in rails.steps] == ["VCC 3V3", "Ripple"]
    vcc = rails.steps[0].numeric_meas[0]
    assert (vcc.value, vcc.comp_op.value, vcc.low_limit, vcc.high_limit, vcc.unit, vcc.status.value) == (
        3.31, "GELE", 3.2, 3.4, "V", "P",
    )  # fmt: skip
    assert rails.steps[0].step_type == "NumericLimitTest"
    ripple = rails.steps[1].numeric_meas[0]
    assert (ripple.comp_op.value, ripple.low_limit, ripple.high_limit, ripple.unit) == ("LE", 50.0, None, "mV")

    currents = root.steps[2]
    assert currents.step_type == "NI_MultipleNumericLimitTest"
    assert [(m.name, m.value, m.comp_op.value, m.low_limit, m.high_limit, m.unit, m.status.value)
            for m in currents.numeric_meas] == [
        ("I 5V", 0.52, "GTLT", 0.4, 0.6, "A", "P"), ("I 12V", 1.25, "GE", 1.0, None, "A", "P"),
    ]  # fmt: skip

    firmware = root.steps[3].string_meas[0]
    assert (firmware.value, firmware.limit, firmware.comp_op.value, firmware.status.value) == (
        "FW 2.1.0", "FW 2.1.0", "CASESENSIT", "P",
    )  # fmt: skip
    led = root.steps[4]
    assert led.step_type == "PassFailTest"
    assert led.boolean_meas[0].status.value == "P"


def test_601_failing_uut_keeps_the_file_verdicts() -> None:
    report = _convert("atml601_batch.xml")[1]
    assert report.result.value == "F"
    assert report.root.status.value == "F"  # the MainSequence outcome, although a cleanup step errored
    currents, firmware, power_off = report.root.steps
    assert currents.status.value == "F"
    assert currents.caused_seq_failure is True
    assert currents.caused_uut_failure is True  # named by the critical failure stack
    assert [m.status.value for m in currents.numeric_meas] == ["F", "P"]
    assert firmware.status.value == "S"
    assert firmware.string_meas == []
    assert power_off.status.value == "E"
    assert (power_off.error_code, power_off.error_message) == (-17502, "Supply did not answer")
    assert power_off.group.value == "C"


# -- ATML 5.00 --------------------------------------------------------------------------------------------


def test_500_header_and_special_comparisons() -> None:
    (report,) = _convert("atml500_pass.xml")
    assert (report.sn, report.pn, report.result.value) == ("RX9-000123", "RX-9", "P")
    assert report.start == datetime(2023, 11, 20, 16, 45, 10, 500000, tzinfo=timezone(timedelta(hours=1)))
    assert report.machine_name == "BENCH-3"
    assert report.uut.user == "operator1"
    assert ("Firmware", "2.1.0") in {(info.description, info.text) for info in report.misc_infos}
    assert "UUT model" not in {info.description for info in report.misc_infos}  # ModelName UNKNOWN
    steps = report.root.steps
    temperature = _by_name(steps, "Temperature").numeric_meas[0]
    assert (temperature.comp_op.value, temperature.value, temperature.unit) == ("LOG", 23.5, "degC")
    oscillator = _by_name(steps, "Oscillator").numeric_meas[0]
    assert oscillator.comp_op.value == "GELE"
    assert (oscillator.low_limit, oscillator.high_limit) == (pytest.approx(9.9), pytest.approx(10.1))
    model = _by_name(steps, "Model Name").string_meas[0]
    assert (model.comp_op.value, model.limit, model.status.value) == ("IGNORECASE", "RADIO-X", "P")
    retry = _by_name(steps, "Retry Read")
    assert (retry.loop.num, retry.loop.passed, retry.loop.failed, retry.loop.ending_index) == (3, 2, 1, 2)
    popup = _by_name(steps, "Ask Operator")
    assert (popup.message_popup.response, popup.message_popup.button) == ("looks fine", 1)


# -- ATML 2.02 --------------------------------------------------------------------------------------------


def test_202_main_sequence_group_becomes_the_root() -> None:
    (report,) = _convert("atml202_fail.xml")
    assert (report.sn, report.pn, report.result.value) == ("AMP-0042", "AMP-1", "F")
    assert report.root.name == "MainSequence Callback"
    assert [step.name for step in report.root.steps] == ["Gain Tests", "Bias Current", "Serial Readback", "Discharge"]
    assert report.uut.exec_time == pytest.approx(3.5)  # endDateTime - startDateTime, across midnight
    gain = report.root.steps[0]
    assert (gain.seq_call.path, gain.seq_call.name, gain.status.value) == ("C:\\Seq\\Amp.seq", "Gain", "F")
    sweep = gain.steps[0]
    assert sweep.tot_time == pytest.approx(0.5)
    assert sweep.ts_guid == "ID#:SWEEPSWEEPSWEEPSWEEPSW"
    assert [(m.name, m.value, m.status.value) for m in sweep.numeric_meas] == [
        ("Gain 1kHz", 20.1, "P"), ("Gain 10kHz", 18.2, "F"),
    ]  # fmt: skip
    bias = report.root.steps[1].numeric_meas[0]
    assert (bias.comp_op.value, bias.low_limit, bias.high_limit) == ("LTGT", 0.005, 0.01)  # OR pair: outside
    serial = report.root.steps[2].string_meas[0]
    assert serial.comp_op.value == "IGNORECASE"  # ATML 2 cannot say case-sensitive: TestStand shows IgnoreCase


# -- arguments --------------------------------------------------------------------------------------------


def test_arguments_override_process_code_revision_and_station() -> None:
    reports = convert("atml", ATML / "atml500_pass.xml", process_code=100, revision="B", station_from_file=False)
    assert reports[0].process_code == 100
    assert reports[0].rev == "B"
    assert reports[0].machine_name == "TEST-STATION"  # filled from the service's station


def test_fallbacks_for_missing_part_and_serial_number() -> None:
    text = (ATML / "atml500_pass.xml").read_text("latin-1")
    text = text.replace("<c:SerialNumber>RX9-000123</c:SerialNumber>", "")
    text = text.replace('number="RX-9" type="Part"', 'number="RX-9" type="Other"')
    (report,) = AtmlConverter({"serial_number": "SPARE-1", "part_number": "PN-X"}).convert(_source(text), UTC)
    assert (report.sn, report.pn) == ("SPARE-1", "PN-X")
    (report,) = AtmlConverter({"serial_number": "SPARE-1"}).convert(_source(text), UTC)
    assert report.pn == "Radio"  # no part number: the sequence file's name stands in


# -- validate ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["atml601_batch.xml", "atml500_pass.xml", "atml202_fail.xml"])
def test_validate_claims_every_atml_flavour(name: str) -> None:
    assert AtmlConverter().validate(SourceFile.read(ATML / name)) >= 0.8


@pytest.mark.parametrize("text", [
    '<?xml version="1.0"?>\n<Reports xmlns="http://wats.virinco.com/schemas/WATS/Report/wsxf">'
    '<Report type="UUT"/></Reports>',
    "<?xml version='1.0'?>\n<Reports>\n<Report Type='UUT' Title='UUT Report'>\n<Prop Name='UUT' Type='Obj'>",
    '<?xml version="1.0"?><testsuites><testsuite name="a" tests="1"><testcase name="t"/></testsuite></testsuites>',
    '<UnitReport start-time="2024-12-11T10:19:25+00:00"><Station name="x"/></UnitReport>',
    '<td:TestDescription xmlns:td="urn:IEEE-1671.1:2009:TestDescription"/>',
    "not xml at all",
])  # fmt: skip
def test_validate_refuses_other_formats(text: str) -> None:
    assert AtmlConverter().validate(_source(text)) <= 0.2


def test_auto_picks_atml_for_the_fixtures() -> None:
    for path in sorted(ATML.iterdir()):
        reports = convert("auto", path)
        assert reports and all(report.sn for report in reports)


# -- errors -----------------------------------------------------------------------------------------------


def test_missing_serial_number_is_a_conversion_error_naming_it() -> None:
    text = (ATML / "atml202_fail.xml").read_text("latin-1").replace("<c:SerialNumber>AMP-0042</c:SerialNumber>", "")
    with pytest.raises(ConversionError, match="serial number") as caught:
        AtmlConverter().convert(_source(text), UTC)
    assert caught.value.element == "TestResults/UUT/SerialNumber"


def test_truncated_file_is_a_conversion_error_with_its_line() -> None:
    data = (ATML / "atml202_fail.xml").read_bytes()[:3000]
    with pytest.raises(ConversionError, match="well-formed") as caught:
        AtmlConverter().convert(SourceFile(Path("cut.xml"), data), UTC)
    assert caught.value.line is not None


def test_unreadable_number_names_its_element() -> None:
    text = (ATML / "atml202_fail.xml").read_text("latin-1").replace('value="0.0042"', 'value="4,2 mA"')
    with pytest.raises(ConversionError, match="not a number") as caught:
        AtmlConverter().convert(_source(text), UTC)
    assert "TestResult[1]/TestData/Datum" in caught.value.element


def test_unreadable_start_time_is_a_conversion_error() -> None:
    text = (ATML / "atml202_fail.xml").read_text("latin-1").replace(
        'startDateTime="2022-01-31T23:59:58.100" endDateTime="2022-02-01T00:00:01.600">\n\t\t<tr:Outcome',
        'startDateTime="yesterday" endDateTime="2022-02-01T00:00:01.600">\n\t\t<tr:Outcome',
    )
    with pytest.raises(ConversionError, match="date and time"):
        AtmlConverter().convert(_source(text), UTC)


@pytest.mark.parametrize("text", [
    '<?xml version="1.0"?><TestReport><Header/></TestReport>',
    '<trc:TestResultsCollection xmlns:trc="urn:IEEE-1636.1:2013:TestResultsCollection"/>',
    '<?xml version="1.0" encoding="no-such-encoding"?><a/>',
])  # fmt: skip
def test_other_documents_are_refused(text: str) -> None:
    with pytest.raises(ConversionError):
        AtmlConverter().convert(_source(text), UTC)

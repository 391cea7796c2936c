"""Teradyne ICT converters: GR228x datalog and Spectrum datalog, on the project's own fixtures."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from converter_support import CONTEXT, FIXTURES, convert

from pywats.models import NumericStep, SequenceCallStep
from pywats_client.converters import ConversionContext, ConversionError, SourceFile, load_converter_class

GR = FIXTURES / "teradyne-gr228x"
SPECTRUM = FIXTURES / "teradyne-spectrum"
UTC = ConversionContext(timezone=timezone.utc)


def _source(text: str, name: str = "x.log") -> SourceFile:
    return SourceFile(Path(name), text.encode())


def _gr(text: str, **arguments):
    return load_converter_class("teradyne-gr228x")(arguments).convert(_source(text), UTC)


def _spectrum(text: str, **arguments):
    return load_converter_class("teradyne-spectrum")(arguments).convert(_source(text, "x.txt"), UTC)


def _steps(report):
    return {step.name: step for step in report.iter_steps()}


# -- GR228x ---------------------------------------------------------------------------------------------


def test_gr228x_one_report_per_board_with_header_fields() -> None:
    reports = convert("teradyne-gr228x", GR / "panel_run.log")
    assert [r.sn for r in reports] == ["PWR7-000101", "PWR7-000102", "PWR7-000103"]
    first = reports[0]
    assert (first.pn, first.rev, first.process_code) == ("PWR7-ASSY", "C", 20)
    assert first.uut.user == "jdoe" and first.machine_name == "ICT-LINE-2"
    assert first.start.replace(tzinfo=None) == datetime(2024, 3, 14, 8, 2, 0)
    assert first.uut.exec_time == 31.0
    misc = {m.description: m.text for m in first.misc_infos}
    assert misc["Program"] == r"C:\ICT\PROGRAMS\PWR_BOARD_7\PWR7_MAIN.obc"
    assert misc["Sequence version"] == "4.2" and misc["shift"] == "night" and misc["End event"] == "passed"
    assert first.root.name == "PWR7_MAIN"


def test_gr228x_results_follow_the_end_character() -> None:
    reports = convert("teradyne-gr228x", GR / "panel_run.log")
    assert [r.result.value for r in reports] == ["P", "F", "T"]
    # the aborted board has no WATS_ keys: part number from the program name, revision from the argument
    assert (reports[2].pn, reports[2].rev) == ("PWR7_MAIN", "1")


def test_gr228x_step_tree_groups_component_classes() -> None:
    report = convert("teradyne-gr228x", GR / "panel_run.log")[0]
    assert [step.name for step in report.root.steps] == ["R", "C", "V", "D", "PS"]
    groups = {step.name: step for step in report.root.steps}
    assert isinstance(groups["R"], SequenceCallStep)
    assert [step.name for step in groups["R"].steps] == ["R101 (R)", "R102 (R)", "R103 (R)", "R103 (AR)"]


def test_gr228x_measurements_value_limits_unit_status() -> None:
    steps = _steps(convert("teradyne-gr228x", GR / "panel_run.log")[0])
    r101 = steps["R101 (R)"].numeric_meas[0]
    assert (r101.value, r101.low_limit, r101.high_limit, r101.comp_op.value, r101.unit, r101.status.value) == (
        10.0321, 9.5, 10.5, "GELE", "kOhm", "P")  # fmt: skip
    c202 = steps["C202 (CP)"].numeric_meas[0]  # 1.02U between 800N and 1.2U: limits scaled to the value's prefix
    assert (c202.value, c202.low_limit, c202.high_limit, c202.unit) == (1.02, 0.8, 1.2, "uF")
    logged = steps["R103 (R)"].numeric_meas[0]  # '#': logged, not judged
    assert (logged.value, logged.comp_op.value, logged.unit, logged.status.value) == (1.2345, "LOG", "MOhm", "P")
    d402 = steps["D402 (V)"].numeric_meas[0]
    assert (d402.value, d402.low_limit, d402.high_limit, d402.unit) == (652.1, 500.0, 800.0, "mV")
    assert steps["D401"].boolean_meas[0].status.value == "P"
    assert "PS_OFF (V)" in steps and steps["PS_OFF (V)"].report_text.startswith("limits 1.6..5.5")
    assert "SETPS (VS)" not in steps  # stimulus lines carry no result


def test_gr228x_failures_and_failure_lists() -> None:
    report = convert("teradyne-gr228x", GR / "panel_run.log")[1]
    steps = _steps(report)
    opens = steps["Opens"]
    assert opens.status.value == "F" and opens.report_text == "nodes: 12,45"
    high = steps["R102 (R)"]
    assert high.status.value == "F" and high.numeric_meas[0].value == 5.2001
    assert steps["C201 (CP)"].numeric_meas[0].status.value == "F"
    assert steps["V301 (V)"].boolean_meas[0].status.value == "F"  # '%' with no value
    contact = _steps(convert("teradyne-gr228x", GR / "panel_run.log")[2])["Contact"]
    assert contact.report_text == "nodes: 7,8,9 (list continues)"


def test_gr228x_part_number_argument_and_single_limit() -> None:
    report = convert("teradyne-gr228x", GR / "single_board.log", part_number="CTRL-9", revision="B")[0]
    assert (report.pn, report.rev, report.result.value) == ("CTRL-9", "B", "P")
    k1 = _steps(report)["K1_NO (R)"].numeric_meas[0]
    assert (k1.comp_op.value, k1.low_limit, k1.high_limit, k1.unit) == ("LE", 50.0, None, "mOhm")


def test_gr228x_missing_serial_number_is_an_error() -> None:
    with pytest.raises(ConversionError, match="serial number") as caught:
        _gr("P.obc[01-JAN-24  10:00:00\n@01-JAN-24  10:00:01\nR1=1K(0.9K,1.1K)R\n\"01-JAN-24  10:00:02\n")
    assert caught.value.line == 2


def test_gr228x_board_without_end_line_is_a_truncated_file() -> None:
    with pytest.raises(ConversionError, match="cut short"):
        _gr("@01-JAN-24  10:00:01 SN 1\nR1=1K(0.9K,1.1K)R\n")


def test_gr228x_bad_date_is_an_error() -> None:
    with pytest.raises(ConversionError, match="month"):
        _gr("@01-XYZ-24  10:00:01 SN 1\n\"01-JAN-24  10:00:02\n")


# -- Spectrum -------------------------------------------------------------------------------------------


def test_spectrum_header_fields() -> None:
    [report] = convert("teradyne-spectrum", SPECTRUM / "board_pass.txt")
    assert (report.sn, report.pn, report.rev, report.process_code) == ("CT4411-0007", "CTRL-4411", "1", 20)
    assert report.result.value == "P" and report.uut.user == "op-17" and report.uut.fixture_id == "FX-12"
    assert report.start.replace(tzinfo=None) == datetime(2024, 3, 15, 9, 30, 0, 250000)
    assert report.uut.exec_time == 4.5
    assert {m.description: m.text for m in report.misc_infos} == {"Subprogram": "Main"}


def test_spectrum_sections_and_steps() -> None:
    [report] = convert("teradyne-spectrum", SPECTRUM / "board_pass.txt")
    assert [step.name for step in report.root.steps] == ["Header", "RESISTORS", "JUMPERS", "Trailer"]
    jumpers = report.root.steps[2]
    shorts = jumpers.steps[1]
    assert isinstance(shorts, SequenceCallStep) and shorts.name == "SHORTS_INTERNAL[SHORTS_STEP]"
    assert [step.name for step in shorts.steps] == ["SHORTS (SPECIAL)", "SHORTS (SHORTS)"]
    assert report.root.steps[0].steps[0].report_text == r"PROG_NAME: C:\TP\CTRL-4411\label.exe"


def test_spectrum_measurements() -> None:
    steps = _steps(convert("teradyne-spectrum", SPECTRUM / "board_pass.txt")[0])
    r10 = steps["RES[R10]"]
    assert isinstance(r10, NumericStep)
    m = r10.numeric_meas[0]
    assert (m.value, m.low_limit, m.high_limit, m.comp_op.value, m.unit, m.status.value) == (
        10.012, 9.9, 10.1, "GELE", "kOhm", "P")  # fmt: skip
    assert r10.report_text.startswith("RESISTOR 10K TOP 1.0 2.0; 10k 1%; nominal 10 kOhm")
    assert r10.start is not None
    track = steps["TRACK_5V"].numeric_meas[0]  # low limit 1 nOhm scaled to the value's mOhm
    assert (track.value, track.low_limit, track.high_limit, track.unit) == (180.5, 1e-06, 250.0, "mOhm")
    jumper = steps["JUMPER[L1]"]
    assert jumper.numeric_meas[0].comp_op.value == "LE" and jumper.numeric_meas[0].low_limit == 5.0
    assert "LOWR_FROM_NODES L1_A" in jumper.report_text


def test_spectrum_failing_board() -> None:
    [report] = convert("teradyne-spectrum", SPECTRUM / "board_fail.txt")
    assert report.result.value == "F" and report.sn == "CT4411-0008"
    cap = _steps(report)["CAP[C5]"]
    m = cap.numeric_meas[0]
    assert cap.status.value == "F" and m.status.value == "F"
    assert (m.value, m.low_limit, m.high_limit, m.unit) == (1.3, 0.08, 0.12, "uF")


def test_spectrum_day_first_dates() -> None:
    text = '(PROGRAM_NAME: "P")\n(USER: Serialnumber:S1)\n(USER: Date:02/09/2023)\n(USER: StartTime:16:44:27:988)\n'
    [report] = _spectrum(text, date_order="DMY")
    assert report.start.replace(tzinfo=None) == datetime(2023, 9, 2, 16, 44, 27, 988000)


def test_spectrum_missing_serial_number_is_an_error() -> None:
    with pytest.raises(ConversionError, match="serial number") as caught:
        _spectrum('(PROGRAM_NAME: "P")\n(STEP: (SNAME: "A") (STAT: PASS))\n')
    assert caught.value.field == "Serialnumber"


def test_spectrum_file_without_board_is_an_error() -> None:
    with pytest.raises(ConversionError):
        _spectrum("nothing here")


# -- validate -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(GR.iterdir()), ids=lambda p: p.name)
def test_gr228x_validate_claims_its_files(path: Path) -> None:
    assert load_converter_class("teradyne-gr228x")().validate(SourceFile.read(path)) >= 0.8
    assert load_converter_class("teradyne-spectrum")().validate(SourceFile.read(path)) <= 0.2


@pytest.mark.parametrize("path", sorted(SPECTRUM.iterdir()), ids=lambda p: p.name)
def test_spectrum_validate_claims_its_files(path: Path) -> None:
    assert load_converter_class("teradyne-spectrum")().validate(SourceFile.read(path)) >= 0.8
    assert load_converter_class("teradyne-gr228x")().validate(SourceFile.read(path)) <= 0.2


@pytest.mark.parametrize("name", ["teradyne-gr228x", "teradyne-spectrum"])
def test_validate_refuses_other_formats(name: str) -> None:
    converter = load_converter_class(name)()
    for other in [FIXTURES / "spea-3030" / "two_boards.csv", *sorted((FIXTURES / "stdf").glob("*.stdf"))]:
        assert converter.validate(SourceFile.read(other)) <= 0.2, other.name
    assert converter.validate(_source('{"type": "T", "pn": "x"}', "x.json")) <= 0.2


def test_context_time_zone_is_used() -> None:
    [report] = load_converter_class("teradyne-gr228x")().convert(SourceFile.read(GR / "single_board.log"), UTC)
    assert report.start.tzinfo is not None and report.start.utcoffset().total_seconds() == 0
    assert CONTEXT.station is not None

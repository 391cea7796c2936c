"""The ``takaya`` converter on the project's own TAKAYA fixtures: ATD (APT94xx and tab-separated) and ATDX."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from converter_support import FIXTURES, convert, find_step

from pywats.formats import wsjf
from pywats_client.converters import ConversionContext, ConversionError, SourceFile
from pywats_client.converters.builtin.takaya import TakayaConverter

TAKAYA = FIXTURES / "takaya"
CET = timezone(timedelta(hours=1))
CONTEXT_CET = ConversionContext(timezone=CET)


def _convert(name: str, **arguments):
    return TakayaConverter(arguments).convert(SourceFile.read(TAKAYA / name), CONTEXT_CET)


def _text(text: str, name: str = "x.atd", **arguments):
    return TakayaConverter(arguments).convert(SourceFile(Path(name), text.encode()), CONTEXT_CET)


def _measure(step):
    (measurement,) = step.numeric_meas
    return measurement


# -- APT94xx layout ---------------------------------------------------------------------------------------


def test_apt94xx_header_and_board() -> None:
    (report,) = _convert("apt94xx_pass.atd")
    assert report.sn == "20417-SN0101"
    assert report.pn == "SYNTH-BOARD-A_V3"
    assert report.rev == ""
    assert report.process_code == 30
    assert report.start == datetime(2024, 3, 14, 9, 15, 42, tzinfo=CET)
    assert report.result.value == "P"
    assert report.machine_name == "FP7"
    assert report.uut.user == "AT05"
    misc = {info.description: info.text for info in report.misc_infos}
    assert misc["Operator 2"] == "OP12"
    assert misc["Program"] == "SYNTH-BOARD-A_V3.SWX2"
    assert misc["Format"] == "ATD (APT94xx)"
    assert misc["Group"] == "1"
    assert report.root.name == "SYNTH-BOARD-A_V3.SWX2"


def test_apt94xx_step_tree_groups_by_component_type() -> None:
    (report,) = _convert("apt94xx_pass.atd")
    assert [step.name for step in report.root.steps] == ["P-Auto", "R", "C", "D", "L", "U"]
    assert [step.name for step in find_step(report, "L").steps] == ["L4", "L4 #109"]
    assert [step.name for step in find_step(report, "P-Auto").steps] == ["SHRT1 #12-#13", "SHRT2 #12-#14"]


def test_apt94xx_percent_tolerances_become_absolute_limits() -> None:
    (report,) = _convert("apt94xx_pass.atd")
    resistor = _measure(find_step(report, "R", "R10 2.2KO"))
    assert (resistor.value, resistor.unit) == (2.18, "KO")
    assert resistor.comp_op.value == "GELE"
    assert (resistor.low_limit, resistor.high_limit) == (2.09, 2.31)
    assert resistor.status.value == "P"
    capacitor = _measure(find_step(report, "C", "C20 10UF"))  # +20% -10%: asymmetric
    assert (capacitor.low_limit, capacitor.high_limit, capacitor.unit) == (9.0, 12.0, "UF")
    nano = _measure(find_step(report, "C", "C21 470NF"))
    assert (nano.value, nano.unit, nano.low_limit, nano.high_limit) == (455.1, "nF", 423.0, 517.0)


def test_apt94xx_second_test_value_is_decisive() -> None:
    (report,) = _convert("apt94xx_pass.atd")
    step = find_step(report, "R", "R11 100O")
    assert _measure(step).value == 101.2
    assert "test values 0 O, 101.2 O" in step.report_text


def test_open_short_checks_are_logged_without_limits() -> None:
    (report,) = _convert("apt94xx_pass.atd")
    short = _measure(find_step(report, "P-Auto", "SHRT1 #12-#13"))
    assert (short.comp_op.value, short.value, short.unit, short.status.value) == ("LOG", 409.5, "O", "P")
    assert short.low_limit is None and short.high_limit is None
    assert "function OP" in find_step(report, "P-Auto", "SHRT1 #12-#13").report_text


def test_jumped_step_is_skipped() -> None:
    (report,) = _convert("apt94xx_pass.atd")
    step = find_step(report, "U", "U7 P3-G")
    assert step.status.value == "S"
    assert step.numeric_meas == []
    assert _convert("apt94xx_pass.atd", include_skipped=False)[0].root.steps[-1].name == "L"


def test_retest_file_gives_one_report_per_run_with_verdicts_kept() -> None:
    failed, passed = _convert("apt94xx_retest_fail.atd")
    assert failed.sn == passed.sn == "20417-SN0102"
    assert failed.uut.user == "AT05"  # "(AT05+OP12)"
    assert (failed.result.value, passed.result.value) == ("F", "P")
    assert failed.start == datetime(2024, 3, 14, 10, 2, 7, tzinfo=CET)
    assert passed.start == datetime(2024, 3, 14, 10, 9, 51, tzinfo=CET)
    short = find_step(failed, "P-Auto", "SHRT1 #12-#13")
    assert short.status.value == "F" and "judgement SHORT" in short.report_text
    diode = _measure(find_step(failed, "D", "D3 A-K"))  # OPEN: a non-PASS verdict fails
    assert (diode.value, diode.status.value) == (2.655, "F")
    assert find_step(failed, "R", "R10 2.2KO").status.value == "F"


# -- tab-separated layout: a panel of two boards -----------------------------------------------------------


def test_panel_gives_one_report_per_board() -> None:
    first, second = _convert("tab_panel_fail.atd")
    assert (first.sn, second.sn) == ("PNL7-0001", "PNL7-0002")
    assert (first.result.value, second.result.value) == ("P", "F")
    assert first.pn == "SYNTH_PANEL_TOP"
    assert first.start == datetime(2023, 11, 5, 14, 31, 9, tzinfo=CET)  # DATE 5/11/2023: day first
    assert first.uut.exec_time == 21.0
    assert first.machine_name == second.machine_name == "TK02"
    assert first.uut.user is None and second.uut.user == "OP33"
    misc = {info.description: info.text for info in second.misc_infos}
    assert misc["Group"] == "2"
    assert misc["Panel result"] == "FAIL"
    assert misc["Format"] == "ATD (tab-separated)"


def test_tab_layout_measurements() -> None:
    first, second = _convert("tab_panel_fail.atd")
    resistor = _measure(find_step(first, "R", "R5 4.7KO"))  # +1% -2%
    assert (resistor.value, resistor.unit, resistor.low_limit, resistor.high_limit) == (4.63, "KO", 4.606, 4.747)
    capacitor = find_step(first, "C", "C8 22pF")
    assert _measure(capacitor).value == 22.9  # Test_Value_2 decides
    assert "test values 20.6 pF, 22.9 pF" in capacitor.report_text
    assert "H-pin 1 (GND), L-pin 6 (CLK_IN)" in capacitor.report_text
    failed = _measure(find_step(second, "R", "R5 4.7KO"))
    assert (failed.value, failed.status.value) == (5.34, "F")
    opened = find_step(second, "U", "U3 4-GP")
    assert opened.status.value == "F" and "judgement OPEN" in opened.report_text
    assert find_step(first, "Other", "After-correct.").status.value == "S"


def test_flat_steps_and_part_number_argument() -> None:
    first, _ = _convert("tab_panel_fail.atd", group_steps="flat", part_number="PN-9", revision="B",
                        process_code=31, station_from_tester_id=False)  # fmt: skip
    assert [step.name for step in first.root.steps][:3] == ["After-correct.", "P1P2 +5V-3V3", "R5 4.7KO"]
    assert (first.pn, first.rev, first.process_code, first.machine_name) == ("PN-9", "B", 31, "")


# -- ATDX --------------------------------------------------------------------------------------------------


def test_atdx_runs_and_groups() -> None:
    failed, passed = _convert("apt1400_two_runs.atdx")
    assert (failed.sn, passed.sn) == ("WO24-0077", "WO24-0078")
    assert failed.pn == "555-0101-2.1"
    assert (failed.result.value, passed.result.value) == ("F", "P")
    assert failed.start == datetime(2024, 6, 3, 7, 45, 10, tzinfo=CET)
    assert failed.machine_name == "APT-1400F SYNFP2"
    misc = {info.description: info.text for info in failed.misc_infos}
    assert (misc["Format"], misc["Group"], misc["Side"]) == ("ATDX", "1", "A")
    assert [step.name for step in failed.root.steps] == ["POWER_SHORTS", "BOARD_SHORTS", "U", "R"]
    assert [step.name for step in passed.root.steps] == ["Group 1 side A", "Group 2 side B"]
    assert [step.name for step in find_step(passed, "Group 2 side B").steps] == ["POWER_SHORTS", "R"]


def test_atdx_functions_and_limits() -> None:
    failed, _ = _convert("apt1400_two_runs.atdx")
    open_check = _measure(find_step(failed, "POWER_SHORTS", "POWER_SHORTS 10-9"))
    assert (open_check.comp_op.value, open_check.low_limit, open_check.value) == ("GT", 100.0, 55000.0)
    short_check = _measure(find_step(failed, "BOARD_SHORTS", "BOARD_SHORTS 12-40"))
    assert (short_check.comp_op.value, short_check.low_limit, short_check.value) == ("LT", 10.0, 2.114)
    at_least = _measure(find_step(failed, "BOARD_SHORTS", "BOARD_SHORTS 41-77"))
    assert (at_least.comp_op.value, at_least.low_limit) == ("GE", 10.0)
    diode = _measure(find_step(failed, "U", "U4 12-G"))  # EQ with 25 % either side
    assert (diode.comp_op.value, diode.low_limit, diode.high_limit, diode.unit) == ("GELE", 0.459, 0.765, "V")
    no_value = find_step(failed, "U", "U4 13-G")
    assert (no_value.status.value, no_value.numeric_meas) == ("F", [])
    assert find_step(failed, "U", "U4 14-G").status.value == "S"  # UnTested
    assert find_step(failed, "BOARD_SHORTS", "BOARD_SHORTS 12-13").status.value == "S"  # SKIP
    resistor = _measure(find_step(failed, "R", "R31 1K"))
    assert (resistor.value, resistor.unit, resistor.low_limit, resistor.high_limit) == (1.02, "KO", 0.95, 1.05)


# -- validate ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(path.name for path in TAKAYA.iterdir()))
def test_validate_recognises_the_fixtures(name: str) -> None:
    assert TakayaConverter().validate(SourceFile.read(TAKAYA / name)) >= 0.8


@pytest.mark.parametrize("path", [
    FIXTURES / "soundcheck" / "us_two_duts.txt",
    FIXTURES / "xjtag" / "synthetic_pass.xjlog",
    FIXTURES / "xjtag" / "single_run_export.xml",
])  # fmt: skip
def test_validate_refuses_other_formats(path: Path) -> None:
    assert TakayaConverter().validate(SourceFile.read(path)) <= 0.2


@pytest.mark.parametrize("text", ["--HEADER-START--\nSerialNumber\tX\n", '{"root": {}}', "<Reports/>", "@\n"])
def test_validate_refuses_look_alikes(text: str) -> None:
    assert TakayaConverter().validate(SourceFile(Path("x.txt"), text.encode())) <= 0.4


# -- errors ------------------------------------------------------------------------------------------------

_HEADER = "@\n* PASS *\nModel:P.SWX\nDATE 01/02/24 10:00:00\n@\n\n* GROUP No.1 *\n* PASS *\n"
_ROW = ('000001 "R1" "1KO" "X" 1 2 "1.000 KO" "1.010 KO" "........" +5% -5% "PASS" "DC-CC" "Range 5" "2.0 ms" '
        '"( +, -, N, N) " 0 0 "**"\n')  # fmt: skip


def test_minimal_file_converts() -> None:
    (report,) = _text(_HEADER + "Serial No.:S1\n" + _ROW + "@\n")
    assert report.sn == "S1"
    assert report.start == datetime(2024, 2, 1, 10, 0, tzinfo=CET)
    assert _text(_HEADER + "Serial No.:S1\n" + _ROW + "@\n", date_order="MDY")[0].start.month == 1


def test_board_without_serial_number_is_refused() -> None:
    with pytest.raises(ConversionError, match="no serial number") as caught:
        _text(_HEADER + "Serial No.:\n" + _ROW + "@\n")
    assert caught.value.line == 7


def test_truncated_file_is_refused() -> None:
    with pytest.raises(ConversionError, match="truncated"):
        _text(_HEADER + "Serial No.:S1\n" + _ROW)


def test_unreadable_number_is_refused_with_its_line() -> None:
    with pytest.raises(ConversionError, match="not a number") as caught:
        _text(_HEADER + "Serial No.:S1\n" + _ROW.replace('"1.010 KO"', '"1.0x1 KO"') + "@\n")
    assert caught.value.line == 10


def test_garbled_step_line_is_refused() -> None:
    with pytest.raises(ConversionError, match="APT94xx field layout"):
        _text(_HEADER + "Serial No.:S1\n" + '000001 "R1" 1 2 +5% "PASS"\n' + "@\n")


def test_missing_date_and_bad_date_are_refused() -> None:
    with pytest.raises(ConversionError, match="no date"):
        _text(_HEADER.replace("DATE 01/02/24 10:00:00\n", "") + "Serial No.:S1\n" + _ROW + "@\n")
    with pytest.raises(ConversionError, match="not valid"):
        _text(_HEADER.replace("01/02/24", "41/02/24") + "Serial No.:S1\n" + _ROW + "@\n")


def test_atdx_without_serial_number_is_refused() -> None:
    text = (TAKAYA / "apt1400_two_runs.atdx").read_text().replace("Serial number : WO24-0077", "Serial number :")
    with pytest.raises(ConversionError, match="no serial number"):
        _text(text, "x.atdx")


def test_not_takaya_at_all_is_refused() -> None:
    with pytest.raises(ConversionError):
        _text("hello\nworld\n")


# -- the service path and the emulator ---------------------------------------------------------------------


def test_fixtures_through_the_service_path_are_accepted_by_the_emulator(emulator) -> None:
    reports = [report for path in sorted(TAKAYA.iterdir()) for report in convert("takaya", path)]
    assert len(reports) == 7
    assert all(report.location == "Lab" for report in reports)  # station fields filled for empty ones
    with emulator.client(timeout=30) as client:
        for report in reports:
            answer = client.post("/api/Report/WSJF", content=wsjf.dumps(report),
                                 headers={"Content-Type": "application/json"})  # fmt: skip
            assert answer.status_code == 200, answer.text

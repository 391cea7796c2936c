"""The ``soundcheck`` converter on the project's own Listen SoundCheck AutoSave fixtures."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from converter_support import FIXTURES, convert, find_step

from pywats.formats import wsjf
from pywats_client.converters import ConversionContext, ConversionError, SourceFile
from pywats_client.converters.builtin.soundcheck import SoundCheckConverter

SOUNDCHECK = FIXTURES / "soundcheck"
EST = timezone(timedelta(hours=-5))
CONTEXT = ConversionContext(timezone=EST)


def _convert(name: str, **arguments):
    return SoundCheckConverter(arguments).convert(SourceFile.read(SOUNDCHECK / name), CONTEXT)


def _text(text: str, **arguments):
    return SoundCheckConverter(arguments).convert(SourceFile(Path("x.txt"), text.encode()), CONTEXT)


_RESULTS = "Serial #:\tTime: \tLot #: \tName\tMargin\tUnit\tResult\tTolerance\tLimits\n"


# -- US layout: results header once, curve headers per DUT ---------------------------------------------------


def test_one_report_per_dut() -> None:
    first, second = _convert("us_two_duts.txt")
    assert (first.sn, second.sn) == ("SC-1001", "SC-1002")
    assert first.pn == second.pn == "SPK-40-A"  # Lot #
    assert first.rev == ""
    assert first.process_code == 90
    assert first.start == datetime(2023, 3, 9, 13, 5, 12, tzinfo=EST)  # 3/9/2023 1:05:12 PM
    assert second.start == datetime(2023, 3, 9, 13, 5, 40, tzinfo=EST)
    assert (first.result.value, second.result.value) == ("P", "F")


def test_results_become_numeric_steps() -> None:
    first, second = _convert("us_two_duts.txt")
    assert [step.name for step in first.root.steps] == [
        "Ave Sensitivity", "Response margin", "THD margin", "Polarity", "Fundamental", "Fundamental (deg.)", "THD",
    ]  # fmt: skip
    (sensitivity,) = find_step(first, "Ave Sensitivity").numeric_meas
    assert (sensitivity.value, sensitivity.unit, sensitivity.comp_op.value) == (94.2, "dB", "GELE")
    assert (sensitivity.low_limit, sensitivity.high_limit, sensitivity.status.value) == (92.0, 96.0, "P")
    assert find_step(first, "Ave Sensitivity").report_text == "Max/Min: 96.0/92.0"
    (margin,) = find_step(second, "Response margin").numeric_meas
    assert (margin.value, margin.comp_op.value, margin.status.value) == (-0.8, "LOG", "F")  # the verdict is kept
    assert find_step(second, "Response margin").report_text == "Tolerance curves: Floating Limits"
    (failed,) = find_step(second, "Ave Sensitivity").numeric_meas
    assert (failed.value, failed.status.value) == (97.6, "F")


def test_curves_become_charts() -> None:
    first, _ = _convert("us_two_duts.txt")
    fundamental = find_step(first, "Fundamental")
    assert fundamental.step_type == "WATS_XYGMNLT"
    chart = fundamental.chart
    assert chart.chart_type.value == "LineLogX"
    assert (chart.x_label, chart.x_unit, chart.y_unit) == ("Frequency", "Hz", "dB re 20u Pa")
    (series,) = chart.series
    assert series.xdata.split(";")[:3] == ["100.0", "125.0", "160.0"]
    assert len(series.xdata.split(";")) == len(series.ydata.split(";")) == 18
    phase = find_step(first, "Fundamental (deg.)").chart  # the z line
    assert phase.y_unit == "deg."
    assert find_step(first, "THD").status.value == "P"  # "THD margin" PASS is the THD curve's verdict


# -- EU layout: decimal commas, day first, Operator column, limit curves, header written once ---------------


def test_decimal_commas_day_first_dates_and_operator() -> None:
    first, second = _convert("eu_comma_header_once.txt")
    assert (first.sn, second.sn) == ("MX-0001", "MX-0002")
    assert first.start == datetime(2021, 1, 12, 10, 45, 3, tzinfo=EST)  # 12-01-2021: 12 January
    assert first.uut.user == "Maria"
    assert (first.result.value, second.result.value) == ("P", "F")
    (sensitivity,) = find_step(first, "Sensitivity 1kHz").numeric_meas
    assert (sensitivity.value, sensitivity.low_limit, sensitivity.high_limit) == (-1.25, -3.0, 3.0)  # Min/Max
    (noise,) = find_step(first, "Noise floor").numeric_meas
    assert (noise.low_limit, noise.high_limit) == (-120.0, -90.0)


def test_limit_curves_become_series_of_later_curves() -> None:
    first, second = _convert("eu_comma_header_once.txt")
    chart = find_step(first, "Fundamental").chart
    assert [series.name for series in chart.series] == ["Fundamental", "Upper Limit", "Lower Limit"]
    assert chart.series[1].xdata == "100.0;400.0;2000.0;6000.0;10000.0"
    assert chart.series[2].ydata == "-4.0;-2.0;-5.0;-5.0;-6.0"
    assert chart.y_unit == "dB re 1 V/sqrt(Hz)"
    assert [series.name for series in find_step(second, "Fundamental").chart.series][0] == "Fundamental"


def test_lot_as_batch_needs_a_part_number() -> None:
    with pytest.raises(ConversionError, match="part number"):
        _convert("us_two_duts.txt", lot_is="batch")
    first, _ = _convert("us_two_duts.txt", lot_is="batch", part_number="SPK-40")
    assert (first.pn, first.uut.batch_sn) == ("SPK-40", "SPK-40-A")


def test_date_order_argument() -> None:
    line = "A1\t03/04/2022 08:00:00\tL\tLevel\t1.0\tdB\tPASS\tMax/Min\t2.0/0.0\n"
    assert _text(_RESULTS + line)[0].start.month == 3  # '/': month first
    assert _text(_RESULTS + line, date_order="DMY")[0].start.month == 4
    assert _text(_RESULTS + line.replace("03/04/2022", "2022-04-03"))[0].start.month == 4
    assert _text(_RESULTS + line.replace("03/04", "13/04"))[0].start == datetime(2022, 4, 13, 8, tzinfo=EST)


def test_extra_columns_are_tolerated() -> None:
    text = ("Serial #:\tStation: \tTime: \tLot #: \tName\tComment\tMargin\tUnit\tResult\tTolerance\tLimits\tExtra\n"
            "A1\tBooth 2\t1/5/2022 9:00:00 AM\tL\tLevel\tok\t1,5\tdB\tPASS\tMax/Min\t2,0/0,0\tx\n")  # fmt: skip
    (report,) = _text(text)
    (level,) = report.root.steps[0].numeric_meas
    assert (level.value, level.low_limit, level.high_limit) == (1.5, 0.0, 2.0)
    assert {(info.description, info.text) for info in report.misc_infos} == {("Station", "Booth 2")}


# -- validate ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(path.name for path in SOUNDCHECK.iterdir()))
def test_validate_recognises_the_fixtures(name: str) -> None:
    assert SoundCheckConverter().validate(SourceFile.read(SOUNDCHECK / name)) >= 0.8


@pytest.mark.parametrize("path", [
    FIXTURES / "takaya" / "tab_panel_fail.atd",
    FIXTURES / "klippel" / "DUT syn001 2021-03-04 09-15-00-2 UTC+0100.txt",
    FIXTURES / "klippel" / "DUT syn001 2021-03-04 09-15-00-2 UTC+0100" / "Impedance-imp.txt",
    FIXTURES / "xjtag" / "single_run_export.xml",
])  # fmt: skip
def test_validate_refuses_other_formats(path: Path) -> None:
    assert SoundCheckConverter().validate(SourceFile.read(path)) <= 0.2


def test_validate_refuses_wstf() -> None:
    text = b"--HEADER-START--\nSerialNumber:\tX\n--HEADER-END--\n"
    assert SoundCheckConverter().validate(SourceFile(Path("x.txt"), text)) <= 0.2


# -- errors ------------------------------------------------------------------------------------------------


def test_record_without_serial_number_is_refused() -> None:
    with pytest.raises(ConversionError, match="no serial number") as caught:
        _text(_RESULTS + "\t1/5/2022 9:00:00 AM\tL\tLevel\t1.0\tdB\tPASS\tMax/Min\t2.0/0.0\n")
    assert (caught.value.line, caught.value.field) == (2, "Serial #")


def test_unreadable_number_is_refused_with_its_line() -> None:
    with pytest.raises(ConversionError, match="'1.2.3x' is not a number") as caught:
        _text(_RESULTS + "A1\t1/5/2022 9:00:00 AM\tL\tLevel\t1.2.3x\tdB\tPASS\tMax/Min\t2.0/0.0\n")
    assert caught.value.line == 2


def test_bad_time_and_data_before_header_are_refused() -> None:
    with pytest.raises(ConversionError, match="not a date and time"):
        _text(_RESULTS + "A1\tsoon\tL\tLevel\t1.0\tdB\tPASS\tMax/Min\t2.0/0.0\n")
    with pytest.raises(ConversionError, match="before any"):
        _text("A1\t1/5/2022 9:00:00 AM\tL\tLevel\t1.0\n")
    with pytest.raises(ConversionError, match="no SoundCheck"):
        _text("\n\n")


# -- the service path and the emulator ---------------------------------------------------------------------


def test_fixtures_through_the_service_path_are_accepted_by_the_emulator(emulator) -> None:
    reports = [report for path in sorted(SOUNDCHECK.iterdir()) for report in convert("soundcheck", path)]
    assert len(reports) == 4
    with emulator.client(timeout=30) as client:
        for report in reports:
            answer = client.post("/api/Report/WSJF", content=wsjf.dumps(report),
                                 headers={"Content-Type": "application/json"})  # fmt: skip
            assert answer.status_code == 200, answer.text

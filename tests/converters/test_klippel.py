"""The ``klippel`` folder converter on the project's own Klippel QC fixture folders."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from converter_support import FIXTURES, convert, find_step

from pywats.formats import wsjf
from pywats_client.converters import ConversionContext, ConversionError, SourceFolder
from pywats_client.converters.builtin.klippel import KlippelConverter

KLIPPEL = FIXTURES / "klippel"
PASS = KLIPPEL / "DUT syn001 2021-03-04 09-15-00-2 UTC+0100"
FAIL = KLIPPEL / "DUT syn002 2021-03-04 09-16-31-7 UTC+0100"
INSIDE = KLIPPEL / "DUT syn003 2021-03-05 14-02-10-0 UTC-0500"
UTC = ConversionContext(timezone=timezone.utc)
PLUS_ONE = timezone(timedelta(hours=1))


def _convert(folder: Path | SourceFolder, **arguments):
    source = folder if isinstance(folder, SourceFolder) else SourceFolder.read(folder)
    (report,) = KlippelConverter(arguments).convert(source, UTC)
    return report


def _with(folder: Path, *, files: dict | None = None, sidecars: dict | None = None, name: str | None = None):
    source = SourceFolder.read(folder)
    return SourceFolder(Path(name) if name else source.path, {**source.files, **(files or {})},
                        source.sidecars if sidecars is None else sidecars)  # fmt: skip


def test_header_fields() -> None:
    report = _convert(PASS)
    assert report.sn == "syn001"
    assert report.pn == "speaker-k40"  # the Klippel database's name
    assert report.rev == ""
    assert report.process_code == 90
    assert report.start == datetime(2021, 3, 4, 9, 15, 0, 245000, tzinfo=PLUS_ONE)  # UTC+0100 from the name
    assert report.result.value == "P"
    assert report.uut.user == "qc.operator"  # "win:" dropped
    assert report.machine_name == "QC-LINE-2"
    misc = {info.description: info.text for info in report.misc_infos}
    assert misc["Verdict"] == "Pass"
    assert misc["Speaker"] == "sp1"
    assert misc["Database"] == r"C:\Klippel\speaker-k40.kdbx"


def test_step_tree() -> None:
    report = _convert(PASS)
    assert [step.name for step in report.root.steps] == ["Impedance", "Sound Pressure", "Other results"]
    assert [step.name for step in find_step(report, "Impedance").steps] == ["imp", "re", "fs", "qts"]
    assert [step.name for step in find_step(report, "Sound Pressure").steps] == ["resp", "thd", "level"]
    assert [step.name for step in find_step(report, "Other results").steps] == ["pol"]  # a verdict without a table


def test_curves_become_charts_with_limit_series() -> None:
    report = _convert(PASS)
    response = find_step(report, "Sound Pressure", "resp")
    assert response.step_type == "WATS_XYGMNLT"
    assert response.status.value == "P"
    chart = response.chart
    assert chart.chart_type.value == "LineLogX"
    assert (chart.x_label, chart.x_unit, chart.y_label) == ("Frequency", "Hz", "resp")
    assert [series.name for series in chart.series] == ["resp", "max", "min"]
    first = chart.series[0]
    assert first.xdata.split(";")[0] == "100.8" and len(first.xdata.split(";")) == len(first.ydata.split(";"))
    thd = find_step(report, "Sound Pressure", "thd").chart
    assert [series.name for series in thd.series] == ["thd", "max"]
    assert len(thd.series[0].xdata.split(";")) < len(thd.series[1].xdata.split(";"))  # "-" points are left out


def test_single_values_become_numeric_steps() -> None:
    report = _convert(PASS)
    (level,) = find_step(report, "Sound Pressure", "level").numeric_meas
    assert (level.value, level.comp_op.value, level.low_limit, level.high_limit) == (88.42, "GELE", 85.0, 91.0)
    assert level.status.value == "P"
    qts = find_step(report, "Impedance", "qts")
    assert (qts.status.value, qts.numeric_meas) == ("S", [])  # no value, no limits, no verdict


def test_failing_dut_keeps_klippel_verdicts() -> None:
    report = _convert(FAIL)
    assert report.result.value == "F"
    assert report.start == datetime(2021, 3, 4, 9, 16, 31, 702000, tzinfo=PLUS_ONE)
    assert find_step(report, "Impedance", "imp").status.value == "F"
    (resistance,) = find_step(report, "Impedance", "re").numeric_meas
    assert resistance.value is None and resistance.status.value == "F"
    assert (resistance.low_limit, resistance.high_limit) == (5.6, 6.4)
    assert find_step(report, "Other results", "pol").status.value == "F"
    assert find_step(report, "Sound Pressure").status.value == "P"


def test_header_inside_the_folder_and_negative_utc_offset() -> None:
    report = _convert(INSIDE)
    assert report.sn == "syn003"
    assert report.start == datetime(2021, 3, 5, 14, 2, 10, 18000, tzinfo=timezone(timedelta(hours=-5)))
    assert report.uut.user == "engineer"
    assert report.machine_name == ""
    assert find_step(report, "Other results", "thd").status.value == "P"  # listed, but its table is absent


def test_status_computed_from_limits_when_the_header_lists_no_verdict() -> None:
    source = _with(PASS, files={"Extra-spl.txt": b"frq\tspl\tmax\tmin\n100\t80\t85\t75\n200\t90\t85\t75\n"})
    report = _convert(source)
    assert find_step(report, "Extra", "spl").status.value == "F"


def test_without_header_the_folder_name_gives_serial_and_time() -> None:
    report = _convert(_with(PASS, sidecars={}), part_number="SPK-1")
    assert report.sn == "syn001"
    assert report.pn == "SPK-1"
    assert report.start == datetime(2021, 3, 4, 9, 15, 0, 200000, tzinfo=PLUS_ONE)
    assert report.result.value == "P"  # computed: no verdict in a missing header


# -- validate ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", [PASS, FAIL, INSIDE], ids=["pass", "fail", "header-inside"])
def test_validate_recognises_the_fixture_folders(folder: Path) -> None:
    assert KlippelConverter().validate(SourceFolder.read(folder)) >= 0.8


def test_validate_gives_zero_for_other_folders() -> None:
    for folder in ("takaya", "xjtag", "soundcheck"):
        assert KlippelConverter().validate(SourceFolder.read(FIXTURES / folder)) == 0.0
    assert KlippelConverter().validate(SourceFolder(Path("empty"), {}, {})) == 0.0
    tables_only = SourceFolder(Path("random"), {"a-b.txt": b"frq\tx\n1\t2\n"}, {})
    assert KlippelConverter().validate(tables_only) < 0.5


# -- errors ------------------------------------------------------------------------------------------------


def test_no_serial_number_is_refused() -> None:
    source = SourceFolder(Path("results"), dict(SourceFolder.read(PASS).files), {})
    with pytest.raises(ConversionError, match="no serial number") as caught:
        KlippelConverter().convert(source, UTC)
    assert caught.value.field == "Cfg_SerialNumber"


def test_unreadable_number_is_refused_with_file_and_line() -> None:
    source = _with(PASS, files={"Impedance-imp.txt": b"frq\timp\tmax\tmin\n20\t6.5\t8.8\t5.2\n25\tsix\t8.8\t5.2\n"})
    with pytest.raises(ConversionError, match="'six' is not a number") as caught:
        KlippelConverter().convert(source, UTC)
    assert (caught.value.line, caught.value.element) == (3, "Impedance-imp.txt")


def test_missing_part_number_is_refused() -> None:
    header = (PASS.parent / (PASS.name + ".txt")).read_bytes().replace(b"Cfg_DatabasePath=", b"Cfg_Other=")
    source = _with(PASS, sidecars={PASS.name + ".txt": header})
    with pytest.raises(ConversionError, match="part number"):
        KlippelConverter().convert(source, UTC)


def test_missing_start_time_is_refused() -> None:
    header = (PASS.parent / (PASS.name + ".txt")).read_bytes().replace(b"Cfg_DutStartTime=", b"Cfg_Other=")
    source = _with(PASS, sidecars={PASS.name + ".txt": header}, name="results")
    with pytest.raises(ConversionError, match="no start time"):
        KlippelConverter().convert(source, UTC)


# -- the service path and the emulator ---------------------------------------------------------------------


def test_fixture_folders_through_the_service_path_are_accepted_by_the_emulator(emulator) -> None:
    reports = [report for folder in (PASS, FAIL, INSIDE) for report in convert("klippel", folder)]
    assert [report.result.value for report in reports] == ["P", "F", "P"]
    with emulator.client(timeout=30) as client:
        for report in reports:
            answer = client.post("/api/Report/WSJF", content=wsjf.dumps(report),
                                 headers={"Content-Type": "application/json"})  # fmt: skip
            assert answer.status_code == 200, answer.text

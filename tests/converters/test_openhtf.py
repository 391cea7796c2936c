"""The OpenHTF converter on the project's own records (newer and older layouts) and, when present, the samples."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import SAMPLES
from converter_support import CONTEXT, FIXTURES, convert

from pywats.formats import wsjf
from pywats_client.converters import ConversionError, SourceFile, load_converter_class
from pywats_client.converters.builtin.openhtf import numeric_limits, report_from_record, string_limit

OPENHTF = FIXTURES / "openhtf"
PASS = OPENHTF / "power_board_pass.json"
FAIL = OPENHTF / "power_board_fail.json"
OLDER = OPENHTF / "older_layout_error.json"


def _steps(step) -> dict:
    return {child.name: child for child in step.steps}


def _record(path: Path = PASS) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _convert_record(record: dict, **arguments):
    source = SourceFile(Path("record.json"), json.dumps(record).encode())
    return load_converter_class("openhtf")(arguments).convert(source, CONTEXT)


def test_passing_record_header() -> None:
    (report,) = convert("openhtf", PASS)
    assert (report.sn, report.pn, report.rev, report.process_code) == ("PCB-0001", "PWR-100", "C", 100)
    assert report.start == datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert report.result == "P"
    assert report.machine_name == "bench-07"
    assert report.uut.user == "alice"
    assert report.uut.comment == "Power board functional test"
    assert report.uut.exec_time == pytest.approx(12.5)
    assert report.root.name == "PowerBoardTest"
    assert report.root.seq_call.version == "2.3.1"
    misc = {item.description: item.text for item in report.misc_infos}
    assert misc == {"code_info.name": "power_board.py", "fixture": "FX-2", "lot": "42"}


def test_passing_record_steps() -> None:
    (report,) = convert("openhtf", PASS)
    phases = _steps(report.root)
    assert list(phases) == ["power_up", "rf"]  # phases of subtest "rf" are grouped in its sequence
    assert list(_steps(phases["rf"])) == ["sweep", "rf_power"]
    power = phases["power_up"]
    assert power.status == "P" and power.tot_time == pytest.approx(2.0)
    assert power.start == datetime(2024, 6, 1, 12, 0, 0, 100000, tzinfo=timezone.utc)
    steps = _steps(power)
    assert list(steps) == ["vcc", "current_ma", "temp", "fw_version", "led_on", "scope.csv"]
    vcc = steps["vcc"].numeric_meas[0]
    assert (vcc.value, vcc.comp_op, vcc.low_limit, vcc.high_limit, vcc.unit, vcc.status) == (
        3.31, "GELE", 3.2, 3.4, "V", "P")  # fmt: skip
    assert steps["vcc"].report_text == "Main rail"
    current = steps["current_ma"].numeric_meas[0]
    assert (current.comp_op, current.low_limit, current.high_limit, current.unit) == ("LE", 150, None, "mA")
    temp = steps["temp"].numeric_meas[0]  # marginal bounds are not limits
    assert (temp.comp_op, temp.low_limit, temp.high_limit, temp.unit) == ("GELE", 20, 50, "°C")
    firmware = steps["fw_version"].string_meas[0]
    assert (firmware.value, firmware.comp_op, firmware.limit, firmware.status) == ("1.4.2", "EQ", "1.4.2", "P")
    assert steps["led_on"].step_type == "ET_PFT" and steps["led_on"].status == "P"
    attachment = steps["scope.csv"].attachment
    assert attachment.content_type == "text/csv"
    assert base64.b64decode(attachment.data) == b"t,v\n0,0\n1,3.3\n"
    tx = _steps(_steps(phases["rf"])["rf_power"])["tx_power"].numeric_meas[0]
    assert (tx.comp_op, tx.low_limit, tx.high_limit) == ("GELE", pytest.approx(15.3), pytest.approx(18.7))


def test_one_dimension_measurement_becomes_a_chart_with_limit_checks() -> None:
    (report,) = convert("openhtf", PASS)
    gain = _steps(_steps(_steps(report.root)["rf"])["sweep"])["gain"]
    assert gain.step_type == "WATS_XYGMNLT" and gain.status == "P"
    chart = gain.chart
    assert (chart.x_label, chart.x_unit, chart.y_label, chart.y_unit) == ("hertz", "Hz", "decibel", "dB")
    (series,) = chart.series
    assert series.xdata == "100.0;200.0;400.0;800.0" and series.ydata == "12.5;13.0;13.4;12.9"
    low, high = gain.numeric_meas  # "All values pass: 10 <= x <= 20" checked on the extremes
    assert (low.name, low.value, low.comp_op, low.low_limit, low.high_limit) == ("min", 12.5, "GELE", 10, 20)
    assert (high.name, high.value) == ("max", 13.4)


def test_failing_record() -> None:
    (report,) = convert("openhtf", FAIL)
    assert report.sn == "PCB-0002" and report.result == "F"
    assert report.uut.error_message == "VCC_HIGH: vcc out of range"
    phases = _steps(report.root)
    assert phases["power_up"].status == "F"
    assert phases["calibrate"].status == "S"
    steps = _steps(phases["power_up"])
    vcc = steps["vcc"].numeric_meas[0]
    assert (vcc.value, vcc.status, steps["vcc"].status) == (3.55, "F", "F")
    ripple = steps["ripple"].numeric_meas[0]
    assert (ripple.comp_op, ripple.low_limit, ripple.high_limit, ripple.status) == ("LT", 0.05, None, "F")
    echo = steps["serial_echo"].string_meas[0]
    assert (echo.comp_op, echo.limit, echo.status) == ("REGEX", r"^PCB-\d{4}$", "F")
    assert steps["not_taken"].status == "S" and steps["not_taken"].report_text == "validator: x == 1"
    labels = steps["zone_labels"]  # strings are not chartable: one measurement per row
    assert labels.step_type == "ET_MSVT"
    assert [(m.name, m.value) for m in labels.string_meas] == [("zone=A", "ok"), ("zone=B", "ok")]


def test_older_layout_reads_measured_values_and_error() -> None:
    (report,) = convert("openhtf", OLDER)
    assert (report.sn, report.pn, report.rev, report.result) == ("W-77", "widgets.py", "1", "E")
    assert report.uut.error_message == "ValueError: bad level"
    (phase,) = report.root.steps
    assert phase.status == "E" and phase.error_message == "Traceback: ValueError('bad level')"
    steps = _steps(phase)
    size = steps["widget_size"].numeric_meas[0]
    assert (size.value, size.comp_op, size.low_limit, size.high_limit) == (3, "GELE", 1, 4)
    assert steps["widget_color"].string_meas[0].value == "Black"
    level = steps["level"].numeric_meas[0]
    assert (level.value, level.comp_op, level.low_limit, level.status, level.unit) == (11, "LE", 10, "F", None)


@pytest.mark.parametrize(("outcome", "result"), [("PASS", "P"), ("FAIL", "F"), ("ERROR", "E"), ("TIMEOUT", "E"),
                                                 ("ABORTED", "T")])  # fmt: skip
def test_record_outcome_gives_the_result(outcome: str, result: str) -> None:
    record = _record()
    record["outcome"] = outcome
    (report,) = _convert_record(record)
    assert report.result == result and report.root.status == result


def test_report_from_record_takes_the_in_memory_record() -> None:
    class Attachment:  # what openhtf's convert_test_record_to_json leaves inline
        data = b"\x89PNG..."
        mimetype = "image/png"

    record = _record()
    record["phases"][0]["attachments"] = {"photo.png": Attachment()}
    gain = record["phases"][1]["measurements"]["gain"]  # base types keep tuples as tuples
    gain["measured_value"] = tuple(tuple(row) for row in gain["measured_value"])
    gain["validators"] = tuple(gain["validators"])
    report = report_from_record(record, {"process_code": 50}, CONTEXT)
    assert report.process_code == 50
    photo = _steps(report.root.steps[0])["photo.png"].attachment
    assert base64.b64decode(photo.data) == b"\x89PNG..." and photo.content_type == "image/png"
    chart = _steps(_steps(_steps(report.root)["rf"])["sweep"])["gain"]
    assert chart.chart.series[0].ydata == "12.5;13.0;13.4;12.9" and chart.numeric_meas[1].value == 13.4
    assert report_from_record(record).sn == "PCB-0001"  # arguments and context are optional


def test_arguments_fill_what_the_record_lacks() -> None:
    record = _record(OLDER)
    record["dut_id"] = ""
    (report,) = _convert_record(record, serial_number="FALLBACK-1", part_number="W-PN", revision="R2")
    assert (report.sn, report.pn, report.rev) == ("FALLBACK-1", "W-PN", "R2")


def test_multidim_measurements_mode_and_series_cap() -> None:
    record = _record()
    (report,) = _convert_record(record, multidim="measurements")
    gain = _steps(_steps(_steps(report.root)["rf"])["sweep"])["gain"]
    assert gain.step_type == "ET_MNLT"
    first = gain.numeric_meas[0]
    assert (first.name, first.value, first.comp_op, first.low_limit, first.high_limit, first.unit) == (
        "hertz=100", 12.5, "GELE", 10, 20, "dB")  # fmt: skip
    record["phases"][1]["measurements"]["gain"]["dimensions"].append({"name": "port", "suffix": ""})
    record["phases"][1]["measurements"]["gain"]["measured_value"] = [[f, p, 1.0] for f in (1, 2) for p in range(3)]
    (report,) = _convert_record(record, max_chart_series=2)
    gain = _steps(_steps(_steps(report.root)["rf"])["sweep"])["gain"]
    assert gain.step_type == "ET_MNLT" and len(gain.numeric_meas) == 6
    (report,) = _convert_record(record)
    chart = _steps(_steps(_steps(report.root)["rf"])["sweep"])["gain"].chart
    assert [series.name for series in chart.series] == ["port=0", "port=1", "port=2"]


def test_list_of_records_gives_a_report_each() -> None:
    source = SourceFile(Path("two.json"), json.dumps([_record(), _record(FAIL)]).encode())
    reports = load_converter_class("openhtf")().convert(source, CONTEXT)
    assert [report.sn for report in reports] == ["PCB-0001", "PCB-0002"]


# -- validator texts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("1 <= x <= 4", ("GELE", 1, 4)),
    ("1 < x < 4", ("GTLT", 1, 4)),
    ("0.5 <= x", ("GE", 0.5, None)),
    ("x <= 10", ("LE", None, 10)),
    ("x < 10", ("LT", None, 10)),
    ("x == 5", ("EQ", 5, None)),
    ("-1e-3 <= Marginal:0 <= x <= Marginal:2 <= 3", ("GELE", -0.001, 3)),
    ("All values pass: 10 <= x <= 20", ("GELE", 10, 20)),
    ("'x' is within 10% of 50. Marginal: None% of 50", ("GELE", 45, 55)),
    ("'x' is equal to '7'", ("EQ", 7, None)),
    ("'x' matches /^a$/", None),
    ("Once pass, rest must also pass: 1 <= x <= 2", None),
    ("x <= y", None),
    ("1 <= x >= 2", None),
])  # fmt: skip
def test_numeric_limits(text: str, expected) -> None:
    assert numeric_limits(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("'x' matches /^Black$/", ("EQ", "Black")),
    ("'x' matches /^1\\.4\\-2$/", ("EQ", "1.4-2")),
    ("'x' matches /.*Widget$/", ("REGEX", ".*Widget$")),
    ("'x' matches /^(a|b)$/", ("REGEX", "^(a|b)$")),
    ("'x' is equal to 'on'", ("EQ", "on")),
    ("1 <= x <= 4", None),
])  # fmt: skip
def test_string_limit(text: str, expected) -> None:
    assert string_limit(text) == expected


# -- validate ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [PASS, FAIL, OLDER], ids=lambda path: path.name)
def test_validate_claims_records_and_beats_wsjf(path: Path) -> None:
    source = SourceFile.read(path)
    score = load_converter_class("openhtf")().validate(source)
    assert score >= 0.8
    assert score > load_converter_class("wsjf")().validate(source)


def test_validate_scores_wsjf_and_other_files_low(tmp_path: Path) -> None:
    (report,) = convert("openhtf", PASS)
    converter = load_converter_class("openhtf")()
    assert converter.validate(SourceFile(Path("r.json"), wsjf.dumps(report).encode())) <= 0.2
    assert converter.validate(SourceFile.read(FIXTURES / "junit" / "surefire_pass.xml")) <= 0.2
    assert converter.validate(SourceFile(Path("x.json"), b'{"name": "x", "value": 3}')) <= 0.2
    for path in sorted((SAMPLES / "wsjf").glob("*.json")):
        assert converter.validate(SourceFile.read(path)) <= 0.2, path.name


# -- errors --------------------------------------------------------------------------------------------


def test_record_without_dut_id_is_refused_naming_it() -> None:
    record = _record()
    del record["dut_id"]
    with pytest.raises(ConversionError, match="serial number") as caught:
        _convert_record(record)
    assert caught.value.field == "dut_id"


@pytest.mark.parametrize(("change", "field"), [
    (lambda r: r.update(start_time_millis="yesterday"), "start_time_millis"),
    (lambda r: r.update(start_time_millis=10**20), "start_time_millis"),
    (lambda r: r["phases"][0]["attachments"]["scope.csv"].update(data="not base64!"),
     "phases[0].attachments.scope.csv"),
    (lambda r: r["phases"][0].update(measurements=[1, 2]), "phases[0].measurements"),
    (lambda r: r["phases"][0].pop("name"), "phases[0].name"),
    (lambda r: r.update(phases={"a": 1}), "phases"),
])  # fmt: skip
def test_malformed_records_name_the_field(change, field: str) -> None:
    record = _record()
    change(record)
    with pytest.raises(ConversionError) as caught:
        _convert_record(record)
    assert caught.value.field == field


def test_broken_json_and_other_json_are_refused() -> None:
    converter = load_converter_class("openhtf")()
    with pytest.raises(ConversionError) as caught:
        converter.convert(SourceFile(Path("x.json"), b'{\n  "dut_id": "A",\n  "phases": [\n'), CONTEXT)
    assert caught.value.line == 4
    with pytest.raises(ConversionError, match="not an OpenHTF test record"):
        converter.convert(SourceFile(Path("x.json"), b'{"root": {}, "sn": "1"}'), CONTEXT)


# -- the shared samples --------------------------------------------------------------------------------


@pytest.mark.samples
def test_hello_world_sample() -> None:
    path = SAMPLES / "openhtf" / "test.hello_world.json"
    if not path.is_file():
        pytest.skip("no OpenHTF samples")
    (report,) = convert("openhtf", path)
    assert (report.sn, report.result, report.machine_name) == ("test", "E", "maddychan0.mtv.corp.google.com")
    (phase,) = report.root.steps
    assert phase.status == "E" and phase.error_message == "HELLO THERE"
    assert phase.steps[0].string_meas[0].value == "Hello Again!"


@pytest.mark.samples
def test_multidim_sample_becomes_a_chart() -> None:
    path = SAMPLES / "openhtf" / "multidim_testdata.json"
    if not path.is_file():
        pytest.skip("no OpenHTF samples")
    (report,) = convert("openhtf", path)
    assert report.sn == "multidim_testdata" and report.result == "P"
    (step,) = report.root.steps[0].steps
    chart = step.chart
    assert (chart.x_label, chart.x_unit, chart.y_label, chart.y_unit) == ("ms", "ms", "degree Celsius", "°C")
    assert len(chart.series) == 9 and chart.series[0].name == "assembly=A, zone=0"
    assert chart.series[0].xdata.count(";") == 9

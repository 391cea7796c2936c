"""The configurable CSV converter: long and wide layouts, column mapping, number formats, errors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from converter_support import CONTEXT, FIXTURES, convert

from pywats_client.converters import ConversionError, SourceFile, load_converter_class

CSV = FIXTURES / "csv"


def _steps(step) -> dict:
    return {child.name: child for child in step.steps}


def _convert_text(text: str, *, file_encoding: str = "utf-8", **arguments):
    source = SourceFile(Path("results.csv"), text.encode(file_encoding))
    return load_converter_class("csv")(arguments).convert(source, CONTEXT)


def test_long_layout_groups_rows_per_unit() -> None:
    first, second = convert("csv", CSV / "long_layout.csv")
    assert (first.sn, first.pn, first.rev, first.process_code, first.result) == ("PSU-1001", "PSU-24V", "B", 100, "P")
    assert first.start.replace(tzinfo=None) == datetime(2024, 6, 5, 8, 30)
    assert first.uut.user == "alice" and first.machine_name == "ATE-3"
    assert (second.sn, second.result) == ("PSU-1002", "F")
    sequences = _steps(first.root)
    assert list(sequences) == ["Power", "Identity"]
    power = _steps(sequences["Power"])
    volts = power["Output voltage"].numeric_meas[0]
    assert (volts.value, volts.comp_op, volts.low_limit, volts.high_limit, volts.unit, volts.status) == (
        24.05, "GELE", 23.5, 24.5, "V", "P")  # fmt: skip
    ripple = power["Ripple"].numeric_meas[0]  # single-limit LE keeps its limit in lowLimit
    assert (ripple.comp_op, ripple.low_limit, ripple.high_limit) == ("LE", 0.05, None)
    efficiency = power["Efficiency"].numeric_meas[0]  # no operator, one limit: GE
    assert (efficiency.comp_op, efficiency.low_limit, efficiency.unit) == ("GE", 88, "%")
    identity = _steps(sequences["Identity"])
    firmware = identity["Firmware"].string_meas[0]
    assert (firmware.value, firmware.comp_op, firmware.limit, firmware.status) == ("2.0.7", "EQ", "2.0.7", "P")
    assert identity["Label check"].step_type == "ET_PFT" and identity["Label check"].status == "P"
    failed = _steps(_steps(second.root)["Power"])["Output voltage"].numeric_meas[0]
    assert (failed.value, failed.status) == (24.71, "F")  # computed from the limits
    assert _steps(second.root)["Power"].steps[1].numeric_meas[0].comp_op == "LE"  # "<=" in the file
    assert _steps(_steps(second.root)["Identity"])["Label check"].status == "F"


def test_wide_layout_with_limit_and_unit_rows() -> None:
    reports = convert("csv", CSV / "wide_layout.csv")
    assert [(r.sn, r.result) for r in reports] == [("SN-A01", "P"), ("SN-A02", "F"), ("SN-A03", "P")]
    first = reports[0]
    assert (first.pn, first.rev) == ("BRD-7", "A")
    assert first.start.replace(tzinfo=None) == datetime(2024, 6, 6, 10, 0)
    steps = _steps(first.root)
    assert list(steps) == ["Vcc", "Icc", "Temp", "Firmware"]
    vcc = steps["Vcc"].numeric_meas[0]
    assert (vcc.value, vcc.comp_op, vcc.low_limit, vcc.high_limit, vcc.unit) == (3.31, "GELE", 3.2, 3.4, "V")
    icc = steps["Icc"].numeric_meas[0]  # only a high limit: LE, kept in lowLimit
    assert (icc.comp_op, icc.low_limit, icc.unit) == ("LE", 150, "mA")
    assert steps["Firmware"].string_meas[0].value == "1.2.0"
    assert steps["Temp"].numeric_meas[0].unit == "°C"
    assert "Icc" not in _steps(reports[2].root)  # an empty cell: not measured
    assert _steps(reports[1].root)["Vcc"].numeric_meas[0].status == "F"


def test_decimal_comma_semicolons_skip_rows_and_encoding() -> None:
    text = ("Export from tester 4\nDate: 06.06.2024\n"
            "Seriennummer;Prüfschritt;Messwert;UG;OG;Einheit;Zeit\n"
            "K-17;Spannung;1.234,5;1.000;1.500;mV;06.06.2024 10:00:00\n"
            "K-17;Strom;0,5;;1;A;06.06.2024 10:00:00\n")  # fmt: skip
    arguments = {
        "skip_rows": 2, "decimal": ",", "encoding": "cp1252", "serial_number_column": "Seriennummer",
        "step_name_column": "Prüfschritt", "value_column": "Messwert", "low_limit_column": "UG",
        "high_limit_column": "OG", "unit_column": "Einheit", "start_time_column": "Zeit",
        "start_time_format": "%d.%m.%Y %H:%M:%S", "part_number": "KABEL-1", "revision": "3",
    }  # fmt: skip
    (report,) = _convert_text(text, file_encoding="cp1252", **arguments)
    assert (report.sn, report.pn, report.rev) == ("K-17", "KABEL-1", "3")
    assert report.start.replace(tzinfo=None) == datetime(2024, 6, 6, 10, 0)
    steps = _steps(report.root)
    volts = steps["Spannung"].numeric_meas[0]
    assert (volts.value, volts.low_limit, volts.high_limit, volts.unit) == (1234.5, 1000, 1500, "mV")
    amps = steps["Strom"].numeric_meas[0]
    assert (amps.value, amps.comp_op, amps.low_limit) == (0.5, "LE", 1)


def test_columns_by_position_tabs_and_constants() -> None:
    text = "sn\tname\tvalue\nU1\tgain\t12.5\nU1\tmode\tfast\nU2\tgain\t11\n"
    reports = _convert_text(text, serial_number_column="#1", step_name_column="#2", value_column="#3",
                            part_number="AMP", revision="1", operator="bob", station_name="line-2",
                            process_code=50)  # fmt: skip
    assert [(r.sn, r.pn, r.process_code, r.uut.user, r.machine_name) for r in reports] == [
        ("U1", "AMP", 50, "bob", "line-2"), ("U2", "AMP", 50, "bob", "line-2")]  # fmt: skip
    steps = _steps(reports[0].root)
    assert steps["gain"].numeric_meas[0].comp_op == "LOG"
    assert steps["mode"].string_meas[0].value == "fast"


def test_statuses_and_results_from_the_file() -> None:
    text = ("SerialNumber,PartNumber,Revision,Result,StepName,Value,LowLimit,HighLimit,Status\n"
            "X1,P,A,Error,probe,5,1,2,Pass\n"
            "X1,P,A,Error,relay,7,,,E\n"
            "X1,P,A,Error,skip me,,,,Skipped\n")  # fmt: skip
    (report,) = _convert_text(text)
    assert report.result == "E"
    steps = _steps(report.root)
    assert steps["probe"].numeric_meas[0].status == "P"  # the file's verdict is kept
    assert steps["relay"].status == "E" and steps["relay"].numeric_meas[0].value == 7
    assert steps["skip me"].status == "S"


def test_explicit_layout_and_measurement_columns() -> None:
    text = "SerialNumber,PartNumber,Revision,A,B,C\nW1,P,1,1,2,3\n"
    (report,) = _convert_text(text, layout="wide", measurement_columns=["C", "a"])
    assert [step.name for step in report.root.steps] == ["C", "A"]


# -- validate ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["long_layout.csv", "wide_layout.csv"])
def test_validate_is_low_but_positive_on_mapped_files(name: str) -> None:
    assert load_converter_class("csv")().validate(SourceFile.read(CSV / name)) == pytest.approx(0.3)


def test_validate_refuses_files_without_the_mapped_columns() -> None:
    converter = load_converter_class("csv")()
    assert converter.validate(SourceFile(Path("x.csv"), b"Part;Test;Value\nA;B;1\n")) == 0.0
    assert converter.validate(SourceFile.read(FIXTURES / "openhtf" / "power_board_pass.json")) == 0.0
    assert converter.validate(SourceFile.read(FIXTURES / "junit" / "gtest_fail.xml")) == 0.0
    assert converter.validate(SourceFile(Path("x.csv"), b"SerialNumber\nA\n")) == 0.0


# -- errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "arguments", "message", "line"), [
    ("Part,StepName,Value\nP,a,1\n", {}, "no serial number column 'SerialNumber'", 1),
    ("SerialNumber,PartNumber,Revision,StepName,Value\nS,P,A,a,1\n,P,A,b,2\n", {}, "no serial number", 3),
    ("SerialNumber,StepName,Value\nS,a,1\n", {"revision": "1"}, "no part number", 2),
    ("SerialNumber,StepName,Value\nS,a,1\n", {"part_number": "P"}, "no revision", 2),
    ("SerialNumber,PartNumber,Revision,StepName,Value,LowLimit\nS,P,A,a,1,low\n", {}, "'low' is not a number", 2),
    ("SerialNumber,PartNumber,Revision,StepName,Value,HighLimit\nS,P,A,a,text,5\n", {}, "not a number", 2),
    ("SerialNumber,PartNumber,Revision,StepName,Value,CompOperator\nS,P,A,a,1,~\n", {}, "not a comparison", 2),
    ("SerialNumber,PartNumber,Revision,StepName,Value,CompOperator\nS,P,A,a,1,GELE\n", {}, "needs a low and a high", 2),
    ("SerialNumber,PartNumber,Revision,StepName,Value,Status\nS,P,A,a,1,maybe\n", {}, "not a status", 2),
    ("SerialNumber,PartNumber,Revision,StepName,Value\nS,P,A,,1\n", {}, "no step name", 2),
    ("SerialNumber,PartNumber,Revision,StartTime,StepName,Value\nS,P,A,noon,a,1\n", {}, "not a date", 2),
    ("SerialNumber,PartNumber,Revision,StepName,Value\n", {}, "no data rows", 2),
    ("SerialNumber,PartNumber,Revision,StepName,Value\nS,P,A,a,1\n", {"unit_column": "Units"}, "no column 'Units'", 1),
])  # fmt: skip
def test_errors_name_the_line(text: str, arguments: dict, message: str, line: int) -> None:
    with pytest.raises(ConversionError, match=message) as caught:
        _convert_text(text, **arguments)
    assert caught.value.line == line


def test_bad_delimiter_argument() -> None:
    with pytest.raises(ConversionError, match="one character"):
        _convert_text("a;b\n", delimiter=";;")

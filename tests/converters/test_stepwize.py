"""The StepWize XSPC converter on the project's own fixtures (fixtures/stepwize/)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from converter_support import FIXTURES, convert, find_step

from pywats_client.converters import ConversionContext, ConversionError, SourceFile, load_converter_class
from pywats_client.converters.builtin.stepwize import _limit_rule

HERE = FIXTURES / "stepwize"
UTC = ConversionContext(timezone=timezone.utc)


def _converter(**arguments):
    return load_converter_class("stepwize")(arguments)


def _convert_bytes(data: bytes, **arguments):
    return _converter(**arguments).convert(SourceFile(Path("unit.xspc"), data), UTC)


def _meas(step):
    for kind in ("numeric_meas", "string_meas", "boolean_meas"):
        if getattr(step, kind, None):
            [measurement] = getattr(step, kind)
            return measurement
    raise AssertionError(f"{step.name} has no measurement")


def test_passing_unit_header() -> None:
    [report] = _convert_bytes((HERE / "unit_pass.xspc").read_bytes())
    assert (report.sn, report.pn, report.rev) == ("CT500-00017", "CTRL-500", "C")  # partRev before revision
    assert report.process_code == 100  # operation "Final Function Test" names a known process
    assert report.start == datetime(2025, 2, 1, 10, 0, tzinfo=timezone.utc)
    assert report.result.value == "P"
    assert report.uut.user == "jdoe"
    assert report.uut.exec_time == 9.0
    assert report.root.name == "ctrl500_functional.xml" and report.root.seq_call.version == "012"
    misc = {m.description: m.text for m in report.misc_infos}
    assert misc["workOrder"] == "WO-1200"
    assert misc["modelNumber"] == "CTRL-500M"
    assert misc["revision"] == "7"
    assert misc["operation"] == "Final Function Test"
    assert "MD5" not in misc and "description" not in misc  # file bookkeeping and empty fields are left out
    assert [asset.asset_sn for asset in report.assets] == ["FIX-01"]


def test_passing_unit_steps() -> None:
    [report] = convert("stepwize", HERE / "unit_pass.xspc")
    assert [step.name for step in report.root.steps] == ["Power On", "Supply voltage", "Identify",
                                                         "Frequency response"]  # fmt: skip
    supply = find_step(report.root, "Supply voltage")
    assert supply.step_type == "SequenceCall" and supply.status.value == "P" and supply.tot_time == 1.5
    assert [step.name for step in supply.steps] == ["Overall Outcome", "iteration", "24V rail", "Current draw",
                                                    "Standby power"]  # fmt: skip
    assert find_step(supply, "Overall Outcome").step_type == "ET_PFT"
    iteration = _meas(find_step(supply, "iteration"))
    assert (iteration.comp_op.value, iteration.value, iteration.status.value) == ("LOG", 0.0, "P")  # record only
    rail = _meas(find_step(supply, "24V rail"))
    assert (rail.value, rail.comp_op.value, rail.low_limit, rail.high_limit, rail.unit, rail.status.value) == (
        24.02, "GELE", 23.5, 24.5, "V", "P")  # fmt: skip
    current = _meas(find_step(supply, "Current draw"))  # "Value <= UL": the upper limit is kept in lowLimit
    assert (current.comp_op.value, current.low_limit, current.high_limit, current.unit) == ("LE", 0.8, None, "A")
    standby = _meas(find_step(supply, "Standby power"))
    assert (standby.comp_op.value, standby.low_limit) == ("GE", 0.1)
    cutoff = _meas(find_step(report.root, "Frequency response", "Cutoff"))
    assert (cutoff.comp_op.value, cutoff.low_limit, cutoff.high_limit, cutoff.unit) == ("GTLT", 1000.0, 4000.0, "Hz")
    identify = find_step(report.root, "Identify")
    assert identify.report_text == "operator confirmed LED"
    firmware = _meas(find_step(identify, "Firmware version"))
    assert (firmware.value, firmware.limit, firmware.comp_op.value) == ("2.0.4", "2.0.4", "IGNORECASE")
    assert find_step(identify, "Boot flag").step_type == "ET_PFT"


def test_failing_unit_keeps_the_file_verdicts() -> None:
    [report] = _convert_bytes((HERE / "unit_fail.xspc").read_bytes())
    assert report.result.value == "F"
    supply = find_step(report.root, "Supply voltage")
    assert supply.status.value == "F"
    assert find_step(supply, "24V rail").error_message == "E12"  # the row's cause, on the row's step
    assert find_step(supply, "Overall Outcome").status.value == "F"
    rail = _meas(find_step(supply, "24V rail"))
    assert (rail.value, rail.status.value) == (25.1, "F")
    current = _meas(find_step(supply, "Current draw"))
    assert (current.comp_op.value, current.low_limit, current.status.value) == ("LT", 0.8, "P")
    identify = find_step(report.root, "Identify")
    firmware = _meas(find_step(identify, "Firmware version"))
    assert (firmware.comp_op.value, firmware.status.value) == ("CASESENSIT", "F")
    assert _meas(find_step(identify, "Boot flag")).status.value == "F"
    assert find_step(report.root, "Power On").status.value == "P"


def test_process_code_arguments() -> None:
    data = (HERE / "unit_pass.xspc").read_bytes()
    [report] = _convert_bytes(data, operation_codes={"Final Function Test": 110})
    assert report.process_code == 110
    [report] = _convert_bytes(data.replace(b"<operation>Final Function Test</operation>",
                                           b"<operation>Line 4 EOL</operation>"), process_code=50)  # fmt: skip
    assert report.process_code == 50


@pytest.mark.parametrize(
    ("mode", "rule"),
    [
        ("LL <= Value <= UL", ("GELE", "LL", "UL")),
        ("LL < Value <= UL", ("GTLE", "LL", "UL")),
        ("Value > LL", ("GT", "LL", None)),
        ("Value >= LL", ("GE", "LL", None)),
        ("Value < UL", ("LT", "UL", None)),
        ("Value <= UL", ("LE", "UL", None)),
        ("Value == LL", ("EQ", "LL", None)),
        ("Value != LL", ("NE", "LL", None)),
        ("UL >= Value", ("LE", "UL", None)),
        ("Value < LL or Value > UL", ("LTGT", "LL", "UL")),
        ("", ("LOG", None, None)),
        ("Value ~ LL", None),
    ],
)
def test_limit_modes(mode: str, rule) -> None:
    assert _limit_rule(mode) == rule


def test_unknown_limit_mode_is_logged_not_fatal() -> None:
    data = (HERE / "unit_pass.xspc").read_bytes().replace(b"LL &lt; Value &lt; UL", b"Value within band", 1)
    [report] = _convert_bytes(data)
    cutoff = find_step(report.root, "Frequency response", "Cutoff")
    assert _meas(cutoff).comp_op.value == "LOG" and _meas(cutoff).status.value == "P"
    assert "limit mode not understood" in cutoff.report_text


@pytest.mark.parametrize(
    ("old", "new", "message", "field"),
    [
        (b"<serialNumber>CT500-00018</serialNumber>", b"<serialNumber></serialNumber>", "serial number",
         "serialNumber"),
        (b"<stepValue>2.5100000000000001E+1</stepValue>", b"<stepValue>25,1</stepValue>", "not a number", "stepValue"),
        (b"<startDateTime>2025-02-01T11:00:00.000</startDateTime>", b"<startDateTime>01/02/2025</startDateTime>",
         "ISO 8601", "startDateTime"),
        (b"<startDateTime>2025-02-01T11:00:00.000</startDateTime>", b"<startDateTime></startDateTime>",
         "no start time", "startDateTime"),
    ],
)
def test_bad_content_is_a_conversion_error(old: bytes, new: bytes, message: str, field: str) -> None:
    data = (HERE / "unit_fail.xspc").read_bytes()
    assert old in data
    with pytest.raises(ConversionError, match=message) as caught:
        _convert_bytes(data.replace(old, new, 1))
    assert caught.value.field == field


def test_broken_and_foreign_files() -> None:
    data = (HERE / "unit_fail.xspc").read_bytes()
    with pytest.raises(ConversionError, match="well-formed") as caught:
        _convert_bytes(data[:5000])
    assert caught.value.line is not None
    with pytest.raises(ConversionError, match="no ConfigandResultsData"):
        _convert_bytes(b"<ConfigAndResultsDataFile><MD5/></ConfigAndResultsDataFile>")
    head = data[: data.index(b"<Config_and_Data_Result>")]
    with pytest.raises(ConversionError, match="no result rows"):
        _convert_bytes(head + b"</Config_and_Result_Data></ConfigandResultsData></ConfigAndResultsDataFile>")
    with pytest.raises(ConversionError, match="root element is <Panel>"):
        _convert_bytes(b'<Panel barcode="1"/>')


def test_validate_scores() -> None:
    converter = _converter()
    for path in sorted(HERE.iterdir()):
        assert converter.validate(SourceFile.read(path)) >= 0.8, path.name
    for name in ("sigmaquest", "saki-aoi", "custom-xml"):
        for path in sorted((FIXTURES / name).iterdir()):
            assert converter.validate(SourceFile.read(path)) <= 0.2, path.name
    wsxf = b'<Reports xmlns="http://wats.virinco.com/schemas/WATS/Report/wsxf"><Report/></Reports>'
    assert converter.validate(SourceFile(Path("x.xml"), wsxf)) == 0.0

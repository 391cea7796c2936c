"""SPEA 3030 ICT converter on the project's own fixtures."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

import pytest
from converter_support import FIXTURES, convert

from pywats.models import SequenceCallStep
from pywats_client.converters import ConversionContext, ConversionError, SourceFile, load_converter_class

SPEA = FIXTURES / "spea-3030"
UTC = ConversionContext(timezone=timezone.utc)


def _convert_text(text: str, **arguments):
    return load_converter_class("spea-3030")(arguments).convert(SourceFile(Path("x.csv"), text.encode()), UTC)


def _steps(report):
    return {step.name: step for step in report.iter_steps()}


def test_header_fields() -> None:
    passed, failed = convert("spea-3030", SPEA / "two_boards.csv")
    assert (passed.sn, passed.pn, passed.rev, passed.process_code) == ("PSU880-000451", "PSU-880-B", "1", 20)
    assert passed.result.value == "P" and failed.result.value == "F" and failed.sn == "PSU880-000452"
    assert passed.uut.user == "Operator Kim" and passed.uut.batch_sn == "LOT-2025-03"
    assert passed.start.replace(tzinfo=None) == datetime(2025, 3, 21, 7, 15, 2)
    assert passed.uut.exec_time == 38.0
    assert passed.root.name == "PSU-880" and passed.root.seq_call.version == "2.3.1"
    assert {m.description: m.text for m in passed.misc_infos} == {"Program": "PSU-880", "Program version": "2.3.1"}


def test_step_tree_groups_rows_of_one_test() -> None:
    report = convert("spea-3030", SPEA / "two_boards.csv")[0]
    names = [step.name for step in report.root.steps]
    assert names == ["ADAPTER", "R12", "C7", "SHO-LowRes", "Power ON", "FKT"]
    adapter = report.root.steps[0]
    assert isinstance(adapter, SequenceCallStep)
    assert [step.name for step in adapter.steps] == ["ADAPTER Connect", "Vacuum check"]
    assert [step.name for step in report.root.steps[-1].steps] == ["Firmware download", "Version check"]


def test_measurements() -> None:
    steps = _steps(convert("spea-3030", SPEA / "two_boards.csv")[0])
    r12 = steps["R12"]
    m = r12.numeric_meas[0]
    assert (m.value, m.low_limit, m.high_limit, m.comp_op.value, m.unit, m.status.value) == (
        1002.1, 990.0, 1010.0, "GELE", "ohm", "P")  # fmt: skip
    assert r12.report_text == "RESR12 1K 1% -1%; pins 101 102"
    current = steps["Power ON - Meas I (TP6)"].numeric_meas[0]
    assert (current.comp_op.value, current.low_limit, current.high_limit, current.unit) == ("GELE", 0.0, 0.2, "A")
    firmware = steps["Firmware download"].numeric_meas[0]  # FUNC rows: "1;1;0" is a lower limit only
    assert (firmware.comp_op.value, firmware.low_limit, firmware.high_limit) == ("GE", 1.0, None)
    assert steps["ADAPTER Connect"].boolean_meas[0].status.value == "P"  # all zero: no measurement
    assert steps["SHO-LowRes"].boolean_meas[0].status.value == "P"  # "Automatic"


def test_failing_rows_keep_the_file_verdict() -> None:
    steps = _steps(convert("spea-3030", SPEA / "two_boards.csv")[1])
    high = steps["R12"].numeric_meas[0]
    assert high.status.value == "F" and high.value == 1052.0
    not_measured = steps["C7"].numeric_meas[0]
    assert math.isnan(not_measured.value) and not_measured.status.value == "F"
    assert steps["R15"].status.value == "F"


def test_board_result_wins_over_step_statuses() -> None:
    text = (SPEA / "two_boards.csv").read_text().replace("FAIL(+);1.052", "FAIL(+);1.052", 1)
    boards = _convert_text(text.replace("BOARDRESULT;FAIL", "BOARDRESULT;PASS"))
    assert boards[1].result.value == "P" and boards[1].root.status.value == "F"


def test_day_first_dates_and_arguments() -> None:
    [report] = convert("spea-3030", SPEA / "day_first.csv", part_number="IO-12-X", revision="C", process_code=30)
    assert report.start.replace(tzinfo=None) == datetime(2025, 3, 21, 18, 0, 0)
    assert (report.pn, report.rev, report.process_code, report.uut.batch_sn) == ("IO-12-X", "C", 30, None)


def test_missing_serial_number_is_an_error() -> None:
    text = "FORMAT;mmdd\nSTART;Programme;P;1;B;op;01/02/2025;10:00:00\nANL;1;R1;1;1;R;;PASS;1;0;2;ohm;;1\nEND;PASS;01/02/2025;10:00:05\n"
    with pytest.raises(ConversionError, match="serial number") as caught:
        _convert_text(text)
    assert caught.value.line == 2 and caught.value.field == "SN"


def test_truncated_file_is_an_error() -> None:
    text = (SPEA / "two_boards.csv").read_text()
    with pytest.raises(ConversionError, match="cut short"):
        _convert_text(text[: text.rindex("SN;")])


def test_short_row_and_row_before_start_are_errors() -> None:
    with pytest.raises(ConversionError, match="at least 9 fields") as caught:
        _convert_text("FORMAT;mmdd\nSTART;Programme;P;1;B;op;01/02/2025;10:00:00\nANL;1;R1\n")
    assert caught.value.line == 3
    with pytest.raises(ConversionError, match="before any START"):
        _convert_text("ANL;1;R1;1;1;R;;PASS;1;0;2;ohm;;1\n")


def test_bad_date_is_an_error() -> None:
    with pytest.raises(ConversionError, match="date"):
        _convert_text("START;Programme;P;1;B;op;13/45/2025;10:00:00\nSN;1\nEND;PASS;;\n")


@pytest.mark.parametrize("path", sorted(SPEA.iterdir()), ids=lambda p: p.name)
def test_validate_claims_its_files(path: Path) -> None:
    assert load_converter_class("spea-3030")().validate(SourceFile.read(path)) >= 0.8


def test_validate_refuses_other_formats() -> None:
    converter = load_converter_class("spea-3030")()
    others = [*sorted((FIXTURES / "teradyne-gr228x").iterdir()), *sorted((FIXTURES / "stdf").glob("*.stdf"))]
    for other in others:
        assert converter.validate(SourceFile.read(other)) <= 0.2, other.name
    assert converter.validate(SourceFile(Path("a.csv"), b"serial;step;value\nA1;R1;1.0\n")) <= 0.2

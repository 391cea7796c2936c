"""WSTF: the format owner's sample loads in detail; synthetic files cover every step type, the status rules,
encodings and every kind of bad input, each with the line it is on."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

import pytest
from conftest import sample_params

from pywats import ReportFormatError
from pywats.formats import wsjf, wstf
from pywats.models import (
    BooleanStep,
    ChartStep,
    ChartType,
    CompOp,
    GenericStep,
    NumericStep,
    SequenceCallStep,
    StringStep,
    UUTReport,
)
from pywats.processes import ProcessInfo

COLUMNS = (
    "StepType StepName MeasureName Value LowLimit HighLimit CompOperator Unit StepStatus StepExecutionTime "
    "StepReportText StepErrorCode StepErrorMessage CausedSequenceFailure"
).split()
HEADER = {
    "SerialNumber": "SN-1",
    "PartNumber": "PN-1",
    "Revision": "B",
    "OperationTypeName": "PCBA Test",
    "UTCStartDateTime": "2024-05-06T07:08:09",
    "StationName": "ST-7",
}


def make(
    rows: list[str], header: dict[str, str] | None = None, *, extra_header: list[str] = (), status: str | None = "",
    columns: list[str] = COLUMNS,
) -> str:  # fmt: skip
    """A WSTF text; cells in ``rows`` are written with '|' for readability and become tabs.

    ``status`` None leaves the footer's UUTStatus line out; "" writes it empty.
    """
    lines = ["--Header-Start--"]
    lines += [f"{key}\t{value}" for key, value in (HEADER if header is None else header).items()]
    lines += [line.replace("|", "\t") for line in extra_header]
    lines += ["--Step-Data-Start--", "\t".join(columns)]
    lines += [row.replace("|", "\t") for row in rows]
    lines += ["--Step-Data-End--"]
    if status is not None:
        lines.append(f"UUTStatus\t{status}")
    lines.append("--UUT-End--")
    return "\n".join(lines) + "\n"


def row(step_type: str, name: str = "", **cells: str) -> str:
    """A step row given by column names, for rows whose cells are mostly empty."""
    values = {"StepType": step_type, "StepName": name, **cells}
    return "|".join(values.get(column, "") for column in COLUMNS).rstrip("|")


def line_of(text: str, fragment: str) -> int:
    """The 1-based number of the first line holding ``fragment`` (cells written with '|')."""
    fragment = fragment.replace("|", "\t")
    return next(number for number, line in enumerate(text.split("\n"), start=1) if fragment in line)


def error_of(text: str | bytes, **kwargs: object) -> ReportFormatError:
    with pytest.raises(ReportFormatError) as caught:
        wstf.loads(text, **kwargs)  # type: ignore[arg-type]
    assert type(caught.value) is ReportFormatError
    return caught.value


def steps_by_name(report: UUTReport) -> dict[str, object]:
    return {step.name: step for step in report.iter_steps()}


def round_trips(report: UUTReport) -> None:
    assert wsjf.loads(wsjf.dumps(report)) == report


# ----------------------------------------------------------------------------------------- the real sample


@pytest.fixture(scope="module")
def sample() -> UUTReport:
    params = sample_params("wstf", "*.txt")
    if params[0].values[0] is None:
        pytest.skip("samples absent")
    return wstf.loads(Path(params[0].values[0]).read_bytes())


@pytest.mark.parametrize("path", sample_params("wstf", "*.txt"))
def test_sample_loads_and_round_trips(path: Path) -> None:
    report = wstf.loads(path.read_bytes())
    again = wstf.loads(path.read_text(encoding="cp1252"))
    assert again.model_dump(exclude={"id"}) == report.model_dump(exclude={"id"})
    round_trips(report)


def test_sample_header(sample: UUTReport) -> None:
    assert (sample.sn, sample.pn, sample.rev) == ("423664753", "100200", "A")
    assert sample.process_code == 10  # "SW Debug"
    assert sample.result.value == "F"
    assert sample.start == datetime(2014, 7, 4, 12, 9, 4, tzinfo=timezone.utc) == sample.start_utc
    assert sample.machine_name == "VIC-WS-ML"
    uut = sample.uut
    assert (uut.exec_time, uut.batch_sn, uut.fixture_id, uut.user) == (10.0, "B888", "543A", "Martin Lentz")
    assert (uut.error_code, uut.error_message) == (0, None)
    assert uut.comment.startswith("This is a comment to this UUT.") and uut.comment.endswith("version 5.0 of the client.")
    assert sample.root.name == "c:\\test.seq"
    assert (sample.root.seq_call.path, sample.root.seq_call.name, sample.root.seq_call.version) == (
        "c:\\test.seq", "test.seq", "1.0.0.0")  # fmt: skip
    assert [(m.description, m.text, m.numeric) for m in sample.misc_infos] == [("uCSwVer", "1.0", None)]
    assert [(u.part_type, u.pn, u.sn, u.rev) for u in sample.sub_units] == [
        ("Main board", "Partno 1", "SN 6654433", "Rev 1"),
        ("Controller Card", "Partno 2", "SN 5555", "Rev B"),
    ]


def test_sample_tree(sample: UUTReport) -> None:
    steps = sample.iter_steps()
    assert [step.id for step in steps] == list(range(13))  # root 0, then depth first
    assert [step.name for step in sample.root.steps] == [
        "SubSeq1", "SubSeq2", "Test3", "test4", "test5", "Test6", "Action", "SubSeq3"]  # fmt: skip
    sequences = [step.name for step in steps[1:] if isinstance(step, SequenceCallStep)]
    assert sequences == ["SubSeq1", "SubSeq2", "SubSeq3"]
    by_name = steps_by_name(sample)
    assert [s.name for s in by_name["SubSeq1"].steps] == ["test1.1", "test1.2"]
    assert {name: by_name[name].step_type for name in by_name if name != sample.root.name} == {
        "SubSeq1": "SequenceCall", "test1.1": "ET_NLT", "test1.2": "ET_NLT", "SubSeq2": "SequenceCall",
        "test2.2": "ET_MNLT", "Test3": "ET_MNLT", "test4": "ET_PFT", "test5": "ET_MPFT", "Test6": "ET_SVT",
        "Action": "Action", "SubSeq3": "SequenceCall", "SameStepName": "ET_MNLT",
    }  # fmt: skip
    assert isinstance(by_name["Action"], GenericStep)
    assert [m.name for m in by_name["SameStepName"].numeric_meas] == ["meas1", "meas2"]
    assert [m.name for m in by_name["test2.2"].numeric_meas] == ["meas1", "meas2"]
    assert [m.name for m in by_name["test5"].boolean_meas] == ["meas1", "meas2", "meas3", "meas4"]


def test_sample_measurements(sample: UUTReport) -> None:
    by_name = steps_by_name(sample)
    single = by_name["test1.1"].numeric_meas[0]
    assert (single.name, single.value, single.low_limit, single.high_limit, single.comp_op, single.unit) == (
        None, 7.0, 7.0, 10.0, CompOp.GELE, "Volt")  # fmt: skip
    test3 = by_name["Test3"].numeric_meas
    assert [(m.value, m.low_limit, m.high_limit, m.comp_op) for m in test3] == [
        (8.0, 10.0, None, CompOp.EQ), (6.0, 5.0, None, CompOp.EQ), (10.0, 10.0, None, CompOp.EQ)]  # fmt: skip
    string = by_name["Test6"].string_meas[0]
    assert (string.value, string.limit, string.comp_op) == (
        "The quick brown fox jump over lazy dogs", "the quick brown fox jump over lazy dogs", CompOp.EQ)  # fmt: skip
    assert by_name["Test3"].caused_seq_failure is True
    assert by_name["SubSeq1"].report_text == "This is a seq call report text"
    assert by_name["test1.1"].report_text == "This is a test step report text"
    assert by_name["test2.2"].tot_time == 10.0  # 5 + 5: each row reports its own measurement's time
    assert by_name["SubSeq3"].tot_time == 20.0


def test_sample_statuses(sample: UUTReport) -> None:
    by_name = steps_by_name(sample)
    status = {name: step.status.value for name, step in by_name.items()}
    assert status == {
        sample.root.name: "F", "SubSeq1": "P", "test1.1": "P", "test1.2": "P", "SubSeq2": "P", "test2.2": "P",
        "Test3": "F", "test4": "P", "test5": "F", "Test6": "F", "Action": "D", "SubSeq3": "P",
        "SameStepName": "P",
    }  # fmt: skip
    assert [m.status.value for m in by_name["Test3"].numeric_meas] == ["F", "F", "P"]
    assert [m.status.value for m in by_name["test5"].boolean_meas] == ["F", "P", "P", "F"]
    assert by_name["Test6"].string_meas[0].status.value == "F"


# ----------------------------------------------------------------------------------------- synthetic files


EVERY_TYPE = [
    "SequenceCall|Outer||||||||1.5|outer text",
    "SequenceCall|Inner|||||||Passed",
    "NumericLimitTest|Voltage||3.3|3.0|3.6|GELE|V|Passed|0.25",
    "EndSequenceCall",
    "MultipleNumericLimitTest|Rails|r5|5.0|4.5|5.5|GELE|V",
    "MultipleNumericLimitTest||r12|12.1|11.5|12.5|GELE|V",
    "EndSequenceCall|Outer",
    "PassFailTest|Boot||TRUE",
    "PassFailTest|Leds|red|TRUE",
    "PassFailTest||green|FALSE",
    "StringValueTest|Firmware||1.2.3|1.2.3||EQ",
    "MultipleStringValueTest|Ids|mac|AA:BB|aa:bb||IGNORECASE",
    "MultipleStringValueTest|Ids|imei|35|^\\d+$||REGEX",
    "ActionStep|Power on|||||||Done",
    "Chart|Sweep|Frequency response|LineLogX|Frequency|Level||Hz;dB|||chart text",
    "Series||left||10;100;1000|1;2;3",
    "Series|Sweep|right|||4;5;6",
    "NumericLimitTest||peak|3|0||GE|dB",
]


def test_every_step_type() -> None:
    text = make(EVERY_TYPE, status=None)
    report = wstf.loads(text)
    by_name = steps_by_name(report)
    kinds = {name: (type(step).__name__, step.step_type, step.id) for name, step in by_name.items()}
    assert kinds == {
        "MainSequence": ("SequenceCallStep", "SequenceCall", 0),
        "Outer": ("SequenceCallStep", "SequenceCall", 1),
        "Inner": ("SequenceCallStep", "SequenceCall", 2),
        "Voltage": ("NumericStep", "ET_NLT", 3),
        "Rails": ("NumericStep", "ET_MNLT", 4),
        "Boot": ("BooleanStep", "ET_PFT", 5),
        "Leds": ("BooleanStep", "ET_MPFT", 6),
        "Firmware": ("StringStep", "ET_SVT", 7),
        "Ids": ("StringStep", "ET_MSVT", 8),
        "Power on": ("GenericStep", "Action", 9),
        "Sweep": ("ChartStep", "WATS_XYGMNLT", 10),
    }
    assert [s.name for s in by_name["Outer"].steps] == ["Inner", "Rails"]
    assert by_name["Outer"].seq_call.name == "Outer" and by_name["Outer"].tot_time == 1.5
    assert by_name["Voltage"].tot_time == 0.25
    chart = by_name["Sweep"].chart
    assert (chart.chart_type, chart.label, chart.x_label, chart.y_label, chart.x_unit, chart.y_unit) == (
        ChartType.LINE_LOG_X, "Frequency response", "Frequency", "Level", "Hz", "dB")  # fmt: skip
    assert [(s.name, s.xdata, s.ydata) for s in chart.series] == [
        ("left", "10;100;1000", "1;2;3"), ("right", None, "4;5;6")]  # fmt: skip
    assert [(m.name, m.value, m.status.value) for m in by_name["Sweep"].numeric_meas] == [("peak", 3.0, "P")]
    assert by_name["Sweep"].report_text == "chart text"
    statuses = {name: step.status.value for name, step in by_name.items()}
    assert statuses == {
        "MainSequence": "F", "Outer": "P", "Inner": "P", "Voltage": "P", "Rails": "P", "Boot": "P",
        "Leds": "F", "Firmware": "P", "Ids": "P", "Power on": "D", "Sweep": "P",
    }  # fmt: skip
    assert report.result.value == "F"  # no UUTStatus: computed from the root
    assert (report.root.seq_call.name, report.root.seq_call.path) == ("MainSequence", None)
    round_trips(report)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("NumericLimitTest|t||62.6|72||LE", "P"),  # single limit: LowLimit, even for LE
        ("NumericLimitTest|t||80|72||LE", "F"),
        ("NumericLimitTest|t||72|72||LT", "F"),
        ("NumericLimitTest|t||5|10|20|LEGE", "P"),  # outside the range passes
        ("NumericLimitTest|t||20|10|20|LEGE", "P"),
        ("NumericLimitTest|t||15|10|20|LEGE", "F"),
        ("NumericLimitTest|t||15|10|20|LTGT", "F"),
        ("NumericLimitTest|t||10|10|20|GTLE", "F"),
        ("NumericLimitTest|t||20|10|20|GTLE", "P"),
        ("NumericLimitTest|t||-1|||", "P"),  # no operator: LOG
        ("NumericLimitTest|t||-1|||log", "P"),
        ("NumericLimitTest|t|||1||GE", "F"),  # no value to compare
        ("StringValueTest|t||abc|ABC||IgnoreCase", "P"),
        ("StringValueTest|t||abc|ABC||EQ", "F"),
        ("StringValueTest|t||abc|ABC||NE", "P"),
        ("PassFailTest|t||true", "P"),
        ("PassFailTest|t||FALSE", "F"),
        ("NumericLimitTest|t||80|72||LE|V|Passed", "P"),  # a given status wins over the limits
        ("PassFailTest|t||FALSE|||||Passed", "P"),
        ("NumericLimitTest|t|||72||LE||Skipped", "S"),
    ],
)
def test_missing_statuses_computed_from_limits(row: str, expected: str) -> None:
    report = wstf.loads(make([row], status=None))
    step = report.root.steps[0]
    measurement = (getattr(step, "numeric_meas", None) or getattr(step, "string_meas", None) or step.boolean_meas)[0]
    assert (step.status.value, measurement.status.value) == (expected, expected)
    assert report.result.value == {"S": "P"}.get(expected, expected)


def test_multi_measurement_status_rule() -> None:
    rows = [
        "NumericLimitTest|Rails|a|1|0|2|GELE||Passed",  # step status given on the first row
        "NumericLimitTest||b|5|0|2|GELE||Passed",  # judged on its limits: failed, whatever the row says
        "NumericLimitTest||c||0|2|GELE||Skipped",  # no value: the row's status
        "NumericLimitTest|Computed|a|1|0|2|GELE",
        "NumericLimitTest|Computed|b|3|0|2|GELE",
    ]
    report = wstf.loads(make(rows, status=None))
    rails, computed = report.root.steps
    assert rails.status.value == "P"
    assert [m.status.value for m in rails.numeric_meas] == ["P", "F", "S"]
    assert (computed.status.value, [m.status.value for m in computed.numeric_meas]) == ("F", ["P", "F"])
    assert report.result.value == "F"


def test_uut_status_sets_result_and_root_footer_wins() -> None:
    report = wstf.loads(make(["NumericLimitTest|t||1|0|2|GELE"], {**HEADER, "UUTStatus": "Passed"}, status="Error"))
    assert (report.result.value, report.root.status.value) == ("E", "E")
    report = wstf.loads(make(["NumericLimitTest|t||9|0|2|GELE"], {**HEADER, "UUTStatus": "Passed"}, status=""))
    assert (report.result.value, report.root.status.value, report.root.steps[0].status.value) == ("P", "P", "F")
    report = wstf.loads(make(["ActionStep|a"], status="Done"))
    assert report.result.value == "P"  # WATS results are P/F/E/T


def test_same_name_grouping_rules() -> None:
    rows = [
        "NumericLimitTest|Loop||1|0|2|GELE",  # unnamed measurements: repeated rows are separate steps
        "NumericLimitTest|Loop||1|0|2|GELE",
        "NumericLimitTest|Named|m|1|0|2|GELE",
        "NumericLimitTest|Named|m|1|0|2|GELE",  # the same MeasureName again: a new step
        "PassFailTest|Named|n|TRUE",  # another type: a new step
    ]
    report = wstf.loads(make(rows))
    assert [(s.name, s.step_type) for s in report.root.steps] == [
        ("Loop", "ET_NLT"), ("Loop", "ET_NLT"), ("Named", "ET_NLT"), ("Named", "ET_NLT"), ("Named", "ET_PFT")]  # fmt: skip
    assert [s.id for s in report.root.steps] == [1, 2, 3, 4, 5]


def test_step_cells_merge_over_rows() -> None:
    rows = [
        "NumericLimitTest|S|a|1|0|2|GELE||Failed|1|first|7|boom|False",
        "NumericLimitTest||b|1|0|2|GELE|||2|second|7|bang|True",
    ]
    step = wstf.loads(make(rows)).root.steps[0]
    assert (step.status.value, step.tot_time, step.report_text, step.error_code, step.error_message) == (
        "F", 3.0, "first\nsecond", 7, "boom\nbang")  # fmt: skip
    assert step.caused_seq_failure is True


def test_columns_in_any_order_and_fewer_columns() -> None:
    columns = ["StepName", "Value", "StepType", "CompOperator", "LowLimit", "HighLimit", "Unit", "MeasureName"]
    text = make(["Vcc|3.3|NumericLimitTest|GELE|3|3.6|V", "Cmd|ok|StringValueTest|EQ|ok"], columns=columns)
    first, second = wstf.loads(text).root.steps
    assert (first.name, first.numeric_meas[0].value, first.numeric_meas[0].unit) == ("Vcc", 3.3, "V")
    assert (second.string_meas[0].value, second.status.value) == ("ok", "P")


def test_cp1252_bytes_crlf_loose_markers_and_trailing_tabs() -> None:
    text = make(["ActionStep|Måling°|||||||Passed"], {**HEADER, "OperatorName": "Jørn Ødegård"})
    text = text.replace("--UUT-End--", "-- uut-END --\t\t\t").replace("--Header-Start--", " --Header-Start--\t\t")
    text = text.replace("\n", "\r\n")
    report = wstf.loads(text.encode("cp1252"))
    assert report.uut.user == "Jørn Ødegård"
    assert report.root.steps[0].name == "Måling°"
    assert wstf.loads(b"\xef\xbb\xbf" + text.encode("utf-8")).uut.user == "Jørn Ødegård"
    assert wstf.loads(text.encode("utf-16")).uut.user == "Jørn Ødegård"
    assert wstf.loads("\ufeff" + text).uut.user == "Jørn Ødegård"


def test_header_mapping() -> None:
    header = {
        "SerialNumber": "SN-9", "PartNumber": "PN-9", "OperationTypeCode": "50", "OperationTypeName": "ICT",
        "StartDateTime": "2024-05-06T09:08:09.1234567", "UTCStartDateTime": "2024-05-06T07:08:09.1234567",
        "ExecutionTime": "12.5", "TestSocketIndex": "2", "ErrorCode": "-3", "ErrorMessage": "bad fixture",
        "SoftwareName": "/opt/tests/board.py", "SoftwareVersion": "2.1", "Lot": "0042", "Empty": "",
    }  # fmt: skip
    text = make(["ActionStep|a"], header, extra_header=["Comment|line one", "Comment|line two"])
    report = wstf.loads(text, machine_name="FALLBACK", location="Oslo", purpose="Production",
                        report_id=UUID(int=7))  # fmt: skip
    assert report.process_code == 50  # the code wins over the name
    assert report.rev == ""  # no Revision
    assert (report.machine_name, report.location, report.purpose, report.id) == (
        "FALLBACK", "Oslo", "Production", UUID(int=7))  # fmt: skip
    assert report.start_utc == datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
    assert report.start == report.start_utc and report.start.utcoffset() == timedelta(hours=2)
    uut = report.uut
    assert (uut.exec_time, uut.test_socket_index, uut.error_code, uut.error_message) == (12.5, 2, -3, "bad fixture")
    assert uut.comment == "line one\nline two"
    assert (report.root.name, report.root.seq_call.name, report.root.seq_call.version) == (
        "/opt/tests/board.py", "board.py", "2.1")  # fmt: skip
    assert [(m.description, m.text) for m in report.misc_infos] == [("Lot", "0042"), ("Empty", "")]
    round_trips(report)


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("7/4/2014 12:09:04 PM", datetime(2014, 7, 4, 12, 9, 4, tzinfo=timezone.utc)),
        ("7/4/2014 12:09:04 AM", datetime(2014, 7, 4, 0, 9, 4, tzinfo=timezone.utc)),
        ("2014-07-04 13:09:04", datetime(2014, 7, 4, 13, 9, 4, tzinfo=timezone.utc)),
        ("2014-07-04T12:09:04+02:00", datetime(2014, 7, 4, 10, 9, 4, tzinfo=timezone.utc)),
        ("2014-07-04T12:09:04Z", datetime(2014, 7, 4, 12, 9, 4, tzinfo=timezone.utc)),
    ],
)
def test_date_forms(stamp: str, expected: datetime) -> None:
    report = wstf.loads(make(["ActionStep|a"], {**HEADER, "UTCStartDateTime": stamp}))
    assert report.start_utc == expected


def test_local_start_without_utc_gets_an_offset() -> None:
    header = {**HEADER, "StartDateTime": "2024-01-02T03:04:05"}
    del header["UTCStartDateTime"]
    report = wstf.loads(make(["ActionStep|a"], header))
    assert report.start.tzinfo is not None
    assert report.start.replace(tzinfo=None) == datetime(2024, 1, 2, 3, 4, 5)
    assert report.start_utc == report.start


def test_processes_and_machine_name() -> None:
    processes = [ProcessInfo(1234, "Hipot")]
    report = wstf.loads(make(["ActionStep|a"], {**HEADER, "OperationTypeName": "Hipot"}), processes=processes)
    assert report.process_code == 1234
    header = {key: value for key, value in HEADER.items() if key != "StationName"}
    assert wstf.loads(make(["ActionStep|a"], header), machine_name="PC-1").machine_name == "PC-1"
    assert wstf.loads(make(["ActionStep|a"]), machine_name="PC-1").machine_name == "ST-7"  # the file wins


def test_several_reports() -> None:
    text = make(["ActionStep|a"]) + "\n" + make(["ActionStep|b"], {**HEADER, "SerialNumber": "SN-2"})
    reports = wstf.loads_all(text)
    assert [(r.sn, r.root.steps[0].name) for r in reports] == [("SN-1", "a"), ("SN-2", "b")]
    assert reports[0].id != reports[1].id
    error = error_of(text)
    assert error.line == text.split("\n").index("--Header-Start--", 1) + 1
    assert "loads_all" in error.message


def test_lengths_modes() -> None:
    text = make(["NumericLimitTest|t||1|||LOG|" + "u" * 30], extra_header=["Long|" + "x" * 150])
    error = error_of(text)
    assert error.line == line_of(text, "Long|") and error.path == "miscInfos[0].text"
    report = wstf.loads(text, lengths="truncate")
    assert report.misc_infos[0].text == "x" * 100 and report.root.steps[0].numeric_meas[0].unit == "u" * 20
    text = make(["NumericLimitTest|t||1|||LOG|" + "u" * 30])
    error = error_of(text)
    assert (error.line, error.path) == (line_of(text, "NumericLimitTest"), "root.steps[0].numericMeas[0].unit")


# ----------------------------------------------------------------------------------------- errors, with lines


def _without(text: str, line: str) -> str:
    return text.replace(line + "\n", "", 1)


GOOD = make(["SequenceCall|S", "NumericLimitTest|t||1|0|2|GELE", "EndSequenceCall"], status="Passed")


@pytest.mark.parametrize(
    ("text", "fragment", "words"),
    [
        ("junk\n" + GOOD, "junk", "--Header-Start--"),
        (_without(GOOD, "--Step-Data-Start--"), "StepType|StepName", "before --Step-Data-Start--"),
        (_without(GOOD, "--Step-Data-End--"), "UUTStatus|", "--Step-Data-End--"),
        (GOOD.replace("UUTStatus\tPassed\n", "Bogus\tx\n"), "Bogus", "only a UUTStatus line"),
        (GOOD.replace("NumericLimitTest|t||1|0|2|GELE".replace("|", "\t"), "Numeric\tt"), "Numeric|t", "StepType 'Numeric'"),
        (GOOD.replace("EndSequenceCall", "EndSequenceCall\nEndSequenceCall\tZ"), "EndSequenceCall|Z", "without a SequenceCall"),
        (_without(GOOD, "EndSequenceCall"), "--Step-Data-End--", "'S' (line"),
        (GOOD.replace("|1|0|2|".replace("|", "\t"), "\t1,5\t0\t2\t"), "1,5", "Value '1,5' is not a number"),
        (GOOD.replace("\t0\t2\tGELE", "\t0\t\tGELE"), "GELE", "needs both LowLimit and HighLimit"),
        (GOOD.replace("\t0\t2\tGELE", "\t\t2\tLE"), "|LE", "LE needs its limit in column LowLimit"),
        (GOOD.replace("\t0\t2\tGELE", "\t0\t2\tBETWEEN"), "BETWEEN", "CompOperator 'BETWEEN'"),
        (GOOD.replace("2024-05-06T07:08:09", "2024-13-06T07:08:09"), "UTCStartDateTime", "2024-13-06T07:08:09"),
        (GOOD.replace("2024-05-06T07:08:09", "yesterday"), "UTCStartDateTime", "'yesterday' is not a date"),
        (GOOD.replace("\tGELE", "\tGELE\tV\tPassed\t\t\t\t\t\tsurplus"), "surplus", "cell 15 'surplus' has no column"),
        (GOOD.replace("\tGELE", "\tGELE\tV\tFine"), "Fine", "StepStatus 'Fine' is not a status"),
        (GOOD.replace("PCBA Test", "pcba test"), "OperationTypeName", "'pcba test' is not a known process"),
        (GOOD.replace("UUTStatus\tPassed", "UUTStatus\tSkipped"), "UUTStatus|Skipped", "not a report result"),
        (GOOD.replace("ST-7", "ST-7\textra"), "ST-7", "more than one value"),
        (GOOD.replace("StepType\t", "StepKind\t"), "StepKind", "unknown column 'StepKind'"),
    ],
)
def test_located_errors(text: str, fragment: str, words: str) -> None:
    error = error_of(text)
    assert words in error.message, error.message
    assert error.line == line_of(text, fragment), error


def test_missing_markers_at_the_end() -> None:
    text = _without(GOOD, "--UUT-End--")
    error = error_of(text)
    assert "--UUT-End--" in error.message and error.line == len(text.split("\n"))
    error = error_of("--Header-Start--\nSerialNumber\tx\n")
    assert "--Step-Data-Start--" in error.message and error.line == 3
    error = error_of("\n\n")
    assert "no report" in error.message and error.line == 1


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("PassFailTest|p||MAYBE", "Value 'MAYBE' is neither TRUE nor FALSE"),
        ("PassFailTest|p", "needs Value TRUE or FALSE, or a StepStatus"),
        ("PassFailTest|p||TRUE|||||Passed|x", "StepExecutionTime 'x' is not a number"),
        ("PassFailTest|p||TRUE||||V", "PassFailTest rows do not use column Unit"),
        ("StringValueTest|s||abc|||GELE", "GELE is not a comparison for string values"),
        ("StringValueTest|s||abc|||EQ", "EQ needs the expected string in column LowLimit"),
        ("NumericLimitTest|n||1|0|1|IGNORECASE", "IGNORECASE is not a comparison for numeric values"),
        ("NumericLimitTest|n||1|zero||GE", "LowLimit 'zero' is not a number"),
        ("NumericLimitTest|n||1||x|GE", "HighLimit 'x' is not a number"),
        ("NumericLimitTest||m|1|0||GE", "no step of the same type right above"),
        ("ActionStep|a||5", "ActionStep rows do not use column Value"),
        ("ActionStep", "needs a StepName"),
        ("Series||s||1;2", "must follow its Chart row"),
        ("Chart|c||Pie", "chart type 'Pie'"),
        ("Chart|c||||||a;b;c", "'<x unit>;<y unit>'"),
        (row("SequenceCall", "s", StepErrorCode="4.5"), "StepErrorCode '4.5' is not a whole number"),
        (row("SequenceCall", "s", CausedSequenceFailure="perhaps"), "CausedSequenceFailure 'perhaps'"),
        ("StringValueTest|s||abc|([||REGEX", "not a valid regular expression"),  # wrapped from the status code
    ],
)
def test_located_row_errors(bad: str, words: str) -> None:
    text = make(["ActionStep|before", bad, "ActionStep|after"])
    error = error_of(text)
    assert words in error.message, error.message
    assert error.line == line_of(text, "ActionStep|before") + 1, error


@pytest.mark.parametrize(
    ("rows", "bad", "words"),
    [
        (["NumericLimitTest|m||1", "NumericLimitTest||b|2"], "NumericLimitTest|m", "each row needs a MeasureName"),
        (["Chart|c", "Series||s||1;2|1"], "Series||s", "different number of x and y values"),
        (["Chart|c", "Series||s||1;x|1;2"], "Series||s", "LowLimit (x data) item 'x'"),
        (["Chart|c", "Series||s||1;2"], "Series||s", "needs its y data"),
        (["Chart|c", "Series|d|s||1"], "Series|d", "must follow its Chart row"),
        (["SequenceCall|a", "EndSequenceCall|b"], "EndSequenceCall|b", "closes SequenceCall 'a'"),
        (["SequenceCall|a", "EndSequenceCall||||||||Passed"], "EndSequenceCall|", "do not use column StepStatus"),
        (["NumericLimitTest|n|a|1||||||||1", "NumericLimitTest||b|1||||||||2"], "|b|", "StepErrorCode 2 contradicts 1"),
    ],
)
def test_located_multi_row_errors(rows: list[str], bad: str, words: str) -> None:
    text = make(rows)
    error = error_of(text)
    assert words in error.message, error.message
    assert error.line == line_of(text, bad), error


@pytest.mark.parametrize(
    ("key", "words"),
    [("SerialNumber", "no SerialNumber"), ("PartNumber", "no PartNumber"),
     ("OperationTypeName", "neither OperationTypeCode nor OperationTypeName"),
     ("UTCStartDateTime", "neither UTCStartDateTime nor StartDateTime"),
     ("StationName", "no StationName and no machine_name")],
)  # fmt: skip
def test_missing_header_values(key: str, words: str) -> None:
    header = {name: value for name, value in HEADER.items() if name != key}
    error = error_of(make(["ActionStep|a"], header))
    assert words in error.message and error.line == 1


def test_bad_header_values() -> None:
    cases = {
        "SerialNumber": ("", "SerialNumber is empty"),
        "ExecutionTime": ("ten", "ExecutionTime 'ten' is not a number"),
        "TestSocketIndex": ("1.5", "TestSocketIndex '1.5' is not a whole number"),
        "OperationTypeCode": ("ICT", "OperationTypeCode 'ICT' is not a whole number"),
        "UUTStatus": ("Good", "UUTStatus 'Good' is not a status"),
    }
    for key, (value, words) in cases.items():
        text = make(["ActionStep|a"], {**HEADER, key: value})
        error = error_of(text)
        assert words in error.message and error.line == line_of(text, key + "\t"), (key, error)
    text = make(["ActionStep|a"], extra_header=["SerialNumber|again"])
    error = error_of(text)
    assert "SerialNumber is given twice (first on line 2)" in error.message and error.line == line_of(text, "again")
    text = make(["ActionStep|a"], extra_header=["Subunit|Board|PN-2"])
    error = error_of(text)
    assert "needs partType, pn and sn" in error.message and error.line == line_of(text, "Subunit")


def test_undecodable_bytes() -> None:
    data = make(["ActionStep|a"]).encode("cp1252").replace(b"ST-7", b"ST-\x81")
    error = error_of(data)
    assert "neither UTF-8 nor Windows-1252" in error.message and error.line == 7


def test_never_another_exception_type_for_bad_rows() -> None:
    # Every prefix of a valid file is either a report or a ReportFormatError, never anything else.
    text = make(EVERY_TYPE)
    lines = text.split("\n")
    for end in range(len(lines)):
        try:
            wstf.loads("\n".join(lines[:end]))
        except ReportFormatError as error:
            assert error.line is not None

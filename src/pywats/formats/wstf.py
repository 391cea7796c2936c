"""WSTF, the WATS Standard Text Format: the tab-delimited text a test station drops for the WATS client.

>>> report = loads(path.read_bytes())          # one validated UUTReport, statuses filled in
>>> reports = loads_all(text)                  # a file may hold several reports, one after another

A report is a block of lines (cells separated by tabs; trailing empty cells are common and ignored)::

    --Header-Start--
    SerialNumber  <sn>                   header: key TAB value; any key not listed below is a misc info
    Subunit  <partType>  <pn>  <sn>  <rev>
    --Step-Data-Start--
    StepType  StepName  MeasureName ...  the column header: columns in any order, matched by name
    <step rows>
    --Step-Data-End--
    UUTStatus  Passed                    footer
    --UUT-End--

Markers are matched ignoring case and spaces (the format owner's own sample writes ``-- UUT-End--``).
Bytes are read as UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252 (the WATS converter's default).
Numbers use a decimal point (en-US, the converter's default culture). Cells are stripped of spaces.
A column header naming an unknown column, or a row with a value beyond the last column, is refused.

Header keys (names matched ignoring case):

- ``SerialNumber``, ``PartNumber`` (both required, non-empty), ``Revision`` (empty or absent → ``""``);
- ``OperationTypeCode`` or ``OperationTypeName`` (one required; the code wins; a name is resolved through
  ``processes``, case-sensitively as WATS does);
- ``UTCStartDateTime`` and/or ``StartDateTime`` (one required): ISO 8601 (``2014-07-04T12:09:04``, optional
  fraction and offset) or en-US (``7/4/2014 12:09:04 PM``, the WATS converter's default culture). UTC alone
  gives a UTC start; local alone with no offset is taken in this machine's time zone (the converter runs on
  the station); both give the local offset as their difference, rounded to the minute;
- ``UUTStatus`` (also allowed in the footer, which wins: it is written when the test has ended);
- ``ExecutionTime``, ``BatchSerialNumber``, ``FixtureId``, ``TestSocketIndex``, ``OperatorName``,
  ``ErrorCode``, ``ErrorMessage`` → ``uut``; several ``Comment`` lines are joined with line breaks;
- ``StationName`` → ``machineName`` (the ``machine_name`` argument is the fallback when it is absent);
- ``SoftwareName`` / ``SoftwareVersion`` → the root sequence call: ``name`` and ``seqCall.path`` are the
  software name, ``seqCall.name`` its last path component, ``seqCall.version`` the version. Without a
  software name the root is called ``MainSequence``, as in TestStand;
- any other key → a misc info with the value as ``text``. Never ``numeric``: WATS keeps it as a 16-bit
  number and drops it when text is present, and a value like ``007`` must stay as written.

Step rows, by ``StepType`` (ignoring case):

- ``SequenceCall`` opens a sequence, ``EndSequenceCall`` closes it. Rows outside any sequence belong to the
  root sequence call (step id 0); ids then follow the rows, depth first.
- ``NumericLimitTest``/``MultipleNumericLimitTest``, ``StringValueTest``/``MultipleStringValueTest``,
  ``PassFailTest``/``MultiplePassFailTest``: one measurement per row. A row with an empty ``StepName``
  adds a measurement to the step above it; so does a row repeating that step's name with a new
  ``MeasureName`` when every measurement of the step is named. The step type written is ``ET_NLT``,
  ``ET_SVT``, ``ET_PFT`` for one measurement and ``ET_MNLT``, ``ET_MSVT``, ``ET_MPFT`` for several.
  Numeric rows use every column; string rows keep their limit in ``LowLimit``; pass/fail rows have
  ``Value`` ``TRUE`` or ``FALSE`` (also 1/0, yes/no). Single-limit operators (EQ NE GT GE LT LE) read ``LowLimit``, as WATS
  keeps them; an empty ``CompOperator`` means ``LOG``, as in WATS.
- ``ActionStep`` → an ``Action`` step.
- ``Chart`` starts a chart step (``WATS_XYGMNLT``). Our layout, the format's documentation giving none:
  ``MeasureName`` = chart label (empty → the step name), ``Value`` = chart type (``Line``, ``LineLogXY``,
  ``LineLogX``, ``LineLogY``; empty → ``Line``), ``LowLimit`` = X-axis label, ``HighLimit`` = Y-axis label, ``Unit`` =
  ``<x unit>;<y unit>``. Each following ``Series`` row (``StepName`` empty or the chart's) adds a series:
  ``MeasureName`` = series name, ``LowLimit`` = x data, ``HighLimit`` = y data (``;``-separated numbers;
  the X column is the low-limit one for the chart and its series alike). Numeric rows with an empty
  ``StepName`` after them add the step's numeric measurements.

A step's status, error and failure flags come from its first row; its ``totTime`` is the sum of its rows'
``StepExecutionTime`` (each row of a multi-measurement step reports its own measurement's time); report texts
and error messages of its rows are joined with line breaks; ``CausedSequenceFailure`` is set when any row
says so. A cell that a row type does not use must be empty: nothing is ever dropped in silence.

Statuses ("use the status if given, otherwise compute it from the limits", as the WATS converter does):

- a step's status is its first row's ``StepStatus`` when given; otherwise it is computed from its
  measurements (or children, for a sequence);
- a step with one measurement: the measurement takes the row's status when it is Passed, Failed or Skipped,
  otherwise it is computed from the limits (from TRUE/FALSE for pass/fail);
- a step with several measurements: the first row's status belongs to the step, so each measurement is
  judged on its own data: limits, or TRUE/FALSE. A row without a value is judged by its row's status when
  given (a skipped measurement has no value to compare), else by the limits (a missing value fails);
- the report result is ``UUTStatus`` when given (``Done`` counts as passed: WATS results are P/F/E/T), and
  the root sequence gets that status; otherwise the root is computed and the result follows it.

Every problem raises :class:`pywats.ReportFormatError` with the 1-based ``line`` it was found on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NoReturn
from uuid import UUID

from .._exceptions import ReportFormatError
from ..models import LengthMode, UUTReport, parse_report
from ..models.enums import DUAL_LIMIT_OPS, NUMERIC_OPS, SINGLE_LIMIT_OPS, STRING_OPS, ChartType, CompOp
from ..models.status import apply_statuses, report_result
from ..processes import DEFAULT_PROCESSES, ProcessInfo, code_for_name

__all__ = ["loads", "loads_all"]

# Section markers, normalised: lower case, no spaces.
_HEADER_START, _STEPS_START = "--header-start--", "--step-data-start--"
_STEPS_END, _UUT_END = "--step-data-end--", "--uut-end--"
_MARKER_NAMES = {
    _HEADER_START: "--Header-Start--",
    _STEPS_START: "--Step-Data-Start--",
    _STEPS_END: "--Step-Data-End--",
    _UUT_END: "--UUT-End--",
}
_COLUMNS = (
    "StepType", "StepName", "MeasureName", "Value", "LowLimit", "HighLimit", "CompOperator", "Unit",
    "StepStatus", "StepExecutionTime", "StepReportText", "StepErrorCode", "StepErrorMessage",
    "CausedSequenceFailure",
)  # fmt: skip
_STATUS_WORDS = {"passed": "P", "failed": "F", "done": "D", "skipped": "S", "error": "E", "terminated": "T"}
_STEP_KINDS = {
    "sequencecall": "sequence", "endsequencecall": "end", "actionstep": "action", "chart": "chart",
    "series": "series", "numericlimittest": "numeric", "multiplenumericlimittest": "numeric",
    "stringvaluetest": "string", "multiplestringvaluetest": "string", "passfailtest": "boolean",
    "multiplepassfailtest": "boolean",
}  # fmt: skip
_MEASUREMENT_KINDS = {"numeric": "numericMeas", "string": "stringMeas", "boolean": "booleanMeas"}
_STEP_TYPES = {"numeric": ("ET_NLT", "ET_MNLT"), "string": ("ET_SVT", "ET_MSVT"), "boolean": ("ET_PFT", "ET_MPFT")}
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def _fail(line: int, message: str) -> NoReturn:
    raise ReportFormatError(message, line=line)


# ---------------------------------------------------------------------------------------------- text and lines


def _decode(data: str | bytes) -> str:
    """Text as the station wrote it: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"WSTF text must be str or bytes, not {type(data).__name__}")
    data = bytes(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as error:
            last = error
    line = data.count(b"\n", 0, last.start) + 1
    raise ReportFormatError(f"the file is neither UTF-8 nor Windows-1252 text ({last.reason})", line=line)


@dataclass
class _Line:
    number: int
    cells: list[str]

    @property
    def blank(self) -> bool:
        return not self.cells

    @property
    def marker(self) -> str | None:
        """The normalised section marker on this line, if it is one (spaces inside are ignored)."""
        if self.cells and self.cells[0].startswith("-"):
            squeezed = "".join(self.cells[0].split()).lower()
            return squeezed if squeezed in _MARKER_NAMES else None
        return None


def _split_lines(text: str) -> list[_Line]:
    # Split only on line breaks: str.splitlines() would also split on form feeds and Unicode separators
    # inside a value and shift every line number after them.
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = []
    for number, line in enumerate(raw, start=1):
        cells = [cell.strip() for cell in line.split("\t")]
        while cells and not cells[-1]:
            cells.pop()  # trailing empty cells carry nothing
        lines.append(_Line(number, cells))
    return lines


class _Cursor:
    """The lines of the file, read one at a time; blank lines are skipped everywhere."""

    def __init__(self, lines: list[_Line]) -> None:
        self._lines = lines
        self._next = 0

    def take(self) -> _Line | None:
        while self._next < len(self._lines):
            line = self._lines[self._next]
            self._next += 1
            if not line.blank:
                return line
        return None

    @property
    def last_number(self) -> int:
        return len(self._lines)


# ---------------------------------------------------------------------------------------------- values


def _number(text: str, line: int, what: str) -> float:
    # float() also takes "1_000"; a station never means that, so it is refused like any other typo.
    try:
        if "_" in text:
            raise ValueError
        return float(text)
    except ValueError:
        _fail(line, f"{what} {text!r} is not a number")


def _integer(text: str, line: int, what: str) -> int:
    try:
        if "_" in text:
            raise ValueError
        return int(text)
    except ValueError:
        _fail(line, f"{what} {text!r} is not a whole number")


def _boolean(text: str, line: int, what: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    _fail(line, f"{what} {text!r} is neither TRUE nor FALSE")


def _status(text: str, line: int, what: str) -> str | None:
    """A status word (Passed, Failed, Done, Skipped, Error, Terminated) or its letter, as a WSJF letter."""
    if not text:
        return None
    letter = _STATUS_WORDS.get(text.lower())
    if letter is None and text.upper() in _STATUS_WORDS.values():
        letter = text.upper()
    if letter is None:
        _fail(line, f"{what} {text!r} is not a status (Passed, Failed, Done, Skipped, Error or Terminated)")
    return letter


_ISO_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}:?\d{2})?", re.I
)
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(AM|PM)?", re.I)


def _date(text: str, line: int, what: str) -> datetime:
    """An ISO 8601 or en-US date and time; the offset only when the text has one."""
    try:
        if iso := _ISO_DATE.fullmatch(text):
            year, month, day, hour, minute, second, fraction, offset = iso.groups()
            stamp = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                             int((fraction or "0")[:6].ljust(6, "0")))  # fmt: skip
            return stamp.replace(tzinfo=_offset(offset)) if offset else stamp
        if us := _US_DATE.fullmatch(text):
            month, day, year, hour, minute, second, fraction, half = us.groups()
            hours = int(hour)
            if half:
                if not 1 <= hours <= 12:
                    raise ValueError
                hours = hours % 12 + (12 if half.upper() == "PM" else 0)
            return datetime(int(year), int(month), int(day), hours, int(minute), int(second or 0),
                            int((fraction or "0")[:6].ljust(6, "0")))  # fmt: skip
    except ValueError:
        pass
    _fail(line, f"{what} {text!r} is not a date and time (e.g. 2014-07-04T12:09:04)")


def _offset(text: str) -> timezone:
    if text.upper() == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


# ---------------------------------------------------------------------------------------------- header


_SINGLE_KEYS = {
    key.lower(): key
    for key in (
        "SerialNumber", "PartNumber", "Revision", "OperationTypeName", "OperationTypeCode", "UUTStatus",
        "UTCStartDateTime", "StartDateTime", "ExecutionTime", "BatchSerialNumber", "FixtureId",
        "TestSocketIndex", "StationName", "OperatorName", "SoftwareName", "SoftwareVersion", "ErrorCode",
        "ErrorMessage",
    )
}  # fmt: skip


@dataclass
class _Header:
    """The header lines, read but not yet interpreted (a footer ``UUTStatus`` may still override one)."""

    start_line: int
    values: dict[str, tuple[str, int]] = field(default_factory=dict)
    comments: list[tuple[str, int]] = field(default_factory=list)
    sub_units: list[tuple[list[str], int]] = field(default_factory=list)
    misc: list[tuple[str, str, int]] = field(default_factory=list)

    def add(self, line: _Line) -> None:
        key, values = line.cells[0], line.cells[1:]
        if not key:
            _fail(line.number, "a header line needs a key in its first cell")
        if key.lower() == "subunit":
            if len(values) > 4:
                _fail(line.number, f"Subunit has {len(values)} values; expected partType, pn, sn and rev")
            self.sub_units.append((values, line.number))
            return
        if key.lower() == "steptype":
            _fail(line.number, "a column header line before --Step-Data-Start--")
        if len(values) > 1:
            _fail(line.number, f"header {key} has more than one value ({values[1]!r} is left over; "
                               "is --Step-Data-Start-- missing?)")
        value = values[0] if values else ""
        if key.lower() == "comment":
            self.comments.append((value, line.number))
        elif key.lower() in _SINGLE_KEYS:
            self.set(_SINGLE_KEYS[key.lower()], value, line.number)
        else:
            self.misc.append((key, value, line.number))

    def set(self, key: str, value: str, line: int) -> None:
        if key in self.values:
            _fail(line, f"{key} is given twice (first on line {self.values[key][1]})")
        self.values[key] = (value, line)

    def get(self, key: str) -> tuple[str, int] | None:
        """The value of a key and its line, or None when the key is absent or empty."""
        found = self.values.get(key)
        return found if found and found[0] else None


# ---------------------------------------------------------------------------------------------- steps


@dataclass
class _Measurement:
    line: int
    data: dict[str, Any]
    row_status: str | None
    has_value: bool
    boolean_value: bool | None = None


@dataclass
class _Step:
    kind: str
    id: int
    line: int
    data: dict[str, Any]
    status: str | None
    measurements: list[_Measurement] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    children: list[_Step] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=lambda: {"reportText": [], "errorMessage": []})

    @property
    def name(self) -> str:
        return self.data.get("name") or ""

    def accepts(self, kind: str) -> bool:
        """Whether a row of ``kind`` can add a measurement to this step."""
        return self.kind == kind or (self.kind == "chart" and kind == "numeric")


class _Row:
    """One step row, its cells looked up by column name."""

    def __init__(self, line: _Line, columns: dict[str, int]) -> None:
        self.number = line.number
        self._cells = line.cells
        self._columns = columns

    def __getitem__(self, column: str) -> str:
        index = self._columns.get(column)
        return self._cells[index] if index is not None and index < len(self._cells) else ""

    def require_empty(self, columns: Sequence[str], what: str) -> None:
        for column in columns:
            if self[column]:
                _fail(self.number, f"{what} rows do not use column {column} (found {self[column]!r})")


_STEP_COLUMNS = ("StepStatus", "StepExecutionTime", "StepReportText", "StepErrorCode", "StepErrorMessage",
                 "CausedSequenceFailure")  # fmt: skip
_DATA_COLUMNS = ("MeasureName", "Value", "LowLimit", "HighLimit", "CompOperator", "Unit")


def _read_columns(line: _Line) -> dict[str, int]:
    """Column name → cell index, from the column header line (any order, names matched ignoring case)."""
    known = {name.lower(): name for name in _COLUMNS}
    columns: dict[str, int] = {}
    for index, cell in enumerate(line.cells):
        name = known.get(cell.lower())
        if name is None:
            _fail(line.number, f"unknown column {cell!r} in the column header; known: {', '.join(_COLUMNS)}")
        if name in columns:
            _fail(line.number, f"column {name} appears twice in the column header")
        columns[name] = index
    for name in ("StepType", "StepName"):
        if name not in columns:
            _fail(line.number, f"the column header has no {name} column")
    return columns


class _StepTree:
    """Builds the step tree from rows, keeping the line of every step and measurement for error messages."""

    def __init__(self, columns: dict[str, int], root: _Step) -> None:
        self._columns = columns
        self._open: list[_Step] = [root]
        self._last: _Step | None = None  # the step a following row may continue
        self._next_id = 1

    def add(self, line: _Line) -> None:
        if len(line.cells) > len(self._columns):
            extra = line.cells[len(self._columns)]
            _fail(line.number, f"the row has {len(line.cells)} cells but there are {len(self._columns)} columns "
                               f"(cell {len(self._columns) + 1} {extra!r} has no column)")  # fmt: skip
        row = _Row(line, self._columns)
        step_type = row["StepType"]
        kind = _STEP_KINDS.get(step_type.lower())
        if kind is None:
            _fail(row.number, f"unknown StepType {step_type!r}" if step_type else "the row has no StepType")
        if kind == "end":
            self._close(row)
        elif kind == "series":
            self._add_series(row)
        elif kind in _MEASUREMENT_KINDS:
            self._add_measurement(row, kind)
        else:
            self._start(row, kind, step_type)

    def finish(self, line: int) -> None:
        if len(self._open) > 1:
            step = self._open[-1]
            _fail(line, f"SequenceCall {step.name!r} (line {step.line}) has no EndSequenceCall")

    # -- rows

    def _start(self, row: _Row, kind: str, step_type: str) -> None:
        """A sequence call, action or chart row: always a new step, and it needs a name."""
        if not row["StepName"]:
            _fail(row.number, f"a {step_type} row needs a StepName")
        data: dict[str, Any] = {"name": row["StepName"]}
        if kind == "sequence":
            row.require_empty(_DATA_COLUMNS, step_type)
            data.update(stepType="SequenceCall", seqCall={"name": row["StepName"]})
        elif kind == "action":
            row.require_empty(_DATA_COLUMNS, step_type)
            data["stepType"] = "Action"
        else:
            data.update(stepType="WATS_XYGMNLT", chart=_chart(row))
        step = self._new_step(row, kind, data)
        if kind == "sequence":
            self._open.append(step)
            self._last = None

    def _new_step(self, row: _Row, kind: str, data: dict[str, Any]) -> _Step:
        """A step started by ``row`` in the open sequence; ids follow the rows, which are depth first."""
        step = _Step(kind, self._next_id, row.number, data, _status(row["StepStatus"], row.number, "StepStatus"))
        self._next_id += 1
        self._merge_step_cells(step, row)
        self._open[-1].children.append(step)
        self._last = step
        return step

    def _close(self, row: _Row) -> None:
        if len(self._open) == 1:
            _fail(row.number, "EndSequenceCall without a SequenceCall")
        sequence = self._open.pop()
        if row["StepName"] and row["StepName"] != sequence.name:
            _fail(row.number, f"EndSequenceCall {row['StepName']!r} closes SequenceCall {sequence.name!r} "
                              f"(line {sequence.line})")  # fmt: skip
        row.require_empty(_DATA_COLUMNS + _STEP_COLUMNS, "EndSequenceCall")
        self._last = None

    def _add_series(self, row: _Row) -> None:
        chart = self._last
        if chart is None or chart.kind != "chart" or row["StepName"] not in ("", chart.name):
            _fail(row.number, "a Series row must follow its Chart row (StepName empty or the chart's)")
        row.require_empty(("Value", "CompOperator", "Unit") + _STEP_COLUMNS, "Series")
        if not row["HighLimit"]:
            _fail(row.number, "a Series row needs its y data in column HighLimit")
        xdata = _number_list(row["LowLimit"], row.number, "LowLimit (x data)")
        ydata = _number_list(row["HighLimit"], row.number, "HighLimit (y data)")
        if xdata and len(xdata.split(";")) != len(ydata.split(";")):
            _fail(row.number, "the series has a different number of x and y values")
        series = {"dataType": "XYG", "name": row["MeasureName"] or None, "xdata": xdata or None, "ydata": ydata}
        chart.series.append(series)

    def _add_measurement(self, row: _Row, kind: str) -> None:
        step = self._continued_step(row, kind)
        if step is None:
            step = self._new_step(row, kind, {"name": row["StepName"]})
        else:
            self._merge_step_cells(step, row)  # the row's StepStatus is its measurement's (see module doc)
        step.measurements.append(_MEASUREMENT_READERS[kind](row))

    def _continued_step(self, row: _Row, kind: str) -> _Step | None:
        """The step this row adds a measurement to, or None when it starts a new step."""
        last = self._last
        if not row["StepName"]:
            if last is None or not last.accepts(kind):
                _fail(row.number, "a row with an empty StepName adds a measurement to the step above it, "
                                  "but there is no step of the same type right above")  # fmt: skip
            return last
        names = [m.data.get("name") for m in last.measurements] if last else []
        same_step = (
            last is not None and last.kind == kind and row["StepName"] == last.name and bool(row["MeasureName"])
            and all(names) and row["MeasureName"] not in names
        )  # fmt: skip
        return last if same_step else None

    @staticmethod
    def _merge_step_cells(step: _Step, row: _Row) -> None:
        """Step-level cells: from the first row, except times (summed), texts (joined) and failure flags."""
        if row["StepExecutionTime"]:
            step.times.append(_number(row["StepExecutionTime"], row.number, "StepExecutionTime"))
        for column, key in (("StepReportText", "reportText"), ("StepErrorMessage", "errorMessage")):
            if row[column] and row[column] not in step.texts[key]:
                step.texts[key].append(row[column])
        if row["StepErrorCode"]:
            code = _integer(row["StepErrorCode"], row.number, "StepErrorCode")
            if step.data.get("errorCode", code) != code:
                _fail(row.number, f"StepErrorCode {code} contradicts {step.data['errorCode']} of step "
                                  f"{step.name!r} (line {step.line})")  # fmt: skip
            step.data["errorCode"] = code
        if row["CausedSequenceFailure"]:
            caused = _boolean(row["CausedSequenceFailure"], row.number, "CausedSequenceFailure")
            step.data["causedSeqFailure"] = caused or bool(step.data.get("causedSeqFailure"))


def _chart(row: _Row) -> dict[str, Any]:
    row.require_empty(("CompOperator",), "Chart")
    kind = row["Value"] or "Line"
    chart_type = next((t.value for t in ChartType if t.value.lower() == kind.lower()), None)
    if chart_type is None:
        _fail(row.number, f"chart type {kind!r} in column Value is not one of Line, LineLogXY, LineLogX, LineLogY")
    units = row["Unit"].split(";") if row["Unit"] else []
    if len(units) > 2:
        _fail(row.number, f"column Unit of a Chart row is '<x unit>;<y unit>', not {row['Unit']!r}")
    units += [""] * (2 - len(units))
    chart = {"chartType": chart_type, "label": row["MeasureName"] or row["StepName"], "xLabel": row["LowLimit"],
             "yLabel": row["HighLimit"], "xUnit": units[0].strip(), "yUnit": units[1].strip()}  # fmt: skip
    return {key: value for key, value in chart.items() if value}


def _number_list(text: str, line: int, what: str) -> str:
    items = [item.strip() for item in text.split(";")] if text else []
    for item in items:
        _number(item, line, f"{what} item")
    return ";".join(items)


# ---------------------------------------------------------------------------------------------- measurements


def _comp_op(row: _Row, allowed: frozenset[CompOp], kind: str) -> CompOp:
    text = row["CompOperator"]
    if not text:
        return CompOp.LOG
    try:
        op = CompOp(text)
    except ValueError:
        _fail(row.number, f"CompOperator {text!r} is not a comparison operator")
    if op not in allowed:
        _fail(row.number, f"CompOperator {op.value} is not a comparison for {kind} values")
    return op


def _numeric(row: _Row) -> _Measurement:
    op = _comp_op(row, NUMERIC_OPS, "numeric")
    low = _number(row["LowLimit"], row.number, "LowLimit") if row["LowLimit"] else None
    high = _number(row["HighLimit"], row.number, "HighLimit") if row["HighLimit"] else None
    if op in SINGLE_LIMIT_OPS and low is None:
        _fail(row.number, f"CompOperator {op.value} needs its limit in column LowLimit (single-limit operators "
                          "keep it there, even LT and LE)")  # fmt: skip
    if op in DUAL_LIMIT_OPS and (low is None or high is None):
        _fail(row.number, f"CompOperator {op.value} needs both LowLimit and HighLimit")
    value = _number(row["Value"], row.number, "Value") if row["Value"] else None
    data = {"name": row["MeasureName"] or None, "compOp": op.value, "value": value, "lowLimit": low,
            "highLimit": high, "unit": row["Unit"] or None}  # fmt: skip
    return _Measurement(row.number, data, _status(row["StepStatus"], row.number, "StepStatus"), value is not None)


def _string(row: _Row) -> _Measurement:
    row.require_empty(("HighLimit", "Unit"), "StringValueTest")
    op = _comp_op(row, STRING_OPS, "string")
    if op is not CompOp.LOG and not row["LowLimit"]:
        _fail(row.number, f"CompOperator {op.value} needs the expected string in column LowLimit")
    data = {"name": row["MeasureName"] or None, "compOp": op.value, "value": row["Value"] or None,
            "limit": row["LowLimit"] or None}  # fmt: skip
    return _Measurement(row.number, data, _status(row["StepStatus"], row.number, "StepStatus"), bool(row["Value"]))


def _pass_fail(row: _Row) -> _Measurement:
    row.require_empty(("LowLimit", "HighLimit", "CompOperator", "Unit"), "PassFailTest")
    value = _boolean(row["Value"], row.number, "Value") if row["Value"] else None
    status = _status(row["StepStatus"], row.number, "StepStatus")
    return _Measurement(row.number, {"name": row["MeasureName"] or None}, status, value is not None, value)


_MEASUREMENT_READERS = {"numeric": _numeric, "string": _string, "boolean": _pass_fail}


# ---------------------------------------------------------------------------------------------- to WSJF


def _measurement_status(step: _Step, measurement: _Measurement) -> str | None:
    """The measurement's status by the rules in the module doc; None leaves it to the limits."""
    given = measurement.row_status if measurement.row_status in ("P", "F", "S") else None
    if given and (len(step.measurements) == 1 or not measurement.has_value):
        return given
    if measurement.boolean_value is not None:
        return "P" if measurement.boolean_value else "F"
    if step.kind == "boolean":
        _fail(measurement.line, "a PassFailTest row needs Value TRUE or FALSE, or a StepStatus")
    return None


def _step_dict(step: _Step, path: str, lines: dict[str, int]) -> dict[str, Any]:
    lines[path] = step.line
    data = {"id": step.id, **step.data, "status": step.status}
    if step.times:
        data["totTime"] = sum(step.times)
    for key, texts in step.texts.items():
        if texts:
            data[key] = "\n".join(texts)
    if step.kind == "sequence":
        data["steps"] = [_step_dict(child, f"{path}.steps[{i}]", lines) for i, child in enumerate(step.children)]
    if step.kind in _STEP_TYPES:
        data["stepType"] = _STEP_TYPES[step.kind][len(step.measurements) > 1]
    if step.measurements:
        key = _MEASUREMENT_KINDS.get(step.kind, "numericMeas")  # a chart step's measurements are numeric
        data[key] = _measurement_dicts(step, f"{path}.{key}", lines)
    if step.kind == "chart":
        data["chart"] = {**data["chart"], "series": step.series}
    return data


def _measurement_dicts(step: _Step, path: str, lines: dict[str, int]) -> list[dict[str, Any]]:
    measurements = []
    for index, measurement in enumerate(step.measurements):
        if len(step.measurements) > 1 and not measurement.data.get("name"):
            _fail(measurement.line, f"step {step.name!r} has several measurements: each row needs a MeasureName")
        lines[f"{path}[{index}]"] = measurement.line
        measurements.append({**measurement.data, "status": _measurement_status(step, measurement)})
    return measurements


@dataclass(frozen=True)
class _Options:
    lengths: LengthMode
    processes: tuple[ProcessInfo, ...]
    machine_name: str | None
    location: str
    purpose: str
    report_id: UUID | None

    @classmethod
    def checked(cls, lengths: LengthMode, processes: Sequence[ProcessInfo], *rest: Any) -> _Options:
        # A wrong argument is the caller's bug, not bad input: a plain ValueError, before any reading.
        if lengths not in ("strict", "truncate"):
            raise ValueError(f"lengths must be 'strict' or 'truncate', not {lengths!r}")
        return cls(lengths, tuple(processes), *rest)


def _required(header: _Header, key: str) -> tuple[str, int]:
    found = header.get(key)
    if found is None:
        if key in header.values:
            _fail(header.values[key][1], f"{key} is empty")
        _fail(header.start_line, f"the header has no {key}")
    return found


def _text(header: _Header, key: str) -> str | None:
    found = header.get(key)
    return found[0] if found else None


def _process_code(header: _Header, processes: tuple[ProcessInfo, ...]) -> int:
    if code := header.get("OperationTypeCode"):
        return _integer(code[0], code[1], "OperationTypeCode")
    if name := header.get("OperationTypeName"):
        found = code_for_name(name[0], processes)
        if found is None:
            known = ", ".join(repr(process.name) for process in processes)
            _fail(name[1], f"OperationTypeName {name[0]!r} is not a known process (names are case-sensitive; "
                           f"known: {known})")  # fmt: skip
        return found
    _fail(header.start_line, "the header has neither OperationTypeCode nor OperationTypeName")


def _start_times(header: _Header) -> tuple[datetime, datetime]:
    """``start`` (with the station's offset) and ``startUTC``."""
    utc_cell, local_cell = header.get("UTCStartDateTime"), header.get("StartDateTime")
    if utc_cell is None and local_cell is None:
        _fail(header.start_line, "the header has neither UTCStartDateTime nor StartDateTime")
    utc = local = None
    if utc_cell:
        utc = _date(*utc_cell, "UTCStartDateTime")
        utc = utc.replace(tzinfo=timezone.utc) if utc.tzinfo is None else utc.astimezone(timezone.utc)
    if local_cell:
        local = _date(*local_cell, "StartDateTime")
    if utc is None:
        start = local.astimezone() if local.tzinfo is None else local  # type: ignore[union-attr]
        return start, start.astimezone(timezone.utc)
    if local is None:
        return utc, utc
    if local.tzinfo is not None:
        return local, utc
    minutes = round((local - utc.replace(tzinfo=None)).total_seconds() / 60)
    if abs(minutes) > 14 * 60:
        _fail(local_cell[1], "StartDateTime and UTCStartDateTime are more than 14 hours apart")  # type: ignore[index]
    return utc.astimezone(timezone(timedelta(minutes=minutes))), utc


# Where a header value lands in WSJF, to name its line when the model refuses it (e.g. too long).
_HEADER_PATHS = {
    "SerialNumber": ("sn",), "PartNumber": ("pn",), "Revision": ("rev",), "StationName": ("machineName",),
    "OperatorName": ("uut.user",), "BatchSerialNumber": ("uut.batchSN",), "FixtureId": ("uut.fixtureId",),
    "ErrorMessage": ("uut.errorMessage",), "SoftwareName": ("root.seqCall.path", "root.seqCall.name"),
    "SoftwareVersion": ("root.seqCall.version",),
}  # fmt: skip


def _report_dict(header: _Header, root: _Step, result: tuple[str, int] | None, options: _Options,
                 lines: dict[str, int]) -> dict[str, Any]:  # fmt: skip
    """The WSJF dict of the report; ``lines`` learns the source line of every path, for error messages."""
    sn, pn = _required(header, "SerialNumber"), _required(header, "PartNumber")
    start, start_utc = _start_times(header)
    station = header.get("StationName")
    machine = station[0] if station else options.machine_name
    if machine is None:
        _fail(header.start_line, "the header has no StationName and no machine_name was given")
    for key, paths in _HEADER_PATHS.items():
        if key in header.values:
            lines.update(dict.fromkeys(paths, header.values[key][1]))
    root.data = _root_data(header)
    if "SoftwareName" in header.values:
        root.line = header.values["SoftwareName"][1]
    if result:
        root.status = {"D": "P"}.get(result[0], result[0])
    report = {
        "type": "T", "pn": pn[0], "sn": sn[0], "rev": _text(header, "Revision") or "", "machineName": machine,
        "location": options.location, "purpose": options.purpose, "result": root.status or "P",
        "start": start.isoformat(), "startUTC": start_utc.isoformat(),
        "processCode": _process_code(header, options.processes), "uut": _uut_dict(header, lines),
        "subUnits": _sub_units(header, lines), "miscInfos": _misc_infos(header, lines),
        "root": _step_dict(root, "root", lines),
    }  # fmt: skip
    if options.report_id is not None:
        report["id"] = str(options.report_id)
    return report


def _parsed(header: _Header, key: str, parse: Any) -> Any:
    found = header.get(key)
    return parse(found[0], found[1], key) if found else None


def _uut_dict(header: _Header, lines: dict[str, int]) -> dict[str, Any]:
    if header.comments:
        lines["uut.comment"] = header.comments[0][1]
    return {
        "user": _text(header, "OperatorName"), "batchSN": _text(header, "BatchSerialNumber"),
        "fixtureId": _text(header, "FixtureId"), "errorMessage": _text(header, "ErrorMessage"),
        "comment": "\n".join(value for value, _ in header.comments) if header.comments else None,
        "execTime": _parsed(header, "ExecutionTime", _number), "errorCode": _parsed(header, "ErrorCode", _integer),
        "testSocketIndex": _parsed(header, "TestSocketIndex", _integer),
    }  # fmt: skip


def _root_data(header: _Header) -> dict[str, Any]:
    """The root sequence call: named after the software (its path), or ``MainSequence`` as in TestStand."""
    software, version = _text(header, "SoftwareName"), _text(header, "SoftwareVersion")
    file_name = re.split(r"[\\/]", software)[-1] if software else "MainSequence"
    seq_call = {"path": software, "name": file_name, "version": version}
    return {"name": software or "MainSequence", "stepType": "SequenceCall", "seqCall": seq_call}


def _sub_units(header: _Header, lines: dict[str, int]) -> list[dict[str, Any]]:
    sub_units = []
    for index, (cells, line) in enumerate(header.sub_units):
        part_type, pn, sn, rev = (cells + [""] * 4)[:4]
        if not pn or not sn:
            _fail(line, "a Subunit line needs partType, pn and sn (and optionally rev)")
        lines[f"subUnits[{index}]"] = line
        sub_units.append({"partType": part_type, "pn": pn, "sn": sn, "rev": rev or None})
    return sub_units


def _misc_infos(header: _Header, lines: dict[str, int]) -> list[dict[str, Any]]:
    for index, (_, _, line) in enumerate(header.misc):
        lines[f"miscInfos[{index}]"] = line
    return [{"description": key, "text": value} for key, value, _ in header.misc]


def _line_of(path: str | None, lines: dict[str, int]) -> int | None:
    """The source line of a WSJF path: that of its longest known prefix."""
    if not path:
        return None
    best = max((key for key in lines if path == key or path.startswith((key + ".", key + "["))), key=len, default=None)
    return lines.get(best) if best else None


def _build(header: _Header, root: _Step, result: tuple[str, int] | None, options: _Options) -> UUTReport:
    lines: dict[str, int] = {}
    data = _report_dict(header, root, result, options, lines)
    try:
        report = parse_report(data, lengths=options.lengths)
    except ReportFormatError as error:
        raise ReportFormatError(error.message, path=error.path, line=_line_of(error.path, lines) or header.start_line,
                                problems=error.problems) from None  # fmt: skip
    assert isinstance(report, UUTReport)
    try:
        apply_statuses(report)
    except ValueError as error:
        found = re.match(r"root(\.steps\[\d+\])*", str(error))
        path = found.group(0) if found else None
        raise ReportFormatError(str(error), path=path, line=_line_of(path, lines)) from None
    if result is None:
        report.result = report_result(report.root.status)
    return report


# ---------------------------------------------------------------------------------------------- sections


def _expect_marker(line: _Line | None, expected: str, last_line: int) -> NoReturn:
    name = _MARKER_NAMES[expected]
    if line is None:
        _fail(last_line, f"the file ends before {name}")
    _fail(line.number, f"expected {name} before this line ({line.cells[0]!r})")


def _read_report(cursor: _Cursor, start: _Line, options: _Options) -> UUTReport:
    header = _Header(start.number)
    while (line := cursor.take()) is not None and line.marker != _STEPS_START:
        if line.marker:
            _expect_marker(line, _STEPS_START, cursor.last_number)
        header.add(line)
    if line is None:
        _expect_marker(line, _STEPS_START, cursor.last_number)
    columns_line = cursor.take()
    if columns_line is None or columns_line.marker:
        _fail(columns_line.number if columns_line else cursor.last_number,
              "expected the column header line (StepType, StepName, ...) after --Step-Data-Start--")
    root = _Step("sequence", 0, start.number, {}, None)
    tree = _StepTree(_read_columns(columns_line), root)
    while (line := cursor.take()) is not None and line.marker != _STEPS_END:
        if line.marker or line.cells[0].lower() == "uutstatus":
            _expect_marker(line, _STEPS_END, cursor.last_number)
        tree.add(line)
    if line is None:
        _expect_marker(line, _STEPS_END, cursor.last_number)
    tree.finish(line.number)
    result = _read_footer(cursor, header)
    return _build(header, root, result, options)


def _read_footer(cursor: _Cursor, header: _Header) -> tuple[str, int] | None:
    """The UUTStatus line(s) up to --UUT-End--; the footer's status wins over the header's."""
    footer: tuple[str, int] | None = None
    while (line := cursor.take()) is not None and line.marker != _UUT_END:
        if line.marker:
            _expect_marker(line, _UUT_END, cursor.last_number)
        if line.cells[0].lower() != "uutstatus":
            _fail(line.number, f"only a UUTStatus line may stand between --Step-Data-End-- and --UUT-End--, "
                               f"not {line.cells[0]!r}")  # fmt: skip
        if len(line.cells) > 2:
            _fail(line.number, f"UUTStatus has more than one value ({line.cells[2]!r} is left over)")
        if footer is not None:
            _fail(line.number, f"UUTStatus is given twice in the footer (first on line {footer[1]})")
        footer = (line.cells[1] if len(line.cells) > 1 else "", line.number)
    if line is None:
        _expect_marker(line, _UUT_END, cursor.last_number)
    results = [_result(*found) for found in (header.get("UUTStatus"), footer) if found and found[0]]
    return results[-1] if results else None


def _result(text: str, line: int) -> tuple[str, int]:
    letter = _status(text, line, "UUTStatus")
    if letter == "S":
        _fail(line, "UUTStatus Skipped is not a report result (Passed, Failed, Error or Terminated)")
    return letter, line  # type: ignore[return-value]


def _reports(lines: list[_Line], options: _Options) -> Iterator[tuple[int, UUTReport]]:
    """Each report of the file and the line its header starts on."""
    cursor = _Cursor(lines)
    found = False
    while (line := cursor.take()) is not None:
        if line.marker != _HEADER_START:
            _fail(line.number, f"expected --Header-Start--, found {line.cells[0]!r}")
        found = True
        yield line.number, _read_report(cursor, line, options)
    if not found:
        _fail(1, "the file holds no report (no --Header-Start--)")


# ---------------------------------------------------------------------------------------------- public API


def loads_all(
    text: str | bytes,
    *,
    lengths: LengthMode = "strict",
    processes: Sequence[ProcessInfo] = DEFAULT_PROCESSES,
    machine_name: str | None = None,
    location: str = "",
    purpose: str = "",
) -> list[UUTReport]:
    """Read every report of a WSTF file (the format allows several, one after another).

    Each report gets a random id; give each one a stable id before sending (``report.id = ...``).

    Raises:
        ReportFormatError: anything malformed, with the 1-based ``line`` it was found on.
    """
    options = _Options.checked(lengths, processes, machine_name, location, purpose, None)
    return [report for _, report in _reports(_split_lines(_decode(text)), options)]


def loads(
    text: str | bytes,
    *,
    lengths: LengthMode = "strict",
    processes: Sequence[ProcessInfo] = DEFAULT_PROCESSES,
    machine_name: str | None = None,
    location: str = "",
    purpose: str = "",
    report_id: UUID | None = None,
) -> UUTReport:
    """Read a WSTF file holding one report (see the module doc for the mapping and the status rules).

    Args:
        text: the file's text, or its bytes (UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252).
        lengths: ``"strict"`` refuses a value longer than WATS allows; ``"truncate"`` cuts it.
        processes: the server's processes, to resolve ``OperationTypeName`` to its code.
        machine_name: the station name when the header has no ``StationName``.
        location, purpose: the report's location and purpose (the format has no header for them).
        report_id: the report's id; a random one when not given.

    Raises:
        ReportFormatError: anything malformed, with the 1-based ``line`` it was found on; also when the
            file holds more than one report (use :func:`loads_all`).
    """
    options = _Options.checked(lengths, processes, machine_name, location, purpose, report_id)
    reports = _reports(_split_lines(_decode(text)), options)
    _, report = next(reports)
    for line, _ in reports:
        _fail(line, "the file holds more than one report; read it with loads_all()")
    return report

"""WSTF step rows → the step tree (sequences, steps, measurements, charts) → WSJF step dicts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...models.enums import DUAL_LIMIT_OPS, NUMERIC_OPS, SINGLE_LIMIT_OPS, STRING_OPS, ChartType, CompOp
from ._lines import Line, fail, parse_boolean, parse_integer, parse_number, parse_status

_COLUMNS = (
    "StepType", "StepName", "MeasureName", "Value", "LowLimit", "HighLimit", "CompOperator", "Unit",
    "StepStatus", "StepExecutionTime", "StepReportText", "StepErrorCode", "StepErrorMessage",
    "CausedSequenceFailure",
)  # fmt: skip
_STEP_KINDS = {
    "sequencecall": "sequence", "endsequencecall": "end", "actionstep": "action", "chart": "chart",
    "series": "series", "numericlimittest": "numeric", "multiplenumericlimittest": "numeric",
    "stringvaluetest": "string", "multiplestringvaluetest": "string", "passfailtest": "boolean",
    "multiplepassfailtest": "boolean",
}  # fmt: skip
_MEASUREMENT_KINDS = {"numeric": "numericMeas", "string": "stringMeas", "boolean": "booleanMeas"}
_STEP_TYPES = {"numeric": ("ET_NLT", "ET_MNLT"), "string": ("ET_SVT", "ET_MSVT"), "boolean": ("ET_PFT", "ET_MPFT")}


# ---------------------------------------------------------------------------------------------- rows and the tree


@dataclass
class _Measurement:
    line: int
    data: dict[str, Any]
    row_status: str | None
    has_value: bool
    boolean_value: bool | None = None


@dataclass
class Step:
    kind: str
    id: int
    line: int
    data: dict[str, Any]
    status: str | None
    measurements: list[_Measurement] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    children: list[Step] = field(default_factory=list)
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

    def __init__(self, line: Line, columns: dict[str, int]) -> None:
        self.number = line.number
        self._cells = line.cells
        self._columns = columns

    def __getitem__(self, column: str) -> str:
        index = self._columns.get(column)
        return self._cells[index] if index is not None and index < len(self._cells) else ""

    def require_empty(self, columns: Sequence[str], what: str) -> None:
        for column in columns:
            if self[column]:
                fail(self.number, f"{what} rows do not use column {column} (found {self[column]!r})")


_STEP_COLUMNS = ("StepStatus", "StepExecutionTime", "StepReportText", "StepErrorCode", "StepErrorMessage",
                 "CausedSequenceFailure")  # fmt: skip
_DATA_COLUMNS = ("MeasureName", "Value", "LowLimit", "HighLimit", "CompOperator", "Unit")


def read_columns(line: Line) -> dict[str, int]:
    """Column name → cell index, from the column header line (any order, names matched ignoring case)."""
    known = {name.lower(): name for name in _COLUMNS}
    columns: dict[str, int] = {}
    for index, cell in enumerate(line.cells):
        name = known.get(cell.lower())
        if name is None:
            fail(line.number, f"unknown column {cell!r} in the column header; known: {', '.join(_COLUMNS)}")
        if name in columns:
            fail(line.number, f"column {name} appears twice in the column header")
        columns[name] = index
    for name in ("StepType", "StepName"):
        if name not in columns:
            fail(line.number, f"the column header has no {name} column")
    return columns


class StepTree:
    """Builds the step tree from rows, keeping the line of every step and measurement for error messages."""

    def __init__(self, columns: dict[str, int], root: Step) -> None:
        self._columns = columns
        self._open: list[Step] = [root]
        self._last: Step | None = None  # the step a following row may continue
        self._next_id = 1

    def add(self, line: Line) -> None:
        if len(line.cells) > len(self._columns):
            extra = line.cells[len(self._columns)]
            fail(line.number, f"the row has {len(line.cells)} cells but there are {len(self._columns)} columns "
                              f"(cell {len(self._columns) + 1} {extra!r} has no column)")  # fmt: skip
        row = _Row(line, self._columns)
        step_type = row["StepType"]
        kind = _STEP_KINDS.get(step_type.lower())
        if kind is None:
            fail(row.number, f"unknown StepType {step_type!r}" if step_type else "the row has no StepType")
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
            fail(line, f"SequenceCall {step.name!r} (line {step.line}) has no EndSequenceCall")

    # -- rows

    def _start(self, row: _Row, kind: str, step_type: str) -> None:
        """A sequence call, action or chart row: always a new step, and it needs a name."""
        if not row["StepName"]:
            fail(row.number, f"a {step_type} row needs a StepName")
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

    def _new_step(self, row: _Row, kind: str, data: dict[str, Any]) -> Step:
        """A step started by ``row`` in the open sequence; ids follow the rows, which are depth first."""
        step = Step(kind, self._next_id, row.number, data, parse_status(row["StepStatus"], row.number, "StepStatus"))
        self._next_id += 1
        self._merge_step_cells(step, row)
        self._open[-1].children.append(step)
        self._last = step
        return step

    def _close(self, row: _Row) -> None:
        if len(self._open) == 1:
            fail(row.number, "EndSequenceCall without a SequenceCall")
        sequence = self._open.pop()
        if row["StepName"] and row["StepName"] != sequence.name:
            fail(row.number, f"EndSequenceCall {row['StepName']!r} closes SequenceCall {sequence.name!r} "
                             f"(line {sequence.line})")  # fmt: skip
        row.require_empty(_DATA_COLUMNS + _STEP_COLUMNS, "EndSequenceCall")
        self._last = None

    def _add_series(self, row: _Row) -> None:
        chart = self._last
        if chart is None or chart.kind != "chart" or row["StepName"] not in ("", chart.name):
            fail(row.number, "a Series row must follow its Chart row (StepName empty or the chart's)")
        row.require_empty(("Value", "CompOperator", "Unit") + _STEP_COLUMNS, "Series")
        if not row["HighLimit"]:
            fail(row.number, "a Series row needs its y data in column HighLimit")
        xdata = _number_list(row["LowLimit"], row.number, "LowLimit (x data)")
        ydata = _number_list(row["HighLimit"], row.number, "HighLimit (y data)")
        if xdata and len(xdata.split(";")) != len(ydata.split(";")):
            fail(row.number, "the series has a different number of x and y values")
        series = {"dataType": "XYG", "name": row["MeasureName"] or None, "xdata": xdata or None, "ydata": ydata}
        chart.series.append(series)

    def _add_measurement(self, row: _Row, kind: str) -> None:
        step = self._continued_step(row, kind)
        if step is None:
            step = self._new_step(row, kind, {"name": row["StepName"]})
        else:
            self._merge_step_cells(step, row)  # the row's StepStatus is its measurement's (see module doc)
        step.measurements.append(_MEASUREMENT_READERS[kind](row))

    def _continued_step(self, row: _Row, kind: str) -> Step | None:
        """The step this row adds a measurement to, or None when it starts a new step."""
        last = self._last
        if not row["StepName"]:
            if last is None or not last.accepts(kind):
                fail(row.number, "a row with an empty StepName adds a measurement to the step above it, "
                                 "but there is no step of the same type right above")  # fmt: skip
            return last
        names = [m.data.get("name") for m in last.measurements] if last else []
        same_step = (
            last is not None and last.kind == kind and row["StepName"] == last.name and bool(row["MeasureName"])
            and all(names) and row["MeasureName"] not in names
        )  # fmt: skip
        return last if same_step else None

    @staticmethod
    def _merge_step_cells(step: Step, row: _Row) -> None:
        """Step-level cells: from the first row, except times (summed), texts (joined) and failure flags."""
        if row["StepExecutionTime"]:
            step.times.append(parse_number(row["StepExecutionTime"], row.number, "StepExecutionTime"))
        for column, key in (("StepReportText", "reportText"), ("StepErrorMessage", "errorMessage")):
            if row[column] and row[column] not in step.texts[key]:
                step.texts[key].append(row[column])
        if row["StepErrorCode"]:
            code = parse_integer(row["StepErrorCode"], row.number, "StepErrorCode")
            if step.data.get("errorCode", code) != code:
                fail(row.number, f"StepErrorCode {code} contradicts {step.data['errorCode']} of step "
                                 f"{step.name!r} (line {step.line})")  # fmt: skip
            step.data["errorCode"] = code
        if row["CausedSequenceFailure"]:
            caused = parse_boolean(row["CausedSequenceFailure"], row.number, "CausedSequenceFailure")
            step.data["causedSeqFailure"] = caused or bool(step.data.get("causedSeqFailure"))


def _chart(row: _Row) -> dict[str, Any]:
    row.require_empty(("CompOperator",), "Chart")
    kind = row["Value"] or "Line"
    chart_type = next((t.value for t in ChartType if t.value.lower() == kind.lower()), None)
    if chart_type is None:
        fail(row.number, f"chart type {kind!r} in column Value is not one of Line, LineLogXY, LineLogX, LineLogY")
    units = row["Unit"].split(";") if row["Unit"] else []
    if len(units) > 2:
        fail(row.number, f"column Unit of a Chart row is '<x unit>;<y unit>', not {row['Unit']!r}")
    units += [""] * (2 - len(units))
    chart = {"chartType": chart_type, "label": row["MeasureName"] or row["StepName"], "xLabel": row["LowLimit"],
             "yLabel": row["HighLimit"], "xUnit": units[0].strip(), "yUnit": units[1].strip()}  # fmt: skip
    return {key: value for key, value in chart.items() if value}


def _number_list(text: str, line: int, what: str) -> str:
    items = [item.strip() for item in text.split(";")] if text else []
    for item in items:
        parse_number(item, line, f"{what} item")
    return ";".join(items)


# ---------------------------------------------------------------------------------------------- measurements


def _comp_op(row: _Row, allowed: frozenset[CompOp], kind: str) -> CompOp:
    text = row["CompOperator"]
    if not text:
        return CompOp.LOG
    try:
        op = CompOp(text)
    except ValueError:
        fail(row.number, f"CompOperator {text!r} is not a comparison operator")
    if op not in allowed:
        fail(row.number, f"CompOperator {op.value} is not a comparison for {kind} values")
    return op


def _numeric(row: _Row) -> _Measurement:
    op = _comp_op(row, NUMERIC_OPS, "numeric")
    low = parse_number(row["LowLimit"], row.number, "LowLimit") if row["LowLimit"] else None
    high = parse_number(row["HighLimit"], row.number, "HighLimit") if row["HighLimit"] else None
    if op in SINGLE_LIMIT_OPS and low is None:
        fail(row.number, f"CompOperator {op.value} needs its limit in column LowLimit (single-limit operators "
                         "keep it there, even LT and LE)")  # fmt: skip
    if op in DUAL_LIMIT_OPS and (low is None or high is None):
        fail(row.number, f"CompOperator {op.value} needs both LowLimit and HighLimit")
    value = parse_number(row["Value"], row.number, "Value") if row["Value"] else None
    data = {"name": row["MeasureName"] or None, "compOp": op.value, "value": value, "lowLimit": low,
            "highLimit": high, "unit": row["Unit"] or None}  # fmt: skip
    return _Measurement(row.number, data, parse_status(row["StepStatus"], row.number, "StepStatus"), value is not None)


def _string(row: _Row) -> _Measurement:
    row.require_empty(("HighLimit", "Unit"), "StringValueTest")
    op = _comp_op(row, STRING_OPS, "string")
    if op is not CompOp.LOG and not row["LowLimit"]:
        fail(row.number, f"CompOperator {op.value} needs the expected string in column LowLimit")
    data = {"name": row["MeasureName"] or None, "compOp": op.value, "value": row["Value"] or None,
            "limit": row["LowLimit"] or None}  # fmt: skip
    return _Measurement(row.number, data, parse_status(row["StepStatus"], row.number, "StepStatus"), bool(row["Value"]))


def _pass_fail(row: _Row) -> _Measurement:
    row.require_empty(("LowLimit", "HighLimit", "CompOperator", "Unit"), "PassFailTest")
    value = parse_boolean(row["Value"], row.number, "Value") if row["Value"] else None
    status = parse_status(row["StepStatus"], row.number, "StepStatus")
    return _Measurement(row.number, {"name": row["MeasureName"] or None}, status, value is not None, value)


_MEASUREMENT_READERS = {"numeric": _numeric, "string": _string, "boolean": _pass_fail}


# ---------------------------------------------------------------------------------------------- to WSJF


def _measurement_status(step: Step, measurement: _Measurement) -> str | None:
    """The measurement's status by the rules in the module doc; None leaves it to the limits."""
    given = measurement.row_status if measurement.row_status in ("P", "F", "S") else None
    if given and (len(step.measurements) == 1 or not measurement.has_value):
        return given
    if measurement.boolean_value is not None:
        return "P" if measurement.boolean_value else "F"
    if step.kind == "boolean":
        fail(measurement.line, "a PassFailTest row needs Value TRUE or FALSE, or a StepStatus")
    return None


def step_dict(step: Step, path: str, lines: dict[str, int]) -> dict[str, Any]:
    lines[path] = step.line
    data = {"id": step.id, **step.data, "status": step.status}
    if step.times:
        data["totTime"] = sum(step.times)
    for key, texts in step.texts.items():
        if texts:
            data[key] = "\n".join(texts)
    if step.kind == "sequence":
        data["steps"] = [step_dict(child, f"{path}.steps[{i}]", lines) for i, child in enumerate(step.children)]
    if step.kind in _STEP_TYPES:
        data["stepType"] = _STEP_TYPES[step.kind][len(step.measurements) > 1]
    if step.measurements:
        key = _MEASUREMENT_KINDS.get(step.kind, "numericMeas")  # a chart step's measurements are numeric
        data[key] = _measurement_dicts(step, f"{path}.{key}", lines)
    if step.kind == "chart":
        data["chart"] = {**data["chart"], "series": step.series}
    return data


def _measurement_dicts(step: Step, path: str, lines: dict[str, int]) -> list[dict[str, Any]]:
    measurements = []
    for index, measurement in enumerate(step.measurements):
        if len(step.measurements) > 1 and not measurement.data.get("name"):
            fail(measurement.line, f"step {step.name!r} has several measurements: each row needs a MeasureName")
        lines[f"{path}[{index}]"] = measurement.line
        measurements.append({**measurement.data, "status": _measurement_status(step, measurement)})
    return measurements


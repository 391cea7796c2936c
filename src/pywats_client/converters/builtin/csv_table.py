"""Configurable CSV / delimited text: a table of results whose columns the arguments name.

Two layouts:

- **long**: one row per measurement, e.g. ``SerialNumber;PartNumber;StepName;Value;LowLimit;HighLimit;Unit``.
  Consecutive rows of the same serial number (and start time, when mapped) make one report.
- **wide**: one row per unit, one column per measurement, e.g. ``SerialNumber,Vcc,Icc,Firmware``. Rows whose
  serial-number cell is ``LowLimit`` / ``HighLimit`` / ``Unit`` (configurable) give each column's limits
  and unit.

``layout="auto"`` (the default) reads the long layout when the step-name and value columns are in the
header, else the wide one. Columns are named by their header text (case-insensitive) or as ``#N``
(1-based position). Columns left at their default names are optional; a column named explicitly in the
arguments must exist. This converter has no format of its own to recognise, so ``validate()`` says at
most 0.3 (only when the mapped columns are in the header): ``auto`` never picks it.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from pywats import ReportBuilder
from pywats.models import CompOp, LengthMode
from pywats.models.enums import DUAL_LIMIT_OPS, SINGLE_LIMIT_OPS, STRING_OPS

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile, decode_text

_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_SYMBOLS = {"<": "LT", "<=": "LE", ">": "GT", ">=": "GE", "=": "EQ", "==": "EQ", "!=": "NE", "<>": "NE"}
_STATUSES = {
    "p": "P", "pass": "P", "passed": "P", "ok": "P", "true": "P", "1": "P",
    "f": "F", "fail": "F", "failed": "F", "ng": "F", "nok": "F", "false": "F", "0": "F",
    "s": "S", "skip": "S", "skipped": "S",
    "e": "E", "error": "E",
    "t": "T", "terminated": "T", "aborted": "T",
}  # fmt: skip
_HEADER_FIELDS = ("serial_number", "part_number", "revision", "operator", "station", "start_time", "result")
_LONG_FIELDS = ("sequence", "step_name", "value", "low_limit", "high_limit", "unit", "comp_operator", "status")


class CSVArguments(ConverterArguments):
    layout: Literal["auto", "long", "wide"] = Field(
        "auto", description="'long': one row per measurement; 'wide': one row per unit, one column per "
        "measurement; 'auto': long when the step-name and value columns are found, else wide",
    )  # fmt: skip
    delimiter: str = Field(
        "", description="field delimiter (one character, or 'tab'); empty: whichever of , ; TAB | occurs "
        "most often in the header row",
    )  # fmt: skip
    decimal: Literal[".", ","] = Field(".", description="decimal separator of numbers; with ',' a '.' is a "
                                       "thousands separator")  # fmt: skip
    skip_rows: int = Field(0, ge=0, description="lines before the header row to skip")
    encoding: str = Field(
        "", description="text encoding (e.g. 'utf-8', 'cp1252'); empty: BOM, else UTF-8, else Windows-1252"
    )
    serial_number_column: str = Field("SerialNumber", description="column of the serial number (required)")
    part_number_column: str = Field("PartNumber", description="column of the part number")
    revision_column: str = Field("Revision", description="column of the revision")
    operator_column: str = Field("Operator", description="column of the operator's name")
    station_column: str = Field("Station", description="column of the test station's name")
    start_time_column: str = Field("StartTime", description="column of the start time (of the unit's first row)")
    start_time_format: str = Field(
        "", description="strptime format of the start time (e.g. '%d.%m.%Y %H:%M:%S'); empty: ISO 8601"
    )
    result_column: str = Field("Result", description="column of the unit's overall result (Passed/Failed/...)")
    sequence_column: str = Field("Sequence", description="long layout: column naming the sequence of the row's step")
    step_name_column: str = Field("StepName", description="long layout: column of the step name")
    value_column: str = Field("Value", description="long layout: column of the measured value")
    low_limit_column: str = Field("LowLimit", description="long layout: column of the low limit (or string limit)")
    high_limit_column: str = Field("HighLimit", description="long layout: column of the high limit")
    unit_column: str = Field("Unit", description="long layout: column of the unit")
    comp_operator_column: str = Field(
        "CompOperator", description="long layout: column of the comparison (GELE, LT, ..., or <, <=, >, >=, =, !=); "
        "empty cells: inferred from the limits",
    )  # fmt: skip
    status_column: str = Field(
        "Status", description="long layout: column of the step's status (P/F/S/E, Pass/Fail...); empty cells: "
        "computed from the limits. Wide layout: the unit's result when there is no result column",
    )  # fmt: skip
    measurement_columns: list[str] = Field(
        default_factory=list, description="wide layout: the measurement columns; empty: every column not mapped "
        "to a header field",
    )  # fmt: skip
    low_limit_row: str = Field("LowLimit", description="wide layout: serial-number cell of the row of low limits")
    high_limit_row: str = Field("HighLimit", description="wide layout: serial-number cell of the row of high limits")
    unit_row: str = Field("Unit", description="wide layout: serial-number cell of the row of units")
    part_number: str = Field("", description="part number when there is no part number column or its cell is empty")
    revision: str = Field("", description="revision when there is no revision column or its cell is empty")
    operator: str = Field("", description="operator when there is no operator column or its cell is empty")
    station_name: str = Field("", description="station name when there is no station column (else the instance's)")
    process_code: int = Field(100, description="WATS process (operation type) code of the reports")
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts names and texts to the WATS limits; 'strict' refuses them"
    )


class _Table:
    """The header and the data rows (with their line numbers) of a delimited text."""

    def __init__(self, text: str, args: CSVArguments) -> None:
        body = text
        for _ in range(args.skip_rows):
            _, newline, body = body.partition("\n")
            if not newline:
                body = ""
                break
        self.offset = args.skip_rows
        first = body.split("\n", 1)[0]
        self.delimiter = _delimiter(args.delimiter, first)
        self.reader = csv.reader(io.StringIO(body), delimiter=self.delimiter)
        try:
            header = next(self.reader, None)
        except csv.Error as error:
            raise ConversionError(f"the header row cannot be read: {error}", line=self.offset + 1) from None
        if not header or not any(cell.strip() for cell in header):
            raise ConversionError("no header row", line=self.offset + 1)
        self.header = [cell.strip().lstrip("\ufeff").strip() for cell in header]
        self.index: dict[str, int] = {}
        for position, name in enumerate(self.header):
            self.index.setdefault(name.lower(), position)

    def column(self, spec: str) -> int | None:
        spec = spec.strip()
        if not spec:
            return None
        if spec.startswith("#") and spec[1:].isdigit():
            position = int(spec[1:]) - 1
            return position if 0 <= position < len(self.header) else None
        return self.index.get(spec.lower())

    def rows(self) -> Any:
        """(line number, cells) of every non-blank data row."""
        try:
            for cells in self.reader:
                if any(cell.strip() for cell in cells):
                    yield self.offset + self.reader.line_num, cells
        except csv.Error as error:
            raise ConversionError(f"the row cannot be read: {error}", line=self.offset + self.reader.line_num) from None


def _delimiter(given: str, header: str) -> str:
    if given:
        value = _DELIMITER_NAMES.get(given.lower(), given)
        if len(value) != 1:
            raise ConversionError(f"the delimiter must be one character or 'tab', not {given!r}", field="delimiter")
        return value
    counts = [(header.count(candidate), -position, candidate) for position, candidate in enumerate(_DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] > 0 else ","


def _numeric_limits(op: str | None, low: float | None, high: float | None, line: int,
                    field: str) -> tuple[str, float | None, float | None]:  # fmt: skip
    """The operator and (lowLimit, highLimit) of a numeric row; single-limit operators keep theirs low."""
    if op is None:
        if low is not None and high is not None:
            return "GELE", low, high
        if low is not None:
            return "GE", low, None
        return ("LE", high, None) if high is not None else ("LOG", None, None)
    comp = CompOp(op)
    if comp in SINGLE_LIMIT_OPS:
        if low is not None and high is not None:
            raise ConversionError(f"{op} takes one limit but the row has two", line=line, field=field)
        limit = low if low is not None else high
        if limit is None:
            raise ConversionError(f"{op} needs a limit", line=line, field=field)
        return op, limit, None
    if comp in DUAL_LIMIT_OPS:
        if low is None or high is None:
            raise ConversionError(f"{op} needs a low and a high limit", line=line, field=field)
        return op, low, high
    if comp is CompOp.LOG:
        return op, low, high
    raise ConversionError(f"{op} is not a comparison for numbers", line=line, field=field)


def _cell(cells: list[str], position: int | None) -> str:
    if position is None or position >= len(cells):
        return ""
    return cells[position].strip()


class CSVConverter(FileConverter):
    name = "csv"
    version = "1.0"
    description = "configurable CSV / delimited text: one row per measurement or one row per unit"
    patterns = ("*.csv", "*.txt", "*.tsv")
    Arguments = CSVArguments

    # -- columns --

    def _columns(self, table: _Table, fields: tuple[str, ...]) -> dict[str, int | None]:
        args: CSVArguments = self.arguments  # type: ignore[assignment]
        explicit = args.model_fields_set
        found: dict[str, int | None] = {}
        for field in fields:
            argument = f"{field}_column"
            spec = getattr(args, argument)
            position = table.column(spec)
            if position is None and spec.strip() and argument in explicit:
                raise ConversionError(f"no column {spec!r} in the header", line=table.offset + 1, field=argument)
            found[field] = position
        return found

    def _layout(self, table: _Table) -> str:
        args: CSVArguments = self.arguments  # type: ignore[assignment]
        if args.layout != "auto":
            return args.layout
        has_long = table.column(args.step_name_column) is not None and table.column(args.value_column) is not None
        return "long" if has_long else "wide"

    def _wide_columns(self, table: _Table, header: dict[str, int | None], status: int | None) -> list[int]:
        args: CSVArguments = self.arguments  # type: ignore[assignment]
        if args.measurement_columns:
            positions = []
            for spec in args.measurement_columns:
                position = table.column(spec)
                if position is None:
                    raise ConversionError(f"no measurement column {spec!r} in the header", line=table.offset + 1,
                                          field="measurement_columns")  # fmt: skip
                positions.append(position)
            return positions
        mapped = {position for position in header.values() if position is not None} | {status}
        return [position for position, name in enumerate(table.header) if position not in mapped and name]

    def _table(self, text: str) -> _Table:
        args: CSVArguments = self.arguments  # type: ignore[assignment]
        table = _Table(text, args)
        if table.column(args.serial_number_column) is None:
            raise ConversionError(f"no serial number column {args.serial_number_column!r} in the header",
                                  line=table.offset + 1, field="serial_number_column")  # fmt: skip
        return table

    # -- validate / convert --

    def validate(self, source: SourceFile) -> float:
        args: CSVArguments = self.arguments  # type: ignore[assignment]
        try:
            table = self._table(decode_text(source.head(65536), args.encoding or None))
            if len(table.header) < 2:
                return 0.0
            header = self._columns(table, _HEADER_FIELDS)
            if self._layout(table) == "long":
                columns = self._columns(table, _LONG_FIELDS)
                found = columns["step_name"] is not None and columns["value"] is not None
            else:
                found = bool(self._wide_columns(table, header, table.column(args.status_column)))
            return 0.3 if found else 0.0
        except ConversionError:
            return 0.0

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        args: CSVArguments = self.arguments  # type: ignore[assignment]
        table = self._table(source.text(args.encoding or None))
        header = self._columns(table, _HEADER_FIELDS)
        if self._layout(table) == "long":
            return self._long(table, header, self._columns(table, _LONG_FIELDS), context)
        return self._wide(table, header, context)

    # -- header of one unit --

    def _builder(self, cells: list[str], line: int, header: dict[str, int | None], context: ConversionContext,
                 result: str | None) -> Any:  # fmt: skip
        args: CSVArguments = self.arguments  # type: ignore[assignment]
        serial = _cell(cells, header["serial_number"])
        if not serial:
            raise ConversionError("the row has no serial number", line=line, field=args.serial_number_column)
        part = _cell(cells, header["part_number"]) or args.part_number
        if not part:
            raise ConversionError("no part number: map part_number_column or give part_number", line=line,
                                  field="part_number")  # fmt: skip
        revision = _cell(cells, header["revision"]) or args.revision
        if not revision:
            raise ConversionError("no revision: map revision_column or give revision", line=line, field="revision")
        return ReportBuilder.uut(
            pn=part, sn=serial, rev=revision, process_code=args.process_code,
            start=self._start(_cell(cells, header["start_time"]), line, context), result=result,
            user=_cell(cells, header["operator"]) or args.operator or None,
            machine_name=_cell(cells, header["station"]) or args.station_name or None,
        )  # fmt: skip

    def _start(self, text: str, line: int, context: ConversionContext) -> datetime | None:
        if not text:
            return None
        args: CSVArguments = self.arguments  # type: ignore[assignment]
        try:
            if args.start_time_format:
                moment = datetime.strptime(text, args.start_time_format)
            else:
                moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
            return context.localize(moment)
        except (ValueError, OverflowError, OSError):
            expected = args.start_time_format or "ISO 8601"
            raise ConversionError(f"start time {text!r} is not a date and time ({expected})", line=line,
                                  field=args.start_time_column) from None  # fmt: skip

    def _build(self, builder: Any, line: int) -> Report:
        try:
            return builder.build(lengths=self.arguments.lengths)  # type: ignore[attr-defined]
        except ValueError as error:
            raise ConversionError(f"the unit's rows do not make a valid WATS report: {error}", line=line) from None

    def _number(self, text: str, line: int, column: str, *, required: bool = True) -> float | None:
        if not text:
            return None
        cleaned = text.replace(" ", "")
        if self.arguments.decimal == ",":  # type: ignore[attr-defined]
            cleaned = cleaned.replace(".", "").replace(",", ".")
        try:
            return float(cleaned)
        except ValueError:
            if required:
                raise ConversionError(f"{text!r} is not a number", line=line, field=column) from None
            return None

    # -- long layout --

    def _long(self, table: _Table, header: dict[str, int | None], columns: dict[str, int | None],
              context: ConversionContext) -> list[Report]:  # fmt: skip
        reports: list[Report] = []
        key: tuple[str, str] | None = None
        builder: Any = None
        sequence: Any = None
        sequence_name = ""
        first_line = 0
        for line, cells in table.rows():
            row_key = (_cell(cells, header["serial_number"]), _cell(cells, header["start_time"]))
            if row_key != key:
                if builder is not None:
                    reports.append(self._build(builder, first_line))
                key, first_line = row_key, line
                result = self._result(_cell(cells, header["result"]), line)
                builder = self._builder(cells, line, header, context, result)
                sequence, sequence_name = builder, ""
            name = _cell(cells, columns["sequence"])
            if name != sequence_name:
                sequence_name = name
                sequence = builder.sequence(name) if name else builder
            self._long_step(sequence, cells, line, columns)
        if builder is not None:
            reports.append(self._build(builder, first_line))
        if not reports:
            raise ConversionError("the file has a header but no data rows", line=table.offset + 2)
        return reports

    def _result(self, text: str, line: int) -> str | None:
        if not text:
            return None
        status = _STATUSES.get(text.lower())
        if status is None or status == "S":
            raise ConversionError(f"result {text!r} is not Passed/Failed/Error/Terminated", line=line, field="result")
        return status

    def _long_step(self, parent: Any, cells: list[str], line: int, columns: dict[str, int | None]) -> None:
        args: CSVArguments = self.arguments  # type: ignore[assignment]
        name = _cell(cells, columns["step_name"])
        if not name:
            raise ConversionError("the row has no step name", line=line, field=args.step_name_column)
        value = _cell(cells, columns["value"])
        low_text, high_text = _cell(cells, columns["low_limit"]), _cell(cells, columns["high_limit"])
        op = self._operator(_cell(cells, columns["comp_operator"]), line)
        status = self._status(_cell(cells, columns["status"]), line)
        step_status = status if status in ("E", "T") else None  # a step status; measurements take P/F/S only
        measured = status if status in ("P", "F", "S") else None
        if not value:
            if status in ("P", "F"):
                parent.pass_fail(name, status == "P")
            else:
                parent.action(name, **({"status": status} if status else {}))
            return
        number = self._number(value, line, args.value_column, required=False)
        if number is not None:
            low = self._number(low_text, line, args.low_limit_column)
            high = self._number(high_text, line, args.high_limit_column)
            op, low, high = _numeric_limits(op, low, high, line, args.comp_operator_column)
            unit = _cell(cells, columns["unit"]) or None
            if step_status:
                measurement = {"compOp": op, "value": number, "lowLimit": low, "highLimit": high, "unit": unit}
                parent.add_step({"stepType": "ET_NLT", "name": name, "status": step_status,
                                 "numericMeas": [{k: v for k, v in measurement.items() if v is not None}]})  # fmt: skip
            else:
                parent.numeric(name, number, low=low, comp_op=op, high=high, unit=unit, status=measured)
            return
        if high_text:
            raise ConversionError(f"{value!r} is not a number but the row has a high limit", line=line,
                                  field=args.value_column)  # fmt: skip
        if op is not None and CompOp(op) not in STRING_OPS:
            raise ConversionError(f"{op} is not a comparison for the text {value!r}", line=line,
                                  field=args.comp_operator_column)  # fmt: skip
        limit = low_text or None
        op = op or ("EQ" if limit is not None else "LOG")
        if op != "LOG" and limit is None:
            raise ConversionError(f"{op} needs a limit (in the low limit column)", line=line,
                                  field=args.low_limit_column)  # fmt: skip
        if step_status:
            measurement = {"compOp": op, "value": value, "limit": limit}
            parent.add_step({"stepType": "ET_SVT", "name": name, "status": step_status,
                             "stringMeas": [{k: v for k, v in measurement.items() if v is not None}]})  # fmt: skip
        else:
            parent.string(name, value, limit=limit, comp_op=op, status=measured)

    def _operator(self, text: str, line: int) -> str | None:
        if not text:
            return None
        symbol = _SYMBOLS.get(text)
        if symbol:
            return symbol
        try:
            return CompOp(text).value
        except ValueError:
            raise ConversionError(f"{text!r} is not a comparison operator", line=line,
                                  field=self.arguments.comp_operator_column) from None  # type: ignore[attr-defined]

    def _status(self, text: str, line: int) -> str | None:
        if not text:
            return None
        status = _STATUSES.get(text.lower())
        if status is None:
            raise ConversionError(f"{text!r} is not a status (Pass/Fail/Skip/Error)", line=line,
                                  field=self.arguments.status_column)  # type: ignore[attr-defined]
        return status

    # -- wide layout --

    def _wide(self, table: _Table, header: dict[str, int | None], context: ConversionContext) -> list[Report]:
        args: CSVArguments = self.arguments  # type: ignore[assignment]
        status_column = table.column(args.status_column)
        measurements = self._wide_columns(table, header, status_column)
        if not measurements:
            raise ConversionError("no measurement columns in the header", line=table.offset + 1)
        rows = list(table.rows())
        labels = {label.lower(): kind for label, kind in ((args.low_limit_row, "low"), (args.high_limit_row, "high"),
                                                           (args.unit_row, "unit")) if label}  # fmt: skip
        limits: dict[str, dict[int, Any]] = {"low": {}, "high": {}, "unit": {}}
        units = []
        for line, cells in rows:
            kind = labels.get(_cell(cells, header["serial_number"]).lower())
            if kind is None:
                units.append((line, cells))
                continue
            for position in measurements:
                text = _cell(cells, position)
                if text and kind == "unit":
                    limits[kind][position] = text
                elif text:
                    limits[kind][position] = self._number(text, line, table.header[position])
        reports = []
        for line, cells in units:
            result_column = header["result"] if header["result"] is not None else status_column
            result_text = _cell(cells, result_column)
            builder = self._builder(cells, line, header, context, self._result(result_text, line))
            for position in measurements:
                value = _cell(cells, position)
                if not value:
                    continue
                name = table.header[position]
                low, high = limits["low"].get(position), limits["high"].get(position)
                number = self._number(value, line, name, required=False)
                if number is not None:
                    builder.numeric(name, number, low=low, high=high, unit=limits["unit"].get(position))
                elif low is not None or high is not None:
                    raise ConversionError(f"{value!r} is not a number but the column has limits", line=line, field=name)
                else:
                    builder.string(name, value)
            reports.append(self._build(builder, line))
        if not reports:
            raise ConversionError("the file has a header but no unit rows", line=table.offset + 2)
        return reports


CONVERTERS = (CSVConverter,)

__all__ = ["CSVArguments", "CSVConverter"]

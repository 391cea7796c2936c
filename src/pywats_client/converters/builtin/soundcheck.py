"""Listen SoundCheck "AutoSave to Text - Append" exports: results tables and curves in one text file.

Every block starts with a header line whose leading cells are the identification labels the AutoSave
step was told to save (``Serial #:``, ``Time:``, ``Lot #:``, ``Operator:``... each ending in ``:``), and
every data line repeats their values. Two kinds of block follow the labels:

- results: ``Name  Margin  Unit  Result  Tolerance  Limits``, one line per result (``Ave Sensitivity
  31.90 dB FAIL Max/Min 33.0/32.0``; curve results carry their margin and a limit description);
- curves: ``<curve name>  ''  x data lin  y data dB  z data lin  ''  x axis log ...  ''  Hz  dB re 20u Pa
  deg.`` followed by an x line, a y line and sometimes a z line. Limit curves are curves named
  ``<curve> Limit Upper Limit`` / ``... Lower Limit``. With "header once" saving, later curve lines come
  without a header and reuse the last one.

The file grows by one record per DUT: lines are grouped by serial number and time into one report each.
Results become numeric steps (``Max/Min`` limits become GELE limits, the PASS/FAIL verdict is kept),
curves become chart steps, with their limit curves as extra series. Numbers may use decimal commas.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from pywats import ReportFormatError
from pywats.builder import ReportBuilder
from pywats.models import LengthMode

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile

_TIME = re.compile(
    r"\s*(\d{1,4})([/.-])(\d{1,2})[/.-](\d{1,4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*([AaPp][Mm])?)?\s*\Z"
)
_LIMIT_CURVE = re.compile(r"(?P<base>.+?)\s+(?:Limit\s+)?(?P<which>Upper|Lower)\s+Limit\Z", re.IGNORECASE)
_TWO_LIMITS = re.compile(r"\s*([^/]+?)\s*/\s*([^/]+?)\s*\Z")
_PASS_WORDS = frozenset({"PASS", "PASSED", "OK"})
_FAIL_WORDS = frozenset({"FAIL", "FAILED", "NOK", "NG"})
_SKIP_WORDS = frozenset({"VOID", "SKIP", "SKIPPED", "NOT TESTED", "N/A", "NA"})
_AXIS = re.compile(r"\s*[xyz] axis\b", re.IGNORECASE)
_MAX_LINES = 2_000_000


class SoundCheckArguments(ConverterArguments):
    process_code: int = Field(90, description="WATS process (operation type) code of the reports (90: Acoustic Test)")
    lot_is: Literal["part_number", "batch"] = Field(
        "part_number", description="what the 'Lot #' column holds: the part number, or a batch number"
    )
    part_number: str = Field("", description="part number when the file has no Lot # (or lot_is is 'batch')")
    revision: str = Field("", description="revision of every report (SoundCheck exports carry none)")
    date_order: Literal["auto", "MDY", "DMY", "YMD"] = Field(
        "auto", description="order of the Time column's date: 'auto' reads m/d/y with '/' or AM/PM, else d-m-y"
    )
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts over-long names to WATS limits; 'strict' refuses the file"
    )


@dataclass
class _Curve:
    name: str
    line: int
    x_unit: str = ""
    y_unit: str = ""
    z_unit: str = ""
    chart_type: str = "Line"
    rows: list[list[float]] = field(default_factory=list)


@dataclass
class _Result:
    line: int
    name: str
    value: float | None
    unit: str
    verdict: str
    tolerance: str
    limits: str


@dataclass
class _Record:
    key: tuple[str, str]
    line: int
    labels: dict[str, str]
    results: list[_Result] = field(default_factory=list)
    curves: list[_Curve] = field(default_factory=list)


def _label(cell: str) -> str:
    """``'Serial #: '`` → ``serial``; ``'Lot #:'`` → ``lot``; ``'Operator: '`` → ``operator``."""
    return re.sub(r"[^a-z0-9]+", " ", cell.lower()).strip().replace(" no", "").replace(" number", "")


def _number(text: str, line: int, what: str) -> float | None:
    """A number written with '.' or ',' as decimal separator; None for an empty cell."""
    try:
        value = float(text)  # the common case, surrounding blanks included
        return value if math.isfinite(value) else None
    except ValueError:
        pass
    text = text.strip()
    if not text:
        return None
    if "," in text:
        text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
    try:
        value = float(text)
    except ValueError:
        raise ConversionError(f"{what} {text!r} is not a number", line=line) from None
    return value if math.isfinite(value) else None


def _time(text: str, order: str, line: int) -> datetime:
    match = _TIME.match(text)
    if match is None:
        raise ConversionError(f"the time {text.strip()!r} is not a date and time", line=line, field="Time")
    first, separator, second, third, hour, minute, sec, fraction, half = match.groups()
    if len(first) == 4 or order == "YMD":
        year, month, day = first, second, third
    elif order == "MDY" or (order == "auto" and (half or separator == "/")):
        month, day, year = first, second, third
    else:
        day, month, year = first, second, third
    number_year, number_month, number_day = int(year), int(month), int(day)
    if number_year < 100:
        number_year += 2000
    if number_month > 12 and number_day <= 12:  # the guess was wrong: 13/02 can only be day/month
        number_month, number_day = number_day, number_month
    number_hour = int(hour or 0)
    if half:
        if not 1 <= number_hour <= 12:
            raise ConversionError(f"the time {text.strip()!r} has hour {number_hour} with {half}", line=line)
        number_hour = number_hour % 12 + (12 if half.upper() == "PM" else 0)
    try:
        return datetime(number_year, number_month, number_day, number_hour, int(minute or 0), int(sec or 0),
                        int(float("0." + fraction) * 1_000_000) if fraction else 0)  # fmt: skip
    except ValueError as error:
        raise ConversionError(f"the time {text.strip()!r} is not valid: {error}", line=line, field="Time") from None


def _curve_header(cells: list[str], line: int) -> _Curve:
    curve = _Curve(name=cells[0].strip() or "Curve", line=line)
    axes = [i for i, cell in enumerate(cells) if "axis" in cell and _AXIS.match(cell)]
    if axes:
        logs = {cells[i].strip()[0].lower() for i in axes if "log" in cells[i].lower()}
        curve.chart_type = {frozenset(): "Line", frozenset({"x"}): "LineLogX", frozenset({"y"}): "LineLogY"}.get(
            frozenset(logs - {"z"}), "LineLogXY"
        )  # fmt: skip
        start = axes[-1] + 1
        if start < len(cells) and not cells[start].strip():
            start += 1
        units = [cell.strip() for cell in cells[start:start + 3]] + ["", "", ""]
        curve.x_unit, curve.y_unit, curve.z_unit = units[:3]
    return curve


class _Parser:
    """Lines to records. A header line sets the layout of the lines after it; with "header once" saving a
    layout stays in force, so a data line is read as curve data when its first value is a number and as a
    result line otherwise."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], _Record] = {}
        self.result_labels: list[str] = []
        self.curve_labels: list[str] = []
        self.columns: dict[str, int] = {}  # results layout: column name → position after the labels
        self.curve: _Curve | None = None  # the curve header in force
        self.block: _Curve | None = None  # the curve being filled
        self.block_key: tuple[str, str] | None = None

    def feed(self, number: int, cells: list[str]) -> None:
        first = cells[0].strip()
        if first.endswith(":") and any(ch.isalpha() for ch in first):
            self._header(number, cells)
            return
        curve_data = False
        if self.curve is not None and len(cells) > len(self.curve_labels):
            try:
                curve_data = _number(cells[len(self.curve_labels)], number, "") is not None
            except ConversionError:
                curve_data = False
        if not curve_data and not self.columns:
            if self.curve is None:
                raise ConversionError("a data line before any 'Serial #:' header line", line=number)
            raise ConversionError("a result line before any results header (Name, Result...)", line=number)
        labels_in_force = self.curve_labels if curve_data else self.result_labels
        count = len(labels_in_force)
        if len(cells) <= count:
            raise ConversionError("the line has no data after its identification columns", line=number)
        labels = {label: cells[i].strip() for i, label in enumerate(labels_in_force)}
        key = (labels.get("serial", ""), labels.get("time", ""))
        record = self.records.get(key)
        if record is None:
            record = self.records[key] = _Record(key, number, labels)
        else:
            for label, value in labels.items():
                record.labels.setdefault(label, value)
        content = cells[count:]
        if curve_data:
            self._curve_line(number, key, record, content)
        else:
            self.block = None
            record.results.append(self._result(number, content))

    def _header(self, number: int, cells: list[str]) -> None:
        count = 0
        while count < len(cells) and cells[count].strip().endswith(":"):
            count += 1
        labels = [_label(cell) for cell in cells[:count]]
        content = [cell.strip() for cell in cells[count:]]
        lowered = [cell.lower() for cell in content]
        self.block = None
        if "name" in lowered and "result" in lowered:
            self.result_labels = labels
            self.columns = {}
            for index, name in enumerate(lowered):
                self.columns.setdefault(name, index)
        else:
            self.curve_labels = labels
            self.curve = _curve_header(content or ["Curve"], number)

    def _result(self, number: int, content: list[str]) -> _Result:
        def cell(*names: str) -> str:
            for name in names:
                index = self.columns.get(name)
                if index is not None and index < len(content):
                    return content[index].strip()
            return ""

        name = cell("name") or "Result"
        return _Result(number, name, _number(cell("margin", "value", "result value"), number, f"the value of {name!r}"),
                       cell("unit", "units"), cell("result").upper(), cell("tolerance"), cell("limits", "limit"))  # fmt: skip

    def _curve_line(self, number: int, key: tuple[str, str], record: _Record, content: list[str]) -> None:
        try:
            values = [float(cell) for cell in content if cell and not cell.isspace()]
            if not all(map(math.isfinite, values)):
                raise ValueError("not finite")
        except ValueError:  # decimal commas, or a cell that is no number: the careful path says which
            values = [value for value in (_number(cell, number, "the curve value") for cell in content
                                          if cell.strip()) if value is not None]  # fmt: skip
        assert self.curve is not None
        block = self.block
        if block is None or self.block_key != key or len(block.rows) >= 3:
            header = self.curve
            name = header.name
            if block is not None and self.block_key != key:  # a later record written without its own header
                limit = _LIMIT_CURVE.match(name)
                name = limit.group("base") if limit else name
            block = _Curve(name, number, header.x_unit, header.y_unit, header.z_unit, header.chart_type)
            record.curves.append(block)
            self.block, self.block_key = block, key
        block.rows.append(values)


def _limits(result: _Result) -> tuple[float | None, float | None]:
    match = _TWO_LIMITS.match(result.limits)
    if match is None:
        return None, None
    try:
        first = _number(match.group(1), result.line, "the limit")
        second = _number(match.group(2), result.line, "the limit")
    except ConversionError:
        return None, None  # a description such as "Floating Limits", not numbers
    if first is None or second is None:
        return None, None
    if result.tolerance.lower().replace(" ", "").startswith("min/max"):
        return first, second
    return min(first, second), max(first, second)


def _status(verdict: str) -> str | None:
    if verdict in _PASS_WORDS:
        return "P"
    if verdict in _FAIL_WORDS:
        return "F"
    if verdict in _SKIP_WORDS:
        return "S"
    return None


class SoundCheckConverter(FileConverter):
    name = "soundcheck"
    version = "1.0"
    description = "Listen SoundCheck AutoSave text exports (results and curves): one report per serial number and time"
    patterns = ("*.txt",)
    Arguments = SoundCheckArguments

    def validate(self, source: SourceFile) -> float:
        head = source.head(8192).lstrip(b"\xef\xbb\xbf")
        first = head.split(b"\n", 1)[0]
        if b"\t" not in first or not first.split(b"\t", 1)[0].strip().endswith(b":"):
            return 0.0
        if b"serial" not in first.lower():
            return 0.0
        score = 0.5
        if b"Time:" in first:
            score += 0.2
        if b"\tMargin\t" in first or b"\tResult\t" in first or b"x data " in first or b" axis " in first:
            score += 0.25
        return min(score, 0.95)

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        text = source.text()
        parser = _Parser()
        for number, raw in enumerate(text.splitlines(), 1):
            if number > _MAX_LINES:
                raise ConversionError(f"more than {_MAX_LINES} lines", line=number)
            if not raw.strip():
                continue
            parser.feed(number, raw.split("\t"))
        if not parser.records:
            raise ConversionError("the file holds no SoundCheck result or curve line")
        limits: dict[str, dict[str, _Curve]] = {}
        reports = []
        for record in parser.records.values():
            for curve in record.curves:
                match = _LIMIT_CURVE.match(curve.name)
                if match:
                    limits.setdefault(match.group("base").lower(), {})[match.group("which").capitalize()] = curve
            data = [curve for curve in record.curves if not _LIMIT_CURVE.match(curve.name)]
            if not record.results and not data:
                context.log.debug("SoundCheck line %s: a record of limit curves only; kept for later curves", record.line)
                continue
            reports.append(self._report(record, data, limits, context))
        if not reports:
            raise ConversionError("the file holds only limit curves, no DUT results")
        return reports

    def _report(self, record: _Record, curves: list[_Curve], limits: dict[str, dict[str, _Curve]],
                context: ConversionContext) -> Report:  # fmt: skip
        arguments = self.arguments
        labels = record.labels
        serial = labels.get("serial", "")
        if not serial:
            raise ConversionError("the record has no serial number (Serial # column)", line=record.line,
                                  field="Serial #")  # fmt: skip
        if not labels.get("time"):
            raise ConversionError("the record has no time (Time column)", line=record.line, field="Time")
        start = context.localize(_time(labels["time"], arguments.date_order, record.line))
        lot = labels.get("lot", "")
        part_number = (lot if arguments.lot_is == "part_number" else "") or arguments.part_number
        if not part_number:
            raise ConversionError("the record has no part number (Lot # column); set the part_number argument",
                                  line=record.line, field="Lot #")  # fmt: skip
        builder = ReportBuilder.uut(
            pn=part_number, sn=serial, rev=arguments.revision, process_code=arguments.process_code, start=start,
            user=labels.get("operator") or None, batch_sn=lot if arguments.lot_is == "batch" and lot else None,
            root_name="SoundCheck",
        )  # fmt: skip
        for label, value in labels.items():
            if label not in ("serial", "time", "lot", "operator") and value:
                builder.misc_info(label.title(), text=value)
        for result in record.results:
            status = _status(result.verdict)
            notes = [part for part in (result.tolerance, result.limits) if part]
            fields: dict[str, Any] = {"report_text": ": ".join(notes)} if notes else {}
            if result.value is None:
                builder.action(result.name, step_type="ET_NLT", status=status or "S", **fields)
                continue
            low, high = _limits(result)
            builder.numeric(result.name, result.value, low=low, high=high, unit=result.unit or None, status=status,
                            **fields)  # fmt: skip
        margins = {result.name.lower(): _status(result.verdict) for result in record.results}
        for curve in curves:
            verdict = margins.get(f"{curve.name.lower()} margin")  # "THD margin" is the THD curve's verdict
            self._chart(builder, curve, limits.get(curve.name.lower(), {}), verdict, context)
        try:
            return builder.build(lengths=arguments.lengths)
        except ReportFormatError as error:
            raise ConversionError(f"the report breaks a WATS rule: {error}", line=record.line) from None
        except ValueError as error:
            raise ConversionError(f"the report cannot be built: {error}", line=record.line) from None

    def _chart(self, builder: Any, curve: _Curve, limits: dict[str, _Curve], verdict: str | None,
               context: ConversionContext) -> None:  # fmt: skip
        if len(curve.rows) < 2:
            context.log.debug("SoundCheck line %s: curve %r has no y line; skipped", curve.line, curve.name)
            return
        x, y = curve.rows[0], curve.rows[1]
        if len(x) != len(y):
            context.log.debug("SoundCheck line %s: curve %r has %d x and %d y values; the extra ones are dropped",
                              curve.line, curve.name, len(x), len(y))  # fmt: skip
        count = min(len(x), len(y))
        x_label = "Frequency" if curve.x_unit.lower() in ("hz", "khz") else "x"
        chart = builder.chart(curve.name, chart_type=curve.chart_type, x_label=x_label, x_unit=curve.x_unit or None,
                              y_label=curve.name, y_unit=curve.y_unit or None,
                              **({"status": verdict} if verdict else {}))  # fmt: skip
        chart.series(curve.name, x[:count], y[:count])
        for which in ("Upper", "Lower"):
            limit = limits.get(which)
            if limit is not None and len(limit.rows) >= 2:
                size = min(len(limit.rows[0]), len(limit.rows[1]))
                chart.series(f"{which} Limit", limit.rows[0][:size], limit.rows[1][:size])
        if len(curve.rows) >= 3:
            z = curve.rows[2]
            size = min(len(x), len(z))
            phase = builder.chart(f"{curve.name} ({curve.z_unit or 'z'})", chart_type=curve.chart_type, x_label=x_label,
                                  x_unit=curve.x_unit or None, y_label=curve.name, y_unit=curve.z_unit or None)  # fmt: skip
            phase.series(curve.name, x[:size], z[:size])


CONVERTERS = (SoundCheckConverter,)

"""SPEA 3030 in-circuit tester log: ';'-separated records, one board from ``START`` to ``END``.

Record types (first field), as the 3030 writes them::

    FORMAT;mmdd                                     date order of the dates that follow (mmdd or ddmm)
    START;Programme;<program>;<version>;<board>;<operator>;<date>;<time>
    LOT;<lot>                                       (often empty)
    ANL;<site>;<test>;<test no>;<sub no>;<description>;;<result>;<measured>;<low>;<high>;<unit>;<pins>;<id>
    FUNC;<site>;<group>;<no>;<no>;<description>;;<result>;<measured>;<low>;<high>;<unit>;
    SN;<serial number>
    BOARDRESULT;PASS|FAIL
    END;PASS|FAIL;<date>;<time>

``<result>`` is ``PASS`` or ``FAIL(+)`` / ``FAIL(-)`` / ``FAIL(+/-)`` (above high, below low, outside or not
measured). ``<measured>`` can be ``-NAN`` (nothing measured) or ``Automatic`` (shorts and opens tests that
have no value). A row with measured, low and high all zero and no unit is a step without a measurement
(connect a scanner, wait...). A file holds one or more boards.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import PurePath
from typing import Any

from pydantic import Field

from pywats import ReportFormatError
from pywats.builder import ReportBuilder
from pywats.models import LengthMode

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile

_RECORDS = (b"FORMAT;", b"START;", b"LOT;", b"ANL;", b"FUNC;", b"SN;", b"BOARDRESULT;", b"END;")
_SEVERITY = {"T": 4, "E": 3, "F": 2}


def _worst(steps: list[dict[str, Any]]) -> str:
    worst = "P"
    for step in steps:
        status = step.get("status")
        if status is not None and _SEVERITY.get(status, 0) > _SEVERITY.get(worst, 0):
            worst = status
    return worst


def _status(text: str) -> str:
    word = text.strip().upper()
    if word.startswith("PASS"):
        return "P"
    if word.startswith("FAIL"):
        return "F"
    return "S"


def _number(text: str) -> float | None:
    """A number, NaN for ``-NAN``, None for an empty field or ``Automatic``."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


class SpeaArguments(ConverterArguments):
    process_code: int = Field(20, description="WATS process (operation type) code of the reports; 20 is ICT")
    part_number: str = Field("", description="part number of every report; empty: the START record's board name")
    revision: str = Field("1", description="part revision (the log has none)")
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts over-long names and texts to WATS limits; 'strict' refuses them"
    )


class _Board:
    def __init__(self, line: int, fields: list[str], day_first: bool) -> None:
        self.line = line
        self.program = fields[2].strip() if len(fields) > 2 else ""
        self.version = fields[3].strip() if len(fields) > 3 else ""
        self.board = fields[4].strip() if len(fields) > 4 else ""
        self.operator = fields[5].strip() if len(fields) > 5 else ""
        self.day_first = day_first
        self.start = _when(fields[6] if len(fields) > 6 else "", fields[7] if len(fields) > 7 else "", day_first, line)
        self.lot = ""
        self.sn = ""
        self.result: str | None = None
        self.end: datetime | None = None
        self.steps: list[dict[str, Any]] = []
        self.group_key: tuple[str, str] | None = None
        self.group: list[dict[str, Any]] = []
        self.group_rows: list[tuple[str, str]] = []

    def add(self, key: tuple[str, str], description: str, step: dict[str, Any]) -> None:
        """Rows of one test (same name and test number, in a row) make one sequence."""
        if key != self.group_key:
            self.flush()
            self.group_key = key
        self.group.append(step)
        self.group_rows.append((description, step["name"]))

    def flush(self) -> None:
        if not self.group:
            return
        name = self.group_key[0] if self.group_key else "Test"
        if len(self.group) == 1:
            step = self.group[0]
            description = self.group_rows[0][0]
            step["name"] = name or description or "Test"
            if description and description != name:
                step["reportText"] = f"{description}; {step['reportText']}" if "reportText" in step else description
            self.steps.append(step)
        else:
            self.steps.append({
                "stepType": "SequenceCall", "name": name or "Test", "seqCall": {"path": name or "Test", "name": name or "Test"},
                "steps": self.group, "status": _worst(self.group),
            })  # fmt: skip
        self.group = []
        self.group_rows = []
        self.group_key = None


def _when(day: str, clock: str, day_first: bool, line: int) -> datetime | None:
    day, clock = day.strip(), clock.strip()
    if not day:
        return None
    try:
        first, second, year = (int(part) for part in day.replace(".", "/").replace("-", "/").split("/"))
        month, date = (second, first) if day_first else (first, second)
        hour, minute, second_ = ([int(part) for part in clock.split(":")] + [0, 0, 0])[:3] if clock else (0, 0, 0)
        return datetime(year if year > 99 else 2000 + year, month, date, hour, minute, second_)
    except ValueError:
        raise ConversionError(f"unreadable date/time {day!r} {clock!r}", line=line) from None


class Spea3030Converter(FileConverter):
    name = "spea-3030"
    version = "1.0"
    description = "SPEA 3030 in-circuit tester log (';'-separated START/ANL/END records), one report per board"
    patterns = ("*.csv", "*.txt", "*.log")
    Arguments = SpeaArguments

    def validate(self, source: SourceFile) -> float:
        head = source.head(8192).lstrip(b"\xef\xbb\xbf \t\r\n")
        lines = head.splitlines()[:200]
        if not lines or not lines[0].upper().startswith((b"FORMAT;", b"START;")):
            return 0.0
        kinds = {line.split(b";", 1)[0].upper() + b";" for line in lines if b";" in line}
        known = kinds & set(_RECORDS)
        if b"START;" in known and (b"ANL;" in known or b"FUNC;" in known):
            return 0.95
        return 0.5 if len(known) >= 2 else 0.2

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        day_first = False
        board: _Board | None = None
        reports: list[Report] = []
        for number, line in enumerate(source.text().splitlines(), start=1):
            if not line.strip():
                continue
            fields = line.split(";")
            kind = fields[0].strip().upper()
            if kind == "ANL" or kind == "FUNC":
                if board is None:
                    raise ConversionError(f"{kind} record before any START record", line=number)
                self._row(board, fields, number)
            elif kind == "START":
                if board is not None:  # the tester started again without ending the board
                    board.result = "T"
                    reports.append(self._report(board, source, context))
                board = _Board(number, fields, day_first)
            elif kind == "FORMAT":
                day_first = len(fields) > 1 and fields[1].strip().lower().startswith("dd")
            elif board is None:
                context.log.debug("%s line %d: %s record outside a board, skipped", source.name, number, kind)
            elif kind == "SN":
                board.sn = fields[1].strip() if len(fields) > 1 else ""
            elif kind == "LOT":
                board.lot = fields[1].strip() if len(fields) > 1 else ""
            elif kind == "BOARDRESULT":
                board.result = _status(fields[1]) if len(fields) > 1 else None
            elif kind == "END":
                if board.result is None and len(fields) > 1 and fields[1].strip():
                    board.result = _status(fields[1])
                board.end = _when(fields[2] if len(fields) > 2 else "", fields[3] if len(fields) > 3 else "",
                                  board.day_first, number)  # fmt: skip
                reports.append(self._report(board, source, context))
                board = None
            else:
                context.log.debug("%s line %d: unknown record %r skipped", source.name, number, kind[:20])
        if board is not None:
            raise ConversionError(f"the board that starts at line {board.line} has no END record: the file is cut short",
                                  line=board.line)  # fmt: skip
        if not reports:
            raise ConversionError("no board in the file (no START ... END records)")
        return reports

    @staticmethod
    def _row(board: _Board, fields: list[str], number: int) -> None:
        if len(fields) < 9:
            raise ConversionError(f"a {fields[0]} record needs at least 9 fields, this one has {len(fields)}", line=number)
        fields += [""] * (14 - len(fields))
        test, test_no, sub_no, description, result = (fields[2].strip(), fields[3].strip(), fields[4].strip(),
                                                      fields[5].strip(), fields[7])  # fmt: skip
        status = _status(result)
        value, low, high = _number(fields[8]), _number(fields[9]), _number(fields[10])
        unit = fields[11].strip()
        pins = fields[12].strip()
        name = description or f"{test} {sub_no}".strip() or "Test"
        text = f"pins {pins}" if pins else None
        numeric = value is not None and (value != 0 or low or high or unit)
        if not numeric:
            step: dict[str, Any] = {"stepType": "ET_PFT", "name": name, "status": status,
                                    "booleanMeas": [{"status": status}]}  # fmt: skip
        else:
            measurement: dict[str, Any] = {"value": value, "status": status}
            low = None if low is None or math.isnan(low) else low
            high = None if high is None or math.isnan(high) else high
            if low is not None and high is not None and (low != 0 or high != 0):
                if high >= low:
                    measurement.update(compOp="GELE", lowLimit=low, highLimit=high)
                else:  # FUNC rows write "1;0": a lower limit only
                    measurement.update(compOp="GE", lowLimit=low)
            elif low is not None and high is None:
                measurement.update(compOp="GE", lowLimit=low)
            elif high is not None and low is None:
                measurement.update(compOp="LE", lowLimit=high)
            else:
                measurement["compOp"] = "LOG"
            if unit:
                measurement["unit"] = unit
            step = {"stepType": "ET_NLT", "name": name, "status": status, "numericMeas": [measurement]}
        if text:
            step["reportText"] = text
        board.add((test, test_no), description, step)

    def _report(self, board: _Board, source: SourceFile, context: ConversionContext) -> Report:
        board.flush()
        if not board.sn:
            raise ConversionError(f"the board that starts at line {board.line} has no serial number (no SN record)",
                                  line=board.line, field="SN")  # fmt: skip
        args = self.arguments
        start = context.localize(board.start) if board.start is not None else None
        exec_time = None
        if board.start is not None and board.end is not None and board.end >= board.start:
            exec_time = (board.end - board.start).total_seconds()
        builder = ReportBuilder.uut(
            pn=args.part_number or board.board or board.program or PurePath(source.name).stem, sn=board.sn,
            rev=args.revision, process_code=args.process_code, start=start, result=board.result,
            root_name=board.program or "SPEA 3030", user=board.operator or None, batch_sn=board.lot or None,
            exec_time=exec_time,
        )  # fmt: skip
        if board.program:
            builder.misc_info("Program", board.program)
        if board.version:
            builder.misc_info("Program version", board.version)
        for step in board.steps:
            builder.add_step(step)
        try:
            report = builder.build(lengths=args.lengths)
        except ReportFormatError as error:
            raise ConversionError(f"the board gives an invalid report: {error}", line=board.line) from None
        if board.version:
            try:
                report.root.seq_call.version = board.version[:30]  # type: ignore[union-attr]
            except ValueError:
                pass
        return report


CONVERTERS = (Spea3030Converter,)

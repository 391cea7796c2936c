"""Teradyne in-circuit testers: the GR228x datalog and the Spectrum datalog.

**GR228x** (``teradyne-gr228x``) writes one line per event; the first character says what it is::

    F:\\BOARDS\\X\\43420_BIO2.obc[31-JUL-12  14:17:35     program loaded (path, '[', date)
    @31-JUL-12  14:19:32 SN 24422984989544535753      a board starts: date and serial number
    (O 397,398,                                        failure list: (S shorts (O opens (B bus test
                                                       (C scratch probing (F contact; '+' = list goes on
    R508=100.20007K(92.919K,105.131K)R                 measurement: name, result character, value,
                                                       (low,high), test type; K/M/MEG/N/U/P prefixes
    "31-JUL-12  14:25:28                               a board ends: " pass / fail ? aborted ! cancelled
                                                       * error & system error; ] leaves the program

The result character of a measurement line is ``=`` (tested, passed), ``#`` (logged only, not judged),
``<``/``>`` (below low / above high limit) or ``%`` (failed otherwise). ``WATS_<key>=<value>`` lines inside a
board (partNumber, partRevision, operator, stationName, sequenceName, sequenceVersion) set header fields.

**Spectrum** (``teradyne-spectrum``) writes a tree of parenthesised ``(KEY: value ...)`` nodes: a
``PROGRAM_NAME`` starts a board, ``SECTION_NAME`` nodes divide it, each ``STEP`` has a name (``SNAME``), a
time, optional ``DESC`` and one or more ``PAGE`` nodes whose ``ANA``/``INTC`` children carry limits
(``LOLIM``/``HILIM``/``NOMVAL``) and the measured value (``MEASVAL``, each a ``VAL``/``SCALE``/``UNIT``
triple); ``USER`` nodes carry ``key: value`` header lines (Serialnumber, Operator, Date, StartTime,
EndTime, STATUS...).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import PurePath, PureWindowsPath
from typing import Any, Literal

from pydantic import Field

from pywats import ReportFormatError
from pywats.builder import ReportBuilder
from pywats.models import LengthMode

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile

# -- shared helpers ---------------------------------------------------------------------------------------

_SEVERITY = {"T": 4, "E": 3, "F": 2}


def _worst(statuses: list[str | None]) -> str:
    """A sequence's status from its children's (as WATS computes it: T > E > F > passed)."""
    worst = "P"
    for status in statuses:
        if status is not None and _SEVERITY.get(status, 0) > _SEVERITY.get(worst, 0):
            worst = status
    return worst


def _sequence(name: str, steps: list[dict[str, Any]], status: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "stepType": "SequenceCall", "name": name, "seqCall": {"path": name, "name": name}, "steps": steps,
        "status": status or _worst([step.get("status") for step in steps]), **fields,
    }  # fmt: skip


def _numeric(
    name: str, value: float, low: float | None, high: float | None, unit: str | None, status: str | None,
    text: str | None = None, comp_op: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """An ``ET_NLT`` step: two limits GELE, one GE/LE (kept in lowLimit), none LOG."""
    measurement: dict[str, Any] = {"value": value}
    if comp_op is not None:
        measurement["compOp"] = comp_op
    elif low is not None and high is not None:
        measurement.update(compOp="GELE", lowLimit=low, highLimit=high)
    elif low is not None:
        measurement.update(compOp="GE", lowLimit=low)
    elif high is not None:
        measurement.update(compOp="LE", lowLimit=high)
    else:
        measurement["compOp"] = "LOG"
    if unit:
        measurement["unit"] = unit
    if status is not None:
        measurement["status"] = status
    step: dict[str, Any] = {"stepType": "ET_NLT", "name": name, "numericMeas": [measurement]}
    if status is not None:
        step["status"] = status
    if text:
        step["reportText"] = text
    return step


def _pass_fail(name: str, status: str, text: str | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"stepType": "ET_PFT", "name": name, "status": status, "booleanMeas": [{"status": status}]}
    if text:
        step["reportText"] = text
    return step


def _scaled(mantissa: str, shift: int) -> float:
    """``mantissa`` × 10**shift without binary rounding noise (``'2.24'``, 3 → 2240.0)."""
    if not shift:
        return float(mantissa)
    return float(Decimal(mantissa).scaleb(shift))


def _build(builder: Any, lengths: LengthMode, where: int | None = None) -> Report:
    try:
        return builder.build(lengths=lengths)
    except ReportFormatError as error:
        raise ConversionError(f"the board gives an invalid report: {error}", line=where) from None


class _ICTArguments(ConverterArguments):
    process_code: int = Field(20, description="WATS process (operation type) code of the reports; 20 is ICT")
    part_number: str = Field("", description="part number of every report; empty: from the file")
    revision: str = Field("1", description="part revision when the file gives none")
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts over-long names and texts to WATS limits; 'strict' refuses them"
    )


# -- GR228x -----------------------------------------------------------------------------------------------

_MONTHS = {name: index for index, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}  # fmt: skip
_GR_DATE = r"(\d{1,2})-([A-Za-z]{3})-(\d{2,4})\s+(\d{1,2}):(\d{2}):(\d{2})"
_GR_DATE_RE = re.compile(_GR_DATE)
_GR_PROGRAM = re.compile(r"^(?P<path>[^@(\"/?*&!\]][^\[]*)\[\s*(?P<date>" + _GR_DATE + r")")
_GR_BOARD = re.compile(r"^@\s*(?P<date>" + _GR_DATE + r")\s*(?:SN\b\s*(?P<sn>.*))?$")
_GR_END = re.compile(r"^(?P<event>[\"/?*&!\]])\s*(?P<date>" + _GR_DATE + r")")
_GR_FAILURES = re.compile(r"^\((?P<kind>[A-Z])\s+(?P<nodes>.*)$")
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PREFIX = r"MEG|[PNUMKG]"
_GR_MEASURE = re.compile(
    r"^(?P<ref>(?:\d+%)?[^=<>#%\s(][^=<>#%(]*?)(?P<res>[=<>#%])"
    rf"(?P<val>{_NUM})?(?P<vp>{_PREFIX})?"
    rf"(?:\((?P<lo>{_NUM})?(?P<lp>{_PREFIX})?,(?P<hi>{_NUM})?(?P<hp>{_PREFIX})?\))?"
    r"(?P<type>[A-Za-z]{0,4})\s*(?P<msg>.*)$"  # greedy: a lazy .*? before \s*$ backtracks quadratically
)
_GR_CLASS = re.compile(r"(?:\d+%)?([A-Za-z]+)")
_GR_SOCKET = re.compile(r"^TOP_OF_LOOP-([A-H])\b")
_GR_EVENTS = {'"': "P", "/": "F", "?": "T", "!": "T", "*": "E", "&": "E", "]": None}
_GR_EVENT_NAMES = {'"': "passed", "/": "failed", "?": "aborted", "!": "cancelled", "*": "error",
                   "&": "system error", "]": "end of program"}  # fmt: skip
_GR_FAILURE_NAMES = {"S": "Shorts", "O": "Opens", "B": "Bus test", "C": "Scratch probing", "F": "Contact"}
_GR_EXPONENT = {"": 0, "P": -12, "N": -9, "U": -6, "M": -3, "K": 3, "MEG": 6, "G": 9}
_GR_SYMBOL = {"": "", "P": "p", "N": "n", "U": "u", "M": "m", "K": "k", "MEG": "M", "G": "G"}
_GR_UNITS = {
    "R": "Ohm", "RP": "Ohm", "RS": "Ohm", "XP": "Ohm", "XS": "Ohm", "ZM": "Ohm", "CP": "F", "CS": "F",
    "LP": "H", "LS": "H", "V": "V", "DC": "V", "AC": "V", "AV": "V", "I": "A", "AI": "A", "HZ": "Hz", "S": "s",
}  # fmt: skip
_GR_HEADER_KEYS = {
    "partnumber": "pn", "partrevision": "rev", "operator": "user", "stationname": "machine_name",
    "sequencename": "sequence", "sequenceversion": "sequence_version",
}  # fmt: skip


def _gr_time(match: re.Match[str], line: int) -> datetime:
    day, month, year, hour, minute, second = match.groups()[:6]
    number = _MONTHS.get(month.upper())
    if number is None:
        raise ConversionError(f"unknown month {month!r}", line=line)
    full_year = int(year) if len(year) == 4 else 2000 + int(year) if int(year) < 70 else 1900 + int(year)
    try:
        return datetime(full_year, number, int(day), int(hour), int(minute), int(second))
    except ValueError as error:
        raise ConversionError(f"invalid date: {error}", line=line) from None


class _GRBoard:
    """What one board (``@`` line to end line) collected."""

    def __init__(self, line: int, start: datetime, sn: str, socket: int | None) -> None:
        self.line = line
        self.start = start
        self.sn = sn
        self.socket = socket
        self.header: dict[str, str] = {}
        self.misc: list[tuple[str, str]] = []
        self.steps: list[dict[str, Any]] = []
        self.group_key: str | None = None
        self.group: list[dict[str, Any]] = []

    def add(self, key: str | None, step: dict[str, Any]) -> None:
        """Add a step to the run of steps of one component class (``R``, ``C``...); ``None``: at root."""
        if key != self.group_key:
            self.flush()
            self.group_key = key
        (self.group if key is not None else self.steps).append(step)

    def flush(self) -> None:
        if self.group:
            self.steps.append(_sequence(self.group_key or "Tests", self.group))
            self.group = []
        self.group_key = None


class GR228xArguments(_ICTArguments):
    pass


class TeradyneGR228xConverter(FileConverter):
    name = "teradyne-gr228x"
    version = "1.0"
    description = "Teradyne (GenRad) GR228x in-circuit tester datalog: one report per board ('@' to end line)"
    patterns = ("*.log", "*.txt", "*.dat")
    Arguments = GR228xArguments

    def validate(self, source: SourceFile) -> float:
        lines = source.head(8192).decode("latin-1").splitlines()
        boards = sum(1 for line in lines if _GR_BOARD.match(line) and " SN" in line)
        program = any(".obc[" in line.lower() or _GR_PROGRAM.match(line) for line in lines[:20])
        ends = sum(1 for line in lines if _GR_END.match(line))
        measures = sum(1 for line in lines if _GR_MEASURE.match(line) and "(" in line)
        if boards and (program or ends or measures):
            return 0.9
        if boards or (program and (ends or measures)):
            return 0.6
        return 0.0

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        program = ""
        program_path = ""
        socket: int | None = None
        board: _GRBoard | None = None
        reports: list[Report] = []
        for number, raw in enumerate(source.text().splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            first = line[0]
            if first == "@":
                match = _GR_BOARD.match(line)
                if match is None:
                    raise ConversionError("a board start line needs a date and time", line=number)
                if board is not None:
                    reports.append(self._report(board, "T", None, program, program_path, source, context))
                sn = (match.group("sn") or "").strip()
                if not sn:
                    raise ConversionError("the board has no serial number (no 'SN' on its '@' line)", line=number,
                                          field="SN")  # fmt: skip
                board = _GRBoard(number, _gr_time(_GR_DATE_RE.search(match.group("date")), number), sn, socket)  # type: ignore[arg-type]
                continue
            if first in _GR_EVENTS and (match := _GR_END.match(line)):
                if board is not None:
                    end = _gr_time(_GR_DATE_RE.search(match.group("date")), number)  # type: ignore[arg-type]
                    reports.append(self._report(board, first, end, program, program_path, source, context))
                    board = None
                continue
            if board is None:
                match = _GR_PROGRAM.match(line)
                if match is not None:
                    program_path = match.group("path").strip()
                    program = PureWindowsPath(program_path).stem or program_path
                elif (socket_match := _GR_SOCKET.match(line)) is not None:
                    socket = ord(socket_match.group(1)) - ord("A")
                else:
                    context.log.debug("%s line %d: skipped outside a board: %r", source.name, number, line[:80])
                continue
            self._board_line(board, line, number, context)
        if board is not None:
            raise ConversionError(f"the board that starts at line {board.line} (SN {board.sn}) has no end line: "
                                  "the file is cut short", line=board.line)  # fmt: skip
        return reports

    def _board_line(self, board: _GRBoard, line: str, number: int, context: ConversionContext) -> None:
        if line.startswith("(") and (failures := _GR_FAILURES.match(line)):
            kind = failures.group("kind")
            nodes = failures.group("nodes").strip()
            more = nodes.endswith("+")
            nodes = nodes.rstrip("+ ").rstrip(",")
            name = _GR_FAILURE_NAMES.get(kind, f"Failure ({kind})")
            text = f"nodes: {nodes}" + (" (list continues)" if more else "") if nodes else None
            board.add(None, _pass_fail(name, "F", text))
            return
        if line[:5].upper() == "WATS_" and "=" in line:
            key, _, value = line[5:].partition("=")
            field = _GR_HEADER_KEYS.get(key.strip().lower())
            if field is not None:
                board.header[field] = value.strip()
            elif value.strip():
                board.misc.append((key.strip(), value.strip()))
            return
        if (socket_match := _GR_SOCKET.match(line)) is not None:
            board.socket = ord(socket_match.group(1)) - ord("A")
            return
        match = _GR_MEASURE.match(line)
        if match is None:
            context.log.debug("line %d: not a GR228x measurement, skipped: %r", number, line[:80])
            return
        ref, result, value, test_type, message = match.group("ref", "res", "val", "type", "msg")
        message = message.strip()
        test_type = test_type.upper()
        name = f"{ref} ({test_type})" if test_type else ref
        key_match = _GR_CLASS.match(ref)
        key = key_match.group(1).upper() if key_match else ref
        low, high = match.group("lo"), match.group("hi")
        if value is None:
            if result == "#":
                return  # a stimulus set-up line ("SETCR#(,)IS"): no value, no verdict
            text = message or None
            if low is not None or high is not None:
                limits = f"limits {low or ''}{match.group('lp') or ''}..{high or ''}{match.group('hp') or ''}"
                text = f"{limits} {test_type}".strip() + (f"; {message}" if message else "")
            board.add(key, _pass_fail(name, "P" if result == "=" else "F", text))
            return
        prefix = match.group("vp") or (match.group("lp") if low is not None else match.group("hp")) or ""
        base = _GR_EXPONENT[prefix]
        try:
            number_value = _scaled(value, 0)
            low_value = _scaled(low, _GR_EXPONENT[match.group("lp") or ""] - base) if low is not None else None
            high_value = _scaled(high, _GR_EXPONENT[match.group("hp") or ""] - base) if high is not None else None
        except (ValueError, InvalidOperation, OverflowError):
            raise ConversionError(f"unreadable number in {line!r}", line=number) from None
        unit = _GR_SYMBOL[prefix] + _GR_UNITS.get(test_type, "")
        if result == "#":  # logged, not judged: the limits (normally empty) are not a verdict
            step = _numeric(name, number_value, None, None, unit, "P", message or None)
        else:
            status = "P" if result == "=" else "F"
            step = _numeric(name, number_value, low_value, high_value, unit, status, message or None)
        board.add(key, step)

    def _report(
        self, board: _GRBoard, event: str, end: datetime | None, program: str, program_path: str,
        source: SourceFile, context: ConversionContext,
    ) -> Report:  # fmt: skip
        board.flush()
        args = self.arguments
        header = board.header
        result = _GR_EVENTS.get(event, "T")
        pn = header.get("pn") or args.part_number or program or PurePath(source.name).stem
        root = header.get("sequence") or program or "GR228x"
        exec_time = (end - board.start).total_seconds() if end is not None else None
        builder = ReportBuilder.uut(
            pn=pn, sn=board.sn, rev=header.get("rev") or args.revision, process_code=args.process_code,
            start=context.localize(board.start), result=result, root_name=root, user=header.get("user"),
            machine_name=header.get("machine_name") or None,
            exec_time=exec_time if exec_time is not None and exec_time >= 0 else None,
            test_socket_index=board.socket,
        )  # fmt: skip
        if program_path:
            builder.misc_info("Program", program_path)
        if header.get("sequence_version"):
            builder.misc_info("Sequence version", header["sequence_version"])
        builder.misc_info("End event", _GR_EVENT_NAMES.get(event, "none (board not ended)"))
        for key, value in board.misc:
            builder.misc_info(key, value)
        for step in board.steps:
            builder.add_step(step)
        return _build(builder, args.lengths, board.line)


# -- Spectrum ---------------------------------------------------------------------------------------------

_SP_TOKEN = re.compile(
    r'\s*(?:\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?:"([^"]*)"\s*|([^()"]*))\)'  # 1-3: a leaf (KEY: value)
    r'|\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*:|(\()|(\))'  # 4: (KEY: with children, 5: a bare (, 6: )
    r'|"([^"]*)"|([^()"\s][^()"]*)|("))'  # 7: quoted text, 8: bare text, 9: a lone quote
)
_SP_SCALE = {"": 0, "f": -15, "p": -12, "n": -9, "u": -6, "m": -3, "k": 3, "K": 3, "M": 6, "G": 9, "T": 12}
_SP_SYMBOL = {"K": "k", "u": "u"}
_SP_UNITS = {"O": "Ohm", "OHM": "Ohm"}
_SP_STATUS = {"PASS": "P", "PASSED": "P", "FAIL": "F", "FAILED": "F", "SKIP": "S", "SKIPPED": "S"}
_SP_SIMPLE = {"TYPE", "PAGE_NAME", "COMMENT", "FAIL_MSG", "STAT", "DESC", "SNAME", "TIME"}
_SP_MEASURE_KEYS = {"LOLIM", "HILIM", "MEASVAL", "NOMVAL"}
_SP_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?::(\d{1,3}))?)?")
_SP_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[:.](\d{1,3}))?")


class _Node:
    """One ``(KEY: ...)`` node: its key, its text pieces and its child nodes."""

    __slots__ = ("key", "texts", "kids")

    def __init__(self, key: str, texts: list[str] | None = None) -> None:
        self.key = key
        self.texts: list[str] = texts if texts is not None else []
        self.kids: list[_Node] = []

    def text(self) -> str:
        return " ".join(self.texts).strip()

    def children(self) -> list[_Node]:
        return self.kids

    def child(self, key: str) -> _Node | None:
        for node in self.kids:
            if node.key == key:
                return node
        return None

    def value(self, key: str) -> str:
        for node in self.kids:
            if node.key == key:
                return " ".join(node.texts).strip()
        return ""

    def find(self, key: str) -> _Node | None:
        """The first node named ``key`` at any depth below this one (depth first)."""
        pending = list(reversed(self.kids))
        while pending:
            node = pending.pop()
            if node.key == key:
                return node
            pending.extend(reversed(node.kids))
        return None

    def has_any(self, keys: set[str]) -> bool:
        pending = list(self.kids)
        while pending:
            node = pending.pop()
            if node.key in keys:
                return True
            pending.extend(node.kids)
        return False


def _sp_tree(text: str) -> list[_Node]:
    """The top-level nodes of a Spectrum datalog (unbalanced parentheses are closed at the end).

    Leaf nodes (``(VAL: 4.7)``, ``(SNAME: "C1")``) are one token each: they are most of the file.
    """
    top = _Node("")
    stack = [top]
    current = top
    for match in _SP_TOKEN.finditer(text.rstrip()):  # no trailing blanks: \s* would rescan them
        kind = match.lastindex
        if kind == 2 or kind == 3:  # leaf
            current.kids.append(_Node(match.group(1).upper(), [match.group(kind).strip()]))
        elif kind == 4 or kind == 5:  # (KEY:  or a bare (
            node = _Node(match.group(4).upper() if kind == 4 else "")
            current.kids.append(node)
            stack.append(node)
            current = node
        elif kind == 6:
            if len(stack) > 1:
                stack.pop()
                current = stack[-1]
        elif kind == 7 or kind == 8:
            current.texts.append(match.group(kind))
    return top.kids


class _SPValue:
    """A ``(VAL: x) (SCALE: s) (UNIT: u)`` triple."""

    def __init__(self, node: _Node) -> None:
        self.mantissa = node.value("VAL")
        scale = node.value("SCALE")
        self.scale = scale if scale in _SP_SCALE else ""
        self.unit = node.value("UNIT")

    def display_unit(self) -> str:
        return _SP_SYMBOL.get(self.scale, self.scale) + _SP_UNITS.get(self.unit.upper(), self.unit)

    def __str__(self) -> str:
        return f"{self.mantissa} {self.display_unit()}".strip()


class SpectrumArguments(_ICTArguments):
    date_order: Literal["MDY", "DMY"] = Field("MDY", description="order of the dates (02/09/2023): month first or day first")


class TeradyneSpectrumConverter(FileConverter):
    name = "teradyne-spectrum"
    version = "1.0"
    description = "Teradyne Spectrum in-circuit tester datalog: '(STEP: (PAGE: ...))' tree, one report per board"
    patterns = ("*.txt", "*.log", "*.dat")
    Arguments = SpectrumArguments

    def validate(self, source: SourceFile) -> float:
        head = source.head(8192)
        if b"(PROGRAM_NAME:" not in head and b"(STEP:" not in head:
            return 0.0
        markers = sum(marker in head for marker in (b"(PROGRAM_NAME:", b"(STEP:", b"(SNAME:", b"(PAGE:",
                                                     b"(SECTION_NAME:", b"(STAT:"))  # fmt: skip
        return 0.95 if markers >= 4 else 0.6 if markers >= 2 else 0.2

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        boards: list[dict[str, Any]] = []
        board: dict[str, Any] | None = None
        section: list[dict[str, Any]] | None = None
        for node in _sp_tree(source.text()):
            key = node.key
            if key == "PROGRAM_NAME" or board is None:
                if board is not None and (board["steps"] or board["user"]):
                    boards.append(board)
                board = {"program": "", "subprogram": "", "user": {}, "steps": [], "first_time": None}
                section = None
            if key == "PROGRAM_NAME":
                board["program"] = node.text()
            elif key == "SUBPROGRAM_NAME":
                board["subprogram"] = node.text()
            elif key == "SECTION_NAME":
                section = []
                board["steps"].append((node.text() or "Section", section))
            elif key == "STEP":
                step = self._step(node, board, context)
                (section if section is not None else board["steps"]).append(step)
            elif key == "USER":
                name, _, value = node.text().partition(":")
                board["user"][name.strip().lower()] = (name.strip(), value.strip())
            else:
                context.log.debug("%s: top-level node %r skipped", source.name, key)
        if board is not None and (board["steps"] or board["user"]):
            boards.append(board)
        if not boards:
            raise ConversionError("no board in the file (no PROGRAM_NAME, STEP or USER node)")
        return [self._report(item, source, context) for item in boards]

    def _parse_date(self, text: str) -> datetime | None:
        match = _SP_DATE.search(text)
        if match is None:
            return None
        first, second, year, hour, minute, sec, milli = match.groups()
        month, day = (first, second) if self.arguments.date_order == "MDY" else (second, first)
        try:
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(sec or 0),
                            int((milli or "0").ljust(3, "0")) * 1000)  # fmt: skip
        except ValueError as error:
            raise ConversionError(f"invalid date {text!r}: {error}", element="TIME") from None

    def _step(self, node: _Node, board: dict[str, Any], context: ConversionContext) -> dict[str, Any]:
        name = node.value("SNAME")
        started = self._parse_date(node.value("TIME"))
        if started is not None and board["first_time"] is None:
            board["first_time"] = started
        pages = [page for page in node.children() if page.key == "PAGE"]
        expanded: list[_Node] = []
        while pages:  # a page may hold pages
            page = pages.pop(0)
            inner = [child for child in page.children() if child.key == "PAGE"]
            expanded.append(page)
            pages[:0] = inner
        notes = [node.value("DESC")]
        children: list[dict[str, Any]] = []
        for page in expanded:
            children.extend(self._page_steps(page, name))
        overall = _SP_STATUS.get(node.value("STAT").upper())
        fields: dict[str, Any] = {}
        if started is not None:
            fields["start"] = context.localize(started).isoformat()
        note = "; ".join(part for part in notes if part)
        if not children:
            step = _pass_fail(name or "Step", overall or "P", note or None)
        elif len(children) == 1:
            step = children[0]
            step["name"] = name or step["name"]
            if overall == "F":  # the step's own verdict wins over its one measurement's
                step["status"] = "F"
            if note:
                step["reportText"] = f"{note}; {step['reportText']}" if step.get("reportText") else note
        else:
            step = _sequence(name or "Step", children, overall)
            if note:
                step["reportText"] = note
        step.update(fields)
        return step

    def _page_steps(self, page: _Node, step_name: str) -> list[dict[str, Any]]:
        page_name = page.value("PAGE_NAME") or step_name or page.value("TYPE") or "Page"
        notes = [page.value("COMMENT"), page.value("FAIL_MSG")]
        containers = []
        for child in page.children():
            if child.key in _SP_SIMPLE or child.key == "PAGE":
                continue
            if child.key in _SP_MEASURE_KEYS or child.has_any(_SP_MEASURE_KEYS | {"STAT"}):
                containers.append(child)
            else:  # e.g. (EXTPROG: (PROG_NAME: ...))
                details = [f"{leaf.key}: {leaf.text()}" for leaf in child.children() if leaf.text()]
                notes.append(", ".join(details) or child.text())
        page_status = _SP_STATUS.get(page.value("STAT").upper(), "P")
        note = "; ".join(part for part in notes if part) or None
        if not containers:
            return [_pass_fail(page_name, page_status, note)]
        steps = []
        for container in containers:
            kind = container.value("TYPE")
            name = page_name if len(containers) == 1 else f"{page_name} ({kind or container.key})"
            steps.append(self._measurement(container, name, page_status, note))
        return steps

    def _measurement(self, container: _Node, name: str, page_status: str, note: str | None) -> dict[str, Any]:
        result = container.find("INTC_RESULT")
        status_text = container.value("STAT") or (result.value("STAT") if result is not None else "")
        if result is not None and result.value("STAT"):
            status_text = result.value("STAT")
        status = _SP_STATUS.get(status_text.upper(), page_status)
        measured = container.child("MEASVAL") or container.find("MEASVAL")
        low = container.child("LOLIM") or container.find("LOLIM")
        high = container.child("HILIM") or container.find("HILIM")
        nominal = container.child("NOMVAL") or container.find("NOMVAL")
        notes = [note] if note else []
        if nominal is not None:
            notes.append(f"nominal {_SPValue(nominal)}")
        extra = [child for child in container.children() if child.key.endswith("_LIMIT")]
        notes.extend(f"{child.key.lower()} {_SPValue(child)}" for child in extra)
        points = []
        for child in container.children() + (result.children() if result is not None else []):
            tp_names = [grand.text() for grand in child.children() if grand.key == "TPNAME"]
            if tp_names:
                points.append(f"{child.key} {','.join(tp_names)}")
        if points:
            notes.append("nodes: " + "; ".join(points))
        text = "; ".join(notes) or None
        if measured is None or not _SPValue(measured).mantissa:
            limits = [f"{label} {_SPValue(node)}" for label, node in (("low", low), ("high", high)) if node is not None]
            if limits:
                text = "; ".join([*limits, *([text] if text else [])])
            return _pass_fail(name, status, text)
        value = _SPValue(measured)
        base = _SP_SCALE[value.scale]
        try:
            number = float(value.mantissa)
            limits = []
            for node in (low, high):
                if node is None or not node.value("VAL"):
                    limits.append(None)
                    continue
                limit = _SPValue(node)
                limits.append(_scaled(limit.mantissa, _SP_SCALE[limit.scale] - base))
        except (ValueError, InvalidOperation, OverflowError):
            raise ConversionError(f"unreadable number in step {name!r}", element="MEASVAL") from None
        return _numeric(name, number, limits[0], limits[1], value.display_unit(), status, text)

    def _report(self, board: dict[str, Any], source: SourceFile, context: ConversionContext) -> Report:
        args = self.arguments
        user = board["user"]

        def take(key: str) -> str:
            item = user.pop(key, None)
            return item[1] if item else ""

        sn = take("serialnumber")
        if not sn:
            raise ConversionError("the board has no serial number (no '(USER: Serialnumber: ...)' node)",
                                  element="USER", field="Serialnumber")  # fmt: skip
        day = self._parse_date(take("date"))
        start = board["first_time"]
        clock = _SP_CLOCK.search(take("starttime"))
        if day is not None and clock is not None:
            start = self._at(day, clock)
        end_clock = _SP_CLOCK.search(take("endtime"))
        exec_time = None
        if start is not None and end_clock is not None:
            end = self._at(start, end_clock)
            if end < start:
                end += timedelta(days=1)
            exec_time = (end - start).total_seconds()
        fixture = take("fixture") or take("fixtureid") or take("fixture id")
        verdict = take("status").upper()
        result = "F" if "FAIL" in verdict else "P" if "PASS" in verdict else None
        program = board["program"]
        builder = ReportBuilder.uut(
            pn=args.part_number or program or PurePath(source.name).stem, sn=sn, rev=args.revision,
            process_code=args.process_code, start=context.localize(start) if start else None, result=result,
            root_name=program or "Spectrum", user=take("operator") or None, exec_time=exec_time,
            fixture_id=fixture or None,
        )  # fmt: skip
        if board["subprogram"]:
            builder.misc_info("Subprogram", board["subprogram"])
        for name, value in user.values():
            if value:
                builder.misc_info(name, value)
        steps: list[dict[str, Any]] = []
        for item in board["steps"]:
            if isinstance(item, tuple):
                section_name, section_steps = item
                if section_steps:
                    steps.append(_sequence(section_name, section_steps))
            else:
                steps.append(item)
        for step in steps:
            builder.add_step(step)
        return _build(builder, args.lengths)

    @staticmethod
    def _at(day: datetime, clock: re.Match[str]) -> datetime:
        hour, minute, second, milli = clock.groups()
        try:
            return day.replace(hour=int(hour), minute=int(minute), second=int(second or 0),
                               microsecond=int((milli or "0").ljust(3, "0")) * 1000)  # fmt: skip
        except ValueError as error:
            raise ConversionError(f"invalid time {clock.group(0)!r}: {error}", element="USER") from None


CONVERTERS = (TeradyneGR228xConverter, TeradyneSpectrumConverter)

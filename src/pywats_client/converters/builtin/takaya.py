"""TAKAYA flying-probe result logs: ATD (tab-separated and APT94xx quoted variants) and ATDX.

**ATD** files hold one or more test runs. A run is an ``@``-framed header (panel verdict, counters,
``Model:`` program, ``DATE``, optional ``Test time:`` and ``Test ID :``) followed by one section per
board of the panel (``* GROUP No.n *``, the board verdict, ``Serial No.:``) and a closing ``@``. Two step
layouts exist:

- the tab-separated layout (newer software, e.g. ``V682780_B_BOT-20230301082027.ATD``): a
  ``Group_No.<TAB>Step_number<TAB>...`` column header, then one row per step with reference and test
  values as figure, text and unit columns, tolerances, pins and nets, judgement and function;
- the APT94xx layout (e.g. ``11111-BV0001 (AT33).ATD``): space-separated, double-quoted and space-padded
  fields: step number, part, value, comment, two pins, reference, one or two test values (or
  ``"........"``), ``+n% -n%``, judgement, mode, range, time, probes, counters and the function code.

Each board section becomes one report (a panel of four boards gives four reports per run).

**ATDX** (newer TAKAYA software, e.g. APT-1400F) is ';'-separated text, not XML: ``"Main header"``
blocks (``Tester ID``, ``Model``, ``Serial number``, ``Test Date``), ``"Group header"`` blocks
(``Group No.: 1 Side: A FAIL``) and an ``Order;Aux;M.Aux;Parts;...`` table per group. One report per
main header; each group becomes a sequence.

The tester's judgement is kept as each step's status (the limits of open/short checks are not in ATD
files, so those steps are logged without limits); component tests get GELE limits from the reference
value and its tolerances (percentages become absolute limits in the reference's unit).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from pydantic import Field

from pywats import ReportFormatError
from pywats.builder import ReportBuilder
from pywats.models import LengthMode

from ..base import ConversionContext, ConverterArguments, FileConverter, Report
from ..errors import ConversionError
from ..sources import SourceFile

_NUMBER_UNIT = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµΩ%°/]*)\s*\Z")
_NUMBERISH = re.compile(r"\s*[-+]?\.?\d")
_DATE = re.compile(r"(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?")
_GROUP = re.compile(r"\*\s*GROUP\s+No\.?\s*(\S+?)\s*\*\Z", re.IGNORECASE)
_VERDICT = re.compile(r"\*\s*([A-Za-z]+)\s*\*\Z")
_ATDX_GROUP = re.compile(r"Group\s+No\.?\s*:\s*(\S+)(?:\s+Side\s*:\s*(\S+))?(?:\s+(\S+))?", re.IGNORECASE)
_TEST_TIME = re.compile(r"([-+]?\d+(?:[.,]\d+)?)\s*(ms|s|sec|min)?", re.IGNORECASE)
_PART_PREFIX = re.compile(r"[A-Za-z_]+")
_PROGRAM_EXTENSION = re.compile(r"\.SWX\d*\Z", re.IGNORECASE)

_PASSED = frozenset({"PASS", "PASSED", "OK", "GOOD"})
_SKIPPED = frozenset({"", "SKIP", "SKIPPED", "UNTESTED", "NOTTESTED", "NOT TESTED", "-", "*"})
_UNIT_SCALE = {"p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "K": 1e3, "M": 1e6,
               "G": 1e9}  # fmt: skip
_MAX_ROWS = 200_000


class TakayaArguments(ConverterArguments):
    process_code: int = Field(30, description="WATS process (operation type) code of the reports (30: Flying Probe)")
    part_number: str = Field(
        "", description="part number of every report; empty: the program name (Model) without its extension"
    )
    revision: str = Field("", description="revision of every report (the logs carry none)")
    date_order: Literal["DMY", "MDY", "YMD"] = Field(
        "DMY", description="order of day, month and year in DATE / Test Date (TAKAYA writes day/month/year)"
    )
    station_from_tester_id: bool = Field(
        True, description="use the file's Test ID / Tester ID as the reports' machine name"
    )
    operator_from_serial: bool = Field(
        True, description="read '(OP1 - OP2)' after the serial number as operator (and second operator)"
    )
    group_steps: Literal["component", "flat"] = Field(
        "component",
        description="'component': one sequence per component type (R, C, U, P-Auto shorts...); 'flat': no sequences",
    )
    include_skipped: bool = Field(True, description="log steps the tester did not run (judgement '......', SKIP)")
    lengths: LengthMode = Field(
        "truncate", description="'truncate' cuts over-long names to WATS limits; 'strict' refuses the file"
    )


# ---------------------------------------------------------------------------------------------------------
# Parsed shapes
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _Row:
    """One test step of a board, in any of the three layouts."""

    line: int
    number: str
    parts: str
    value: str
    comment: str
    reference: tuple[float, str] | None
    measured: list[tuple[float, str]]
    raw_measured: str
    plus: tuple[float, bool] | None  # (amount, is_percent)
    minus: tuple[float, bool] | None
    judgement: str
    function: str
    kind: str = ""  # ATDX "Loc." (SHRT, DNET, O-C...)
    label: str = ""  # the comment / net pair as written, for step names of open/short checks


@dataclass
class _Board:
    line: int
    group: str
    verdict: str | None = None
    serial: str = ""
    counters: str = ""
    side: str = ""
    rows: list[_Row] = field(default_factory=list)


@dataclass
class _Run:
    line: int
    variant: str
    verdict: str | None = None
    counters: str = ""
    model: str = ""
    date: str = ""
    date_line: int = 0
    test_time: float | None = None
    tester: str = ""
    serial: str = ""  # ATDX: the run's serial number
    extra: list[tuple[str, str]] = field(default_factory=list)
    boards: list[_Board] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------
# Small parsers
# ---------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _parse_quantity(text: str) -> tuple[float, str] | None:
    """``"4.21 KO "`` → (4.21, "KO"); None for markers without digits. Raises ValueError for bad numbers."""
    text = text.strip()
    if not text or not _NUMBERISH.match(text):
        return None
    match = _NUMBER_UNIT.match(text)
    if match is None:
        raise ValueError("is not a number")
    number = float(match.group(1))
    if not math.isfinite(number):
        raise ValueError("is not a finite number")
    return number, match.group(2)


def _quantity(text: str, line: int, what: str) -> tuple[float, str] | None:
    """A value with its unit (``"4.21 KO "``), None for markers (``........``, ``*``, ``OVER``).

    Raises:
        ConversionError: the field looks like a number but is not one.
    """
    try:
        return _parse_quantity(text)
    except ValueError as error:
        raise ConversionError(f"{what} {text.strip()!r} {error}", line=line) from None


@lru_cache(maxsize=1024)
def _parse_tolerance(text: str) -> tuple[float, bool] | None:
    text = text.strip()
    percent = text.endswith("%")
    body = text[:-1].strip() if percent else text
    if not body or not _NUMBERISH.match(body):
        return None
    amount = abs(float(body.replace(",", ".")))  # ValueError for a bad number
    if not math.isfinite(amount):
        raise ValueError("not finite")
    return amount, percent


def _tolerance(text: str, line: int, what: str) -> tuple[float, bool] | None:
    """``+5%`` → (5.0, True); ``-0.2`` → (0.2, False); markers (``----------``, ``*``) → None."""
    try:
        return _parse_tolerance(text)
    except ValueError:
        raise ConversionError(f"{what} {text.strip()!r} is not a number", line=line) from None


def _date(text: str, order: str, line: int) -> datetime:
    match = _DATE.search(text)
    if match is None:
        raise ConversionError(f"the date {text.strip()!r} is not a date and time", line=line)
    first, second, third, hour, minute, second_of_minute = match.groups()
    if len(first) == 4:
        year, month, day = first, second, third
    elif order == "MDY":
        month, day, year = first, second, third
    elif order == "YMD":
        year, month, day = first, second, third
    else:
        day, month, year = first, second, third
    number = int(year)
    if len(year) <= 2:
        number += 2000
    try:
        return datetime(number, int(month), int(day), int(hour), int(minute), int(second_of_minute or 0))
    except ValueError as error:
        raise ConversionError(f"the date {match.group(0)!r} is not valid: {error}", line=line) from None


def _seconds(text: str) -> float | None:
    match = _TEST_TIME.search(text)
    if match is None:
        return None
    value = float(match.group(1).replace(",", "."))
    unit = (match.group(2) or "s").lower()
    return value / 1000 if unit == "ms" else value * 60 if unit == "min" else value


def _status(judgement: str, function: str) -> str:
    """P, F or S from the tester's judgement (any verdict other than PASS is a failure: OPEN, SHORT...)."""
    word = judgement.strip().upper()
    if word in _PASSED:
        return "P"
    if word in _SKIPPED or not word.strip(".") or function.strip().upper() == "JP":
        return "S"
    return "F"


def _scale(unit: str) -> tuple[float, str] | None:
    """A unit's SI prefix factor and base (``KO`` → (1000, "O"), ``UF`` → (1e-6, "F"))."""
    if len(unit) >= 2 and unit[0] in _UNIT_SCALE:
        prefix = "u" if unit[0] == "U" else unit[0]
        return _UNIT_SCALE[prefix], unit[1:].upper()
    return (1.0, unit.upper()) if unit else None


def _in_unit(value: float, unit: str, target: str) -> float | None:
    """``value`` in ``unit`` expressed in ``target`` (same base, other prefix), or None."""
    if unit.upper() == target.upper():
        return value
    have, want = _scale(unit), _scale(target)
    if have is None or want is None or have[1] != want[1]:
        return None
    return value * have[0] / want[0]


# ---------------------------------------------------------------------------------------------------------
# ATD: header, board sections, tab-separated and quoted step rows
# ---------------------------------------------------------------------------------------------------------


class _Columns:
    """Column positions of a step table, found by name (extra and missing optional columns are fine).

    ``pick(cells)`` returns the stripped cells of the ``WANTED`` (name, offset) columns in order ("" when
    the line is short or the column is absent): one pass per line instead of a lookup per field.
    """

    REQUIRED: tuple[str, ...] = ()
    WANTED: tuple[tuple[str, int], ...] = ()

    def __init__(self, cells: list[str], line: int) -> None:
        index: dict[str, int] = {}
        for position, name in enumerate(cells):
            index.setdefault(name.strip(), position)
        missing = [name for name in self.REQUIRED if name not in index]
        if missing:
            raise ConversionError(f"the step table header has no column {', '.join(missing)}", line=line)
        width = len(cells)
        self.positions = [index[name] + offset if name in index and index[name] + offset < width else -1
                          for name, offset in self.WANTED]  # fmt: skip

    def pick(self, cells: list[str]) -> list[str]:
        cells.append("")  # position -1: an absent column
        count = len(cells) - 1
        return [cells[i].strip() if i < count else "" for i in self.positions]


class _TabColumns(_Columns):
    REQUIRED = ("Step_number", "Parts", "Judgement", "Ref._Value_(Char)", "Test_Value_1_(Char)")
    WANTED = (("Step_number", 0), ("Parts", 0), ("Value", 0), ("Unit", 0), ("Comment", 0), ("Location", 0),
              ("Ref._Value_(Char)", 0), ("Ref._Value_(Char)", 1), ("Test_Value_1_(Char)", 0),
              ("Test_Value_1_(Char)", 1), ("Test_Value_2_(Char)", 0), ("Test_Value_2_(Char)", 1),
              ("H-pin", 0), ("H-pin", 1), ("L-pin", 0), ("L-pin", 1), ("G-P1", 0), ("G-P1", 1), ("G-P2", 0),
              ("G-P2", 1), ("Measuring_mode", 0), ("Measuring_range", 0), ("Measuring_time", 0),
              ("Access_probe", 0), ("Tolerance_(+)%", 0), ("Tolerance_(-)%", 0), ("Judgement", 0),
              ("Function", 0))  # fmt: skip


_PIN_NAMES = ("H-pin", "L-pin", "G-P1", "G-P2")


def _pins(values: list[str], blank: tuple[str, ...]) -> str:
    """``H-pin 9 (+12VB), L-pin 6 (3V3)`` from (number, net) pairs."""
    pins = []
    for name, number, net in zip(_PIN_NAMES, values[0::2], values[1::2]):
        if number and number not in blank:
            pins.append(f"{name} {number} ({net})" if net and net != "*" else f"{name} {number}")
    return ", ".join(pins)


def _measured(values: list[str], line: int) -> list[tuple[float, str]]:
    """The test values that were taken, from (text, unit) pairs."""
    measured = []
    for text, unit in zip(values[0::2], values[1::2]):
        quantity = _quantity(text, line, "the test value")
        if quantity is not None:
            measured.append((quantity[0], unit or quantity[1]))
    return measured


def _tab_row(cells: list[str], columns: _TabColumns, line: int) -> _Row:
    v = columns.pick(cells)
    reference = _quantity(v[6], line, "the reference value")
    if reference is not None:
        reference = (reference[0], v[7] or reference[1])
    details = " ".join(d for d in v[20:24] if d and d != "*")
    comment, location = v[4], v[5]
    text = "; ".join(part for part in (comment, location if location != "*" else "", _pins(v[12:20], ("0",)),
                                       details) if part)  # fmt: skip
    value, unit = v[2], v[3]
    return _Row(
        line=line, number=v[0], parts=v[1], value=f"{value}{unit}" if value not in ("", "*") else value,
        comment=text, reference=reference, measured=_measured(v[8:12], line),
        raw_measured=" / ".join(r for r in (v[8], v[10]) if r),
        plus=_tolerance(v[24], line, "the + tolerance"), minus=_tolerance(v[25], line, "the - tolerance"),
        judgement=v[26], function=v[27], label=comment,
    )  # fmt: skip


def _quoted_row(text: str, line: int) -> _Row:
    """One APT94xx step line: runs of bare and quoted fields in a fixed order."""
    pieces = text.split('"')  # even pieces: bare fields between the quotes; odd pieces: quoted fields
    if len(pieces) % 2 == 0:
        raise ConversionError("the step line has an unbalanced quote", line=line)
    runs: list[tuple[bool, list[str]]] = []
    for index, piece in enumerate(pieces):
        if index & 1:
            if runs and runs[-1][0]:
                runs[-1][1].append(piece)
            else:
                runs.append((True, [piece]))
        else:
            tokens = piece.split()
            if tokens:
                runs.append((False, tokens))  # bare runs are always separated by a quoted field
    last_quote = pieces[-2] if len(pieces) > 1 else None
    shape = [quoted for quoted, _ in runs[:6]]
    if len(runs) < 6 or shape != [False, True, False, True, False, True]:
        raise ConversionError("the step line does not have the APT94xx field layout (number, quoted names, pins, "
                              "quoted values, tolerances, quoted judgement)", line=line)  # fmt: skip
    number = runs[0][1][0]
    names, pins, values, tolerances, tail = runs[1][1], runs[2][1], runs[3][1], runs[4][1], runs[5][1]
    if len(names) < 2 or len(values) < 2 or len(tolerances) < 2:
        raise ConversionError("the step line lacks names, values or tolerances", line=line)
    measured = []
    for field_text in values[1:]:
        quantity = _quantity(field_text, line, "the test value")
        if quantity is not None:
            measured.append(quantity)
    function = (last_quote or "").strip()
    if function.startswith("(") or function == tail[0]:
        function = ""
    details = " ".join(part.strip() for part in tail[1:] if part.strip() and part.strip() != function)
    comment = names[2].strip() if len(names) > 2 else ""
    text = "; ".join(part for part in (comment, f"pins {'-'.join(pins)}", details) if part)
    return _Row(
        line=line, number=number, parts=names[0].strip(), value=names[1].strip(), comment=text,
        reference=_quantity(values[0], line, "the reference value"), measured=measured,
        raw_measured=" / ".join(v.strip() for v in values[1:] if v.strip().strip(".")),
        plus=_tolerance(tolerances[0], line, "the + tolerance"), minus=_tolerance(tolerances[1], line, "the - tolerance"),
        judgement=tail[0].strip(), function=function, label=comment,
    )  # fmt: skip


def _parse_atd(text: str) -> list[_Run]:
    runs: list[_Run] = []
    state = "idle"  # idle → header → body → idle
    run: _Run | None = None
    board: _Board | None = None
    columns: _TabColumns | None = None
    count = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line == "@":
            if state == "idle":
                run, board, columns, state = _Run(number, "ATD"), None, None, "header"
            elif state == "header":
                state = "body"
            else:
                runs.append(run)  # type: ignore[arg-type]
                run, state = None, "idle"
            continue
        if not line:
            continue
        if state == "idle":
            raise ConversionError("text outside an '@' block (not a TAKAYA ATD file, or a damaged one)", line=number)
        assert run is not None
        if state == "header":
            _header_line(run, line, number)
            continue
        group = _GROUP.match(line)
        if group:
            board = _Board(number, group.group(1))
            run.boards.append(board)
            columns = None
            continue
        if board is None:
            raise ConversionError("a step or board line before the first '* GROUP No.' line", line=number)
        verdict = _VERDICT.match(line)
        if verdict and board.verdict is None:
            board.verdict = verdict.group(1).upper()
        elif line.startswith("D.T:"):
            board.counters = " ".join(line.split())
        elif line.lower().startswith("serial no"):
            board.serial = line.partition(":")[2].strip()
        elif line.startswith("Group_No.") and "\t" in raw:
            columns = _TabColumns(raw.split("\t"), number)
            run.variant = "ATD (tab-separated)"
        elif line[0].isdigit() and "\t" in raw:
            if columns is None:
                raise ConversionError("a tab-separated step row before its column header", line=number)
            board.rows.append(_tab_row(raw.split("\t"), columns, number))
            count += 1
        elif line[0].isdigit() and '"' in line:
            board.rows.append(_quoted_row(line, number))
            run.variant = "ATD (APT94xx)"
            count += 1
        if count > _MAX_ROWS:
            raise ConversionError(f"more than {_MAX_ROWS} steps in one file", line=number)
    if state != "idle":
        raise ConversionError("the file ends inside an '@' block (truncated?)", line=number if text else None)
    return runs


def _header_line(run: _Run, line: str, number: int) -> None:
    verdict = _VERDICT.match(line)
    if verdict:
        run.verdict = verdict.group(1).upper()
    elif line.startswith("D.T:"):
        run.counters = " ".join(line.split())
    elif line.startswith("Model:"):
        run.model = line.partition(":")[2].strip()
    elif line.upper().startswith("DATE"):
        run.date, run.date_line = line[4:].strip(), number
    elif line.lower().startswith("test time"):
        run.test_time = _seconds(line.partition(":")[2])
    elif line.lower().replace(" ", "").startswith("testid:"):
        run.tester = line.partition(":")[2].strip()
    elif ":" in line and len(run.extra) < 20:
        key, _, value = line.partition(":")
        if key.strip() and value.strip():
            run.extra.append((key.strip(), value.strip()))


# ---------------------------------------------------------------------------------------------------------
# ATDX
# ---------------------------------------------------------------------------------------------------------


class _AtdxColumns(_Columns):
    REQUIRED = ("Order", "Parts", "Judge", "Reference", "Test.Base(Test1)")
    WANTED = (("Order", 0), ("Parts", 0), ("Value", 0), ("Unit", 0), ("Comment", 0), ("Loc.", 0),
              ("Reference", 0), ("Reference", 1), ("Test.Base(Test1)", 0), ("Test.Base(Test1)", 1),
              ("Test.Base(Test2)", 0), ("Test.Base(Test2)", 1), ("H-pin", 0), ("Netname-H-pin", 0), ("L-pin", 0),
              ("Netname-L-pin", 0), ("G-P1", 0), ("Netname-G-P1", 0), ("G-P2", 0), ("Netname-G-P2", 0),
              ("Func", 0), ("+%", 0), ("+%", 1), ("-%", 0), ("-%", 1), ("Judge", 0))  # fmt: skip


def _atdx_tolerance(text: str, unit: str, line: int, what: str) -> tuple[float, bool] | None:
    """A tolerance column and its unit column: an empty unit or '%' means percent, else absolute."""
    tolerance = _tolerance(text, line, what)
    if tolerance is None:
        return None
    return tolerance[0], not unit or unit == "%"


def _atdx_row(cells: list[str], columns: _AtdxColumns, line: int) -> _Row:
    v = columns.pick(cells)
    reference = _quantity(v[6], line, "the reference value")
    if reference is not None:
        reference = (reference[0], v[7] or reference[1])
    value, unit, label = v[2], v[3], v[4]
    comment = "; ".join(part for part in (label, _pins(v[12:20], ("0", "----"))) if part)
    return _Row(
        line=line, number=v[0], parts=v[1], value=f"{value}{unit}" if value not in ("", "*") else value,
        comment=comment, reference=reference, measured=_measured(v[8:12], line),
        raw_measured=" / ".join(r for r in (v[8], v[10]) if r),
        plus=_atdx_tolerance(v[21], v[22], line, "the + tolerance"),
        minus=_atdx_tolerance(v[23], v[24], line, "the - tolerance"),
        judgement=v[25], function=v[20], kind=v[5], label=label,
    )  # fmt: skip


def _parse_atdx(text: str) -> list[_Run]:
    runs: list[_Run] = []
    run: _Run | None = None
    board: _Board | None = None
    columns: _AtdxColumns | None = None
    section = ""
    count = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#") and '"' in line:
            title = line.strip("#").strip().strip('"').lower()
            if title == "main header":
                run, board, columns = _Run(number, "ATDX"), None, None
                runs.append(run)
                section = "main"
            elif title == "group header":
                if run is None:
                    raise ConversionError("a group header before the main header", line=number)
                section, board, columns = "group", None, None
            else:
                section = "other"
            continue
        if run is None:
            raise ConversionError("text before the first main header (not a TAKAYA ATDX file?)", line=number)
        if line.startswith("---"):
            continue
        if section == "main":
            key, _, value = line.partition(":")
            key, value = key.strip().lower(), value.strip()
            if key == "tester id":
                run.tester = value
            elif key == "model":
                run.model = value
            elif key.startswith("serial"):
                run.serial = value
            elif key in ("test date", "date"):
                run.date, run.date_line = value, number
            elif key and value and len(run.extra) < 20:
                run.extra.append((line.partition(":")[0].strip(), value))
        elif section == "group":
            if line.startswith("Order;"):
                columns = _AtdxColumns(raw.split(";"), number)
                continue
            match = _ATDX_GROUP.match(line)
            if match and columns is None:
                board = _Board(number, match.group(1), side=match.group(2) or "")
                board.verdict = (match.group(3) or "").upper() or None
                run.boards.append(board)
                continue
            if columns is None or board is None:
                raise ConversionError("a step row before the group's 'Order;...' column header", line=number)
            if line[0].isdigit():
                board.rows.append(_atdx_row(raw.split(";"), columns, number))
                count += 1
                if count > _MAX_ROWS:
                    raise ConversionError(f"more than {_MAX_ROWS} steps in one file", line=number)
    return runs


# ---------------------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------------------


def _limits(row: _Row, atdx: bool) -> tuple[str | None, float | None, float | None]:
    """The comparison and limits of a step: nominal ± tolerance, ATDX thresholds, or none (LOG)."""
    function = row.function.strip().upper()
    reference = row.reference
    if reference is None:
        return "LOG", None, None
    nominal = reference[0]
    if atdx and function in ("OP", "SH", "GE", "GT", "LE", "LT"):
        return {"OP": "GT", "SH": "LT"}.get(function, function), nominal, None
    if function in ("OP", "SH") or row.plus is None or row.minus is None:
        return "LOG", None, None  # open/short checks: the threshold is a tester setting, not in the file
    (plus, plus_pct), (minus, minus_pct) = row.plus, row.minus
    high = nominal + (abs(nominal) * plus / 100 if plus_pct else plus)
    low = nominal - (abs(nominal) * minus / 100 if minus_pct else minus)
    low, high = float(f"{low:.12g}"), float(f"{high:.12g}")  # 4.4835, not 4.483499999999999
    return "GELE", min(low, high), max(low, high)


def _step_name(row: _Row, used: set[str]) -> str:
    parts = row.parts if row.parts not in ("", "*") else ""
    value = row.value if row.value not in ("", "*") else ""
    if value.upper() == "P-AUTO" and row.label and row.label != "*":
        value = row.label  # open/short checks: "SHRT1 #27-#28", "POWER_SHORTS 153-9"
    name = " ".join(part for part in (parts, value) if part) or row.comment.split(";")[0].strip() or f"Step {row.number}"
    if name in used:
        name = f"{name} #{row.number.lstrip('0') or '0'}"
    used.add(name)
    return name


def _group_key(row: _Row) -> str:
    if row.value.strip().upper() == "P-AUTO":
        parts = row.parts.strip()
        return parts if _PART_PREFIX.fullmatch(parts) else "P-Auto"  # ATDX: POWER_SHORTS, BOARD_SHORTS
    match = _PART_PREFIX.match(row.parts.strip())
    return match.group(0).upper() if match else "Other"


def _add_row(parent: Any, row: _Row, name: str, atdx: bool, include_skipped: bool, log: Any) -> None:
    status = _status(row.judgement, row.function)
    notes = [row.comment] if row.comment else []
    if row.reference is not None:
        notes.append(f"reference {row.reference[0]:g} {row.reference[1]}".rstrip())
    if len(row.measured) > 1:
        notes.append("test values " + ", ".join(f"{v:g} {u}".rstrip() for v, u in row.measured) + " (last decisive)")
    if row.judgement and row.judgement.strip(".") and row.judgement.upper() not in _PASSED:
        notes.append(f"judgement {row.judgement}")
    if row.function:
        notes.append(f"function {row.function}")
    if row.kind:
        notes.append(f"test type {row.kind}")
    fields: dict[str, Any] = {"report_text": "; ".join(notes)} if notes else {}
    if status == "S":
        if include_skipped:
            parent.action(name, step_type="ET_NLT", status="S", **fields)
        return
    if not row.measured:
        if row.raw_measured:
            fields["report_text"] = "; ".join(notes + [f"test value {row.raw_measured!r}"])
        parent.action(name, step_type="ET_NLT", status=status, **fields)
        return
    value, unit = row.measured[-1]
    comp_op, low, high = _limits(row, atdx)
    if comp_op != "LOG" and row.reference is not None:
        converted = _in_unit(value, unit, row.reference[1])
        if converted is None:
            log.debug("TAKAYA line %s: test unit %r does not match reference unit %r; logged", row.line, unit,
                      row.reference[1])  # fmt: skip
            comp_op, low, high = "LOG", None, None
        else:
            value, unit = converted, row.reference[1]
    parent.numeric(name, value, low=low, high=high, comp_op=comp_op, unit=unit or None,
                   status="P" if status == "P" else "F", **fields)  # fmt: skip


def _add_rows(parent: Any, rows: list[_Row], arguments: TakayaArguments, atdx: bool, log: Any) -> None:
    used: set[str] = set()
    if arguments.group_steps == "flat":
        for row in rows:
            _add_row(parent, row, _step_name(row, used), atdx, arguments.include_skipped, log)
        return
    groups: dict[str, list[_Row]] = {}
    for row in rows:
        groups.setdefault(_group_key(row), []).append(row)
    for key, members in groups.items():
        visible = [row for row in members if arguments.include_skipped or _status(row.judgement, row.function) != "S"]
        if not visible:
            continue
        sequence = parent.sequence(key)
        for row in visible:
            _add_row(sequence, row, _step_name(row, used), atdx, arguments.include_skipped, log)


def _split_serial(text: str, enabled: bool) -> tuple[str, list[str]]:
    """``21272 - BU0296 (AT21 - OP819)`` → ("21272 - BU0296", ["AT21", "OP819"])."""
    if not enabled or "(" not in text or not text.rstrip().endswith(")"):
        return text.strip(), []
    serial, _, rest = text.rpartition("(")
    if not serial.strip():
        return text.strip(), []
    inner = rest.rstrip()[:-1]
    operators = [part.strip() for part in re.split(r"\s+-\s+|\+", inner) if part.strip()]
    return serial.strip(), operators


def _result(verdict: str | None) -> str | None:
    if verdict is None:
        return None
    return "P" if verdict in _PASSED else "F"


def _build(builder: Any, lengths: LengthMode, line: int) -> Report:
    try:
        return builder.build(lengths=lengths)
    except ReportFormatError as error:
        raise ConversionError(f"the report breaks a WATS rule: {error}", line=line) from None
    except ValueError as error:
        raise ConversionError(f"the report cannot be built: {error}", line=line) from None


class TakayaConverter(FileConverter):
    name = "takaya"
    version = "1.0"
    description = (
        "TAKAYA flying-probe logs: ATD (tab-separated and APT94xx layouts; one report per board of a panel) "
        "and ATDX (';'-separated, one report per run)"
    )
    patterns = ("*.atd", "*.atdx")
    Arguments = TakayaArguments

    def validate(self, source: SourceFile) -> float:
        head = source.head(8192).lstrip(b"\xef\xbb\xbf \t\r\n")
        if b'"Main header"' in head[:200] and (b"Tester ID" in head or b"Order;Aux;" in head):
            return 0.95
        if not head.startswith(b"@"):
            return 0.0
        score = 0.1
        for weight, markers in ((0.25, (b"* PASS *", b"* FAIL *")), (0.25, (b"Model:",)), (0.25, (b"DATE ",)),
                                (0.15, (b"GROUP No.",)), (0.1, (b"D.T:",))):  # fmt: skip
            if any(marker in head for marker in markers):
                score += weight
        return round(min(score, 0.95), 2)

    def convert(self, source: SourceFile, context: ConversionContext) -> list[Report]:
        text = source.text()
        head = text.lstrip("\ufeff \t\r\n")[:200]
        runs = _parse_atdx(text) if '"Main header"' in head else _parse_atd(text)
        if not runs:
            raise ConversionError("the file holds no TAKAYA test run")
        reports: list[Report] = []
        for run in runs:
            reports.extend(self._run_reports(run, context))
        return reports

    def _run_reports(self, run: _Run, context: ConversionContext) -> list[Report]:
        arguments = self.arguments
        if not run.date:
            raise ConversionError("the test run has no date (DATE / Test Date)", line=run.line)
        start = context.localize(_date(run.date, arguments.date_order, run.date_line))
        program = run.model
        part_number = arguments.part_number or _PROGRAM_EXTENSION.sub("", program).strip() or program
        if not part_number:
            raise ConversionError("the test run has no program name (Model:) to use as part number; "
                                  "set the part_number argument", line=run.line)  # fmt: skip
        machine = run.tester if arguments.station_from_tester_id and run.tester else None
        if not run.boards:
            raise ConversionError("the test run has no board section (GROUP / Group header)", line=run.line)
        common = dict(pn=part_number, rev=arguments.revision, process_code=arguments.process_code, start=start,
                      machine_name=machine, root_name=program or "TAKAYA", exec_time=run.test_time)  # fmt: skip
        if run.variant == "ATDX":
            return [self._atdx_report(run, common, context)]
        reports = []
        for board in run.boards:
            serial, operators = _split_serial(board.serial, arguments.operator_from_serial)
            if not serial:
                raise ConversionError(f"board group {board.group} has no serial number (Serial No.)", line=board.line)
            builder = ReportBuilder.uut(sn=serial, result=_result(board.verdict),
                                        user=operators[0] if operators else None, **common)  # fmt: skip
            for index, operator in enumerate(operators[1:], 2):
                builder.misc_info(f"Operator {index}", text=operator)
            self._misc(builder, run)
            builder.misc_info("Group", text=board.group)
            if board.counters:
                builder.misc_info("Group counters", text=board.counters)
            if len(run.boards) > 1 and run.verdict:
                builder.misc_info("Panel result", text=run.verdict)
            _add_rows(builder, board.rows, arguments, False, context.log)
            reports.append(_build(builder, arguments.lengths, board.line))
        return reports

    def _atdx_report(self, run: _Run, common: dict[str, Any], context: ConversionContext) -> Report:
        arguments = self.arguments
        serial, operators = _split_serial(run.serial, arguments.operator_from_serial)
        if not serial:
            raise ConversionError("the test run has no serial number (Serial number :)", line=run.line)
        verdicts = [board.verdict for board in run.boards]
        result = None
        if all(verdicts):
            result = "P" if all(verdict in _PASSED for verdict in verdicts) else "F"
        builder = ReportBuilder.uut(sn=serial, result=result, user=operators[0] if operators else None, **common)
        for index, operator in enumerate(operators[1:], 2):
            builder.misc_info(f"Operator {index}", text=operator)
        self._misc(builder, run)
        if len(run.boards) == 1:  # one group: its steps go straight under the root
            board = run.boards[0]
            builder.misc_info("Group", text=board.group)
            if board.side:
                builder.misc_info("Side", text=board.side)
            _add_rows(builder, board.rows, arguments, True, context.log)
            return _build(builder, arguments.lengths, run.line)
        for board in run.boards:
            title = f"Group {board.group}" + (f" side {board.side}" if board.side else "")
            fields = {"status": "P" if board.verdict in _PASSED else "F"} if board.verdict else {}
            _add_rows(builder.sequence(title, **fields), board.rows, arguments, True, context.log)
        return _build(builder, arguments.lengths, run.line)

    def _misc(self, builder: Any, run: _Run) -> None:
        builder.misc_info("Format", text=run.variant)
        if run.model:
            builder.misc_info("Program", text=run.model)
        if run.tester:
            builder.misc_info("Tester ID", text=run.tester)
        if run.counters:
            builder.misc_info("Counters", text=run.counters)
        for key, value in run.extra:
            builder.misc_info(key, text=value)


CONVERTERS = (TakayaConverter,)

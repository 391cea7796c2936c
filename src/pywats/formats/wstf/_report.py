"""A WSTF report: its sections read in order, assembled into a WSJF dict and validated by the report model.

Errors from the model name a WSJF path; they are mapped back to the source line the value came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from uuid import UUID

from ..._exceptions import ReportFormatError
from ...models import LengthMode, UUTReport, parse_report
from ...models.status import apply_statuses, report_result
from ...processes import ProcessInfo
from ._header import (
    HEADER_PATHS,
    Header,
    misc_info_dicts,
    process_code,
    required_value,
    root_data,
    start_times,
    sub_unit_dicts,
    text_value,
    uut_dict,
)
from ._lines import HEADER_START, MARKER_NAMES, STEPS_END, STEPS_START, UUT_END, Cursor, Line, fail, parse_status
from ._steps import Step, StepTree, read_columns, step_dict


@dataclass(frozen=True)
class Options:
    """The keyword arguments of :func:`loads` and :func:`loads_all`, checked."""

    lengths: LengthMode
    processes: tuple[ProcessInfo, ...]
    machine_name: str | None
    location: str
    purpose: str
    report_id: UUID | None

    @classmethod
    def checked(cls, lengths: LengthMode, processes: Sequence[ProcessInfo], *rest: Any) -> Options:
        # A wrong argument is the caller's bug, not bad input: a plain ValueError, before any reading.
        if lengths not in ("strict", "truncate"):
            raise ValueError(f"lengths must be 'strict' or 'truncate', not {lengths!r}")
        return cls(lengths, tuple(processes), *rest)


# ---------------------------------------------------------------------------------------------- assembly


def _report_dict(header: Header, root: Step, result: tuple[str, int] | None, options: Options,
                 lines: dict[str, int]) -> dict[str, Any]:  # fmt: skip
    """The WSJF dict of the report; ``lines`` learns the source line of every path, for error messages."""
    sn, pn = required_value(header, "SerialNumber"), required_value(header, "PartNumber")
    start, start_utc = start_times(header)
    station = header.get("StationName")
    machine = station[0] if station else options.machine_name
    if machine is None:
        fail(header.start_line, "the header has no StationName and no machine_name was given")
    for key, paths in HEADER_PATHS.items():
        if key in header.values:
            lines.update(dict.fromkeys(paths, header.values[key][1]))
    root.data = root_data(header)
    if "SoftwareName" in header.values:
        root.line = header.values["SoftwareName"][1]
    if result:
        root.status = {"D": "P"}.get(result[0], result[0])
    report = {
        "type": "T", "pn": pn[0], "sn": sn[0], "rev": text_value(header, "Revision") or "", "machineName": machine,
        "location": options.location, "purpose": options.purpose, "result": root.status or "P",
        "start": start.isoformat(), "startUTC": start_utc.isoformat(),
        "processCode": process_code(header, options.processes), "uut": uut_dict(header, lines),
        "subUnits": sub_unit_dicts(header, lines), "miscInfos": misc_info_dicts(header, lines),
        "root": step_dict(root, "root", lines),
    }  # fmt: skip
    if options.report_id is not None:
        report["id"] = str(options.report_id)
    return report


def _line_of(path: str | None, lines: dict[str, int]) -> int | None:
    """The source line of a WSJF path: that of its longest known prefix."""
    if not path:
        return None
    best = max((key for key in lines if path == key or path.startswith((key + ".", key + "["))), key=len, default=None)
    return lines.get(best) if best else None


def _build(header: Header, root: Step, result: tuple[str, int] | None, options: Options) -> UUTReport:
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


def _expect_marker(line: Line | None, expected: str, last_line: int) -> NoReturn:
    name = MARKER_NAMES[expected]
    if line is None:
        fail(last_line, f"the file ends before {name}")
    fail(line.number, f"expected {name} before this line ({line.cells[0]!r})")


def _read_report(cursor: Cursor, start: Line, options: Options) -> UUTReport:
    header = Header(start.number)
    while (line := cursor.take()) is not None and line.marker != STEPS_START:
        if line.marker:
            _expect_marker(line, STEPS_START, cursor.last_number)
        header.add(line)
    if line is None:
        _expect_marker(line, STEPS_START, cursor.last_number)
    columns_line = cursor.take()
    if columns_line is None or columns_line.marker:
        fail(columns_line.number if columns_line else cursor.last_number,
             "expected the column header line (StepType, StepName, ...) after --Step-Data-Start--")
    root = Step("sequence", 0, start.number, {}, None)
    tree = StepTree(read_columns(columns_line), root)
    while (line := cursor.take()) is not None and line.marker != STEPS_END:
        if line.marker or line.cells[0].lower() == "uutstatus":
            _expect_marker(line, STEPS_END, cursor.last_number)
        tree.add(line)
    if line is None:
        _expect_marker(line, STEPS_END, cursor.last_number)
    tree.finish(line.number)
    result = _read_footer(cursor, header)
    return _build(header, root, result, options)


def _read_footer(cursor: Cursor, header: Header) -> tuple[str, int] | None:
    """The UUTStatus line(s) up to --UUT-End--; the footer's status wins over the header's."""
    footer: tuple[str, int] | None = None
    while (line := cursor.take()) is not None and line.marker != UUT_END:
        if line.marker:
            _expect_marker(line, UUT_END, cursor.last_number)
        if line.cells[0].lower() != "uutstatus":
            fail(line.number, f"only a UUTStatus line may stand between --Step-Data-End-- and --UUT-End--, "
                              f"not {line.cells[0]!r}")  # fmt: skip
        if len(line.cells) > 2:
            fail(line.number, f"UUTStatus has more than one value ({line.cells[2]!r} is left over)")
        if footer is not None:
            fail(line.number, f"UUTStatus is given twice in the footer (first on line {footer[1]})")
        footer = (line.cells[1] if len(line.cells) > 1 else "", line.number)
    if line is None:
        _expect_marker(line, UUT_END, cursor.last_number)
    results = [_result(*found) for found in (header.get("UUTStatus"), footer) if found and found[0]]
    return results[-1] if results else None


def _result(text: str, line: int) -> tuple[str, int]:
    letter = parse_status(text, line, "UUTStatus")
    if letter == "S":
        fail(line, "UUTStatus Skipped is not a report result (Passed, Failed, Error or Terminated)")
    return letter, line  # type: ignore[return-value]


def read_reports(lines: list[Line], options: Options) -> Iterator[tuple[int, UUTReport]]:
    """Each report of the file and the line its header starts on."""
    cursor = Cursor(lines)
    found = False
    while (line := cursor.take()) is not None:
        if line.marker != HEADER_START:
            fail(line.number, f"expected --Header-Start--, found {line.cells[0]!r}")
        found = True
        yield line.number, _read_report(cursor, line, options)
    if not found:
        fail(1, "the file holds no report (no --Header-Start--)")

"""The WSTF header: its lines as read, then what they mean (identity, process, start time, uut, sub-units).

Header values are kept with their line, so that :mod:`._report` can name the line of a value the model refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ...processes import ProcessInfo, code_for_name
from ._lines import Line, fail, parse_date, parse_integer, parse_number

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
class Header:
    """The header lines, read but not yet interpreted (a footer ``UUTStatus`` may still override one)."""

    start_line: int
    values: dict[str, tuple[str, int]] = field(default_factory=dict)
    comments: list[tuple[str, int]] = field(default_factory=list)
    sub_units: list[tuple[list[str], int]] = field(default_factory=list)
    misc: list[tuple[str, str, int]] = field(default_factory=list)

    def add(self, line: Line) -> None:
        key, values = line.cells[0], line.cells[1:]
        if not key:
            fail(line.number, "a header line needs a key in its first cell")
        if key.lower() == "subunit":
            if len(values) > 4:
                fail(line.number, f"Subunit has {len(values)} values; expected partType, pn, sn and rev")
            self.sub_units.append((values, line.number))
            return
        if key.lower() == "steptype":
            fail(line.number, "a column header line before --Step-Data-Start--")
        if len(values) > 1:
            fail(line.number, f"header {key} has more than one value ({values[1]!r} is left over; "
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
            fail(line, f"{key} is given twice (first on line {self.values[key][1]})")
        self.values[key] = (value, line)

    def get(self, key: str) -> tuple[str, int] | None:
        """The value of a key and its line, or None when the key is absent or empty."""
        found = self.values.get(key)
        return found if found and found[0] else None


# ---------------------------------------------------------------------------------------------- interpretation


def required_value(header: Header, key: str) -> tuple[str, int]:
    found = header.get(key)
    if found is None:
        if key in header.values:
            fail(header.values[key][1], f"{key} is empty")
        fail(header.start_line, f"the header has no {key}")
    return found


def text_value(header: Header, key: str) -> str | None:
    found = header.get(key)
    return found[0] if found else None


def process_code(header: Header, processes: tuple[ProcessInfo, ...]) -> int:
    if code := header.get("OperationTypeCode"):
        return parse_integer(code[0], code[1], "OperationTypeCode")
    if name := header.get("OperationTypeName"):
        found = code_for_name(name[0], processes)
        if found is None:
            known = ", ".join(repr(process.name) for process in processes)
            fail(name[1], f"OperationTypeName {name[0]!r} is not a known process (names are case-sensitive; "
                          f"known: {known})")  # fmt: skip
        return found
    fail(header.start_line, "the header has neither OperationTypeCode nor OperationTypeName")


def start_times(header: Header) -> tuple[datetime, datetime]:
    """``start`` (with the station's offset) and ``startUTC``."""
    utc_cell, local_cell = header.get("UTCStartDateTime"), header.get("StartDateTime")
    if utc_cell is None and local_cell is None:
        fail(header.start_line, "the header has neither UTCStartDateTime nor StartDateTime")
    utc = local = None
    if utc_cell:
        utc = parse_date(*utc_cell, "UTCStartDateTime")
        utc = utc.replace(tzinfo=timezone.utc) if utc.tzinfo is None else utc.astimezone(timezone.utc)
    if local_cell:
        local = parse_date(*local_cell, "StartDateTime")
    if utc is None:
        start = local.astimezone() if local.tzinfo is None else local  # type: ignore[union-attr]
        return start, start.astimezone(timezone.utc)
    if local is None:
        return utc, utc
    if local.tzinfo is not None:
        return local, utc
    minutes = round((local - utc.replace(tzinfo=None)).total_seconds() / 60)
    if abs(minutes) > 14 * 60:
        fail(local_cell[1], "StartDateTime and UTCStartDateTime are more than 14 hours apart")  # type: ignore[index]
    return utc.astimezone(timezone(timedelta(minutes=minutes))), utc


# Where a header value lands in WSJF, to name its line when the model refuses it (e.g. too long).
HEADER_PATHS = {
    "SerialNumber": ("sn",), "PartNumber": ("pn",), "Revision": ("rev",), "StationName": ("machineName",),
    "OperatorName": ("uut.user",), "BatchSerialNumber": ("uut.batchSN",), "FixtureId": ("uut.fixtureId",),
    "ErrorMessage": ("uut.errorMessage",), "SoftwareName": ("root.seqCall.path", "root.seqCall.name"),
    "SoftwareVersion": ("root.seqCall.version",),
}  # fmt: skip


def _parsed(header: Header, key: str, parse: Any) -> Any:
    found = header.get(key)
    return parse(found[0], found[1], key) if found else None


def uut_dict(header: Header, lines: dict[str, int]) -> dict[str, Any]:
    if header.comments:
        lines["uut.comment"] = header.comments[0][1]
    return {
        "user": text_value(header, "OperatorName"), "batchSN": text_value(header, "BatchSerialNumber"),
        "fixtureId": text_value(header, "FixtureId"), "errorMessage": text_value(header, "ErrorMessage"),
        "comment": "\n".join(value for value, _ in header.comments) if header.comments else None,
        "execTime": _parsed(header, "ExecutionTime", parse_number),
        "errorCode": _parsed(header, "ErrorCode", parse_integer),
        "testSocketIndex": _parsed(header, "TestSocketIndex", parse_integer),
    }  # fmt: skip


def root_data(header: Header) -> dict[str, Any]:
    """The root sequence call: named after the software (its path), or ``MainSequence`` as in TestStand."""
    software, version = text_value(header, "SoftwareName"), text_value(header, "SoftwareVersion")
    file_name = re.split(r"[\\/]", software)[-1] if software else "MainSequence"
    seq_call = {"path": software, "name": file_name, "version": version}
    return {"name": software or "MainSequence", "stepType": "SequenceCall", "seqCall": seq_call}


def sub_unit_dicts(header: Header, lines: dict[str, int]) -> list[dict[str, Any]]:
    sub_units = []
    for index, (cells, line) in enumerate(header.sub_units):
        part_type, pn, sn, rev = (cells + [""] * 4)[:4]
        if not pn or not sn:
            fail(line, "a Subunit line needs partType, pn and sn (and optionally rev)")
        lines[f"subUnits[{index}]"] = line
        sub_units.append({"partType": part_type, "pn": pn, "sn": sn, "rev": rev or None})
    return sub_units


def misc_info_dicts(header: Header, lines: dict[str, int]) -> list[dict[str, Any]]:
    for index, (_, _, line) in enumerate(header.misc):
        lines[f"miscInfos[{index}]"] = line
    return [{"description": key, "text": value} for key, value, _ in header.misc]

"""The Production area's serial number pools: types, take, range and reference lookups, export and upload.

A *type* is a pool. Its ``format`` is a mask: ``X`` a hex digit, ``#`` a decimal digit, anything else
literal (``XX:XX:XX:XX:XX:XX``, ``SN-########``). A serial number that fits the mask has an *ordinal* (its
digits as a number), which orders the pool and says what "in sequence" means.

Rules:

1. **Never twice.** A take runs in one write transaction (``BEGIN IMMEDIATE`` under the storage's lock): it
   picks free numbers and marks them taken before anyone else can read the pool. Concurrent takes, from
   threads or processes, get disjoint sets.
2. **Where numbers come from.** Free numbers uploaded with ``PUT /api/Production/SerialNumbers`` are used
   first, lowest first. A type with a range (the seeded ``MACAddress`` and ``SerialNumber``) then generates
   new ones past the highest it generated, skipping any that were uploaded; an upload-only type
   (``IMEI``) just runs out. "Not enough free numbers" takes what there is, as WATS does.
3. **In sequence.** ``onlyInSequence`` takes consecutive ordinals only, or answers 400.
4. **Answers.** Take and export answer XML (``<SerialNumbers><SN id="..." .../></SerialNumbers>``) or CSV (a
   header line, then one number per line) as ``format`` asks, XML by default; the range and reference
   lookups answer JSON records. WATS types all of these only as "object"; these shapes are the emulator's.

Seeded types are created at start (the public API has no call to create one). Type names and serial numbers
are compared without regard to case.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from ..errors import ApiError
from ..state import EmulatorState, get_state
from ..uploads import one_file
from ._checks import date_param, now_text

router = APIRouter(tags=["Production"])

SCHEMA = """
CREATE TABLE IF NOT EXISTS serial_number_types (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    description TEXT,
    format TEXT NOT NULL,           -- the mask: X hex digit, # decimal digit, other characters literal
    regex TEXT,
    identifier INTEGER NOT NULL,
    identifier_name TEXT,
    range_first INTEGER,            -- the ordinals a type generates (NULL: upload only)
    range_last INTEGER,
    range_next INTEGER
);
CREATE TABLE IF NOT EXISTS serial_numbers (
    type TEXT NOT NULL COLLATE NOCASE,
    address TEXT NOT NULL COLLATE NOCASE,
    ordinal INTEGER,                -- NULL when the number does not fit the type's mask
    generated TEXT NOT NULL,        -- UTC, when it entered the pool
    taken INTEGER NOT NULL DEFAULT 0,
    taken_utc TEXT,
    ref_sn TEXT COLLATE NOCASE,
    ref_pn TEXT COLLATE NOCASE,
    station TEXT,
    PRIMARY KEY (type, address)
);
CREATE INDEX IF NOT EXISTS serial_numbers_free ON serial_numbers (type, taken, ordinal);
CREATE INDEX IF NOT EXISTS serial_numbers_ref ON serial_numbers (type, ref_sn, ref_pn)
"""

# identifier is one of 0, 1, 2 in the OpenAPI document (which does not name them); these are the emulator's.
SEEDED_TYPES = (
    ("SerialNumber", "Unit serial numbers SN-00000001 to SN-99999999", "SN-########", r"^SN-\d{8}$", 0,
     "Serial number", 1, 99_999_999),
    ("MACAddress", "Ethernet MAC addresses (emulator pool 00:50:C2:00:00:00 to 00:50:C2:00:FF:FF)",
     "XX:XX:XX:XX:XX:XX", r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$", 1, "MAC address", 0x0050C2000000, 0x0050C200FFFF),
    ("IMEI", "IMEI numbers, uploaded (no range)", "###############", r"^\d{15}$", 2, "IMEI", None, None),
)  # fmt: skip

FORMATS = ("XML", "CSV")
MAX_TAKE = 10_000
RECORD_FIELDS = ("serialNumber", "serialNumberType", "taken", "refSN", "refPN", "stationName", "generatedUtc",
                 "takenUtc")  # fmt: skip


def init(state: EmulatorState) -> None:
    state.storage.ensure_schema(SCHEMA)
    with state.storage.write() as connection:
        connection.executemany(
            "INSERT OR IGNORE INTO serial_number_types (name, description, format, regex, identifier, identifier_name,"
            " range_first, range_last, range_next) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*seed, seed[6]) for seed in SEEDED_TYPES],
        )  # fmt: skip


@dataclass(frozen=True)
class Mask:
    """A type's ``format``: turns ordinals into serial numbers and back."""

    text: str

    @property
    def base(self) -> int:
        return 16 if "X" in self.text else 10

    @property
    def width(self) -> int:
        return sum(char in "X#" for char in self.text)

    def format(self, ordinal: int) -> str:
        digits = format(ordinal, "X" if self.base == 16 else "d").rjust(self.width, "0")
        if len(digits) > self.width:
            raise ValueError(f"{ordinal} does not fit the mask {self.text}")
        feed = iter(digits)
        return "".join(next(feed) if char in "X#" else char for char in self.text)

    def parse(self, address: str) -> int | None:
        """The ordinal of ``address``, or None when it does not fit the mask."""
        if self.width == 0 or len(address) != len(self.text):
            return None
        digits = []
        for mask_char, char in zip(self.text, address):
            if mask_char in "X#":
                if char.upper() not in ("0123456789ABCDEF" if mask_char == "X" else "0123456789"):
                    return None
                digits.append(char)
            elif mask_char.lower() != char.lower():
                return None
        return int("".join(digits), self.base)


def pool_type(connection: sqlite3.Connection | None, state: EmulatorState, name: str) -> sqlite3.Row:
    """The type called ``name``; 404 when there is none."""
    sql, params = "SELECT * FROM serial_number_types WHERE name = ?", (name,)
    row = connection.execute(sql, params).fetchone() if connection is not None else next(
        iter(state.storage.read(sql, params)), None)  # fmt: skip
    if row is None:
        names = ", ".join(r["name"] for r in state.storage.read("SELECT name FROM serial_number_types ORDER BY name"))
        raise ApiError(404, f"Serial number type '{name}' was not found (types: {names}).")
    return row


def check_format(value: str | None, default: str = "XML") -> str:
    chosen = (value or default).strip().upper()
    if chosen not in FORMATS:
        raise ApiError(400, f"format must be XML or CSV, not '{value}'.")
    return chosen


# -- answers --------------------------------------------------------------------------------------------------


def record(row: sqlite3.Row, type_name: str) -> dict[str, Any]:
    return {
        "serialNumber": row["address"], "serialNumberType": type_name, "taken": bool(row["taken"]),
        "refSN": row["ref_sn"], "refPN": row["ref_pn"], "stationName": row["station"],
        "generatedUtc": row["generated"], "takenUtc": row["taken_utc"],
    }  # fmt: skip


def as_xml(records: list[dict[str, Any]], type_name: str) -> str:
    lines = [f"<SerialNumbers type={quoteattr(type_name)}>"]
    for item in records:
        attributes = " ".join(f"{key}={quoteattr(_text(item[key]))}" for key in RECORD_FIELDS[2:]
                              if item[key] is not None)  # fmt: skip
        lines.append(f"  <SN id={quoteattr(item['serialNumber'])} {attributes}/>")
    lines.append("</SerialNumbers>")
    return "\n".join(lines) + "\n"


def as_csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RECORD_FIELDS)
    for item in records:
        writer.writerow(["" if item[key] is None else _text(item[key]) for key in RECORD_FIELDS])
    return out.getvalue()


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def file_answer(records: list[dict[str, Any]], type_name: str, kind: str, filename: str | None = None) -> Response:
    body, media = (as_xml(records, type_name), "application/xml") if kind == "XML" else (as_csv(records), "text/csv")
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if filename else None
    return Response(body, media_type=media, headers=headers)


# -- reading --------------------------------------------------------------------------------------------------


@router.get("/api/Production/SerialNumbers/Types", summary="Gets the serial number types")
def get_types(state: EmulatorState = Depends(get_state)) -> JSONResponse:
    rows = state.storage.read("SELECT * FROM serial_number_types ORDER BY name")
    return JSONResponse([{
        "name": row["name"], "description": row["description"], "format": row["format"], "regEx": row["regex"],
        "identifier": row["identifier"], "identifierName": row["identifier_name"],
    } for row in rows])  # fmt: skip


def select_numbers(state: EmulatorState, type_row: sqlite3.Row, conditions: list[str], params: list[Any],
                   start_date: str | None, end_date: str | None) -> list[sqlite3.Row]:  # fmt: skip
    conditions = ["type = ?", *conditions, "(? IS NULL OR generated >= ?)", "(? IS NULL OR generated <= ?)"]
    return state.storage.read(
        f"SELECT * FROM serial_numbers WHERE {' AND '.join(conditions)} ORDER BY ordinal IS NULL, ordinal, address",
        [type_row["name"], *params, start_date, start_date, end_date, end_date],
    )  # fmt: skip


def range_condition(type_row: sqlite3.Row, start: str | None, end: str | None) -> tuple[list[str], list[Any]]:
    """SQL for "from ``start`` to ``end``": by ordinal when both fit the mask, else by text."""
    mask = Mask(type_row["format"])
    first, last = (mask.parse(start) if start else None), (mask.parse(end) if end else None)
    conditions: list[str] = []
    params: list[Any] = []
    for bound, ordinal, operator in ((start, first, ">="), (end, last, "<=")):
        if not bound:
            continue
        if ordinal is not None:
            conditions.append(f"ordinal {operator} ?")
            params.append(ordinal)
        else:
            conditions.append(f"address {operator} ?")
            params.append(bound)
    return conditions, params


@router.get("/api/Production/SerialNumbers/ByRange", summary="Get serial numbers in a range.")
def by_range(serialNumberType: str, startAddress: str, endAddress: str, startDate: str | None = None,
             endDate: str | None = None, state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    type_row = pool_type(None, state, serialNumberType)
    conditions, params = range_condition(type_row, startAddress, endAddress)
    rows = select_numbers(state, type_row, conditions, params, date_param(startDate, "startDate"),
                          date_param(endDate, "endDate"))  # fmt: skip
    return JSONResponse([record(row, type_row["name"]) for row in rows])


@router.get("/api/Production/SerialNumbers/ByReference", summary="Get taken serial numbers by reference.")
def by_reference(serialNumberType: str, refSN: str | None = None, refPN: str | None = None,
                 startDate: str | None = None, endDate: str | None = None,
                 state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    if not refSN and not refPN:
        raise ApiError(400, "Give refSN, refPN or both.")
    type_row = pool_type(None, state, serialNumberType)
    conditions = ["taken = 1", "(? IS NULL OR ref_sn = ?)", "(? IS NULL OR ref_pn = ?)"]
    rows = select_numbers(state, type_row, conditions, [refSN or None, refSN or None, refPN or None, refPN or None],
                          date_param(startDate, "startDate"), date_param(endDate, "endDate"))  # fmt: skip
    return JSONResponse([record(row, type_row["name"]) for row in rows])


@router.get("/api/Production/SerialNumbers", summary="Get an export of serial numbers as XML or CSV file.")
def export(serialNumberType: str, format: str, startAddress: str | None = None, endAddress: str | None = None,
           startDate: str | None = None, endDate: str | None = None,
           state: EmulatorState = Depends(get_state)) -> Response:  # fmt: skip
    kind = check_format(format)
    type_row = pool_type(None, state, serialNumberType)
    conditions, params = range_condition(type_row, startAddress, endAddress)
    rows = select_numbers(state, type_row, conditions, params, date_param(startDate, "startDate"),
                          date_param(endDate, "endDate"))  # fmt: skip
    records = [record(row, type_row["name"]) for row in rows]
    return file_answer(records, type_row["name"], kind, f"{type_row['name']}.{kind.lower()}")


# -- taking ---------------------------------------------------------------------------------------------------


def generate(connection: sqlite3.Connection, type_row: sqlite3.Row, count: int) -> int:
    """Add up to ``count`` new free numbers from the type's range (rule 2); how many were added."""
    ordinal = connection.execute("SELECT range_next FROM serial_number_types WHERE name = ?",
                                 (type_row["name"],)).fetchone()[0]  # fmt: skip
    if ordinal is None:
        return 0
    mask = Mask(type_row["format"])
    last, added, now = type_row["range_last"], 0, now_text()
    while added < count and ordinal <= last:
        inserted = connection.execute(
            "INSERT OR IGNORE INTO serial_numbers (type, address, ordinal, generated) VALUES (?, ?, ?, ?)",
            (type_row["name"], mask.format(ordinal), ordinal, now),
        ).rowcount  # fmt: skip
        added += inserted
        ordinal += 1
    connection.execute("UPDATE serial_number_types SET range_next = ? WHERE name = ?", (ordinal, type_row["name"]))
    return added


def free_in_sequence(connection: sqlite3.Connection, type_name: str, quantity: int) -> list[sqlite3.Row]:
    """The lowest ``quantity`` free numbers with consecutive ordinals, or [] when no run is that long."""
    rows = connection.execute(
        "WITH free AS (SELECT address, ordinal, ordinal - ROW_NUMBER() OVER (ORDER BY ordinal) AS run"
        " FROM serial_numbers WHERE type = ? AND taken = 0 AND ordinal IS NOT NULL),"
        " runs AS (SELECT run FROM free GROUP BY run HAVING COUNT(*) >= ? ORDER BY MIN(ordinal) LIMIT 1)"
        " SELECT address, ordinal FROM free WHERE run = (SELECT run FROM runs) ORDER BY ordinal LIMIT ?",
        (type_name, quantity, quantity),
    ).fetchall()  # fmt: skip
    return rows if len(rows) == quantity else []


def take(state: EmulatorState, type_name: str, quantity: int, ref_sn: str | None, ref_pn: str | None,
         station: str | None, in_sequence: bool) -> tuple[str, list[dict[str, Any]]]:  # fmt: skip
    """Pick and mark free numbers in one transaction (rule 1)."""
    with state.storage.write() as connection:
        type_row = pool_type(connection, state, type_name)
        name = type_row["name"]
        if in_sequence:
            chosen = free_in_sequence(connection, name, quantity)
            # Uploaded numbers inside the range can break a generated run: generate on until a run is long
            # enough or the range is used up.
            while not chosen and generate(connection, type_row, quantity):
                chosen = free_in_sequence(connection, name, quantity)
            if not chosen:
                raise ApiError(400, f"Serial number type '{name}' has no {quantity} free serial numbers in sequence.")
        else:
            free = connection.execute("SELECT COUNT(*) FROM serial_numbers WHERE type = ? AND taken = 0",
                                      (name,)).fetchone()[0]  # fmt: skip
            if free < quantity:
                generate(connection, type_row, quantity - free)
            chosen = connection.execute(
                "SELECT address FROM serial_numbers WHERE type = ? AND taken = 0 ORDER BY ordinal IS NULL, ordinal,"
                " address LIMIT ?", (name, quantity),
            ).fetchall()  # fmt: skip
        now = now_text()
        connection.executemany(
            "UPDATE serial_numbers SET taken = 1, taken_utc = ?, ref_sn = ?, ref_pn = ?, station = ?"
            " WHERE type = ? AND address = ? AND taken = 0",
            [(now, ref_sn, ref_pn, station, name, row["address"]) for row in chosen],
        )  # fmt: skip
        addresses = [row["address"] for row in chosen]
        marks = ", ".join("?" for _ in addresses)
        rows = connection.execute(
            f"SELECT * FROM serial_numbers WHERE type = ? AND address IN ({marks})"
            " ORDER BY ordinal IS NULL, ordinal, address", [name, *addresses],
        ).fetchall()  # fmt: skip
    return name, [record(row, name) for row in rows]


@router.post("/api/Production/SerialNumbers/Take", summary="Take free serial numbers.")
def take_numbers(
    serialNumberType: str, quantity: int, refSN: str | None = None, refPN: str | None = None,
    stationName: str | None = None, onlyInSequence: bool = False, format: str | None = None,
    state: EmulatorState = Depends(get_state),
) -> Response:  # fmt: skip
    kind = check_format(format)
    if not 1 <= quantity <= MAX_TAKE:
        raise ApiError(400, f"quantity must be from 1 to {MAX_TAKE}, not {quantity}.")
    name, records = take(state, serialNumberType, quantity, refSN or None, refPN or None, stationName or None,
                         onlyInSequence)  # fmt: skip
    return file_answer(records, name, kind)


# -- uploading ------------------------------------------------------------------------------------------------


def numbers_in_file(content: bytes, kind: str) -> list[str]:
    """The serial numbers of an uploaded XML or CSV file (same shapes as the export writes)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, "The serial number file is not UTF-8 text.") from None
    if kind == "XML":
        try:
            root = ElementTree.fromstring(text)
        except ElementTree.ParseError as error:
            raise ApiError(400, f"The serial number file is not well-formed XML: {error}.") from None
        found = []
        for element in root.iter():
            if "id" in element.attrib:
                found.append(element.attrib["id"].strip())
            elif element is not root and not len(element) and (element.text or "").strip():
                found.append(element.text.strip())
        return found
    rows = [row for row in csv.reader(io.StringIO(text)) if row and row[0].strip()]
    if rows and rows[0][0].strip().lower() in ("serialnumber", "sn", "address", "id"):
        rows = rows[1:]
    return [row[0].strip() for row in rows]


def add_numbers(state: EmulatorState, type_name: str, numbers: list[str]) -> dict[str, int]:
    with state.storage.write() as connection:
        type_row = pool_type(connection, state, type_name)
        mask, pattern = Mask(type_row["format"]), type_row["regex"]
        rows, now = [], now_text()
        for index, number in enumerate(numbers, start=1):
            if pattern and not re.fullmatch(pattern, number):
                raise ApiError(400, f"Serial number {index} ('{number}') does not match the type's regEx {pattern}.")
            ordinal = mask.parse(number)
            rows.append((type_row["name"], mask.format(ordinal) if ordinal is not None else number, ordinal, now))
        before = connection.total_changes
        connection.executemany("INSERT OR IGNORE INTO serial_numbers (type, address, ordinal, generated) "
                               "VALUES (?, ?, ?, ?)", rows)  # fmt: skip
        added = connection.total_changes - before
    return {"added": added, "skipped": len(rows) - added}


@router.put("/api/Production/SerialNumbers", summary="Upload an XML or CSV file with serial numbers.")
async def upload(serialNumberType: str, format: str, request: Request,
                 state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    kind = check_format(format)
    file = await one_file(request)
    numbers = numbers_in_file(file.content, kind)
    if not numbers:
        raise ApiError(400, f"The {kind} file holds no serial numbers.")
    return JSONResponse(await run_in_threadpool(add_numbers, state, serialNumberType, numbers))

"""The Production area's units: phases, processes, parent/child relations, changes, batches, verification.

Rules:

1. A unit is one serial number of one part number (both compared without regard to case). A unit that has
   test reports but was never saved is registered on first use, as WATS registers units when their first
   report arrives: phase "Under production", revision and batch from its latest report.
2. Every change to a unit's parent, revision or phase (and every new unit) queues a ``UnitChange`` holding
   the new values, until ``DELETE /api/Production/Units/Changes/{id}`` acknowledges it.
3. Relations: a child has at most one parent, must be Finalized to be added, and may not be the parent or
   one of its ancestors. The emulator has no box builds: without ``checkPartNumber`` any child is accepted;
   with it, the child's part number (and revision, ``*`` and ``?`` as wildcards) must match.
4. Unit verification has no configured rules here: the rule is "every test process the unit has a report
   in, in process code order". Grades: ``A`` passed every process first time, in order, never repaired;
   ``B`` every process passed in its last run, never repaired; ``C`` the same after repairs; ``F`` a
   process's last run did not pass.

An unknown unit in the path or query is 404; a body referring to a unit that does not exist is 400.
"""

from __future__ import annotations

import fnmatch
import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from ..errors import ApiError
from ..headers import RESULT_WORDS
from ..state import EmulatorState, get_state
from ._checks import integer, json_body, json_list, json_object, text

router = APIRouter(tags=["Production"])

SCHEMA = """
CREATE TABLE IF NOT EXISTS production_units (
    sn TEXT NOT NULL COLLATE NOCASE,
    pn TEXT NOT NULL COLLATE NOCASE,
    revision TEXT,
    parent_sn TEXT COLLATE NOCASE,
    parent_pn TEXT COLLATE NOCASE,
    batch_number TEXT,
    serial_date TEXT,
    current_location TEXT,
    xml_data TEXT,
    phase INTEGER NOT NULL,
    process_code TEXT,
    tags TEXT,                      -- JSON list of {key, value}
    PRIMARY KEY (sn, pn)
);
CREATE INDEX IF NOT EXISTS production_units_parent ON production_units (parent_sn, parent_pn);
CREATE TABLE IF NOT EXISTS production_unit_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sn TEXT NOT NULL,
    new_parent_sn TEXT,
    new_pn TEXT,
    new_revision TEXT,
    new_phase INTEGER
);
CREATE TABLE IF NOT EXISTS production_batches (
    batch_number TEXT PRIMARY KEY COLLATE NOCASE,
    batch_size INTEGER
)
"""

PHASES = {
    1: "Unknown", 2: "Under production", 4: "Production repair", 8: "Service repair", 16: "Finalized",
    32: "Scrapped", 64: "Extended test", 128: "Customization", 256: "Repaired", 512: "Missing",
    1024: "In storage", 2048: "Shipped", 4098: "Under production - queued", 4100: "Production repair - queued",
    4104: "Service repair - queued",
}  # fmt: skip
UNDER_PRODUCTION = 2
FINALIZED = 16
MAX_DEPTH = 20  # sub unit levels returned; relations are loop-free, this only bounds the answer


def init(state: EmulatorState) -> None:
    state.storage.ensure_schema(SCHEMA)


def ok() -> JSONResponse:
    """The answer to a command: 200 with an empty JSON object (the document types these answers as "object")."""
    return JSONResponse({})


# -- units ----------------------------------------------------------------------------------------------------


def find_unit(connection: sqlite3.Connection, sn: str, pn: str) -> sqlite3.Row | None:
    """The unit row, registering a unit known only from its reports (rule 1); None when there is neither."""
    row = connection.execute("SELECT * FROM production_units WHERE sn = ? AND pn = ?", (sn, pn)).fetchone()
    if row is not None:
        return row
    report = connection.execute(
        "SELECT sn, pn, rev, batch_number FROM reports WHERE sn = ? COLLATE NOCASE AND pn = ? COLLATE NOCASE"
        " AND type = 'T' ORDER BY start_utc DESC LIMIT 1", (sn, pn),
    ).fetchone()  # fmt: skip
    if report is None:
        return None
    connection.execute(
        "INSERT INTO production_units (sn, pn, revision, batch_number, phase) VALUES (?, ?, ?, ?, ?)",
        (report["sn"], report["pn"], report["rev"], report["batch_number"], UNDER_PRODUCTION),
    )
    record_change(connection, report["sn"], report["pn"])
    return connection.execute("SELECT * FROM production_units WHERE sn = ? AND pn = ?", (sn, pn)).fetchone()


def existing_unit(connection: sqlite3.Connection, sn: str, pn: str, what: str = "Unit") -> sqlite3.Row:
    row = find_unit(connection, sn, pn)
    if row is None:
        raise ApiError(404, f"{what} '{sn}' with part number '{pn}' was not found.")
    return row


def record_change(connection: sqlite3.Connection, sn: str, pn: str) -> None:
    """Queue a UnitChange with the unit's values as they are now (rule 2)."""
    unit = connection.execute("SELECT * FROM production_units WHERE sn = ? AND pn = ?", (sn, pn)).fetchone()
    connection.execute(
        "INSERT INTO production_unit_changes (sn, new_parent_sn, new_pn, new_revision, new_phase)"
        " VALUES (?, ?, ?, ?, ?)", (unit["sn"], unit["parent_sn"], unit["pn"], unit["revision"], unit["phase"]),
    )  # fmt: skip


def unit_json(connection: sqlite3.Connection, row: sqlite3.Row, depth: int = 0) -> dict[str, Any]:
    """A ``Unit`` with its sub units."""
    children = connection.execute(
        "SELECT * FROM production_units WHERE parent_sn = ? AND parent_pn = ? ORDER BY sn", (row["sn"], row["pn"])
    ).fetchall()  # fmt: skip
    return {
        "serialNumber": row["sn"],
        "partNumber": row["pn"],
        "revision": row["revision"],
        "parentSerialNumber": row["parent_sn"],
        "batchNumber": row["batch_number"],
        "serialDate": row["serial_date"],
        "currentLocation": row["current_location"],
        "xmlData": row["xml_data"],
        "unitPhaseId": row["phase"],
        "unitPhase": PHASES.get(row["phase"]),
        "processCode": row["process_code"],
        "tags": json.loads(row["tags"]) if row["tags"] else [],
        "productRevision": None,
        "product": None,
        "subUnits": [unit_json(connection, child, depth + 1) for child in children] if depth < MAX_DEPTH else [],
    }


def check_phase(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in PHASES:
        known = ", ".join(f"{code} ({name})" for code, name in PHASES.items())
        raise ApiError(400, f"{where} {json.dumps(value)} is not a unit phase. Phases: {known}.")
    return value


def phase_of(item: Mapping[str, Any], where: str) -> int | None:
    """``unitPhaseId``, or the phase named by ``unitPhase``."""
    if item.get("unitPhaseId") is not None:
        return check_phase(item["unitPhaseId"], f"{where}.unitPhaseId")
    name = text(item, "unitPhase", where)
    if name is None:
        return None
    for code, known in PHASES.items():
        if known.lower() == name.strip().lower():
            return code
    raise ApiError(400, f"{where}.unitPhase '{name}' is not a unit phase name ({', '.join(PHASES.values())}).")


def is_ancestor(connection: sqlite3.Connection, candidate: tuple[str, str], unit: tuple[str, str]) -> bool:
    """Whether ``candidate`` is ``unit`` or one of its parents, grandparents..."""
    current: tuple[str, str] | None = unit
    for _ in range(10_000):
        if current is None:
            return False
        if current[0].lower() == candidate[0].lower() and current[1].lower() == candidate[1].lower():
            return True
        row = connection.execute("SELECT parent_sn, parent_pn FROM production_units WHERE sn = ? AND pn = ?",
                                 current).fetchone()  # fmt: skip
        current = (row["parent_sn"], row["parent_pn"]) if row is not None and row["parent_sn"] else None
    return True  # pragma: no cover - a loop already in the data: refuse to add to it


def resolve_parent(connection: sqlite3.Connection, parent_sn: str, where: str) -> tuple[str, str]:
    """The unit a body's ``parentSerialNumber`` means (it carries no part number: the serial must be unique)."""
    rows = connection.execute("SELECT sn, pn FROM production_units WHERE sn = ?", (parent_sn,)).fetchall()
    if not rows:
        raise ApiError(400, f"{where}.parentSerialNumber '{parent_sn}' is not a unit.")
    if len(rows) > 1:
        raise ApiError(400, f"{where}.parentSerialNumber '{parent_sn}' is the serial number of "
                            f"{len(rows)} units; set the relation with AddChildUnit instead.")  # fmt: skip
    return rows[0]["sn"], rows[0]["pn"]


def save_unit(connection: sqlite3.Connection, item: Mapping[str, Any], where: str) -> None:
    sn = text(item, "serialNumber", where, required=True, max_length=100)
    pn = text(item, "partNumber", where, required=True, max_length=100)
    tags = item.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(tag, dict) for tag in tags)):
        raise ApiError(400, f"{where}.tags must be a list of {{key, value}} objects.")
    values: dict[str, Any] = {
        "revision": text(item, "revision", where),
        "batch_number": text(item, "batchNumber", where),
        "serial_date": text(item, "serialDate", where),
        "current_location": text(item, "currentLocation", where),
        "xml_data": text(item, "xmlData", where),
        "phase": phase_of(item, where),
        "process_code": None if item.get("processCode") is None else str(item["processCode"]),
        "tags": None if tags is None else json.dumps([{"key": t.get("key"), "value": t.get("value")} for t in tags]),
    }
    parent_sn = text(item, "parentSerialNumber", where)
    if parent_sn:
        values["parent_sn"], values["parent_pn"] = parent = resolve_parent(connection, parent_sn, where)
        if is_ancestor(connection, (sn, pn), parent):
            raise ApiError(400, f"{where}: unit '{sn}' cannot be its own parent or ancestor.")
    given = {column: value for column, value in values.items() if value is not None}
    before = find_unit(connection, sn, pn)
    if before is None:
        given.setdefault("phase", UNDER_PRODUCTION)
        columns = ["sn", "pn", *given]
        connection.execute(f"INSERT INTO production_units ({', '.join(columns)}) VALUES "
                           f"({', '.join('?' for _ in columns)})", [sn, pn, *given.values()])  # fmt: skip
        record_change(connection, sn, pn)
        return
    if given:
        assignments = ", ".join(f"{column} = ?" for column in given)
        connection.execute(f"UPDATE production_units SET {assignments} WHERE sn = ? AND pn = ?",
                           [*given.values(), sn, pn])  # fmt: skip
    watched = ("revision", "phase", "parent_sn", "parent_pn")
    if any(column in given and given[column] != before[column] for column in watched):
        record_change(connection, sn, pn)


@router.get("/api/Production/Unit/{serialNumber}/{partNumber}", summary="PREVIEW - Get unit information.")
def get_unit(serialNumber: str, partNumber: str, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    with state.storage.write() as connection:  # a unit known from its reports is registered on first use
        return JSONResponse(unit_json(connection, existing_unit(connection, serialNumber, partNumber)))


@router.put("/api/Production/Units", summary="Add or update units by serial number.")
async def put_units(request: Request, state: EmulatorState = Depends(get_state)) -> Response:
    items = json_list(await json_body(request), "The body")
    if not items:
        raise ApiError(400, "The body is an empty list: send at least one unit.")

    def save() -> None:
        with state.storage.write() as connection:  # all or nothing
            for index, item in enumerate(items):
                save_unit(connection, json_object(item, f"units[{index}]"), f"units[{index}]")

    await run_in_threadpool(save)
    return ok()


@router.put("/api/Production/SetUnitPhase", summary="Set a unit's current phase.")
def set_unit_phase(serialNumber: str, partNumber: str, phase: int,
                   state: EmulatorState = Depends(get_state)) -> Response:  # fmt: skip
    check_phase(phase, "phase")
    with state.storage.write() as connection:
        unit = existing_unit(connection, serialNumber, partNumber)
        if unit["phase"] != phase:
            connection.execute("UPDATE production_units SET phase = ? WHERE sn = ? AND pn = ?",
                               (phase, unit["sn"], unit["pn"]))  # fmt: skip
            record_change(connection, unit["sn"], unit["pn"])
    return ok()


@router.put("/api/Production/SetUnitProcess", summary="Set a unit's current process.")
def set_unit_process(serialNumber: str, partNumber: str, processName: str,
                     state: EmulatorState = Depends(get_state)) -> Response:  # fmt: skip
    process = next((row for row in state.storage.processes() if row["name"] == processName), None)
    if process is None:
        raise ApiError(400, f"processName '{processName}' is not a process on this server "
                            "(names are case-sensitive; GET /api/App/Processes lists them).")  # fmt: skip
    with state.storage.write() as connection:
        unit = existing_unit(connection, serialNumber, partNumber)
        connection.execute("UPDATE production_units SET process_code = ? WHERE sn = ? AND pn = ?",
                           (str(process["code"]), unit["sn"], unit["pn"]))  # fmt: skip
    return ok()


# -- changes --------------------------------------------------------------------------------------------------


@router.get("/api/Production/Units/Changes", summary="Get unit changes not yet acknowledged.")
def get_unit_changes(maxCount: int, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    if maxCount < 1:
        raise ApiError(400, f"maxCount must be at least 1, not {maxCount}.")
    rows = state.storage.read("SELECT * FROM production_unit_changes ORDER BY id LIMIT ?", (maxCount,))
    return JSONResponse([{
        "id": row["id"], "unitSerialNumber": row["sn"], "newParentSerialNumber": row["new_parent_sn"],
        "newPartNumber": row["new_pn"], "newRevision": row["new_revision"], "newUnitPhaseId": row["new_phase"],
    } for row in rows])  # fmt: skip


@router.delete("/api/Production/Units/Changes/{id}", summary="Delete a unit change once it as been handled.")
def delete_unit_change(id: int, state: EmulatorState = Depends(get_state)) -> Response:
    with state.storage.write() as connection:
        if connection.execute("DELETE FROM production_unit_changes WHERE id = ?", (id,)).rowcount == 0:
            raise ApiError(404, f"Unit change {id} was not found (already deleted?).")
    return ok()


# -- parent/child relations -----------------------------------------------------------------------------------


def _matches(value: str | None, pattern: str) -> bool:
    return fnmatch.fnmatchcase((value or "").upper(), pattern.upper())


@router.post("/api/Production/AddChildUnit", summary="Create a parent/child relation between two units.")
def add_child_unit(
    parentSerialNumber: str, parentPartNumber: str, childSerialNumber: str, childPartNumber: str,
    checkPartNumber: str = "", checkRevision: str = "", state: EmulatorState = Depends(get_state),
) -> Response:  # fmt: skip
    with state.storage.write() as connection:
        parent = existing_unit(connection, parentSerialNumber, parentPartNumber, "Parent unit")
        child = existing_unit(connection, childSerialNumber, childPartNumber, "Child unit")
        child_name = f"Child unit '{child['sn']}' ({child['pn']})"
        if child["parent_sn"]:
            raise ApiError(400, f"{child_name} already has a parent: '{child['parent_sn']}' "
                                f"({child['parent_pn']}). Remove that relation first.")  # fmt: skip
        if child["phase"] != FINALIZED:
            raise ApiError(400, f"{child_name} is in phase '{PHASES.get(child['phase'])}'; "
                                "a child unit must be Finalized.")  # fmt: skip
        if is_ancestor(connection, (child["sn"], child["pn"]), (parent["sn"], parent["pn"])):
            raise ApiError(400, f"{child_name} is the parent unit or one of its ancestors: the relation would "
                                "make a loop.")  # fmt: skip
        if checkPartNumber.strip() and not _matches(child["pn"], checkPartNumber.strip()):
            raise ApiError(400, f"{child_name} does not have part number '{checkPartNumber}'.")
        if checkPartNumber.strip() and checkRevision.strip() and not _matches(child["revision"], checkRevision.strip()):
            raise ApiError(400, f"{child_name} has revision '{child['revision']}', not '{checkRevision}'.")
        connection.execute("UPDATE production_units SET parent_sn = ?, parent_pn = ? WHERE sn = ? AND pn = ?",
                           (parent["sn"], parent["pn"], child["sn"], child["pn"]))  # fmt: skip
        record_change(connection, child["sn"], child["pn"])
    return ok()


@router.post("/api/Production/RemoveChildUnit", summary="Removes the parent/child relation between two units.")
def remove_child_unit(
    parentSerialNumber: str, parentPartNumber: str, childSerialNumber: str, childPartNumber: str,
    state: EmulatorState = Depends(get_state),
) -> Response:  # fmt: skip
    with state.storage.write() as connection:
        parent = existing_unit(connection, parentSerialNumber, parentPartNumber, "Parent unit")
        child = existing_unit(connection, childSerialNumber, childPartNumber, "Child unit")
        related = (child["parent_sn"] or "").lower() == parent["sn"].lower() and \
            (child["parent_pn"] or "").lower() == parent["pn"].lower()  # fmt: skip
        if not related:
            raise ApiError(400, f"Unit '{child['sn']}' ({child['pn']}) is not a child of '{parent['sn']}' "
                                f"({parent['pn']}).")  # fmt: skip
        connection.execute("UPDATE production_units SET parent_sn = NULL, parent_pn = NULL WHERE sn = ? AND pn = ?",
                           (child["sn"], child["pn"]))  # fmt: skip
        record_change(connection, child["sn"], child["pn"])
    return ok()


@router.get("/api/Production/CheckChildUnits", summary="Verify the direct child units of a parent unit.")
def check_child_units(parentSerialNumber: str, parentPartNumber: str,
                      state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    with state.storage.write() as connection:
        parent = existing_unit(connection, parentSerialNumber, parentPartNumber, "Parent unit")
        children = connection.execute("SELECT * FROM production_units WHERE parent_sn = ? AND parent_pn = ? "
                                      "ORDER BY sn", (parent["sn"], parent["pn"])).fetchall()  # fmt: skip
    checked = []
    for child in children:
        valid = child["phase"] == FINALIZED
        checked.append({
            "serialNumber": child["sn"], "partNumber": child["pn"], "revision": child["revision"],
            "unitPhaseId": child["phase"], "isValid": valid,
            "message": None if valid else f"The child unit is in phase '{PHASES.get(child['phase'])}', not Finalized.",
        })  # fmt: skip
    return JSONResponse({"serialNumber": parent["sn"], "partNumber": parent["pn"],
                         "isValid": all(item["isValid"] for item in checked), "childUnits": checked})  # fmt: skip


# -- batches --------------------------------------------------------------------------------------------------


@router.put("/api/Production/Batches", summary="Add or update unit batches.")
async def put_batches(request: Request, state: EmulatorState = Depends(get_state)) -> Response:
    items = json_list(await json_body(request), "The body")
    rows = []
    for index, item in enumerate(items):
        where = f"batches[{index}]"
        batch = json_object(item, where)
        rows.append((text(batch, "batchNumber", where, required=True, max_length=100),
                     integer(batch, "batchSize", where, minimum=0)))  # fmt: skip
    if not rows:
        raise ApiError(400, "The body is an empty list: send at least one batch.")

    def save() -> None:
        with state.storage.write() as connection:
            connection.executemany(
                "INSERT INTO production_batches (batch_number, batch_size) VALUES (?, ?) ON CONFLICT (batch_number)"
                " DO UPDATE SET batch_size = COALESCE(excluded.batch_size, production_batches.batch_size)", rows,
            )  # fmt: skip

    await run_in_threadpool(save)
    return ok()


# -- verification ---------------------------------------------------------------------------------------------


def verification(rows: list[sqlite3.Row], repairs: dict[int, int]) -> dict[str, Any]:
    """``PublicUnitVerificationGrade`` from a unit's test reports (oldest first) and repairs per process."""
    by_process: dict[int, list[sqlite3.Row]] = {}
    for row in rows:
        by_process.setdefault(row["process_code"], []).append(row)
    results = []
    for index, code in enumerate(sorted(by_process)):
        runs = by_process[code]
        last = runs[-1]
        results.append({
            "processCode": code, "processName": last["process_name"], "processIndex": index,
            "status": RESULT_WORDS.get(last["result"], last["result"]), "startUtc": last["start_utc"],
            "stationName": last["station"], "totalCount": len(runs),
            "nonPassedCount": sum(run["result"] != "P" for run in runs), "repairCount": repairs.get(code, 0),
        })  # fmt: skip
    first_starts = [by_process[code][0]["start_utc"] for code in sorted(by_process)]
    first = all(by_process[code][0]["result"] == "P" for code in by_process)
    last = all(by_process[code][-1]["result"] == "P" for code in by_process)
    in_order = first_starts == sorted(first_starts)
    no_repairs = not any(repairs.values())
    if not results:  # registered, never tested: nothing is verified
        return {"status": "Unknown", "grade": None, "allProcessesExecutedInCorrectOrder": False,
                "allProcessesPassedFirstRun": False, "allProcessesPassedAnyRun": False,
                "allProcessesPassedLastRun": False, "noRepairs": no_repairs, "results": []}  # fmt: skip
    status = "Passed" if last else "Failed"
    grade = "F" if not last else "A" if first and in_order and no_repairs else "B" if no_repairs else "C"
    return {
        "status": status, "grade": grade, "allProcessesExecutedInCorrectOrder": in_order,
        "allProcessesPassedFirstRun": first, "allProcessesPassedAnyRun": all(
            any(run["result"] == "P" for run in runs) for runs in by_process.values()),
        "allProcessesPassedLastRun": last, "noRepairs": no_repairs, "results": results,
    }  # fmt: skip


@router.get("/api/Production/UnitVerification", summary="Verify a unit and return its grade.")
def unit_verification(serialNumber: str, partNumber: str | None = None,
                      state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    where = "sn = ? COLLATE NOCASE" + (" AND pn = ? COLLATE NOCASE" if partNumber else "")
    params = [serialNumber, partNumber] if partNumber else [serialNumber]
    tests = state.storage.read(f"SELECT process_code, process_name, result, start_utc, station FROM reports "
                               f"WHERE {where} AND type = 'T' ORDER BY start_utc, timestamp", params)  # fmt: skip
    repairs = state.storage.read(f"SELECT json_extract(body, '$.uur.processCode') AS code, COUNT(*) AS n FROM "
                                 f"reports WHERE {where} AND type = 'R' GROUP BY code", params)  # fmt: skip
    if not tests and not repairs:
        units = state.storage.read(f"SELECT 1 FROM production_units WHERE {where.replace(' COLLATE NOCASE', '')}",
                                   params)  # fmt: skip
        if not units:
            raise ApiError(404, f"Unit '{serialNumber}'" + (f" with part number '{partNumber}'" if partNumber else "")
                           + " has no reports and is not registered.")  # fmt: skip
    return JSONResponse(verification(tests, {row["code"]: row["n"] for row in repairs if row["code"] is not None}))

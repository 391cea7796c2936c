"""The Asset area of the WATS API: assets and their types, counts, calibration, maintenance, state and log.

Tables (created by :func:`init`): ``asset_types``, ``assets`` and ``asset_log``.

Behaviour, where the OpenAPI document leaves room:

- An asset is named by ``id`` or ``serialNumber`` in the query (both: they must name the same asset); an
  unknown one is 404. ``GET /api/Asset/{key}`` tries the asset id first, then the serial number.
- ``PUT /api/Asset`` updates the asset named by ``assetId`` (404 if unknown), else the one with that serial
  number, else creates one (state 1, In Operation, unless given). ``typeId`` must be an asset type and a
  parent (``parentAssetId`` / ``parentSerialNumber``) an asset that is not the asset or below it (else 400).
  Counts and calibration/maintenance dates in the body are ignored, as the spec says; next calibration and
  maintenance dates are computed from the type's intervals. Answers of the write endpoints are the asset as
  stored; ``PUT /api/Asset/Count`` answers its status (see :mod:`._asset_status`).
- The log gets a record for registering (1), each changed property (2, with ``property`` and ``value``),
  a state change (2, property ``state``), a reset (3), a calibration (4), a maintenance (5) and each
  message (0); ``user`` is the user part of the token. Counting does not write the log.
- ``DELETE /api/Asset`` deletes the log too; the asset's children move to its parent.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import quoteattr

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from ..errors import ApiError
from ..odata import EntitySchema, Field
from ..state import EmulatorState, get_state
from ._asset_status import next_due, status_json
from ._checks import (NAME_LENGTH, XML_NAME, Reader, boolean, date_param, guid, integer, json_body, json_list,
                      json_object, new_id, now_text, number, odata_list, request_user, text)  # fmt: skip

router = APIRouter(tags=["Asset"])

SCHEMA = """
CREATE TABLE IF NOT EXISTS asset_types (
    type_id TEXT PRIMARY KEY,
    type_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    running_count_limit INTEGER, total_count_limit INTEGER,
    maintenance_interval REAL, calibration_interval REAL,     -- days
    warning_threshold REAL, alarm_threshold REAL,            -- percent
    is_readonly INTEGER NOT NULL DEFAULT 0,
    icon TEXT
);
CREATE TABLE IF NOT EXISTS assets (
    asset_id TEXT PRIMARY KEY,
    serial_number TEXT NOT NULL UNIQUE COLLATE NOCASE,
    asset_name TEXT, part_number TEXT, revision TEXT,
    type_id TEXT NOT NULL REFERENCES asset_types (type_id),
    parent_asset_id TEXT REFERENCES assets (asset_id) ON DELETE SET NULL,
    client_id INTEGER,
    state INTEGER NOT NULL DEFAULT 1,
    description TEXT, location TEXT,
    first_seen TEXT NOT NULL, last_seen TEXT,
    last_maintenance TEXT, next_maintenance TEXT, last_calibration TEXT, next_calibration TEXT,
    total_count INTEGER NOT NULL DEFAULT 0,
    running_count INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]',       -- JSON [{key, value}]
    xml_data TEXT                          -- the same tags as <Root><Key Value=".."/></Root>
);
CREATE TABLE IF NOT EXISTS asset_log (
    log_id INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id TEXT NOT NULL,
    serial_number TEXT NOT NULL,
    log_date TEXT NOT NULL,
    user_name TEXT,
    log_type INTEGER NOT NULL,
    property TEXT, value TEXT, comment TEXT
);
CREATE INDEX IF NOT EXISTS asset_log_asset ON asset_log (asset_id)
"""

ASSETS = "assets AS a LEFT JOIN assets AS p ON p.asset_id = a.parent_asset_id"
ASSET_ROWS = f"SELECT a.*, p.serial_number AS parent_serial_number FROM {ASSETS}"

ASSET = EntitySchema("Asset", (
    Field("assetId", "a.asset_id", "string"), Field("parentAssetId", "a.parent_asset_id", "string"),
    Field("assetName", "a.asset_name", "string"), Field("serialNumber", "a.serial_number", "string"),
    Field("parentSerialNumber", "p.serial_number", "string"), Field("partNumber", "a.part_number", "string"),
    Field("revision", "a.revision", "string"), Field("typeId", "a.type_id", "guid"),
    Field("state", "a.state", "int"), Field("description", "a.description", "string"),
    Field("location", "a.location", "string"), Field("firstSeenDate", "a.first_seen", "datetime"),
    Field("lastSeenDate", "a.last_seen", "datetime"), Field("lastMaintenanceDate", "a.last_maintenance", "datetime"),
    Field("nextMaintenanceDate", "a.next_maintenance", "datetime"),
    Field("lastCalibrationDate", "a.last_calibration", "datetime"),
    Field("nextCalibrationDate", "a.next_calibration", "datetime"), Field("totalCount", "a.total_count", "int"),
    Field("runningCount", "a.running_count", "int"), Field("xmlData", "a.xml_data", "string"),
))  # fmt: skip
ASSET = EntitySchema("Asset", ASSET.fields, orderable=tuple(field.name for field in ASSET.fields))

TYPE_FIELDS = (
    Field("typeId", "type_id", "guid"), Field("typeName", "type_name", "string"),
    Field("runningCountLimit", "running_count_limit", "int"), Field("totalCountLimit", "total_count_limit", "int"),
    Field("maintenanceInterval", "maintenance_interval", "number"),
    Field("calibrationInterval", "calibration_interval", "number"),
    Field("warningThreshold", "warning_threshold", "number"), Field("alarmThreshold", "alarm_threshold", "number"),
    Field("isReadonly", "is_readonly", "bool"), Field("icon", "icon", "string"),
)  # fmt: skip
ASSET_TYPE = EntitySchema("AssetType", TYPE_FIELDS, orderable=tuple(field.name for field in TYPE_FIELDS))

LOG_FIELDS = (
    Field("logId", "log_id", "int"), Field("assetId", "asset_id", "string"),
    Field("serialNumber", "serial_number", "string"), Field("date", "log_date", "datetime"),
    Field("user", "user_name", "string"), Field("type", "log_type", "int"), Field("property", "property", "string"),
    Field("value", "value", "string"), Field("comment", "comment", "string"),
)  # fmt: skip
ASSET_LOG = EntitySchema("AssetLog", LOG_FIELDS, orderable=tuple(field.name for field in LOG_FIELDS))

MESSAGE, REGISTER, UPDATE, RESET_COUNT, CALIBRATION, MAINTENANCE = range(6)

# Body field → column, for the properties PUT /api/Asset may change (each change is logged by its field name).
ASSET_COLUMNS = {
    "serialNumber": "serial_number", "assetName": "asset_name", "partNumber": "part_number",
    "revision": "revision", "typeId": "type_id", "parentAssetId": "parent_asset_id", "ClientId": "client_id",
    "state": "state", "description": "description", "location": "location", "tags": "tags",
}  # fmt: skip


def init(state: EmulatorState) -> None:
    state.storage.ensure_schema(SCHEMA)


# -- JSON out -------------------------------------------------------------------------------------------


def type_json(row: sqlite3.Row) -> dict[str, Any]:
    return {field.name: (bool(row[field.sql]) if field.kind == "bool" else row[field.sql]) for field in TYPE_FIELDS}


def asset_json(row: sqlite3.Row, kind: sqlite3.Row | None) -> dict[str, Any]:
    """The public ``Asset`` model, with its tags and type."""
    return {
        "assetId": row["asset_id"], "parentAssetId": row["parent_asset_id"], "serialNumber": row["serial_number"],
        "parentSerialNumber": row["parent_serial_number"], "assetName": row["asset_name"],
        "partNumber": row["part_number"], "revision": row["revision"], "typeId": row["type_id"],
        "ClientId": row["client_id"], "state": row["state"], "description": row["description"],
        "location": row["location"], "firstSeenDate": row["first_seen"], "lastSeenDate": row["last_seen"],
        "lastMaintenanceDate": row["last_maintenance"], "nextMaintenanceDate": row["next_maintenance"],
        "lastCalibrationDate": row["last_calibration"], "nextCalibrationDate": row["next_calibration"],
        "totalCount": row["total_count"], "runningCount": row["running_count"], "tags": json.loads(row["tags"]),
        "assetType": type_json(kind) if kind is not None else None,
    }  # fmt: skip


def log_json(row: sqlite3.Row) -> dict[str, Any]:
    return {field.name: row[field.sql] for field in LOG_FIELDS}


# -- lookups --------------------------------------------------------------------------------------------


def _one(db: sqlite3.Connection, where: str, value: Any) -> sqlite3.Row | None:
    return db.execute(f"{ASSET_ROWS} WHERE {where}", (value,)).fetchone()


def _type(db: sqlite3.Connection, type_id: str) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM asset_types WHERE type_id = ?", (type_id,)).fetchone()


def _id_key(value: str) -> str:
    """Asset ids are GUIDs kept in lower case; a GUID given in upper case still finds its asset."""
    return value.strip().lower()


def find_asset(db: sqlite3.Connection, asset_id: str | None, serial_number: str | None) -> sqlite3.Row:
    """The asset named by the ``id`` / ``serialNumber`` query parameters: 400 for neither, 404 for unknown."""
    if not (asset_id or "").strip() and not (serial_number or "").strip():
        raise ApiError(400, "Name the asset with the id or serialNumber query parameter.")
    if (asset_id or "").strip():
        row = _one(db, "a.asset_id = ?", _id_key(asset_id))  # type: ignore[arg-type]
        if row is None:
            raise ApiError(404, f"Asset with id '{asset_id}' was not found.")
        if (serial_number or "").strip() and row["serial_number"].lower() != str(serial_number).lower():
            raise ApiError(400, f"id '{asset_id}' and serialNumber '{serial_number}' name different assets.")
        return row
    row = _one(db, "a.serial_number = ?", serial_number)
    if row is None:
        raise ApiError(404, f"Asset with serial number '{serial_number}' was not found.")
    return row


def _descendants(db: sqlite3.Connection, asset_id: str, depth: int = 0) -> list[sqlite3.Row]:
    """The assets below ``asset_id``, breadth first; ``depth`` 0 means every level."""
    found: list[sqlite3.Row] = []
    level, parents = 1, [asset_id]
    while parents and (depth == 0 or level <= depth):
        marks = ", ".join("?" for _ in parents)
        children = db.execute(f"{ASSET_ROWS} WHERE a.parent_asset_id IN ({marks}) ORDER BY a.serial_number",
                              parents).fetchall()  # fmt: skip
        found += children
        parents = [child["asset_id"] for child in children]
        level += 1
    return found


def write_log(db: sqlite3.Connection, asset: sqlite3.Row, user: str, kind: int, *, comment: str | None = None,
              property: str | None = None, value: Any = None) -> int:  # fmt: skip
    cursor = db.execute(
        "INSERT INTO asset_log (asset_id, serial_number, log_date, user_name, log_type, property, value, comment)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (asset["asset_id"], asset["serial_number"], now_text(), user, kind, property,
         None if value is None else str(value), comment),
    )  # fmt: skip
    return cursor.lastrowid  # type: ignore[return-value]


def reschedule(db: sqlite3.Connection, asset_id: str) -> sqlite3.Row:
    """Recompute the next calibration and maintenance dates from the type's intervals; the fresh row."""
    row = _one(db, "a.asset_id = ?", asset_id)
    kind = _type(db, row["type_id"])  # type: ignore[index]
    db.execute("UPDATE assets SET next_calibration = ?, next_maintenance = ? WHERE asset_id = ?", (
        next_due(row["last_calibration"], row["first_seen"], kind["calibration_interval"]),  # type: ignore[index]
        next_due(row["last_maintenance"], row["first_seen"], kind["maintenance_interval"]),  # type: ignore[index]
        asset_id,
    ))  # fmt: skip
    return _one(db, "a.asset_id = ?", asset_id)  # type: ignore[return-value]


# -- saving ---------------------------------------------------------------------------------------------


def _tags(data: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """``tags`` as stored JSON and as ``xmlData``; None when the body has no tags."""
    if data.get("tags") is None:
        return None
    tags = []
    for index, item in enumerate(json_list(data["tags"], "Asset.tags")):
        where = f"Asset.tags[{index}]"
        key = text(json_object(item, where), "key", where, required=True)
        if not XML_NAME.fullmatch(key):  # type: ignore[arg-type]  # it becomes an element name in xmlData
            raise ApiError(400, f"{where}.key must be an XML name (letters, digits, '_', '-', '.'), not '{key}'.")
        value = item.get("value")
        tags.append({"key": key, "value": None if value is None else str(value)})
    xml = "<Root>" + "".join(f"<{t['key']} Value={quoteattr(t['value'] or '')} />" for t in tags) + "</Root>"
    return json.dumps(tags), xml if tags else None


def _parent(db: sqlite3.Connection, data: Mapping[str, Any], asset_id: str | None) -> str | None:
    parent_id = text(data, "parentAssetId", "Asset")
    parent_sn = text(data, "parentSerialNumber", "Asset")
    if not parent_id and not parent_sn:
        return None
    parent = _one(db, "a.asset_id = ?", _id_key(parent_id)) if parent_id else _one(db, "a.serial_number = ?", parent_sn)
    if parent is None:
        raise ApiError(400, f"The parent asset '{parent_id or parent_sn}' does not exist.")
    if parent_id and parent_sn and parent["serial_number"].lower() != parent_sn.lower():
        # e.g. a fetched asset saved back with only parentSerialNumber changed: say so rather than guess
        raise ApiError(400, f"parentAssetId '{parent_id}' and parentSerialNumber '{parent_sn}' name different "
                            "assets; give one of them.")  # fmt: skip
    if asset_id is not None and (parent["asset_id"] == asset_id or
                                 any(row["asset_id"] == parent["asset_id"] for row in _descendants(db, asset_id))):
        raise ApiError(400, f"Asset '{parent['serial_number']}' cannot be the parent: it is the asset or below it.")
    return parent["asset_id"]


def save_asset(db: sqlite3.Connection, data: Any, user: str) -> sqlite3.Row:
    data = json_object(data, "Asset")
    serial = text(data, "serialNumber", "Asset", required=True, max_length=NAME_LENGTH)
    type_id = guid(data.get("typeId"), "Asset.typeId")
    if type_id is None:
        raise ApiError(400, "Asset.typeId is required: the id of an asset type (GET /api/Asset/Types).")
    if _type(db, type_id) is None:
        raise ApiError(400, f"Asset.typeId {type_id} is not an asset type (GET /api/Asset/Types lists them).")
    asset_id = (text(data, "assetId", "Asset") or "").strip() or None
    existing = _one(db, "a.asset_id = ?", _id_key(asset_id)) if asset_id else _one(db, "a.serial_number = ?", serial)
    if asset_id and existing is None:
        raise ApiError(404, f"Asset with id '{asset_id}' was not found (leave assetId empty to add an asset).")
    holder = _one(db, "a.serial_number = ?", serial)
    if holder is not None and existing is not None and holder["asset_id"] != existing["asset_id"]:
        raise ApiError(400, f"Asset.serialNumber '{serial}' is already the serial number of another asset.")
    values: dict[str, Any] = {
        "serial_number": serial, "asset_name": text(data, "assetName", "Asset"),
        "part_number": text(data, "partNumber", "Asset"), "revision": text(data, "revision", "Asset"),
        "type_id": type_id, "client_id": integer(data, "ClientId", "Asset"),
        "state": integer(data, "state", "Asset", choices=range(7)),
        "description": text(data, "description", "Asset"), "location": text(data, "location", "Asset"),
        "parent_asset_id": _parent(db, data, existing["asset_id"] if existing is not None else None),
    }  # fmt: skip
    tags = _tags(data)
    if tags is not None:
        values["tags"], values["xml_data"] = tags
    if existing is None:
        asset_id = new_id()
        values.update(asset_id=asset_id, first_seen=now_text(), state=1 if values["state"] is None else values["state"])
        values = {key: value for key, value in values.items() if value is not None}
        db.execute(f"INSERT INTO assets ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})",
                   list(values.values()))  # fmt: skip
        created: Any = _one(db, "a.asset_id = ?", asset_id)
        write_log(db, created, user, REGISTER, comment="Asset registered")
        return reschedule(db, asset_id)
    asset_id = existing["asset_id"]
    named = {ASSET_COLUMNS[key] for key in data if key in ASSET_COLUMNS}
    if not data.get("assetId"):  # found by serial number without case: keep its spelling
        named.discard("serial_number")
    if "parentSerialNumber" in data:
        named.add("parent_asset_id")
    if "tags" in named and tags is not None:
        named.add("xml_data")
    changes = {
        column: value for column, value in values.items()
        if column in named and not (value is None and column == "state") and value != existing[column]
    }  # fmt: skip
    if changes:
        db.execute(f"UPDATE assets SET {', '.join(f'{column} = ?' for column in changes)} WHERE asset_id = ?",
                   [*changes.values(), asset_id])  # fmt: skip
        for column, value in changes.items():
            if column != "xml_data":
                field = next(key for key, name in ASSET_COLUMNS.items() if name == column)
                write_log(db, existing, user, UPDATE, property=field, value=value)
    return reschedule(db, asset_id)


def save_type(db: sqlite3.Connection, data: Any) -> sqlite3.Row:
    data = json_object(data, "AssetType")
    name = text(data, "typeName", "AssetType", required=True, max_length=NAME_LENGTH)
    type_id = guid(data.get("typeId"), "AssetType.typeId")
    existing = (_type(db, type_id) if type_id else
                db.execute("SELECT * FROM asset_types WHERE type_name = ?", (name,)).fetchone())  # fmt: skip
    if type_id and existing is None:
        raise ApiError(404, f"Asset type {type_id} was not found (leave typeId empty to add a type).")
    if existing is not None and existing["is_readonly"]:
        raise ApiError(400, f"Asset type '{existing['type_name']}' is read-only.")
    values = {
        "type_name": name,
        "running_count_limit": integer(data, "runningCountLimit", "AssetType", minimum=0),
        "total_count_limit": integer(data, "totalCountLimit", "AssetType", minimum=0),
        "maintenance_interval": number(data, "maintenanceInterval", "AssetType"),
        "calibration_interval": number(data, "calibrationInterval", "AssetType"),
        "warning_threshold": number(data, "warningThreshold", "AssetType"),
        "alarm_threshold": number(data, "alarmThreshold", "AssetType"),
        "is_readonly": boolean(data, "isReadonly", "AssetType"), "icon": text(data, "icon", "AssetType"),
    }  # fmt: skip
    given = {field.sql for field in TYPE_FIELDS if field.name in data} | {"type_name"}
    values = {column: value for column, value in values.items() if column in given and not
              (value is None and column == "is_readonly")}  # fmt: skip
    try:
        if existing is None:
            type_id = new_id()
            values["type_id"] = type_id
            db.execute(f"INSERT INTO asset_types ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})",
                       list(values.values()))  # fmt: skip
        else:
            type_id = existing["type_id"]
            if not data.get("typeId"):  # found by name without case: keep its spelling
                values["type_name"] = existing["type_name"]
            db.execute(f"UPDATE asset_types SET {', '.join(f'{c} = ?' for c in values)} WHERE type_id = ?",
                       [*values.values(), type_id])  # fmt: skip
    except sqlite3.IntegrityError:
        raise ApiError(400, f"AssetType.typeName '{name}' is already the name of another asset type.") from None
    for row in db.execute("SELECT asset_id FROM assets WHERE type_id = ?", (type_id,)).fetchall():
        reschedule(db, row["asset_id"])  # the intervals may have changed
    return _type(db, type_id)  # type: ignore[return-value]


def _run(state: EmulatorState, work: Any, *args: Any) -> Any:
    with state.storage.write() as db:
        return work(db, *args)


def _with_type(db: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    return asset_json(row, _type(db, row["type_id"]))


# -- routes (static paths before /api/Asset/{key}) ------------------------------------------------------


@router.get("/api/Asset", summary="Returns a list of assets matching the specified filter.")
def query_assets(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    return JSONResponse(odata_list(request, state, ASSET, ASSETS, default_order="a.asset_id ASC"))


@router.put("/api/Asset", summary="Create or update an asset.")
async def put_asset(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    data, user = await json_body(request), request_user(request)

    def save(db: sqlite3.Connection) -> dict[str, Any]:
        return _with_type(db, save_asset(db, data, user))

    return JSONResponse(await run_in_threadpool(_run, state, save))


@router.delete("/api/Asset", summary="Delete the asset which has the specified identifier.")
def delete_asset(id: str | None = None, serialNumber: str | None = None,
                 state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    with state.storage.write() as db:
        asset = find_asset(db, id, serialNumber)
        db.execute("UPDATE assets SET parent_asset_id = ? WHERE parent_asset_id = ?",
                   (asset["parent_asset_id"], asset["asset_id"]))  # fmt: skip
        db.execute("DELETE FROM asset_log WHERE asset_id = ?", (asset["asset_id"],))
        db.execute("DELETE FROM assets WHERE asset_id = ?", (asset["asset_id"],))
    return JSONResponse({})


@router.get("/api/Asset/Types", summary="Returns a list of asset types matching the specified filter.")
def get_types(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    rows = odata_list(request, state, ASSET_TYPE, "asset_types", default_order="type_name ASC")
    for row in rows:
        if "isReadonly" in row:
            row["isReadonly"] = bool(row["isReadonly"])
    return JSONResponse(rows)


@router.put("/api/Asset/Types", summary="Create or update an asset type.")
async def put_type(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    data = await json_body(request)
    return JSONResponse(type_json(await run_in_threadpool(_run, state, save_type, data)))


@router.get("/api/Asset/Log", summary="Returns a list of asset log records matching the specified filter.")
def get_log(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    return JSONResponse(odata_list(request, state, ASSET_LOG, "asset_log", default_order="log_date DESC, log_id DESC"))


@router.put("/api/Asset/Count", summary="Increment the running and total count on an asset.")
def put_count(id: str | None = None, serialNumber: str | None = None, totalCount: int | None = None,
              incrementBy: int | None = None, incrementChildren: bool = False, cultureCode: str | None = None,
              state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    if (totalCount is None) == (incrementBy is None):
        raise ApiError(400, "Give either incrementBy or totalCount.")
    with state.storage.write() as db:
        asset = find_asset(db, id, serialNumber)
        step = incrementBy if incrementBy is not None else totalCount - asset["total_count"]  # type: ignore[operator]
        if step < 0:
            raise ApiError(400, f"Counts only go up: incrementBy must be at least 0, and totalCount at least the "
                                f"current total count ({asset['total_count']}).")  # fmt: skip
        ids = [asset["asset_id"]] + ([row["asset_id"] for row in _descendants(db, asset["asset_id"])]
                                     if incrementChildren else [])  # fmt: skip
        db.executemany("UPDATE assets SET running_count = running_count + ?, total_count = total_count + ?,"
                       " last_seen = ? WHERE asset_id = ?", [(step, step, now_text(), one) for one in ids])  # fmt: skip
        fresh = _one(db, "a.asset_id = ?", asset["asset_id"])
        return JSONResponse(status_json(fresh, _type(db, fresh["type_id"])))  # type: ignore[index,arg-type]


def _dated_event(state: EmulatorState, request: Request, kind: int, column: str, id: str | None,
                 serial: str | None, when: str | None, comment: str | None) -> JSONResponse:  # fmt: skip
    moment = date_param(when, "dateTime")
    with state.storage.write() as db:
        asset = find_asset(db, id, serial)
        db.execute(f"UPDATE assets SET {column} = ? WHERE asset_id = ?", (moment or now_text(), asset["asset_id"]))
        write_log(db, asset, request_user(request), kind, comment=comment)
        return JSONResponse(_with_type(db, reschedule(db, asset["asset_id"])))


@router.post("/api/Asset/Calibration", summary="Inform that an asset has been calibrated.")
def post_calibration(request: Request, id: str | None = None, serialNumber: str | None = None,
                     dateTime: str | None = None, comment: str | None = None,
                     state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    return _dated_event(state, request, CALIBRATION, "last_calibration", id, serialNumber, dateTime, comment)


@router.post("/api/Asset/Maintenance", summary="Inform that an asset has had maintenance.")
def post_maintenance(request: Request, id: str | None = None, serialNumber: str | None = None,
                     dateTime: str | None = None, comment: str | None = None,
                     state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    return _dated_event(state, request, MAINTENANCE, "last_maintenance", id, serialNumber, dateTime, comment)


@router.post("/api/Asset/ResetRunningCount", summary="Reset running count to 0.")
def reset_running_count(request: Request, id: str | None = None, serialNumber: str | None = None,
                        comment: str | None = None,
                        state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    with state.storage.write() as db:
        asset = find_asset(db, id, serialNumber)
        db.execute("UPDATE assets SET running_count = 0 WHERE asset_id = ?", (asset["asset_id"],))
        write_log(db, asset, request_user(request), RESET_COUNT, comment=comment, property="runningCount",
                  value=asset["running_count"])  # fmt: skip
        return JSONResponse(_with_type(db, _one(db, "a.asset_id = ?", asset["asset_id"])))  # type: ignore[arg-type]


@router.put("/api/Asset/State", summary="Set the state of an asset.")
def put_state(request: Request, state: int, id: str | None = None, serialNumber: str | None = None,
              emulator: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    if state not in range(7):
        raise ApiError(400, f"state must be from 0 (Unknown) to 6 (Scrapped), not {state}.")
    with emulator.storage.write() as db:
        asset = find_asset(db, id, serialNumber)
        if asset["state"] != state:
            db.execute("UPDATE assets SET state = ? WHERE asset_id = ?", (state, asset["asset_id"]))
            write_log(db, asset, request_user(request), UPDATE, property="state", value=state)
        return JSONResponse(_with_type(db, _one(db, "a.asset_id = ?", asset["asset_id"])))  # type: ignore[arg-type]


@router.get("/api/Asset/Status", summary="Get the current status for an asset.")
def get_status(id: str | None = None, serialNumber: str | None = None, translate: bool = True,
               cultureCode: str | None = None, state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    db: Any = Reader(state.storage)
    asset = find_asset(db, id, serialNumber)
    return JSONResponse(status_json(asset, _type(db, asset["type_id"])))  # type: ignore[arg-type]


@router.post("/api/Asset/Message", summary="Post a message/comment to the asset log.")
async def post_message(request: Request, id: str | None = None, serialNumber: str | None = None,
                       cultureCode: str | None = None,
                       state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    data, user = await json_body(request), request_user(request)
    content = text(json_object(data, "AssetMessage"), "content", "AssetMessage", required=True)

    def post(db: sqlite3.Connection) -> dict[str, Any]:
        log_id = write_log(db, find_asset(db, id, serialNumber), user, MESSAGE, comment=content)
        return log_json(db.execute("SELECT * FROM asset_log WHERE log_id = ?", (log_id,)).fetchone())

    return JSONResponse(await run_in_threadpool(_run, state, post))


@router.get("/api/Asset/SubAssets", summary="Return a list of sub assets/children of the specified asset.")
def get_sub_assets(id: str | None = None, serialNumber: str | None = None, level: int = 0,
                   state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    if level < 0:
        raise ApiError(400, f"level must be 0 (every level) or more, not {level}.")
    db: Any = Reader(state.storage)
    asset = find_asset(db, id, serialNumber)
    return JSONResponse([_with_type(db, row) for row in _descendants(db, asset["asset_id"], level)])


@router.get("/api/Asset/{key}", summary="Get an asset by asset id or serial number.")
def get_asset(key: str, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    db: Any = Reader(state.storage)
    row = _one(db, "a.asset_id = ?", _id_key(key)) or _one(db, "a.serial_number = ?", key)
    if row is None:
        raise ApiError(404, f"No asset has the id or serial number '{key}'.")
    return JSONResponse(_with_type(db, row))

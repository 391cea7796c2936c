"""The RootCause area: tickets that track a failure to its cause, with their history and attachments.

Rules:

1. **Creating** needs a ``subject``. A new ticket is Open (unless the body says otherwise), owned by the
   token's user, numbered one past the highest number. An ``update`` with content or attachments becomes
   the first history entry.
2. **Updating** (PUT) changes what the body gives: subject, status, priority, assignee, team, progress,
   tags, reportUuid. The history records it: the body's ``update`` as a content entry (type 0), a new
   progress as a progress entry (type 1), other changes as one property entry (type 2) naming old and new.
3. **Statuses** are single flags: Open 1, In progress 2, On hold 4, Solved 8, Closed 16. Archived (32) is
   reached only through ``ArchiveTickets``, from Solved; an archived ticket no longer changes.
4. **Listing** (``GET /api/RootCause/Tickets``) takes a set of status flags; ``view`` 0 lists tickets
   assigned to the user, 1 those the user follows (owns, is assigned, or has written in), 2 all of them.
   ``searchString`` matches the subject, a tag's key or a tag's value (any case).
5. **Attachments** are uploaded on their own (multipart) and referenced by id from an update; an update
   naming an unknown attachment is 400.

``ArchiveTickets`` answers with a ticket, as the OpenAPI document types it: the last one archived.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from ..errors import ApiError
from ..state import EmulatorState, get_state
from ..uploads import one_file
from ._checks import guid, integer, json_body, json_list, json_object, new_id, now_text, request_user, text

router = APIRouter(tags=["RootCause"])

SCHEMA = """
CREATE TABLE IF NOT EXISTS rootcause_tickets (
    id TEXT PRIMARY KEY,
    number INTEGER NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    status INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    progress TEXT,
    owner TEXT,
    assignee TEXT,
    team TEXT,
    origin TEXT,
    report_uuid TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rootcause_updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    ticket_id TEXT NOT NULL REFERENCES rootcause_tickets (id),
    utc TEXT NOT NULL,
    user TEXT,
    content TEXT,
    type INTEGER NOT NULL,
    attachments TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS rootcause_updates_ticket ON rootcause_updates (ticket_id, seq);
CREATE TABLE IF NOT EXISTS rootcause_attachments (
    id TEXT PRIMARY KEY,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content BLOB NOT NULL,
    created TEXT NOT NULL,
    user TEXT
)
"""

STATUS_NAMES = {1: "Open", 2: "In progress", 4: "On hold", 8: "Solved", 16: "Closed", 32: "Archived"}
ARCHIVED, SOLVED, OPEN = 32, 8, 1
CONTENT, PROGRESS, PROPERTIES = 0, 1, 2
PRIORITIES = range(0, 3)


def init(state: EmulatorState) -> None:
    state.storage.ensure_schema(SCHEMA)


# -- reading --------------------------------------------------------------------------------------------------


def ticket_json(connection: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    updates = connection.execute("SELECT * FROM rootcause_updates WHERE ticket_id = ? ORDER BY seq",
                                 (row["id"],)).fetchall()  # fmt: skip
    return {
        "ticketId": row["id"], "ticketNumber": row["number"], "progress": row["progress"], "owner": row["owner"],
        "assignee": row["assignee"], "subject": row["subject"], "status": row["status"], "priority": row["priority"],
        "reportUuid": row["report_uuid"], "createdUtc": row["created"], "updatedUtc": row["updated"],
        "team": row["team"], "origin": row["origin"], "tags": json.loads(row["tags"]),
        "history": [{
            "updateId": update["id"], "updateUtc": update["utc"], "updateUser": update["user"],
            "content": update["content"], "updateType": update["type"],
            "attachments": json.loads(update["attachments"]),
        } for update in updates],
        "update": None,
    }  # fmt: skip


def existing_ticket(connection: sqlite3.Connection, ticket_id: str, status: int = 404) -> sqlite3.Row:
    row = connection.execute("SELECT * FROM rootcause_tickets WHERE id = ?", (ticket_id,)).fetchone()
    if row is None:
        raise ApiError(status, f"Ticket {ticket_id} was not found.")
    return row


@router.get("/api/RootCause/Ticket", summary="Get a root cause ticket")
def get_ticket(ticketId: uuid.UUID, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    with state.storage.write() as connection:
        return JSONResponse(ticket_json(connection, existing_ticket(connection, str(ticketId))))


@router.get("/api/RootCause/Tickets", summary="Get root cause tickets with a given status.")
def get_tickets(status: int, view: int, request: Request, searchString: str | None = None,
                state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    if not 1 <= status <= 63:
        raise ApiError(400, "status is a set of flags from 1 to 63: Open 1, In progress 2, On hold 4, Solved 8, "
                            f"Closed 16, Archived 32; not {status}.")  # fmt: skip
    if view not in (0, 1, 2):
        raise ApiError(400, f"view must be 0 (assigned), 1 (following) or 2 (all), not {view}.")
    user = request_user(request)
    conditions, params = ["(status & ?) != 0"], [status]
    if view == 0:
        conditions.append("assignee = ? COLLATE NOCASE")
        params.append(user)
    elif view == 1:
        conditions.append("(owner = ? COLLATE NOCASE OR assignee = ? COLLATE NOCASE OR EXISTS (SELECT 1 FROM"
                          " rootcause_updates AS u WHERE u.ticket_id = t.id AND u.user = ? COLLATE NOCASE))")
        params += [user, user, user]
    if searchString and searchString.strip():
        pattern = f"%{searchString.strip().lower()}%"
        conditions.append("(lower(subject) LIKE ? OR EXISTS (SELECT 1 FROM json_each(t.tags) AS g WHERE"
                          " lower(json_extract(g.value, '$.key')) LIKE ? OR lower(json_extract(g.value, '$.value'))"
                          " LIKE ?))")  # fmt: skip
        params += [pattern, pattern, pattern]
    with state.storage.write() as connection:
        rows = connection.execute(f"SELECT * FROM rootcause_tickets AS t WHERE {' AND '.join(conditions)}"
                                  " ORDER BY updated DESC, number DESC", params).fetchall()  # fmt: skip
        return JSONResponse([ticket_json(connection, row) for row in rows])


# -- writing --------------------------------------------------------------------------------------------------


def check_status(value: Any, where: str) -> int:
    if value == ARCHIVED:
        raise ApiError(400, f"{where}: a ticket is archived with POST /api/RootCause/ArchiveTickets, not by "
                            "setting its status.")  # fmt: skip
    if isinstance(value, bool) or value not in (1, 2, 4, 8, 16):
        raise ApiError(400, f"{where} must be one status: 1 (Open), 2 (In progress), 4 (On hold), 8 (Solved) or "
                            f"16 (Closed); not {json.dumps(value)}.")  # fmt: skip
    return value


def clean_tags(data: Mapping[str, Any], where: str) -> str | None:
    tags = data.get("tags")
    if tags is None:
        return None
    items = json_list(tags, f"{where}.tags")
    clean = []
    for index, tag in enumerate(items):
        tag = json_object(tag, f"{where}.tags[{index}]")
        clean.append({"key": text(tag, "key", f"{where}.tags[{index}]", required=True),
                      "value": None if tag.get("value") is None else str(tag["value"])})  # fmt: skip
    return json.dumps(clean)


def report_ref(connection: sqlite3.Connection, data: Mapping[str, Any], where: str) -> str | None:
    value = guid(data.get("reportUuid"), f"{where}.reportUuid")
    if value is not None and connection.execute("SELECT 1 FROM reports WHERE id = ?", (value,)).fetchone() is None:
        raise ApiError(400, f"{where}.reportUuid {value} is not a report on this server.")
    return value


def add_update(connection: sqlite3.Connection, ticket_id: str, user: str, kind: int, content: str | None,
               attachments: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
    connection.execute(
        "INSERT INTO rootcause_updates (id, ticket_id, utc, user, content, type, attachments)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (new_id(), ticket_id, now_text(), user, content, kind, json.dumps(attachments or [])),
    )  # fmt: skip


def body_update(connection: sqlite3.Connection, data: Mapping[str, Any], where: str) -> tuple[str | None, list[dict]]:
    """The content and attachments of a body's ``update`` (attachments must have been uploaded)."""
    update = data.get("update")
    if update is None:
        return None, []
    update = json_object(update, f"{where}.update")
    content = text(update, "content", f"{where}.update")
    files = []
    for index, item in enumerate(json_list(update.get("attachments") or [], f"{where}.update.attachments")):
        item = json_object(item, f"{where}.update.attachments[{index}]")
        attachment_id = guid(item.get("attachmentId"), f"{where}.update.attachments[{index}].attachmentId")
        row = None if attachment_id is None else connection.execute(
            "SELECT filename FROM rootcause_attachments WHERE id = ?", (attachment_id,)).fetchone()  # fmt: skip
        if row is None:
            raise ApiError(400, f"{where}.update.attachments[{index}].attachmentId {attachment_id} is not an uploaded "
                                "attachment (POST /api/RootCause/Attachment first).")  # fmt: skip
        files.append({"attachmentId": attachment_id, "filename": item.get("filename") or row["filename"]})
    return content, files


@router.post("/api/RootCause/Ticket", summary="Create a new root cause ticket.")
async def create_ticket(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    data = json_object(await json_body(request), "The ticket")
    user = request_user(request)

    def create() -> dict[str, Any]:
        with state.storage.write() as connection:
            subject = text(data, "subject", "ticket", required=True, max_length=500)
            status = OPEN if data.get("status") is None else check_status(data["status"], "ticket.status")
            priority = integer(data, "priority", "ticket", choices=PRIORITIES)
            content, files = body_update(connection, data, "ticket")
            identifier, now = new_id(), now_text()
            number = connection.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM rootcause_tickets").fetchone()[0]
            connection.execute(
                "INSERT INTO rootcause_tickets (id, number, subject, status, priority, progress, owner, assignee, team,"
                " origin, report_uuid, tags, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (identifier, number, subject, status, priority if priority is not None else 0,
                 text(data, "progress", "ticket"), user, text(data, "assignee", "ticket"), text(data, "team", "ticket"),
                 text(data, "origin", "ticket") or "API", report_ref(connection, data, "ticket"),
                 clean_tags(data, "ticket") or "[]", now, now),
            )  # fmt: skip
            if content is not None or files:
                add_update(connection, identifier, user, CONTENT, content, files)
            return ticket_json(connection, existing_ticket(connection, identifier))

    return JSONResponse(await run_in_threadpool(create))


def describe(column: str, value: Any) -> str:
    return STATUS_NAMES.get(value, str(value)) if column == "status" else "(none)" if value is None else str(value)


@router.put("/api/RootCause/Ticket", summary="Update a root cause ticket")
async def update_ticket(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    data = json_object(await json_body(request), "The ticket")
    user = request_user(request)
    ticket_id = guid(data.get("ticketId"), "ticket.ticketId")
    if ticket_id is None:
        raise ApiError(400, "ticket.ticketId is required: it says which ticket to update.")

    def save() -> dict[str, Any]:
        with state.storage.write() as connection:
            row = existing_ticket(connection, ticket_id)
            if row["status"] == ARCHIVED:
                raise ApiError(400, f"Ticket {row['number']} is archived: it can no longer change.")
            given: dict[str, Any] = {
                "subject": text(data, "subject", "ticket", max_length=500),
                "status": None if data.get("status") is None else check_status(data["status"], "ticket.status"),
                "priority": integer(data, "priority", "ticket", choices=PRIORITIES),
                "assignee": text(data, "assignee", "ticket"),
                "team": text(data, "team", "ticket"),
                "progress": text(data, "progress", "ticket"),
                "report_uuid": report_ref(connection, data, "ticket"),
                "tags": clean_tags(data, "ticket"),
            }
            changed = {column: value for column, value in given.items() if value is not None and value != row[column]}
            content, files = body_update(connection, data, "ticket")
            if content is not None or files:
                add_update(connection, row["id"], user, CONTENT, content, files)
            if "progress" in changed:
                add_update(connection, row["id"], user, PROGRESS, changed["progress"])
            properties = [f"{column.replace('_', ' ').capitalize()}: {describe(column, row[column])} → "
                          f"{describe(column, value)}" for column, value in changed.items()
                          if column not in ("progress", "tags")]  # fmt: skip
            if properties:
                add_update(connection, row["id"], user, PROPERTIES, "; ".join(properties))
            if changed or content is not None or files:
                assignments = "".join(f"{column} = ?, " for column in changed)
                connection.execute(f"UPDATE rootcause_tickets SET {assignments}updated = ? WHERE id = ?",
                                   [*changed.values(), now_text(), row["id"]])  # fmt: skip
            return ticket_json(connection, existing_ticket(connection, row["id"]))

    return JSONResponse(await run_in_threadpool(save))


@router.post("/api/RootCause/ArchiveTickets", summary="Archive tickets. Only Solved tickets can be archived.")
async def archive_tickets(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    items = json_list(await json_body(request), "The body")
    if not items:
        raise ApiError(400, "The body is an empty list: send the ids of the tickets to archive.")
    ids = [guid(item, f"ticketIds[{index}]") for index, item in enumerate(items)]
    user = request_user(request)

    def archive() -> dict[str, Any]:
        with state.storage.write() as connection:  # all or nothing
            rows = []
            for index, ticket_id in enumerate(ids):
                if ticket_id is None:
                    raise ApiError(400, f"ticketIds[{index}] is empty.")
                row = existing_ticket(connection, ticket_id, status=400)
                if row["status"] != SOLVED:
                    raise ApiError(400, f"Ticket {row['number']} is {STATUS_NAMES.get(row['status'])}: only Solved "
                                        "tickets can be archived.")  # fmt: skip
                rows.append(row)
            now = now_text()
            for row in rows:
                connection.execute("UPDATE rootcause_tickets SET status = ?, updated = ? WHERE id = ?",
                                   (ARCHIVED, now, row["id"]))  # fmt: skip
                add_update(connection, row["id"], user, PROPERTIES, "Status: Solved → Archived")
            return ticket_json(connection, existing_ticket(connection, rows[-1]["id"]))

    return JSONResponse(await run_in_threadpool(archive))


# -- attachments ----------------------------------------------------------------------------------------------


@router.post("/api/RootCause/Attachment", summary="Upload root cause attachment and return attachmentId.")
async def upload_attachment(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    file = await one_file(request)
    identifier, user = new_id(), request_user(request)

    def store() -> None:
        with state.storage.write() as connection:
            connection.execute(
                "INSERT INTO rootcause_attachments (id, filename, content_type, content, created, user)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (identifier, file.filename or "attachment", file.content_type, file.content, now_text(), user),
            )  # fmt: skip

    await run_in_threadpool(store)
    return JSONResponse(identifier)


@router.get("/api/RootCause/Attachment", summary="Get root cause attachment")
def get_attachment(attachmentId: uuid.UUID, fileName: str | None = None,
                   state: EmulatorState = Depends(get_state)) -> Response:  # fmt: skip
    rows = state.storage.read("SELECT * FROM rootcause_attachments WHERE id = ?", (str(attachmentId),))
    if not rows:
        raise ApiError(404, f"Attachment {attachmentId} was not found.")
    row = rows[0]
    # With a file name the browser is told to download; without, to show it (an image in an <img> tag).
    disposition = f"attachment; filename*=UTF-8''{quote(fileName)}" if fileName else "inline"
    return Response(row["content"], media_type=row["content_type"], headers={"Content-Disposition": disposition})

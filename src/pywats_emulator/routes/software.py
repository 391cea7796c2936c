"""The Software area: packages stations download (Production Manager), their files, tags and statuses.

Rules:

1. **Versions.** ``POST /api/Software/Package`` creates a Draft; a name that exists (any case) gets its
   highest version + 1. Name and version never change afterwards (a new version is a new POST).
2. **Status moves** only Draft → Pending, Pending → Draft or Released, Released → Revoked; asking for the
   status a package already has changes nothing. Released and Revoked stamp the date and the user.
3. **Editing.** A Draft package can be changed in everything; a Pending, Released or Revoked one only in
   status and tags (other fields sent with their current value are fine). Files (zip uploads, attributes)
   change only in Draft.
4. **Deleting** needs Draft or Revoked.
5. **Zips** must hold every file inside a folder (``tools/flash.exe``). They merge into the package (a file
   with the same folder and name is replaced, keeping its id) unless ``cleanInstall`` empties it first.

Ids are GUIDs: a malformed one is 400, an unknown one 404. The user in ``createdBy`` and the like is the
token's user (see :func:`~pywats_emulator.routes._checks.request_user`).
"""

from __future__ import annotations

import io
import json
import sqlite3
import uuid
import zipfile
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from ..errors import ApiError
from ..state import EmulatorState, get_state
from ..uploads import one_file
from ._checks import boolean, guid, integer, json_body, json_object, new_id, now_text, request_user, text

router = APIRouter(tags=["Software"])

SCHEMA = """
CREATE TABLE IF NOT EXISTS software_packages (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL COLLATE NOCASE,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    description TEXT,
    root_directory TEXT,
    install_on_root INTEGER,
    priority INTEGER,
    virtual_folder_id TEXT,
    tags TEXT NOT NULL DEFAULT '[]',   -- JSON list of {key, value}
    created TEXT NOT NULL, created_by TEXT,
    modified TEXT NOT NULL, modified_by TEXT,
    released TEXT, released_by TEXT,
    revoked TEXT, revoked_by TEXT,
    UNIQUE (name, version)
);
CREATE TABLE IF NOT EXISTS software_files (
    id TEXT PRIMARY KEY,
    package_id TEXT NOT NULL REFERENCES software_packages (id) ON DELETE CASCADE,
    folder TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL COLLATE NOCASE,
    attributes TEXT NOT NULL DEFAULT 'None',
    description TEXT,
    content BLOB NOT NULL,
    UNIQUE (package_id, folder, name)
);
CREATE TABLE IF NOT EXISTS software_virtual_folders (
    id TEXT PRIMARY KEY,
    parent_id TEXT,
    name TEXT NOT NULL,
    description TEXT
)
"""

STATUSES = ("Draft", "Pending", "Released", "Revoked")
MOVES = {"Draft": {"Pending"}, "Pending": {"Draft", "Released"}, "Released": {"Revoked"}, "Revoked": set()}
ATTRIBUTES = ("None", "ExecuteOnce", "ExecuteAlways", "TopLevelFile", "OverwriteNever",
              "OverwriteOnNewPackageVersion", "ExecuteOncePerVersion")  # fmt: skip
EDITABLE = ("description", "root_directory", "install_on_root", "priority", "virtual_folder_id")
_FOLDERS_NS = uuid.UUID("7f0f3b1e-3c55-4e55-9b55-5f0f7a1d2c01")
SEEDED_FOLDERS = (("Software", None, "All station software"), ("Test programs", "Software", "Test sequences"),
                  ("Drivers", "Software", "Instrument drivers"))  # fmt: skip


def folder_id(name: str) -> str:
    return str(uuid.uuid5(_FOLDERS_NS, name))


def init(state: EmulatorState) -> None:
    state.storage.ensure_schema(SCHEMA)
    with state.storage.write() as connection:
        connection.executemany(
            "INSERT OR IGNORE INTO software_virtual_folders (id, parent_id, name, description) VALUES (?, ?, ?, ?)",
            [(folder_id(name), folder_id(parent) if parent else None, name, description)
             for name, parent, description in SEEDED_FOLDERS],
        )  # fmt: skip


# -- helpers --------------------------------------------------------------------------------------------------


def package_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "packageId": row["id"], "name": row["name"], "installOnRoot": None if row["install_on_root"] is None
        else bool(row["install_on_root"]), "version": row["version"], "description": row["description"],
        "rootDirectory": row["root_directory"], "tags": json.loads(row["tags"]), "modified": row["modified"],
        "modifiedBy": row["modified_by"], "status": row["status"], "priority": row["priority"],
        "virtualFolderId": row["virtual_folder_id"], "created": row["created"], "createdBy": row["created_by"],
        "released": row["released"], "releasedBy": row["released_by"], "revoked": row["revoked"],
        "revokedBy": row["revoked_by"],
    }  # fmt: skip


def package_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ApiError(400, f"'{value}' is not a package id: a package id is a GUID.") from None


def existing_package(connection: sqlite3.Connection, value: str) -> sqlite3.Row:
    row = connection.execute("SELECT * FROM software_packages WHERE id = ?", (package_id(value),)).fetchone()
    if row is None:
        raise ApiError(404, f"Software package {value} was not found.")
    return row


def read_package(state: EmulatorState, value: str) -> sqlite3.Row:
    rows = state.storage.read("SELECT * FROM software_packages WHERE id = ?", (package_id(value),))
    if not rows:
        raise ApiError(404, f"Software package {value} was not found.")
    return rows[0]


def check_status(value: str | None, name: str = "status") -> str:
    for status in STATUSES:
        if (value or "").strip().lower() == status.lower():
            return status
    raise ApiError(400, f"{name} must be one of {', '.join(STATUSES)}; not '{value}'.")


def tags_of(data: Mapping[str, Any], where: str) -> str | None:
    """``tags`` as stored JSON; 400 unless it is a list of ``{key, value}`` with a key."""
    tags = data.get("tags")
    if tags is None:
        return None
    if not isinstance(tags, list):
        raise ApiError(400, f"{where}.tags must be a list of {{\"key\": ..., \"value\": ...}} objects.")
    clean = []
    for index, tag in enumerate(tags):
        tag = json_object(tag, f"{where}.tags[{index}]")
        key = text(tag, "key", f"{where}.tags[{index}]", required=True)
        value = tag.get("value")
        clean.append({"key": key, "value": None if value is None else str(value)})
    return json.dumps(clean)


def folder_ref(connection: sqlite3.Connection, data: Mapping[str, Any], where: str) -> str | None:
    value = guid(data.get("virtualFolderId"), f"{where}.virtualFolderId")
    if value is not None and connection.execute("SELECT 1 FROM software_virtual_folders WHERE id = ?",
                                                 (value,)).fetchone() is None:  # fmt: skip
        raise ApiError(400, f"{where}.virtualFolderId {value} is not a virtual folder "
                            "(GET /api/Software/VirtualFolders lists them).")  # fmt: skip
    return value


def fields_of(connection: sqlite3.Connection, data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The editable fields a body gives (None: not given)."""
    install = boolean(data, "installOnRoot", where)
    return {
        "description": text(data, "description", where),
        "root_directory": text(data, "rootDirectory", where),
        "install_on_root": None if install is None else int(install),
        "priority": integer(data, "priority", where),
        "virtual_folder_id": folder_ref(connection, data, where),
    }


def move(connection: sqlite3.Connection, row: sqlite3.Row, status: str, user: str) -> None:
    """Change a package's status by rule 2."""
    if status == row["status"]:
        return
    if status not in MOVES[row["status"]]:
        allowed = " or ".join(sorted(MOVES[row["status"]])) or "nothing"
        raise ApiError(400, f"Package '{row['name']}' version {row['version']} is {row['status']}: it can move to "
                            f"{allowed}, not to {status}.")  # fmt: skip
    now = now_text()
    stamp = {"Released": ", released = ?, released_by = ?", "Revoked": ", revoked = ?, revoked_by = ?"}.get(status, "")
    params = [status, now, user, *((now, user) if stamp else ()), row["id"]]
    connection.execute(f"UPDATE software_packages SET status = ?, modified = ?, modified_by = ?{stamp} WHERE id = ?",
                       params)  # fmt: skip


def require_draft(row: sqlite3.Row, action: str) -> None:
    if row["status"] != "Draft":
        raise ApiError(400, f"Package '{row['name']}' version {row['version']} is {row['status']}: {action} only "
                            "in Draft.")  # fmt: skip


# -- packages -------------------------------------------------------------------------------------------------


@router.get("/api/Software/Packages", summary="Returns a list with all Software Packages.")
def get_packages(state: EmulatorState = Depends(get_state)) -> JSONResponse:
    rows = state.storage.read("SELECT * FROM software_packages ORDER BY name, version")
    return JSONResponse([package_json(row) for row in rows])


@router.get("/api/Software/Package/{id}", summary="Gets the specified Software Package.")
def get_package(id: str, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    return JSONResponse(package_json(read_package(state, id)))


@router.post("/api/Software/Package", summary="Create a new Package in Draft.")
async def create_package(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    data = json_object(await json_body(request), "The package")
    user = request_user(request)

    def create() -> dict[str, Any]:
        with state.storage.write() as connection:
            name = text(data, "name", "package", required=True, max_length=100).strip()
            fields = fields_of(connection, data, "package")
            tags = tags_of(data, "package") or "[]"
            latest = connection.execute("SELECT name, version FROM software_packages WHERE name = ? ORDER BY version"
                                        " DESC LIMIT 1", (name,)).fetchone()  # fmt: skip
            if latest is not None:  # a new version keeps the name as first spelled
                name, version = latest["name"], latest["version"] + 1
            else:
                version = 1
            identifier, now = new_id(), now_text()
            connection.execute(
                "INSERT INTO software_packages (id, name, version, status, tags, created, created_by, modified,"
                f" modified_by, {', '.join(EDITABLE)}) VALUES (?, ?, ?, 'Draft', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [identifier, name, version, tags, now, user, now, user, *(fields[key] for key in EDITABLE)],
            )  # fmt: skip
            return package_json(existing_package(connection, identifier))

    return JSONResponse(await run_in_threadpool(create))


@router.put("/api/Software/Package/{id}", summary="Puts a Package: overwrites its configuration.")
async def put_package(id: str, request: Request, state: EmulatorState = Depends(get_state)) -> Response:
    data = json_object(await json_body(request), "The package")
    user = request_user(request)

    def save() -> None:
        with state.storage.write() as connection:
            row = existing_package(connection, id)
            body_id = guid(data.get("packageId"), "package.packageId")
            if body_id is not None and body_id != row["id"]:
                raise ApiError(400, f"package.packageId {body_id} is not the package in the URL ({row['id']}).")
            for key, column in (("name", "name"), ("version", "version")):
                if data.get(key) is not None and str(data[key]).lower() != str(row[column]).lower():
                    raise ApiError(400, f"package.{key} cannot change (it is '{row[column]}'); POST "
                                        "/api/Software/Package makes a new version.")  # fmt: skip
            fields = {key: value for key, value in fields_of(connection, data, "package").items() if value is not None}
            if row["status"] != "Draft":
                changed = [key for key, value in fields.items() if value != row[key]]
                if changed:
                    raise ApiError(400, f"Package '{row['name']}' version {row['version']} is {row['status']}: only "
                                        f"status and tags can be edited, not {', '.join(changed)}.")  # fmt: skip
            tags = tags_of(data, "package")
            if tags is not None:
                fields["tags"] = tags
            if fields:
                assignments = ", ".join(f"{key} = ?" for key in fields)
                connection.execute(f"UPDATE software_packages SET {assignments}, modified = ?, modified_by = ? "
                                   "WHERE id = ?", [*fields.values(), now_text(), user, row["id"]])  # fmt: skip
            if data.get("status") is not None:
                move(connection, existing_package(connection, id), check_status(data["status"], "package.status"),
                     user)  # fmt: skip

    await run_in_threadpool(save)
    return Response(status_code=200)


@router.post("/api/Software/PackageStatus/{id}", summary="Updates the status of the Software Package.")
def set_status(id: str, status: str, request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    wanted = check_status(status)
    with state.storage.write() as connection:
        move(connection, existing_package(connection, id), wanted, request_user(request))
        return JSONResponse(package_json(existing_package(connection, id)))


def delete_row(connection: sqlite3.Connection, row: sqlite3.Row) -> Response:
    if row["status"] not in ("Draft", "Revoked"):
        raise ApiError(400, f"Package '{row['name']}' version {row['version']} is {row['status']}: only Draft or "
                            "Revoked packages can be deleted.")  # fmt: skip
    connection.execute("DELETE FROM software_packages WHERE id = ?", (row["id"],))
    return Response(status_code=204)


@router.delete("/api/Software/Package/{id}", summary="Deletes the Software Package.")
def delete_package(id: str, state: EmulatorState = Depends(get_state)) -> Response:
    with state.storage.write() as connection:
        return delete_row(connection, existing_package(connection, id))


def by_name(connection: sqlite3.Connection, name: str, version: int | None, status: str | None) -> sqlite3.Row:
    row = connection.execute(
        "SELECT * FROM software_packages WHERE name = ? AND (? IS NULL OR version = ?) AND (? IS NULL OR status = ?)"
        " ORDER BY version DESC LIMIT 1", (name, version, version, status, status),
    ).fetchone()  # fmt: skip
    if row is None:
        which = (f" version {version}" if version is not None else "") + (f" in status {status}" if status else "")
        raise ApiError(404, f"Software package '{name}'{which} was not found.")
    return row


@router.get("/api/Software/PackageByName", summary="Searches for the Software Package by name and status.")
def get_by_name(name: str, status: str, version: int | None = None,
                state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    wanted = check_status(status)
    with state.storage.write() as connection:
        return JSONResponse(package_json(by_name(connection, name, version, wanted)))


@router.delete("/api/Software/PackageByName", summary="Deletes the Software Package by name and version.")
def delete_by_name(name: str, version: int, state: EmulatorState = Depends(get_state)) -> Response:
    with state.storage.write() as connection:
        return delete_row(connection, by_name(connection, name, version, None))


@router.get("/api/Software/PackagesByTag", summary="Filters Software Packages by tag, tag value and status.")
def get_by_tag(tag: str, status: str, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    wanted = check_status(status)
    key, separator, value = tag.partition("=")
    if not separator or not key:
        raise ApiError(400, f"tag must be written tagName=tagValue, not '{tag}'.")
    rows = state.storage.read(
        "SELECT * FROM software_packages WHERE status = ? AND EXISTS (SELECT 1 FROM json_each(software_packages.tags)"
        " AS t WHERE json_extract(t.value, '$.key') = ? AND lower(json_extract(t.value, '$.value')) = lower(?))"
        " ORDER BY name, version", (wanted, key, value),
    )  # fmt: skip
    return JSONResponse([package_json(row) for row in rows])


# -- files ----------------------------------------------------------------------------------------------------


def zip_entries(content: bytes) -> list[tuple[str, str, bytes]]:
    """``(folder, name, bytes)`` of every file in a zip (rule 5); 400 for a bad zip or a file on the root."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise ApiError(400, "The upload is not a zip file.") from None
    entries = []
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            path = info.filename.replace("\\", "/").strip("/")
            folder, _, name = path.rpartition("/")
            if not folder:
                raise ApiError(400, f"'{path}' is on the root of the zip: every file must be inside a folder "
                                    "(myFolder/myFile.txt).")  # fmt: skip
            if any(part in ("", ".", "..") for part in folder.split("/")):
                raise ApiError(400, f"'{info.filename}' is not a valid path inside a package.")
            entries.append((folder, name, archive.read(info)))
    if not entries:
        raise ApiError(400, "The zip file holds no files.")
    return entries


@router.post("/api/Software/Package/UploadZip/{id}", summary="Post a Zip file of files into a Software Package.")
async def upload_zip(id: str, request: Request, cleanInstall: bool = False,
                     state: EmulatorState = Depends(get_state)) -> Response:  # fmt: skip
    file = await one_file(request)
    entries = await run_in_threadpool(zip_entries, file.content)
    user = request_user(request)

    def store() -> None:
        with state.storage.write() as connection:
            row = existing_package(connection, id)
            require_draft(row, "files can be uploaded")
            if cleanInstall:
                connection.execute("DELETE FROM software_files WHERE package_id = ?", (row["id"],))
            for folder, name, data in entries:
                connection.execute(
                    "INSERT INTO software_files (id, package_id, folder, name, content) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (package_id, folder, name) DO UPDATE SET content = excluded.content",
                    (new_id(), row["id"], folder, name, data),
                )  # fmt: skip
            connection.execute("UPDATE software_packages SET modified = ?, modified_by = ? WHERE id = ?",
                               (now_text(), user, row["id"]))  # fmt: skip

    await run_in_threadpool(store)
    return Response(status_code=200)


@router.get("/api/Software/PackageFiles/{id}", summary="Returns the files assigned to a Software Package.")
def get_files(id: str, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    row = read_package(state, id)
    files = state.storage.read("SELECT id, folder, name, attributes, description FROM software_files "
                               "WHERE package_id = ? ORDER BY folder, name", (row["id"],))  # fmt: skip
    return JSONResponse([{"packageFileId": f["id"], "name": f["name"], "packageFolderName": f["folder"],
                          "attributes": f["attributes"], "Description": f["description"]} for f in files])  # fmt: skip


@router.post("/api/Software/Package/FileAttribute/{id}", summary="Updates the file attribute of a package file.")
def set_file_attribute(id: str, attribute: str, state: EmulatorState = Depends(get_state)) -> Response:
    canonical = next((known for known in ATTRIBUTES if known.lower() == attribute.strip().lower()), None)
    if canonical is None:
        raise ApiError(400, f"attribute must be one of {', '.join(ATTRIBUTES)} (any case); not '{attribute}'.")
    with state.storage.write() as connection:
        file = connection.execute("SELECT package_id FROM software_files WHERE id = ?", (id.lower(),)).fetchone()
        if file is None:
            raise ApiError(404, f"Package file {id} was not found (GET /api/Software/PackageFiles/{{id}} lists them).")
        require_draft(existing_package(connection, file["package_id"]), "file attributes can be changed")
        connection.execute("UPDATE software_files SET attributes = ? WHERE id = ?", (canonical, id.lower()))
    return Response(status_code=200)


@router.get("/api/Software/VirtualFolders", summary="Gets all Virtual Folders registered in the Production Manager.")
def get_virtual_folders(state: EmulatorState = Depends(get_state)) -> JSONResponse:
    rows = state.storage.read("SELECT * FROM software_virtual_folders ORDER BY name")
    return JSONResponse([{"id": row["id"], "parentId": row["parent_id"], "name": row["name"],
                          "description": row["description"]} for row in rows])  # fmt: skip

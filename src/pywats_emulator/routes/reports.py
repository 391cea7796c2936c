"""The Report area of the WATS API: upload (WSJF, WSXF), download, header query and attachments.

An upload is checked as WATS checks it (FORMATS.md §1.1-1.2), and the first problem found is answered
400 with a sentence naming the field:

1. the body is UTF-8 (a byte-order mark is allowed) and, for WSJF, one JSON object;
2. the header fields WATS requires are present: ``type id pn sn rev machineName location purpose result
   start processCode`` (``sn`` and ``pn`` not empty); a test report (``T``) also needs ``root`` and
   ``uut``, a repair report (``R``) needs ``uur``;
3. the report passes :func:`pywats.models.parse_report` with strict lengths;
4. ``processCode`` names an active process on this server and ``processName``, when given, is that
   process's name, compared case-sensitively; the same for a repair report's ``uur.processCode``.

An accepted report replaces any report with the same id (see :mod:`pywats_emulator.storage`). WSJF
uploads are stored as sent; WSXF uploads are stored as the WSJF of the report they describe.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from pywats import ReportFormatError
from pywats.formats import wsjf
from pywats.models import UURReport, UUTReport, parse_report

from ..documents import at_detail_level, attachments, expansions
from ..errors import ApiError
from ..headers import DEFAULT_ORDER, REPORT_HEADER, RESULT_WORDS, header_columns, header_from_row, select_sql
from ..odata import ODataError, parse_query
from ..state import EmulatorState, get_state

router = APIRouter(tags=["Report"])

REQUIRED_FIELDS = ("type", "id", "pn", "sn", "rev", "machineName", "location", "purpose", "result", "start",
                   "processCode")  # fmt: skip
NOT_EMPTY = ("sn", "pn")
REQUIRED_BY_TYPE = {"T": ("root", "uut"), "R": ("uur",)}


# -- upload -------------------------------------------------------------------------------------------


async def _body_text(request: Request) -> str:
    body = await request.body()
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ApiError(400, f"The report is not UTF-8 text (byte {error.start} cannot be decoded).") from None


def _check_required(raw: dict[str, Any]) -> None:
    for name in REQUIRED_FIELDS:
        if raw.get(name) is None:
            raise ApiError(400, f"Required field '{name}' is missing from the report.")
    for name in NOT_EMPTY:
        if isinstance(raw[name], str) and not raw[name].strip():
            raise ApiError(400, f"Field '{name}' must not be empty.")
    report_type = raw["type"]
    for name in REQUIRED_BY_TYPE.get(report_type, ()) if isinstance(report_type, str) else ():
        if raw.get(name) is None:
            kind = "test report (type T)" if report_type == "T" else "repair report (type R)"
            raise ApiError(400, f"Required field '{name}' is missing: a {kind} must have it.")


def _check_process(state: EmulatorState, code: int, name: str | None, where: str = "") -> str:
    """The server's name for process ``code``, after checking the report's code and name against it."""
    row = state.storage.process(code)
    if row is None:
        raise ApiError(400, f"{where}processCode {code} is not a process on this server "
                            "(GET /api/App/Processes lists them).")  # fmt: skip
    if not row["is_active"]:
        raise ApiError(400, f"{where}processCode {code} ('{row['name']}') is an inactive process.")
    if name is not None and name != row["name"]:
        hint = " (process names are case-sensitive)" if name.lower() == row["name"].lower() else ""
        raise ApiError(400, f"{where}processName '{name}' does not match process {code}, which is named "
                            f"'{row['name']}'{hint}.")  # fmt: skip
    return row["name"]


def _parse(data: str | dict[str, Any]) -> UUTReport | UURReport:
    try:
        return parse_report(data, lengths="strict")
    except ReportFormatError as error:
        raise ApiError(400, f"The report is not valid: {error}") from None


def store(state: EmulatorState, report: UUTReport | UURReport, body: str, fmt: str) -> dict[str, Any]:
    """Check a parsed report against the server's processes and store it; the ``InsertReportResult``."""
    process_name = _check_process(state, report.process_code, report.process_name)
    if isinstance(report, UURReport) and report.uur.process_code is not None:
        _check_process(state, report.uur.process_code, report.uur.process_name, "uur.")
    report_id = str(report.id).lower()
    received = datetime.now(timezone.utc).isoformat()
    stored = state.storage.store_report(report_id, header_columns(report, process_name), body, fmt, received)
    return {"ID": report_id, "uuid": report_id, "Report_ID": stored.report_no}


def accept_wsjf(state: EmulatorState, text: str) -> dict[str, Any]:
    """Validate and store one WSJF upload (blocking: runs in the thread pool)."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ApiError(400, f"The report is not valid JSON: {error.msg} (line {error.lineno}, "
                            f"column {error.colno}).") from None  # fmt: skip
    if not isinstance(raw, dict):
        raise ApiError(400, "The body must be one WSJF report: a JSON object.")
    _check_required(raw)
    return store(state, _parse(raw), text, "WSJF")


def accept_wsxf(state: EmulatorState, text: str) -> dict[str, Any]:
    """Validate and store one WSXF upload, kept as the WSJF of the same report."""
    wsxf = _wsxf_module()
    try:
        report = wsxf.loads(text)
    except ReportFormatError as error:
        raise ApiError(400, f"The report is not valid: {error}") from None
    document = wsjf.dumps(report)
    _check_required(json.loads(document))
    return store(state, report, document, "WSXF")


def _wsxf_module() -> Any:
    # Imported on use: the WSXF reader/writer is a separate module of pywats and may be absent.
    try:
        from pywats.formats import wsxf
    except ImportError:
        raise ApiError(501, "WSXF is not available on this emulator: pywats.formats.wsxf is not installed.") from None
    return wsxf


def _answer(state: EmulatorState, accept: Any, text: str) -> Any:
    try:
        result = accept(state, text)
    except ApiError:
        state.stats.count_report(accepted=False)
        raise
    state.stats.count_report(accepted=True)
    return result


@router.post("/api/Report/WSJF", summary="Post a new WSJF report.")
async def post_wsjf(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    text = await _body_text(request)
    return JSONResponse(await run_in_threadpool(_answer, state, accept_wsjf, text))


@router.post("/api/Report/WSXF", summary="Post a new WSXF report.")
async def post_wsxf(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    text = await _body_text(request)
    return JSONResponse(await run_in_threadpool(_answer, state, accept_wsxf, text))


# -- download -----------------------------------------------------------------------------------------


def _document(state: EmulatorState, report_id: uuid.UUID) -> dict[str, Any]:
    row = state.storage.get_report(str(report_id))
    if row is None:
        raise ApiError(404, f"Report {report_id} was not found.")
    return json.loads(row["body"])


def _level(value: int) -> int:
    if not 0 <= value <= 7:
        raise ApiError(400, f"detailLevel must be from 0 to 7, not {value}.")
    return value


@router.get("/api/Report/Wsjf/{id}", summary="Return a report in WSJF (Wats Standard JSON Format).")
def get_wsjf(
    id: uuid.UUID, detailLevel: int = 7, includeChartdata: bool = True, includeAttachments: bool = True,
    state: EmulatorState = Depends(get_state),
) -> JSONResponse:  # fmt: skip
    view = at_detail_level(
        _document(state, id), _level(detailLevel), include_attachments=includeAttachments,
        include_chart_data=includeChartdata,
    )  # fmt: skip
    return JSONResponse(view)


@router.get("/api/Report/Wsxf/{id}", summary="Return a report in WSXF (Wats Standard Xml Format).")
def get_wsxf(
    id: uuid.UUID, detailLevel: int = 7, includeAttachments: bool = True, includeChartdata: bool = True,
    includeIndexes: bool = True, state: EmulatorState = Depends(get_state),
) -> Response:  # fmt: skip
    # A WSXF test report always has its step tree, so levels below 3 give level 3. includeIndexes is
    # accepted for compatibility; the WSXF writer decides which indexes it writes.
    wsxf = _wsxf_module()
    view = at_detail_level(
        _document(state, id), max(_level(detailLevel), 3), include_attachments=includeAttachments,
        include_chart_data=includeChartdata,
    )  # fmt: skip
    return Response(wsxf.dumps(_parse(view)), media_type="application/xml")


# -- header query -------------------------------------------------------------------------------------


@router.get("/api/Report/Query/Header", summary="Returns a list of most recent reports matching the specified filter.")
def query_header(request: Request, state: EmulatorState = Depends(get_state)) -> JSONResponse:
    try:
        query = parse_query(dict(request.query_params), REPORT_HEADER, default_order=DEFAULT_ORDER)
    except ODataError as error:
        raise ApiError(400, str(error)) from None
    order = f"{query.order_by}, reports.timestamp DESC" if query.order_by != DEFAULT_ORDER else query.order_by
    rows = state.storage.read(
        f"SELECT {select_sql(query.select, with_body=bool(query.expand))} FROM reports WHERE {query.where}"
        f" ORDER BY {order} LIMIT ? OFFSET ?",
        [*query.params, query.top, query.skip],
    )
    headers = []
    for row in rows:
        header = header_from_row(row, query.select)
        if query.expand:
            header.update(expansions(json.loads(row["body"]), query.expand))
        headers.append(header)
    return JSONResponse(headers)


@router.get("/api/Report/Query/HeaderByMiscInfo", summary="Get report header data by searching for misc information")
def header_by_misc_info(
    processCode: int | None = None, serialNumber: str | None = None, description: str | None = None,
    data: str | None = None, state: EmulatorState = Depends(get_state),
) -> JSONResponse:  # fmt: skip
    misc_value = "COALESCE(json_extract(m.value, '$.text'), CAST(json_extract(m.value, '$.numeric') AS TEXT))"
    rows = state.storage.read(
        "SELECT id, sn, pn, start, result, process_code, process_name, body FROM reports"
        " WHERE (? IS NULL OR process_code = ?) AND (? IS NULL OR sn = ?)"
        " AND (? IS NULL AND ? IS NULL OR EXISTS (SELECT 1 FROM json_each(reports.body, '$.miscInfos') AS m"
        f"  WHERE (? IS NULL OR json_extract(m.value, '$.description') = ?) AND (? IS NULL OR {misc_value} = ?)))"
        " ORDER BY start_utc DESC LIMIT 1000",
        [processCode, processCode, serialNumber, serialNumber, description, data, description, description, data,
         data],
    )  # fmt: skip
    return JSONResponse([_misc_result(row) for row in rows])


def _misc_result(row: Any) -> dict[str, Any]:
    """One ``WATS_UUTResult``: the header of a report with its misc infos."""
    document = json.loads(row["body"])
    misc = expansions(document, ["miscInfo", "uurMiscInfo"])
    return {
        "miscData": [
            {"description": item["description"], "data": item["value"]}
            for item in misc["miscInfo"] + misc["uurMiscInfo"]
        ],
        "serialNumber": row["sn"], "partNumber": row["pn"], "start": row["start"],
        "result": RESULT_WORDS.get(row["result"], row["result"]), "uuid": row["id"],
        "processCode": row["process_code"], "processName": row["process_name"],
    }  # fmt: skip


# -- attachments --------------------------------------------------------------------------------------


def _disposition(filename: str) -> str:
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename) or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get("/api/Report/Attachment", summary="Get an attachment from a report using either attachmentId or stepId.")
def get_attachment(
    reportId: uuid.UUID, attachmentId: uuid.UUID | None = None, stepId: int | None = None,
    state: EmulatorState = Depends(get_state),
) -> Response:  # fmt: skip
    if attachmentId is None and stepId is None:
        raise ApiError(400, "Give attachmentId (repair reports) or stepId (test reports).")
    for attachment in attachments(_document(state, reportId)):
        if (attachmentId is not None and attachment.id == str(attachmentId)) or (
            attachmentId is None and attachment.step_id == stepId
        ):
            return Response(
                attachment.content(), media_type=attachment.content_type,
                headers={"Content-Disposition": _disposition(attachment.name)},
            )  # fmt: skip
    which = f"attachmentId {attachmentId}" if attachmentId is not None else f"stepId {stepId}"
    raise ApiError(404, f"Report {reportId} has no attachment with {which}.")


@router.get("/api/Report/Attachments/{id}", summary="Returns all attachments connected to a report as a zip archive")
def get_attachments(id: uuid.UUID, state: EmulatorState = Depends(get_state)) -> Response:
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for attachment in attachments(_document(state, id)):
            base = attachment.name.replace("/", "_").replace("\\", "_")
            name, number = base, 1
            while name in used:
                number += 1
                stem, dot, suffix = base.rpartition(".")
                name = f"{stem} ({number}).{suffix}" if dot and stem else f"{base} ({number})"
            used.add(name)
            archive.writestr(name, attachment.content())
    return Response(
        buffer.getvalue(), media_type="application/zip", headers={"Content-Disposition": _disposition(f"{id}.zip")}
    )

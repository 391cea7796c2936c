"""Read-only HTML pages: the reports received (``/``) and one report's steps (``/reports/{id}``).

Rendered on the server with no JavaScript; every value from a report goes through :func:`html.escape`
(reports come from outside and may hold markup), and the pages forbid scripts with a Content-Security-Policy.
They need no token: the emulator listens on loopback unless told otherwise (see :mod:`pywats_emulator.auth`).
"""

from __future__ import annotations

import json
import uuid
from html import escape
from typing import Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from .documents import iter_steps_with_depth
from .errors import ApiError
from .headers import RESULT_WORDS
from .state import EmulatorState, get_state

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse}td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{background:#f4f4f4}.P{color:#07802b}.F{color:#c0261b;font-weight:bold}.E,.T{color:#b35c00}.S,.D{color:#666}
.muted{color:#777}a{color:#0b57a4}
"""


def _page(title: str, body: str) -> HTMLResponse:
    html = (
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff"})


def _status(code: Any) -> str:
    text = "" if code is None else str(code)
    return f"<span class='{escape(text[:1])}'>{escape(RESULT_WORDS.get(text, text))}</span>"


def _cell(value: Any) -> str:
    return f"<td>{escape('' if value is None else str(value))}</td>"


@router.get("/", response_class=HTMLResponse)
async def report_list(page: int = 1, state: EmulatorState = Depends(get_state)) -> HTMLResponse:
    page = max(page, 1)
    rows = await run_in_threadpool(state.storage.recent_reports, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
    total = await run_in_threadpool(state.storage.count_reports)
    lines = []
    for row in rows[:PAGE_SIZE]:
        link = f"/reports/{escape(row['id'])}"
        lines.append(
            "<tr>" + _cell(row["timestamp"]) + _cell(row["received"][:19].replace("T", " "))
            + _cell(row["type"]) + f"<td>{_status(row['result'])}</td>"
            + f"<td><a href='{link}'>{escape(row['sn'])}</a></td>" + _cell(row["pn"]) + _cell(row["rev"])
            + _cell(f"{row['process_code']} {row['process_name'] or ''}") + _cell(row["station"])
            + _cell(row["start"]) + _cell(row["receive_count"]) + "</tr>"
        )  # fmt: skip
    pager = []
    if page > 1:
        pager.append(f"<a href='/?page={page - 1}'>newer</a>")
    if len(rows) > PAGE_SIZE:
        pager.append(f"<a href='/?page={page + 1}'>older</a>")
    table = (
        "<table><tr><th>#</th><th>Received (UTC)</th><th>Type</th><th>Result</th><th>Serial number</th>"
        "<th>Part number</th><th>Rev</th><th>Process</th><th>Station</th><th>Start</th><th>Received</th></tr>"
        + "".join(lines) + "</table>"
        if lines else "<p class=muted>No reports yet. POST one to /api/Report/WSJF.</p>"
    )  # fmt: skip
    body = f"<h1>pyWATS emulator</h1><p>{total} report{'s' * (total != 1)}, newest first.</p>{table}"
    return _page("pyWATS emulator: reports", body + f"<p>{' · '.join(pager)}</p>")


def _measurements(step: dict[str, Any]) -> list[str]:
    found = []
    for meas in step.get("numericMeas") or []:
        if isinstance(meas, dict):
            limits = " .. ".join(str(meas[key]) for key in ("lowLimit", "highLimit") if meas.get(key) is not None)
            found.append(
                f"{meas.get('name') or ''} = {meas.get('value')} {meas.get('unit') or ''}"
                f" [{meas.get('compOp') or 'LOG'} {limits}] {meas.get('status') or ''}"
            )
    for meas in step.get("stringMeas") or []:
        if isinstance(meas, dict):
            found.append(
                f"{meas.get('name') or ''} = {meas.get('value')!r} [{meas.get('compOp') or 'LOG'}"
                f" {meas.get('limit') if meas.get('limit') is not None else ''}] {meas.get('status') or ''}"
            )
    for meas in step.get("booleanMeas") or []:
        if isinstance(meas, dict):
            found.append(f"{meas.get('name') or ''} {meas.get('status') or ''}")
    chart = step.get("chart")
    if isinstance(chart, dict):
        found.append(f"chart {chart.get('label') or ''} ({len(chart.get('series') or [])} series)")
    attachment = step.get("attachment")
    if isinstance(attachment, dict):
        found.append(f"attachment {attachment.get('name') or ''} ({attachment.get('contentType') or ''})")
    if isinstance(step.get("messagePopup"), dict):
        found.append(f"popup response {step['messagePopup'].get('response')!r}")
    if isinstance(step.get("callExe"), dict):
        found.append(f"exit code {step['callExe'].get('exitCode')}")
    return found


def _steps_table(document: dict[str, Any]) -> str:
    rows = []
    for depth, step in iter_steps_with_depth(document):
        details = "<br>".join(escape(text) for text in _measurements(step))
        rows.append(
            "<tr>" + _cell(step.get("id"))
            + f"<td style='padding-left:{0.6 + 1.5 * depth:.1f}em'>{escape(str(step.get('name') or ''))}</td>"
            + _cell(step.get("stepType")) + f"<td>{_status(step.get('status'))}</td>" + f"<td>{details}</td></tr>"
        )  # fmt: skip
    if not rows:
        return ""
    return (
        "<h2>Steps</h2><table><tr><th>Id</th><th>Step</th><th>Type</th><th>Status</th><th>Measurements</th></tr>"
        + "".join(rows) + "</table>"
    )  # fmt: skip


def _units_table(document: dict[str, Any]) -> str:
    rows = []
    for unit in document.get("subUnits") or []:
        if not isinstance(unit, dict):
            continue
        failures = "<br>".join(
            escape(" ".join(str(f.get(key) or "") for key in ("category", "code", "comRef", "comment")))
            for f in unit.get("failures") or [] if isinstance(f, dict)
        )  # fmt: skip
        cells = "".join(_cell(unit.get(key)) for key in ("idx", "partType", "sn", "pn", "rev"))
        rows.append(f"<tr>{cells}<td>{failures}</td></tr>")
    if not rows:
        return ""
    return ("<h2>Sub units</h2><table><tr><th>Idx</th><th>Part type</th><th>Serial number</th><th>Part number</th>"
            "<th>Rev</th><th>Failures</th></tr>" + "".join(rows) + "</table>")  # fmt: skip


@router.get("/reports/{id}", response_class=HTMLResponse)
async def report_page(id: uuid.UUID, state: EmulatorState = Depends(get_state)) -> HTMLResponse:
    row = await run_in_threadpool(state.storage.get_report, str(id))
    if row is None:
        raise ApiError(404, f"Report {id} was not found.")
    document = json.loads(row["body"])
    header = [
        ("Id", row["id"]), ("Type", "test (UUT)" if row["type"] == "T" else "repair (UUR)"),
        ("Serial number", row["sn"]), ("Part number", row["pn"]), ("Revision", row["rev"]),
        ("Process", f"{row['process_code']} {row['process_name'] or ''}"), ("Station", row["station"]),
        ("Location", row["location"]), ("Purpose", row["purpose"]), ("Start", row["start"]),
        ("Operator", row["user_name"]), ("Received", f"{row['received']} ({row['receive_count']}×, {row['format']})"),
        ("Size", f"{row['size']} bytes"),
    ]  # fmt: skip
    misc = [
        (f"misc: {m.get('description')}", m.get("text") if m.get("text") is not None else m.get("numeric"))
        for m in document.get("miscInfos") or [] if isinstance(m, dict)
    ]  # fmt: skip
    table = "".join(f"<tr><th>{escape(name)}</th>{_cell(value)}</tr>" for name, value in header + misc)
    body = (
        f"<p><a href='/'>&larr; all reports</a></p><h1>{escape(row['sn'])} {_status(row['result'])}</h1>"
        f"<table>{table}</table>{_units_table(document)}{_steps_table(document)}"
    )
    return _page(f"{row['sn']}: report {row['id']}", body)

"""Views of a stored WSJF document (a plain dict): detail levels, attachments and ``$expand`` lists.

WATS documents detail levels only at their ends ("0 is report identifying data and 7 is full report"),
plus two hints: attachment data appears from level 4 and chart data at level 6 (the ``includeAttachments``
and ``includeChartdata`` parameters). The emulator fills the levels in between in the same spirit:

====  =========================================================================================
0     header: type, id, pn, sn, rev, process, result, station, location, purpose, start
1     + ``uut`` / ``uur`` and ``miscInfos``
2     + ``subUnits`` (with repair failures, without their attachments) and ``assets``
3     + the step tree (``root``): each step's own fields, no measurements or payloads
4     + measurements, message popups, call-executables and attachments (``binaryData`` included)
5     + ``additionalData`` and steps' ``additionalResults``
6     + charts
7     the full report as stored, including fields the emulator does not know
====  =========================================================================================

``includeAttachments=false`` removes attachment ``data`` (name and type stay); ``includeChartdata=false``
removes chart ``series``.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Iterator
from typing import Any

HEADER_KEYS = (
    "type", "id", "pn", "sn", "rev", "productName", "processCode", "processName", "processCodeFormat", "result",
    "machineName", "location", "purpose", "start", "startUTC", "origin",
)  # fmt: skip
_LEVEL_KEYS = {
    1: ("uut", "uur", "miscInfos"),
    2: ("subUnits", "assets", "assetStats"),
    3: ("root",),
    4: ("binaryData",),
    5: ("additionalData",),
}
_STEP_KEYS_BY_LEVEL = {
    4: ("numericMeas", "stringMeas", "booleanMeas", "messagePopup", "callExe", "attachment"),
    5: ("additionalResults",),
    6: ("chart",),
}


def at_detail_level(
    document: dict[str, Any], level: int, *, include_attachments: bool = True, include_chart_data: bool = True
) -> dict[str, Any]:
    """A copy of ``document`` cut to a detail level from 0 to 7 (see the module docstring)."""
    if level >= 7:
        view = copy.deepcopy(document)
    else:
        keys = set(HEADER_KEYS).union(*(keys for lvl, keys in _LEVEL_KEYS.items() if lvl <= level))
        view = {key: copy.deepcopy(value) for key, value in document.items() if key in keys}
        dropped = {key for lvl, keys in _STEP_KEYS_BY_LEVEL.items() if lvl > level for key in keys}
        for step in iter_steps(view):
            for key in dropped & step.keys():
                del step[key]
        if level < 4:
            for unit in view.get("subUnits") or []:
                for failure in unit.get("failures") or [] if isinstance(unit, dict) else []:
                    if isinstance(failure, dict):
                        failure.pop("attachments", None)
    if not include_attachments:
        for attachment in _attachment_dicts(view):
            attachment.pop("data", None)
    if not include_chart_data:
        for step in iter_steps(view):
            if isinstance(step.get("chart"), dict):
                step["chart"].pop("series", None)
    return view


def iter_steps(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every step dict of a document, depth first from the root."""
    pending = [document.get("root")]
    while pending:
        step = pending.pop()
        if isinstance(step, dict):
            yield step
            children = step.get("steps")
            if isinstance(children, list):
                pending.extend(reversed(children))


def iter_steps_with_depth(document: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every step dict with its depth (root = 0), depth first: the order a report is read in."""
    pending: list[tuple[int, Any]] = [(0, document.get("root"))]
    while pending:
        depth, step = pending.pop()
        if isinstance(step, dict):
            yield depth, step
            children = step.get("steps")
            if isinstance(children, list):
                pending.extend((depth + 1, child) for child in reversed(children))


def _failure_attachments(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for unit in document.get("subUnits") or []:
        if isinstance(unit, dict):
            for failure in unit.get("failures") or []:
                if isinstance(failure, dict):
                    yield from (a for a in failure.get("attachments") or [] if isinstance(a, dict))


def _attachment_dicts(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for step in iter_steps(document):
        if isinstance(step.get("attachment"), dict):
            yield step["attachment"]
    yield from (a for a in document.get("binaryData") or [] if isinstance(a, dict))
    yield from _failure_attachments(document)


# -- attachments --------------------------------------------------------------------------------------


class Attachment:
    """One attachment of a report: where it sits, its name, MIME type and bytes."""

    def __init__(self, data: dict[str, Any], *, step_id: int | None = None) -> None:
        self.step_id = step_id
        self.id = str(data["id"]).lower() if data.get("id") else None
        self.name = str(data.get("name") or (self.id or f"step-{step_id}"))
        self.content_type = str(data.get("contentType") or "application/octet-stream")
        self._data = data.get("data") or ""

    def content(self) -> bytes:
        try:
            return base64.b64decode(self._data, validate=False)
        except (binascii.Error, ValueError):
            return b""


def attachments(document: dict[str, Any]) -> list[Attachment]:
    """Every attachment: step attachments (UUT), then ``binaryData`` and failure attachments (UUR)."""
    found = [
        Attachment(step["attachment"], step_id=step.get("id"))
        for step in iter_steps(document)
        if isinstance(step.get("attachment"), dict)
    ]
    found += [Attachment(a) for a in document.get("binaryData") or [] if isinstance(a, dict)]
    found += [Attachment(a) for a in _failure_attachments(document)]
    return found


# -- $expand of the header query ----------------------------------------------------------------------


def _misc(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"description": misc.get("description"),
         "value": misc.get("text") if misc.get("text") is not None else _text(misc.get("numeric"))}
        for misc in document.get("miscInfos") or [] if isinstance(misc, dict)
    ]  # fmt: skip


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def expansions(document: dict[str, Any], names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The ``$expand`` lists of a header (``ReportHeader`` schema); lists of the other report type are empty."""
    is_uut = document.get("type") == "T"
    units = [unit for unit in document.get("subUnits") or [] if isinstance(unit, dict)]
    found = attachments(document)
    lists: dict[str, Any] = {
        "subUnits": lambda: [
            {"partType": u.get("partType"), "serialNumber": u.get("sn"), "partNumber": u.get("pn"),
             "revision": u.get("rev")} for u in units
        ] if is_uut else [],
        "miscInfo": lambda: _misc(document) if is_uut else [],
        "assets": lambda: [
            {"serialNumber": a.get("assetSN"), "runningCount": a.get("usageCount")}
            for a in document.get("assets") or [] if isinstance(a, dict)
        ],
        "attachments": lambda: [
            {"stepId": a.step_id, "filename": a.name} for a in found if a.step_id is not None
        ] if is_uut else [],
        "uurSubUnits": lambda: [
            {"serialNumber": u.get("sn"), "partNumber": u.get("pn"), "revision": u.get("rev")} for u in units
        ] if not is_uut else [],
        "uurMiscInfo": lambda: _misc(document) if not is_uut else [],
        "uurAttachments": lambda: [{"id": a.id, "filename": a.name} for a in found if a.id] if not is_uut else [],
    }  # fmt: skip
    return {name: lists[name]() for name in names}

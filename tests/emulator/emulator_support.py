"""Helpers of the emulator tests: small WSJF reports built as plain dicts, and HTTP shortcuts.

The reports are written by hand (not by the builder) so these tests depend only on the WSJF format.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from pathlib import Path
from typing import Any

import httpx

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n-fake-image-bytes").decode()


def make_report(**overrides: Any) -> dict[str, Any]:
    """A small valid UUT report: a sequence with a numeric test and an attached file (step id 3)."""
    report: dict[str, Any] = {
        "type": "T",
        "id": str(uuid.uuid4()),
        "pn": "PCBA-100",
        "sn": "SN-0001",
        "rev": "A",
        "processCode": 10,
        "processName": "SW Debug",
        "result": "P",
        "machineName": "Station-1",
        "location": "Line 1",
        "purpose": "Production",
        "start": "2024-05-01T10:00:00+02:00",
        "miscInfos": [{"description": "Firmware", "text": "1.4.2"}],
        "subUnits": [{"partType": "PCBA", "sn": "SUB-1", "pn": "SUBPN", "rev": "B"}],
        "uut": {"user": "operator", "execTime": 12.5, "batchSN": "BATCH-7", "fixtureId": "FX-1"},
        "root": {
            "id": 0, "group": "M", "stepType": "SequenceCall", "name": "MainSequence", "status": "P",
            "seqCall": {"path": "main.seq", "name": "main.seq", "version": "1.0"},
            "steps": [
                {"id": 1, "group": "M", "stepType": "SequenceCall", "name": "Power", "status": "P",
                 "seqCall": {"path": "power.seq", "name": "power.seq", "version": "1.0"},
                 "steps": [
                     {"id": 2, "group": "M", "stepType": "ET_NLT", "name": "Vcc", "status": "P",
                      "numericMeas": [{"compOp": "GELE", "value": 3.31, "lowLimit": 3.2, "highLimit": 3.4,
                                       "unit": "V", "status": "P"}]},
                 ]},
                {"id": 3, "group": "M", "stepType": "WATS_AttachFile", "name": "Photo", "status": "P",
                 "attachment": {"name": "photo.png", "contentType": "image/png", "data": PNG}},
            ],
        },
    }  # fmt: skip
    report.update(overrides)
    return report


def make_repair(**overrides: Any) -> dict[str, Any]:
    """A small valid UUR report with one failure that carries an attachment."""
    report: dict[str, Any] = {
        "type": "R",
        "id": str(uuid.uuid4()),
        "pn": "PCBA-100",
        "sn": "SN-0001",
        "rev": "A",
        "processCode": 500,
        "processName": "Repair",
        "result": "P",
        "machineName": "Repair-1",
        "location": "Line 1",
        "purpose": "Repair",
        "start": "2024-05-02T09:00:00Z",
        "uur": {"user": "tech", "processCode": 10, "processName": "SW Debug", "refUUT": str(uuid.uuid4())},
        "miscInfos": [{"description": "Cause", "text": "solder bridge"}],
        "subUnits": [
            {"partType": "PCBA", "sn": "SN-0001", "pn": "PCBA-100", "rev": "A", "idx": 0, "failures": [
                {"category": "Solder", "code": "Bridge", "comRef": "R5", "attachments": [
                    {"id": "11111111-2222-3333-4444-555555555555", "name": "bridge.png", "contentType": "image/png",
                     "data": PNG}]},
            ]},
        ],
    }  # fmt: skip
    report.update(overrides)
    return report


def post_wsjf(client: httpx.Client, report: dict[str, Any] | str | bytes) -> httpx.Response:
    body = report if isinstance(report, (str, bytes)) else json.dumps(report)
    return client.post("/api/Report/WSJF", content=body, headers={"Content-Type": "application/json"})


def accepted(client: httpx.Client, report: dict[str, Any]) -> str:
    """Post a report that must be accepted; its id."""
    response = post_wsjf(client, report)
    assert response.status_code == 200, response.text
    return response.json()["ID"]


def headers_query(client: httpx.Client, **options: Any) -> httpx.Response:
    """``GET /api/Report/Query/Header`` with OData options given as filter=..., top=... (``$`` added)."""
    return client.get("/api/Report/Query/Header", params={f"${key}": value for key, value in options.items()})


def read_sample(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")


def with_changes(report: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(report)
    changed.update(changes)
    return changed

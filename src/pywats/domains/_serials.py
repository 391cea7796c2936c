"""Serial number pools (``api.production``'s serial number calls): models and the readers of WATS's answers.

WATS hands out serial numbers (and MAC addresses, IMEIs...) from pools, one per *serial number type*.
``POST /api/Production/SerialNumbers/Take`` answers "in either XML or CSV format", and the OpenAPI document
gives no schema for that or for the range and reference lookups. So the readers here accept every shape
these answers come in and return the same thing whatever the server chose:

- XML: ``<SerialNumbers><SN id="00:50:C2:00:00:01" .../></SerialNumbers>``; any element with an ``id``
  attribute (or, failing that, a leaf element's text) is one serial number, its other attributes the record;
- CSV: one serial number per line; a first line naming the columns (``serialNumber,refSN,...``) is a header;
- JSON: a list of strings or of objects.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

import httpx
from pydantic import Field

from ._models import ApiModel, WatsDateTime

_NUMBER_COLUMNS = ("serialnumber", "sn", "id", "address")


class SerialNumberType(ApiModel):
    """A pool of serial numbers (``SerialNumberType``): its name is what the other calls take."""

    name: str | None = None
    description: str | None = None
    format: str | None = None
    reg_ex: str | None = None
    identifier: int | None = None
    identifier_name: str | None = None


class SerialNumber(ApiModel):
    """One serial number of a pool and, once taken, who took it for what.

    ``ref_sn`` / ``ref_pn`` are the unit it was taken for, ``station_name`` the station that asked.
    """

    serial_number: str | None = None
    serial_number_type: str | None = None
    taken: bool | None = None
    ref_sn: str | None = Field(default=None, alias="refSN")
    ref_pn: str | None = Field(default=None, alias="refPN")
    station_name: str | None = None
    generated_utc: WatsDateTime | None = None
    taken_utc: WatsDateTime | None = None


def _record(fields: dict[str, Any]) -> SerialNumber:
    """A record from XML attributes or CSV columns: the serial number under any of its usual names."""
    data = {key: value for key, value in fields.items() if value not in (None, "")}
    for key in list(data):
        if key.lower() in _NUMBER_COLUMNS and "serialNumber" not in data:
            data["serialNumber"] = data.pop(key)
    if isinstance(data.get("taken"), str):
        data["taken"] = data["taken"].strip().lower() in ("true", "1", "yes")
    return SerialNumber.model_validate(data)


def _from_xml(text: str) -> list[SerialNumber]:
    root = ElementTree.fromstring(text)
    records = []
    for element in root.iter():
        if element is root and len(element):
            continue
        attributes = dict(element.attrib)
        if "id" in attributes or any(key.lower() in _NUMBER_COLUMNS for key in attributes):
            records.append(_record(attributes))
        elif not len(element) and element.text and element.text.strip() and element is not root:
            records.append(_record({**attributes, "serialNumber": element.text.strip()}))
    return records


def _from_csv(text: str) -> list[SerialNumber]:
    rows = [row for row in csv.reader(io.StringIO(text)) if row and any(cell.strip() for cell in row)]
    if not rows:
        return []
    header = [cell.strip() for cell in rows[0]]
    if any(cell.lower() in _NUMBER_COLUMNS for cell in header):
        return [_record(dict(zip(header, (cell.strip() for cell in row)))) for row in rows[1:]]
    return [SerialNumber(serial_number=row[0].strip()) for row in rows]


def _from_json(data: Any) -> list[SerialNumber]:
    if isinstance(data, dict):
        # One record, or a wrapper holding the list under some key.
        lists = [value for value in data.values() if isinstance(value, list)]
        data = lists[0] if len(lists) == 1 and not any(key.lower() in _NUMBER_COLUMNS for key in data) else [data]
    if not isinstance(data, list):
        raise ValueError(f"expected a list of serial numbers, got {type(data).__name__}")
    return [SerialNumber(serial_number=item) if isinstance(item, str) else _record(item) for item in data]


def parse_serial_text(text: str) -> list[SerialNumber]:
    """Serial number records from an answer in XML, CSV or JSON (told apart by the first character)."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        return []
    if stripped[0] == "<":
        return _from_xml(stripped)
    if stripped[0] in "[{\"":
        return _from_json(json.loads(stripped))
    return _from_csv(stripped)


def serial_records(response: httpx.Response) -> list[SerialNumber]:
    """Parser: the records of a range, reference or export answer."""
    return parse_serial_text(response.text)


def serial_values(response: httpx.Response) -> list[str]:
    """Parser: just the serial numbers of a take answer, in the server's order."""
    return [record.serial_number for record in parse_serial_text(response.text) if record.serial_number]


def date_param(value: datetime | None) -> datetime | None:
    """A date-time query value; a naive one is sent as it is (WATS reads it as server time)."""
    if value is not None and not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, not {type(value).__name__}")
    return value


__all__ = ["SerialNumber", "SerialNumberType", "parse_serial_text", "serial_records", "serial_values"]

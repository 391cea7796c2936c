"""Input checks shared by the MES routers (product, asset): JSON bodies, typed fields, OData lists, ids.

Each check raises :class:`~pywats_emulator.errors.ApiError` 400 with a sentence naming the field as the
client spelled it (``products[2].partNumber``), so a refused request says what to fix. Rules the routers
follow with these:

1. A malformed or missing field is 400. An unknown id in the path or the query (the thing the request is
   about) is 404. An unknown id that a body refers to (an asset's ``typeId``, a revision's product) is 400:
   the request itself is wrong, as WATS answers for an unknown ``processCode`` in a report.
2. Names (part numbers, serial numbers, type names) are unique without regard to case, as on WATS's SQL
   Server; ids are GUIDs stored in lower case.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from xml.etree import ElementTree

from starlette.requests import Request

from ..errors import ApiError
from ..odata import EntitySchema, ODataError, parse_query, utc_text
from ..state import EmulatorState

NAME_LENGTH = 100  # WATS's limit for part and serial numbers (FORMATS.md, lengths)


def now_text() -> str:
    """Now, in the sortable UTC text form every date is stored in."""
    return utc_text(datetime.now(timezone.utc))


def new_id() -> str:
    return str(uuid.uuid4())


async def json_body(request: Request) -> Any:
    """The request's JSON body; 400 when it is empty or not JSON."""
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, "The request body is empty: send the JSON the endpoint takes.")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ApiError(400, "The request body is not UTF-8 text.") from None
    except json.JSONDecodeError as error:
        raise ApiError(400, f"The request body is not valid JSON: {error.msg} (line {error.lineno}, "
                            f"column {error.colno}).") from None  # fmt: skip


def json_object(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ApiError(400, f"{where} must be a JSON object.")
    return data


def json_list(data: Any, where: str) -> list[Any]:
    if not isinstance(data, list):
        raise ApiError(400, f"{where} must be a JSON array.")
    return data


def text(data: Mapping[str, Any], key: str, where: str, *, required: bool = False,
         max_length: int | None = None) -> str | None:  # fmt: skip
    """A string field; ``required`` also refuses an empty one."""
    value = data.get(key)
    if value is None or (required and isinstance(value, str) and not value.strip()):
        if required:
            raise ApiError(400, f"{where}.{key} is required.")
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"{where}.{key} must be a string, not {json.dumps(value)}.")
    if max_length is not None and len(value) > max_length:
        raise ApiError(400, f"{where}.{key} is longer than {max_length} characters.")
    return value


def integer(data: Mapping[str, Any], key: str, where: str, *, minimum: int | None = None,
            choices: range | None = None) -> int | None:  # fmt: skip
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"{where}.{key} must be a whole number, not {json.dumps(value)}.")
    if choices is not None and value not in choices:
        raise ApiError(400, f"{where}.{key} must be from {choices.start} to {choices.stop - 1}, not {value}.")
    if minimum is not None and value < minimum:
        raise ApiError(400, f"{where}.{key} must be at least {minimum}, not {value}.")
    return value


def number(data: Mapping[str, Any], key: str, where: str) -> float | None:
    """A number >= 0 (intervals, thresholds)."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ApiError(400, f"{where}.{key} must be a number of at least 0, not {json.dumps(value)}.")
    return float(value)


def boolean(data: Mapping[str, Any], key: str, where: str) -> bool | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ApiError(400, f"{where}.{key} must be true or false, not {json.dumps(value)}.")


def guid(value: Any, where: str) -> str | None:
    """A GUID in lower case; None for null or empty (WATS's "leave it empty")."""
    if value is None or value == "":
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ApiError(400, f"{where} must be a GUID, not {json.dumps(value)}.") from None


def xml_data(data: Mapping[str, Any], key: str, where: str) -> str | None:
    """``xmlData``: well-formed XML whose root element is ``<Root>``."""
    value = text(data, key, where)
    if not value:
        return None
    try:
        root = ElementTree.fromstring(value)
    except ElementTree.ParseError as error:
        raise ApiError(400, f"{where}.{key} is not well-formed XML: {error}.") from None
    if root.tag != "Root":
        raise ApiError(400, f"{where}.{key} must have the root element <Root>, not <{root.tag}>.")
    return value


def tags_of(xml: str | None) -> list[dict[str, Any]]:
    """``xmlData`` as WATS's JSON tags: each child of ``<Root>`` with a ``Value`` is ``{key, value}``."""
    if not xml:
        return []
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return []
    return [{"key": child.tag, "value": child.get("Value")} for child in root if "Value" in child.attrib]


def date_param(value: str | None, name: str) -> str | None:
    """A date-time query parameter in the stored form; ISO 8601, no offset meaning UTC."""
    if value is None or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{name} must be an ISO 8601 date and time, not '{value}'.") from None
    return utc_text(moment)


def odata_list(request: Request, state: EmulatorState, schema: EntitySchema, table: str, *,
               default_order: str, default_top: int = 1000, max_top: int = 10_000) -> list[dict[str, Any]]:  # fmt: skip
    """Rows of ``table`` for an OData GET (``$filter $orderby $top $skip $select``), as JSON objects.

    ``table`` is SQL written in this package (a table name or a join); every value is a bound parameter.
    """
    if request.query_params.get("$expand", "").strip():
        raise ApiError(400, f"$expand is not supported on {schema.type_name}: it has no related lists.")
    try:
        query = parse_query(dict(request.query_params), schema, default_order=default_order,
                            default_top=default_top, max_top=max_top)  # fmt: skip
    except ODataError as error:
        raise ApiError(400, str(error)) from None
    columns = ", ".join(f"{field.select_sql} AS \"{field.name}\"" for field in query.select)
    order = query.order_by if query.order_by == default_order else f"{query.order_by}, {default_order}"
    rows = state.storage.read(f"SELECT {columns} FROM {table} WHERE {query.where} ORDER BY {order} LIMIT ? OFFSET ?",
                              [*query.params, query.top, query.skip])  # fmt: skip
    return [dict(row) for row in rows]


class _Rows:
    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[Any]:
        return self.rows


class Reader:
    """A read-only stand-in for a connection (``execute(...).fetchone()``), so the helpers that take one also
    serve GET requests without taking the write lock."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage

    def execute(self, sql: str, params: Any = ()) -> _Rows:
        return _Rows(self.storage.read(sql, params))


XML_NAME = re.compile(r"(?!(?i:xml))[A-Za-z_][A-Za-z0-9_.-]*")


def request_user(request: Request) -> str:
    """Who made the request, for log records: the user part of a ``user:secret`` base64 token, else "API"."""
    header = request.headers.get("authorization", "")
    try:
        decoded = base64.b64decode(header.partition(" ")[2].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return "API"
    user, separator, _ = decoded.partition(":")
    return user if separator and re.fullmatch(r"[\w.@-]{1,100}", user) else "API"


__all__ = [
    "NAME_LENGTH", "XML_NAME", "Reader", "boolean", "date_param", "guid", "integer", "json_body", "json_list",
    "json_object", "new_id", "now_text", "number", "odata_list", "request_user", "tags_of", "text", "xml_data",
]  # fmt: skip

"""``Op``: one WATS endpoint call described as data, with no I/O.

An endpoint is written once as a function that returns an ``Op`` (method, path, query, body, and how to read the
answer). Both clients execute the same ``Op``: the sync one with ``httpx.Client``, the async one with
``httpx.AsyncClient``, and everything else (URL and query encoding, headers, parsing, error mapping) is shared.
That is the idea of h11 and httpx's ``Auth.auth_flow``: the logic is pure, the drivers are thin.

An endpoint that needs several calls, or client state between them, is a *flow*: a generator that yields
``Op`` objects, receives each one's parsed result, and returns the final value (see
:mod:`pywats.domains._domain`).

Rules:

1. Every path parameter goes through :func:`path_segment` (or is a ``UUID``), so a value can never add a path
   segment or a query of its own.
2. The query string is encoded here, not by httpx, so OData option names keep their ``$`` and spaces become
   ``%20`` (``+`` is not a space to every OData parser).
3. ``parse`` turns anything unreadable in a 2xx answer into ``APIResponseValidationError``: a caller never sees a
   raw ``json.JSONDecodeError`` or pydantic ``ValidationError`` from a server answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any, Callable, Generic, TypeVar
from urllib.parse import quote, urlencode
from uuid import UUID

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from ._exceptions import APIResponseValidationError
from ._retry import is_idempotent

T = TypeVar("T")

Parser = Callable[[httpx.Response], T]


def query_value(value: Any) -> str:
    """How a Python value is written in a query string: booleans lower case, enums by value, dates in ISO 8601."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return query_value(value.value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def encode_query(params: Mapping[str, Any]) -> str:
    """``{"$top": 5, "x": None}`` → ``$top=5``. None values are left out; keys keep a literal ``$``."""
    pairs = [(key, query_value(value)) for key, value in params.items() if value is not None]
    return urlencode(pairs, quote_via=quote, safe="$")


def path_segment(value: Any) -> str:
    """One URL path segment holding ``value``, with every reserved character (``/``, ``?``, ``#``...) escaped."""
    text = query_value(value)
    if not text:
        raise ValueError("a path parameter cannot be empty")
    return quote(text, safe="")


def as_uuid(value: UUID | str, what: str = "report id") -> UUID:
    """``value`` as a UUID; a clear ValueError for anything else (it would otherwise end up in a URL)."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise ValueError(f"{what} must be a UUID, not {value!r}") from None


def encode_json(payload: Any) -> bytes:
    """JSON bytes for a request body; pydantic models are written with their WATS (alias) names, None left out."""
    if isinstance(payload, BaseModel):
        return payload.model_dump_json(by_alias=True, exclude_none=True).encode()
    return json.dumps(payload, separators=(",", ":"), default=str).encode()


@dataclass(frozen=True, eq=False)
class Op(Generic[T]):
    """One request to WATS and how to read its answer.

    Args:
        method: HTTP method.
        path: absolute path under the server root, e.g. ``/api/Report/WSJF`` (already escaped).
        params: query parameters; None values are dropped.
        body: the request body, already encoded.
        content_type: the body's media type.
        accept: the media type asked for.
        parser: reads a 2xx response into the result.
        idempotent: overrides the method's idempotency (True for report submission and query POSTs).
        missing_ok: a 404 means "no such thing": in ``ErrorMode.LENIENT`` the call returns None instead.
    """

    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str | None = None
    accept: str = "application/json"
    parser: Parser[T] = field(default=lambda response: response.json())
    idempotent: bool | None = None
    missing_ok: bool = False

    @property
    def url(self) -> str:
        """Path and encoded query, relative to the client's base URL."""
        query = encode_query(self.params)
        return f"{self.path}?{query}" if query else self.path

    @property
    def is_idempotent(self) -> bool:
        """Whether the client may resend this request after an ambiguous failure."""
        return is_idempotent(self.method, self.idempotent)

    @property
    def headers(self) -> dict[str, str]:
        """Per-request headers (auth and user agent are the client's)."""
        headers = {"Accept": self.accept}
        if self.content_type is not None:
            headers["Content-Type"] = self.content_type
        return headers

    def parse(self, response: httpx.Response) -> T:
        """Read a 2xx response with ``parser``.

        Raises:
            APIResponseValidationError: the answer is not what this endpoint returns.
        """
        try:
            return self.parser(response)
        except (ValueError, ValidationError, KeyError, TypeError, IndexError) as exc:
            # ValueError covers json.JSONDecodeError and UnicodeDecodeError; ReportFormatError is one too.
            body: Any = response.text[:2000] if response.content else None
            raise APIResponseValidationError(
                f"{self.method} {self.path}: unexpected answer from the server: {exc}", response=response, body=body
            ) from exc

    def __repr__(self) -> str:
        size = f" body={len(self.body)}B" if self.body is not None else ""
        return f"<Op {self.method} {self.url}{size}>"


@lru_cache(maxsize=None)
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def json_as(tp: Any) -> Parser[Any]:
    """A parser validating the JSON answer as ``tp`` (a model, ``list[Model]``, ``int``...)."""
    adapter = _adapter(tp)
    return lambda response: adapter.validate_json(response.content)


def text_body(response: httpx.Response) -> str:
    """The answer as text (decoded by its charset, UTF-8 when none is given)."""
    return response.text


def bytes_body(response: httpx.Response) -> bytes:
    """The answer's raw bytes (attachments, zip archives)."""
    return response.content


__all__ = [
    "Op",
    "Parser",
    "as_uuid",
    "bytes_body",
    "encode_json",
    "encode_query",
    "json_as",
    "path_segment",
    "query_value",
    "text_body",
]

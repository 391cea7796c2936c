"""Pieces the MES areas (``api.production``, ``api.software``, ``api.rootcause``) share.

- :func:`settings_of`: units, software packages and root cause tickets carry their tags as a list of WATS's
  key/value ``Setting`` (:class:`pywats.domains.product.Setting`); this lets a caller write
  ``{"Station": "ICT-01"}`` instead.
- :func:`file_upload`: the ``multipart/form-data`` body WATS wants for file uploads (serial number files,
  software zips, ticket attachments). httpx writes it, so the encoding is the one httpx tests; the ``Op``
  keeps it as plain bytes, so a retried upload sends the very same body.
- Parsers for the answers WATS types loosely: commands whose answer carries nothing to keep
  (:func:`no_content`), and lists that the document types as a single object (:func:`list_of`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Callable, TypeVar, Union

import httpx
from pydantic import BaseModel

from .product import Setting  # the one Setting model; product.py owns it

T = TypeVar("T", bound=BaseModel)


TagsInput = Union[Mapping[str, Any], Iterable[Union[Setting, Mapping[str, Any]]], None]
"""What a method takes as tags: ``{key: value}``, or a list of :class:`Setting` (or dicts of its fields)."""


def settings_of(tags: TagsInput) -> list[Setting] | None:
    """Tags as WATS's list of ``Setting``: from a ``{key: value}`` dict, or from settings or dicts as they are.

    >>> settings_of({"Line": "2"})
    [Setting(key='Line', value='2', change=None)]
    """
    if tags is None:
        return None
    if isinstance(tags, Mapping):
        return [Setting(key=str(key), value=None if value is None else str(value)) for key, value in tags.items()]
    if isinstance(tags, (str, bytes)):
        raise TypeError("tags must be a {key: value} dict or a list of Setting, not a string")
    return [tag if isinstance(tag, Setting) else Setting.model_validate(tag) for tag in tags]


def dump(value: Any) -> Any:
    """A model (or a list of them) as the JSON value WATS reads: wire names, None fields left out."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, (list, tuple)):
        return [dump(item) for item in value]
    return value


def json_body(value: Any) -> bytes:
    """JSON bytes of :func:`dump`."""
    return json.dumps(dump(value), separators=(",", ":")).encode()


def models_of(model: type[T], items: Iterable[T | Mapping[str, Any]], what: str) -> list[T]:
    """``items`` validated as ``model`` (dicts use wire or Python names), so a bad item fails before sending."""
    if isinstance(items, (Mapping, BaseModel, str, bytes)):
        raise TypeError(f"{what} must be a list of {model.__name__} or dicts, not a single {type(items).__name__}")
    result = [item if isinstance(item, model) else model.model_validate(item) for item in items]
    if not result:
        raise ValueError(f"{what} is empty: give at least one")
    return result


def file_upload(content: bytes, filename: str, content_type: str, field: str = "file") -> tuple[bytes, str]:
    """``(body, content_type)`` of a ``multipart/form-data`` request carrying one file."""
    if not isinstance(content, (bytes, bytearray, memoryview)):
        raise TypeError(f"the file content must be bytes, not {type(content).__name__}")
    request = httpx.Request("POST", "http://upload.invalid/", files={field: (filename, bytes(content), content_type)})
    return request.read(), request.headers["Content-Type"]


def no_content(response: httpx.Response) -> None:
    """Parser of commands: success is the 2xx itself; WATS's body (if any) carries nothing to keep."""
    return None


def list_of(model: type[T]) -> Callable[[httpx.Response], list[T]]:
    """Parser of a JSON list of ``model``; a single object becomes a one-item list, an empty body ``[]``.

    Some list endpoints are typed as one object in the OpenAPI document although WATS answers with a list;
    this reads either.
    """

    def parse(response: httpx.Response) -> list[T]:
        if not response.content.strip():
            return []
        data = response.json()
        if data is None:
            return []
        items = data if isinstance(data, list) else [data]
        return [model.model_validate(item) for item in items]

    return parse


def required_text(name: str, value: Any) -> str:
    """``value`` as a non-empty string, or a ValueError naming the argument (it would be a 400 anyway)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, not {value!r}")
    return value


__all__ = [
    "Setting",
    "TagsInput",
    "dump",
    "file_upload",
    "json_body",
    "list_of",
    "models_of",
    "no_content",
    "required_text",
    "settings_of",
]

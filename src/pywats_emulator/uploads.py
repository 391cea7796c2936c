"""File uploads as WATS takes them: one file in a ``multipart/form-data`` body.

Serial number files, software zips and root cause attachments all arrive this way. FastAPI's form parsing
needs the optional ``python-multipart`` package, and an upload here is always one small file, so the body
is split by hand (RFC 7578): parts are separated by ``CRLF--boundary``; each part is header lines, an empty
line, then its bytes, untouched (a zip survives byte for byte).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

from starlette.requests import Request

from .errors import ApiError

MAX_UPLOAD = 64 * 1024 * 1024  # bytes; larger bodies are refused with 413, as IIS does by default


@dataclass(frozen=True)
class UploadedFile:
    """One file of a multipart body."""

    field: str
    filename: str | None
    content_type: str
    content: bytes


def _header(name: str, value: str) -> Message:
    """A header with its ``; key="value"`` parameters parsed (the email package knows the quoting rules)."""
    message = Message()
    message[name] = value
    return message


def boundary_of(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` content type; 400 for anything else."""
    header = _header("Content-Type", content_type)
    if not content_type or header.get_content_type() != "multipart/form-data":
        raise ApiError(400, f"Send the file as multipart/form-data, not as '{content_type or 'no content type'}'.")
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ApiError(400, "The multipart/form-data content type has no boundary.")
    return boundary.encode("latin-1")


def parse_multipart(body: bytes, content_type: str) -> list[UploadedFile]:
    """Every part of a multipart body (fields and files alike); 400 when it is not well formed."""
    delimiter = b"--" + boundary_of(content_type)
    if not body.startswith(delimiter):
        # A preamble is allowed: the first delimiter then follows a CRLF.
        start = body.find(b"\r\n" + delimiter)
        if start < 0:
            raise ApiError(400, "The multipart body has no part: its boundary never appears.")
        body = body[start + 2:]
    parts: list[UploadedFile] = []
    for chunk in body.split(b"\r\n" + delimiter):
        if chunk.startswith(delimiter):
            chunk = chunk[len(delimiter):]
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, separator, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise ApiError(400, "A part of the multipart body has no empty line after its headers.")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = _header("Content-Disposition", headers.get("content-disposition", ""))
        parts.append(UploadedFile(
            field=str(disposition.get_param("name", "", header="content-disposition")),
            filename=disposition.get_filename(),
            content_type=headers.get("content-type", "application/octet-stream"),
            content=content,
        ))  # fmt: skip
    else:
        raise ApiError(400, "The multipart body is cut short: it has no closing boundary.")
    return parts


async def one_file(request: Request) -> UploadedFile:
    """The uploaded file of a request: the first part that has a file name (or the only part)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_UPLOAD:
        raise ApiError(413, f"The upload is larger than {MAX_UPLOAD // (1024 * 1024)} MB.")
    body = await request.body()
    if len(body) > MAX_UPLOAD:
        raise ApiError(413, f"The upload is larger than {MAX_UPLOAD // (1024 * 1024)} MB.")
    parts = parse_multipart(body, request.headers.get("content-type", ""))
    files = [part for part in parts if part.filename] or parts[:1]
    if not files:
        raise ApiError(400, "The multipart body holds no file.")
    return files[0]


__all__ = ["MAX_UPLOAD", "UploadedFile", "boundary_of", "one_file", "parse_multipart"]

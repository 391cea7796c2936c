"""Small ASGI helpers shared by the middleware: types, the ``/api`` test, a complete JSON answer."""

from __future__ import annotations

import json
from typing import Any, Callable

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]


def is_api_path(path: str) -> bool:
    """Whether ``path`` is under ``/api`` (any case: WATS routes are case-insensitive)."""
    lowered = path.lower()
    return lowered == "/api" or lowered.startswith("/api/")


async def send_json(send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send a complete JSON response from ASGI middleware."""
    payload = json.dumps(body).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(payload)).encode()),
            *(headers or []),
        ],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": payload})

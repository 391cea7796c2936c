"""Token authentication, as WATS does it: ``Authorization: Basic <token>``.

WATS issues an API token as a base64 string and the client sends it verbatim after ``Basic``; the server
never needs to decode it, so neither do we. The check is ASGI middleware rather than a per-route dependency,
so every route under ``/api`` (and the ``/_emulator`` admin routes) is covered, including routers that other
modules add later and paths that match no route (a wrong URL with a wrong token is a 401, as on WATS).
The HTML pages (``/`` and ``/reports/...``) are read-only and public: the emulator binds to loopback by
default, and the CLI warns when it is told to listen on another address.
"""

from __future__ import annotations

import hmac
from typing import Any, Iterable

from .asgi import Receive, Scope, Send, is_api_path, send_json

DENIED = "Authorization has been denied for this request"


def is_protected(path: str) -> bool:
    """Whether ``path`` needs a token: the WATS API and the emulator's admin endpoints."""
    lowered = path.lower()
    return is_api_path(path) or lowered == "/_emulator" or lowered.startswith("/_emulator/")


def check_authorization(header: str | None, tokens: Iterable[str]) -> str | None:
    """``None`` when ``header`` carries one of ``tokens``; otherwise why not (for the 401 message)."""
    if not header:
        return f"{DENIED}: send 'Authorization: Basic <token>' with a WATS API token"
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return f"{DENIED}: use the Basic scheme with the token as WATS issued it, not {scheme!r}"
    given = credentials.strip().encode()
    # compare_digest against every token: the time taken does not tell which token was nearly right.
    if not any(hmac.compare_digest(given, token.encode()) for token in tokens):
        return f"{DENIED}: the token is not valid"
    return None


class TokenAuthMiddleware:
    """Answers 401 to protected requests without a valid token; ``tokens`` is read on every request."""

    def __init__(self, app: Any, tokens: Iterable[str]) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_protected(scope["path"]):
            header = next(
                (value.decode("latin-1") for name, value in scope["headers"] if name == b"authorization"), None
            )
            problem = check_authorization(header, self.tokens)
            if problem:
                await send_json(send, 401, {"Message": problem}, [(b"www-authenticate", b'Basic realm="WATS"')])
                return
        await self.app(scope, receive, send)

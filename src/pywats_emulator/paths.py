"""Case-insensitive routing: WATS (IIS / ASP.NET) matches paths without regard to case.

Virinco's own articles write ``/api/report/wsjf`` for the route the OpenAPI document spells
``/api/Report/WSJF``, and clients use both. Starlette matches case-sensitively, so this middleware rewrites a
request path to the spelling of the route it matches: literal segments compare without case, parameter
segments (``{id}``) are kept exactly as sent. The route paths come from a callable, read on first use, so
every router the app factory includes is covered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from .asgi import Receive, Scope, Send


class CaseInsensitivePaths:
    """ASGI middleware: rewrite ``scope["path"]`` to the canonical spelling of the matching route."""

    def __init__(self, app: Any, route_paths: Callable[[], Iterable[str]]) -> None:
        self.app = app
        self.route_paths = route_paths
        self._templates: list[list[str]] | None = None

    def _load(self) -> list[list[str]]:
        # Paths with converters such as {p:path} can span segments: they are left to the router as they are.
        return [path.split("/") for path in self.route_paths() if ":" not in path]

    def canonical(self, path: str) -> str:
        """The path spelled as its route spells it, or ``path`` unchanged when no route matches."""
        if self._templates is None:
            self._templates = self._load()
        segments = path.split("/")
        fallback = None
        for template in self._templates:
            if len(template) != len(segments):
                continue
            exact = True
            for literal, given in zip(template, segments):
                if literal.startswith("{"):
                    continue
                if literal != given:
                    exact = False
                    if literal.lower() != given.lower():
                        break
            else:
                if exact:
                    return path
                if fallback is None:
                    fallback = "/".join(g if t.startswith("{") else t for t, g in zip(template, segments))
        return fallback or path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = self.canonical(scope["path"])
            if path != scope["path"]:
                scope = {**scope, "path": path, "raw_path": quote(path).encode()}
        await self.app(scope, receive, send)

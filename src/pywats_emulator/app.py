"""The app factory: :func:`create_app` builds one emulator, a FastAPI (ASGI) app.

Layers of a request, outermost first:

1. :class:`~pywats_emulator.paths.CaseInsensitivePaths`: ``/api/report/wsjf`` reaches ``/api/Report/WSJF``;
2. :class:`ResponseCounter`: counts ``/api`` responses by status for ``/_emulator/stats``;
3. :class:`~pywats_emulator.faults.FaultMiddleware`: latency, outage, errors, hangs, drops (``/api`` only);
4. :class:`~pywats_emulator.auth.TokenAuthMiddleware`: ``Authorization: Basic <token>`` on ``/api`` and
   ``/_emulator``;
5. the routers: each module of :mod:`pywats_emulator.routes` (one per WATS area), the admin endpoints
   (:mod:`pywats_emulator.admin`) and the HTML pages (:mod:`pywats_emulator.web`).

Faults sit outside authentication, as an overloaded server or a proxy in front of WATS would answer 503
before looking at the token.

>>> app = create_app(EmulatorConfig(db_path="reports.db"))   # serve it with uvicorn
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from . import __version__, admin, web
from .asgi import Receive, Scope, Send, is_api_path
from .auth import TokenAuthMiddleware
from .config import EmulatorConfig
from .errors import install_error_handlers
from .faults import FaultInjector, FaultMiddleware
from .paths import CaseInsensitivePaths
from .routes import router_modules
from .state import EmulatorState, Stats
from .storage import Storage


class ResponseCounter:
    """ASGI middleware: counts every ``/api`` response by status."""

    def __init__(self, app: Any, stats: Stats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def counting_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.stats.count_response(message["status"])
            await send(message)

        await self.app(scope, receive, counting_send)


def create_app(config: EmulatorConfig | None = None) -> FastAPI:
    """A new emulator app with its own database, processes, fault settings and counters.

    The database is opened here (so the app also works without lifespan events, e.g. under
    ``httpx.ASGITransport``) and closed at lifespan shutdown; a temporary database is deleted then.
    """
    config = config or EmulatorConfig()
    storage = Storage(config.db_path)
    storage.set_processes(config.processes, config.inactive_processes)
    state = EmulatorState(config=config, storage=storage, faults=FaultInjector(config.faults))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            storage.close()

    app = FastAPI(
        title="pyWATS emulator", version=__version__, lifespan=lifespan, redoc_url=None,
        description="A local WATS-compatible server: the public report API, SQLite storage, fault injection.",
    )  # fmt: skip
    app.state.emulator = state
    install_error_handlers(app)
    routers = []
    for module in router_modules():
        init = getattr(module, "init", None)
        if init is not None:
            init(state)
        routers.append(module.router)
    for router in [*routers, admin.router, web.router]:
        app.include_router(router)
    # add_middleware puts each new layer outside the previous one: innermost first.
    app.add_middleware(TokenAuthMiddleware, tokens=config.tokens)
    app.add_middleware(FaultMiddleware, injector=state.faults)
    app.add_middleware(ResponseCounter, stats=state.stats)
    app.add_middleware(
        CaseInsensitivePaths, route_paths=lambda: [route.path for router in routers for route in router.routes]
    )
    return app

"""The local control API of a running service: how the CLI and the GUI talk to it, and nobody else.

Transport: on Linux and macOS a Unix socket with 0600 permissions (in a 0700 folder); on Windows a port on
127.0.0.1, chosen per instance (a fixed port derived from the instance name, or any free one when that is
taken). Every request needs ``Authorization: Bearer <instance control token>``; a client that floods gets 429
(token bucket: ``control_rate_per_minute``, bursts of ``control_burst``); bodies above 16 MB get 413; a request
that takes longer than 30 s to handle gets 504, so a stuck request never holds the service up. Every response
carries ``X-PyWATS-Protocol``.

=====================  ======  =============================================================================
path                   method  what
=====================  ======  =============================================================================
``/hello``             GET     protocol version, pywats version, instance, capabilities
``/ping``              GET     ``{"pong": true}``
``/status``            GET     the service's status (no secrets)
``/config``            GET     the effective configuration, token masked
``/config``            PATCH   ``{"changes": {"station.name": "X", ...}}``: validated, saved atomically, applied
``/service/<action>``  POST    ``start`` (resume when paused), ``stop``, ``restart``, ``pause``, ``resume``
``/sync``              POST    rescan now and send pending reports without waiting out their backoff
``/queue``             GET     ``?state=&limit=&offset=``: rows, newest first
``/queue/{id}``        GET     one row; ``?payload=true`` adds the WSJF
``/queue/retry``       POST    ``{"ids": [...]}`` or ``{"all": true}``
``/queue/drop``        POST    ``{"ids": [...]}``
``/converters/test``   POST    ``{"path": ..., "converter": ... | "entry": ..., "arguments": {...}}`` (or
                               ``"content_b64"`` + ``"name"`` instead of a path): the reports, nothing queued
``/converters/reload`` POST    load every converter again (a user's converter file was edited)
``/logs``              GET     ``?lines=N``: the tail of the service log
``/events``            GET     a live stream of events (Server-Sent Events, one JSON object each)
=====================  ======  =============================================================================
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import os
import socket
import time
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from pywats import TokenBucket
from pywats import __version__ as pywats_version
from pywats.formats import wsjf

from .. import config as config_module
from ..config import ConfigError
from ..converters import ConversionContext, ConversionError, ConverterArgumentError, ConverterLoadError
from ..converters import SourceFile, SourceFolder, convert_source
from .protocol import CAPABILITIES, PROTOCOL_HEADER, PROTOCOL_VERSION, ensure_token, remove_endpoint, socket_path
from .protocol import write_endpoint
from .serving import SocketServer

if TYPE_CHECKING:
    from ..service.service import AsyncClientService

log = logging.getLogger("pywats_client.control")

MAX_BODY = 16 * 1024 * 1024
HANDLER_TIMEOUT_S = 30.0
EVENT_HEARTBEAT_S = 15.0


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={PROTOCOL_HEADER: PROTOCOL_VERSION, **headers})


class _Guard:
    """ASGI middleware: protocol header on every response, rate limit, token check, body size cap."""

    def __init__(self, app: Any, token: str, bucket: TokenBucket) -> None:
        self.app = app
        self.token = token.encode()
        self.bucket = bucket

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != PROTOCOL_HEADER.lower().encode()]
                message = {**message, "headers": [*headers, (PROTOCOL_HEADER.lower().encode(), PROTOCOL_VERSION.encode())]}
            await send(message)

        wait = self.bucket.try_take()
        if wait > 0:
            await _error(429, "too many requests", **{"Retry-After": str(max(1, round(wait)))})(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"authorization", b"")
        scheme, _, value = given.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(), self.token):
            await _error(401, "a valid control token is required (Authorization: Bearer <token>)")(scope, receive, send)
            return
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            await _error(413, f"request bodies are limited to {MAX_BODY} bytes")(scope, receive, send)
            return
        await self.app(scope, _capped(receive), send_with_version)


def _capped(receive: Any) -> Any:
    """A receive that stops a body from growing past MAX_BODY (chunked uploads carry no Content-Length)."""
    seen = 0

    async def wrapped() -> dict[str, Any]:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise _TooLarge()
        return message

    return wrapped


class _TooLarge(Exception):
    pass


class ControlAPI:
    """The routes, bound to one service."""

    def __init__(self, service: AsyncClientService) -> None:
        self.service = service

    def app(self, token: str) -> Any:
        config = self.service.config
        assert config is not None
        bucket = TokenBucket(config.control_burst, config.control_rate_per_minute / 60.0)
        routes = [
            Route("/hello", self._wrap(self.hello)),
            Route("/ping", self._wrap(self.ping)),
            Route("/status", self._wrap(self.status)),
            Route("/config", self._wrap(self.get_config), methods=["GET"]),
            Route("/config", self._wrap(self.set_config), methods=["PATCH"]),
            Route("/service/{action}", self._wrap(self.service_action), methods=["POST"]),
            Route("/sync", self._wrap(self.sync), methods=["POST"]),
            Route("/queue", self._wrap(self.queue_list)),
            Route("/queue/retry", self._wrap(self.queue_retry), methods=["POST"]),
            Route("/queue/drop", self._wrap(self.queue_drop), methods=["POST"]),
            Route("/queue/{report_id}", self._wrap(self.queue_show)),
            Route("/converters/test", self._wrap(self.converter_test), methods=["POST"]),
            Route("/converters/reload", self._wrap(self.converters_reload), methods=["POST"]),
            Route("/logs", self._wrap(self.logs)),
            Route("/events", self.events),
        ]
        return _Guard(Starlette(routes=routes), token, bucket)

    def _wrap(self, handler: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                result = await asyncio.wait_for(handler(request), HANDLER_TIMEOUT_S)
            except asyncio.TimeoutError:
                return _error(504, f"the request took longer than {HANDLER_TIMEOUT_S:g} s")
            except _TooLarge:
                return _error(413, f"request bodies are limited to {MAX_BODY} bytes")
            except _BadRequest as error:
                return _error(400, str(error))
            except (ConfigError, ConverterLoadError, ConverterArgumentError, ConversionError) as error:
                return _error(422, str(error))
            except LookupError as error:
                return _error(404, str(error).strip("'\""))
            if isinstance(result, Response):
                return result
            return JSONResponse(result)

        return endpoint

    # -- helpers -----------------------------------------------------------------------------------------------

    @staticmethod
    async def _json(request: Request) -> dict[str, Any]:
        body = await request.body()
        if not body:
            return {}
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise _BadRequest(f"the body is not valid JSON: {error}") from None
        if not isinstance(data, dict):
            raise _BadRequest("the body must be a JSON object")
        return data

    @staticmethod
    def _int(request: Request, name: str, default: int, *, low: int = 0, high: int = 10_000) -> int:
        value = request.query_params.get(name)
        if value is None:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            raise _BadRequest(f"{name} must be a whole number from {low} to {high}")
        return int(value)

    @staticmethod
    def _ids(data: dict[str, Any]) -> list[str]:
        ids = data.get("ids")
        if not isinstance(ids, list) or not all(isinstance(item, str) and 0 < len(item) <= 64 for item in ids):
            raise _BadRequest("give ids: a list of report ids")
        return [item.lower() for item in ids]

    def _queue(self, *, reading: bool = False) -> Any:
        queue = self.service.reader if reading else self.service.queue
        if queue is None:
            raise _BadRequest("the service is not running")
        return queue

    # -- routes ------------------------------------------------------------------------------------------------

    async def hello(self, request: Request) -> dict[str, Any]:
        return {"protocol": PROTOCOL_VERSION, "server": pywats_version, "instance": self.service.paths.name,
                "pid": os.getpid(), "capabilities": list(CAPABILITIES)}  # fmt: skip

    async def ping(self, request: Request) -> dict[str, Any]:
        return {"pong": True, "state": self.service.state.value}

    async def status(self, request: Request) -> dict[str, Any]:
        return await self.service.status()

    async def get_config(self, request: Request) -> dict[str, Any]:
        assert self.service.config is not None
        return self.service.config.masked_dict()

    async def set_config(self, request: Request) -> dict[str, Any]:
        data = await self._json(request)
        changes = data.get("changes")
        if not isinstance(changes, dict) or not changes:
            raise _BadRequest('give changes: {"key": value, ...} with dotted keys such as "station.name"')
        path = self.service.config_file
        values = await asyncio.to_thread(config_module.load_file, path)
        for key, value in changes.items():
            values = config_module.set_key(values, str(key), value)
        checked = config_module.validate(values, environment=False)
        await asyncio.to_thread(self.service.save_config, checked)
        applied = await self.service.reload_config()
        if not applied:
            raise ConfigError("saved, but the service refused to apply it (see its log)")
        assert self.service.config is not None
        return self.service.config.masked_dict()

    async def service_action(self, request: Request) -> dict[str, Any]:
        action = request.path_params["action"]
        service = self.service
        if action in ("start", "resume"):
            service.resume()
        elif action == "pause":
            service.pause()
        elif action in ("stop", "restart"):
            # Answer first: the control API itself goes down with the service.
            loop = asyncio.get_running_loop()
            loop.call_later(0.05, service.request_restart if action == "restart" else service.request_stop)
            return {"state": "STOP_PENDING", "action": action}
        else:
            raise LookupError(f"no service action {action!r} (start, stop, restart, pause, resume)")
        return {"state": service.state.value}

    async def sync(self, request: Request) -> dict[str, Any]:
        await self.service.sync_now()
        return {"state": self.service.state.value}

    async def queue_list(self, request: Request) -> dict[str, Any]:
        state = request.query_params.get("state") or None
        limit = self._int(request, "limit", 100, low=1)
        offset = self._int(request, "offset", 0, high=10_000_000)
        try:
            items = await self._queue(reading=True).list(state, limit=limit, offset=offset)
        except ValueError as error:
            raise _BadRequest(str(error)) from None
        return {"items": [item.as_dict() for item in items], "counts": await self._queue(reading=True).counts()}

    async def queue_show(self, request: Request) -> dict[str, Any]:
        report_id = request.path_params["report_id"]
        with_payload = request.query_params.get("payload", "").lower() in ("1", "true", "yes")
        item = await self._queue(reading=True).get(report_id, payload=with_payload)
        if item is None:
            raise LookupError(f"no report {report_id} in the queue")
        return item.as_dict(payload=with_payload)

    async def queue_retry(self, request: Request) -> dict[str, Any]:
        data = await self._json(request)
        ids = None if data.get("all") is True else self._ids(data)
        count = await self._queue().retry(ids)
        await self.service.release_hold()
        self.service.sync_now_nowait()
        return {"retried": count}

    async def queue_drop(self, request: Request) -> dict[str, Any]:
        count = await self._queue().drop(self._ids(await self._json(request)))
        return {"dropped": count}

    async def converter_test(self, request: Request) -> dict[str, Any]:
        data = await self._json(request)
        service = self.service
        assert service.config is not None
        if "entry" in data:
            entry = service.config.converter(str(data["entry"]))  # KeyError → 404
            converter = service.make_converter(entry.converter, {**entry.arguments, **(data.get("arguments") or {})},
                                               entry.sandbox, entry.timeout_s)  # fmt: skip
            timeout = entry.timeout_s
        else:
            spec = data.get("converter") or "auto"
            arguments = data.get("arguments") or {}
            if not isinstance(spec, str) or not isinstance(arguments, dict):
                raise _BadRequest("converter must be a name and arguments an object")
            converter = service.make_converter(spec, arguments, None, 60.0)
            timeout = 60.0
        source = await asyncio.to_thread(self._source, data)
        context = ConversionContext(station=service.config.station.station())
        try:
            conversion = await asyncio.wait_for(asyncio.to_thread(convert_source, converter, source, context), timeout)
        except asyncio.TimeoutError:
            raise ConversionError(f"the conversion took longer than {timeout:g} s") from None
        finally:
            close = getattr(converter, "close", None)
            if close is not None:
                close()
        return {
            "converter": conversion.converter.name,
            "version": conversion.converter.version,
            "reports": [json.loads(wsjf.dumps(report)) for report in conversion.reports],
        }

    @staticmethod
    def _source(data: dict[str, Any]) -> SourceFile | SourceFolder:
        if "content_b64" in data:
            try:
                content = base64.b64decode(str(data["content_b64"]), validate=True)
            except (ValueError, zlib.error) as error:
                raise _BadRequest(f"content_b64 is not base64: {error}") from None
            return SourceFile(Path(str(data.get("name") or "upload")), content)
        path = data.get("path")
        if not isinstance(path, str) or not path:
            raise _BadRequest("give path (a file or folder the service can read) or content_b64 and name")
        target = Path(path)
        try:
            # The same size limit as an uploaded body: a mistaken path must not make the service read gigabytes.
            if target.is_dir():
                return SourceFolder.read(target, max_bytes=MAX_BODY, max_files=1000)
            if target.stat().st_size > MAX_BODY:
                raise _TooLarge()
            return SourceFile.read(target)
        except FileNotFoundError:
            raise LookupError(f"no file {path}") from None
        except OSError as error:
            raise _BadRequest(f"cannot read {path}: {error.strerror}") from None

    async def converters_reload(self, request: Request) -> dict[str, Any]:
        names = await self.service.reload_converters()
        return {"reloaded": names}

    async def logs(self, request: Request) -> dict[str, Any]:
        lines = self._int(request, "lines", 100, low=1, high=5000)
        path = self.service.paths.log_dir / "service.log"
        return {"file": str(path), "lines": await asyncio.to_thread(tail, path, lines)}

    async def events(self, request: Request) -> Response:
        bus = self.service.bus
        queue = bus.subscribe()

        async def stream() -> Any:
            try:
                hello = {"kind": "hello", "time": time.time(), "protocol": PROTOCOL_VERSION}
                yield f"data: {json.dumps(hello)}\n\n"
                while True:
                    try:
                        event = await asyncio.wait_for(queue.get(), EVENT_HEARTBEAT_S)
                    except asyncio.TimeoutError:
                        yield ": heartbeat\n\n"
                        continue
                    yield f"data: {json.dumps(event.as_dict(), default=str)}\n\n"
            finally:
                bus.unsubscribe(queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})  # fmt: skip


class _BadRequest(ValueError):
    pass


def tail(path: Path, lines: int) -> list[str]:
    """The last ``lines`` lines of a text file, read from its end."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            end = handle.tell()
            block, data = 8192, b""
            while end > 0 and data.count(b"\n") <= lines:
                start = max(0, end - block)
                handle.seek(start)
                data = handle.read(end - start) + data
                end = start
    except OSError:
        return []
    return data.decode("utf-8", errors="replace").splitlines()[-lines:]


def _preferred_port(name: str) -> int:
    return 47000 + zlib.crc32(name.encode()) % 2000


class ControlServer:
    """Serves the control API while the service runs (an extension of :class:`AsyncClientService`)."""

    def __init__(self) -> None:
        self._server: SocketServer | None = None
        self._paths: Any = None
        self.address: str | None = None

    async def start(self, service: AsyncClientService) -> None:
        self._paths = service.paths
        config = service.config
        assert config is not None
        token = ensure_token(service.paths)
        endpoint: dict[str, Any] = {"pid": os.getpid(), "protocol": PROTOCOL_VERSION}
        if hasattr(socket, "AF_UNIX") and os.name != "nt":
            path = socket_path(service.paths)
            path.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(path.parent, 0o700)
            path.unlink(missing_ok=True)  # a socket file left by a service that was killed
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            old_umask = os.umask(0o177)  # the socket is created 0600: no moment where others could connect
            try:
                sock.bind(str(path))
            finally:
                os.umask(old_umask)
            os.chmod(path, 0o600)
            endpoint["socket"] = str(path)
            self.address = str(path)
        else:  # pragma: no cover - Windows
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            try:
                sock.bind(("127.0.0.1", config.control_port or _preferred_port(service.paths.name)))
            except OSError:
                sock.bind(("127.0.0.1", 0))
            endpoint["port"] = sock.getsockname()[1]
            self.address = f"127.0.0.1:{endpoint['port']}"
        self._server = SocketServer(ControlAPI(service).app(token), sock, name="control api")
        await self._server.start()
        endpoint["health_url"] = service.health_url
        write_endpoint(service.paths, endpoint)
        log.info("control API on %s", self.address)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            if self._server.socket.family == getattr(socket, "AF_UNIX", None) and self.address:
                Path(self.address).unlink(missing_ok=True)
        if self._paths is not None:
            remove_endpoint(self._paths)
        self._server = None


__all__ = ["ControlAPI", "ControlServer", "tail"]

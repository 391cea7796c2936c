"""Python clients of the control API: :class:`ControlClient` (sync) and :class:`AsyncControlClient`.

Each call is written once, as a :class:`_Call` (method, path, query, body); the two classes only differ in how
they send it (``httpx.Client`` or ``httpx.AsyncClient`` over the instance's Unix socket, or its localhost port
on Windows). Every answer's ``X-PyWATS-Protocol`` is checked: a service speaking another major version is
refused with a clear message. Errors are :class:`ControlError` with the service's message and status.

>>> with ControlClient("line1") as control:          # doctest: +SKIP
...     control.status()["queue"]["pending"]
...     control.queue_retry(all=True)
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from ..instance import InstancePaths, list_instances
from ..lock import is_locked, read_holder
from .protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, ControlError, compatible, read_endpoint, read_token


@dataclass(frozen=True)
class _Call:
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None


def _paths(instance: str | InstancePaths) -> InstancePaths:
    return instance if isinstance(instance, InstancePaths) else InstancePaths.of(instance)


def _connection(paths: InstancePaths) -> tuple[dict[str, Any], str]:
    """(httpx options, token) to reach the service of ``paths``; ControlError when none runs."""
    endpoint = read_endpoint(paths)
    if endpoint is None or not is_locked(paths.lock_file):
        raise ControlError(f"no service is running for instance {paths.name!r}")
    token = read_token(paths)
    if token is None:
        raise ControlError(f"the control token of instance {paths.name!r} cannot be read ({paths.root / 'control.token'})")
    if "socket" in endpoint:
        return {"uds": endpoint["socket"], "base_url": "http://pywats-control"}, token
    return {"base_url": f"http://127.0.0.1:{int(endpoint['port'])}"}, token


def _checked(response: httpx.Response) -> Any:
    version = response.headers.get(PROTOCOL_HEADER)
    if version is None or not compatible(version):
        raise ControlError(
            f"the service speaks control protocol {version or 'unknown'}, this client {PROTOCOL_VERSION}: "
            "use the same pywats version for both"
        )
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code >= 400:
        message = data.get("error") if isinstance(data, dict) else None
        raise ControlError(message or f"HTTP {response.status_code}", status=response.status_code)
    return data


class _Calls:
    """Every control operation, written once; ``_run`` sends it (sync or async)."""

    def _run(self, call: _Call) -> Any:  # pragma: no cover - each client sends its own way
        raise NotImplementedError

    def hello(self) -> Any:
        return self._run(_Call("GET", "/hello"))

    def ping(self) -> Any:
        return self._run(_Call("GET", "/ping"))

    def status(self) -> Any:
        return self._run(_Call("GET", "/status"))

    def get_config(self) -> Any:
        return self._run(_Call("GET", "/config"))

    def set_config(self, changes: dict[str, Any]) -> Any:
        """Set dotted keys (``{"station.name": "ICT-2"}``): validated, saved, applied; the new configuration."""
        return self._run(_Call("PATCH", "/config", body={"changes": changes}))

    def start(self) -> Any:
        return self._run(_Call("POST", "/service/start"))

    def stop(self) -> Any:
        return self._run(_Call("POST", "/service/stop"))

    def restart(self) -> Any:
        return self._run(_Call("POST", "/service/restart"))

    def pause(self) -> Any:
        return self._run(_Call("POST", "/service/pause"))

    def resume(self) -> Any:
        return self._run(_Call("POST", "/service/resume"))

    def sync_now(self) -> Any:
        return self._run(_Call("POST", "/sync"))

    def queue_list(self, state: str | None = None, *, limit: int = 100, offset: int = 0) -> Any:
        return self._run(_Call("GET", "/queue", {"state": state, "limit": limit, "offset": offset}))

    def queue_show(self, report_id: str, *, payload: bool = False) -> Any:
        return self._run(_Call("GET", f"/queue/{report_id}", {"payload": "true" if payload else None}))

    def queue_retry(self, ids: list[str] | None = None, *, all: bool = False) -> Any:  # noqa: A002 - mirrors the CLI
        return self._run(_Call("POST", "/queue/retry", body={"all": True} if all else {"ids": list(ids or [])}))

    def queue_drop(self, ids: list[str]) -> Any:
        return self._run(_Call("POST", "/queue/drop", body={"ids": list(ids)}))

    def converter_test(self, path: str | Path | None = None, *, converter: str | None = None, entry: str | None = None,
                       arguments: dict[str, Any] | None = None, content: bytes | None = None,
                       name: str | None = None) -> Any:  # fmt: skip
        """Convert a file the service can read (``path``) or bytes sent along (``content``, ``name``) with a
        converter (``converter``: a spec, default auto; or ``entry``: a configured entry); nothing is queued."""
        body: dict[str, Any] = {"arguments": arguments or {}}
        if entry is not None:
            body["entry"] = entry
        else:
            body["converter"] = converter or "auto"
        if content is not None:
            body["content_b64"] = base64.b64encode(content).decode("ascii")
            body["name"] = name or (Path(path).name if path is not None else "upload")
        else:
            body["path"] = str(Path(path).resolve()) if path is not None else None
        return self._run(_Call("POST", "/converters/test", body=body))

    def reload_converters(self) -> Any:
        return self._run(_Call("POST", "/converters/reload"))

    def logs(self, lines: int = 100) -> Any:
        return self._run(_Call("GET", "/logs", {"lines": lines}))


def _request_options(call: _Call) -> dict[str, Any]:
    options: dict[str, Any] = {"params": {k: v for k, v in call.params.items() if v is not None}}
    if call.body is not None:
        options["content"] = json.dumps(call.body).encode()
        options["headers"] = {"Content-Type": "application/json"}
    return options


class ControlClient(_Calls):
    """The control API of one running instance, from synchronous code (the CLI)."""

    def __init__(self, instance: str | InstancePaths = "default", *, timeout: float = 30.0) -> None:
        self.paths = _paths(instance)
        options, token = _connection(self.paths)
        uds = options.pop("uds", None)
        self._http = httpx.Client(
            transport=httpx.HTTPTransport(uds=uds) if uds else None, headers={"Authorization": f"Bearer {token}"},
            timeout=timeout, **options,
        )  # fmt: skip

    def _run(self, call: _Call) -> Any:
        try:
            response = self._http.request(call.method, call.path, **_request_options(call))
        except httpx.HTTPError as error:
            raise ControlError(f"the service of instance {self.paths.name!r} did not answer: {error}") from None
        return _checked(response)

    def events(self) -> Iterator[dict[str, Any]]:
        """The live event stream, one dict per event, until the service stops or the caller breaks off."""
        try:
            with self._http.stream("GET", "/events", timeout=httpx.Timeout(30.0, read=None)) as response:
                if response.status_code >= 400:
                    response.read()
                    _checked(response)
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        yield json.loads(line[6:])
        except httpx.HTTPError as error:
            raise ControlError(f"the event stream of instance {self.paths.name!r} ended: {error}") from None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class AsyncControlClient(_Calls):
    """The control API of one running instance, from asyncio code (the GUI); every call is awaited."""

    def __init__(self, instance: str | InstancePaths = "default", *, timeout: float = 30.0) -> None:
        self.paths = _paths(instance)
        options, token = _connection(self.paths)
        uds = options.pop("uds", None)
        self._http = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=uds) if uds else None,
            headers={"Authorization": f"Bearer {token}"}, timeout=timeout, **options,
        )  # fmt: skip

    async def _run(self, call: _Call) -> Any:  # type: ignore[override]
        try:
            response = await self._http.request(call.method, call.path, **_request_options(call))
        except httpx.HTTPError as error:
            raise ControlError(f"the service of instance {self.paths.name!r} did not answer: {error}") from None
        return _checked(response)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        try:
            async with self._http.stream("GET", "/events", timeout=httpx.Timeout(30.0, read=None)) as response:
                if response.status_code >= 400:
                    await response.aread()
                    _checked(response)
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        yield json.loads(line[6:])
        except httpx.HTTPError as error:
            raise ControlError(f"the event stream of instance {self.paths.name!r} ended: {error}") from None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncControlClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:  # fmt: skip
        await self.aclose()


def running(instance: str | InstancePaths) -> bool:
    """Whether a service runs for the instance and published where its control API is."""
    paths = _paths(instance)
    return is_locked(paths.lock_file) and read_endpoint(paths) is not None


def discover(*, timeout: float = 2.0) -> list[dict[str, Any]]:
    """Every instance with a folder: whether its service runs and, if it answers, its state and queue."""
    found = []
    for name in list_instances():
        paths = InstancePaths.of(name)
        info: dict[str, Any] = {"instance": name, "running": is_locked(paths.lock_file), "folder": str(paths.root)}
        if info["running"]:
            info["pid"] = read_holder(paths.lock_file).get("pid")
            try:
                with ControlClient(paths, timeout=timeout) as control:
                    status = control.status()
                info.update(state=status["state"], queue=status["queue"], health_url=status.get("health_url"))
            except ControlError as error:
                info["error"] = str(error)
        found.append(info)
    return found


__all__ = ["AsyncControlClient", "ControlClient", "discover", "running"]

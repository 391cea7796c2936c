"""``pywats-client diagnose``: everything that must hold for reports to get from this station to the server.

Each check ends ``ok``, ``warn`` (works, but look at it) or ``fail`` (reports will not get through); the exit
code is 1 when any check failed. Checks that need an earlier one (the token needs a reachable server) say
so instead of failing twice. Nothing is changed: folders that do not exist yet are only checked for whether
they could be created.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.text import Text

from pywats import APIConnectionError, APIStatusError, AuthenticationError, PermissionDeniedError, pyWATS

from ..config import ClientConfig, ConfigError
from ..lock import is_locked, read_holder
from ._common import State, age, describe, get_state, make_converter

app = typer.Typer()

CLOCK_SKEW_WARN_S = 60.0
STYLES = {"ok": "green", "warn": "yellow", "fail": "bold red"}


@dataclass
class Check:
    name: str
    status: str  # ok, warn or fail
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "message": self.message, **self.data}


@app.command("diagnose")
def diagnose(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="compact JSON")) -> None:
    """Check configuration, server, token, clock, converters, disk, queue and service."""
    state = get_state(ctx)
    checks = run_checks(state)
    failed = any(check.status == "fail" for check in checks)
    if as_json:
        state.emit_json({"instance": state.instance, "ok": not failed, "checks": [c.as_dict() for c in checks]})
    else:
        for check in checks:
            line = Text.assemble((f"{check.status:<5}", STYLES[check.status]), f"{check.name:<14} ",
                                 state.scrub(check.message))  # fmt: skip
            state.out.print(line, soft_wrap=True, highlight=False)
    if failed:
        raise typer.Exit(1)


def run_checks(state: State) -> list[Check]:
    config_check, config = check_config(state)
    checks = [config_check]
    if config is not None:
        checks += check_server(config)
        checks += check_converters(state, config)
        checks.append(check_disk(state, config))
    checks.append(check_queue(state))
    checks.append(check_service(state))
    return checks


def check_config(state: State) -> tuple[Check, ClientConfig | None]:
    try:
        config = state.load_config()
    except ConfigError as error:
        return Check("configuration", "fail", describe(error)), None
    if not state.config_path.exists():
        return Check("configuration", "warn", f"no file at {state.config_path}: defaults and environment only "
                                              "(create one with 'config init')"), config  # fmt: skip
    return Check("configuration", "ok", f"valid ({state.config_path})"), config


class _Recorder(httpx.BaseTransport):
    """The network transport, remembering the server's ``Date`` header and when each answer came."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.date: str | None = None
        self.midpoint = 0.0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.time()
        response = self._inner.handle_request(request)
        self.date = response.headers.get("date") or self.date
        self.midpoint = (sent + time.time()) / 2
        return response

    def close(self) -> None:
        self._inner.close()


def check_server(config: ClientConfig) -> list[Check]:
    """Reachable (GET version, timed), token accepted (list processes), clock skew (the ``Date`` header)."""
    if not config.server_url:
        return [Check("server", "fail", "no server_url configured (config set server_url https://...)")]
    if not config.token:
        return [Check("server", "fail", "no api_token configured (config set api_token ...)")]
    recorder = _Recorder()
    timeout = min(config.request_timeout_s, 15.0)
    with pyWATS(config.server_url, config.token, retry=None, rate_limit=None, timeout=timeout,
                transport=recorder) as api:  # fmt: skip
        started = time.perf_counter()
        try:
            version = api.get_version()
        except APIStatusError as error:
            ms = (time.perf_counter() - started) * 1000
            if error.status_code not in (401, 403):
                return [Check("server", "fail", f"{config.server_url} answered HTTP {error.status_code} to GET "
                                                f"/api/App/Version: is server_url a WATS server?")]  # fmt: skip
            reachable = Check("server", "ok", f"{config.server_url} answers (HTTP {error.status_code}) in {ms:.0f} ms",
                              {"seconds": round(ms / 1000, 4)})  # fmt: skip
        except APIConnectionError as error:
            return [Check("server", "fail", f"cannot reach {config.server_url}: {describe(error)}"),
                    Check("token", "warn", "not checked: the server cannot be reached"),
                    Check("clock", "warn", "not checked: the server cannot be reached")]  # fmt: skip
        else:
            ms = (time.perf_counter() - started) * 1000
            reachable = Check("server", "ok", f"{config.server_url}: WATS {version}, answered in {ms:.0f} ms",
                              {"seconds": round(ms / 1000, 4), "server_version": version})  # fmt: skip
        return [reachable, _check_token(api), _check_clock(recorder)]


def _check_token(api: pyWATS) -> Check:
    try:
        processes = api.process.get_processes()
    except AuthenticationError:
        return Check("token", "fail", "the server refused the API token (HTTP 401): check api_token")
    except PermissionDeniedError:
        return Check("token", "fail", "the API token may not read processes (HTTP 403): check its permissions")
    except Exception as error:  # noqa: BLE001 - any other failure is reported as it is
        return Check("token", "fail", f"listing processes failed: {describe(error)}")
    return Check("token", "ok", f"accepted ({len(processes)} processes visible)")


def _check_clock(recorder: _Recorder) -> Check:
    if recorder.date is None:
        return Check("clock", "warn", "the server sent no Date header: clock not compared")
    try:
        server = parsedate_to_datetime(recorder.date).timestamp()
    except (TypeError, ValueError):
        return Check("clock", "warn", f"the server's Date header is not a date: {recorder.date!r}")
    skew = recorder.midpoint - server  # positive: this computer is ahead
    data = {"skew_s": round(skew, 1)}
    if abs(skew) > CLOCK_SKEW_WARN_S:
        way = "ahead of" if skew > 0 else "behind"
        return Check("clock", "warn", f"this computer's clock is {abs(skew):.0f} s {way} the server's: report "
                                      "times may be off (sync the clock)", data)  # fmt: skip
    return Check("clock", "ok", f"within {abs(skew):.0f} s of the server's", data)


def check_converters(state: State, config: ClientConfig) -> list[Check]:
    """Every enabled entry's converter loads with its arguments, and its folders are usable."""
    if not config.converters:
        return [Check("converters", "warn", "none configured: nothing is watched (converters add ...)")]
    checks = []
    for entry in config.converters:
        name = f"converter {entry.name}"
        if not entry.enabled:
            checks.append(Check(name, "ok", "disabled"))
            continue
        try:
            made = make_converter(state, entry.converter, entry.arguments)
        except Exception as error:  # noqa: BLE001 - load errors, argument errors, a broken plug-in
            checks.append(Check(name, "fail", describe(error)))
            continue
        problems = [f"{label} folder {folder}: {problem}"
                    for label, folder in zip(("watch", "done", "error"), entry.folders(state.paths))
                    if (problem := folder_problem(folder)) is not None]  # fmt: skip
        if problems:
            checks.append(Check(name, "fail", "; ".join(problems)))
        else:
            watch = entry.folders(state.paths)[0]
            checks.append(Check(name, "ok", f"{made.name} {made.version} loads; watching {watch}"))
    return checks


def folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot be used (it exists and is writable, or could be created), or None."""
    if folder.exists():
        if not folder.is_dir():
            return "is not a folder"
        return None if os.access(folder, os.W_OK | os.X_OK) else "is not writable"
    parent = folder.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return f"does not exist and cannot be created ({parent} is not writable)"
    return None


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(state: State, config: ClientConfig) -> Check:
    try:
        free_mb = shutil.disk_usage(_existing(state.paths.root)).free / 1e6
    except OSError as error:
        return Check("disk", "warn", f"free space unknown: {describe(error)}")
    reserve = config.disk_reserve_mb
    data = {"free_mb": round(free_mb), "reserve_mb": reserve}
    if free_mb < reserve:
        return Check("disk", "fail", f"{free_mb:.0f} MB free, below the reserve of {reserve:g} MB: intake stops", data)
    if free_mb < 2 * reserve:
        return Check("disk", "warn", f"{free_mb:.0f} MB free, close to the reserve of {reserve:g} MB", data)
    return Check("disk", "ok", f"{free_mb:.0f} MB free (reserve {reserve:g} MB)", data)


def check_queue(state: State) -> Check:
    path = state.paths.queue_db
    if not path.exists():
        return Check("queue", "ok", "no queue yet (nothing queued)")
    try:
        db = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True, timeout=10)
        try:
            result = [row[0] for row in db.execute("PRAGMA integrity_check").fetchall()]
        finally:
            db.close()
    except sqlite3.Error as error:
        return Check("queue", "fail", f"{path} cannot be read: {error}")
    if result != ["ok"]:
        return Check("queue", "fail", f"{path} is damaged: {'; '.join(result[:3])}")
    queue = state.open_queue()
    assert queue is not None
    try:
        counts, oldest = queue.counts(), queue.oldest_pending_age()
    finally:
        queue.close()
    text = ", ".join(f"{counts[name]} {name}" for name in ("pending", "uploading", "failed", "held", "done"))
    data = {"counts": counts, "oldest_pending_age_s": oldest}
    message = f"integrity ok; {text}" + (f"; oldest waiting {age(oldest)}" if oldest is not None else "")
    if counts["failed"] or counts["held"]:
        return Check("queue", "warn", message + " (see 'queue list --state failed|held')", data)
    if oldest is not None and oldest > 3600:
        return Check("queue", "warn", message + ": reports have waited over an hour", data)
    return Check("queue", "ok", message, data)


def check_service(state: State) -> Check:
    if is_locked(state.paths.lock_file):
        pid = read_holder(state.paths.lock_file).get("pid")
        return Check("service", "ok", f"running (pid {pid})", {"pid": pid})
    return Check("service", "warn", "not running: nothing is uploaded until it runs ('pywats-client service')")


__all__ = ["Check", "app", "run_checks"]

"""``pywats-client service`` (run in the foreground), ``status`` and ``instances``.

``status`` asks the running service over its control API when there is one (state, server online, alerts,
health URL), and otherwise reads what is on disk: the lock, the configuration and the queue. All of it is
gathered by :func:`gather_status`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Optional

import typer

from ..control.client import ControlClient
from ..control.client import running as control_running
from ..control.protocol import ControlError

from ..config import ConfigError
from ..instance import InstancePaths, list_instances
from ..lock import is_locked, read_holder
from ..service import AsyncClientService
from ._common import State, age, describe, detach_logging, get_state, table

app = typer.Typer()


@app.command("service")
def service(
    ctx: typer.Context,
    server_url: Optional[str] = typer.Option(None, "--server-url", help="the WATS server, for this run only"),
    upload_concurrency: Optional[int] = typer.Option(None, "--upload-concurrency", min=1, max=64,
                                                     help="reports uploaded at the same time, for this run only"),
    settings: Optional[list[str]] = typer.Option(None, "--set", metavar="KEY=VALUE",
                                                 help="any top-level configuration key, for this run only "
                                                 "(VALUE as JSON, else text; repeatable)"),
) -> None:  # fmt: skip
    """Run the service in the foreground until Ctrl+C or SIGTERM.

    Flags override the configuration file and the environment for this run; nothing is saved.
    """
    state = get_state(ctx)
    detach_logging()  # the service logs to stderr itself (and to its log files)
    overrides: dict[str, Any] = {}
    for item in settings or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or "." in key:
            raise typer.BadParameter(f"{item!r}: give KEY=VALUE with a top-level key (e.g. rescan_interval_s=10)")
        try:
            overrides[key.strip()] = json.loads(value)
        except ValueError:
            overrides[key.strip()] = value
    if server_url is not None:
        overrides["server_url"] = server_url
    if upload_concurrency is not None:
        overrides["upload_concurrency"] = upload_concurrency
    if state.verbose:
        overrides["log_level"] = "DEBUG"
    elif state.quiet:
        overrides["log_level"] = "WARNING"
    runner = AsyncClientService(state.paths, config_file=state.config_override, overrides=overrides,
                                log_to_stderr=True)  # fmt: skip
    code = asyncio.run(runner.run(install_signal_handlers=True))
    raise typer.Exit(code)


def gather_status(state: State) -> dict[str, Any]:
    """Everything ``status`` shows, as plain data (no secrets)."""
    paths = state.paths
    running = is_locked(paths.lock_file)
    holder = read_holder(paths.lock_file) if running else {}
    status: dict[str, Any] = {
        "instance": paths.name, "folder": str(paths.root), "running": running, "pid": holder.get("pid"),
        "started_at": holder.get("started"), "state": "RUNNING" if running else "STOPPED", "server_url": None,
        "config_file": str(state.config_path), "config_error": None, "converters": [],
    }  # fmt: skip
    try:
        config = state.load_config()
    except ConfigError as error:
        status["config_error"] = describe(error)
    else:
        status["server_url"] = config.server_url
        status["converters"] = [
            {"name": entry.name, "converter": entry.converter, "enabled": entry.enabled,
             "watch": str(entry.folders(paths)[0])}
            for entry in config.converters
        ]  # fmt: skip
    status["health_url"] = None
    if running and control_running(paths):  # the service itself knows best: ask it
        try:
            with ControlClient(paths, timeout=10) as control:
                live = control.status()
        except ControlError as error:
            status["control_error"] = str(error)
        else:
            status.update(state=live["state"], health_url=live.get("health_url"), queue=live["queue"],
                          server=live["server"], alerts=live["alerts"], held=live["held"],
                          converters=live["converters"], uploads=live["uploads"], source="service")  # fmt: skip
            return status
    queue = state.open_queue()
    if queue is None:
        status["queue"] = {"exists": False, "oldest_pending_age_s": None}
    else:
        try:
            status["queue"] = {**queue.counts(), "oldest_pending_age_s": queue.oldest_pending_age()}
        finally:
            queue.close()
    return status


@app.command("status")
def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="compact JSON")) -> None:
    """Show whether the service runs, its server, queue and converters."""
    state = get_state(ctx)
    info = gather_status(state)
    if as_json:
        state.emit_json(info)
        return
    if info["running"]:
        since = f", up {age(time.time() - info['started_at'])}" if info["started_at"] else ""
        service_line = f"running (pid {info['pid']}{since})"
    else:
        service_line = "not running"
    state.echo(f"instance     {info['instance']}  ({info['folder']})")
    state.echo(f"service      {service_line}")
    server = info.get("server")
    online = "" if not server or server.get("online") is None else (" (online)" if server["online"] else " (OFFLINE)")
    state.echo(f"server       {info['server_url'] or '(not configured)'}{online}")
    if info.get("source") == "service":
        state.echo(f"state        {info['state']}" + (f"; health {info['health_url']}" if info["health_url"] else ""))
        if info["held"]:
            state.echo(f"HELD         {info['held']}")
        for alert in info["alerts"]:
            state.echo(f"alert        {alert['message']}")
    if info["config_error"]:
        state.echo(f"config       INVALID: {info['config_error']}")
    queue = info["queue"]
    if queue.get("exists") is False:
        state.echo("queue        (empty: nothing queued yet)")
    else:
        counts = ", ".join(f"{queue[name]} {name}" for name in ("pending", "uploading", "failed", "held", "done"))
        oldest = queue["oldest_pending_age_s"]
        state.echo(f"queue        {counts}" + (f"; oldest waiting {age(oldest)}" if oldest is not None else ""))
    converters = info["converters"]
    if not converters:
        state.echo("converters   (none configured)")
    for index, entry in enumerate(converters):
        label = "converters" if index == 0 else ""
        enabled = "" if entry["enabled"] else " (disabled)"
        problem = f" NOT LOADED: {entry['error']}" if entry.get("error") else ""
        watching = f" watching {entry['watch']}" if entry.get("watch") else ""
        state.echo(f"{label:<12} {entry['name']}: {entry['converter']}{watching}{enabled}{problem}")


@app.command("instances")
def instances(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="compact JSON")) -> None:
    """List every instance on this computer and whether its service runs."""
    state = get_state(ctx)
    rows = []
    for name in list_instances():
        paths = InstancePaths.of(name)
        running = is_locked(paths.lock_file)
        pid = read_holder(paths.lock_file).get("pid") if running else None
        rows.append({"name": name, "running": running, "pid": pid, "configured": paths.config_file.exists(),
                     "folder": str(paths.root)})  # fmt: skip
    if as_json:
        state.emit_json({"instances": rows})
        return
    if not rows:
        state.info("no instances yet (create one with 'pywats-client --instance NAME config init ...')")
        return
    grid = table("instance", "service", "configured", "folder")
    for row in rows:
        service_text = f"running (pid {row['pid']})" if row["running"] else "stopped"
        grid.add_row(row["name"], service_text, "yes" if row["configured"] else "no", row["folder"])
    state.out.print(grid)


__all__ = ["app", "gather_status"]

"""``pywats-client queue``: look into the instance's report queue, retry, drop and export reports.

When the instance's service runs, ``list``, ``show``, ``retry`` and ``drop`` go through its control API (so a
retry also lifts a hold at once and is sent without waiting). Otherwise, and for ``export`` (which reads every
payload, too much for a rate-limited API), they open the queue file directly: SQLite's WAL lets them read
while a service writes, and a change made here is a transaction like the service's own. A command that only
reads never creates a queue for an instance that has none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
import time
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..control.client import ControlClient, running
from ..queue import STATES, QueueItem, ReportQueue
from ._common import State, age, get_state, is_interactive, table

app = typer.Typer(help="Look into the report queue; retry, drop and export reports.", no_args_is_help=True)

QueueState = Enum("QueueState", {name: name for name in STATES}, type=str)  # type: ignore[misc]


@app.command("list")
def list_(
    ctx: typer.Context,
    state_filter: Optional[QueueState] = typer.Option(None, "--state", "-s", help="only reports in this state"),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="at most this many, newest first"),
    as_json: bool = typer.Option(False, "--json", help="compact JSON"),
) -> None:
    """List queued reports, newest first."""
    state = get_state(ctx)
    items = _list(state, state_filter.value if state_filter else None, limit)
    if as_json:
        state.emit_json({"instance": state.instance, "reports": [item.as_dict() for item in items]})
        return
    if not items:
        state.info("the queue is empty" + (f" of {state_filter.value} reports" if state_filter else ""))
        return
    now = time.time()
    grid = table("id", "state", "sn", "pn", "attempts", "queued", "last error")
    for item in items:
        grid.add_row(item.id, item.state, item.serial_number or "", item.part_number or "", str(item.attempts),
                      age(now - item.created_at) + " ago", _short(item.last_error))  # fmt: skip
    state.out.print(grid)


def _control(state: State) -> ControlClient | None:
    """The running service's control API, or None when no service runs for the instance."""
    return ControlClient(state.paths) if running(state.paths) else None


def _list(state: State, which: str | None, limit: int) -> list[QueueItem]:
    control = _control(state)
    if control is not None:
        with control:
            return [QueueItem(**row) for row in control.queue_list(which, limit=limit)["items"]]
    queue = state.open_queue()
    if queue is None:
        return []
    try:
        return queue.list(which, limit=limit)
    finally:
        queue.close()


@app.command("show")
def show(
    ctx: typer.Context,
    report_id: str = typer.Argument(..., metavar="ID"),
    payload: bool = typer.Option(False, "--payload", help="also the WSJF document (until it is uploaded)"),
    as_json: bool = typer.Option(False, "--json", help="compact JSON"),
) -> None:
    """Show one queued report."""
    state = get_state(ctx)
    item = _get(state, report_id, payload)
    if item is None:
        state.fail(f"no report {report_id} in the queue of instance {state.instance}")
    if as_json:
        state.emit_json({"report": item.as_dict(payload=payload)})
        return
    for key, value in item.as_dict().items():
        if key.endswith("_at") and value is not None:
            value = f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(value))} ({age(time.time() - value)} ago)"
        state.echo(f"{key:<16} {'' if value is None else value}")
    if payload:
        state.echo(json.dumps(json.loads(item.payload), indent=2) if item.payload else "(no payload: uploaded)")


def _get(state: State, report_id: str, payload: bool) -> QueueItem | None:
    control = _control(state)
    if control is not None:
        from ..control.protocol import ControlError

        with control:
            try:
                return QueueItem(**control.queue_show(report_id, payload=payload))
            except ControlError as error:
                if error.status == 404:
                    return None
                raise
    queue = state.open_queue()
    try:
        return queue.get(report_id, payload=payload) if queue is not None else None
    finally:
        if queue is not None:
            queue.close()


@app.command("retry")
def retry(
    ctx: typer.Context,
    report_ids: Optional[list[str]] = typer.Argument(None, metavar="[ID]...", help="reports to retry"),
    all_: bool = typer.Option(False, "--all", help="every failed and held report"),
) -> None:
    """Put failed (and held) reports back to pending, to be uploaded again."""
    state = get_state(ctx)
    if not report_ids and not all_:
        state.fail("give the ids of the reports to retry, or --all")
    control = _control(state)
    if control is not None:
        with control:
            answer = control.queue_retry([item.lower() for item in report_ids or []], all=all_)
        state.success(f"{answer['retried']} report(s) back to pending (sent now by the running service)")
        return
    queue = state.open_queue()
    if queue is None:
        state.success("0 report(s) back to pending (the queue is empty)")
        return
    try:
        if all_:
            chosen = [item.id for which in ("failed", "held") for item in queue.list(which, limit=10**9)]
        else:
            chosen = [item.lower() for item in report_ids or []]
        before = {report_id: queue.get(report_id) for report_id in chosen}
        queue.retry(chosen)
    finally:
        queue.close()
    stuck = sum(item is not None and item.state in ("failed", "held") for item in before.values())
    due = sum(item is not None and item.state == "pending" for item in before.values())
    state.success(f"{stuck} report(s) back to pending" + (f"; {due} already pending, now due" if due else ""))
    missing = [report_id for report_id, item in before.items() if item is None]
    if missing:
        state.warn(f"not in the queue: {', '.join(missing)}")


@app.command("drop")
def drop(
    ctx: typer.Context,
    report_ids: list[str] = typer.Argument(..., metavar="ID..."),
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask"),
) -> None:
    """Delete reports from the queue: they will never be uploaded."""
    state = get_state(ctx)
    if not yes:
        if not is_interactive():
            state.fail("dropping reports deletes them for good: confirm with --yes (not asking: no terminal)")
        typer.confirm(f"Drop {len(report_ids)} report(s) for good? They will not be uploaded", abort=True,
                      err=True)  # fmt: skip
    control = _control(state)
    if control is not None:
        with control:
            count = control.queue_drop([item.lower() for item in report_ids])["dropped"]
    else:
        queue = state.open_queue()
        try:
            count = 0 if queue is None else queue.drop([item.lower() for item in report_ids])
        finally:
            if queue is not None:
                queue.close()
    state.success(f"{count} report(s) dropped")
    if count < len(report_ids):
        state.warn(f"{len(report_ids) - count} not dropped: not in the queue, or being uploaded right now")


@app.command("export")
def export(
    ctx: typer.Context,
    state_filter: Optional[QueueState] = typer.Option(None, "--state", "-s", help="only reports in this state"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", dir_okay=False, help="write here instead of stdout"),
) -> None:
    """Export reports as JSON lines, each with its payload."""
    state = get_state(ctx)
    queue = state.open_queue()
    handle = out.open("w", encoding="utf-8") if out is not None else None
    count = 0
    try:
        for line in _export_lines(queue, state_filter.value if state_filter else None):
            if handle is not None:
                handle.write(state.scrub(line) + "\n")
            else:
                state.echo(line)
            count += 1
    finally:
        if handle is not None:
            handle.close()
        if queue is not None:
            queue.close()
    state.info(f"exported {count} report(s)" + (f" to {out}" if out else ""))


def _export_lines(queue: ReportQueue | None, which: str | None, page: int = 500) -> Iterator[str]:
    if queue is None:
        return
    offset = 0
    while True:
        items = queue.list(which, limit=page, offset=offset)
        for item in items:
            full = queue.get(item.id, payload=True)
            if full is not None:  # gone between the two reads: dropped or pruned
                yield json.dumps(full.as_dict(payload=True), separators=(",", ":"))
        if len(items) < page:
            return
        offset += page


def _short(text: str | None, width: int = 60) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


__all__ = ["app"]

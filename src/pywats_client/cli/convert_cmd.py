"""``pywats-client convert`` (print the WSJF a file gives) and ``submit`` (queue files' reports and upload them).

``submit`` converts exactly as intake does (:func:`convert_source`: deterministic ids, station filled from the
configuration) and puts the reports into the instance's durable queue; the files themselves are not moved.
Then, unless ``--no-wait``:

- a service runs for the instance: it uploads them; ``submit`` watches the queue until they are done or failed;
- none runs: ``submit`` takes the instance lock and uploads them itself with the service's own
  :class:`~pywats_client.service.uploader.Uploader` (same fault classes, backoff, hold), then lets go. While
  it holds the lock it is the instance's uploader, so other reports waiting in the queue go out too.

Reports that are not through when ``--timeout`` ends stay queued: the next service sends them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from pywats import AsyncWATS, CircuitBreaker, RateLimit
from pywats.formats import wsjf

from ..config import ClientConfig
from ..converters import ConversionContext, ConversionError, Converter
from ..control.client import ControlClient, running
from ..control.protocol import ControlError
from ..lock import InstanceLock, InstanceLockedError, is_locked
from ..queue import AsyncReportQueue, NewReport, QueueItem, ReportQueue, SourceRecord
from ..service.events import Alerts, EventBus, Stats
from ..service.uploader import UploadSettings, Uploader
from ._common import State, convert_path, get_state, make_converter, parse_arguments, station_context

app = typer.Typer()

FINISHED = ("done", "failed")  # queue states after which a report needs nobody
OUTCOMES = ("uploaded", "rejected", "waiting", "queued")


@app.command("convert")
def convert(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, help="a file (or a folder, for folder converters)"),
    converter: str = typer.Option("auto", "--converter", "-c", metavar="SPEC", help="default: auto"),
    arg: Optional[list[str]] = typer.Option(None, "--arg", metavar="KEY=VALUE", help="converter argument (repeatable)"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", file_okay=False, help="write <id>.json files here"),
) -> None:  # fmt: skip
    """Print the WSJF of a file's report (a JSON array when it holds several). The file is left alone."""
    state = get_state(ctx)
    made = make_converter(state, converter, parse_arguments(arg))
    conversion, _ = convert_path(made, file, station_context(state, required=False))
    texts = [wsjf.dumps(report) for report in conversion.reports]
    state.info(f"{file}: {len(texts)} report(s) by {conversion.converter.name} {conversion.converter.version}")
    if out is None:
        state.echo(texts[0] if len(texts) == 1 else "[" + ",".join(texts) + "]")
        return
    out.mkdir(parents=True, exist_ok=True)
    for report, text in zip(conversion.reports, texts):
        target = out / f"{str(report.id).lower()}.json"
        target.write_text(text, encoding="utf-8")
        state.echo(str(target))


@app.command("submit")
def submit(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., exists=True, help="files (or folders) to convert and upload"),
    converter: str = typer.Option("auto", "--converter", "-c", metavar="SPEC", help="default: auto"),
    arg: Optional[list[str]] = typer.Option(None, "--arg", metavar="KEY=VALUE", help="converter argument (repeatable)"),
    no_wait: bool = typer.Option(False, "--no-wait", help="only queue them; the service uploads them"),
    timeout: float = typer.Option(120.0, "--timeout", min=0, help="longest wait for the uploads, in seconds"),
    as_json: bool = typer.Option(False, "--json", help="compact JSON summary"),
) -> None:  # fmt: skip
    """Convert files and upload their reports through the instance's queue."""
    state = get_state(ctx)
    config = state.load_config()
    made = make_converter(state, converter, parse_arguments(arg))
    queued, conversion_errors = _enqueue(state, made, files, ConversionContext(station=config.station.station()))
    ids = list(queued)
    held: str | None = None
    if ids and not no_wait:
        if is_locked(state.paths.lock_file):
            held = _wait_for_service(state, ids, timeout)
        else:
            held = _upload_here_locked(state, config, ids, timeout)
    _summarise(state, queued, _final_states(state, ids), conversion_errors, held, no_wait, as_json)


# -- queueing ------------------------------------------------------------------------------------------------


def _enqueue(state: State, converter: Converter, files: list[Path], context: ConversionContext
             ) -> tuple[dict[str, dict[str, Any]], list[dict[str, str]]]:  # fmt: skip
    """Convert each file and queue its reports; ``({report id: what it is}, [conversion errors])``."""
    queued: dict[str, dict[str, Any]] = {}
    errors: list[dict[str, str]] = []
    queue = state.open_queue(create=True)
    assert queue is not None
    try:
        for path in files:
            try:
                conversion, sha256 = convert_path(converter, path, context)
            except ConversionError as error:
                errors.append({"file": str(path), "error": str(error)})
                state.error(f"{path}: {error}")
                continue
            correlation = uuid.uuid4().hex[:12]
            reports = [
                NewReport(id=str(report.id).lower(), payload=wsjf.dumps(report), source=str(path.absolute()),
                          source_sha256=sha256, converter=conversion.converter.name, correlation_id=correlation,
                          serial_number=report.sn, part_number=report.pn)  # fmt: skip
                for report in conversion.reports
            ]
            stat = path.stat()
            record = SourceRecord(str(path.absolute()), stat.st_size, stat.st_mtime_ns, sha256,
                                  conversion.converter.name, "queued", len(reports))  # fmt: skip
            outcomes = queue.enqueue(reports, record)
            for report, outcome in zip(reports, outcomes):
                queued[report.id] = {"file": str(path), "sn": report.serial_number, "outcome": outcome}
            again = ", already queued before" if outcomes and set(outcomes) == {"unchanged"} else ""
            state.info(f"{path}: {len(reports)} report(s) queued ({conversion.converter.name}{again})")
        if queued:  # submitting again means "send it now": failed or held copies go back to pending, due now
            queue.retry(list(queued))
    finally:
        queue.close()
    return queued, errors


def _final_states(state: State, ids: list[str]) -> dict[str, QueueItem | None]:
    queue = state.open_queue()
    if queue is None:
        return dict.fromkeys(ids)
    try:
        return {report_id: queue.get(report_id) for report_id in ids}
    finally:
        queue.close()


def _progress(state: State) -> Progress:
    # transient: the bar leaves no trace; disabled when stderr is not a terminal (logs, CI) or with -q
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=state.err, transient=True,
                    disable=state.quiet or not state.err.is_terminal)  # fmt: skip


# -- waiting for a running service ---------------------------------------------------------------------------


def _wait_for_service(state: State, ids: list[str], timeout: float) -> str | None:
    """Poll the queue until the service has finished with every id (or holds them, or stops); the hold reason."""
    state.info("the service of this instance is running: it uploads them")
    if running(state.paths):
        try:
            with ControlClient(state.paths, timeout=10) as control:
                control.sync_now()  # send them now, not at the service's next look at the queue
        except ControlError as error:
            state.warn(f"could not ask the service to send them now ({error}); it will within seconds")
    deadline = time.monotonic() + timeout
    queue = ReportQueue(state.paths.queue_db)
    try:
        with _progress(state) as progress:
            task = progress.add_task("uploading (service)", total=len(ids))
            while True:
                items = [queue.get(report_id) for report_id in ids]
                finished = sum(item is None or item.state in FINISHED for item in items)
                progress.update(task, completed=finished)
                held = next((item.last_error for item in items if item is not None and item.state == "held"), None)
                if finished == len(ids) or held is not None:
                    return held
                if time.monotonic() >= deadline or not is_locked(state.paths.lock_file):
                    return None
                time.sleep(0.2)
    finally:
        queue.close()


# -- uploading here ------------------------------------------------------------------------------------------


def _upload_here_locked(state: State, config: ClientConfig, ids: list[str], timeout: float) -> str | None:
    lock = InstanceLock(state.paths.lock_file)
    try:
        lock.acquire()
    except InstanceLockedError:  # a service started meanwhile: it does the uploading
        return _wait_for_service(state, ids, timeout)
    try:
        return asyncio.run(_upload_here(state, config, ids, timeout))
    finally:
        lock.release()


async def _upload_here(state: State, config: ClientConfig, ids: list[str], timeout: float) -> str | None:
    """Run the service's uploader on the queue until ``ids`` are through; the hold reason, if it held."""
    queue = await asyncio.to_thread(AsyncReportQueue, state.paths.queue_db)
    clients: list[AsyncWATS] = []
    try:
        await queue.recover()  # we hold the lock: uploads a dead process left half-done go back to pending
        waiting = {item.id for item in [await queue.get(report_id) for report_id in ids]
                   if item is not None and item.state not in FINISHED}  # fmt: skip
        if not waiting:
            return None
        breaker = CircuitBreaker(config.circuit_failure_threshold, config.circuit_recovery_s)
        client, probe_client = _clients(config, breaker)
        clients = [c for c in (client, probe_client) if c is not None]
        bus = EventBus()
        events = bus.subscribe()
        fatal: list[BaseException] = []
        settings = UploadSettings(config.upload_concurrency, config.retry_base_s, config.retry_cap_s,
                                  config.hold_recheck_s)  # fmt: skip
        uploader = Uploader(
            queue=queue, client=lambda: client, probe=lambda: _probe(probe_client), breaker=breaker,
            settings=lambda: settings, paused=lambda: False, bus=bus, stats=Stats(), alerts=Alerts(bus),
            on_fatal=fatal.append,
        )  # fmt: skip
        runner = asyncio.create_task(uploader.run(), name="uploader")
        try:
            held = await _follow(state, events, waiting, len(ids) - len(waiting), len(ids), timeout, fatal)
        finally:
            await _cancel(runner)
            await uploader.drain(min(config.shutdown_timeout_s, 10.0))
            await queue.recover()  # uploads cut short go back to pending for the service
        if fatal:
            raise fatal[0]
        return held
    finally:
        for one in clients:
            await one.aclose()
        await asyncio.to_thread(queue.close)


async def _cancel(task: asyncio.Task[Any]) -> None:
    """Cancel until it ends: on Python 3.11 ``asyncio.wait_for`` (which the uploader's loop sleeps in) loses a
    cancellation that arrives as its inner wait completes, so one ``cancel()`` is not always enough."""
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.1)
    if not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]


async def _follow(state: State, events: asyncio.Queue[Any], waiting: set[str], finished: int, total: int,
                  timeout: float, fatal: list[BaseException]) -> str | None:  # fmt: skip
    """Show the uploader's events for our reports until none is left, the queue is held, or time is up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    with _progress(state) as progress:
        task = progress.add_task("uploading", total=total, completed=finished)
        while waiting and not fatal:
            try:
                event = await asyncio.wait_for(events.get(), max(deadline - loop.time(), 0.0))
            except asyncio.TimeoutError:
                return None
            report_id = event.data.get("report_id")
            if event.kind in ("uploaded", "upload_failed") and report_id in waiting:
                waiting.discard(report_id)
                progress.update(task, advance=1, description="uploading")
            elif event.kind == "upload_retry" and report_id in waiting:
                why = f"retrying ({event.data['reason']}; next in {event.data['delay']:.1f} s)"
                progress.update(task, description=why)
            elif event.kind == "held":
                return str(event.data.get("reason"))
    return None


def _clients(config: ClientConfig, breaker: CircuitBreaker) -> tuple[AsyncWATS | None, AsyncWATS | None]:
    """The upload client (shared breaker, no retries: the queue retries) and a probe client, as the service has."""
    if not config.server_url or not config.token:
        return None, None
    rate = RateLimit(config.rate_limit_per_minute, 60.0) if config.rate_limit_per_minute else None
    options: dict[str, Any] = dict(timeout=config.request_timeout_s, retry=None, rate_limit=rate)
    try:
        return (AsyncWATS(config.server_url, config.token, circuit_breaker=breaker, **options),
                AsyncWATS(config.server_url, config.token, **options))  # fmt: skip
    except ValueError:
        return None, None


async def _probe(client: AsyncWATS | None) -> Any:
    if client is None:  # not reached: without a client the uploader holds before it probes
        raise RuntimeError("no server configured")
    return await client.process.get_processes()


# -- the summary ---------------------------------------------------------------------------------------------


def _summarise(
    state: State, queued: dict[str, dict[str, Any]], final: dict[str, QueueItem | None],
    conversion_errors: list[dict[str, str]], held: str | None, no_wait: bool, as_json: bool,
) -> None:  # fmt: skip
    rows = []
    for report_id, what in queued.items():
        item = final.get(report_id)
        row_state = item.state if item is not None else "dropped"
        outcome = ("queued" if no_wait and row_state not in FINISHED else
                   {"done": "uploaded", "failed": "rejected"}.get(row_state, "waiting"))  # fmt: skip
        reason = item.last_error if item is not None and outcome in ("rejected", "waiting") else None
        rows.append({"id": report_id, "sn": what["sn"], "file": what["file"], "outcome": outcome, "state": row_state,
                     "reason": reason})  # fmt: skip
    counts = {name: sum(row["outcome"] == name for row in rows) for name in OUTCOMES}
    failed = bool(counts["rejected"] or conversion_errors)
    if as_json:
        state.emit_json({"instance": state.instance, "reports": rows, "conversion_errors": conversion_errors,
                         "held": held, **counts})  # fmt: skip
    else:
        for row in rows:
            line = f"{row['outcome']:<9} {row['id']}  SN {row['sn']}  {row['file']}"
            if row["reason"]:
                line += f": {row['reason']}"
            state.echo(line)
        if held:
            state.warn(f"uploads are held: {held}. The reports stay queued and go once that is fixed.")
        parts = [f"{counts[name]} {name}" for name in OUTCOMES if counts[name]]
        if conversion_errors:
            parts.append(f"{len(conversion_errors)} file(s) failed to convert")
        (state.error if failed else state.success)(", ".join(parts) or "nothing to submit")
        if counts["waiting"]:
            state.info("reports still waiting stay in the queue: the service uploads them ('queue list' shows them)")
    if failed:
        raise typer.Exit(1)


__all__ = ["app"]

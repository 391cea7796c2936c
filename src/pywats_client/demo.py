"""``pywats-client demo``: the whole path of a report, on this machine, in about half a minute.

1. starts the WATS emulator on a free loopback port and a station service instance in a temporary folder, with
   one ``auto`` converter watching one folder;
2. drops the demo's files into it: test reports in WSJF, WSXF and WSTF (made by pywats' own builder and
   writers), one file that is not a report (it goes to the error folder with the reason) and one report
   the server rejects (an unknown process code: it is dead-lettered with the server's reason);
3. shows them flowing through: counts and a progress bar, live;
4. halfway, the server goes down for a few seconds: the queue grows, the circuit breaker opens, and when the
   server is back the backlog drains by itself;
5. prints a summary read back from the emulator and the queue, and cleans up.

Exit code 0 when every report that should arrive did, and the two bad files were handled as expected.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pywats import ReportBuilder
from pywats.formats import wsjf, wsxf
from pywats.synthetic import synthetic_report

from . import config as config_module
from .instance import InstancePaths
from .queue import ReportQueue
from .service import AsyncClientService

WSTF_REPORT = """--Header-Start--
SerialNumber\tDEMO-WSTF-{index:02d}
PartNumber\tPSU-200
Revision\tB
OperationTypeName\tFinal Function Test
StationName\tDEMO-STATION
OperatorName\tdemo
UTCStartDateTime\t2026-12-01T08:{index:02d}:00
ExecutionTime\t12.5
--Step-Data-Start--
StepType\tStepName\tMeasureName\tValue\tLowLimit\tHighLimit\tCompOperator\tUnit
SequenceCall\tOutputs
NumericLimitTest\t12V rail\t\t{volts:.3f}\t11.4\t12.6\tGELE\tV
NumericLimitTest\tRipple\t\t{ripple:.4f}\t0.05\t\tLE\tV
EndSequenceCall
PassFailTest\tFan spins\t\tTRUE
--Step-Data-End--
--UUT-End--
"""

OUTAGE_S = 4.0


REAL_SAMPLES = Path(__file__).resolve().parents[2] / "tests" / "data" / "samples"
"""Real equipment files kept in a checkout's tests (their licences are in NOTICE); an installed wheel has none."""


def real_samples() -> dict[str, bytes]:
    """The real test-equipment files the demo drops too, when it runs from a checkout."""
    if not REAL_SAMPLES.is_dir():
        return {}
    return {path.name: path.read_bytes() for path in sorted(REAL_SAMPLES.rglob("*")) if path.is_file()}


def expected_reports(files: dict[str, str | bytes]) -> int:
    """How many reports the good files hold (``auto`` converts each here first, the way the service will)."""
    from .converters import ConversionContext, ConversionError, SourceFile, convert_source, load_converter_class

    auto = load_converter_class("auto")()
    total = 0
    for name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        try:
            total += len(convert_source(auto, SourceFile(Path(name), data), ConversionContext()).reports)
        except ConversionError:
            pass
    return total


def demo_files(count: int = 36) -> dict[str, str | bytes]:
    """The files the demo drops: ``count`` reports in three WATS formats, the real equipment files of a checkout,
    and two bad ones (one that is no report, one the server rejects)."""
    files: dict[str, str | bytes] = {}
    for index in range(count):
        kind = index % 3
        if kind == 0:
            files[f"board-{index:02d}.json"] = wsjf.dumps(synthetic_report(40, sn=f"DEMO-WSJF-{index:02d}", seed=index))
        elif kind == 1:
            builder = ReportBuilder.uut(pn="CTRL-300", sn=f"DEMO-WSXF-{index:02d}", rev="C", process_code=20,
                                        machine_name="DEMO-STATION", location="Demo line", purpose="Demo")  # fmt: skip
            ict = builder.sequence("In-circuit")
            ict.numeric("R12", 1000 + index, low=990, high=1100, unit="Ohm")
            ict.numeric("C7", 4.7e-6, low=4.2e-6, high=5.2e-6, unit="F")
            builder.pass_fail("Shorts", True)
            files[f"ict-{index:02d}.xml"] = wsxf.dumps(builder.build())
        else:
            files[f"psu-{index:02d}.txt"] = WSTF_REPORT.format(index=index, volts=12.0 + index / 1000, ripple=0.02)
    files.update(real_samples())
    files["notes.txt"] = "Not a test report: the operator's shopping list.\n"
    files = {"notes.txt": files.pop("notes.txt"), **files}  # one bad file in each half
    files["unknown-process.json"] = wsjf.dumps(synthetic_report(10, sn="DEMO-REJECTED", process_code=4242))
    return files


class _Display:
    """Live counts: a rich progress bar on a terminal, a line every second otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.rich = sys.stdout.isatty()
        self._last = 0.0
        if self.rich:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[detail]}"), TimeElapsedColumn())  # fmt: skip
            self.task = self.progress.add_task("uploaded", total=total, detail="")
            self.progress.start()

    def update(self, delivered: int, detail: str, *, force: bool = False) -> None:
        if self.rich:
            self.progress.update(self.task, completed=delivered, detail=detail)
        elif force or time.monotonic() - self._last >= 1.0:
            self._last = time.monotonic()
            print(f"  uploaded {delivered}/{self.total}  {detail}", flush=True)

    def say(self, text: str) -> None:
        (self.progress.console.print if self.rich else print)(text)

    def close(self) -> None:
        if self.rich:
            self.progress.stop()


async def _run(folder: Path, emulator: Any, files: dict[str, str | bytes]) -> int:
    paths = InstancePaths("demo", folder / "instances" / "demo")
    watch = folder / "drop-here"
    config_module.save({
        "server_url": emulator.url, "api_token": emulator.token,
        "station": {"name": "DEMO-STATION", "location": "Demo line", "purpose": "Demo"},
        "converters": [{"name": "lab", "converter": "auto", "watch": str(watch)}],
        "stability_window_s": 0.2, "retry_base_s": 0.2, "retry_cap_s": 1.0, "ping_interval_s": 0.5,
        "circuit_failure_threshold": 3, "circuit_recovery_s": 1.0, "disk_reserve_mb": 0,
    }, paths.config_file)  # fmt: skip
    service = AsyncClientService(paths)
    runner = asyncio.create_task(service.run())
    while service.state.value not in ("RUNNING", "ERROR") and not runner.done():
        await asyncio.sleep(0.05)
    if runner.done():
        return await runner
    names = list(files)
    first, second = names[: len(names) // 2], names[len(names) // 2:]
    first_good = expected_reports({name: files[name] for name in first if name != "unknown-process.json"})
    good = first_good + expected_reports({name: files[name] for name in second if name != "unknown-process.json"})
    display = _Display(good)
    display.say(f"[emulator] {emulator.url}   [service] instance 'demo', watching {watch}")
    watch.mkdir(parents=True, exist_ok=True)
    _drop(watch, files, first)
    real = len(real_samples())
    display.say(f"dropped {len(first)} files: WSJF, WSXF and WSTF reports" + (f", real files of {real} kinds of test "
                "equipment" if real else "") + ", and one file that is not a report")  # fmt: skip
    outage = "before"
    outage_end = 0.0
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            status = await service.status()
            queue = status["queue"]
            delivered = queue["done"]
            waiting = queue["pending"] + queue["uploading"]
            detail = (f"waiting {waiting}  rejected {queue['failed']}  "
                      f"not converted {sum(c['failed'] for c in status['converters'])}  "
                      f"circuit {status['server']['circuit']}")  # fmt: skip
            if outage == "before" and delivered >= first_good:
                emulator.set_faults(outage=True, retry_after_s=None)
                outage, outage_end = "during", time.monotonic() + OUTAGE_S
                display.say(f"[outage] the server is down for {OUTAGE_S:g} s; {len(second)} more files dropped: "
                            "they wait in the queue")  # fmt: skip
                _drop(watch, files, second)
            elif outage == "during" and time.monotonic() >= outage_end:
                emulator.clear_faults()
                outage = "after"
                display.say(f"[outage] the server is back with {waiting} reports waiting: the backlog drains by itself")
            display.update(delivered, ("SERVER DOWN  " if outage == "during" else "") + detail)
            if outage == "after" and delivered >= good and queue["failed"] >= 1 and status["converters"][0]["failed"] >= 1:
                display.update(delivered, detail, force=True)
                break
            await asyncio.sleep(0.1)
    finally:
        display.close()
        service.request_stop()
        code = await runner
    return _summary(paths, emulator, good) or code


def _drop(watch: Path, files: dict[str, str | bytes], names: list[str]) -> None:
    for name in names:  # written, then renamed into place, as a careful tester does
        content = files[name]
        (watch / (name + ".tmp")).write_bytes(content.encode() if isinstance(content, str) else content)
        os.replace(watch / (name + ".tmp"), watch / name)


def _summary(paths: InstancePaths, emulator: Any, good: int) -> int:
    queue = ReportQueue(paths.queue_db)
    try:
        counts = queue.counts()
        failed = queue.list("failed")
        by_converter = Counter(item.converter for item in queue.list("done", limit=10_000))
    finally:
        queue.close()
    stored = emulator.state.storage.count_reports()
    errors = sorted(paths.error_dir("lab").glob("*.error.txt"))
    print()
    print("Summary")
    print(f"  reports on the server (read back from the emulator): {stored} of {good} expected")
    print(f"  queue: {counts['done']} done, {counts['failed']} rejected, "
          f"{counts['pending'] + counts['uploading'] + counts['held']} still waiting")  # fmt: skip
    print("  converted by: " + ", ".join(f"{name} {count}" for name, count in sorted(by_converter.items())))
    for item in failed:
        print(f"  rejected by the server: {Path(item.source or '?').name} (SN {item.serial_number}): {item.last_error}")
    for sidecar in errors:
        reason = next((line[8:] for line in sidecar.read_text(encoding="utf-8").splitlines()
                       if line.startswith("reason: ")), "?")  # fmt: skip
        print(f"  not converted: {sidecar.name.removesuffix('.error.txt')}: {reason}")
    ok = stored == good and len(failed) == 1 and len(errors) == 1
    print("Demo finished: every report arrived once; the bad files were set aside with their reasons."
          if ok else "Demo finished with unexpected results (see above).")  # fmt: skip
    return 0 if ok else 1


def run_demo(*, keep: bool = False, count: int = 36) -> int:
    """Run the demo; the exit code. ``keep`` leaves the temporary folder (its path is printed)."""
    from pywats_emulator.testing import running_emulator

    folder = Path(tempfile.mkdtemp(prefix="pywats-demo-"))
    try:
        with running_emulator(db_path=folder / "emulator.db") as emulator:
            return asyncio.run(_run(folder, emulator, demo_files(count)))
    finally:
        if keep:
            print(f"(kept {folder})")
        else:
            shutil.rmtree(folder, ignore_errors=True)


__all__ = ["demo_files", "run_demo"]

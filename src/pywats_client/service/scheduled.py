"""A scheduled converter's intake: ``run()`` every ``interval_s`` seconds (and on "sync now"), its reports into the
queue. For converters that poll a tester's database or an API instead of reading files.

A run that raises :class:`ConversionError` is logged and counted and tried again at the next interval; one that
overruns the entry's ``timeout_s`` is abandoned like a file conversion. Report ids come from the content
(:func:`~pywats_client.converters.run.run_scheduled`), so a report the converter makes again is not sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from pywats.formats import wsjf

from ..converters import ConversionError
from ..converters.run import run_scheduled
from ..queue import NewReport, QueueError
from .events import wait_event
from .intake import IntakeBase

log = logging.getLogger("pywats_client.intake")


@dataclass
class ScheduledIntake(IntakeBase):
    trigger: asyncio.Event = field(default_factory=asyncio.Event)
    watch: Path | None = None
    _running: bool = False

    @property
    def in_flight(self) -> int:
        return int(self._running)

    async def run(self) -> None:
        interval = float(getattr(self.converter, "interval_s", 60.0))
        while True:
            if self.gate() is None:
                await self._run_once()
            self.trigger.clear()
            await wait_event(self.trigger, interval)

    async def drain(self, timeout: float) -> None:
        return None  # a run in progress is abandoned at shutdown; it is made again at the next start

    async def _run_once(self) -> None:
        self._running = True
        started = time.perf_counter()
        try:
            count, new = await self.pool().run(self._process, timeout=self.entry.timeout_s, what=self.name)
        except ConversionError as error:
            self.stats.conversions[(self.name, "failed")] += 1
            self.stats.error(self.name, str(error))
            self.bus.publish("conversion_failed", converter=self.name, source=None, reason=str(error))
            log.warning("%s: the scheduled run failed: %s", self.name, error)
            return
        except QueueError as error:
            self._queue_failed(error)
            return
        finally:
            self._running = False
        seconds = time.perf_counter() - started
        self.stats.conversions[(self.name, "ok")] += 1
        self.bus.publish("converted", converter=self.name, source=None, reports=count, seconds=seconds)
        if count:
            log.info("%s: scheduled run → %d report(s) queued (%d new)", self.name, count, new)
        if new:
            self.on_queued()

    def _process(self) -> tuple[int, int]:
        conversion = run_scheduled(self.converter, self.context())  # type: ignore[arg-type]
        reports = [
            NewReport(id=str(report.id).lower(), payload=wsjf.dumps(report), converter=conversion.converter.name,
                      serial_number=report.sn, part_number=report.pn)  # fmt: skip
            for report in conversion.reports
        ]
        outcomes = self.queues.get().enqueue(reports) if reports else []
        return len(reports), sum(outcome != "unchanged" for outcome in outcomes)


__all__ = ["ScheduledIntake"]

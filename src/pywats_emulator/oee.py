"""Overall Equipment Effectiveness from test reports (``POST /api/App/OeeAnalysis``), pure functions.

The emulator's definition, per test station and for all stations together (figures in percent):

- **Available time**: the hours ``availableTime`` gives for each weekday (seven numbers, Sunday first as
  .NET's ``DayOfWeek``), summed over the UTC calendar days of the window, a partial day pro rata. Each
  station has that much; all stations together have it times the number of stations.
- **Run time**: the sum of the reports' execution times (``uut.execTime``).
- **Availability** = run time / available time.
- **Performance** = ideal cycle time × reports / run time. The ideal cycle time is the available time of an
  average day divided by ``targetOutput`` (units per day) when that is given, else the shortest execution
  time of a passed report (the best the station has shown).
- **Quality** = passed reports / reports.
- **OEE** = availability × performance × quality.

Reports whose execution time (seconds) is outside ``minExecutionTime..maxExecutionTime``, or whose
*connection time* is outside ``minConnectionTime..maxConnectionTime``, are left out. The connection time of
a report is the time from the end of the station's previous report (its start plus execution time) to the
end of this one: the test plus the handling before it; a station's first report has its execution time.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .app_filter import FilterError, ReportRow


def parse_available_time(text: str) -> list[float]:
    """``"24,24,24,24,24,24,24"`` → seven hours per weekday, Sunday first (0..24 each)."""
    parts = [part.strip() for part in (text or "").split(",")]
    try:
        hours = [float(part) for part in parts]
    except ValueError:
        hours = []
    if len(hours) != 7 or any(not math.isfinite(h) or not 0 <= h <= 24 for h in hours):
        raise FilterError(f"availableTime must be seven hours (0 to 24) separated by commas, Sunday first, "
                          f"such as 24,24,24,24,24,24,24; not '{text}'.")  # fmt: skip
    return hours


def available_hours(start: datetime, end: datetime, hours_by_weekday: Sequence[float]) -> float:
    """Available hours between ``start`` and ``end``: each day's hours times the part of that day covered."""
    total = 0.0
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        following = day + timedelta(days=1)
        covered = (min(end, following) - max(start, day)).total_seconds() / 86_400
        total += hours_by_weekday[(day.weekday() + 1) % 7] * max(covered, 0.0)
        day = following
    return total


def connection_times(reports: Iterable[ReportRow]) -> dict[str, float]:
    """Report id → connection time (s): from the end of the previous report at its station to its own end."""
    by_station: dict[Any, list[ReportRow]] = defaultdict(list)
    for report in reports:
        by_station[report.station].append(report)
    times: dict[str, float] = {}
    for station_reports in by_station.values():
        station_reports.sort(key=lambda row: row.order)
        previous_end: datetime | None = None
        for report in station_reports:
            execution = report.execution_time or 0.0
            end = report.start + timedelta(seconds=execution)
            times[report.id] = execution if previous_end is None else max((end - previous_end).total_seconds(), 0.0)
            previous_end = end
    return times


@dataclass(frozen=True)
class OeeLimits:
    """The optional bounds of ``OeeAnalysis`` (seconds), and the target output per day."""

    min_connection: float | None = None
    max_connection: float | None = None
    min_execution: float | None = None
    max_execution: float | None = None
    target_output: int | None = None

    def keeps(self, execution: float, connection: float) -> bool:
        return (
            (self.min_execution is None or execution >= self.min_execution)
            and (self.max_execution is None or execution <= self.max_execution)
            and (self.min_connection is None or connection >= self.min_connection)
            and (self.max_connection is None or connection <= self.max_connection)
        )


def _figures(reports: Sequence[ReportRow], available_s: float, days: float, limits: OeeLimits) -> dict[str, Any]:
    run_s = math.fsum(report.execution_time or 0.0 for report in reports)
    passed = [report for report in reports if report.passed]
    if limits.target_output:
        ideal = available_s / max(days, 1e-9) / limits.target_output
    else:
        ideal = min((report.execution_time for report in passed if report.execution_time), default=None)
    availability = run_s / available_s if available_s else None
    performance = ideal * len(reports) / run_s if ideal is not None and run_s else None
    quality = len(passed) / len(reports) if reports else None
    parts = (availability, performance, quality)
    oee = availability * performance * quality if None not in parts else None  # type: ignore[operator]
    percent = lambda value: None if value is None else 100.0 * value  # noqa: E731
    return {
        "reportCount": len(reports), "passedCount": len(passed), "availableTime": available_s / 3600,
        "runTime": run_s / 3600, "idealCycleTime": ideal, "availability": percent(availability),
        "performance": percent(performance), "quality": percent(quality), "oee": percent(oee),
    }  # fmt: skip


def oee_analysis(
    reports: Iterable[ReportRow], start: datetime, end: datetime, hours_by_weekday: Sequence[float],
    limits: OeeLimits = OeeLimits(),
) -> dict[str, Any]:  # fmt: skip
    """The OEE of the test reports in ``start..end``: all stations together, and each (``stations``)."""
    reports = list(reports)
    connection = connection_times(reports)
    kept = [report for report in reports if limits.keeps(report.execution_time or 0.0, connection[report.id])]
    available_s = available_hours(start, end, hours_by_weekday) * 3600
    days = (end - start).total_seconds() / 86_400
    by_station: dict[Any, list[ReportRow]] = defaultdict(list)
    for report in kept:
        by_station[report.station].append(report)
    stations = [
        {"stationName": station, **_figures(station_reports, available_s, days, limits)}
        for station, station_reports in sorted(by_station.items(), key=lambda item: str(item[0] or ""))
    ]
    overall = _figures(kept, available_s * max(len(by_station), 1), days * max(len(by_station), 1), limits)
    stamp = "%Y-%m-%dT%H:%M:%S.%fZ"
    return {"dateFrom": start.strftime(stamp), "dateTo": end.strftime(stamp), "stationCount": len(by_station),
            **overall, "stations": stations}  # fmt: skip


__all__ = ["OeeLimits", "available_hours", "connection_times", "oee_analysis", "parse_available_time"]

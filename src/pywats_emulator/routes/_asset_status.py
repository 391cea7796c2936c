"""How an asset stands against its type's limits: the answer of ``GET /api/Asset/Status`` and ``PUT /api/Asset/Count``.

The OpenAPI document types the answer only as an object with a ``message`` (the ``translate`` and
``cultureCode`` parameters translate it), so the emulator defines it:

``status`` is ``OK``, ``Warning`` or ``Alarm``; ``message`` names every limit that is near or past. For each
limit the type sets, usage is a percentage:

- running count / ``runningCountLimit`` and total count / ``totalCountLimit``;
- days since the last calibration (or since the asset was first seen) / ``calibrationInterval``, and the same
  for maintenance / ``maintenanceInterval``.

Usage at or above ``alarmThreshold`` (default 100 %) is an alarm, at or above ``warningThreshold`` (default
80 %) a warning. Only English is spoken: ``cultureCode`` is accepted and ignored.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Any

from ..odata import parse_datetime, utc_text

DEFAULT_WARNING = 80.0
DEFAULT_ALARM = 100.0
LEVELS = ("OK", "Warning", "Alarm")


def _days_since(start: str, now: datetime) -> float:
    return (now - parse_datetime(start)).total_seconds() / 86_400


def next_due(last: str | None, first_seen: str, interval: float | None) -> str | None:
    """When the next calibration or maintenance is due: ``interval`` days after the last one (or first seen)."""
    if not interval:
        return None
    return utc_text(parse_datetime(last or first_seen) + timedelta(days=interval))


def _usages(asset: sqlite3.Row, kind: sqlite3.Row, now: datetime) -> list[tuple[str, float, float, str]]:
    """(what, used, limit, words) for each limit the type sets."""
    found = []
    for what, used, limit in (
        ("Running count", asset["running_count"], kind["running_count_limit"]),
        ("Total count", asset["total_count"], kind["total_count_limit"]),
    ):
        if limit:
            found.append((what, float(used), float(limit), f"{used} of {limit}"))
    for what, last, interval in (
        ("calibration", asset["last_calibration"], kind["calibration_interval"]),
        ("maintenance", asset["last_maintenance"], kind["maintenance_interval"]),
    ):
        if interval:
            days = _days_since(last or asset["first_seen"], now)
            since = f"the last {what}" if last else "the asset was first seen"
            found.append((what.capitalize(), days, float(interval), f"{days:.1f} of {interval:g} days since {since}"))
    return found


def status_json(asset: sqlite3.Row, kind: sqlite3.Row, now: datetime | None = None) -> dict[str, Any]:
    """The status object for one asset row (with its type's row)."""
    now = now or datetime.now(timezone.utc)
    warning = kind["warning_threshold"] if kind["warning_threshold"] is not None else DEFAULT_WARNING
    alarm = kind["alarm_threshold"] if kind["alarm_threshold"] is not None else DEFAULT_ALARM
    level, problems = 0, []
    for what, used, limit, words in _usages(asset, kind, now):
        percent = used / limit * 100
        if percent >= alarm:
            level = 2
            problems.append(f"{what}: {words} ({percent:.0f}%, alarm at {alarm:g}%)")
        elif percent >= warning:
            level = max(level, 1)
            problems.append(f"{what}: {words} ({percent:.0f}%, warning at {warning:g}%)")
    return {
        "assetId": asset["asset_id"], "serialNumber": asset["serial_number"], "state": asset["state"],
        "status": LEVELS[level], "message": "; ".join(problems) or "Within all limits.",
        "runningCount": asset["running_count"], "runningCountLimit": kind["running_count_limit"],
        "totalCount": asset["total_count"], "totalCountLimit": kind["total_count_limit"],
        "lastCalibrationDate": asset["last_calibration"], "nextCalibrationDate": asset["next_calibration"],
        "lastMaintenanceDate": asset["last_maintenance"], "nextMaintenanceDate": asset["next_maintenance"],
    }  # fmt: skip


__all__ = ["next_due", "status_json"]

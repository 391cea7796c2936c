"""The App statistics filter (``PublicWatsFilter``) as the emulator reads it: which reports it selects, over
which dates, in which periods, and in what order the answer comes. Pure functions over :class:`ReportRow`.

Rules (the same for every App statistics endpoint of the emulator):

1. **Text fields** (``serialNumber partNumber revision batchNumber stationName testOperation status
   miscDescription miscValue swFilename swVersion socket``) compare without regard to case, accept WATS's
   wildcards (``*`` or ``%`` for any run of characters, ``?`` or ``_`` for one character) and several
   alternatives separated by ``;``. ``testOperation`` matches a process name or code; ``status`` a result
   letter or word (``F`` or ``Failed``). ``productGroup`` and ``level`` are accepted and select everything:
   the emulator has no product groups or levels.
2. **Dates**: ``dateFrom`` / ``dateTo`` (inclusive, no offset means UTC) bound the report's start. Without
   them, the window is the last ``periodCount`` periods of ``dateGrouping`` (default: 30 days), the current
   period included unless ``includeCurrentPeriod`` is false. Endpoints that look at a whole history
   (serial number history, related repairs) have no default window.
3. **dateGrouping**: -1 none, 0 hour, 1 day, 2 week (ISO, from Monday), 3 month, 4 quarter, 5 year. The
   OpenAPI document lists the values without names; this order is the one its default filter implies
   (``"dateGrouping":1`` with ``"periodCount":30`` is "the last 30 days"). Periods are cut in UTC and named
   by their start, e.g. ``2025-01-06T00:00:00Z``.
4. **Order**: ``dimensions`` style lists (``"unitCount desc;partNumber"``) sort by each name in turn;
   ``asc`` is the default direction and missing values sort first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property, lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .odata import ODataError, parse_datetime

RESULT_WORDS = {"P": "Passed", "F": "Failed", "E": "Error", "T": "Terminated", "D": "Done"}
PASSED = frozenset({"P", "D"})
"""Results that count as a pass: Passed, and Done (which WATS treats as Passed)."""

GROUPINGS: dict[int, str | None] = {-1: None, 0: "hour", 1: "day", 2: "week", 3: "month", 4: "quarter", 5: "year"}
DEFAULT_PERIODS = 30


class FilterError(ValueError):
    """A filter the emulator cannot honour; answered 400 with this message."""


class AppFilter(BaseModel):
    """``PublicWatsFilter`` as posted (WATS's camelCase names), plus ``run`` (TestStepAnalysis)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    serialNumber: str | None = None
    partNumber: str | None = None
    revision: str | None = None
    batchNumber: str | None = None
    stationName: str | None = None
    testOperation: str | None = None
    status: str | None = None
    yield_: int | None = Field(default=None, alias="yield")
    miscDescription: str | None = None
    miscValue: str | None = None
    productGroup: str | None = None
    level: str | None = None
    swFilename: str | None = None
    swVersion: str | None = None
    socket: str | None = None
    dateFrom: str | None = None
    dateTo: str | None = None
    dateGrouping: int | None = Field(default=None, ge=-1, le=5)
    periodCount: int | None = Field(default=None, ge=1)
    includeCurrentPeriod: bool | None = None
    maxCount: int | None = Field(default=None, ge=0)
    minCount: int | None = Field(default=None, ge=0)
    topCount: int | None = Field(default=None, ge=0)
    dimensions: str | None = None
    run: int | None = None


# -- report rows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    """One stored report, as the statistics read it: header columns, misc infos, assets, and the document."""

    id: str
    type: str
    sn: str
    pn: str
    rev: str | None
    process_code: int
    process_name: str | None
    start: datetime
    result: str
    station: str | None = None
    location: str | None = None
    purpose: str | None = None
    user_name: str | None = None
    batch_number: str | None = None
    sw_filename: str | None = None
    sw_version: str | None = None
    fixture_id: str | None = None
    test_socket_index: int | None = None
    error_code: int | None = None
    caused_uut_failure: str | None = None
    caused_uut_failure_path: str | None = None
    execution_time: float | None = None
    timestamp: int = 0
    misc: tuple[tuple[str | None, str | None], ...] = ()
    assets: tuple[str, ...] = ()
    body_text: str | None = field(default=None, repr=False)
    test_operation: str | None = None
    """For a repair report: the name of the test operation the unit failed in (``uur.processCode``)."""

    @cached_property
    def body(self) -> dict[str, Any]:
        """The WSJF document, parsed on first use (empty when it was not loaded)."""
        return json.loads(self.body_text) if self.body_text else {}

    @property
    def passed(self) -> bool:
        return self.result in PASSED

    @property
    def unit(self) -> tuple[str, str, int]:
        """The unit in its process: runs of the same serial and part number in the same operation."""
        return (self.sn, self.pn, self.process_code)

    @property
    def order(self) -> tuple[datetime, int]:
        """Run order: start time, then processing order."""
        return (self.start, self.timestamp)


def parse_utc(text: str) -> datetime:
    """A stored ``start_utc`` (``YYYY-MM-DDTHH:MM:SS.ffffffZ``) as an aware datetime."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def misc_pairs(raw: str | None) -> tuple[tuple[str | None, str | None], ...]:
    """``(description, text)`` of each misc info in a JSON array (a numeric-only value is given as text)."""
    items = json.loads(raw) if raw else []
    pairs = []
    for item in items or []:
        if isinstance(item, dict):
            text = item.get("text")
            if text is None and item.get("numeric") is not None:
                text = str(item["numeric"])
            pairs.append((item.get("description"), text))
    return tuple(pairs)


def asset_serials(raw: str | None) -> tuple[str, ...]:
    items = json.loads(raw) if raw else []
    return tuple(str(item["assetSN"]) for item in items or [] if isinstance(item, dict) and item.get("assetSN"))


# -- dates and periods -----------------------------------------------------------------------------------


def grouping_unit(wats_filter: AppFilter, default: int = 1) -> str | None:
    """The period unit of ``dateGrouping`` (None for -1: no periods)."""
    value = wats_filter.dateGrouping if wats_filter.dateGrouping is not None else default
    return GROUPINGS[value]


def period_start(moment: datetime, unit: str) -> datetime:
    """The start (UTC) of the period of ``unit`` that holds ``moment``."""
    moment = moment.astimezone(timezone.utc)
    if unit == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if unit == "year":
        return day.replace(month=1, day=1)
    raise ValueError(f"unknown period unit {unit!r}")


def add_periods(start: datetime, unit: str, count: int) -> datetime:
    """``start`` (a period start) moved by ``count`` periods of ``unit``."""
    if unit == "hour":
        return start + timedelta(hours=count)
    if unit == "day":
        return start + timedelta(days=count)
    if unit == "week":
        return start + timedelta(weeks=count)
    months = {"month": 1, "quarter": 3, "year": 12}[unit] * count
    index = start.year * 12 + start.month - 1 + months
    return start.replace(year=index // 12, month=index % 12 + 1)


def period_label(moment: datetime, unit: str) -> str:
    """The name of the period holding ``moment``: its start, ``2025-01-06T00:00:00Z``."""
    return period_start(moment, unit).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Window:
    """The dates a filter selects: ``start <= report start <= end`` (None: open)."""

    start: datetime | None = None
    end: datetime | None = None

    def __contains__(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment <= self.end)


def _date(wats_filter: AppFilter, name: str) -> datetime | None:
    text = getattr(wats_filter, name)
    if not text or not text.strip():
        return None
    try:
        return parse_datetime(text.strip())
    except ODataError:
        raise FilterError(f"{name} must be a date/time such as 2017-10-19T10:43:00, not '{text}'.") from None


def date_window(wats_filter: AppFilter, now: datetime, *, default_periods: int | None = DEFAULT_PERIODS) -> Window:
    """The dates ``wats_filter`` selects (rule 2); ``default_periods`` None means no default window."""
    date_from, date_to = _date(wats_filter, "dateFrom"), _date(wats_filter, "dateTo")
    if date_from is not None or date_to is not None:
        if date_from is not None and date_to is not None and date_from > date_to:
            raise FilterError("dateFrom is after dateTo.")
        return Window(date_from, date_to)
    count = wats_filter.periodCount or default_periods
    if count is None:
        return Window()
    unit = grouping_unit(wats_filter) or "day"
    current = period_start(now, unit)
    if wats_filter.includeCurrentPeriod is False:
        return Window(add_periods(current, unit, -count), current - timedelta(microseconds=1))
    return Window(add_periods(current, unit, -(count - 1)), None)


# -- matching --------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def text_pattern(text: str) -> re.Pattern[str]:
    """A filter value as a regular expression: ``;`` separates alternatives, ``* %`` and ``? _`` are wildcards."""
    alternatives = []
    for part in text.split(";"):
        part = part.strip()
        if part:
            body = "".join(
                ".*" if char in "*%" else "." if char in "?_" else re.escape(char) for char in part
            )
            alternatives.append(f"(?:{body})")
    return re.compile("|".join(alternatives) or "(?:)", re.IGNORECASE | re.DOTALL)


def text_matches(value: Any, text: str) -> bool:
    return value is not None and text_pattern(text).fullmatch(str(value)) is not None


def _any_matches(values: Iterable[Any], text: str) -> bool:
    return any(text_matches(value, text) for value in values)


_PLAIN_FIELDS: dict[str, Callable[[ReportRow], Any]] = {
    "serialNumber": lambda row: row.sn,
    "partNumber": lambda row: row.pn,
    "revision": lambda row: row.rev,
    "batchNumber": lambda row: row.batch_number,
    "stationName": lambda row: row.station,
    "swFilename": lambda row: row.sw_filename,
    "swVersion": lambda row: row.sw_version,
    "socket": lambda row: row.test_socket_index,
}


def matches(row: ReportRow, wats_filter: AppFilter, window: Window = Window()) -> bool:
    """Whether ``row`` is one of the reports ``wats_filter`` selects (rule 1) within ``window``."""
    if row.start not in window:
        return False
    for name, value_of in _PLAIN_FIELDS.items():
        wanted = getattr(wats_filter, name)
        if wanted and not text_matches(value_of(row), wanted):
            return False
    operation = wats_filter.testOperation
    if operation:
        names = [row.process_name, row.process_code, row.test_operation]
        if not _any_matches(names, operation):
            return False
    if wats_filter.status and not _any_matches([row.result, RESULT_WORDS.get(row.result)], wats_filter.status):
        return False
    description, value = wats_filter.miscDescription, wats_filter.miscValue
    if description or value:
        if not any(
            (not description or text_matches(misc_description, description))
            and (not value or text_matches(misc_text, value))
            for misc_description, misc_text in row.misc
        ):
            return False
    return True


def select(rows: Iterable[ReportRow], wats_filter: AppFilter, window: Window) -> list[ReportRow]:
    return [row for row in rows if matches(row, wats_filter, window)]


# -- ordering --------------------------------------------------------------------------------------------


def parse_order(text: str, known: Sequence[str], what: str = "dimension") -> list[tuple[str, bool]]:
    """``"unitCount desc;partNumber"`` → ``[("unitCount", True), ("partNumber", False)]`` (names as in
    ``known``, matched without regard to case)."""
    by_lower = {name.lower(): name for name in known}
    order: list[tuple[str, bool]] = []
    for part in text.split(";"):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise FilterError(f"'{part.strip()}' is not a {what} with an optional asc or desc.")
        name = by_lower.get(words[0].lower())
        if name is None:
            raise FilterError(f"'{words[0]}' is not a supported {what}. Supported: {', '.join(known)}.")
        if any(existing == name for existing, _ in order):
            raise FilterError(f"'{name}' is listed twice.")
        order.append((name, len(words) == 2 and words[1].lower() == "desc"))
    return order


def sort_items(items: list[dict[str, Any]], order: Sequence[tuple[str, bool]]) -> list[dict[str, Any]]:
    """``items`` sorted by each ``(key, descending)`` in turn; None sorts before any value."""
    result = list(items)
    for key, descending in reversed(order):
        result.sort(key=lambda item: _sort_value(item.get(key)), reverse=descending)
    return result


def _sort_value(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, str):
        return (2, value.lower())
    return (1, value)


def take(items: list[Any], count: int | None) -> list[Any]:
    return items if count is None else items[:count]


__all__ = [
    "AppFilter", "FilterError", "GROUPINGS", "PASSED", "RESULT_WORDS", "ReportRow", "Window", "add_periods",
    "asset_serials", "date_window", "grouping_unit", "matches", "misc_pairs", "parse_order", "parse_utc",
    "period_label", "period_start", "select", "sort_items", "take", "text_matches", "text_pattern",
]  # fmt: skip

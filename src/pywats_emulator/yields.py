"""Yield and repair statistics computed from stored reports: pure functions over :class:`ReportRow`.

Definitions (WATS's "Statistics and calculations", as the emulator applies them):

- A **unit** is a serial number and part number *in one test operation* (process); its **runs** are its test
  (UUT) reports in that operation ordered by start time, run 1 first. Runs are numbered over every stored
  report, whatever the filter.
- **Unit inclusion rule**: a unit counts where its *first run* is: it is included when run 1 matches the
  filter and belongs to the groups (station, period...) of run 1. Its later runs count for it even when they
  fall outside the filter. So periods add up without counting a unit twice, and a retest-only station has no
  units (use the report-based test yield for it).
- ``fpCount``: units whose run 1 passed; ``spCount``: passed by run 2 (run 1 or 2 passed); ``tpCount``:
  passed by run 3; ``lpCount``: units whose latest run passed. ``fpy spy tpy lpy`` are these counts in
  percent of ``unitCount``; ``xxFailCount`` = ``unitCount - xxCount``; ``ppmXxx`` = failures per million.
- **Report-based**: ``testReportCount`` (matching reports), ``testYieldCount`` (of those, passed),
  ``testYield`` (percent), ``retestCount`` (matching reports that are not a unit's run 1), ``firstUtc`` /
  ``lastUtc`` (their earliest and latest start). Reports group by their own dimension values.
- A pass is result ``P`` (or ``D``, Done); ``F``, ``E`` and ``T`` are not.
- **Repairs** (``DynamicRepair``): ``repairReportCount`` counts repair (UUR) reports, ``repairCount`` the
  failures recorded in them (a report without failures counts as a report, with no repair).

A dimension with several values on one report (misc infos, assets, a repair's failures) puts the report in
each of its groups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .app_filter import (
    AppFilter,
    FilterError,
    ReportRow,
    Window,
    matches,
    parse_order,
    period_label,
    sort_items,
    take,
)

# -- runs ------------------------------------------------------------------------------------------------


def unit_runs(rows: Iterable[ReportRow]) -> dict[tuple[str, str, int], list[ReportRow]]:
    """Each unit's test reports in run order (repair reports are left out)."""
    runs: dict[tuple[str, str, int], list[ReportRow]] = defaultdict(list)
    for row in rows:
        if row.type == "T":
            runs[row.unit].append(row)
    for reports in runs.values():
        reports.sort(key=lambda row: row.order)
    return dict(runs)


def run_numbers(runs: dict[tuple[str, str, int], list[ReportRow]]) -> dict[str, int]:
    """Report id → its run number (1 = the unit's first run in that operation)."""
    return {row.id: index for reports in runs.values() for index, row in enumerate(reports, start=1)}


def passed_by(runs: Sequence[ReportRow], run: int) -> bool:
    """Whether the unit passed in one of its first ``run`` runs."""
    return any(row.passed for row in runs[:run])


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _ppm(failed: int, whole: int) -> float | None:
    return 1_000_000.0 * failed / whole if whole else None


def yield_kpis(units: Sequence[Sequence[ReportRow]], reports: Sequence[tuple[ReportRow, int]]) -> dict[str, Any]:
    """The KPIs of one group: ``units`` (each one's runs, in order) and ``reports`` (matching, with run number)."""
    unit_count = len(units)
    counts = {
        "fp": sum(passed_by(runs, 1) for runs in units),
        "sp": sum(passed_by(runs, 2) for runs in units),
        "tp": sum(passed_by(runs, 3) for runs in units),
        "lp": sum(runs[-1].passed for runs in units if runs),
    }
    kpis: dict[str, Any] = {"unitCount": unit_count}
    for prefix, count in counts.items():
        kpis[f"{prefix}Count"] = count
        kpis[f"{prefix}y"] = _percent(count, unit_count)
        kpis[f"{prefix}FailCount"] = unit_count - count
        kpis[f"ppm{prefix.capitalize()}y"] = _ppm(unit_count - count, unit_count)
    report_count = len(reports)
    passed = sum(row.passed for row, _ in reports)
    starts = [row.start for row, _ in reports]
    kpis.update(
        testReportCount=report_count,
        testYieldCount=passed,
        testYield=_percent(passed, report_count),
        ppmTestYield=_ppm(report_count - passed, report_count),
        retestCount=sum(run > 1 for _, run in reports),
        firstUtc=_utc(min(starts)) if starts else None,
        lastUtc=_utc(max(starts)) if starts else None,
    )
    return kpis


def _utc(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


YIELD_KPIS = (
    "unitCount", "fpCount", "spCount", "tpCount", "lpCount", "fpy", "spy", "tpy", "lpy", "testYieldCount",
    "testReportCount", "testYield", "firstUtc", "lastUtc", "fpFailCount", "spFailCount", "tpFailCount",
    "lpFailCount", "retestCount", "ppmFpy", "ppmSpy", "ppmTpy", "ppmLpy", "ppmTestYield",
)  # fmt: skip
"""The KPIs the emulator computes (WATS's colour, alarm, trend and previous-period columns are not)."""

# -- dimensions ------------------------------------------------------------------------------------------

Getter = Callable[[ReportRow, "Context"], list[Any]]


@dataclass(frozen=True)
class Context:
    """What a dimension value may depend on besides the report: the period unit, reports by id."""

    unit: str | None = "day"
    reports_by_id: dict[str, ReportRow] = field(default_factory=dict)


def _one(value_of: Callable[[ReportRow], Any]) -> Getter:
    return lambda row, context: [value_of(row)]


def _period(row: ReportRow, context: Context) -> list[Any]:
    if context.unit is None:
        raise FilterError("The period dimension needs a dateGrouping from 0 (hour) to 5 (year).")
    return [period_label(row.start, context.unit)]


YIELD_DIMENSIONS: dict[str, Getter] = {
    "partNumber": _one(lambda row: row.pn),
    "productName": _one(lambda row: None),
    "stationName": _one(lambda row: row.station),
    "location": _one(lambda row: row.location),
    "purpose": _one(lambda row: row.purpose),
    "revision": _one(lambda row: row.rev),
    "testOperation": _one(lambda row: row.process_name),
    "processCode": _one(lambda row: row.process_code),
    "swFilename": _one(lambda row: row.sw_filename),
    "swVersion": _one(lambda row: row.sw_version),
    "productGroup": _one(lambda row: None),
    "level": _one(lambda row: None),
    "period": _period,
    "batchNumber": _one(lambda row: row.batch_number),
    "operator": _one(lambda row: row.user_name),
    "fixtureId": _one(lambda row: row.fixture_id),
    "socketIndex": _one(lambda row: row.test_socket_index),
    "errorCode": _one(lambda row: row.error_code),
    "miscInfoDescription": lambda row, context: [d for d, _ in row.misc] or [None],
    "miscInfoString": lambda row, context: [t for _, t in row.misc] or [None],
    "stepCausedUutFailure": _one(lambda row: row.caused_uut_failure),
    "stepPathCausedUutFailure": _one(lambda row: row.caused_uut_failure_path),
    "assetSerialNumber": lambda row, context: list(row.assets) or [None],
    "assetName": lambda row, context: [None] * max(len(row.assets), 1),
}
"""Dimension → its value(s) for a report. productName, productGroup, level and assetName are None: the
emulator has no product or asset register behind its reports."""

# Dimensions read together from the same item (one misc info, one asset): never crossed with each other.
_PAIRED = {"miscInfoDescription": "misc", "miscInfoString": "misc", "assetSerialNumber": "asset", "assetName": "asset"}


def group_keys(row: Any, dimensions: Sequence[str], getters: dict[str, Any], context: Context) -> list[tuple]:
    """Every combination of dimension values ``row`` belongs to (several when a dimension has several)."""
    keys: list[tuple] = [()]
    done: set[str] = set()
    for position, name in enumerate(dimensions):
        if name in done:
            continue
        family = _PAIRED.get(name)
        together = [name] + [other for other in dimensions[position + 1:] if family and _PAIRED.get(other) == family]
        done.update(together)
        columns = [getters[member](row, context) for member in together]
        values = list(zip(*columns))
        keys = [key + tuple(zip(together, value)) for key in keys for value in values]
    return [tuple(sorted(key, key=lambda pair: dimensions.index(pair[0]))) for key in keys]


@dataclass
class _Group:
    units: list[list[ReportRow]] = field(default_factory=list)
    reports: list[tuple[ReportRow, int]] = field(default_factory=list)


def split_order(text: str, dimensions: Sequence[str], kpis: Sequence[str]) -> tuple[list[str], list[str], list]:
    """A ``dimensions`` value → (dimensions to group by, KPIs asked for, the sort order of both)."""
    order = parse_order(text, [*dimensions, *kpis], "dimension or KPI")
    grouped = [name for name, _ in order if name in dimensions]
    wanted = [name for name, _ in order if name in kpis]
    return grouped, wanted, order


def dynamic_yield(
    rows: Iterable[ReportRow], wats_filter: AppFilter, window: Window, dimensions: str, *, unit: str | None,
    min_units: int | None = None, all_kpis: bool = False,
) -> list[dict[str, Any]]:  # fmt: skip
    """``POST /api/App/DynamicYield``: one item per combination of the dimensions' values, with its KPIs.

    ``rows`` are every stored report (the runs of a unit are counted over all of them); the filter and the
    window select units (by their run 1) and reports. Only the KPIs named in ``dimensions`` are returned,
    or all when none is named (or ``all_kpis``: the caller chose the order, not the client).
    """
    grouped, wanted, order = split_order(dimensions, list(YIELD_DIMENSIONS), YIELD_KPIS)
    context = Context(unit=unit)
    runs = unit_runs(rows)
    numbers = run_numbers(runs)
    groups: dict[tuple, _Group] = defaultdict(_Group)
    for unit_reports in runs.values():
        first = unit_reports[0]
        if matches(first, wats_filter, window):
            for key in group_keys(first, grouped, YIELD_DIMENSIONS, context):
                groups[key].units.append(unit_reports)
        for report in unit_reports:
            if matches(report, wats_filter, window):
                for key in group_keys(report, grouped, YIELD_DIMENSIONS, context):
                    groups[key].reports.append((report, numbers[report.id]))
    items = []
    for key, group in groups.items():
        kpis = yield_kpis(group.units, group.reports)
        if min_units is not None and kpis["unitCount"] < min_units:
            continue
        shown = YIELD_KPIS if all_kpis or not wanted else wanted
        items.append({**dict(key), **{name: kpis[name] for name in shown}})
    return sort_items(items, order)


def yield_list(
    rows: Iterable[ReportRow], wats_filter: AppFilter, window: Window, dimensions: str, *, unit: str | None,
    yield_limit: bool = False,
) -> list[dict[str, Any]]:  # fmt: skip
    """The fixed yield lists (VolumeYield, HighVolume, WorstYield...): ``dynamic_yield`` with a set order.

    With ``yield_limit`` (the WorstYield lists), ``yield`` in the filter keeps the groups whose FPY is at most
    that many percent;
    ``minCount`` the groups with at least that many units; ``topCount`` the first that many.
    """
    items = dynamic_yield(rows, wats_filter, window, dimensions, unit=unit, min_units=wats_filter.minCount,
                          all_kpis=True)  # fmt: skip
    if yield_limit and wats_filter.yield_ is not None:
        items = [item for item in items if item["fpy"] is not None and item["fpy"] <= wats_filter.yield_]
    return take(items, wats_filter.topCount)


# -- repairs ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepairEntry:
    """One failure recorded in a repair report (``failure`` None: a report that records none)."""

    report: ReportRow
    sub_unit: dict[str, Any]
    failure: dict[str, Any] | None


def repair_entries(report: ReportRow) -> list[RepairEntry]:
    units = [unit for unit in report.body.get("subUnits") or [] if isinstance(unit, dict)]
    entries = [
        RepairEntry(report, unit, failure)
        for unit in units for failure in unit.get("failures") or [] if isinstance(failure, dict)
    ]  # fmt: skip
    if entries:
        return entries
    main = next((unit for unit in units if unit.get("idx") == 0), units[0] if units else {})
    return [RepairEntry(report, main, None)]


def _failure(key: str) -> Getter:
    return lambda entry, context: [entry.failure.get(key) if entry.failure else None]


def _tested(value_of: Callable[[ReportRow, Context], Any]) -> Getter:
    """A value of the test report the repair refers to (``uur.refUUT``), None when it is not stored."""

    def get(entry: RepairEntry, context: Context) -> list[Any]:
        reference = str((entry.report.body.get("uur") or {}).get("refUUT") or "").lower()
        tested = context.reports_by_id.get(reference)
        return [value_of(tested, context) if tested is not None else None]

    return get


def _row(value_of: Callable[[ReportRow], Any]) -> Getter:
    return lambda entry, context: [value_of(entry.report)]


REPAIR_DIMENSIONS: dict[str, Getter] = {
    "partNumber": _row(lambda row: row.pn),
    "revision": _row(lambda row: row.rev),
    "productName": _row(lambda row: None),
    "productGroup": _row(lambda row: None),
    "unitType": lambda entry, context: [entry.sub_unit.get("partType")],
    "repairOperation": _row(lambda row: row.process_name),
    "period": lambda entry, context: _period(entry.report, context),
    "level": _row(lambda row: None),
    "stationName": _row(lambda row: row.station),
    "location": _row(lambda row: row.location),
    "purpose": _row(lambda row: row.purpose),
    "operator": _row(lambda row: row.user_name),
    "miscInfoDescription": lambda entry, context: [d for d, _ in entry.report.misc] or [None],
    "miscInfoString": lambda entry, context: [t for _, t in entry.report.misc] or [None],
    "repairCode": _failure("code"),
    "repairCategory": _failure("category"),
    "repairType": _row(lambda row: None),
    "componentRef": _failure("comRef"),
    "componentNumber": _failure("artNumber"),
    "componentRevision": _failure("artRev"),
    "componentVendor": _failure("artVendor"),
    "componentDescription": _failure("artDescription"),
    "functionBlock": _failure("funcBlock"),
    "referencedStep": _failure("refStepName"),
    "referencedStepPath": _row(lambda row: None),
    "testOperation": _row(lambda row: row.test_operation),
    "testPeriod": _tested(lambda row, context: _period(row, context)[0]),
    "testLevel": _row(lambda row: None),
    "testStationName": _tested(lambda row, context: row.station),
    "testLocation": _tested(lambda row, context: row.location),
    "testPurpose": _tested(lambda row, context: row.purpose),
    "testOperator": _tested(lambda row, context: row.user_name),
    "batchNumber": _tested(lambda row, context: row.batch_number),
    "swFilename": _tested(lambda row, context: row.sw_filename),
    "swVersion": _tested(lambda row, context: row.sw_version),
}
"""Repair dimension → value(s) for one failure. test*, batchNumber and sw* come from the referenced test
report; productName, productGroup, level, testLevel, repairType and referencedStepPath are None."""

REPAIR_KPIS = ("repairReportCount", "repairCount")


def dynamic_repair(
    repairs: Iterable[ReportRow], wats_filter: AppFilter, window: Window, dimensions: str, *, unit: str | None,
    tests_by_id: dict[str, ReportRow],
) -> list[dict[str, Any]]:  # fmt: skip
    """``POST /api/App/DynamicRepair``: repair reports and failures counted by the dimensions' values."""
    grouped, wanted, order = split_order(dimensions, list(REPAIR_DIMENSIONS), REPAIR_KPIS)
    context = Context(unit=unit, reports_by_id=tests_by_id)
    groups: dict[tuple, list[RepairEntry]] = defaultdict(list)
    for report in repairs:
        if report.type == "R" and matches(report, wats_filter, window):
            for entry in repair_entries(report):
                for key in group_keys(entry, grouped, REPAIR_DIMENSIONS, context):
                    groups[key].append(entry)
    items = []
    for key, entries in groups.items():
        kpis = {
            "repairReportCount": len({entry.report.id for entry in entries}),
            "repairCount": sum(entry.failure is not None for entry in entries),
        }
        items.append({**dict(key), **{name: kpis[name] for name in (wanted or REPAIR_KPIS)}})
    return take(sort_items(items, order), wats_filter.topCount)


def related_repairs(
    repairs: Iterable[ReportRow], part_number: str, revision: str, *, repair_operation: int | None = None,
    test_operation: int | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """``GET /api/App/RelatedRepairHistory``: every failure repaired on units of this part number and
    revision (optionally in one repair operation, or failed in one test operation), newest first."""
    found = []
    for report in repairs:
        uur = report.body.get("uur") or {}
        if report.type != "R" or report.pn != part_number or (report.rev or "") != revision:
            continue
        if repair_operation is not None and report.process_code != repair_operation:
            continue
        if test_operation is not None and uur.get("processCode") != test_operation:
            continue
        for entry in repair_entries(report):
            if entry.failure is None:
                continue
            failure = entry.failure
            found.append({
                "reportId": report.id, "serialNumber": report.sn, "partNumber": report.pn,
                "revision": report.rev, "repairDate": _utc(report.start), "repairOperationCode": report.process_code,
                "repairOperation": report.process_name, "testOperationCode": uur.get("processCode"),
                "testOperation": report.test_operation, "referencedUut": uur.get("refUUT"),
                "unitType": entry.sub_unit.get("partType"), "unitSerialNumber": entry.sub_unit.get("sn"),
                "repairCategory": failure.get("category"), "repairCode": failure.get("code"),
                "comment": failure.get("comment"), "componentRef": failure.get("comRef"),
                "functionBlock": failure.get("funcBlock"), "referencedStepId": failure.get("refStepId"),
                "referencedStep": failure.get("refStepName"), "componentNumber": failure.get("artNumber"),
                "componentRevision": failure.get("artRev"), "componentVendor": failure.get("artVendor"),
            })  # fmt: skip
    found.sort(key=lambda item: item["repairDate"], reverse=True)
    return found


__all__ = [
    "Context", "REPAIR_DIMENSIONS", "REPAIR_KPIS", "RepairEntry", "YIELD_DIMENSIONS", "YIELD_KPIS",
    "dynamic_repair", "dynamic_yield", "group_keys", "passed_by", "related_repairs", "repair_entries",
    "run_numbers", "split_order", "unit_runs", "yield_kpis", "yield_list",
]  # fmt: skip

"""The App statistics of WATS, computed from the stored reports: yields, repairs, top failed steps, serial
number history, step and measurement statistics, OEE.

This module is the HTTP side only: it reads the request (``PublicWatsFilter`` body and query parameters),
loads report rows, and hands them to the pure computations, which also hold the definitions:

- :mod:`pywats_emulator.app_filter`: filter fields, wildcards, date windows and periods, ordering;
- :mod:`pywats_emulator.yields`: units, runs, FPY/SPY/TPY/LPY, test yield, repair counts;
- :mod:`pywats_emulator.step_stats`: step paths, top failed, step analysis, measurements, Cp/Cpk;
- :mod:`pywats_emulator.oee`: availability × performance × quality.

The OpenAPI document gives these endpoints no response schema; the answers are JSON arrays (an object for
OEE) of camelCase items, described in each computation. A filter the emulator cannot honour (an unknown
dimension, a malformed date, a missing required filter) is answered 400 with the reason.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Body, Depends, Query
from starlette.responses import JSONResponse

from ..app_filter import AppFilter, FilterError, ReportRow, asset_serials, date_window, grouping_unit
from ..app_filter import matches, misc_pairs, parse_utc, select, take
from ..errors import ApiError
from ..headers import HEADER_FIELDS, header_from_row, select_sql
from ..oee import OeeLimits, oee_analysis, parse_available_time
from ..state import EmulatorState, get_state
from ..step_stats import aggregate_measurements, measurement_values, parse_measurement_paths, step_analysis
from ..step_stats import top_failed
from ..yields import dynamic_repair, dynamic_yield, related_repairs, run_numbers, unit_runs, yield_list

router = APIRouter(tags=["App"])

DEFAULT_YIELD_DIMENSIONS = "unitCount desc;partNumber;testOperation"
DEFAULT_REPAIR_DIMENSIONS = "repairCount desc;repairReportCount desc;partNumber;repairOperation"
DEFAULT_TOP_COUNT = 10  # WATS's default filter, applied when the body is empty
MAX_MEASUREMENTS = 10_000
RUNS = {1: "first", 2: "second", 3: "third", -1: "last", -2: "all"}

_COLUMNS = (
    "id", "type", "sn", "pn", "rev", "process_code", "process_name", "start_utc", "result", "station", "location",
    "purpose", "user_name", "batch_number", "sw_filename", "sw_version", "fixture_id", "test_socket_index",
    "error_code", "caused_uut_failure", "caused_uut_failure_path", "execution_time", "timestamp",
)  # fmt: skip


@contextmanager
def _bad_filter() -> Iterator[None]:
    """A ``FilterError`` from the computations is the client's mistake: answer 400 with its message."""
    try:
        yield
    except FilterError as error:
        raise ApiError(400, str(error)) from None


# -- loading rows ----------------------------------------------------------------------------------------


def load_rows(state: EmulatorState, *types: str, with_body: bool = False) -> list[ReportRow]:
    """Every stored report of ``types`` (``T``, ``R``) as a :class:`ReportRow`; the document only if asked."""
    names = {row["code"]: row["name"] for row in state.storage.processes()}
    marks = ", ".join("?" for _ in types)
    body = ", body" if with_body else ""
    rows = state.storage.read(
        f"SELECT {', '.join(_COLUMNS)}, json_extract(body, '$.miscInfos') AS misc_json,"
        f" json_extract(body, '$.assets') AS assets_json, json_extract(body, '$.uur.processCode') AS uur_code"
        f"{body} FROM reports WHERE type IN ({marks})",
        list(types),
    )
    found = []
    for row in rows:
        values = {name: row[name] for name in _COLUMNS if name != "start_utc"}
        found.append(ReportRow(
            **values, start=parse_utc(row["start_utc"]), misc=misc_pairs(row["misc_json"]),
            assets=asset_serials(row["assets_json"]), body_text=row["body"] if with_body else None,
            test_operation=names.get(row["uur_code"]) if row["uur_code"] is not None else None,
        ))  # fmt: skip
    return found


def with_bodies(state: EmulatorState, rows: list[ReportRow]) -> list[ReportRow]:
    """``rows`` with their WSJF documents loaded (one query)."""
    if not rows:
        return []
    bodies = dict(state.storage.read(
        "SELECT id, body FROM reports WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps([row.id for row in rows])],
    ))  # fmt: skip
    return [dataclasses.replace(row, body_text=bodies.get(row.id)) for row in rows]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _is_empty(wats_filter: AppFilter) -> bool:
    return not wats_filter.model_fields_set and not wats_filter.model_extra


def _days_filter(days: int, product_group: str, level: str, **fields: Any) -> AppFilter:
    """The filter of the GET forms: the last ``days`` days, today included."""
    if days < 1:
        raise ApiError(400, f"days must be at least 1, not {days}.")
    return AppFilter(periodCount=days, dateGrouping=1, productGroup=product_group or None, level=level or None,
                     **fields)  # fmt: skip


# -- yields ----------------------------------------------------------------------------------------------


@router.post("/api/App/DynamicYield", summary="PREVIEW - Calculate yield by custom dimensions.")
def post_dynamic_yield(
    dimensions: str | None = None, wats_filter: AppFilter = Body(default_factory=AppFilter),
    state: EmulatorState = Depends(get_state),
) -> JSONResponse:  # fmt: skip
    text = dimensions or wats_filter.dimensions or DEFAULT_YIELD_DIMENSIONS
    top = DEFAULT_TOP_COUNT if _is_empty(wats_filter) else wats_filter.topCount
    with _bad_filter():
        window = date_window(wats_filter, _now())
        chosen_by_client = bool(dimensions or wats_filter.dimensions)
        items = dynamic_yield(load_rows(state, "T"), wats_filter, window, text, unit=grouping_unit(wats_filter),
                              min_units=wats_filter.minCount, all_kpis=not chosen_by_client)  # fmt: skip
    return JSONResponse(take(items, top))


def _yield_list(
    state: EmulatorState, wats_filter: AppFilter, dimensions: str, *, yield_limit: bool = False
) -> JSONResponse:
    with _bad_filter():
        window = date_window(wats_filter, _now())
        items = yield_list(load_rows(state, "T"), wats_filter, window, dimensions, unit=grouping_unit(wats_filter),
                           yield_limit=yield_limit)  # fmt: skip
    return JSONResponse(items)


VOLUME_ORDER = "partNumber;testOperation"
HIGH_VOLUME_ORDER = "unitCount desc;partNumber;testOperation"
WORST_ORDER = "fpy asc;unitCount desc;partNumber;testOperation"
GROUP_HIGH_VOLUME_ORDER = "unitCount desc;productGroup;testOperation"
GROUP_WORST_ORDER = "fpy asc;unitCount desc;productGroup;testOperation"


@router.post("/api/App/VolumeYield", summary="Volume/Yield list filtered by productGroup and level")
def post_volume_yield(wats_filter: AppFilter = Body(default_factory=AppFilter),
                      state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    return _yield_list(state, wats_filter, VOLUME_ORDER)


@router.get("/api/App/VolumeYield", summary="Volume/Yield list filtered by productGroup and level")
def get_volume_yield(days: int, productGroupId: str, levelId: str,
                     state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    return _yield_list(state, _days_filter(days, productGroupId, levelId), VOLUME_ORDER)


@router.post("/api/App/HighVolume", summary="Yield sorted by volume.")
def post_high_volume(wats_filter: AppFilter = Body(default_factory=AppFilter),
                     state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    return _yield_list(state, wats_filter, HIGH_VOLUME_ORDER)


@router.get("/api/App/HighVolume", summary="High Volume list filtered by productGroup and level")
def get_high_volume(days: int, productGroupId: str, levelId: str,
                    state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    return _yield_list(state, _days_filter(days, productGroupId, levelId), HIGH_VOLUME_ORDER)


@router.post("/api/App/HighVolumeByProductGroup", summary="Yield by product group sorted by volume.")
def post_high_volume_by_group(wats_filter: AppFilter = Body(default_factory=AppFilter),
                              state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    return _yield_list(state, wats_filter, GROUP_HIGH_VOLUME_ORDER)


@router.post("/api/App/WorstYield", summary="Yield sorted by lowest yield.")
def post_worst_yield(wats_filter: AppFilter = Body(default_factory=AppFilter),
                     state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    return _yield_list(state, wats_filter, WORST_ORDER, yield_limit=True)


@router.get("/api/App/WorstYield", summary="Worst Yield list filtered by productGroup and level")
def get_worst_yield(days: int, productGroupId: str, levelId: str,
                    state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    return _yield_list(state, _days_filter(days, productGroupId, levelId), WORST_ORDER, yield_limit=True)


@router.post("/api/App/WorstYieldByProductGroup", summary="Yield by product group sorted by lowest yield.")
def post_worst_yield_by_group(wats_filter: AppFilter = Body(default_factory=AppFilter),
                              state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    return _yield_list(state, wats_filter, GROUP_WORST_ORDER, yield_limit=True)


# -- repairs ---------------------------------------------------------------------------------------------


@router.post("/api/App/DynamicRepair", summary="PREVIEW - Calculate repair statistics by custom dimensions.")
def post_dynamic_repair(
    dimensions: str | None = None, wats_filter: AppFilter = Body(default_factory=AppFilter),
    state: EmulatorState = Depends(get_state),
) -> JSONResponse:  # fmt: skip
    text = dimensions or wats_filter.dimensions or DEFAULT_REPAIR_DIMENSIONS
    if _is_empty(wats_filter):
        wats_filter = wats_filter.model_copy(update={"topCount": DEFAULT_TOP_COUNT})
    tests = {row.id: row for row in load_rows(state, "T")}
    with _bad_filter():
        window = date_window(wats_filter, _now())
        items = dynamic_repair(load_rows(state, "R", with_body=True), wats_filter, window, text,
                               unit=grouping_unit(wats_filter), tests_by_id=tests)  # fmt: skip
    return JSONResponse(items)


def _process_code(state: EmulatorState, name: str, value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    if value.strip().lstrip("-").isdigit():
        return int(value)
    for row in state.storage.processes():
        if row["name"] == value.strip():
            return int(row["code"])
    raise ApiError(400, f"{name} '{value}' is neither a process code nor the name of a process.")


@router.get("/api/App/RelatedRepairHistory", summary="Get list of repaired failures related to the part number.")
def get_related_repair_history(
    partNumber: str, revision: str, repairOperationCode: str | None = None, testOperationCode: str | None = None,
    state: EmulatorState = Depends(get_state),
) -> JSONResponse:  # fmt: skip
    repair_code = _process_code(state, "repairOperationCode", repairOperationCode)
    test_code = _process_code(state, "testOperationCode", testOperationCode)
    items = related_repairs(load_rows(state, "R", with_body=True), partNumber, revision,
                            repair_operation=repair_code, test_operation=test_code)  # fmt: skip
    return JSONResponse(items)


# -- failures, history, steps ----------------------------------------------------------------------------


def _top_failed(state: EmulatorState, wats_filter: AppFilter) -> JSONResponse:
    with _bad_filter():
        window = date_window(wats_filter, _now())
        chosen = select(load_rows(state, "T"), wats_filter, window)
    return JSONResponse(take(top_failed(with_bodies(state, chosen)), wats_filter.topCount))


@router.post("/api/App/TopFailed", summary="Get the top failed steps for the reports with the specified parameters.")
def post_top_failed(wats_filter: AppFilter = Body(default_factory=AppFilter),
                    state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    return _top_failed(state, wats_filter)


@router.get("/api/App/TopFailed", summary="Get the top failed steps for the reports with the specified parameters.")
def get_top_failed(
    partNumber: str, processCode: str, productGroupId: str, levelId: str, days: int, count: int = Query(ge=0),
    state: EmulatorState = Depends(get_state),
) -> JSONResponse:  # fmt: skip
    fields = {"partNumber": partNumber or None, "testOperation": processCode or None, "topCount": count}
    return _top_failed(state, _days_filter(days, productGroupId, levelId, **fields))


_HISTORY_FIELDS = ("serialNumber", "partNumber", "batchNumber", "miscValue")


@router.post("/api/App/SerialNumberHistory", summary="Serial Number History.")
def post_serial_number_history(wats_filter: AppFilter = Body(default_factory=AppFilter),
                               state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    """Every report (test and repair) of the units the filter names, oldest first, as report headers."""
    used = AppFilter(**{name: getattr(wats_filter, name) for name in _HISTORY_FIELDS})
    if not any(getattr(used, name) for name in _HISTORY_FIELDS):
        raise ApiError(400, "Serial number history needs a serialNumber, partNumber, batchNumber or miscValue filter.")
    rows = load_rows(state, "T", "R")
    units = {(row.sn, row.pn) for row in rows if matches(row, used)}
    ids = [row.id for row in rows if (row.sn, row.pn) in units]
    found = state.storage.read(
        f"SELECT {select_sql(HEADER_FIELDS)} FROM reports WHERE reports.id IN (SELECT value FROM json_each(?))"
        " ORDER BY reports.start_utc, reports.timestamp",
        [json.dumps(ids)],
    )
    return JSONResponse(take([header_from_row(row, HEADER_FIELDS) for row in found], wats_filter.topCount))


def _runs_chosen(state: EmulatorState, wats_filter: AppFilter, run: int, *, required: bool) -> list[ReportRow]:
    """The test reports of a step or measurement request: filter, window, run selection, newest maxCount."""
    if required and not (wats_filter.partNumber and wats_filter.testOperation):
        raise ApiError(400, "The partNumber and testOperation filters are required.")
    if run not in RUNS:
        raise ApiError(400, f"run must be 1, 2 or 3 (that run), -1 (last run) or -2 (all runs), not {run}.")
    rows = load_rows(state, "T")
    with _bad_filter():
        window = date_window(wats_filter, _now())
    runs = unit_runs(rows)
    numbers = run_numbers(runs)
    last = {reports[-1].id for reports in runs.values()}
    chosen = [
        row for row in rows
        if matches(row, wats_filter, window) and (run == -2 or (run == -1 and row.id in last) or numbers[row.id] == run)
    ]  # fmt: skip
    chosen.sort(key=lambda row: row.order)
    limit = wats_filter.maxCount if wats_filter.maxCount is not None else MAX_MEASUREMENTS
    return with_bodies(state, chosen[-limit:] if limit else [])


@router.post("/api/App/TestStepAnalysis", summary="PREVIEW - Get step and measurement statistics.")
def post_test_step_analysis(wats_filter: AppFilter = Body(default_factory=AppFilter),
                            state: EmulatorState = Depends(get_state)) -> JSONResponse:  # fmt: skip
    run = wats_filter.run if wats_filter.run is not None else 1
    return JSONResponse(step_analysis(_runs_chosen(state, wats_filter, run, required=True)))


def _values(state: EmulatorState, wats_filter: AppFilter, paths: str | None) -> list[dict[str, Any]]:
    run = wats_filter.run if wats_filter.run is not None else -2
    reports = _runs_chosen(state, wats_filter.model_copy(update={"maxCount": None}), run, required=True)
    limit = min(wats_filter.maxCount if wats_filter.maxCount is not None else MAX_MEASUREMENTS, MAX_MEASUREMENTS)
    return measurement_values(reports, parse_measurement_paths(paths), limit)


@router.post("/api/App/Measurements", summary="PREVIEW - Get numeric measurements by measurement path.")
def post_measurements(
    measurementPaths: str | None = None, wats_filter: AppFilter = Body(default_factory=AppFilter),
    state: EmulatorState = Depends(get_state),
) -> JSONResponse:  # fmt: skip
    return JSONResponse(_values(state, wats_filter, measurementPaths))


@router.post("/api/App/AggregatedMeasurements", summary="Get aggregated numeric measurements by measurement path.")
def post_aggregated_measurements(
    measurementPaths: str | None = None, wats_filter: AppFilter = Body(default_factory=AppFilter),
    state: EmulatorState = Depends(get_state),
) -> JSONResponse:  # fmt: skip
    return JSONResponse(aggregate_measurements(_values(state, wats_filter, measurementPaths)))


# -- OEE, product groups, levels -------------------------------------------------------------------------


@router.post("/api/App/OeeAnalysis", summary="Overall Equipment Effectiveness - analysis")
def post_oee_analysis(
    availableTime: str, minConnectionTime: int | None = None, maxConnectionTime: int | None = None,
    minExecutionTime: int | None = None, maxExecutionTime: int | None = None,
    targetOutput: int | None = Query(default=None, ge=1), wats_filter: AppFilter = Body(default_factory=AppFilter),
    state: EmulatorState = Depends(get_state),
) -> JSONResponse:  # fmt: skip
    now = _now()
    with _bad_filter():
        hours = parse_available_time(availableTime)
        window = date_window(wats_filter, now)
        chosen = select(load_rows(state, "T"), wats_filter, window)
    end = window.end or now
    start = window.start or min((row.start for row in chosen), default=end)
    limits = OeeLimits(minConnectionTime, maxConnectionTime, minExecutionTime, maxExecutionTime, targetOutput)
    return JSONResponse(oee_analysis(chosen, start, end, hours, limits))


@router.get("/api/App/ProductGroups", summary="Retrieves all ProductGroups")
def get_product_groups(includeFilters: bool = False) -> JSONResponse:
    """The emulator has no product groups: an empty list."""
    return JSONResponse([])


@router.get("/api/App/Levels", summary="Retrieves all ClientGroups")
def get_levels() -> JSONResponse:
    """The emulator has no levels (client groups): an empty list."""
    return JSONResponse([])


__all__ = ["load_rows", "router", "with_bodies"]

"""``api.analytics``: WATS's App statistics: yields, repairs, failed steps, unit history, measurements, OEE.

Endpoints (``wats-api/openapi_public_v3.json``, tag App). Most take a ``PublicWatsFilter`` body
(:class:`~pywats.WatsFilter`: pass one, a dict, or its fields as keywords, ``part_number="PCBA-100"``):

===================================  =====================================================================
method                               endpoint
===================================  =====================================================================
``get_dynamic_yield``                ``POST /api/App/DynamicYield?dimensions`` (PREVIEW)
``get_dynamic_repair``               ``POST /api/App/DynamicRepair?dimensions`` (PREVIEW)
``get_volume_yield``                 ``POST /api/App/VolumeYield``; with ``days``: ``GET`` (productGroupId, levelId)
``get_high_volume``                  ``POST /api/App/HighVolume``; with ``days``: ``GET``
``get_high_volume_by_product_group`` ``POST /api/App/HighVolumeByProductGroup``
``get_worst_yield``                  ``POST /api/App/WorstYield``; with ``days``: ``GET``
``get_worst_yield_by_product_group`` ``POST /api/App/WorstYieldByProductGroup``
``get_top_failed``                   ``POST /api/App/TopFailed``; with ``days``: ``GET`` (partNumber, count...)
``get_serial_number_history``        ``POST /api/App/SerialNumberHistory``
``get_test_step_analysis``           ``POST /api/App/TestStepAnalysis`` (PREVIEW)
``get_measurements``                 ``POST /api/App/Measurements?measurementPaths`` (PREVIEW)
``get_aggregated_measurements``      ``POST /api/App/AggregatedMeasurements?measurementPaths``
``get_oee_analysis``                 ``POST /api/App/OeeAnalysis?availableTime&min/maxConnectionTime&...``
``get_product_groups``               ``GET /api/App/ProductGroups?includeFilters``
``get_levels``                       ``GET /api/App/Levels``
``get_related_repair_history``       ``GET /api/App/RelatedRepairHistory?partNumber&revision&...``
===================================  =====================================================================

The OpenAPI document gives these answers no schema ("object"). The models below declare the fields the WATS
documentation names (KPIs, dimensions) and keep every other field as an extra, so nothing a server sends is
lost. Yields are percentages (0-100). A measurement path is written with WATS's paragraph mark between step
names; :func:`measurement_path` writes one. All statistics POSTs are safe to retry (they only read).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union

from .._ops import Op, encode_json, json_as
from ._domain import Domain, M, endpoint
from ._models import ApiModel, WatsDateTime, WatsFilter, make_filter
from .report import ReportHeader

STEP_SEPARATOR = "¶"
MEASUREMENT_SEPARATOR = "¶¶"
RUNS = (1, 2, 3, -1, -2)
"""``run`` values of the step and measurement endpoints: that run, -1 the last run, -2 every run."""


def measurement_path(*steps: str, measurement: str | None = None) -> str:
    """A measurement path as WATS reads it: step names joined by ``¶``, then ``¶¶`` and the measurement's name.

    >>> measurement_path("MainSequence Callback", "Power", "Rails", measurement="3V3")
    'MainSequence Callback¶Power¶Rails¶¶3V3'
    """
    if not steps or any(not isinstance(step, str) or not step for step in steps):
        raise ValueError("a measurement path needs at least one step name, none of them empty")
    path = STEP_SEPARATOR.join(steps)
    return f"{path}{MEASUREMENT_SEPARATOR}{measurement}" if measurement else path


def _joined(value: str | Iterable[str] | None, what: str) -> str | None:
    """A ``;``-separated list from a string (as is) or an iterable of strings."""
    if value is None or isinstance(value, str):
        return value
    items = list(value)
    if any(not isinstance(item, str) or not item or ";" in item for item in items):
        raise ValueError(f"each of {what} must be a non-empty string without ';'")
    return ";".join(items)


# -- answer models ---------------------------------------------------------------------------------------


class YieldData(ApiModel):
    """One row of a yield answer: the dimension values it is for, then its KPIs.

    Unit-based KPIs count units (serial and part number in one operation) by their first run: ``fpy``
    (passed in run 1), ``spy`` (by run 2), ``tpy`` (by run 3), ``lpy`` (last run passed). Report-based:
    ``test_yield`` (passed reports / reports). Fields a server leaves out are None.
    """

    part_number: str | None = None
    product_name: str | None = None
    station_name: str | None = None
    location: str | None = None
    purpose: str | None = None
    revision: str | None = None
    test_operation: str | None = None
    process_code: int | None = None
    sw_filename: str | None = None
    sw_version: str | None = None
    product_group: str | None = None
    level: str | None = None
    period: str | None = None
    batch_number: str | None = None
    operator: str | None = None
    fixture_id: str | None = None
    socket_index: int | None = None
    error_code: int | None = None
    misc_info_description: str | None = None
    misc_info_string: str | None = None
    step_caused_uut_failure: str | None = None
    step_path_caused_uut_failure: str | None = None
    asset_serial_number: str | None = None
    asset_name: str | None = None
    unit_count: int | None = None
    fp_count: int | None = None
    sp_count: int | None = None
    tp_count: int | None = None
    lp_count: int | None = None
    fpy: float | None = None
    spy: float | None = None
    tpy: float | None = None
    lpy: float | None = None
    fp_fail_count: int | None = None
    sp_fail_count: int | None = None
    tp_fail_count: int | None = None
    lp_fail_count: int | None = None
    test_report_count: int | None = None
    test_yield_count: int | None = None
    test_yield: float | None = None
    retest_count: int | None = None
    first_utc: WatsDateTime | None = None
    last_utc: WatsDateTime | None = None
    ppm_fpy: float | None = None
    ppm_spy: float | None = None
    ppm_tpy: float | None = None
    ppm_lpy: float | None = None
    ppm_test_yield: float | None = None


class RepairData(ApiModel):
    """One row of ``DynamicRepair``: the dimension values it is for, then ``repair_report_count`` (repair
    reports) and ``repair_count`` (failures repaired)."""

    part_number: str | None = None
    revision: str | None = None
    product_name: str | None = None
    product_group: str | None = None
    unit_type: str | None = None
    repair_operation: str | None = None
    period: str | None = None
    level: str | None = None
    station_name: str | None = None
    location: str | None = None
    purpose: str | None = None
    operator: str | None = None
    misc_info_description: str | None = None
    misc_info_string: str | None = None
    repair_code: str | None = None
    repair_category: str | None = None
    repair_type: str | None = None
    component_ref: str | None = None
    component_number: str | None = None
    component_revision: str | None = None
    component_vendor: str | None = None
    component_description: str | None = None
    function_block: str | None = None
    referenced_step: str | None = None
    referenced_step_path: str | None = None
    test_operation: str | None = None
    test_period: str | None = None
    test_level: str | None = None
    test_station_name: str | None = None
    test_location: str | None = None
    test_purpose: str | None = None
    test_operator: str | None = None
    batch_number: str | None = None
    sw_filename: str | None = None
    sw_version: str | None = None
    repair_report_count: int | None = None
    repair_count: int | None = None


class TopFailedStep(ApiModel):
    """A step that failed: how often it ran, failed, and caused its unit's failure."""

    part_number: str | None = None
    test_operation: str | None = None
    process_code: int | None = None
    step_name: str | None = None
    step_path: str | None = None
    step_type: str | None = None
    step_count: int | None = None
    fail_count: int | None = None
    caused_uut_failure_count: int | None = None


class _NumericStats(ApiModel):
    value_count: int | None = None
    min: float | None = None
    max: float | None = None
    avg: float | None = None
    stdev: float | None = None
    cp: float | None = None
    cpk: float | None = None
    low_limit: float | None = None
    high_limit: float | None = None
    comp_op: str | None = None
    unit: str | None = None


class StepAnalysisRow(_NumericStats):
    """Statistics of one step (``measure_name`` None) or one named measurement of a multi-measurement step."""

    step_name: str | None = None
    step_path: str | None = None
    step_type: str | None = None
    step_group: str | None = None
    measure_name: str | None = None
    step_count: int | None = None
    pass_count: int | None = None
    fail_count: int | None = None
    error_count: int | None = None
    terminated_count: int | None = None
    skipped_count: int | None = None
    caused_uut_failure_count: int | None = None
    avg_time: float | None = None
    min_time: float | None = None
    max_time: float | None = None


class MeasurementValue(ApiModel):
    """One numeric measurement of one report."""

    report_id: str | None = None
    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    test_operation: str | None = None
    process_code: int | None = None
    station_name: str | None = None
    start: WatsDateTime | None = None
    measurement_path: str | None = None
    step_path: str | None = None
    step_name: str | None = None
    measure_name: str | None = None
    value: float | None = None
    low_limit: float | None = None
    high_limit: float | None = None
    comp_op: str | None = None
    unit: str | None = None
    status: str | None = None


class AggregatedMeasurement(_NumericStats):
    """The values at one measurement path summed up: count, min, max, mean, standard deviation, Cp, Cpk."""

    measurement_path: str | None = None
    step_path: str | None = None
    measure_name: str | None = None
    pass_count: int | None = None
    fail_count: int | None = None


class OeeFigures(ApiModel):
    """OEE figures of one station or of all (percentages; times in hours, the ideal cycle in seconds)."""

    station_name: str | None = None
    report_count: int | None = None
    passed_count: int | None = None
    available_time: float | None = None
    run_time: float | None = None
    ideal_cycle_time: float | None = None
    availability: float | None = None
    performance: float | None = None
    quality: float | None = None
    oee: float | None = None


class OeeAnalysis(OeeFigures):
    """``OeeAnalysis``: all stations together, the window, and each station in ``stations``."""

    date_from: WatsDateTime | None = None
    date_to: WatsDateTime | None = None
    station_count: int | None = None
    stations: list[OeeFigures] | None = None


class ProductGroup(ApiModel):
    """A product group (its filters when asked for); WATS's fields are kept as they come."""

    product_group_id: Any = None
    name: str | None = None


class Level(ApiModel):
    """A level (WATS calls them client groups); WATS's fields are kept as they come."""

    level_id: Any = None
    name: str | None = None


class RepairHistoryRecord(ApiModel):
    """One repaired failure of a unit of the part number and revision asked about."""

    report_id: str | None = None
    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    repair_date: WatsDateTime | None = None
    repair_operation_code: int | None = None
    repair_operation: str | None = None
    test_operation_code: int | None = None
    test_operation: str | None = None
    referenced_uut: str | None = None
    unit_type: str | None = None
    repair_category: str | None = None
    repair_code: str | None = None
    comment: str | None = None
    component_ref: str | None = None
    referenced_step: str | None = None


# -- building requests -----------------------------------------------------------------------------------

FilterInput = Union[WatsFilter, Mapping[str, Any], None]


def _body(filter: FilterInput, fields: dict[str, Any]) -> bytes:
    return encode_json(make_filter(dict(filter) if isinstance(filter, Mapping) else filter, fields))


def _post(path: str, filter: FilterInput, fields: dict[str, Any], answer: Any, **params: Any) -> Op[Any]:
    """A statistics POST: the filter as JSON body; it only reads, so it is retried like a GET."""
    return Op("POST", path, params=params, body=_body(filter, fields), content_type="application/json",
              parser=json_as(answer), idempotent=True)  # fmt: skip


def _days_form(path: str, days: int, product_group_id: str, level_id: str, filter: FilterInput,
               fields: dict[str, Any], answer: Any, **extra: Any) -> Op[Any]:  # fmt: skip
    """The GET form of a list: the last ``days`` days of a product group and level (both required by WATS;
    an empty string sends no selection)."""
    if filter is not None or fields:
        raise ValueError("give either days (and product_group_id / level_id) or a filter, not both")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a whole number >= 1, not {days!r}")
    params = {"days": days, "productGroupId": product_group_id, "levelId": level_id, **extra}
    return Op("GET", path, params=params, parser=json_as(answer))


def _run(run: int | None) -> int | None:
    if run is not None and (isinstance(run, bool) or run not in RUNS):
        raise ValueError(f"run is 1, 2 or 3 (that run), -1 (the last run) or -2 (every run), not {run!r}")
    return run


def _whole(name: str, value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
    return value


def _available_time(value: str | Sequence[float]) -> str:
    """``availableTime``: hours for each of the seven weekdays, comma separated."""
    if isinstance(value, str):
        return value
    hours = list(value)
    numbers = all(isinstance(h, (int, float)) and not isinstance(h, bool) for h in hours)
    if len(hours) != 7 or not numbers or any(not 0 <= h <= 24 for h in hours):
        raise ValueError("available_time takes seven hours (0 to 24), one for each weekday")
    return ",".join(f"{h:g}" for h in hours)


class AnalyticsService(Domain[M]):
    """App statistics: ``api.analytics``. Every method works the same on ``pyWATS`` and (awaited) ``AsyncWATS``."""

    @endpoint
    def get_dynamic_yield(
        self, filter: FilterInput = None, *, dimensions: str | Iterable[str] | None = None, **fields: Any
    ) -> Op[list[YieldData]]:
        """Yield KPIs grouped by the dimensions you choose (PREVIEW in WATS).

        Args:
            filter: which reports (``WatsFilter``, a dict, or its fields as keywords).
            dimensions: ``"partNumber;stationName"`` or a list; a KPI name orders the rows
                (``"fpy asc"``, ``"unitCount desc"``) and, once named, only the named KPIs are returned.
                Sent as the ``dimensions`` query parameter; None leaves the choice to the filter's
                ``dimensions`` or the server's default (``unitCount desc;partNumber;testOperation``).

        >>> rows = api.analytics.get_dynamic_yield(part_number="PCBA-100", dimensions=["stationName"])
        >>> [(row.station_name, row.fpy) for row in rows]
        """
        return _post("/api/App/DynamicYield", filter, fields, list[YieldData],
                     dimensions=_joined(dimensions, "dimensions"))  # fmt: skip

    @endpoint
    def get_dynamic_repair(
        self, filter: FilterInput = None, *, dimensions: str | Iterable[str] | None = None, **fields: Any
    ) -> Op[list[RepairData]]:
        """Repair counts (``repair_report_count``, ``repair_count``) grouped by dimensions such as
        ``partNumber``, ``repairCode``, ``componentRef`` or ``testOperation`` (PREVIEW in WATS)."""
        return _post("/api/App/DynamicRepair", filter, fields, list[RepairData],
                     dimensions=_joined(dimensions, "dimensions"))  # fmt: skip

    @endpoint
    def get_volume_yield(self, filter: FilterInput = None, *, days: int | None = None, product_group_id: str = "",
                         level_id: str = "", **fields: Any) -> Op[list[YieldData]]:  # fmt: skip
        """Yield per product and operation. With ``days``, the GET form (last N days, by product group and
        level ids); otherwise the POST form with a filter (productGroup, level, periodCount, dateGrouping,
        includeCurrentPeriod)."""
        if days is not None:
            return _days_form("/api/App/VolumeYield", days, product_group_id, level_id, filter, fields, list[YieldData])
        return _post("/api/App/VolumeYield", filter, fields, list[YieldData])

    @endpoint
    def get_high_volume(self, filter: FilterInput = None, *, days: int | None = None, product_group_id: str = "",
                        level_id: str = "", **fields: Any) -> Op[list[YieldData]]:  # fmt: skip
        """Yield per product and operation, highest unit count first (``days``: the GET form)."""
        if days is not None:
            return _days_form("/api/App/HighVolume", days, product_group_id, level_id, filter, fields, list[YieldData])
        return _post("/api/App/HighVolume", filter, fields, list[YieldData])

    @endpoint
    def get_high_volume_by_product_group(self, filter: FilterInput = None, **fields: Any) -> Op[list[YieldData]]:
        """Yield per product group, highest unit count first."""
        return _post("/api/App/HighVolumeByProductGroup", filter, fields, list[YieldData])

    @endpoint
    def get_worst_yield(self, filter: FilterInput = None, *, days: int | None = None, product_group_id: str = "",
                        level_id: str = "", **fields: Any) -> Op[list[YieldData]]:  # fmt: skip
        """Yield per product and operation, lowest first (``days``: the GET form). The filter's ``yield_``
        keeps only rows at or below that yield."""
        if days is not None:
            return _days_form("/api/App/WorstYield", days, product_group_id, level_id, filter, fields, list[YieldData])
        return _post("/api/App/WorstYield", filter, fields, list[YieldData])

    @endpoint
    def get_worst_yield_by_product_group(self, filter: FilterInput = None, **fields: Any) -> Op[list[YieldData]]:
        """Yield per product group, lowest first."""
        return _post("/api/App/WorstYieldByProductGroup", filter, fields, list[YieldData])

    @endpoint
    def get_top_failed(
        self, filter: FilterInput = None, *, days: int | None = None, process_code: int | str | None = None,
        count: int | None = None, product_group_id: str = "", level_id: str = "", **fields: Any,
    ) -> Op[list[TopFailedStep]]:  # fmt: skip
        """The steps that failed most (POST form, a filter: part_number, test_operation, top_count...).

        With ``days`` it is the GET form, which WATS requires whole: ``part_number`` (keyword),
        ``process_code``, ``count``, and the product group and level ids.

        >>> api.analytics.get_top_failed(part_number="PCBA-100", test_operation="ICT", top_count=5)
        """
        if days is None:
            if process_code is not None or count is not None:
                raise ValueError("process_code and count belong to the days form; in a filter use test_operation "
                                 "and top_count")  # fmt: skip
            return _post("/api/App/TopFailed", filter, fields, list[TopFailedStep])
        part_number = fields.pop("part_number", None)
        if not part_number or process_code is None or count is None:
            raise ValueError("the days form of get_top_failed needs part_number, process_code and count")
        return _days_form("/api/App/TopFailed", days, product_group_id, level_id, filter, fields, list[TopFailedStep],
                          partNumber=part_number, processCode=process_code, count=count)  # fmt: skip

    @endpoint
    def get_serial_number_history(self, filter: FilterInput = None, **fields: Any) -> Op[list[ReportHeader]]:
        """Every report (test and repair) of the units the filter names, oldest first.

        WATS honours productGroup, level, serialNumber, partNumber, batchNumber and miscValue.

        >>> for header in api.analytics.get_serial_number_history(serial_number="SN-1"):
        ...     print(header.start, header.process_name, header.result)
        """
        return _post("/api/App/SerialNumberHistory", filter, fields, list[ReportHeader])

    @endpoint
    def get_test_step_analysis(
        self, filter: FilterInput = None, *, run: int | None = None, **fields: Any
    ) -> Op[list[StepAnalysisRow]]:
        """Statistics of every step (counts, times, and measurement statistics) (PREVIEW in WATS).

        WATS requires ``part_number`` and ``test_operation``. ``run``: 1, 2, 3 (that run of each unit), -1
        (the last run) or -2 (all); the server's default is 1.
        """
        if _run(run) is not None:
            fields["run"] = run
        return _post("/api/App/TestStepAnalysis", filter, fields, list[StepAnalysisRow])

    @endpoint
    def get_measurements(
        self, measurement_paths: str | Iterable[str] | None, filter: FilterInput = None, **fields: Any
    ) -> Op[list[MeasurementValue]]:
        """Numeric measurement values at the given paths (at most 10000) (PREVIEW in WATS).

        Args:
            measurement_paths: one path, a list, or WATS's ``;``-separated text; write paths with
                :func:`measurement_path` (``MainSequence Callback¶Power¶Vcc``).
            filter: WATS requires ``part_number`` and ``test_operation``.
        """
        return _post("/api/App/Measurements", filter, fields, list[MeasurementValue],
                     measurementPaths=_joined(measurement_paths, "measurement_paths"))  # fmt: skip

    @endpoint
    def get_aggregated_measurements(
        self, measurement_paths: str | Iterable[str] | None, filter: FilterInput = None, **fields: Any
    ) -> Op[list[AggregatedMeasurement]]:
        """Count, min, max, mean, standard deviation, Cp and Cpk of the values at each path."""
        return _post("/api/App/AggregatedMeasurements", filter, fields, list[AggregatedMeasurement],
                     measurementPaths=_joined(measurement_paths, "measurement_paths"))  # fmt: skip

    @endpoint
    def get_oee_analysis(
        self, available_time: str | Sequence[float], filter: FilterInput = None, *,
        min_connection_time: int | None = None, max_connection_time: int | None = None,
        min_execution_time: int | None = None, max_execution_time: int | None = None,
        target_output: int | None = None, **fields: Any,
    ) -> Op[OeeAnalysis]:  # fmt: skip
        """Overall Equipment Effectiveness of the test stations.

        Args:
            available_time: the hours available on each weekday: seven numbers or ``"24,24,24,24,24,24,24"``.
            min_connection_time / max_connection_time / min_execution_time / max_execution_time: seconds;
                reports outside are left out.
            target_output: units per day.
        """
        params = {
            "availableTime": _available_time(available_time),
            "minConnectionTime": _whole("min_connection_time", min_connection_time),
            "maxConnectionTime": _whole("max_connection_time", max_connection_time),
            "minExecutionTime": _whole("min_execution_time", min_execution_time),
            "maxExecutionTime": _whole("max_execution_time", max_execution_time),
            "targetOutput": _whole("target_output", target_output),
        }
        return _post("/api/App/OeeAnalysis", filter, fields, OeeAnalysis, **params)

    @endpoint
    def get_product_groups(self, include_filters: bool | None = None) -> Op[list[ProductGroup]]:
        """The server's product groups (with their filters when ``include_filters``)."""
        return Op("GET", "/api/App/ProductGroups", params={"includeFilters": include_filters},
                  parser=json_as(list[ProductGroup]))  # fmt: skip

    @endpoint
    def get_levels(self) -> Op[list[Level]]:
        """The server's levels (client groups)."""
        return Op("GET", "/api/App/Levels", parser=json_as(list[Level]))

    @endpoint
    def get_related_repair_history(
        self, part_number: str, revision: str, *, repair_operation_code: int | str | None = None,
        test_operation_code: int | str | None = None,
    ) -> Op[list[RepairHistoryRecord]]:  # fmt: skip
        """The failures repaired on units of this part number and revision, newest first."""
        if not part_number or revision is None:
            raise ValueError("part_number and revision are required")
        params = {"partNumber": part_number, "revision": revision, "repairOperationCode": repair_operation_code,
                  "testOperationCode": test_operation_code}  # fmt: skip
        return Op("GET", "/api/App/RelatedRepairHistory", params=params, parser=json_as(list[RepairHistoryRecord]))


__all__ = [
    "AggregatedMeasurement", "AnalyticsService", "Level", "MeasurementValue", "OeeAnalysis", "OeeFigures",
    "ProductGroup", "RepairData", "RepairHistoryRecord", "StepAnalysisRow", "TopFailedStep", "YieldData",
    "measurement_path",
]  # fmt: skip

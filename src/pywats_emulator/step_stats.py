"""Step and measurement statistics from the step trees of stored test reports (pure functions).

**Paths.** A step's path is the names of the steps from the root sequence down to it, joined by ``/``:
``MainSequence Callback/Power/Vcc``; it is what the answers carry (``stepPath``). A *measurement path* in a
request (``measurementPaths``) is written as WATS documents it: step names joined by the paragraph mark
``¶``, then ``¶¶`` and the measurement's name for a step with several measurements
(``MainSequence Callback¶Power¶Rails¶¶3V3``); several paths are separated by ``;``. The emulator also
takes the answer form, ``/`` between steps and ``//`` before a measurement name. Names compare without
regard to case; a path without a measurement name selects every measurement of its step.

**Counting.** Every execution of a step counts (a step in a loop counts each time). A step *failed* when its
status is ``F``; the steps that *caused* a report's failure are the one named by ``uut.stepIdCausedUUTFailure``
or flagged ``causedUUTFailure``, else (a failed report that names none) its first failed step that has no
failed step inside it. Top failed counts failed executions of steps that have no failed step inside them,
so a failure is not counted again on every sequence above it.

**Capability.** ``cp = (USL - LSL) / 6s`` and ``cpk = min(USL - mean, mean - LSL) / 3s`` with the sample
standard deviation ``s``. The limits come from the comparison operator of the newest value: GELE, GELT,
GTLE and GTLT have both; GE and GT a lower limit; LE and LT an upper limit (kept in ``lowLimit``, as WSJF
stores single limits). Other operators, fewer than two values, or ``s = 0`` give None.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .app_filter import ReportRow

SEPARATOR = "/"
STATUS_COUNTS = {"P": "passCount", "D": "passCount", "F": "failCount", "E": "errorCount", "T": "terminatedCount",
                 "S": "skippedCount"}  # fmt: skip
MEASUREMENT_LISTS = ("numericMeas", "stringMeas", "booleanMeas")
_BOTH_LIMITS = {"GELE", "GELT", "GTLE", "GTLT"}
_LOWER_LIMIT = {"GE", "GT"}
_UPPER_LIMIT = {"LE", "LT"}


# -- walking the step tree -------------------------------------------------------------------------------


def walk_steps(root: Any) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every step with its path (names from the root down, its own last), in execution order."""
    if not isinstance(root, dict):
        return
    pending: list[tuple[tuple[str, ...], dict[str, Any]]] = [((str(root.get("name") or ""),), root)]
    while pending:
        path, step = pending.pop()
        yield path, step
        children = [child for child in step.get("steps") or [] if isinstance(child, dict)]
        pending.extend((path + (str(child.get("name") or ""),), child) for child in reversed(children))


def step_path(path: Sequence[str]) -> str:
    return SEPARATOR.join(path)


def measurements(step: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(kind, measurement)`` of every measurement of a step: kind is numeric, string or boolean."""
    found = []
    for key in MEASUREMENT_LISTS:
        for item in step.get(key) or []:
            if isinstance(item, dict):
                found.append((key.removesuffix("Meas"), item))
    return found


def _has_failed_child(step: dict[str, Any]) -> bool:
    return any(isinstance(child, dict) and child.get("status") == "F" for child in step.get("steps") or [])


def failure_causes(report: ReportRow) -> set[int]:
    """Ids of the steps that caused the report's failure (see the module docstring)."""
    body = report.body
    named = (body.get("uut") or {}).get("stepIdCausedUUTFailure")
    flagged = {step.get("id") for _, step in walk_steps(body.get("root")) if step.get("causedUUTFailure")}
    causes = ({named} if named is not None else set()) | flagged
    if causes or report.result != "F":
        return causes
    for _, step in walk_steps(body.get("root")):
        if step.get("status") == "F" and not _has_failed_child(step) and step is not body.get("root"):
            return {step.get("id")}
    return set()


# -- top failed ------------------------------------------------------------------------------------------


def top_failed(reports: Iterable[ReportRow]) -> list[dict[str, Any]]:
    """``TopFailed``: per part number, operation and step path, how often the step failed and caused a failure.

    Sorted by ``failCount``, then ``causedUutFailureCount`` (both descending), part number and path.
    """
    stats: dict[tuple[str, int, str], dict[str, Any]] = {}
    for report in reports:
        root = report.body.get("root")
        causes = failure_causes(report)
        for path, step in walk_steps(root):
            if step is root:
                continue
            key = (report.pn, report.process_code, step_path(path))
            item = stats.get(key)
            if item is None:
                item = stats[key] = {
                    "partNumber": report.pn, "testOperation": report.process_name, "processCode": report.process_code,
                    "stepName": step.get("name"), "stepPath": key[2], "stepType": step.get("stepType"),
                    "stepCount": 0, "failCount": 0, "causedUutFailureCount": 0,
                }  # fmt: skip
            item["stepCount"] += 1
            if step.get("status") == "F" and not _has_failed_child(step):
                item["failCount"] += 1
            if step.get("id") in causes:
                item["causedUutFailureCount"] += 1
    failed = [item for item in stats.values() if item["failCount"] or item["causedUutFailureCount"]]
    failed.sort(key=lambda item: (-item["failCount"], -item["causedUutFailureCount"], item["partNumber"],
                                  item["stepPath"]))  # fmt: skip
    return failed


# -- numbers ---------------------------------------------------------------------------------------------


def describe(values: Sequence[float]) -> dict[str, float | int | None]:
    """Count, min, max, mean and sample standard deviation (None below two values)."""
    count = len(values)
    if not count:
        return {"valueCount": 0, "min": None, "max": None, "avg": None, "stdev": None}
    mean = math.fsum(values) / count
    stdev = math.sqrt(math.fsum((value - mean) ** 2 for value in values) / (count - 1)) if count > 1 else None
    return {"valueCount": count, "min": min(values), "max": max(values), "avg": mean, "stdev": stdev}


def spec_limits(comp_op: str | None, low: float | None, high: float | None) -> tuple[float | None, float | None]:
    """(lower, upper) specification limits of a numeric measurement's operator and limits."""
    op = (comp_op or "").upper()
    if op in _BOTH_LIMITS:
        return low, high
    if op in _LOWER_LIMIT:
        return low, None
    if op in _UPPER_LIMIT:
        return None, low  # WSJF keeps a single limit in lowLimit, even for LT and LE
    return None, None


def capability(mean: float | None, stdev: float | None, lower: float | None, upper: float | None) -> tuple:
    """``(cp, cpk)``; None where it cannot be computed."""
    if mean is None or not stdev or (lower is None and upper is None):
        return None, None
    sides = [value for value in ((upper - mean) if upper is not None else None,
                                 (mean - lower) if lower is not None else None) if value is not None]  # fmt: skip
    cpk = min(sides) / (3 * stdev)
    cp = (upper - lower) / (6 * stdev) if upper is not None and lower is not None else None
    return cp, cpk


@dataclass
class _Numbers:
    """Numeric values of one step or measurement, and the limits of the newest one."""

    values: list[float] = field(default_factory=list)
    limits: dict[str, Any] = field(default_factory=dict)

    def add(self, measurement: dict[str, Any]) -> None:
        value = measurement.get("value")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            self.values.append(float(value))
        self.limits = {key: measurement.get(key) for key in ("lowLimit", "highLimit", "compOp", "unit")}

    def summary(self) -> dict[str, Any]:
        stats = describe(self.values)
        lower, upper = spec_limits(self.limits.get("compOp"), self.limits.get("lowLimit"), self.limits.get("highLimit"))
        stats["cp"], stats["cpk"] = capability(stats["avg"], stats["stdev"], lower, upper)
        return {**stats, "lowLimit": self.limits.get("lowLimit"), "highLimit": self.limits.get("highLimit"),
                "compOp": self.limits.get("compOp"), "unit": self.limits.get("unit")}  # fmt: skip


# -- test step analysis ----------------------------------------------------------------------------------


def _counts() -> dict[str, int]:
    return {"stepCount": 0, "passCount": 0, "failCount": 0, "errorCount": 0, "terminatedCount": 0, "skippedCount": 0}


@dataclass
class _StepRow:
    head: dict[str, Any]
    counts: dict[str, int] = field(default_factory=_counts)
    caused: int = 0
    times: list[float] = field(default_factory=list)
    numbers: _Numbers = field(default_factory=_Numbers)

    def count(self, status: Any) -> None:
        self.counts["stepCount"] += 1
        if status in STATUS_COUNTS:
            self.counts[STATUS_COUNTS[status]] += 1

    def answer(self, with_times: bool) -> dict[str, Any]:
        item = {**self.head, **self.counts, "causedUutFailureCount": self.caused}
        if with_times:
            item.update(avgTime=math.fsum(self.times) / len(self.times) if self.times else None,
                        minTime=min(self.times, default=None), maxTime=max(self.times, default=None))  # fmt: skip
        return {**item, **self.numbers.summary()}


def step_analysis(reports: Iterable[ReportRow]) -> list[dict[str, Any]]:
    """``TestStepAnalysis``: one item per step path (in the order steps first ran), with status counts, time
    and, for a step with one measurement, its statistics. A step with several measurements is followed by
    one item per measurement (``measureName`` set) with that measurement's counts and statistics.
    """
    rows: dict[tuple[str, str | None], _StepRow] = {}
    for report in reports:
        causes = failure_causes(report)
        for path, step in walk_steps(report.body.get("root")):
            text = step_path(path)
            head = {"stepName": step.get("name"), "stepPath": text, "stepType": step.get("stepType"),
                    "stepGroup": step.get("group")}  # fmt: skip
            found = measurements(step)
            row = rows.setdefault((text, None), _StepRow({**head, "measureName": None}))
            row.count(step.get("status"))
            row.caused += step.get("id") in causes
            if isinstance(step.get("totTime"), (int, float)):
                row.times.append(float(step["totTime"]))
            if len(found) == 1:
                row.head["measureName"] = found[0][1].get("name")
                if found[0][0] == "numeric":
                    row.numbers.add(found[0][1])
                continue
            for kind, measurement in found:
                name = measurement.get("name")
                sub = rows.setdefault((text, name), _StepRow({**head, "measureName": name}))
                sub.count(measurement.get("status"))
                if kind == "numeric":
                    sub.numbers.add(measurement)
    return [row.answer(with_times=key[1] is None) for key, row in rows.items()]


# -- measurements ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasurementPath:
    """One requested measurement path: the step names, the measurement name (None: every one), as written."""

    steps: tuple[str, ...]
    measure: str | None
    text: str

    def selects(self, path: Sequence[str], name: str | None) -> bool:
        if len(path) != len(self.steps) or any(a.casefold() != b.casefold() for a, b in zip(path, self.steps)):
            return False
        return self.measure is None or (name or "").casefold() == self.measure.casefold()


def parse_measurement_paths(text: str | None) -> list[MeasurementPath]:
    """``measurementPaths`` → the paths it names (see the module docstring for the two spellings)."""
    paths = []
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        steps_text, separator, measure = part.partition("¶¶") if "¶" in part else part.partition("//")
        steps = tuple(name.strip() for name in steps_text.split("¶" if "¶" in part else SEPARATOR))
        paths.append(MeasurementPath(steps, measure.strip() if separator and measure.strip() else None, part))
    return paths


def measurement_values(
    reports: Iterable[ReportRow], paths: Sequence[MeasurementPath], limit: int
) -> list[dict[str, Any]]:
    """``Measurements``: every numeric value at ``paths`` (all numeric values when none are given), oldest
    first, at most the newest ``limit``."""
    found: list[dict[str, Any]] = []
    for report in sorted(reports, key=lambda row: row.order):
        for path, step in walk_steps(report.body.get("root")):
            for kind, measurement in measurements(step):
                if kind != "numeric":
                    continue
                name = measurement.get("name")
                wanted = [p for p in paths if p.selects(path, name)] if paths else [None]
                for requested in wanted:
                    found.append({
                        "reportId": report.id, "serialNumber": report.sn, "partNumber": report.pn,
                        "revision": report.rev, "testOperation": report.process_name,
                        "processCode": report.process_code, "stationName": report.station,
                        "start": report.start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        "measurementPath": requested.text if requested else None, "stepPath": step_path(path),
                        "stepName": step.get("name"), "measureName": name, "value": measurement.get("value"),
                        "lowLimit": measurement.get("lowLimit"), "highLimit": measurement.get("highLimit"),
                        "compOp": measurement.get("compOp"), "unit": measurement.get("unit"),
                        "status": measurement.get("status"),
                    })  # fmt: skip
    return found[-limit:] if limit else []


def aggregate_measurements(values: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``AggregatedMeasurements``: :func:`measurement_values` summed up per path and measurement name."""
    groups: dict[tuple[Any, str, Any], tuple[_Numbers, dict[str, int]]] = {}
    for value in values:
        key = (value["measurementPath"], value["stepPath"], value["measureName"])
        numbers, counts = groups.setdefault(key, (_Numbers(), {"passCount": 0, "failCount": 0}))
        numbers.add(value)
        if value.get("status") in ("P", "F"):
            counts["passCount" if value["status"] == "P" else "failCount"] += 1
    return [
        {"measurementPath": path, "stepPath": text, "measureName": name, **counts, **numbers.summary()}
        for (path, text, name), (numbers, counts) in groups.items()
    ]


__all__ = [
    "MeasurementPath", "aggregate_measurements", "capability", "describe", "failure_causes", "measurement_values",
    "measurements", "parse_measurement_paths", "spec_limits", "step_analysis", "step_path", "top_failed",
    "walk_steps",
]  # fmt: skip

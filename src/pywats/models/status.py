"""Statuses, computed exactly as WATS defines them. WATS itself never re-checks them, so we must.

- Numeric: single-limit operators (EQ NE GT GE LT LE) compare with ``low_limit`` (even LT and LE);
  GTLT/GTLE/GELT/GELE pass *inside* [low, high]; LTGT/LTGE/LEGT/LEGE pass *outside* it; LOG always passes.
  A NaN value, or a NaN limit the operator uses, fails. Infinities compare as numbers.
- String: EQ and CASESENSIT compare exactly, NE differs, IGNORECASE compares case-folded, REGEX searches
  the value with the limit as a regular expression (as .NET ``Regex.IsMatch`` does); LOG always passes.
- A step with measurements fails when one fails, is skipped when all are, and otherwise passes.
- A sequence takes the worst status of its children: terminated > error > failed > passed (skipped and
  done children count as passed).
- The report result follows the root step.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .enums import (
    DUAL_LIMIT_OPS,
    SINGLE_LIMIT_OPS,
    CompOp,
    MeasurementStatus,
    ReportResult,
    StepStatus,
)
from .report import UURReport, UUTReport
from .steps import BooleanStep, ChartStep, NumericStep, SequenceCallStep, StepBase, StringStep

_NUMERIC_TESTS = {
    CompOp.EQ: lambda v, lo, hi: v == lo,
    CompOp.NE: lambda v, lo, hi: v != lo,
    CompOp.GT: lambda v, lo, hi: v > lo,
    CompOp.GE: lambda v, lo, hi: v >= lo,
    CompOp.LT: lambda v, lo, hi: v < lo,
    CompOp.LE: lambda v, lo, hi: v <= lo,
    CompOp.GTLT: lambda v, lo, hi: lo < v < hi,
    CompOp.GTLE: lambda v, lo, hi: lo < v <= hi,
    CompOp.GELT: lambda v, lo, hi: lo <= v < hi,
    CompOp.GELE: lambda v, lo, hi: lo <= v <= hi,
    CompOp.LTGT: lambda v, lo, hi: v < lo or v > hi,
    CompOp.LTGE: lambda v, lo, hi: v < lo or v >= hi,
    CompOp.LEGT: lambda v, lo, hi: v <= lo or v > hi,
    CompOp.LEGE: lambda v, lo, hi: v <= lo or v >= hi,
}

_PASS, _FAIL, _SKIP = MeasurementStatus.PASSED, MeasurementStatus.FAILED, MeasurementStatus.SKIPPED


def numeric_status(
    value: float | None, comp_op: CompOp | str | None, low_limit: float | None = None,
    high_limit: float | None = None,
) -> MeasurementStatus:  # fmt: skip
    """The status of a numeric measurement.

    Raises:
        ValueError: the operator is not numeric, or a limit it needs is missing.

    >>> numeric_status(62.6, "LE", 72.0)  # single-limit operators keep their limit in low_limit
    <MeasurementStatus.PASSED: 'P'>
    """
    op = CompOp(comp_op) if comp_op is not None else CompOp.LOG
    if op is CompOp.LOG:
        return _PASS
    test = _NUMERIC_TESTS.get(op)
    if test is None:
        raise ValueError(f"{op.value} is not a comparison for numeric values")
    if low_limit is None:
        raise ValueError(f"{op.value} needs lowLimit")
    if op in DUAL_LIMIT_OPS and high_limit is None:
        raise ValueError(f"{op.value} needs lowLimit and highLimit")
    limits = (low_limit,) if op in SINGLE_LIMIT_OPS else (low_limit, high_limit)
    if value is None or math.isnan(value) or any(math.isnan(limit) for limit in limits):  # type: ignore[arg-type]
        return _FAIL
    return _PASS if test(value, low_limit, high_limit) else _FAIL


def string_status(value: str | None, comp_op: CompOp | str | None, limit: str | None = None) -> MeasurementStatus:
    """The status of a string measurement.

    Raises:
        ValueError: the operator is not a string comparison, or the limit is missing or not a valid regex.
    """
    op = CompOp(comp_op) if comp_op is not None else CompOp.LOG
    if op is CompOp.LOG:
        return _PASS
    if op not in (CompOp.EQ, CompOp.NE, CompOp.CASESENSIT, CompOp.IGNORECASE, CompOp.REGEX):
        raise ValueError(f"{op.value} is not a comparison for string values")
    if limit is None:
        raise ValueError(f"{op.value} needs a limit")
    if value is None:
        return _FAIL
    if op is CompOp.IGNORECASE:
        passed = value.casefold() == limit.casefold()
    elif op is CompOp.NE:
        passed = value != limit
    elif op is CompOp.REGEX:
        try:
            passed = re.search(limit, value) is not None
        except re.error as error:
            raise ValueError(f"limit {limit!r} is not a valid regular expression: {error}") from None
    else:
        passed = value == limit
    return _PASS if passed else _FAIL


def measurements_status(statuses: list[MeasurementStatus | None]) -> StepStatus:
    """A step's status from its measurements' statuses."""
    if any(status is _FAIL for status in statuses):
        return StepStatus.FAILED
    if statuses and all(status is _SKIP for status in statuses):
        return StepStatus.SKIPPED
    return StepStatus.PASSED


_SEVERITY = {StepStatus.TERMINATED: 3, StepStatus.ERROR: 2, StepStatus.FAILED: 1}


def children_status(statuses: list[StepStatus | None]) -> StepStatus:
    """A sequence's status from its children's: the worst of terminated, error, failed, else passed."""
    worst = max(statuses, key=lambda status: _SEVERITY.get(status, 0), default=None)  # type: ignore[arg-type]
    return worst if worst in _SEVERITY else StepStatus.PASSED  # type: ignore[return-value]


def report_result(root_status: StepStatus | None) -> ReportResult:
    """A UUT report's result from its root step's status."""
    return {
        StepStatus.FAILED: ReportResult.FAILED,
        StepStatus.ERROR: ReportResult.ERROR,
        StepStatus.TERMINATED: ReportResult.TERMINATED,
    }.get(root_status, ReportResult.PASSED)  # type: ignore[arg-type]


def _measurements(step: StepBase) -> list[Any]:
    if isinstance(step, (NumericStep, ChartStep)):
        return step.numeric_meas
    if isinstance(step, StringStep):
        return step.string_meas
    if isinstance(step, BooleanStep):
        return step.boolean_meas
    return []


def _measurement_status(step: StepBase, measurement: Any) -> MeasurementStatus:
    if isinstance(step, (NumericStep, ChartStep)):
        return numeric_status(measurement.value, measurement.comp_op, measurement.low_limit, measurement.high_limit)
    if isinstance(step, StringStep):
        return string_status(measurement.value, measurement.comp_op, measurement.limit)
    raise ValueError("a pass/fail measurement needs its status")


def apply_statuses(report: UUTReport | UURReport, *, overwrite: bool = False) -> UUTReport | UURReport:
    """Fill in every missing status (all of them with ``overwrite``) from limits, up to the report result.

    The report is changed in place and returned. Statuses given by the source are kept unless
    ``overwrite`` is set; a step's status is computed only when it is missing or ``overwrite`` is set.

    Raises:
        ValueError: a measurement has no status and none can be computed (missing limit, pass/fail
            measurement without status); the message names the step.
    """
    if isinstance(report, UURReport):
        return report
    root_status = _apply(report.root, overwrite, "root")
    if overwrite or report.result is None:
        report.result = report_result(root_status)
    return report


def _apply(step: StepBase, overwrite: bool, path: str) -> StepStatus | None:
    if isinstance(step, SequenceCallStep):
        children = [_apply(child, overwrite, f"{path}.steps[{i}]") for i, child in enumerate(step.steps)]
        computed: StepStatus | None = children_status(children)
    elif measurements := _measurements(step):
        for index, measurement in enumerate(measurements):
            # A pass/fail measurement has no limits: its given status is the only truth there is.
            recompute = overwrite and not isinstance(step, BooleanStep)
            if recompute or measurement.status is None:
                try:
                    measurement.status = _measurement_status(step, measurement)
                except ValueError as error:
                    raise ValueError(f"{path} ({step.name!r}), measurement {index}: {error}") from None
        computed = measurements_status([m.status for m in measurements])
    else:
        computed = StepStatus.PASSED
    if overwrite or step.status is None:
        step.status = computed
    return step.status


__all__ = [
    "apply_statuses",
    "children_status",
    "measurements_status",
    "numeric_status",
    "report_result",
    "string_status",
]

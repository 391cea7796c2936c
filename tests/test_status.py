"""Status logic, table-driven: every operator at, below and above each limit, NaN and infinities."""

from __future__ import annotations

import math

import pytest

from pywats.models import CompOp, MeasurementStatus, ReportResult, StepStatus
from pywats.models.status import (
    children_status,
    measurements_status,
    numeric_status,
    report_result,
    string_status,
)

P, F, S = MeasurementStatus.PASSED, MeasurementStatus.FAILED, MeasurementStatus.SKIPPED
NAN, INF = math.nan, math.inf

# Single-limit operators: the limit (10) is in lowLimit, even for LT and LE. Values: below, at, above.
SINGLE = {
    "EQ": (F, P, F),
    "NE": (P, F, P),
    "GT": (F, F, P),
    "GE": (F, P, P),
    "LT": (P, F, F),
    "LE": (P, P, F),
}


@pytest.mark.parametrize("op", SINGLE)
@pytest.mark.parametrize("position, value", [(0, 9.0), (1, 10.0), (2, 11.0)])
def test_single_limit_operators_use_low_limit(op: str, position: int, value: float) -> None:
    assert numeric_status(value, op, 10.0) is SINGLE[op][position]
    # A high limit given alongside is ignored by single-limit operators.
    assert numeric_status(value, op, 10.0, 1000.0) is SINGLE[op][position]


# Dual-limit operators with low 10, high 20. Values: below low, at low, inside, at high, above high.
DUAL = {
    "GTLT": (F, F, P, F, F),
    "GTLE": (F, F, P, P, F),
    "GELT": (F, P, P, F, F),
    "GELE": (F, P, P, P, F),
    "LTGT": (P, F, F, F, P),
    "LTGE": (P, F, F, P, P),
    "LEGT": (P, P, F, F, P),
    "LEGE": (P, P, F, P, P),
}


@pytest.mark.parametrize("op", DUAL)
@pytest.mark.parametrize("position, value", list(enumerate([9.0, 10.0, 15.0, 20.0, 21.0])))
def test_dual_limit_operators(op: str, position: int, value: float) -> None:
    assert numeric_status(value, op, 10.0, 20.0) is DUAL[op][position]


@pytest.mark.parametrize("value", [-INF, -1.0, 0.0, 1e300, INF, NAN, None])
def test_log_always_passes(value: float | None) -> None:
    assert numeric_status(value, "LOG") is P
    assert numeric_status(value, None) is P  # no operator means LOG
    assert string_status(None if value is None else str(value), "LOG") is P


@pytest.mark.parametrize("op", [*SINGLE, *DUAL])
def test_nan_value_fails_every_comparison(op: str) -> None:
    assert numeric_status(NAN, op, 10.0, 20.0) is F


@pytest.mark.parametrize("op", [*SINGLE, *DUAL])
def test_nan_limit_fails(op: str) -> None:
    assert numeric_status(15.0, op, NAN, NAN) is F
    if op in DUAL:
        assert numeric_status(15.0, op, 10.0, NAN) is F


@pytest.mark.parametrize(
    "value, op, low, high, expected",
    [
        (INF, "GT", 10.0, None, P),
        (-INF, "GT", 10.0, None, F),
        (INF, "GELE", 10.0, 20.0, F),
        (INF, "LEGE", 10.0, 20.0, P),
        (-INF, "LTGT", 10.0, 20.0, P),
        (5.0, "GELE", -INF, INF, P),
        (INF, "GELE", -INF, INF, P),
        (INF, "EQ", INF, None, P),
    ],
)
def test_infinities_compare_as_numbers(value: float, op: str, low: float, high: float | None, expected) -> None:
    assert numeric_status(value, op, low, high) is expected


def test_missing_value_fails_a_comparison() -> None:
    assert numeric_status(None, "GE", 1.0) is F
    assert string_status(None, "EQ", "x") is F


@pytest.mark.parametrize(
    "op, low, high, message",
    [
        ("GE", None, None, "GE needs lowLimit"),
        ("GELE", 1.0, None, "GELE needs lowLimit and highLimit"),
        ("LTGT", None, 2.0, "LTGT needs lowLimit"),
        ("IGNORECASE", 1.0, None, "not a comparison for numeric values"),
    ],
)
def test_numeric_errors_are_clear(op: str, low, high, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        numeric_status(1.0, op, low, high)


def test_operator_names_are_case_insensitive() -> None:
    assert CompOp("Log") is CompOp.LOG
    assert CompOp("IgnoreCase") is CompOp.IGNORECASE
    assert numeric_status(1.0, "gele", 0.0, 2.0) is P
    with pytest.raises(ValueError):
        CompOp("BETWEEN")


STRINGS = [
    ("EQ", "abc", "abc", P),
    ("EQ", "abc", "ABC", F),
    ("CASESENSIT", "abc", "abc", P),
    ("CASESENSIT", "caseSensitive", "CaseSensitive", F),
    ("NE", "abc", "abd", P),
    ("NE", "abc", "abc", F),
    ("IGNORECASE", "caseSensitive", "CaseSensitive", P),
    ("IGNORECASE", "caseSensitive", "CaseSensitive2", F),
    ("IGNORECASE", "STRASSE", "straße", P),  # case folding, not just lower()
    ("REGEX", "FW 1.4.2-rc1", r"1\.4\.\d+", P),
    ("REGEX", "FW 1.5.0", r"^1\.4", F),
    ("LOG", "anything", None, P),
]


@pytest.mark.parametrize("op, value, limit, expected", STRINGS)
def test_string_operators(op: str, value: str, limit: str | None, expected) -> None:
    assert string_status(value, op, limit) is expected


def test_string_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="needs a limit"):
        string_status("a", "EQ", None)
    with pytest.raises(ValueError, match="not a comparison for string values"):
        string_status("a", "GELE", "b")
    with pytest.raises(ValueError, match="not a valid regular expression"):
        string_status("a", "REGEX", "(")


@pytest.mark.parametrize(
    "statuses, expected",
    [
        ([P, P], StepStatus.PASSED),
        ([P, F, P], StepStatus.FAILED),
        ([S, S], StepStatus.SKIPPED),
        ([S, P], StepStatus.PASSED),
        ([S, F], StepStatus.FAILED),
        ([], StepStatus.PASSED),
    ],
)
def test_step_status_from_measurements(statuses, expected) -> None:
    assert measurements_status(statuses) is expected


T, E, SF, SP, SD, SS = (StepStatus.TERMINATED, StepStatus.ERROR, StepStatus.FAILED, StepStatus.PASSED,
                        StepStatus.DONE, StepStatus.SKIPPED)  # fmt: skip


@pytest.mark.parametrize(
    "children, expected",
    [
        ([SP, SP], SP),
        ([SP, SD, SS], SP),
        ([SP, SF], SF),
        ([SF, E], E),
        ([E, T, SF], T),
        ([], SP),
        ([None, SP], SP),
    ],
)
def test_sequence_status_is_the_worst_child(children, expected) -> None:
    assert children_status(children) is expected


@pytest.mark.parametrize(
    "root, expected",
    [
        (SP, ReportResult.PASSED),
        (SD, ReportResult.PASSED),
        (SS, ReportResult.PASSED),
        (SF, ReportResult.FAILED),
        (E, ReportResult.ERROR),
        (T, ReportResult.TERMINATED),
    ],
)
def test_report_result_follows_the_root(root, expected) -> None:
    assert report_result(root) is expected

"""Enumerations of the WATS Standard JSON Format, spelled as WATS spells them.

Parsing is forgiving where WATS is (comparison operators are case-insensitive: real files hold both
``"Log"`` and ``"IgnoreCase"``) and strict everywhere else: an unknown value is an error, never silently
turned into something else.
"""

from __future__ import annotations

from enum import Enum


class _CaseInsensitiveEnum(str, Enum):
    @classmethod
    def _missing_(cls, value: object) -> _CaseInsensitiveEnum | None:
        if isinstance(value, str):
            return cls.__members__.get(value.strip().upper())
        return None

    def __str__(self) -> str:
        return self.value


class ReportType(str, Enum):
    """``T``: a test report (UUT); ``R``: a repair report (UUR)."""

    UUT = "T"
    UUR = "R"


class ReportResult(str, Enum):
    """A report's overall result."""

    PASSED = "P"
    FAILED = "F"
    ERROR = "E"
    TERMINATED = "T"
    DONE = "D"  # seen in exports; WATS prefers PASSED


class StepStatus(str, Enum):
    """A step's status. ``D`` (done) and ``U`` (unknown) appear in server exports; emit P/F/S/E/T."""

    PASSED = "P"
    FAILED = "F"
    SKIPPED = "S"
    ERROR = "E"
    TERMINATED = "T"
    DONE = "D"
    UNKNOWN = "U"


class MeasurementStatus(str, Enum):
    """A measurement's status: WATS accepts only P, F and S."""

    PASSED = "P"
    FAILED = "F"
    SKIPPED = "S"


class StepGroup(str, Enum):
    """The TestStand step group a step ran in."""

    SETUP = "S"
    MAIN = "M"
    CLEANUP = "C"


class CompOp(_CaseInsensitiveEnum):
    """Comparison operators (WATS ``CompOperatorType``).

    Single-limit operators (EQ, NE, GT, GE, LT, LE) keep their limit in ``lowLimit``, even LT and LE.
    GTLT/GTLE/GELT/GELE pass inside the range; LTGT/LTGE/LEGT/LEGE pass outside it. LOG always passes.
    CASESENSIT, IGNORECASE and REGEX apply to strings only.
    """

    LOG = "LOG"
    EQ = "EQ"
    NE = "NE"
    GT = "GT"
    GE = "GE"
    LT = "LT"
    LE = "LE"
    GTLT = "GTLT"
    GTLE = "GTLE"
    GELT = "GELT"
    GELE = "GELE"
    LTGT = "LTGT"
    LTGE = "LTGE"
    LEGT = "LEGT"
    LEGE = "LEGE"
    CASESENSIT = "CASESENSIT"
    IGNORECASE = "IGNORECASE"
    REGEX = "REGEX"


SINGLE_LIMIT_OPS = frozenset({CompOp.EQ, CompOp.NE, CompOp.GT, CompOp.GE, CompOp.LT, CompOp.LE})
INSIDE_RANGE_OPS = frozenset({CompOp.GTLT, CompOp.GTLE, CompOp.GELT, CompOp.GELE})
OUTSIDE_RANGE_OPS = frozenset({CompOp.LTGT, CompOp.LTGE, CompOp.LEGT, CompOp.LEGE})
DUAL_LIMIT_OPS = INSIDE_RANGE_OPS | OUTSIDE_RANGE_OPS
NUMERIC_OPS = frozenset({CompOp.LOG}) | SINGLE_LIMIT_OPS | DUAL_LIMIT_OPS
STRING_OPS = frozenset(
    {CompOp.LOG, CompOp.EQ, CompOp.NE, CompOp.CASESENSIT, CompOp.IGNORECASE, CompOp.REGEX}
)


class ChartType(str, Enum):
    """The chart types WATS accepts; anything else is rejected with "Invalid chart type"."""

    LINE = "Line"
    LINE_LOG_XY = "LineLogXY"
    LINE_LOG_X = "LineLogX"
    LINE_LOG_Y = "LineLogY"

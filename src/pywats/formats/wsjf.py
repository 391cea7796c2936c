"""WSJF, the WATS Standard JSON Format: the format WATS takes on ``POST /api/Report/WSJF``.

>>> report = loads(text)            # validated UUTReport or UURReport
>>> text = dumps(report)            # compact WSJF, unset (None) fields left out
"""

from __future__ import annotations

from typing import Any

from ..models import LengthMode, UURReport, UUTReport, parse_report


def loads(text: str | bytes, *, lengths: LengthMode = "strict") -> UUTReport | UURReport:
    """Read a WSJF report.

    Raises:
        ReportFormatError: broken JSON (with ``line`` and ``column``) or a report that breaks a rule
            (with ``path``).
    """
    return parse_report(text, lengths=lengths)


def dumps(report: UUTReport | UURReport, *, indent: int | None = None) -> str:
    """Write a report as WSJF text. Fields that are ``None`` are left out, as WATS does."""
    return report.model_dump_json(exclude_none=True, indent=indent)


def to_dict(report: UUTReport | UURReport) -> dict[str, Any]:
    """The report as the JSON-compatible dict that :func:`dumps` would write."""
    return report.model_dump(mode="json", exclude_none=True)

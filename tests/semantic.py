"""Semantic comparison of WSJF documents: what WATS would read the same is the same.

A null and a missing field are equal; date-times are compared as instants (to the microsecond, Python's
precision: WATS writes up to 7 fractional digits); comparison operators ignore case; 1 and 1.0 are equal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

DATE_KEYS = {"start", "startUTC", "confirmDate", "finalizeDate"}


def _instant(text: str) -> datetime:
    text = text.replace(".Z", "Z").replace("Z", "+00:00")
    if "." in text:  # at most 6 fractional digits for Python
        head, rest = text.split(".", 1)
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
    return datetime.fromisoformat(text)


def normalise(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, str) and key in DATE_KEYS:
        return _instant(value)
    if isinstance(value, str) and key == "compOp":
        return value.upper()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def missing_fields(source: Any, result: Any, path: str = "") -> list[str]:
    """Every field of ``source`` that ``result`` lacks or holds differently, as readable paths."""
    problems: list[str] = []
    if isinstance(source, dict) and isinstance(result, dict):
        for key, value in source.items():
            if key not in result:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += missing_fields(value, result[key], f"{path}.{key}")
    elif isinstance(source, list) and isinstance(result, list):
        if len(source) != len(result):
            problems.append(f"{path}: {len(source)} items became {len(result)}")
        for index, (a, b) in enumerate(zip(source, result)):
            problems += missing_fields(a, b, f"{path}[{index}]")
    elif source != result:
        problems.append(f"{path}: {source!r} became {result!r}")
    return problems

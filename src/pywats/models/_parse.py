"""Validation of a report from JSON text or a dict, with the two length modes of the WATS client.

``lengths="strict"`` refuses a string longer than WATS allows, naming the field; ``"truncate"`` cuts it to
the limit instead (the .NET client's ``AutoTruncate``). Lengths are checked inside pydantic-core, so the
strict path costs nothing extra; truncation re-validates only when something was too long.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from .._exceptions import ReportFormatError
from .report import Report, UURReport, UUTReport
from .steps import STEP_KINDS

LengthMode = Literal["strict", "truncate"]

_REPORT = TypeAdapter(Report)
_LOC_NOISE = STEP_KINDS | {"T", "R"}  # union tags pydantic puts into error locations


def parse_report(data: str | bytes | dict[str, Any], *, lengths: LengthMode = "strict") -> UUTReport | UURReport:
    """Validate a WSJF report given as JSON text or as a dict (JSON names or Python names).

    Raises:
        ReportFormatError: the JSON is broken or the report breaks a rule; ``path`` names the field.
    """
    if lengths not in ("strict", "truncate"):
        raise ValueError(f"lengths must be 'strict' or 'truncate', not {lengths!r}")
    # json.loads then validate_python beats validate_json here: the step discriminator then reads plain
    # dicts instead of having each JSON subtree converted for it, and json errors carry line and column.
    raw = _load_json(data) if isinstance(data, (str, bytes, bytearray)) else data
    try:
        return _REPORT.validate_python(raw)
    except ValidationError as error:
        if lengths == "truncate" and _only_lengths(error):
            return _truncated(raw, error)
        raise _format_error(error) from None


def _only_lengths(error: ValidationError) -> bool:
    return any(item["type"] == "string_too_long" for item in error.errors())


def _truncated(raw: dict[str, Any], error: ValidationError) -> UUTReport | UURReport:
    raw = copy.deepcopy(raw)  # the caller's dict stays as it was given
    # Up to a few rounds: a field hidden behind an earlier error only shows once that one is fixed.
    for _ in range(5):
        for item in error.errors():
            if item["type"] == "string_too_long":
                _truncate_at(raw, item["loc"], item["ctx"]["max_length"])
        try:
            return _REPORT.validate_python(raw)
        except ValidationError as again:
            if not _only_lengths(again):
                raise _format_error(again) from None
            error = again
    raise _format_error(error) from None


def _truncate_at(raw: Any, loc: tuple[Any, ...], max_length: int) -> None:
    keys = [key for key in loc if key not in _LOC_NOISE or not isinstance(raw, dict)]
    container = raw
    for key in keys[:-1]:
        container = container[key]
    container[keys[-1]] = container[keys[-1]][:max_length]


def _load_json(text: str | bytes | bytearray) -> Any:
    if isinstance(text, str) and text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark, as Windows editors write
    try:
        return json.loads(text)
    except UnicodeDecodeError as error:
        raise ReportFormatError(f"not valid JSON text ({error.encoding}): {error.reason} at byte {error.start}") from None
    except json.JSONDecodeError as error:
        raise ReportFormatError(f"not valid JSON: {error.msg}", line=error.lineno, column=error.colno) from None


def error_path(loc: tuple[Any, ...]) -> str:
    """``('root', 'SequenceCallStep', 'steps', 2, 'numericMeas')`` → ``root.steps[2].numericMeas``."""
    path = ""
    for key in loc:
        if isinstance(key, int):
            path += f"[{key}]"
        elif key not in _LOC_NOISE and not str(key).startswith("function-"):
            path += f".{key}" if path else str(key)
    return path


def _format_error(error: ValidationError) -> ReportFormatError:
    items = error.errors(include_url=False)
    problems = []
    for item in items:
        message = item["msg"].removeprefix("Value error, ")
        path = error_path(item["loc"])
        problems.append(f"{path}: {message}" if path else message)
    first = items[0]
    return ReportFormatError(
        first["msg"].removeprefix("Value error, "), path=error_path(first["loc"]) or None, problems=problems
    )

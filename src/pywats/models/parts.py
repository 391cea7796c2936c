"""The parts a step or a report is made of: measurements, charts, attachments, loops, property trees."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, field_validator

from ._base import Str20, Str30, Str50, Str100, Str200, Str500, WatsModel
from .enums import ChartType, CompOp, MeasurementStatus


class NumericMeasurement(WatsModel):
    """One numeric measurement. Single-limit operators keep the limit in ``low_limit``."""

    comp_op: CompOp | None = None
    name: Str100 | None = None
    status: MeasurementStatus | None = None
    unit: Str20 | None = None
    value: float | None = None
    low_limit: float | None = None
    high_limit: float | None = None
    value_format: str | None = None
    low_limit_format: str | None = None
    high_limit_format: str | None = None


class StringMeasurement(WatsModel):
    """One string measurement: a value compared with a limit."""

    comp_op: CompOp | None = None
    name: Str100 | None = None
    status: MeasurementStatus | None = None
    value: Str100 | None = None
    limit: Str100 | None = None


class BooleanMeasurement(WatsModel):
    """One pass/fail measurement."""

    name: Str100 | None = None
    status: MeasurementStatus | None = None


def _check_number_list(value: str | None) -> str | None:
    if value:
        for item in value.split(";"):
            try:
                float(item)
            except ValueError:
                raise ValueError(f"chart data must be ';'-separated numbers, found {item!r}") from None
    return value


class ChartSeries(WatsModel):
    """One series of a chart; ``xdata`` and ``ydata`` are ';'-separated numbers."""

    data_type: str | None = "XYG"
    name: Str100 | None = None
    xdata: str | None = None
    ydata: str | None = None

    _check_xdata = field_validator("xdata", "ydata")(_check_number_list)


class Chart(WatsModel):
    """A chart on a step (``WATS_XYGMNLT``)."""

    chart_type: ChartType = ChartType.LINE
    label: Str100 | None = None
    x_label: Str50 | None = None
    x_unit: Str20 | None = None
    y_label: Str50 | None = None
    y_unit: Str20 | None = None
    series: list[ChartSeries] = Field(default_factory=list)


class Attachment(WatsModel):
    """A file carried in the report: base64 ``data`` with a name and a MIME type.

    On UUR ``binaryData`` it also has an ``id``.
    """

    name: Str100 | None = None
    content_type: Str100 | None = None
    data: str | None = None
    id: str | None = None


class SequenceCallInfo(WatsModel):
    """The sequence a ``SequenceCall`` step called."""

    path: Str500 | None = None
    name: Str200 | None = None
    version: Str30 | None = None


class MessagePopupInfo(WatsModel):
    """The operator's answer to a message popup."""

    response: Str200 | None = None
    button: int | None = None


class CallExecutableInfo(WatsModel):
    """The result of a call-executable step."""

    exit_code: float | None = None


class LoopInfo(WatsModel):
    """Loop data of a step that ran in a loop. pyWATS wrote ``i``/``n``; WATS exports ``idx``/``num``."""

    idx: int | None = Field(default=None, validation_alias=AliasChoices("idx", "i"))
    num: int | None = Field(default=None, validation_alias=AliasChoices("num", "n"))
    ending_index: int | None = None
    passed: int | None = None
    failed: int | None = None


class PropertyArray(WatsModel):
    """Array information of a TestStand property."""

    dimension: str | None = None
    type: str | None = None
    indexes: list[Any] | None = None


class Property(WatsModel):
    """One node of a TestStand property tree."""

    name: str | None = None
    type: str | None = None
    flags: int | None = None
    value: Any = None
    num_format: str | None = None
    comment: str | None = None
    props: list[Property] | None = None
    array: PropertyArray | None = None


class AdditionalData(WatsModel):
    """A named property tree (report ``additionalData`` or step ``additionalResults``)."""

    name: Str200 | None = None
    props: list[Property] | None = None


__all__ = [
    "AdditionalData",
    "Attachment",
    "BooleanMeasurement",
    "CallExecutableInfo",
    "Chart",
    "ChartSeries",
    "LoopInfo",
    "MessagePopupInfo",
    "NumericMeasurement",
    "Property",
    "PropertyArray",
    "SequenceCallInfo",
    "StringMeasurement",
]

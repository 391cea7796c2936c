"""Base of the models that WATS API answers are read into, and the ``WatsFilter`` many endpoints take.

Answer models keep every field they do not declare (``extra="allow"``): WATS adds fields over releases, and
an unknown field must reach the caller rather than be dropped or fail the call. Declared fields are all
optional for the same reason; a field WATS leaves out is ``None``. Python names are snake_case, JSON names are
WATS's camelCase (``model.serial_number`` reads ``"serialNumber"``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ..models._base import WatsDateTime


class ApiModel(BaseModel):
    """Base of every API answer model: camelCase on the wire, snake_case in Python, unknown fields kept."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
    )


class WatsFilter(ApiModel):
    """WATS's ``PublicWatsFilter``: the JSON body of the App (statistics and report list) endpoints.

    Which fields an endpoint honours is up to the endpoint (``POST /api/App/UutReport`` uses productGroup,
    level, serialNumber, partNumber, revision, batchNumber, stationName, testOperation, status, miscValue,
    dateFrom, dateTo and topCount). Fields left ``None`` are not sent.

    >>> WatsFilter(part_number="PCBA-100", top_count=50).model_dump(exclude_none=True)
    {'partNumber': 'PCBA-100', 'topCount': 50}
    """

    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    batch_number: str | None = None
    station_name: str | None = None
    test_operation: str | None = None
    status: str | None = None
    yield_: int | None = Field(default=None, alias="yield")
    misc_description: str | None = None
    misc_value: str | None = None
    product_group: str | None = None
    level: str | None = None
    sw_filename: str | None = None
    sw_version: str | None = None
    socket: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    date_grouping: int | None = Field(default=None, ge=-1, le=5)
    period_count: int | None = None
    include_current_period: bool | None = None
    max_count: int | None = None
    min_count: int | None = None
    top_count: int | None = None
    dimensions: str | None = None


def make_filter(filter: WatsFilter | dict[str, Any] | None, fields: dict[str, Any]) -> WatsFilter:
    """A ``WatsFilter`` from a filter object or dict plus keyword fields (the keywords win)."""
    if filter is None:
        base: dict[str, Any] = {}
    elif isinstance(filter, WatsFilter):
        base = filter.model_dump(exclude_none=True, by_alias=False)
    elif isinstance(filter, dict):
        base = dict(filter)
    else:
        raise TypeError(f"filter must be a WatsFilter or a dict, not {type(filter).__name__}")
    return WatsFilter.model_validate({**base, **fields})


__all__ = ["ApiModel", "WatsDateTime", "WatsFilter", "make_filter"]

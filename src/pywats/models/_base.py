"""Shared building blocks of the report models: the base class, bounded strings and WATS date-times.

Every model keeps fields it does not know (``extra="allow"``): a field a newer WATS adds is carried through
a load and a dump instead of being dropped. Python names are snake_case; JSON names are spelled as WATS
spells them (camelCase, with the few irregular ones given explicitly).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel


class WatsModel(BaseModel):
    """Base of every WSJF model."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
        # An edit after building is checked where it is made (free at construction time), so a report
        # model is always valid and need not be re-validated before it is sent.
        validate_assignment=True,
        # JSON has no NaN or infinity; an instrument that overflowed still produced a reading worth keeping.
        ser_json_inf_nan="strings",
        use_enum_values=False,
    )


def bounded(max_length: int) -> Any:
    """A string type with the WATS maximum length (``[StringLength]`` of the WRML schema)."""
    return Annotated[str, StringConstraints(max_length=max_length)]


Str10 = bounded(10)
Str20 = bounded(20)
Str30 = bounded(30)
Str50 = bounded(50)
Str100 = bounded(100)
Str200 = bounded(200)
Str500 = bounded(500)
Str5000 = bounded(5000)
Str100k = bounded(100_000)


def _normalise_datetime(value: Any) -> Any:
    # WATS writes "2020-01-01T08:00:00.Z" (a fraction point with no digits); ISO 8601 parsers refuse it.
    if isinstance(value, str) and value.endswith(".Z"):
        return value[:-2] + "Z"
    return value


WatsDateTime = Annotated[datetime, BeforeValidator(_normalise_datetime)]

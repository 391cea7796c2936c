"""Build OData ``$filter`` expressions without ever pasting a value into query text by hand.

``GET /api/Report/Query/Header`` (and other OData endpoints of WATS) filter with expressions such as
``serialNumber eq '123-45678' and partNumber eq 'XYZ123'``. Gluing such text together from user input breaks
on the first serial number with an apostrophe, and worse, lets a value end its quotes and add conditions of
its own. Here every value goes through :func:`literal`, which writes it as exactly one OData literal:

>>> from pywats.domains.odata import F
>>> str((F.serial_number == "O'Brien-1") & (F.process_code == 100))
"(serialNumber eq 'O''Brien-1') and (processCode eq 100)"
>>> str(F.part_number.startswith("PCBA") | F.part_number.in_(["A", "B"]))
"(startswith(partNumber,'PCBA')) or (partNumber in ('A','B'))"

Rules:

1. A string literal is ``'...'`` with every ``'`` doubled; nothing else can end it.
2. Numbers must be finite; booleans are ``true``/``false``; ``None`` is ``null``; UUIDs and date-times are
   written bare as OData v4 wants (``2024-05-01T08:00:00Z``; a naive date-time is taken as local time).
3. Field names are checked against ``[A-Za-z_][A-Za-z0-9_]*`` (``/`` between navigation steps), so a name
   cannot carry an expression either. ``F.serial_number`` is spelled ``serialNumber``; ``F["SN"]`` is exact.
4. Expressions refuse ``and``/``or``/``not`` and ``if``: Python would silently drop half of
   ``a == 1 and b == 2``. Combine with ``&``, ``|`` and ``~``.

WATS's header query supports ``eq ne gt ge lt le in``, ``and``/``or``/``not`` and the string functions; not
arithmetic or date functions, so none are offered.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from pydantic.alias_generators import to_camel

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*")


def literal(value: Any) -> str:
    """``value`` as one OData literal.

    >>> literal("it's")
    "'it''s'"
    >>> literal(None), literal(True), literal(3), literal(2.5)
    ('null', 'true', '3', '2.5')

    Raises:
        TypeError: a type with no OData literal (lists go through ``Field.in_``).
        ValueError: NaN or infinity.
    """
    if value is None:
        return "null"
    if isinstance(value, Enum):
        return literal(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, Decimal)):
        if not math.isfinite(value):
            raise ValueError(f"OData has no literal for {value!r}")
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        moment = value.astimezone(timezone.utc)  # naive: local time, as Python's astimezone() takes it
        return moment.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no OData literal for a {type(value).__name__}: {value!r}")


def field_name(name: str) -> str:
    """``name`` checked as an OData property path (rule 3). Raises ValueError otherwise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"not an OData field name: {name!r}")
    return name


class Expr:
    """A boolean OData expression; ``str(expr)`` is the ``$filter`` text. Combine with ``&``, ``|``, ``~``."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __and__(self, other: Expr) -> Expr:
        return Expr(f"({self}) and ({_expr(other)})")

    def __or__(self, other: Expr) -> Expr:
        return Expr(f"({self}) or ({_expr(other)})")

    def __invert__(self) -> Expr:
        return Expr(f"not ({self})")

    def __bool__(self) -> bool:
        raise TypeError("combine OData expressions with & | ~, not and / or / not")

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"


def _expr(value: Any) -> Expr:
    if not isinstance(value, Expr):
        raise TypeError(f"expected an OData expression (e.g. F.serial_number == 'x'), not {value!r}")
    return value


class Field:
    """A property in an OData expression. Comparisons with values make :class:`Expr` objects."""

    __slots__ = ("name",)

    def __init__(self, name: str, *, _checked: bool = False) -> None:
        self.name = name if _checked else field_name(name)

    def _compare(self, operator: str, value: Any) -> Expr:
        return Expr(f"{self.name} {operator} {literal(value)}")

    def __eq__(self, value: Any) -> Expr:  # type: ignore[override]
        return self._compare("eq", value)

    def __ne__(self, value: Any) -> Expr:  # type: ignore[override]
        return self._compare("ne", value)

    def __gt__(self, value: Any) -> Expr:
        return self._compare("gt", value)

    def __ge__(self, value: Any) -> Expr:
        return self._compare("ge", value)

    def __lt__(self, value: Any) -> Expr:
        return self._compare("lt", value)

    def __le__(self, value: Any) -> Expr:
        return self._compare("le", value)

    __hash__ = None  # type: ignore[assignment]  # == builds an expression, so fields are not hashable

    def in_(self, values: Iterable[Any]) -> Expr:
        """``name in (v1,v2,...)``."""
        items = [literal(value) for value in values]
        if not items:
            raise ValueError(f"{self.name}.in_() needs at least one value")
        return Expr(f"{self.name} in ({','.join(items)})")

    def contains(self, text: str) -> Expr:
        """``contains(name,'text')``."""
        return Expr(f"contains({self.name},{literal(_text(text))})")

    def startswith(self, text: str) -> Expr:
        """``startswith(name,'text')``."""
        return Expr(f"startswith({self.name},{literal(_text(text))})")

    def endswith(self, text: str) -> Expr:
        """``endswith(name,'text')``."""
        return Expr(f"endswith({self.name},{literal(_text(text))})")

    def lower(self) -> Field:
        """``tolower(name)``, to compare without case: ``F.serial_number.lower() == "abc"``."""
        return Field(f"tolower({self.name})", _checked=True)

    def upper(self) -> Field:
        """``toupper(name)``."""
        return Field(f"toupper({self.name})", _checked=True)

    def asc(self) -> str:
        """``name asc``, for ``orderby``."""
        return f"{self.name} asc"

    def desc(self) -> str:
        """``name desc``, for ``orderby``."""
        return f"{self.name} desc"

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"F[{self.name!r}]"


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"string functions take a str, not {type(value).__name__}")
    return value


class _Fields:
    """``F.serial_number`` → ``serialNumber``; ``F["serialNumber"]`` → exactly that."""

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__"):
            raise AttributeError(name)
        return Field(to_camel(name) if "_" in name else name)

    def __getitem__(self, name: str) -> Field:
        return Field(name)


F = _Fields()


def all_of(*expressions: Expr) -> Expr:
    """All of the expressions (``and``); ``all_of()`` is ``true``."""
    if not expressions:
        return Expr("true")
    result = _expr(expressions[0])
    for expression in expressions[1:]:
        result = result & expression
    return result


def any_of(*expressions: Expr) -> Expr:
    """Any of the expressions (``or``); ``any_of()`` is ``false``."""
    if not expressions:
        return Expr("false")
    result = _expr(expressions[0])
    for expression in expressions[1:]:
        result = result | expression
    return result


def filter_text(filter: Expr | str | None) -> str | None:
    """The ``$filter`` text of an expression. A str is taken as already-written OData, as is."""
    if filter is None or isinstance(filter, str):
        return filter
    return str(_expr(filter))


def name_list(names: str | Field | Iterable[str | Field] | None, *, what: str) -> str | None:
    """``$select`` / ``$expand`` / ``$orderby`` text: a comma-separated list. Each item is a field name
    (snake_case is converted) optionally followed by ``asc``/``desc``; anything else is refused."""
    if names is None:
        return None
    items = [names] if isinstance(names, (str, Field)) else list(names)
    parts = []
    for item in items:
        for piece in str(item).split(","):
            name, _, direction = piece.strip().partition(" ")
            direction = direction.strip().lower()
            if direction not in ("", "asc", "desc") or (direction and what != "orderby"):
                raise ValueError(f"bad {what} item: {piece.strip()!r}")
            name = field_name(to_camel(name) if "_" in name else name)
            parts.append(f"{name} {direction}" if direction else name)
    if not parts:
        raise ValueError(f"{what} is empty")
    return ",".join(parts)


__all__ = ["Expr", "F", "Field", "all_of", "any_of", "field_name", "filter_text", "literal", "name_list"]

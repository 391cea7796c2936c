"""Exceptions raised by pywats.

    WATSError
     └── ReportFormatError (also a ValueError): a report that is malformed or breaks a WATS rule,
                                                 whatever format it came in

Every ``ReportFormatError`` says where the problem is: ``path`` (the field, as WATS spells it, e.g.
``root.steps[2].numericMeas[0].unit``), ``line`` and ``column`` (text formats) or ``element`` (XML).
``problems`` lists every problem found, the first of which is the message.
"""

from __future__ import annotations


class WATSError(Exception):
    """Base of every exception pywats raises on purpose."""


class ReportFormatError(WATSError, ValueError):
    """A report could not be read or does not follow the WATS rules."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        element: str | None = None,
        problems: list[str] | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.element = element
        where = [part for part in (
            f"line {line}" + (f", column {column}" if column else "") if line else None,
            f"element {element}" if element else None,
            path,
        ) if part]  # fmt: skip
        self.problems = problems or [f"{path}: {message}" if path else message]
        text = f"{' / '.join(where)}: {message}" if where else message
        more = len(self.problems) - 1
        super().__init__(text + (f" (and {more} more problem{'s' * (more > 1)})" if more > 0 else ""))

"""The one exception a converter raises for input it cannot turn into reports."""

from __future__ import annotations


class ConversionError(ValueError):
    """The source cannot be converted; the message says why in words a test engineer understands.

    ``line`` (1-based), ``element`` (an XML element path) or ``field`` say where, when the converter knows.
    The service moves the source to the error folder with this message in its ``.error.txt`` sidecar.
    """

    def __init__(
        self, message: str, *, line: int | None = None, element: str | None = None, field: str | None = None
    ) -> None:
        self.reason = message
        self.line = line
        self.element = element
        self.field = field
        where = [f"line {line}" if line is not None else "", element or "", field or ""]
        where_text = ", ".join(part for part in where if part)
        super().__init__(f"{where_text}: {message}" if where_text else message)


class ConverterCrashed(ConversionError):
    """A converter raised something other than :class:`ConversionError` (a bug in it), broke a rule of the
    converter API, or ran out of time; the message says which converter and what happened."""


class ConverterLoadError(Exception):
    """A converter named in the configuration could not be loaded (no such module, class or file, or not a
    converter); the message names what was looked for and what went wrong."""


__all__ = ["ConversionError", "ConverterCrashed", "ConverterLoadError"]

"""WSTF text → lines and cells, and the parsers of a cell's value (numbers, booleans, statuses, dates).

Every parser takes the cell's text, its 1-based line and what it is (for the message), and raises
:class:`pywats.ReportFormatError` with that line when the text is not a value of its kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import NoReturn

from ..._exceptions import ReportFormatError

# Section markers, normalised: lower case, no spaces.
HEADER_START, STEPS_START = "--header-start--", "--step-data-start--"
STEPS_END, UUT_END = "--step-data-end--", "--uut-end--"
MARKER_NAMES = {
    HEADER_START: "--Header-Start--",
    STEPS_START: "--Step-Data-Start--",
    STEPS_END: "--Step-Data-End--",
    UUT_END: "--UUT-End--",
}
_STATUS_WORDS = {"passed": "P", "failed": "F", "done": "D", "skipped": "S", "error": "E", "terminated": "T"}
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def fail(line: int, message: str) -> NoReturn:
    raise ReportFormatError(message, line=line)


# ---------------------------------------------------------------------------------------------- text and lines


def decode(data: str | bytes) -> str:
    """Text as the station wrote it: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"WSTF text must be str or bytes, not {type(data).__name__}")
    data = bytes(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as error:
            last = error
    line = data.count(b"\n", 0, last.start) + 1
    raise ReportFormatError(f"the file is neither UTF-8 nor Windows-1252 text ({last.reason})", line=line)


@dataclass
class Line:
    number: int
    cells: list[str]

    @property
    def blank(self) -> bool:
        return not self.cells

    @property
    def marker(self) -> str | None:
        """The normalised section marker on this line, if it is one (spaces inside are ignored)."""
        if self.cells and self.cells[0].startswith("-"):
            squeezed = "".join(self.cells[0].split()).lower()
            return squeezed if squeezed in MARKER_NAMES else None
        return None


def split_lines(text: str) -> list[Line]:
    # Split only on line breaks: str.splitlines() would also split on form feeds and Unicode separators
    # inside a value and shift every line number after them.
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = []
    for number, line in enumerate(raw, start=1):
        cells = [cell.strip() for cell in line.split("\t")]
        while cells and not cells[-1]:
            cells.pop()  # trailing empty cells carry nothing
        lines.append(Line(number, cells))
    return lines


class Cursor:
    """The lines of the file, read one at a time; blank lines are skipped everywhere."""

    def __init__(self, lines: list[Line]) -> None:
        self._lines = lines
        self._next = 0

    def take(self) -> Line | None:
        while self._next < len(self._lines):
            line = self._lines[self._next]
            self._next += 1
            if not line.blank:
                return line
        return None

    @property
    def last_number(self) -> int:
        return len(self._lines)


# ---------------------------------------------------------------------------------------------- values


def parse_number(text: str, line: int, what: str) -> float:
    # float() also takes "1_000"; a station never means that, so it is refused like any other typo.
    try:
        if "_" in text:
            raise ValueError
        return float(text)
    except ValueError:
        fail(line, f"{what} {text!r} is not a number")


def parse_integer(text: str, line: int, what: str) -> int:
    try:
        if "_" in text:
            raise ValueError
        return int(text)
    except ValueError:
        fail(line, f"{what} {text!r} is not a whole number")


def parse_boolean(text: str, line: int, what: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    fail(line, f"{what} {text!r} is neither TRUE nor FALSE")


def parse_status(text: str, line: int, what: str) -> str | None:
    """A status word (Passed, Failed, Done, Skipped, Error, Terminated) or its letter, as a WSJF letter."""
    if not text:
        return None
    letter = _STATUS_WORDS.get(text.lower())
    if letter is None and text.upper() in _STATUS_WORDS.values():
        letter = text.upper()
    if letter is None:
        fail(line, f"{what} {text!r} is not a status (Passed, Failed, Done, Skipped, Error or Terminated)")
    return letter


_ISO_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}:?\d{2})?", re.I
)
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(AM|PM)?", re.I)


def parse_date(text: str, line: int, what: str) -> datetime:
    """An ISO 8601 or en-US date and time; the offset only when the text has one."""
    try:
        if iso := _ISO_DATE.fullmatch(text):
            year, month, day, hour, minute, second, fraction, offset = iso.groups()
            stamp = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                             int((fraction or "0")[:6].ljust(6, "0")))  # fmt: skip
            return stamp.replace(tzinfo=_offset(offset)) if offset else stamp
        if us := _US_DATE.fullmatch(text):
            month, day, year, hour, minute, second, fraction, half = us.groups()
            hours = int(hour)
            if half:
                if not 1 <= hours <= 12:
                    raise ValueError
                hours = hours % 12 + (12 if half.upper() == "PM" else 0)
            return datetime(int(year), int(month), int(day), hours, int(minute), int(second or 0),
                            int((fraction or "0")[:6].ljust(6, "0")))  # fmt: skip
    except ValueError:
        pass
    fail(line, f"{what} {text!r} is not a date and time (e.g. 2014-07-04T12:09:04)")


def _offset(text: str) -> timezone:
    if text.upper() == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


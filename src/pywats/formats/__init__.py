"""Readers and writers of the WATS report formats: WSJF (JSON), WSXF (XML) and WSTF (text).

Each module has ``loads(text) -> report``; WSJF and WSXF also have ``dumps(report) -> str``. Bad input of any
kind raises :class:`pywats.ReportFormatError`, which names the line, element or field that failed.
"""

from .._exceptions import ReportFormatError
from . import wsjf
from . import wstf
from . import wsxf

__all__ = ["ReportFormatError", "wsjf", "wstf", "wsxf"]

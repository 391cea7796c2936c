"""pywats: a Python client for WATS, the test data management system, and its report formats."""

from ._exceptions import ReportFormatError, WATSError
from .builder import ReportBuilder

__version__ = "0.1.0"

__all__ = ["ReportBuilder", "ReportFormatError", "WATSError", "__version__"]

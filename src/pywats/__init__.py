"""pywats: a Python client for WATS, the test data management system, and its report formats."""

from ._exceptions import ReportFormatError, WATSError

__version__ = "0.1.0"

__all__ = ["ReportFormatError", "WATSError", "__version__"]

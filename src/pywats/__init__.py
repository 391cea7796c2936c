"""pywats: a Python client for WATS, the test data management system, and its report formats."""

from ._base_client import ErrorMode
from ._circuit import CircuitBreaker, CircuitState
from ._client import AsyncWATS, pyWATS
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ProcessNotFoundError,
    RateLimitError,
    ReportFormatError,
    ServerError,
    WATSError,
)
from ._ratelimit import RateLimit, TokenBucket
from ._retry import RetryConfig
from ._station import Station, StationRegistry
from .builder import ReportBuilder
from .domains import F, Process, ReportHeader, WatsFilter

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError", "APIError", "APIResponseValidationError", "APIStatusError", "APITimeoutError",
    "AsyncWATS", "AuthenticationError", "BadRequestError", "CircuitBreaker", "CircuitOpenError", "CircuitState",
    "ConflictError", "ErrorMode", "F", "NotFoundError", "PermissionDeniedError", "Process", "ProcessNotFoundError",
    "RateLimit", "RateLimitError", "ReportBuilder", "ReportFormatError", "ReportHeader", "RetryConfig",
    "ServerError", "Station", "StationRegistry", "TokenBucket", "WATSError", "WatsFilter", "__version__", "pyWATS",
]  # fmt: skip

"""Exceptions raised by pywats.

    WATSError
     ├── ReportFormatError (also a ValueError): a report that is malformed or breaks a WATS rule,
     │                                           whatever format it came in
     ├── APIError: a request to the WATS server failed                          .request
     │    ├── APIConnectionError: no usable answer (refused, reset, DNS, TLS...)
     │    │    └── APITimeoutError: connect, read, write or pool timeout
     │    ├── APIResponseValidationError: a 2xx answer we cannot read          .response .body
     │    └── APIStatusError: the server answered with an error status          .response .status_code .body
     │         ├── BadRequestError        400 (the server's reason is .message)
     │         ├── AuthenticationError    401
     │         ├── PermissionDeniedError  403
     │         ├── NotFoundError          404
     │         ├── ConflictError          409
     │         ├── RateLimitError         429                                  .retry_after
     │         └── ServerError            5xx
     ├── CircuitOpenError: the circuit breaker refused to send                  .retry_after
     └── ProcessNotFoundError (also a LookupError): no process has that name or code

Every ``ReportFormatError`` says where the problem is: ``path`` (the field, as WATS spells it, e.g.
``root.steps[2].numericMeas[0].unit``), ``line`` and ``column`` (text formats) or ``element`` (XML).
``problems`` lists every problem found, the first of which is the message.

API errors are raised after the client's retries are spent: a caller that sees ``ServerError`` knows the server
kept failing, not that it failed once. httpx's own exceptions never escape a client call; they are translated
in one place (``pywats._base_client.translate_transport_errors``) and chained with ``from``, so the original is
still in the traceback. ``CircuitOpenError`` is not an ``APIError`` because no request was sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx is only needed for the annotations; keep the import cheap for format-only users
    import httpx


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


class APIError(WATSError):
    """A request to the WATS server failed. ``request`` is the last one sent (after retries)."""

    def __init__(self, message: str, *, request: httpx.Request) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APIConnectionError(APIError):
    """The server could not be reached or broke the connection: nothing usable came back."""


class APITimeoutError(APIConnectionError):
    """The request timed out (connecting, sending, waiting for the answer, or waiting for a pooled connection)."""


class APIResponseValidationError(APIError):
    """The server said yes (2xx) but its answer is not what this endpoint returns (bad JSON, wrong shape)."""

    def __init__(self, message: str, *, response: httpx.Response, body: Any = None) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.body = body


class APIStatusError(APIError):
    """The server answered with a status that is not a success.

    ``message`` is the server's own explanation when it gave one (WATS puts the validation errors of a refused
    report here), else the status phrase; ``body`` is the decoded JSON answer when there is one, else its text.
    ``str(error)`` adds the method, path and status: ``POST /api/Report/WSJF: 400 Bad Request: <message>``.
    """

    status_code: int

    def __init__(self, message: str, *, response: httpx.Response, body: Any = None) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.body = body

    def __str__(self) -> str:
        phrase = f"{self.status_code} {self.response.reason_phrase}".rstrip()
        detail = "" if self.message in ("", self.response.reason_phrase) else f": {self.message}"
        return f"{self.request.method} {self.request.url.path}: {phrase}{detail}"


class BadRequestError(APIStatusError):
    """400: the server refused the request as invalid; for a report, ``message`` says why."""


class AuthenticationError(APIStatusError):
    """401: the token is missing, wrong or revoked (from WATS 2025.2, also username/password Basic auth)."""


class PermissionDeniedError(APIStatusError):
    """403: the token is valid but its user may not do this."""


class NotFoundError(APIStatusError):
    """404: no such resource (or a wrong base URL). ``ErrorMode.LENIENT`` answers ``None`` for reads instead."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the server's current state."""


class RateLimitError(APIStatusError):
    """429: too many requests. ``retry_after`` is the server's requested wait in seconds, when it gave one."""

    def __init__(
        self, message: str, *, response: httpx.Response, body: Any = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, response=response, body=body)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the server failed. Raised only once the retries are spent."""


class CircuitOpenError(WATSError):
    """The circuit breaker is open: the server failed repeatedly, so this request was not sent.

    ``retry_after`` is how many seconds remain until the breaker lets a probe request through.
    """

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class ProcessNotFoundError(WATSError, LookupError):
    """No process (test or repair operation) has this name or code on the server, even after a refresh."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The most specific exception class for an HTTP error status."""
    if status_code >= 500:
        return ServerError
    return _STATUS_ERRORS.get(status_code, APIStatusError)

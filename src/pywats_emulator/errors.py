"""Error responses in the shape WATS (ASP.NET Web API) uses: ``{"Message": "..."}``.

Handlers raise :class:`ApiError` with a status and a sentence a person can act on; FastAPI's own
errors are reshaped the same way, and a malformed parameter is a 400 (as on WATS), not FastAPI's 422.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse


class ApiError(Exception):
    """An error answered as ``{"Message": message}`` with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"Message": message}, status_code=status, headers=headers)


def _describe_validation(error: RequestValidationError) -> str:
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item.get("loc", ()) if part not in ("query", "path", "body"))
        problems.append(f"{location}: {item.get('msg')}" if location else str(item.get("msg")))
    return "The request is invalid: " + "; ".join(problems)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error answer ``{"Message": ...}``."""

    async def api_error(request: Request, error: Any) -> JSONResponse:
        return error_response(error.status, error.message, error.headers)

    async def http_error(request: Request, error: Any) -> JSONResponse:
        message = error.detail if isinstance(error.detail, str) else str(error.detail)
        if error.status_code == 404 and message == "Not Found":
            message = f"No HTTP resource was found that matches the request URI '{request.url.path}'."
        return error_response(error.status_code, message, getattr(error, "headers", None))

    async def invalid_request(request: Request, error: Any) -> JSONResponse:
        return error_response(400, _describe_validation(error))

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        # A bug in the emulator: say so in the WATS shape. Starlette re-raises the error after this answer,
        # so the server still logs its traceback.
        return error_response(500, f"An error has occurred in the emulator: {type(error).__name__}: {error}")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(Exception, unexpected)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)

"""Every error leaves the server as ``{"error": {"code", "message"}}`` with its status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from medval.core.errors import (
    InvalidInput,
    MedvalError,
    NotAuthenticated,
    NotFound,
    RateLimited,
    TooLarge,
    describe_problems,
)
from medval.core.schemas import ErrorBody, ErrorResponse

log = logging.getLogger("medval.server")

_CODES_BY_STATUS = {
    401: NotAuthenticated.code,
    404: NotFound.code,
    413: TooLarge.code,
    405: "method_not_allowed",
    422: InvalidInput.code,
}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def validation_message(exc: RequestValidationError) -> str:
    """One line: the first problem with where it is, and how many more there are."""
    return describe_problems(list(exc.errors()), default="invalid request")


def install_error_handlers(app: FastAPI) -> None:
    async def on_medval_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, MedvalError)
        headers = None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        return error_response(exc.http_status, exc.code, exc.message, headers)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, InvalidInput.code, validation_message(exc))

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = _CODES_BY_STATUS.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the server's log, never to the caller.
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal_error", "internal server error")

    app.add_exception_handler(MedvalError, on_medval_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)

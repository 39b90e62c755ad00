"""One JSON error shape for every API error: {"ok": false, "error": "...", "status": N}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from newsdesk.errors import NewsdeskError
from newsdesk.store import DB_ERRORS, store_error

LOGGER = logging.getLogger(__name__)

_REASONS = {
    400: "bad request",
    401: "a token is required",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
    422: "invalid request",
    500: "internal error",
    501: "not available",
    503: "store busy, retry",
}


class NotAvailable(NewsdeskError):
    """A library call this build of newsdesk does not have yet."""

    status = 501


class TooLarge(NewsdeskError):
    status = 413


def error_body(message: str, status: int) -> dict[str, Any]:
    """Returns the error object every API error uses."""
    return {"ok": False, "error": message, "status": status}


def wants_html(request: Request) -> bool:
    """Returns whether the error should be a page of the reader rather than JSON."""
    if request.url.path.startswith("/api") or request.url.path.endswith(".json"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_response(
    request: Request, message: str, status: int, retry_after: int | None = None
) -> Response:
    """Returns the error as JSON, or as a reader page for a browser."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if retry_after is not None:
        headers = {"Retry-After": str(retry_after)}
    if wants_html(request):
        templates = getattr(request.app.state, "templates", None)
        if templates is not None:
            return templates.TemplateResponse(
                request, "error.html", {"message": message, "status": status}, status_code=status,
                headers=headers,
            )
        return HTMLResponse(f"<p>{status}</p>", status_code=status, headers=headers)
    return JSONResponse(error_body(message, status), status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path"))
        parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI) -> None:
    """Adds the handlers that turn every exception into the one error shape."""

    @app.exception_handler(NewsdeskError)
    async def _newsdesk(request: Request, exc: NewsdeskError) -> Response:
        return error_response(
            request, str(exc), int(getattr(exc, "status", 500)), getattr(exc, "retry_after", None)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail else None
        message = detail or _REASONS.get(exc.status_code, "error")
        if exc.status_code == 404 and detail == "Not Found":
            message = f"no such page or route: {request.url.path}"
        return error_response(request, message, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, _validation_message(exc), 422)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        if isinstance(exc, DB_ERRORS):  # a store failure outside a transaction
            err = store_error(exc, "store")
            return error_response(request, str(err), err.status, getattr(err, "retry_after", None))
        if isinstance(exc, OverflowError):  # a number or time past what the store can hold
            return error_response(request, "a parameter is out of range", 400)
        LOGGER.exception("unhandled error on %s", request.url.path)
        return error_response(request, "internal error", 500)

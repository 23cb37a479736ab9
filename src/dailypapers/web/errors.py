"""Errors translated at the edge: HTML pages get an HTML error page, ``/api`` gets JSON.

Nothing a visitor types should produce a 500: bad dates and parameters are 400 or 422 with a message
saying what is accepted, unknown papers and pages are 404 with a search box.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response

from dailypapers.errors import DailyPapersError, NotFoundError, SearchError
from dailypapers.web.periods import PeriodError

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    422: "Invalid parameters",
    500: "Something went wrong",
    503: "Not available",
}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _describe(error: dict[str, Any]) -> str:
    location = [str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body")]
    name = ".".join(location) or "request"
    message = str(error.get("msg", "is invalid"))
    return f"{name}: {message}"


def error_response(
    request: Request, status: int, message: str, *, problems: list[str] | None = None
) -> Response:
    if is_api(request):
        body: dict[str, Any] = {"error": message, "status": status}
        if problems:
            body["problems"] = problems
        return JSONResponse(body, status_code=status)
    renderer = getattr(request.app.state, "renderer", None)
    if renderer is None:  # the app failed before it was ready; say so plainly
        return HTMLResponse(f"<!doctype html><title>{status}</title><p>{status}", status_code=status)
    query = request.query_params.get("q", "")
    html = renderer.render(
        "error.html",
        status=status,
        title=TITLES.get(status, "Error"),
        message=message,
        problems=problems or [],
        q=query if isinstance(query, str) else "",
        nav="",
    )
    return HTMLResponse(html, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        if exc.status_code == 404 and message == "Not Found":
            message = f"There is no page at {request.url.path}."
        response = error_response(request, exc.status_code, message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [_describe(e) for e in exc.errors()]
        return error_response(request, 422, "Some parameters are not valid.", problems=problems)

    @app.exception_handler(PeriodError)
    async def period_error(request: Request, exc: PeriodError) -> Response:
        return error_response(request, 400, str(exc))

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return error_response(request, 404, str(exc))

    @app.exception_handler(SearchError)
    async def search_error(request: Request, exc: SearchError) -> Response:
        return error_response(request, 400, str(exc))

    @app.exception_handler(DailyPapersError)
    async def server_state_error(request: Request, exc: DailyPapersError) -> Response:
        log.error("request failed: %s", exc)
        return error_response(request, 503, str(exc).splitlines()[0] if str(exc) else "Not available.")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(request, 500, "The server failed to answer this request.")


__all__ = ["error_response", "install_error_handlers", "is_api"]

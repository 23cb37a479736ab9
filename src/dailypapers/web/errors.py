"""Errors translated at the edge: HTML pages get an HTML error page, ``/api`` gets JSON.

Nothing a visitor types should produce a 500: bad dates and parameters are 400 or 422 with a message
saying what is accepted, unknown papers and pages are 404 with a search box.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from dailypapers.errors import (
    AlreadyDone,
    DailyPapersError,
    InvalidInput,
    LoginFailed,
    NotAllowed,
    NotFoundError,
    SearchError,
    TooManyRequests,
)
from dailypapers.web.auth import CsrfRejected, LoginRequired, login_url
from dailypapers.web.periods import PeriodError, PeriodOutOfRange

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Already done",
    413: "Request too large",
    422: "Invalid parameters",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Not available",
}


class PaperMoved(Exception):
    """A paper id that was merged into another: answered with a redirect to ``location``."""

    def __init__(self, location: str, *, permanent: bool = True, keep_method: bool = True) -> None:
        super().__init__(location)
        self.location = location
        self.status = (308 if keep_method else 301) if permanent else 307


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


_FORMS = {
    "category": "an arXiv category or archive such as cs.CL or cs",
}
"""What a parameter checked against a pattern should look like, in words (patterns are not words)."""


def _characters(n: object) -> str:
    return f"{n} character" if n == 1 else f"{n} characters"


_FIXED: dict[str, str] = {
    kind: message
    for kinds, message in (
        (("missing",), "is required"),
        (("int_parsing", "int_type", "int_from_float"), "must be a whole number"),
        (("float_parsing", "float_type", "finite_number"), "must be a number"),
        (("bool_parsing", "bool_type"), "must be true or false"),
        (("string_type", "string_unicode"), "must be text"),
        (("json_invalid",), "is not valid JSON"),
        (("model_attributes_type", "dict_type", "model_type"), "must be a JSON object"),
        (("list_type", "tuple_type", "set_type"), "must be a list"),
        (("extra_forbidden",), "is not a known field"),
        (("date_parsing", "date_from_datetime_parsing", "date_type"), "must be a date, YYYY-MM-DD"),
    )
    for kind in kinds
}
"""Pydantic error types whose plain words do not depend on the error's context."""

_BOUNDS: dict[str, tuple[str, str, Callable[[object], str]]] = {
    "string_too_long": ("max_length", "is too long: at most", _characters),
    "too_long": ("max_length", "has too many items: at most", str),
    "too_short": ("min_length", "has too few items: at least", str),
    "greater_than_equal": ("ge", "must be at least", str),
    "greater_than": ("gt", "must be more than", str),
    "less_than_equal": ("le", "must be at most", str),
    "less_than": ("lt", "must be less than", str),
}
"""Pydantic error types about a limit: the context key holding it, the words before it, how it is written."""


def _plain(kind: str, ctx: dict[str, Any], value: object, name: str) -> str:
    """A pydantic error type in plain words: what is wrong with the value and what is accepted."""
    if kind in _FIXED:
        return _FIXED[kind]
    if kind in _BOUNDS:
        key, words, written = _BOUNDS[kind]
        return f"{words} {written(ctx.get(key))}"
    if kind == "string_too_short":
        least = ctx.get("min_length")
        return "is empty" if least == 1 and value == "" else f"is too short: at least {_characters(least)}"
    if kind == "string_pattern_mismatch":
        return f"must be {_FORMS[name]}" if name in _FORMS else "is not of the accepted form"
    if kind in {"enum", "literal_error"}:
        return f"must be one of {ctx.get('expected', 'the listed values')}"
    if kind == "value_error" and ctx.get("error"):
        return str(ctx["error"])
    return "is not valid"


def _describe(error: dict[str, Any]) -> str:
    """One validation error in words, ``name: problem``: ``q: is too long: at most 2000 characters``."""
    skipped = ("query", "path", "body", "form", "header", "cookie")
    location = [str(part) for part in error.get("loc", ()) if part not in skipped]
    if error.get("type") == "json_invalid":  # its location is a character offset, not a field
        location = []
    name = ".".join(location)
    message = _plain(str(error.get("type", "")), dict(error.get("ctx") or {}), error.get("input"), name)
    return f"{name or 'request body'}: {message}"


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
    viewer = getattr(request.state, "viewer", None)
    html = renderer.render(
        "error.html",
        viewer=viewer.user if viewer is not None else None,
        status=status,
        title=TITLES.get(status, "Error"),
        message=message,
        problems=problems or [],
        q=query if isinstance(query, str) else "",
        nav="",
    )
    return HTMLResponse(html, status_code=status)


CSRF_MESSAGE = (
    "This form has expired or did not come from this site, so nothing was done. Go back, reload the page "
    "and send the form again. Forms here need the site's cookie: if your browser blocks cookies for this "
    "site, allow them first."
)
BEARER_CHALLENGE = 'Bearer realm="Daily Papers"'


_PLAIN_STATUS: dict[type[Exception], int] = {
    NotAllowed: 403,
    AlreadyDone: 409,
    NotFoundError: 404,
    SearchError: 400,
}
"""Errors answered with their own message and only a status of their kind."""


def _answered_with(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handler(request: Request, exc: Exception) -> Response:
        return error_response(request, status, str(exc))

    return handler


def _install_account_handlers(app: FastAPI) -> None:
    """Signing in, forms from elsewhere and too many tries: redirects and challenges as well as pages."""

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if is_api(request):
            response = error_response(request, 401, "Send an API token: Authorization: Bearer dp_...")
            response.headers["WWW-Authenticate"] = BEARER_CHALLENGE
            return response
        return RedirectResponse(login_url(exc.next_path), status_code=303)

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        return error_response(request, 403, CSRF_MESSAGE)

    @app.exception_handler(LoginFailed)
    async def login_failed(request: Request, exc: LoginFailed) -> Response:
        response = error_response(request, 401, str(exc))
        response.headers["WWW-Authenticate"] = BEARER_CHALLENGE
        return response

    @app.exception_handler(TooManyRequests)
    async def too_many(request: Request, exc: TooManyRequests) -> Response:
        response = error_response(request, 429, str(exc))
        response.headers["Retry-After"] = str(int(exc.retry_after + 0.999))
        return response


def install_error_handlers(app: FastAPI) -> None:
    _install_account_handlers(app)
    for error, status in _PLAIN_STATUS.items():
        app.add_exception_handler(error, _answered_with(status))

    @app.exception_handler(PaperMoved)
    async def paper_moved(request: Request, exc: PaperMoved) -> Response:
        return RedirectResponse(exc.location, status_code=exc.status)

    @app.exception_handler(InvalidInput)
    async def invalid_input(request: Request, exc: InvalidInput) -> Response:
        problems = [f"{field}: {problem}" for field, problem in exc.problems.items()]
        return error_response(request, 422, "Some values are not valid.", problems=problems)

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
        if isinstance(exc, PeriodOutOfRange):
            # A page past the calendar does not exist; to the API it is a parameter out of range.
            return error_response(request, 422 if is_api(request) else 404, str(exc))
        return error_response(request, 400, str(exc))

    @app.exception_handler(DailyPapersError)
    async def server_state_error(request: Request, exc: DailyPapersError) -> Response:
        log.error("request failed: %s", exc)
        return error_response(request, 503, str(exc).splitlines()[0] if str(exc) else "Not available.")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(request, 500, "The server failed to answer this request.")


__all__ = [
    "BEARER_CHALLENGE",
    "CSRF_MESSAGE",
    "PaperMoved",
    "error_response",
    "install_error_handlers",
    "is_api",
]

"""Headers added to every response: security policy, CORS for the API, caching of static files; HEAD.
Also the limit on request bodies.

A plain ASGI middleware (not ``BaseHTTPMiddleware``) so that it costs a few dictionary operations per
response and never buffers a body.

The Content-Security-Policy allows scripts and styles from this origin only: no inline script, no
inline event handler, no inline style, nothing remote. Pages are server-rendered and text from papers
is escaped, so the policy is a second line of defence: even a tag that slipped through could not run.
``frame-ancestors 'none'`` (and ``X-Frame-Options`` for old browsers) forbids framing, against
click-jacking. Generated SVG images get ``default-src 'none'``: an SVG opened directly is a document.

``RequestBodyLimitMiddleware`` refuses a body larger than ``max_request_body_bytes`` with 413 before
it is read: FastAPI reads a JSON or form body in full before any dependency runs, so without it an
anonymous 200 MB post to an endpoint that needs a token is buffered in memory before its 401. A declared
``Content-Length`` over the limit is answered without reading anything; a chunked body is counted as it
arrives and refused as soon as it passes the limit (the error is raised from ``receive`` as an
``HTTPException``, which FastAPI passes on unchanged, so the usual error pages and JSON answer it).
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.web.errors import error_response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
IMAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
STATIC_CACHE = "public, max-age=31536000, immutable"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        is_api = path.startswith("/api/") or path == "/openapi.json"
        if is_api and scope.get("method") == "OPTIONS":
            await self._preflight(send)
            return
        versioned_static = path.startswith("/static/") and b"v=" in scope.get("query_string", b"")
        # HEAD is answered as GET without the body (link checkers and feed readers use it).
        head = scope.get("method") == "HEAD"
        app_scope = {**scope, "method": "GET"} if head else scope

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                content_type = headers.get("content-type", "")
                policy = IMAGE_POLICY if content_type.startswith("image/svg") else CONTENT_SECURITY_POLICY
                headers["Content-Security-Policy"] = policy
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if is_api:
                    # The API is public and read-only: any site may call it from a browser.
                    headers["Access-Control-Allow-Origin"] = "*"
                if versioned_static and message.get("status") == 200:
                    headers["Cache-Control"] = STATIC_CACHE
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(app_scope, receive, send_with_headers)

    @staticmethod
    async def _preflight(send: Send) -> None:
        headers = [
            (b"access-control-allow-origin", b"*"),
            (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
            (b"access-control-allow-headers", b"Accept, Content-Type, If-None-Match"),
            (b"access-control-max-age", b"86400"),
            (b"content-length", b"0"),
        ]
        headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _size(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10} KiB"
    return f"{n:,} bytes"


class BodyTooLarge(HTTPException):
    """A request body over the limit (413); the message names the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {_size(limit)}, the most this site accepts.")


class RequestBodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)  # nothing of the body is read
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            # Read outside a route (where the error handlers answer it) and before any answer began.
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = BodyTooLarge(self.max_bytes)
        response = error_response(Request(scope, receive), error.status_code, error.detail)
        # The unread body stays on the connection: ask the client to open a new one.
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


__all__ = [
    "CONTENT_SECURITY_POLICY",
    "BodyTooLarge",
    "RequestBodyLimitMiddleware",
    "SecurityHeadersMiddleware",
]

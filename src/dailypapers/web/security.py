"""Headers added to every response: security policy, CORS for the API, caching of static files; HEAD.

A plain ASGI middleware (not ``BaseHTTPMiddleware``) so that it costs a few dictionary operations per
response and never buffers a body.

The Content-Security-Policy allows scripts and styles from this origin only: no inline script, no
inline event handler, no inline style, nothing remote. Pages are server-rendered and text from papers
is escaped, so the policy is a second line of defence: even a tag that slipped through could not run.
``frame-ancestors 'none'`` (and ``X-Frame-Options`` for old browsers) forbids framing, against
click-jacking. Generated SVG images get ``default-src 'none'``: an SVG opened directly is a document.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


__all__ = ["CONTENT_SECURITY_POLICY", "SecurityHeadersMiddleware"]

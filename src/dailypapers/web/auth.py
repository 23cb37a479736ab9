"""Who is asking: session cookies, CSRF tokens, bearer tokens, and pages that differ per visitor.

**Sessions.** Logging in sets ``dp_session``: a random token, signed, ``HttpOnly`` (scripts cannot read
it), ``SameSite=Lax`` (other sites' forms and scripts do not carry it on posts) and ``Secure`` when the
site is served over https (the request's scheme or an https ``BASE_URL``). The server keeps a row per
session, so logging out, "log out everywhere", a password change and a ban end sessions for real.

**CSRF.** Every form that changes something carries ``csrf_token``, an HMAC of the session token (or, for
visitors not logged in, of a random ``dp_csrf`` cookie) under the secret key, and a post without the
right one is refused with 403 before anything happens. Logging in replaces the session, so a token
seen before log-in is worthless after it. The API does not look at cookies at all: it takes bearer
tokens only, which a browser never sends by itself, so it needs no CSRF token.

**Caching.** Feed, paper and trending pages are cached for everyone (``cache.py``). A visitor with a
live session gets a fresh rendering instead, with their votes and forms, marked ``private, no-store``:
nothing personal ever enters the shared cache, and nothing from it reaches a signed-in page. Pages with
forms (accounts, community, submitting) are never cached at all (``render_page``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from dailypapers import store
from dailypapers.community.credentials import Credentials, sha256_hex
from dailypapers.config import Settings
from dailypapers.models import User
from dailypapers.web.cache import CachedPage, PageCache, serve_cached
from dailypapers.web.deps import Clock, credentials_of
from dailypapers.web.render import Renderer

SESSION_COOKIE = "dp_session"
CSRF_COOKIE = "dp_csrf"
CSRF_FIELD = "csrf_token"
PERSONAL_CACHE_CONTROL = "private, no-store"
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


class LoginRequired(Exception):
    """The page or form needs a signed-in visitor; the web layer redirects to the log-in page."""

    def __init__(self, next_path: str = "/") -> None:
        self.next_path = next_path
        super().__init__("log in first")


class CsrfRejected(Exception):
    """A form post without a valid CSRF token."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in visitor: their account, and the session token that their CSRF tokens derive from."""

    user: User
    session_token: str
    csrf_token: str

    @property
    def session_id(self) -> str:
        return sha256_hex(self.session_token)


@dataclass(frozen=True, slots=True)
class Personal:
    """What a page needs to show itself to a signed-in visitor."""

    viewer: Viewer

    @property
    def user(self) -> User:
        return self.viewer.user

    def context(self) -> dict[str, Any]:
        return {"viewer": self.viewer.user, "csrf_token": self.viewer.csrf_token}


def is_https(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return request.url.scheme == "https" or settings.base_url.startswith("https://")


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _lookup(request: Request, token: str) -> User | None:
    sessions: sessionmaker[Session] = request.app.state.sessions
    clock: Clock = request.app.state.clock
    now = clock()
    with sessions() as session:
        found = store.signed_in(session, session_id=sha256_hex(token), now=now)
        if found is None:
            return None
        if store.touch_session(session, found=found, now=now):
            session.commit()
        return found.user


async def get_viewer(request: Request) -> Viewer | None:
    """The signed-in visitor, or None. Visitors without a session cookie cost no database query."""
    if hasattr(request.state, "viewer"):
        viewer: Viewer | None = request.state.viewer
        return viewer
    viewer = None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        credentials = credentials_of(request)
        token = credentials.session_token(cookie)
        if token is not None:
            user = await run_in_threadpool(_lookup, request, token)
            if user is not None:
                viewer = Viewer(user=user, session_token=token, csrf_token=credentials.csrf_token(token))
    request.state.viewer = viewer
    return viewer


ViewerDep = Annotated[Viewer | None, Depends(get_viewer)]


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go back to after a form; anything else (another site, ``//host``) gives ``default``."""
    if not value or len(value) > 2000:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(safe_next(next_path), safe="/")


async def require_viewer(request: Request) -> Viewer:
    viewer = await get_viewer(request)
    if viewer is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = request.headers.get("referer", "") or "/"
            target = urlsplit(target).path or "/"
        raise LoginRequired(target)
    return viewer


SignedInDep = Annotated[Viewer, Depends(require_viewer)]


# -- CSRF ----------------------------------------------------------------------------------------------


def anonymous_csrf(request: Request) -> tuple[str, str | None]:
    """The CSRF token for a visitor without a session, and a new ``dp_csrf`` cookie value to set when
    they have none yet."""
    credentials = credentials_of(request)
    base = request.cookies.get(CSRF_COOKIE, "")
    new_cookie = None
    if not (20 <= len(base) <= 100 and base.replace("-", "").replace("_", "").isalnum()):
        base = new_cookie = secrets.token_urlsafe(24)
    return credentials.csrf_token(base), new_cookie


def set_csrf_cookie(request: Request, response: Response, value: str | None) -> None:
    if value:
        response.set_cookie(
            CSRF_COOKIE, value, httponly=True, samesite="lax", secure=is_https(request), path="/"
        )


async def check_csrf(request: Request) -> None:
    """Refuse a form post whose ``csrf_token`` does not match this browser (403, before anything runs)."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    viewer = await get_viewer(request)
    base = viewer.session_token if viewer is not None else request.cookies.get(CSRF_COOKIE)
    if not isinstance(token, str) or not credentials_of(request).csrf_matches(base, token):
        raise CsrfRejected()


async def form_viewer(request: Request) -> Viewer:
    """For forms that need an account: log-in first (a redirect), then the CSRF check."""
    viewer = await require_viewer(request)
    await check_csrf(request)
    return viewer


FormViewerDep = Annotated[Viewer, Depends(form_viewer)]
CsrfChecked = Depends(check_csrf)


def set_session_cookie(
    request: Request, response: Response, credentials: Credentials, token: str, days: int
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        credentials.session_cookie(token),
        max_age=days * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request))


# -- pages that differ per visitor ---------------------------------------------------------------------


async def serve_page(
    request: Request,
    cache: PageCache,
    key: Hashable,
    make: Callable[[Personal | None], CachedPage],
) -> Response:
    """The shared cached page for visitors without a session; a fresh, private one for signed-in ones."""
    viewer = await get_viewer(request)
    if viewer is None:
        return await serve_cached(request, cache, key, lambda: make(None))
    page = await run_in_threadpool(make, Personal(viewer))
    return Response(page.body, media_type=page.media_type, headers={"Cache-Control": PERSONAL_CACHE_CONTROL})


def render_page(
    request: Request,
    renderer: Renderer,
    template: str,
    *,
    viewer: Viewer | None,
    status: int = 200,
    **context: object,
) -> HTMLResponse:
    """A page that is never cached, with the right CSRF token for whoever is looking."""
    new_cookie = None
    if viewer is not None:
        personal = {"viewer": viewer.user, "csrf_token": viewer.csrf_token}
    else:
        token, new_cookie = anonymous_csrf(request)
        personal = {"viewer": None, "csrf_token": token}
    context.setdefault("nav", "")
    context.setdefault("q", "")
    context.setdefault("problems", [])
    html = renderer.render(template, **personal, **context)
    response = HTMLResponse(html, status_code=status, headers=NO_STORE)
    set_csrf_cookie(request, response, new_cookie)
    return response


def message_page(
    request: Request,
    renderer: Renderer,
    heading: str,
    *paragraphs: str,
    viewer: Viewer | None,
    status: int = 200,
    links: list[tuple[str, str]] | None = None,
    action_url: str = "",
    action_label: str = "",
) -> HTMLResponse:
    """A never-cached page that says one thing, with links onward (or one button, for links in mails)."""
    return render_page(
        request,
        renderer,
        "accounts/message.html",
        viewer=viewer,
        status=status,
        heading=heading,
        paragraphs=list(paragraphs),
        links=links if links is not None else [("Today's papers", "/")],
        action_url=action_url,
        action_label=action_label,
    )


__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "NO_STORE",
    "SESSION_COOKIE",
    "CsrfChecked",
    "CsrfRejected",
    "FormViewerDep",
    "LoginRequired",
    "Personal",
    "SignedInDep",
    "Viewer",
    "ViewerDep",
    "anonymous_csrf",
    "check_csrf",
    "clear_session_cookie",
    "client_address",
    "get_viewer",
    "is_https",
    "login_url",
    "message_page",
    "render_page",
    "safe_next",
    "serve_page",
    "set_csrf_cookie",
    "set_session_cookie",
]

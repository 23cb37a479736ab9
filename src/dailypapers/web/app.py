"""``create_app(settings)``: the FastAPI application, its pages, API, feeds and static files.

Nothing is created at import time, and nothing is built lazily inside a request: what the routes use is
made once per app and handed out by the dependencies of ``deps.py``. The engine, session factory, search
service, page cache and arXiv fetcher are built in the lifespan (and closed when it ends), so each test
can build its own app on its own database. The clock is a parameter (``now``) so that tests decide what
"today" is and how old a paper looks to trending.

The signing objects (session cookies, CSRF tokens, links in mails) are made by ``create_app`` itself,
because making them is where a weak ``DAILYPAPERS_SECRET_KEY`` is refused when mail goes out publicly:
``dailypapers serve`` then stops with the CLI's one-line message and exit code before the server
starts, as it does for a weak key on a public address (``signing.check_serving``), rather than with a
lifespan traceback, or, as before, with a failing form at the first sign-up.

API documentation is served from the local copy of Swagger UI that the ``fastapi-offline`` package
ships (only its files are used), with a start-up script of our own, so ``/docs`` works offline and under
the same no-inline-script policy as every other page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from dailypapers import __version__, store
from dailypapers.community.credentials import Credentials
from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory, upgrade_schema
from dailypapers.digest.tokens import Tokens
from dailypapers.search.runtime import make_search_service
from dailypapers.signing import mail_is_public, secret_key
from dailypapers.upstream import PaperFetcher
from dailypapers.web import (
    account_page,
    api,
    api_community,
    api_library,
    community,
    library,
    pages,
    search_page,
    sign_in,
    submit,
    subscriptions,
    syndication,
)
from dailypapers.web.cache import PageCache
from dailypapers.web.errors import install_error_handlers
from dailypapers.web.render import STATIC_DIR, Renderer
from dailypapers.web.searching import index_version
from dailypapers.web.security import RequestBodyLimitMiddleware, SecurityHeadersMiddleware

DESCRIPTION = """\
The JSON API of a Daily Papers server.

`/api/daily_papers` answers like Hugging Face's endpoint of the same name (same parameters, same item
shape), so clients written for it work here. Errors are JSON objects `{"error": "...", "status": N}`.
Every GET endpoint may be called from any origin (CORS).

Reading needs nothing, but for private collections. Upvoting, commenting, submitting papers and changing
your collections need a personal API token, sent as `Authorization: Bearer dp_...`; make one on your
account page (`/account`) or with `dailypapers users token NAME`.
"""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _swagger_dir() -> Path | None:
    try:
        import fastapi_offline
    except ImportError:  # pragma: no cover - a core dependency; /docs says so when it is missing
        return None
    folder = Path(fastapi_offline.__file__).parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").exists() else None


def _lifespan(
    settings: Settings, *, cache_check_seconds: float, cache_pages: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """What the app opens when it starts and closes when it stops: the database, search, the page cache
    and the arXiv client."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine_from_settings(settings)
        upgrade_schema(engine)
        sessions = make_session_factory(engine)

        search = make_search_service(settings, sessions)

        def data_version() -> object:
            # Cached pages change with the feed and, for search and similar papers, with the index.
            with sessions() as session:
                return (store.feed_version(session), index_version(search))

        # arXiv look-ups for submissions and fetches: a few at a time, each within a budget.
        paper_fetcher = PaperFetcher.from_settings(settings)
        app.state.engine = engine
        app.state.sessions = sessions
        app.state.search = search
        app.state.page_cache = PageCache(
            data_version, check_every=cache_check_seconds, max_entries=2048 if cache_pages else 0
        )
        app.state.paper_fetcher = paper_fetcher
        try:
            yield
        finally:
            paper_fetcher.close()
            engine.dispose()

    return lifespan


def _add_routes(app: FastAPI, renderer: Renderer, *, swagger: bool) -> None:
    """The API documentation page and every router, in an order that matters for one path (see below)."""

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(renderer.render("docs.html", nav="docs", q="", swagger=swagger))

    # The community API first: its /api/papers/{id}/comments must be tried before /api/papers/{id}.
    app.include_router(api_community.router)
    app.include_router(api.router)
    app.include_router(syndication.router)
    app.include_router(pages.router)
    app.include_router(search_page.router)
    app.include_router(subscriptions.router)
    app.include_router(sign_in.router)
    app.include_router(account_page.router)
    app.include_router(community.router)
    app.include_router(submit.router)
    app.include_router(library.router)
    app.include_router(api_library.router)


def create_app(
    settings: Settings,
    *,
    now: Callable[[], datetime] = _utcnow,
    cache_check_seconds: float = 2.0,
    cache_pages: bool = True,
) -> FastAPI:
    """The web application for ``settings``.

    ``now`` is the clock (UTC-aware datetimes); ``cache_check_seconds`` is how often cached pages ask
    whether the data changed (0: on every request); ``cache_pages=False`` renders every request anew
    (the benchmark's baseline).
    """

    lifespan = _lifespan(settings, cache_check_seconds=cache_check_seconds, cache_pages=cache_pages)

    app = FastAPI(
        title="Daily Papers",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    # One key signs cookies, CSRF tokens and every link in mails. When mail goes out, people other than
    # the operator depend on it, so secret_key refuses a weak one here, before anything is served.
    signing_key = secret_key(settings, public=mail_is_public(settings))
    app.state.settings = settings
    app.state.clock = now
    app.state.renderer = renderer = Renderer()
    app.state.credentials = Credentials(signing_key)
    app.state.subscription_tokens = Tokens(signing_key)

    # Added first, so it sits inside the security headers: a 413 carries them too.
    app.add_middleware(RequestBodyLimitMiddleware, max_bytes=settings.max_request_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    install_error_handlers(app)

    swagger = _swagger_dir()
    if swagger is not None:
        app.mount("/static/swagger", StaticFiles(directory=swagger), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    _add_routes(app, renderer, swagger=swagger is not None)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` with several workers: settings come from the environment."""
    return create_app(Settings())

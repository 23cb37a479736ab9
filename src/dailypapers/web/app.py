"""``create_app(settings)``: the FastAPI application.

Nothing is created at import time: the engine and session factory are built in the lifespan, so each
test can build its own app on its own database.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from dailypapers import __version__, store
from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory, upgrade_schema


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine_from_settings(settings)
        upgrade_schema(engine)
        app.state.engine = engine
        app.state.sessions = make_session_factory(engine)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(title="Daily Papers", version=__version__, lifespan=lifespan)
    app.state.settings = settings

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> str:
        with request.app.state.sessions() as session:
            papers = store.latest_papers(session, limit=30)
            total = store.count_papers(session)
        items = "\n".join(
            f"<li><strong>{html.escape(p.title)}</strong> <small>{html.escape(p.id)}</small></li>"
            for p in papers
        )
        return (
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Daily Papers</title></head>"
            f"<body><main><h1>Daily Papers</h1><p>{total:,} papers.</p><ol>{items}</ol></main></body></html>"
        )

    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` with several workers: settings come from the environment."""
    return create_app(Settings())

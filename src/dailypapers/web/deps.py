"""FastAPI dependencies, named with ``Annotated`` so that routes read ``session: SessionDep``.

Everything comes from ``app.state``, which ``create_app`` fills once per app: the settings, clock,
renderer and signing objects when the app is made, the engine, sessions, search service, page cache and
paper fetcher in its lifespan. Nothing is built on first use inside a request, and there is no
module-level engine, so each test builds its own app on its own database. The dependencies that only
read ``app.state`` are ``async``: FastAPI runs plain functions in a worker thread, a hop that costs more
than the lookup itself on the pages served from cache. Helpers that are handed only the request (the
viewer and CSRF checks in ``auth.py``) read the signing objects with ``credentials_of`` and
``subscription_tokens_of``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.community.credentials import Credentials
from dailypapers.config import Settings
from dailypapers.digest.tokens import Tokens
from dailypapers.search.service import SearchService
from dailypapers.upstream import PaperFetcher
from dailypapers.web.cache import PageCache
from dailypapers.web.render import Renderer

Clock = Callable[[], datetime]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_sessions(request: Request) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    return sessions


def get_session(request: Request) -> Iterator[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
        yield session


async def get_search(request: Request) -> SearchService:
    search: SearchService = request.app.state.search
    return search


async def get_renderer(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer


async def get_page_cache(request: Request) -> PageCache:
    cache: PageCache = request.app.state.page_cache
    return cache


async def get_paper_fetcher(request: Request) -> PaperFetcher:
    fetcher: PaperFetcher = request.app.state.paper_fetcher
    return fetcher


def credentials_of(request: Request) -> Credentials:
    """The app's signer of session cookies, CSRF tokens and account links (one key for the app's life)."""
    credentials: Credentials = request.app.state.credentials
    return credentials


async def get_credentials(request: Request) -> Credentials:
    return credentials_of(request)


def subscription_tokens_of(request: Request) -> Tokens:
    """The app's signer of digest subscription links (confirm, manage, unsubscribe)."""
    tokens: Tokens = request.app.state.subscription_tokens
    return tokens


async def get_subscription_tokens(request: Request) -> Tokens:
    return subscription_tokens_of(request)


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
SearchDep = Annotated[SearchService, Depends(get_search)]
RendererDep = Annotated[Renderer, Depends(get_renderer)]
PageCacheDep = Annotated[PageCache, Depends(get_page_cache)]
PaperFetcherDep = Annotated[PaperFetcher, Depends(get_paper_fetcher)]
ClockDep = Annotated[Clock, Depends(get_clock)]
CredentialsDep = Annotated[Credentials, Depends(get_credentials)]
SubscriptionTokensDep = Annotated[Tokens, Depends(get_subscription_tokens)]
NowDep = Annotated[datetime, Depends(get_now)]

__all__ = [
    "Clock",
    "ClockDep",
    "CredentialsDep",
    "NowDep",
    "PageCacheDep",
    "PaperFetcherDep",
    "RendererDep",
    "SearchDep",
    "SessionDep",
    "SessionsDep",
    "SettingsDep",
    "SubscriptionTokensDep",
    "credentials_of",
    "subscription_tokens_of",
]

"""FastAPI dependencies, named with ``Annotated`` so that routes read ``session: SessionDep``.

Everything comes from ``app.state``, which ``create_app`` fills in its lifespan: no module-level engine,
so each test builds its own app on its own database. The dependencies that only read ``app.state`` are
``async``: FastAPI runs plain functions in a worker thread, a hop that costs more than the lookup itself
on the pages served from cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
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
NowDep = Annotated[datetime, Depends(get_now)]

__all__ = [
    "Clock",
    "ClockDep",
    "NowDep",
    "PageCacheDep",
    "PaperFetcherDep",
    "RendererDep",
    "SearchDep",
    "SessionDep",
    "SessionsDep",
    "SettingsDep",
]

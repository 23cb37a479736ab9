"""The JSON API under ``/api``, documented at ``/docs``.

``/api/daily_papers`` takes Hugging Face's parameters (``date``, ``week``, ``month``, ``p``, ``limit``,
``sort``) and answers in its shape (see ``schemas.py``), so existing clients of that endpoint work
against a Daily Papers server. The other endpoints are this server's own.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.responses import Response

from dailypapers import store, trending
from dailypapers.search.service import Mode
from dailypapers.serialize import paper_to_bibtex
from dailypapers.store.feeds import FeedOrder, PaperCard
from dailypapers.web.cache import CachedPage, make_page, serve_cached
from dailypapers.web.common import CategoryQuery, PaperIdPath, canonical_id, card_score
from dailypapers.web.deps import NowDep, PageCacheDep, SearchDep, SessionDep, SessionsDep
from dailypapers.web.errors import PaperMoved
from dailypapers.web.periods import FeedPeriod, PeriodError, PeriodKind, parse_period
from dailypapers.web.render import paper_path
from dailypapers.web.schemas import (
    DailyPaper,
    ErrorResponse,
    PaperDetail,
    SearchHit,
    SearchResponse,
    SimilarResponse,
    daily_paper,
    hf_paper,
    hf_time,
    paper_links,
    thumbnail_path,
    trending_model,
    versions_model,
)
from dailypapers.web.searching import NO_INDEX_MESSAGE, open_index, run_search

router = APIRouter(prefix="/api", tags=["api"])

# The whole feed, for requests without a period (``date`` is a parameter name in this module).
_EARLIEST = dt.date(1, 1, 1)
_LATEST = dt.date(9999, 12, 31)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "A parameter cannot be read; the message says what is."},
    422: {"model": ErrorResponse, "description": "A parameter is out of range or of the wrong type."},
}
JSON = "application/json"


class DailySort(StrEnum):
    upvotes = "upvotes"
    date = "date"
    publishedAt = "publishedAt"
    trending = "trending"


def _json(value: object) -> bytes:
    return orjson.dumps(value)


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _with_query(request: Request, path: str) -> str:
    query = request.url.query
    return f"{path}?{query}" if query else path


def _redirect_if_merged(request: Request, session: Session, paper_id: str, suffix: str) -> None:
    """Send a request for a merged id on to the paper it became (308: the method and query are kept)."""
    target = store.paper_alias_target(session, paper_id=paper_id)
    if target is not None:
        location = _with_query(request, f"/api/papers/{quote(target, safe='/')}{suffix}")
        raise PaperMoved(location, permanent=True)


def _period(date: str | None, week: str | None, month: str | None) -> FeedPeriod | None:
    given = [
        (kind, value)
        for kind, value in ((PeriodKind.day, date), (PeriodKind.week, week), (PeriodKind.month, month))
        if value
    ]
    if len(given) > 1:
        raise PeriodError("give one of date (YYYY-MM-DD), week (YYYY-Www) or month (YYYY-MM), not several")
    return parse_period(*given[0]) if given else None


@router.get(
    "/daily_papers",
    response_model=list[DailyPaper],
    response_model_exclude_none=True,
    responses=ERRORS,
    summary="Papers of the daily feed (Hugging Face compatible)",
)
def daily_papers(
    request: Request,
    session: SessionDep,
    now: NowDep,
    date: Annotated[str | None, Query(description="a day, YYYY-MM-DD; not with week or month")] = None,
    week: Annotated[str | None, Query(description="an ISO week, YYYY-Www; not with date or month")] = None,
    month: Annotated[str | None, Query(description="a month, YYYY-MM; not with date or week")] = None,
    sort: Annotated[
        DailySort | None,
        Query(
            description="upvotes, date (= publishedAt) or trending; default upvotes for a period, else date"
        ),
    ] = None,
    p: Annotated[int, Query(ge=0, le=10_000, description="page, from 0")] = 0,
    limit: Annotated[int, Query(ge=1, le=100, description="papers per page")] = 50,
    category: CategoryQuery = None,
) -> Response:
    """The feed for a day, week or month, or the whole feed newest first when no period is given.

    `date`, `week` and `month` exclude each other: give at most one of them (several answer 400).
    A period after 9999-12-26, whose week or month would run past the calendar, answers 422.
    """
    period = _period(date, week, month)
    start, end = (period.start, period.end) if period else (_EARLIEST, _LATEST)
    order = sort or (DailySort.upvotes if period else DailySort.date)
    base_url = str(request.base_url)
    if order is DailySort.trending:
        ranked = trending.trending_list(
            session,
            now=now,
            start=period.start if period else None,
            end=period.end if period else None,
            category=category or None,
            limit=limit,
            offset=p * limit,
            abstract_chars=None,
        )
        cards = [card for card, _ in ranked]
    else:
        feed_order = FeedOrder.upvotes if order is DailySort.upvotes else FeedOrder.date
        cards = store.feed_cards(
            session,
            start=start,
            end=end,
            order=feed_order,
            category=category or None,
            limit=limit,
            offset=p * limit,
            abstract_chars=None,
        )
    return Response(_json([_dump(daily_paper(c, base_url=base_url)) for c in cards]), media_type=JSON)


def _hits(
    cards: list[PaperCard], scores: dict[str, tuple[float, dict[str, float]]], base_url: str
) -> list[SearchHit]:
    base = base_url.rstrip("/")
    hits = []
    for card in cards:
        score, signals = scores.get(card.id, (0.0, {}))
        paper = hf_paper(card)
        hits.append(
            SearchHit(
                paper=paper,
                title=card.title,
                summary=card.abstract,
                publishedAt=paper.publishedAt,
                thumbnail=base + thumbnail_path(card.id),
                numComments=card.num_comments,
                score=round(score, 6),
                signals={k: round(v, 6) for k, v in signals.items()},
                url=base + paper_path(card.id),
            )
        )
    return hits


@router.get(
    "/papers/search",
    response_model=SearchResponse,
    response_model_exclude_none=True,
    responses={**ERRORS, 503: {"model": ErrorResponse, "description": "There is no search index yet."}},
    summary="Search papers",
)
async def search_papers(
    request: Request,
    sessions: SessionsDep,
    search: SearchDep,
    cache: PageCacheDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=2000,
            description='words, "phrases", author:NAME, cat:cs.CL, since:YYYY[-MM[-DD]], until:...',
        ),
    ],
    mode: Annotated[Mode, Query(description="hybrid, bm25 (keywords) or dense (semantic)")] = Mode.hybrid,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    p: Annotated[int, Query(ge=0, le=500, description="page, from 0")] = 0,
) -> Response:
    """Rank papers for a query; results are items like the daily feed's, with their scores."""
    base_url = str(request.base_url)
    # The cache is emptied when the index changes (its version is part of the data version).
    key = ("api-search", q, mode.value, limit, p, base_url)

    def make() -> CachedPage:
        outcome = run_search(search, q, k=limit, offset=p * limit, mode=mode)
        if outcome.unavailable:
            raise HTTPException(503 if outcome.index_version is None else 400, outcome.unavailable)
        with sessions() as session:
            cards = store.paper_cards(session, ids=outcome.hits, abstract_chars=None)
        scores = {h.id: (h.score, h.signals) for h in outcome.results.hits} if outcome.results else {}
        body = SearchResponse(
            query=q,
            mode=outcome.mode.value,
            total=outcome.total,
            page=p,
            limit=limit,
            notices=outcome.notices,
            results=_hits(cards, scores, base_url),
        )
        return make_page(_json(_dump(body)), media_type=JSON, cache_control="public, max-age=60")

    return await serve_cached(request, cache, key, make)


@router.get(
    "/papers/{paper_id:path}/similar",
    response_model=SimilarResponse,
    response_model_exclude_none=True,
    responses={404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
    summary="Papers similar to a paper",
)
def similar_papers(
    request: Request,
    paper_id: PaperIdPath,
    session: SessionDep,
    search: SearchDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    canonical = canonical_id(paper_id)
    if canonical is not None:
        return RedirectResponse(_with_query(request, f"/api/papers/{canonical}/similar"), status_code=307)
    if not store.paper_exists(session, paper_id=paper_id):
        _redirect_if_merged(request, session, paper_id, "/similar")
        raise HTTPException(404, f"There is no paper {paper_id!r} here.")
    version, problem = open_index(search)
    if version is None:
        raise HTTPException(503, problem or NO_INDEX_MESSAGE)
    index = search.holder.get()
    if index is not None and index.position(paper_id) is None:
        # Papers are indexed after they arrive (by `dailypapers index` or after an ingest): not an error.
        notice = f"Paper {paper_id!r} is not in the search index yet, so no similar papers are known for it."
        body = SimilarResponse(id=paper_id, results=[], notices=[notice])
        return Response(_json(_dump(body)), media_type=JSON)
    try:
        found = search.similar(paper_id, k=limit)
    except Exception as exc:
        raise HTTPException(503, f"Similar papers are not available for {paper_id!r} yet: {exc}") from None
    cards = store.paper_cards(session, ids=[h.id for h in found.hits], abstract_chars=None)
    scores = {h.id: (h.score, h.signals) for h in found.hits}
    body = SimilarResponse(id=paper_id, results=_hits(cards, scores, str(request.base_url)))
    return Response(_json(_dump(body)), media_type=JSON)


@router.get(
    "/papers/{paper_id:path}",
    response_model=PaperDetail,
    response_model_exclude_none=True,
    responses={404: {"model": ErrorResponse}},
    summary="One paper",
)
def paper_detail(request: Request, paper_id: PaperIdPath, session: SessionDep, now: NowDep) -> Response:
    """A paper in the Hugging Face shape, with its categories, versions, links, BibTeX and trending score."""
    canonical = canonical_id(paper_id)
    if canonical is not None:
        return RedirectResponse(f"/api/papers/{canonical}", status_code=307)
    paper = store.get_paper(session, paper_id=paper_id)
    if paper is None:
        _redirect_if_merged(request, session, paper_id, "")
        raise HTTPException(404, f"There is no paper {paper_id!r} here.")
    card = store.paper_cards(session, ids=[paper_id], abstract_chars=None)[0]
    base = str(request.base_url).rstrip("/")
    detail = PaperDetail(
        **hf_paper(card).model_dump(by_alias=True),
        numComments=card.num_comments,
        arxivId=paper.arxiv_id,
        version=paper.version,
        versions=versions_model(list(paper.versions or [])),
        updatedAt=hf_time(paper.updated_at),
        categories=list(paper.categories or []),
        primaryCategory=paper.primary_category,
        comments=paper.comments,
        journalRef=paper.journal_ref,
        doi=paper.doi,
        license=paper.license,
        links=paper_links(
            page=base + paper_path(paper.id),
            arxiv_id=paper.arxiv_id,
            doi=paper.doi,
            code=list(paper.code_urls or []),
            project=paper.project_url,
        ),
        bibtex=paper_to_bibtex(paper),
        trending=trending_model(card_score(card, now) if card.day else None),
    )
    return Response(_json(_dump(detail)), media_type=JSON)


__all__ = ["router"]

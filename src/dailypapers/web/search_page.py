"""The search page: the query box, its filters and the ranked results.

A query that names one known paper (an arXiv id or link, or this site's own id) goes straight to that
paper's page; an arXiv id the site does not hold yet gets a link to fetch it (for people signed in) and
one to arXiv. Above the results the page says what was found: whose papers come first when the query
names someone, or "No exact matches; N related papers" when nothing holds the query's words and every
result was found by meaning. Result pages are cached like the feeds; the cache is emptied when the
index changes.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from dailypapers import store
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.search.service import Mode, SearchService
from dailypapers.web.auth import Personal, serve_page
from dailypapers.web.cache import CachedPage
from dailypapers.web.common import SINGLE_SLASH_SCHEME, CategoryQuery, html_page
from dailypapers.web.deps import PageCacheDep, RendererDep, SearchDep, SessionsDep
from dailypapers.web.highlight import highlight, query_terms, snippet
from dailypapers.web.periods import PeriodError, parse_day
from dailypapers.web.render import Renderer, paper_path
from dailypapers.web.searching import run_search

router = APIRouter(include_in_schema=False)

SEARCH_PAGE_SIZE = 20


def optional_date(value: str | None, name: str) -> date | None:
    """A date parameter where an empty value (an empty ``<input type=date>``) means none."""
    if value is None or not value.strip():
        return None
    try:
        return parse_day(value)
    except PeriodError as exc:
        raise PeriodError(f"{name}: {exc}") from None


def exact_paper(sessions: sessionmaker[Session], q: str) -> str | None:
    """The paper a query names on its own (an arXiv id or URL, or one of this site's ids), if known."""
    text = q.strip()
    if not text or " " in text:
        return None
    parsed = parse_arxiv_id(SINGLE_SLASH_SCHEME.sub(r"\1://", text))
    candidate = parsed.id if parsed else text
    with sessions() as session:
        return candidate if store.paper_exists(session, paper_id=candidate) else None


def _found(
    sessions: sessionmaker[Session],
    search: SearchService,
    *,
    q: str,
    mode: Mode,
    category: str | None,
    since: date | None,
    until: date | None,
    page: int,
) -> dict[str, Any]:
    """What the search page shows of a search that was asked for: the cards, the counts and the notices."""
    outcome = run_search(
        search,
        q,
        k=SEARCH_PAGE_SIZE,
        offset=(page - 1) * SEARCH_PAGE_SIZE,
        mode=mode,
        since=since,
        until=until,
        categories=[category] if category else [],
    )
    terms = query_terms(outcome.query)
    with sessions() as session:
        cards = store.paper_cards(session, ids=outcome.hits, abstract_chars=None)
        known = {c.id for c in cards} | set(outcome.results.exact if outcome.results else [])
        missing = [i for i in outcome.query.arxiv_ids if i not in known]
    pages = max(1, math.ceil(outcome.total / SEARCH_PAGE_SIZE))
    if page > pages and outcome.total:
        raise HTTPException(404, f"Page {page} is past the last page ({pages}) of these results.")
    results = outcome.results
    scores = {h.id: h.score for h in results.hits} if results else {}
    return dict(
        searched=True,
        missing_ids=missing,
        results=[
            {
                "card": card,
                "title": highlight(card.title, terms),
                "snippet": snippet(card.abstract, terms),
                "score": scores.get(card.id, 0.0),
            }
            for card in cards
        ],
        total=outcome.total,
        pages=pages,
        notices=outcome.page_notices,
        unavailable=outcome.unavailable,
        used_mode=outcome.mode.value,
        author=results.author if results else None,
        author_total=results.author_total if results else 0,
        related_only=results.related_only if results else False,
        only_ids=outcome.query.is_only_ids and not (category or since or until),
    )


def _search_page(
    renderer: Renderer,
    sessions: sessionmaker[Session],
    search: SearchService,
    *,
    q: str,
    mode: Mode,
    category: str | None,
    since: date | None,
    until: date | None,
    page: int,
    personal: Personal | None = None,
) -> CachedPage:
    context: dict[str, Any] = {
        **(personal.context() if personal else {}),
        "nav": "search",
        "q": q,
        "mode": mode.value,
        "category": category or "",
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
        "page": page,
        "page_size": SEARCH_PAGE_SIZE,
        "results": [],
        "total": 0,
        "pages": 1,
        "notices": [],
        "unavailable": None,
        "searched": False,
        "used_mode": mode.value,
        "missing_ids": [],
        "signed_in": personal is not None,
        "author": None,
        "author_total": 0,
        "related_only": False,
        "only_ids": False,
    }
    if q.strip() or category or since or until:
        context.update(
            _found(sessions, search, q=q, mode=mode, category=category, since=since, until=until, page=page)
        )
    return html_page(renderer.render("search.html", **context))


@router.get("/search")
async def search_page(
    request: Request,
    renderer: RendererDep,
    sessions: SessionsDep,
    search: SearchDep,
    cache: PageCacheDep,
    q: Annotated[str, Query(max_length=2000, description="the query; see /about for its syntax")] = "",
    mode: Annotated[Mode, Query(description="hybrid, bm25 (keywords) or dense (semantic)")] = Mode.hybrid,
    category: CategoryQuery = None,
    since: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    page: Annotated[int, Query(ge=1, le=500)] = 1,
) -> Response:
    since_day, until_day = optional_date(since, "since"), optional_date(until, "until")
    category = category or None
    exact = await run_in_threadpool(exact_paper, sessions, q)
    if exact is not None:
        return RedirectResponse(paper_path(exact), status_code=303)
    key = ("search", q, mode.value, category, since_day, until_day, page)
    return await serve_page(
        request,
        cache,
        key,
        lambda personal: _search_page(
            renderer,
            sessions,
            search,
            q=q,
            mode=mode,
            category=category,
            since=since_day,
            until=until_day,
            page=page,
            personal=personal,
        ),
    )


__all__ = ["SEARCH_PAGE_SIZE", "exact_paper", "optional_date", "router"]

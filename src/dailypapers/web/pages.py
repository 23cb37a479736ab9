"""The HTML pages: feeds (day, week, month), trending, a paper, about (search is in ``search_page.py``).

Feed, trending, paper and about pages are rendered once and cached as bytes (see ``cache.py``); their
cache keys hold every parameter that changes the page, including "today" for the home page and the
ten-minute slot of the clock for pages that show trending scores, which decay with time. Visitors with
a session get the same pages rendered for them, with their votes and forms, outside the cache
(``auth.serve_page``).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import Response

from dailypapers import store, trending
from dailypapers.community.discussion import build_threads, count_shown, thread_page
from dailypapers.models import Paper
from dailypapers.search.service import SearchService
from dailypapers.serialize import external_links, paper_to_bibtex
from dailypapers.store.community import Counts
from dailypapers.store.feeds import FeedOrder, PaperCard
from dailypapers.web.auth import Personal, serve_page
from dailypapers.web.cache import CachedPage, PageCache
from dailypapers.web.common import (
    CategoryQuery,
    PageQuery,
    SortQuery,
    canonical_id,
    clock_slot,
    html_page,
    trending_cards,
)
from dailypapers.web.deps import (
    NowDep,
    PageCacheDep,
    RendererDep,
    SearchDep,
    SessionsDep,
)
from dailypapers.web.errors import PaperMoved
from dailypapers.web.images import avatar_svg, thumbnail_svg
from dailypapers.web.periods import FeedPeriod, PeriodKind, parse_period
from dailypapers.web.render import Renderer, hf_discussion_url, is_http_url, paper_path, short_authors

router = APIRouter(include_in_schema=False)

FEED_PAGE_SIZE = 50
TRENDING_SHOWN = 50
SIMILAR_SHOWN = 6
# Lists of papers come as cards (thumbnail and abstract) or compact (a line or two each). A link with
# ?view= chooses (no script needed) and the choice is kept in a cookie; app.js switches in place.
CARD_VIEWS = ("cards", "compact")
VIEW_COOKIE = "card_view"
VIEW_COOKIE_AGE = 365 * 24 * 3600


def card_view(request: Request) -> tuple[str, bool]:
    """The card view for this request, and whether the request chose it (then it is remembered)."""
    asked = request.query_params.get("view")
    if asked in CARD_VIEWS:
        return asked, True
    kept = request.cookies.get(VIEW_COOKIE)
    return (kept if kept in CARD_VIEWS else CARD_VIEWS[0]), False


def remember_view(response: Response, view: str, chosen: bool) -> Response:
    if chosen:
        response.set_cookie(VIEW_COOKIE, view, max_age=VIEW_COOKIE_AGE, path="/", samesite="lax")
    return response


def _personal_context(
    sessions: sessionmaker[Session], personal: Personal | None, cards: list[PaperCard]
) -> dict[str, Any]:
    """The viewer, their CSRF token and which of ``cards`` they upvoted and saved (nothing for anonymous
    pages)."""
    if personal is None:
        return {"voted": set(), "saved": set()}
    ids = [c.id for c in cards]
    with sessions() as session:
        voted = store.voted_ids(session, user_id=personal.user.id, paper_ids=ids)
        saved = store.saved_ids(session, owner_id=personal.user.id, paper_ids=ids)
    return {"voted": voted, "saved": saved, **personal.context()}


# --------------------------------------------------------------------------------------------------
# Feeds
# --------------------------------------------------------------------------------------------------


def _feed_context(
    sessions: sessionmaker[Session],
    *,
    kind: PeriodKind,
    period: FeedPeriod | None,
    today: date,
    sort: FeedOrder,
    category: str | None,
    page: int,
) -> dict[str, Any]:
    with sessions() as session:
        if period is None:
            day = store.newest_feed_day(session, on_or_before=today, category=category)
            day = day or store.newest_feed_day(session, category=category)
            if day is None:
                return {"period": None, "cards": [], "total": 0}
            period = FeedPeriod.containing(kind, day)
        offset = (page - 1) * FEED_PAGE_SIZE
        cards = store.feed_cards(
            session,
            start=period.start,
            end=period.end,
            order=sort,
            category=category,
            limit=FEED_PAGE_SIZE,
            offset=offset,
        )
        total = store.count_feed(session, start=period.start, end=period.end, category=category)
        before, after = store.feed_neighbours(session, start=period.start, end=period.end, category=category)
        categories = store.feed_categories(session, start=period.start, end=period.end)
        # The day/week/month tabs lead to the newest day with papers in the period shown.
        anchor = store.newest_feed_day(session, on_or_before=period.end, category=category)
    if anchor is None or anchor < period.start:
        anchor = period.start
    return {
        "anchor": anchor,
        "period": period,
        "cards": cards,
        "total": total,
        "rank_offset": offset,
        "previous": FeedPeriod.containing(kind, before) if before else None,
        "next": FeedPeriod.containing(kind, after) if after else None,
        "categories": categories,
    }


def _render_feed(
    renderer: Renderer,
    sessions: sessionmaker[Session],
    *,
    kind: PeriodKind,
    period: FeedPeriod | None,
    today: date,
    sort: FeedOrder,
    category: str | None,
    page: int,
    home: bool,
    view: str = CARD_VIEWS[0],
    personal: Personal | None = None,
) -> CachedPage:
    context = _feed_context(
        sessions, kind=kind, period=period, today=today, sort=sort, category=category, page=page
    )
    context.update(_personal_context(sessions, personal, context["cards"]))
    shown = context["period"]
    pages = max(1, math.ceil(context["total"] / FEED_PAGE_SIZE))
    if page > pages:
        raise HTTPException(404, f"Page {page} is past the last page ({pages}) of these papers.")
    base_path = "/" if home or shown is None else shown.path
    body = renderer.render(
        "feed.html",
        nav="feed",
        q="",
        home=home,
        kind=kind,
        sort=sort.value,
        category=category or "",
        page=page,
        pages=pages,
        base_path=base_path,
        view=view,
        params={"sort": None if sort is FeedOrder.upvotes else sort.value, "category": category},
        kinds=[
            (k, FeedPeriod.containing(k, context["anchor"]) if shown else None)
            for k in (PeriodKind.day, PeriodKind.week, PeriodKind.month)
        ],
        **context,
    )
    return html_page(body)


async def _feed(
    request: Request,
    renderer: Renderer,
    sessions: sessionmaker[Session],
    cache: PageCache,
    *,
    kind: PeriodKind,
    period: FeedPeriod | None,
    now: datetime,
    sort: FeedOrder,
    category: str | None,
    page: int,
) -> Response:
    category = category or None
    today = now.date()
    home = period is None
    view, chosen = card_view(request)
    key = ("feed", kind.value, period.slug if period else f"home:{today}", sort.value, category, page, view)
    response = await serve_page(
        request,
        cache,
        key,
        lambda personal: _render_feed(
            renderer,
            sessions,
            kind=kind,
            period=period,
            today=today,
            sort=sort,
            category=category,
            page=page,
            home=home,
            view=view,
            personal=personal,
        ),
    )
    return remember_view(response, view, chosen)


@router.get("/")
async def home(
    request: Request,
    renderer: RendererDep,
    sessions: SessionsDep,
    cache: PageCacheDep,
    now: NowDep,
    sort: SortQuery = FeedOrder.upvotes,
    category: CategoryQuery = None,
    page: PageQuery = 1,
) -> Response:
    return await _feed(
        request,
        renderer,
        sessions,
        cache,
        kind=PeriodKind.day,
        period=None,
        now=now,
        sort=sort,
        category=category,
        page=page,
    )


def _period_route(kind: PeriodKind, path: str) -> None:
    async def period_page(
        request: Request,
        slug: str,
        renderer: RendererDep,
        sessions: SessionsDep,
        cache: PageCacheDep,
        now: NowDep,
        sort: SortQuery = FeedOrder.upvotes,
        category: CategoryQuery = None,
        page: PageQuery = 1,
    ) -> Response:
        period = parse_period(kind, slug)
        return await _feed(
            request,
            renderer,
            sessions,
            cache,
            kind=kind,
            period=period,
            now=now,
            sort=sort,
            category=category,
            page=page,
        )

    period_page.__name__ = f"{kind.value}_page"
    router.add_api_route(path, period_page, methods=["GET"])


_period_route(PeriodKind.day, "/date/{slug}")
_period_route(PeriodKind.week, "/week/{slug}")
_period_route(PeriodKind.month, "/month/{slug}")


# --------------------------------------------------------------------------------------------------
# Trending and about
# --------------------------------------------------------------------------------------------------


@router.get("/trending")
async def trending_page(
    request: Request,
    renderer: RendererDep,
    sessions: SessionsDep,
    cache: PageCacheDep,
    now: NowDep,
    category: CategoryQuery = None,
) -> Response:
    category = category or None
    view, chosen = card_view(request)

    def make(personal: Personal | None) -> CachedPage:
        ranked = trending_cards(sessions, now=now, category=category, limit=TRENDING_SHOWN)
        extra = _personal_context(sessions, personal, [card for card, _ in ranked])
        return html_page(
            renderer.render(
                "trending.html",
                nav="trending",
                q="",
                ranked=ranked,
                category=category or "",
                now=now,
                view=view,
                **extra,
            )
        )

    response = await serve_page(request, cache, ("trending", category, clock_slot(now), view), make)
    return remember_view(response, view, chosen)


@router.get("/about")
async def about(request: Request, renderer: RendererDep, cache: PageCacheDep) -> Response:
    def make(personal: Personal | None) -> CachedPage:
        return html_page(
            renderer.render(
                "about.html",
                nav="about",
                q="",
                formula=trending.FORMULA,
                constants=trending.CONSTANTS,
                candidates=trending.CANDIDATES,
                feed_page_size=FEED_PAGE_SIZE,
                **(personal.context() if personal else {}),
            )
        )

    return await serve_page(request, cache, ("about",), make)


# --------------------------------------------------------------------------------------------------
# A paper
# --------------------------------------------------------------------------------------------------


def _similar(search: SearchService, sessions: sessionmaker[Session], paper_id: str) -> list[PaperCard]:
    try:
        found = search.similar(paper_id, k=SIMILAR_SHOWN)
    except Exception:  # no index, paper not indexed yet, or index being replaced: leave the section out
        return []
    with sessions() as session:
        return store.paper_cards(session, ids=[h.id for h in found.hits])


def _stored_paper(session: Session, paper_id: str) -> Paper:
    """The paper of ``paper_id``; a merged id sends readers on to the paper it became, any other is a 404."""
    paper = store.get_paper(session, paper_id=paper_id)
    if paper is not None:
        return paper
    merged_into = store.paper_alias_target(session, paper_id=paper_id)
    if merged_into is not None:
        raise PaperMoved(paper_path(merged_into), keep_method=False)
    raise HTTPException(404, f"There is no paper {paper_id!r} here.")


_LINK_LABELS = {"abs": "arXiv page", "pdf": "PDF", "html": "HTML", "doi": "DOI"}


def _outside_links(paper: Paper) -> list[tuple[str, str]]:
    """The paper elsewhere, as (label, URL): its arXiv page, PDF and HTML, and its DOI."""
    return [(_LINK_LABELS[kind], url) for kind, url in external_links(paper.arxiv_id, paper.doi).items()]


def _score_now(paper: Paper, counts: Counts, now: datetime) -> trending.TrendingScore | None:
    """The paper's trending score at ``now``; None for a paper that is on no feed."""
    if paper.feed_entry is None:
        return None
    return trending.trending_score(
        upvotes=counts.upvotes,
        comments=counts.comments,
        has_code=bool(paper.code_urls),
        day=paper.feed_entry.day,
        now=now,
        published=paper.published_at,
    )


def _paper_page(
    renderer: Renderer,
    sessions: sessionmaker[Session],
    search: SearchService,
    paper_id: str,
    now: datetime,
    personal: Personal | None = None,
    comments_page: int = 1,
) -> CachedPage:
    with sessions() as session:
        paper = _stored_paper(session, paper_id)
        feed = paper.feed_entry
        counts = store.paper_counts(session, paper_id=paper_id)
        moderator = personal is not None and personal.user.is_moderator
        threads = build_threads(store.paper_comments(session, paper_id=paper_id), show_hidden=moderator)
        voted = personal is not None and store.has_voted(session, user_id=personal.user.id, paper_id=paper_id)
        saved = personal is not None and bool(
            store.saved_ids(session, owner_id=personal.user.id, paper_ids=[paper_id])
        )
        links = _outside_links(paper)
        sources = sorted(s.source for s in paper.sources)
        context = {
            "paper": paper,
            # A title from a copied listing that matched no known paper: the page says so and offers a search.
            "from_listing": "listing" in sources and not paper.authors and not links,
            "hf_url": hf_discussion_url(paper.arxiv_id)
            if feed is not None and feed.source == "huggingface"
            else None,
            "feed": feed,
            "score": _score_now(paper, counts, now),
            "links": links,
            "code_urls": [u for u in paper.code_urls or [] if is_http_url(u)],
            "project_url": paper.project_url if is_http_url(paper.project_url) else None,
            "bibtex": paper_to_bibtex(paper),
            "sources": sources,
            "extra": dict(paper.extra or {}),
            "counts": counts,
            "threads": thread_page(threads, page=comments_page),
            "local_comments": count_shown(threads),
            "upstream_upvotes": feed.upvotes if feed else 0,
            "upstream_comments": feed.num_comments if feed else 0,
            "voted": {paper_id} if voted else set(),
            "saved": {paper_id} if saved else set(),
        }
    similar = _similar(search, sessions, paper_id)
    return html_page(
        renderer.render(
            "paper.html",
            nav="",
            q="",
            similar=similar,
            constants=trending.CONSTANTS,
            formula=trending.FORMULA,
            **context,
            **(personal.context() if personal else {}),
        )
    )


@router.get("/papers/{paper_id:path}")
async def paper_page(
    request: Request,
    paper_id: str,
    renderer: RendererDep,
    sessions: SessionsDep,
    search: SearchDep,
    cache: PageCacheDep,
    now: NowDep,
    page: PageQuery = 1,
) -> Response:
    canonical = canonical_id(paper_id)
    if canonical is not None:
        return RedirectResponse(paper_path(canonical), status_code=301)
    if not paper_id or len(paper_id) > 200:
        raise HTTPException(404, "There is no such paper here.")
    key = ("paper", paper_id, page, clock_slot(now))
    return await serve_page(
        request,
        cache,
        key,
        lambda personal: _paper_page(renderer, sessions, search, paper_id, now, personal, page),
    )


@router.get("/thumbnails/{paper_id:path}")
def thumbnail(paper_id: str, sessions: SessionsDep) -> Response:
    if not paper_id.endswith(".svg"):
        raise HTTPException(404, "Thumbnails are SVG images: /thumbnails/{id}.svg")
    paper_id = paper_id.removesuffix(".svg")
    with sessions() as session:
        cards = store.paper_cards(session, ids=[paper_id], abstract_chars=0)
    if not cards:
        raise HTTPException(404, f"There is no paper {paper_id!r} here.")
    card = cards[0]
    svg = thumbnail_svg(card.id, card.title, short_authors(card.authors))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/avatars/{name}")
def avatar(name: str) -> Response:
    if not name.endswith(".svg") or len(name) > 260:
        raise HTTPException(404, "Avatars are SVG images: /avatars/{name}.svg")
    svg = avatar_svg(name.removesuffix(".svg"))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=604800"})


@router.get("/favicon.ico")
def favicon(renderer: RendererDep) -> Response:
    return RedirectResponse(renderer.static_url("favicon.svg"), status_code=301)


__all__ = ["CARD_VIEWS", "FEED_PAGE_SIZE", "TRENDING_SHOWN", "VIEW_COOKIE", "card_view", "router"]

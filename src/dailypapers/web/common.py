"""Pieces shared by the pages, the feeds and the API: query parameters, paper ids, trending lists."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import Form, HTTPException, Path, Query
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store, trending
from dailypapers.digest.tokens import Purpose, Tokens
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.models import Subscription
from dailypapers.store.feeds import CARD_ABSTRACT_CHARS, FeedOrder, PaperCard
from dailypapers.web.cache import CachedPage, make_page

MAX_PAGE = 10_000
CATEGORY_PATTERN = r"^([A-Za-z][A-Za-z0-9.\-]{0,31})?$"

SortQuery = Annotated[FeedOrder, Query(description="upvotes (most voted first) or date (newest first)")]
CategoryQuery = Annotated[
    str | None,
    Query(pattern=CATEGORY_PATTERN, description="an arXiv category (cs.CL) or archive (cs)"),
]
FormText = Annotated[str, Form(max_length=12_000)]
"""A text field of a form on the site (comments are the longest)."""
PageQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1")]
PaperIdPath = Annotated[
    str,
    Path(
        description="An arXiv id without version (2104.12255, hep-th/9901001) or this site's own id; "
        "a versioned id or an arXiv link is read as the paper it names.",
        examples=["2104.12255"],
    ),
]


HTML = "text/html; charset=utf-8"


def html_page(body: str) -> CachedPage:
    """A rendered page, ready for the page cache."""
    return make_page(body.encode(), media_type=HTML)


SINGLE_SLASH_SCHEME = re.compile(r"^(https?):/(?!/)", re.IGNORECASE)


def canonical_id(raw: str) -> str | None:
    """The canonical id for a versioned id or arXiv URL, when it differs from ``raw``."""
    text = SINGLE_SLASH_SCHEME.sub(r"\1://", raw.strip())
    parsed = parse_arxiv_id(text)
    if parsed is not None and parsed.id != raw:
        return parsed.id
    return None


def known_paper_id(sessions: sessionmaker[Session], raw: str) -> str:
    """The canonical id of a paper in the database, or 404."""
    paper_id = canonical_id(raw) or raw
    if not paper_id or len(paper_id) > 200 or any(ord(c) < 32 for c in paper_id):
        raise HTTPException(404, "There is no such paper here.")
    with sessions() as session:
        if not store.paper_exists(session, paper_id=paper_id):
            raise HTTPException(404, f"There is no paper {paper_id!r} here.")
    return paper_id


def clock_slot(now: datetime, minutes: int = 10) -> int:
    """The ``minutes``-long slot of the clock ``now`` falls in (a cache key for time-dependent pages)."""
    return int(now.timestamp() // (minutes * 60))


def trending_cards(
    sessions: sessionmaker[Session],
    *,
    now: datetime,
    category: str | None,
    limit: int,
    abstract_chars: int | None = CARD_ABSTRACT_CHARS,
) -> list[tuple[PaperCard, trending.TrendingScore]]:
    """The top of the trending list (``trending.trending_list``, the one the API pages through)."""
    with sessions() as session:
        return trending.trending_list(
            session, now=now, category=category, limit=limit, abstract_chars=abstract_chars
        )


card_score = trending.card_score


def subscription_links(tokens: Tokens, subscription: Subscription, *, now: datetime) -> tuple[str, str]:
    """A subscription's manage and unsubscribe pages, as paths with their signed tokens."""
    manage = tokens.make(Purpose.manage, subscription.id, subscription.token_key, now=now)
    unsubscribe = tokens.make(Purpose.unsubscribe, subscription.id, subscription.token_key, now=now)
    return f"/subscriptions/manage/{manage}", f"/subscriptions/unsubscribe/{unsubscribe}"


__all__ = [
    "CATEGORY_PATTERN",
    "HTML",
    "SINGLE_SLASH_SCHEME",
    "CategoryQuery",
    "FormText",
    "PageQuery",
    "PaperIdPath",
    "SortQuery",
    "canonical_id",
    "card_score",
    "clock_slot",
    "html_page",
    "known_paper_id",
    "subscription_links",
    "trending_cards",
]

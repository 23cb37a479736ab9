"""Pieces shared by the pages, the feeds and the API: query parameters, trending lists, clock slots."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query

from dailypapers import store, trending
from dailypapers.store.feeds import CARD_ABSTRACT_CHARS, FeedOrder, PaperCard

MAX_PAGE = 10_000
CATEGORY_PATTERN = r"^([A-Za-z][A-Za-z0-9.\-]{0,31})?$"

SortQuery = Annotated[FeedOrder, Query(description="upvotes (most voted first) or date (newest first)")]
CategoryQuery = Annotated[
    str | None,
    Query(pattern=CATEGORY_PATTERN, description="an arXiv category (cs.CL) or archive (cs)"),
]
PageQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1")]
PaperIdPath = Annotated[
    str,
    Path(
        description="An arXiv id without version (2104.12255, hep-th/9901001) or this site's own id; "
        "a versioned id or an arXiv link is read as the paper it names.",
        examples=["2104.12255"],
    ),
]


def clock_slot(now: datetime, minutes: int = 10) -> int:
    """The ``minutes``-long slot of the clock ``now`` falls in (a cache key for time-dependent pages)."""
    return int(now.timestamp() // (minutes * 60))


def trending_cards(
    sessions: Any,
    *,
    now: datetime,
    category: str | None,
    limit: int,
    abstract_chars: int | None = CARD_ABSTRACT_CHARS,
) -> list[tuple[PaperCard, trending.TrendingScore]]:
    with sessions() as session:
        candidates = store.recent_feed_cards(
            session, limit=trending.CANDIDATES, category=category, abstract_chars=abstract_chars
        )
    ranked = trending.rank_trending(
        (c for c in candidates if c.day is not None),
        score=lambda c: card_score(c, now),
        key=lambda c: c.id,
    )
    return ranked[:limit]


def card_score(card: PaperCard, now: datetime) -> trending.TrendingScore:
    assert card.day is not None
    return trending.trending_score(
        upvotes=card.upvotes, comments=card.num_comments, has_code=card.has_code, day=card.day, now=now
    )


__all__ = [
    "CATEGORY_PATTERN",
    "CategoryQuery",
    "PageQuery",
    "PaperIdPath",
    "SortQuery",
    "card_score",
    "clock_slot",
    "trending_cards",
]

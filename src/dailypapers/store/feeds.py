"""Queries behind the daily, weekly and monthly feeds, trending, and paper cards.

Pages show cards, not whole papers, so these queries select only the columns a card needs (the abstract
cut to its first characters in SQL) with the feed entry joined in one statement: no ORM objects, no
per-paper queries. Periods are ranges of ``feed_entries.day``, which the ``(day, upvotes)`` index
serves; the category filter is a sub-select on the ``(category, paper_id)`` index of
``paper_categories``.

The counts on a card are what the upstream reported (``feed_entries``) plus this site's own votes and
visible comments (``paper_activity``), added in SQL so that sorting by upvotes sorts by what is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, and_, func, or_, select
from sqlalchemy.orm import Session

from dailypapers.db import chunked
from dailypapers.models import FeedEntry, Paper, PaperActivity, PaperCategory

PAPERS = cast(Table, Paper.__table__)
CATEGORIES = cast(Table, PaperCategory.__table__)
FEED = cast(Table, FeedEntry.__table__)
ACTIVITY = cast(Table, PaperActivity.__table__)

# Displayed counts: upstream plus local (either side may be missing: a paper off the feed, no activity).
TOTAL_UPVOTES = (func.coalesce(FEED.c.upvotes, 0) + func.coalesce(ACTIVITY.c.upvotes, 0)).label("upvotes")
TOTAL_COMMENTS = (func.coalesce(FEED.c.num_comments, 0) + func.coalesce(ACTIVITY.c.comments, 0)).label(
    "num_comments"
)

CARD_ABSTRACT_CHARS = 600


class FeedOrder(StrEnum):
    """How a feed is ordered: most upvoted first, or most recently published first."""

    upvotes = "upvotes"
    date = "date"


@dataclass(slots=True)
class PaperCard:
    """What a list of papers shows of each: the paper's own columns and its feed entry, if any."""

    id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    code_urls: list[str]
    project_url: str | None
    published_at: datetime | None
    extra: dict[str, Any] = field(default_factory=dict)
    arxiv_id: str | None = None
    day: date | None = None
    upvotes: int = 0
    num_comments: int = 0
    submitted_by: str | None = None
    source: str | None = None
    abstract_is_whole: bool = True
    # The categories were predicted from similar papers, not given by a source.
    categories_predicted: bool = False
    # What the upstream (Hugging Face) reported, included in ``upvotes`` and ``num_comments``.
    upstream_upvotes: int = 0
    upstream_comments: int = 0

    @property
    def has_code(self) -> bool:
        return bool(self.code_urls)


def _card_columns(*, abstract_chars: int | None) -> list[Any]:
    abstract: Any = PAPERS.c.abstract
    if abstract_chars is not None:
        abstract = func.substr(PAPERS.c.abstract, 1, abstract_chars + 1).label("abstract")
    return [
        PAPERS.c.id,
        PAPERS.c.arxiv_id,
        PAPERS.c.title,
        abstract,
        PAPERS.c.authors,
        PAPERS.c.categories,
        PAPERS.c.categories_predicted,
        PAPERS.c.code_urls,
        PAPERS.c.project_url,
        PAPERS.c.published_at,
        PAPERS.c.extra,
        FEED.c.day,
        TOTAL_UPVOTES,
        TOTAL_COMMENTS,
        FEED.c.submitted_by,
        FEED.c.source,
        func.coalesce(FEED.c.upvotes, 0).label("upstream_upvotes"),
        func.coalesce(FEED.c.num_comments, 0).label("upstream_comments"),
    ]


def _card(row: Any, abstract_chars: int | None) -> PaperCard:
    abstract = row.abstract or ""
    whole = abstract_chars is None or len(abstract) <= abstract_chars
    return PaperCard(
        id=row.id,
        arxiv_id=row.arxiv_id,
        title=row.title or "",
        abstract=abstract if whole else abstract[:abstract_chars],
        authors=list(row.authors or []),
        categories=list(row.categories or []),
        code_urls=list(row.code_urls or []),
        project_url=row.project_url,
        published_at=row.published_at,
        extra=dict(row.extra or {}),
        day=row.day,
        upvotes=row.upvotes or 0,
        num_comments=row.num_comments or 0,
        submitted_by=row.submitted_by,
        source=row.source,
        abstract_is_whole=whole,
        categories_predicted=bool(row.categories_predicted),
        upstream_upvotes=row.upstream_upvotes or 0,
        upstream_comments=row.upstream_comments or 0,
    )


def in_category(column: ColumnElement[Any], category: str) -> ColumnElement[bool]:
    """``column`` (a paper id) is in ``category``; a bare archive (``cs``) matches all its categories."""
    if "." in category:
        members = select(CATEGORIES.c.paper_id).where(CATEGORIES.c.category == category)
    else:
        members = select(CATEGORIES.c.paper_id).where(
            or_(CATEGORIES.c.category == category, CATEGORIES.c.category.like(f"{category}.%"))
        )
    return column.in_(members)


def _with_activity(joined: Any) -> Any:
    return joined.outerjoin(ACTIVITY, ACTIVITY.c.paper_id == PAPERS.c.id)


def _feed_select(*, start: date, end: date, category: str | None, abstract_chars: int | None) -> Select[Any]:
    statement = (
        select(*_card_columns(abstract_chars=abstract_chars))
        .select_from(_with_activity(FEED.join(PAPERS, PAPERS.c.id == FEED.c.paper_id)))
        .where(FEED.c.day >= start, FEED.c.day <= end)
    )
    if category:
        statement = statement.where(in_category(FEED.c.paper_id, category))
    return statement


def feed_cards(
    session: Session,
    *,
    start: date,
    end: date,
    order: FeedOrder = FeedOrder.upvotes,
    category: str | None = None,
    limit: int = 50,
    offset: int = 0,
    abstract_chars: int | None = CARD_ABSTRACT_CHARS,
) -> list[PaperCard]:
    """Papers on the feed from ``start`` to ``end`` (inclusive), one page of them."""
    statement = _feed_select(start=start, end=end, category=category, abstract_chars=abstract_chars)
    if order is FeedOrder.upvotes:
        statement = statement.order_by(
            TOTAL_UPVOTES.desc(), TOTAL_COMMENTS.desc(), FEED.c.day.desc(), PAPERS.c.id
        )
    else:
        statement = statement.order_by(
            FEED.c.day.desc(), PAPERS.c.published_at.desc().nulls_last(), TOTAL_UPVOTES.desc(), PAPERS.c.id
        )
    rows = session.execute(statement.limit(limit).offset(offset))
    return [_card(row, abstract_chars) for row in rows]


def count_feed(session: Session, *, start: date, end: date, category: str | None = None) -> int:
    statement = select(func.count()).select_from(FEED).where(FEED.c.day >= start, FEED.c.day <= end)
    if category:
        statement = statement.where(in_category(FEED.c.paper_id, category))
    return session.scalar(statement) or 0


def newest_feed_day(
    session: Session, *, on_or_before: date | None = None, category: str | None = None
) -> date | None:
    """The newest day with papers on the feed (not after ``on_or_before`` when given)."""
    statement = select(func.max(FEED.c.day))
    if on_or_before is not None:
        statement = statement.where(FEED.c.day <= on_or_before)
    if category:
        statement = statement.where(in_category(FEED.c.paper_id, category))
    newest: date | None = session.scalar(statement)
    return newest


def feed_neighbours(
    session: Session, *, start: date, end: date, category: str | None = None
) -> tuple[date | None, date | None]:
    """The nearest days with papers before ``start`` and after ``end``."""
    before = select(func.max(FEED.c.day)).where(FEED.c.day < start)
    after = select(func.min(FEED.c.day)).where(FEED.c.day > end)
    if category:
        before = before.where(in_category(FEED.c.paper_id, category))
        after = after.where(in_category(FEED.c.paper_id, category))
    return session.scalar(before), session.scalar(after)


def feed_categories(session: Session, *, start: date, end: date, limit: int = 40) -> list[tuple[str, int]]:
    """The categories of the papers on the feed in a period, most frequent first."""
    statement = (
        select(CATEGORIES.c.category, func.count().label("n"))
        .select_from(CATEGORIES.join(FEED, FEED.c.paper_id == CATEGORIES.c.paper_id))
        .where(FEED.c.day >= start, FEED.c.day <= end)
        .group_by(CATEGORIES.c.category)
        .order_by(func.count().desc(), CATEGORIES.c.category)
        .limit(limit)
    )
    return [(category, n) for category, n in session.execute(statement)]


def recent_feed_cards(
    session: Session,
    *,
    limit: int,
    category: str | None = None,
    start: date | None = None,
    end: date | None = None,
    abstract_chars: int | None = CARD_ABSTRACT_CHARS,
) -> list[PaperCard]:
    """The ``limit`` most recent feed entries (from ``start`` to ``end`` when given), newest day first:
    the candidates for trending that every list scores."""
    statement = select(*_card_columns(abstract_chars=abstract_chars)).select_from(
        _with_activity(FEED.join(PAPERS, PAPERS.c.id == FEED.c.paper_id))
    )
    if category:
        statement = statement.where(in_category(FEED.c.paper_id, category))
    if start is not None:
        statement = statement.where(FEED.c.day >= start)
    if end is not None:
        statement = statement.where(FEED.c.day <= end)
    statement = statement.order_by(FEED.c.day.desc(), TOTAL_UPVOTES.desc(), PAPERS.c.id).limit(limit)
    return [_card(row, abstract_chars) for row in session.execute(statement)]


def voted_feed_cards(
    session: Session,
    *,
    bands: Sequence[tuple[date | None, date, float]],
    comment_weight: float,
    category: str | None = None,
    start: date | None = None,
    abstract_chars: int | None = CARD_ABSTRACT_CHARS,
) -> list[PaperCard]:
    """Feed entries (from ``start`` when given) with enough votes for their day: for a band ``(after,
    until, at_least)``, an entry of a day after ``after`` (any day when None) and on or before ``until``
    whose upvotes plus ``comment_weight`` × comments reach ``at_least``. These are the older candidates
    for trending (``trending.trending_list`` says how much is enough)."""
    weighted = TOTAL_UPVOTES.element + comment_weight * TOTAL_COMMENTS.element
    conditions = [
        and_(FEED.c.day <= until, weighted >= at_least, *([FEED.c.day > after] if after is not None else []))
        for after, until, at_least in bands
    ]
    if not conditions:
        return []
    # The loosest band first: it turns most entries away before the bands are tried one by one.
    loosest = min(at_least for _, _, at_least in bands)
    statement = (
        select(*_card_columns(abstract_chars=abstract_chars))
        .select_from(_with_activity(FEED.join(PAPERS, PAPERS.c.id == FEED.c.paper_id)))
        .where(weighted >= loosest, or_(*conditions))
    )
    if category:
        statement = statement.where(in_category(FEED.c.paper_id, category))
    if start is not None:
        statement = statement.where(FEED.c.day >= start)
    return [_card(row, abstract_chars) for row in session.execute(statement)]


def category_cards(
    session: Session, *, category: str, limit: int = 50, abstract_chars: int | None = CARD_ABSTRACT_CHARS
) -> list[PaperCard]:
    """The most recently published papers of a category, whether or not they were on the feed."""
    statement = (
        select(*_card_columns(abstract_chars=abstract_chars))
        .select_from(_with_activity(PAPERS.outerjoin(FEED, FEED.c.paper_id == PAPERS.c.id)))
        .where(in_category(PAPERS.c.id, category))
        .order_by(PAPERS.c.published_at.desc().nulls_last(), PAPERS.c.id.desc())
        .limit(limit)
    )
    return [_card(row, abstract_chars) for row in session.execute(statement)]


def paper_cards(
    session: Session, *, ids: Sequence[str], abstract_chars: int | None = CARD_ABSTRACT_CHARS
) -> list[PaperCard]:
    """Cards of the given papers, in the order given (unknown ids are skipped)."""
    found: dict[str, PaperCard] = {}
    wanted = list(dict.fromkeys(ids))
    for chunk in chunked(wanted):
        statement = (
            select(*_card_columns(abstract_chars=abstract_chars))
            .select_from(_with_activity(PAPERS.outerjoin(FEED, FEED.c.paper_id == PAPERS.c.id)))
            .where(PAPERS.c.id.in_(chunk))
        )
        for row in session.execute(statement):
            found[row.id] = _card(row, abstract_chars)
    return [found[i] for i in wanted if i in found]


def paper_exists(session: Session, *, paper_id: str) -> bool:
    return session.execute(select(PAPERS.c.id).where(PAPERS.c.id == paper_id)).first() is not None


def feed_version(session: Session) -> tuple[Any, ...]:
    """A value that changes whenever the feed changes: entries added, votes or comments counted or
    edited, or papers added. Cheap enough to ask every few seconds (aggregate scans of narrow data)."""
    entries = session.execute(
        select(
            func.count(),
            func.max(FEED.c.id),
            func.coalesce(func.sum(FEED.c.upvotes), 0),
            func.coalesce(func.sum(FEED.c.num_comments), 0),
        ).select_from(FEED)
    ).one()
    papers = session.scalar(select(func.count()).select_from(PAPERS))
    activity = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(ACTIVITY.c.upvotes), 0),
            func.coalesce(func.sum(ACTIVITY.c.revision), 0),
        ).select_from(ACTIVITY)
    ).one()
    return (*tuple(entries), papers, *tuple(activity))


__all__ = [
    "CARD_ABSTRACT_CHARS",
    "FeedOrder",
    "PaperCard",
    "category_cards",
    "count_feed",
    "feed_cards",
    "feed_categories",
    "feed_neighbours",
    "feed_version",
    "in_category",
    "newest_feed_day",
    "paper_cards",
    "paper_exists",
    "recent_feed_cards",
    "voted_feed_cards",
]

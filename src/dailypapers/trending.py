"""Trending papers: a score from votes, comments, code and age, with time decay.

The score follows the Hacker News ranking: points divided by a power of the age, so a paper needs more
and more votes to stay on top as it gets older, and a fresh paper with a few votes can pass an old one
with many::

    points = upvotes + COMMENT_WEIGHT × comments + CODE_BONUS × has_code + BASE_POINTS
    score  = points / (age_hours + AGE_OFFSET_HOURS) ^ GRAVITY

* ``age_hours`` counts from the start (00:00 UTC) of the day the paper appeared on the daily feed, but
  from no later than ``FIRST_VERSION_DAYS`` after the day of its first arXiv version: a paper from years
  ago that someone puts on today's feed counts as years old, so it cannot pass this week's papers with
  no votes at all. Papers reach Hugging Face's feed up to two weeks after their first version (its rule
  for submissions), so within that grace the feed day alone counts, and a paper featured a week after
  it appeared competes with its feed day on equal terms;
* comments count half a vote: a comment takes more effort than a vote but is also how disagreement
  shows, so it is weaker evidence that a paper is worth reading;
* released code is worth a few votes, because a paper whose code can be run is more useful to most
  readers of a feed like this;
* the offset keeps papers posted in the last minutes from dividing by almost nothing.

The ``/about`` page prints the formula from these constants, and every paper page shows its own
breakdown with :func:`trending_score`, so what is published and what is computed cannot drift apart.

**One list.** :func:`trending_list` chooses the candidates and ranks them for every place that shows
trending: the ``/trending`` page, its RSS and Atom feeds and ``/api/daily_papers?sort=trending``, so they
cannot disagree. Digests rank a period's papers by the same :func:`card_score` in the same order
(:func:`rank_trending`), each paper as of the end of its own feed day (see ``digest/selection.py``).
How the candidates are chosen, and why no paper that belongs in the list is missed, is told in
:func:`trending_list`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, TypeVar

from dailypapers import store
from dailypapers.store.feeds import CARD_ABSTRACT_CHARS, PaperCard

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

GRAVITY = 1.8
COMMENT_WEIGHT = 0.5
CODE_BONUS = 2.0
BASE_POINTS = 1.0
AGE_OFFSET_HOURS = 2.0
FIRST_VERSION_DAYS = 14
CANDIDATES = 1000
"""How long the trending list is at most, and how many of the most recent feed entries it always scores."""

CONSTANTS: dict[str, float] = {
    "GRAVITY": GRAVITY,
    "COMMENT_WEIGHT": COMMENT_WEIGHT,
    "CODE_BONUS": CODE_BONUS,
    "BASE_POINTS": BASE_POINTS,
    "AGE_OFFSET_HOURS": AGE_OFFSET_HOURS,
    "FIRST_VERSION_DAYS": FIRST_VERSION_DAYS,
}


def _number(value: float) -> str:
    return f"{value:g}"


def readable_number(value: float, digits: int = 3) -> str:
    """``value`` rounded to ``digits`` significant digits, written without an exponent.

    Scores of old papers are tiny and divisors large: ``0.000037`` and ``812,000,000`` read better
    than ``3.7e-05`` and ``8.12e+08``.
    """
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    text = f"{round(value, decimals):,.{max(0, decimals)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


FORMULA = (
    f"score = (upvotes + {_number(COMMENT_WEIGHT)} × comments + {_number(CODE_BONUS)} × has_code"
    f" + {_number(BASE_POINTS)}) / (age_hours + {_number(AGE_OFFSET_HOURS)})^{_number(GRAVITY)}"
)


AGE_RULE = (
    "age_hours counts from 00:00 UTC of the day the paper appeared on the feed, but from no later than "
    f"{FIRST_VERSION_DAYS} days after the day of its first arXiv version"
)


@dataclass(frozen=True, slots=True)
class TrendingScore:
    """A score with every input that made it, for showing how it was computed.

    ``age_from`` is the day the age counts from, ``feed_day`` the day the paper is on the feed and
    ``first_version`` the day of its first arXiv version, when known; ``age_from`` is earlier than the feed
    day when the paper reached the feed more than ``FIRST_VERSION_DAYS`` after its first version.
    """

    upvotes: int
    comments: int
    has_code: bool
    age_hours: float
    points: float
    score: float
    feed_day: date | None = None
    age_from: date | None = None
    first_version: date | None = None

    @property
    def age_origin(self) -> str:
        """Where the age counts from, in words."""
        if self.age_from is None:
            return ""
        if self.feed_day is not None and self.age_from < self.feed_day and self.first_version is not None:
            return (
                f"{self.age_from.isoformat()}, {FIRST_VERSION_DAYS} days after its first version of "
                f"{self.first_version.isoformat()} (on the feed {self.feed_day.isoformat()})"
            )
        return f"{self.age_from.isoformat()}, the feed day"

    @property
    def divisor(self) -> float:
        return float((self.age_hours + AGE_OFFSET_HOURS) ** GRAVITY)

    @property
    def explanation(self) -> str:
        origin = f"age_hours from {self.age_origin}: " if self.age_from is not None else ""
        return (
            f"{origin}({self.upvotes} + {_number(COMMENT_WEIGHT)} × {self.comments}"
            f" + {_number(CODE_BONUS)} × {int(self.has_code)} + {_number(BASE_POINTS)})"
            f" / ({self.age_hours:.1f} + {_number(AGE_OFFSET_HOURS)})^{_number(GRAVITY)}"
            f" = {_number(self.points)} / {readable_number(self.divisor, 4)}"
            f" = {readable_number(self.score, 4)}"
        )


def posted_at(day: date) -> datetime:
    """When a paper on the feed of ``day`` counts as posted: the start of that day, UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def age_hours(day: date, now: datetime) -> float:
    aware = now if now.tzinfo else now.replace(tzinfo=UTC)
    return max(0.0, (aware - posted_at(day)).total_seconds() / 3600)


def _utc_day(moment: datetime | date) -> date:
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return aware.astimezone(UTC).date()
    return moment


def age_start(day: date, published: datetime | date | None) -> date:
    """The day a paper's age counts from: its feed day, or ``FIRST_VERSION_DAYS`` after its first version's
    day when that is earlier."""
    if published is None:
        return day
    return min(day, _utc_day(published) + timedelta(days=FIRST_VERSION_DAYS))


def trending_score(
    *,
    upvotes: int,
    comments: int,
    has_code: bool,
    day: date,
    now: datetime,
    published: datetime | date | None = None,
) -> TrendingScore:
    """The score of a paper on the feed of ``day``; ``published`` is when its first version appeared
    (``papers.published_at``); without it the age counts from the feed day alone."""
    start = age_start(day, published)
    age = age_hours(start, now)
    points = upvotes + COMMENT_WEIGHT * comments + CODE_BONUS * int(has_code) + BASE_POINTS
    score = points / (age + AGE_OFFSET_HOURS) ** GRAVITY
    first = _utc_day(published) if published is not None else None
    return TrendingScore(
        upvotes, comments, has_code, age, points, score, feed_day=day, age_from=start, first_version=first
    )


T = TypeVar("T")


def rank_trending(
    items: Iterable[T], *, score: Callable[[T], TrendingScore], key: Callable[[T], str]
) -> list[tuple[T, TrendingScore]]:
    """Items with their scores, highest first; ties go to the smaller id so the order is stable."""
    scored = [(item, score(item)) for item in items]
    scored.sort(key=lambda pair: (-pair[1].score, key(pair[0])))
    return scored


def card_score(card: PaperCard, now: datetime) -> TrendingScore:
    """The score of a paper on the feed (``card.day`` set) as of ``now``."""
    assert card.day is not None
    return trending_score(
        upvotes=card.upvotes,
        comments=card.num_comments,
        has_code=card.has_code,
        day=card.day,
        now=now,
        published=card.published_at,
    )


def rank_cards(
    cards: Iterable[PaperCard], *, now: datetime | Callable[[PaperCard], datetime]
) -> list[tuple[PaperCard, TrendingScore]]:
    """The cards on the feed with their scores, highest first (ties to the smaller id); cards off the feed
    have no score and are left out. ``now`` is the clock, or a function giving each card its own."""
    clock = now if callable(now) else (lambda _card: now)
    return rank_trending(
        (card for card in cards if card.day is not None),
        score=lambda card: card_score(card, clock(card)),
        key=lambda card: card.id,
    )


def points_to_reach(score: float, *, age_hours: float) -> float:
    """The points a paper ``age_hours`` old needs to score ``score``; an older paper needs more."""
    return float(score * (age_hours + AGE_OFFSET_HOURS) ** GRAVITY)


OLDER_BANDS = 16
"""Bands of feed days older than the recent candidates, each twice as long as the one before: 1, 1, 2, 4
… days, the last one open. Older bands need more votes, so a deep page scores fewer old entries."""


def older_bands(oldest: date, *, score: float, now: datetime) -> list[tuple[date | None, date, float]]:
    """``(after, until, at_least)``: the weighted votes (upvotes + ``COMMENT_WEIGHT`` × comments) that a
    feed entry of a day after ``after`` and on or before ``until`` needs to reach ``score`` as of ``now``.

    An entry of such a day is at least as old as ``until`` (its age counts from its feed day or earlier),
    so it needs at least :func:`points_to_reach` at that age; code is counted as if it had some, so the
    bound never leaves out an entry that can reach ``score``. A hair is taken off, so that rounding cannot
    leave out one that ties.
    """
    edges = [oldest]
    for step in range(OLDER_BANDS):
        if oldest.toordinal() - 2**step < 1:
            break
        edges.append(oldest - timedelta(days=2**step))
    bands: list[tuple[date | None, date, float]] = []
    for position, until in enumerate(edges):
        after = edges[position + 1] if position + 1 < len(edges) else None
        needed = points_to_reach(score, age_hours=age_hours(until, now)) * (1 - 1e-9)
        bands.append((after, until, needed - CODE_BONUS - BASE_POINTS))
    return bands


def trending_list(
    session: Session,
    *,
    now: datetime,
    limit: int,
    offset: int = 0,
    category: str | None = None,
    start: date | None = None,
    end: date | None = None,
    abstract_chars: int | None = CARD_ABSTRACT_CHARS,
) -> list[tuple[PaperCard, TrendingScore]]:
    """Places ``offset`` to ``offset + limit`` of the trending list as of ``now``: the feed (of
    ``category``, from ``start`` to ``end`` when given) ranked by :func:`trending_score`, at most
    ``CANDIDATES`` long.

    The candidates are the ``CANDIDATES`` most recent feed entries, plus every older entry with enough
    votes and comments for its age to reach the places asked for. That is the whole of the exact ranking,
    for a reason the formula gives: an older entry is at least as old as its feed day, which is no later
    than the oldest recent one, so it scores at most its points divided by that age's divisor. To reach
    place ``k`` it must score at least the ``k``-th best of the recent entries (the ``k``-th score of the
    whole list is no lower), which takes at least :func:`points_to_reach` that score at that age;
    :func:`older_bands` turns this into the votes needed on each band of older days. Ranking only
    the most recent entries would hide an older paper with many votes behind a thousand new ones with
    none; ranking only the most upvoted would hide every new paper behind a thousand old ones with many
    votes.

    For the first pages the older candidates are few, those whose votes rival this week's best. Deep
    pages, whose last place is held by a recent entry with next to no votes, and feeds whose recent entries
    are mostly papers put on the feed long after their first version, make more older entries candidates;
    the answer is exact all the same.
    """
    depth = min(offset + limit, CANDIDATES)
    if depth <= offset:
        return []
    recent = store.recent_feed_cards(
        session, limit=CANDIDATES, category=category, start=start, end=end, abstract_chars=abstract_chars
    )
    ranked = rank_cards(recent, now=now)
    if len(recent) == CANDIDATES:  # else there is no older entry
        oldest = min(card.day for card in recent if card.day is not None)
        older = store.voted_feed_cards(
            session,
            bands=older_bands(oldest, score=ranked[depth - 1][1].score, now=now),
            comment_weight=COMMENT_WEIGHT,
            category=category,
            start=start,
            abstract_chars=abstract_chars,
        )
        seen = {card.id for card in recent}
        extra = [card for card in older if card.id not in seen]
        if extra:
            ranked = rank_cards([*recent, *extra], now=now)
    return ranked[offset:depth]


__all__ = [
    "AGE_OFFSET_HOURS",
    "AGE_RULE",
    "BASE_POINTS",
    "CANDIDATES",
    "CODE_BONUS",
    "COMMENT_WEIGHT",
    "CONSTANTS",
    "FIRST_VERSION_DAYS",
    "FORMULA",
    "GRAVITY",
    "OLDER_BANDS",
    "TrendingScore",
    "age_hours",
    "age_start",
    "card_score",
    "older_bands",
    "points_to_reach",
    "posted_at",
    "rank_cards",
    "rank_trending",
    "readable_number",
    "trending_list",
    "trending_score",
]

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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

GRAVITY = 1.8
COMMENT_WEIGHT = 0.5
CODE_BONUS = 2.0
BASE_POINTS = 1.0
AGE_OFFSET_HOURS = 2.0
FIRST_VERSION_DAYS = 14
CANDIDATES = 1000
"""How many of the most recent feed entries are scored for the trending list."""

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
    "TrendingScore",
    "age_hours",
    "age_start",
    "posted_at",
    "rank_trending",
    "readable_number",
    "trending_score",
]

"""Trending papers: a score from votes, comments, code and age, with time decay.

The score follows the Hacker News ranking: points divided by a power of the age, so a paper needs more
and more votes to stay on top as it gets older, and a fresh paper with a few votes can pass an old one
with many::

    points = upvotes + COMMENT_WEIGHT × comments + CODE_BONUS × has_code + BASE_POINTS
    score  = points / (age_hours + AGE_OFFSET_HOURS) ^ GRAVITY

* ``age_hours`` counts from the start (00:00 UTC) of the day the paper appeared on the daily feed;
* comments count half a vote: a comment takes more effort than a vote but is also how disagreement
  shows, so it is weaker evidence that a paper is worth reading;
* released code is worth a few votes, because a paper whose code can be run is more useful to most
  readers of a feed like this;
* the offset keeps papers posted in the last minutes from dividing by almost nothing.

The ``/about`` page prints the formula from these constants, and every paper page shows its own
breakdown with :func:`trending_score`, so what is published and what is computed cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TypeVar

GRAVITY = 1.8
COMMENT_WEIGHT = 0.5
CODE_BONUS = 2.0
BASE_POINTS = 1.0
AGE_OFFSET_HOURS = 2.0
CANDIDATES = 1000
"""How many of the most recent feed entries are scored for the trending list."""

CONSTANTS: dict[str, float] = {
    "GRAVITY": GRAVITY,
    "COMMENT_WEIGHT": COMMENT_WEIGHT,
    "CODE_BONUS": CODE_BONUS,
    "BASE_POINTS": BASE_POINTS,
    "AGE_OFFSET_HOURS": AGE_OFFSET_HOURS,
}


def _number(value: float) -> str:
    return f"{value:g}"


FORMULA = (
    f"score = (upvotes + {_number(COMMENT_WEIGHT)} × comments + {_number(CODE_BONUS)} × has_code"
    f" + {_number(BASE_POINTS)}) / (age_hours + {_number(AGE_OFFSET_HOURS)})^{_number(GRAVITY)}"
)


@dataclass(frozen=True, slots=True)
class TrendingScore:
    """A score with every input that made it, for showing how it was computed."""

    upvotes: int
    comments: int
    has_code: bool
    age_hours: float
    points: float
    score: float

    @property
    def explanation(self) -> str:
        return (
            f"({self.upvotes} + {_number(COMMENT_WEIGHT)} × {self.comments}"
            f" + {_number(CODE_BONUS)} × {int(self.has_code)} + {_number(BASE_POINTS)})"
            f" / ({self.age_hours:.1f} + {_number(AGE_OFFSET_HOURS)})^{_number(GRAVITY)}"
            f" = {_number(self.points)} / {(self.age_hours + AGE_OFFSET_HOURS) ** GRAVITY:.4g}"
            f" = {self.score:.4g}"
        )


def posted_at(day: date) -> datetime:
    """When a paper on the feed of ``day`` counts as posted: the start of that day, UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def age_hours(day: date, now: datetime) -> float:
    aware = now if now.tzinfo else now.replace(tzinfo=UTC)
    return max(0.0, (aware - posted_at(day)).total_seconds() / 3600)


def trending_score(*, upvotes: int, comments: int, has_code: bool, day: date, now: datetime) -> TrendingScore:
    age = age_hours(day, now)
    points = upvotes + COMMENT_WEIGHT * comments + CODE_BONUS * int(has_code) + BASE_POINTS
    score = points / (age + AGE_OFFSET_HOURS) ** GRAVITY
    return TrendingScore(upvotes, comments, has_code, age, points, score)


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
    "BASE_POINTS",
    "CANDIDATES",
    "CODE_BONUS",
    "COMMENT_WEIGHT",
    "CONSTANTS",
    "FORMULA",
    "GRAVITY",
    "TrendingScore",
    "age_hours",
    "posted_at",
    "rank_trending",
    "trending_score",
]

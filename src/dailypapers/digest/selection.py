"""Choosing a subscriber's papers from the candidates of a period. Pure: no database, no clock.

Filters combine with AND: a paper must be in one of the chosen categories (when any are chosen), match
one of the keywords (when any are given), and match none of the excluded keywords. Papers already sent to
the subscriber are never chosen again.

A keyword matches case-insensitively at the start of a word of the title or abstract, so ``agent``
matches "agents" and "agentic" but not "reagent"; the words of a phrase may be separated by any
whitespace. A category such as ``cs.CL`` matches papers listed in it; an archive such as ``cs`` matches
all its categories.

``trending`` ranks by the site's trending score, computed for every paper as of the end of its own feed
day: within one day that is the live ranking, and across the days of a weekly digest it compares papers
at the same age instead of favouring the youngest. ``new`` lists the newest feed days first, the most
upvoted first within a day.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from dailypapers import trending
from dailypapers.store.feeds import PaperCard

MAX_KEYWORDS = 20
MAX_KEYWORD_CHARS = 60
MAX_CATEGORIES = 20
MAX_PAPERS = 100


class Selection(StrEnum):
    trending = "trending"
    new = "new"


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a subscriber asked for (the selection part of a subscription)."""

    selection: Selection = Selection.trending
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    exclude_keywords: tuple[str, ...] = ()
    max_papers: int = 10


@dataclass(slots=True)
class Candidate:
    """A paper of the period, prepared once and shared by every subscriber's selection."""

    card: PaperCard
    text: str
    categories: frozenset[str]
    archives: frozenset[str]
    score: trending.TrendingScore | None
    # Keyword (case-folded) → whether it matches: subscribers share keywords, so each is searched once.
    matches: dict[str, bool] = field(default_factory=dict)

    def mentions(self, keyword: str) -> bool:
        key = keyword.casefold()
        found = self.matches.get(key)
        if found is None:
            found = self.matches[key] = keyword_pattern(keyword).search(self.text) is not None
        return found


@dataclass(frozen=True, slots=True)
class Candidates:
    """The candidates of a period in both orders, prepared once for every subscriber."""

    by_trending: tuple[Candidate, ...]
    by_newest: tuple[Candidate, ...]

    def __len__(self) -> int:
        return len(self.by_trending)

    @property
    def ids(self) -> list[str]:
        return [c.card.id for c in self.by_trending]


@dataclass(frozen=True, slots=True)
class Pick:
    """A chosen paper and why it is in the digest."""

    card: PaperCard
    reasons: tuple[str, ...]
    score: trending.TrendingScore | None


@dataclass(slots=True)
class Chosen:
    picks: list[Pick] = field(default_factory=list)
    more: int = 0
    """Papers that matched but did not fit in ``max_papers``."""


def end_of_feed_day(card: PaperCard) -> datetime:
    """The clock a digest scores ``card`` at: the end of its feed day (the card must be on the feed)."""
    assert card.day is not None
    return trending.posted_at(card.day) + timedelta(days=1)


def end_of_feed_day_score(card: PaperCard) -> trending.TrendingScore | None:
    """The trending score of a paper as of the end of its feed day (None off the feed)."""
    return trending.card_score(card, end_of_feed_day(card)) if card.day is not None else None


def _known_score(candidate: Candidate) -> trending.TrendingScore:
    assert candidate.score is not None
    return candidate.score


def prepare_candidates(cards: Iterable[PaperCard]) -> Candidates:
    """Candidates with their searchable text and scores, in trending and in newest-first order.

    The trending order is the site's (``trending.rank_trending`` of ``trending.card_score``), each paper
    scored as of the end of its feed day; papers off the feed, without a score, follow by id.
    """
    prepared = []
    for card in cards:
        categories = frozenset(card.categories)
        prepared.append(
            Candidate(
                card=card,
                text=" ".join(f"{card.title}\n{card.abstract}".split()),
                categories=categories,
                archives=frozenset(c.split(".", 1)[0] for c in categories),
                score=end_of_feed_day_score(card),
            )
        )
    ranked = trending.rank_trending(
        (c for c in prepared if c.score is not None), score=_known_score, key=lambda c: c.card.id
    )
    by_trending = [c for c, _ in ranked]
    by_trending += sorted((c for c in prepared if c.score is None), key=lambda c: c.card.id)
    by_newest = sorted(
        prepared, key=lambda c: (-(c.card.day or date.min).toordinal(), -c.card.upvotes, c.card.id)
    )
    return Candidates(tuple(by_trending), tuple(by_newest))


@lru_cache(maxsize=4096)
def keyword_pattern(keyword: str) -> re.Pattern[str]:
    words = [re.escape(word) for word in keyword.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words), re.IGNORECASE)


def normalise_keywords(values: Iterable[str]) -> tuple[str, ...]:
    """Keywords trimmed, inner whitespace collapsed, duplicates (ignoring case) removed, order kept."""
    seen: set[str] = set()
    result: list[str] = []
    for value in values:
        keyword = " ".join(value.split())
        if keyword and keyword.casefold() not in seen:
            seen.add(keyword.casefold())
            result.append(keyword)
    return tuple(result)


def _category_match(candidate: Candidate, categories: Sequence[str]) -> str | None:
    for category in categories:
        if category in candidate.categories or ("." not in category and category in candidate.archives):
            return category
    return None


def _why_trending(score: trending.TrendingScore) -> str:
    parts = [f"{score.upvotes} upvote{'s' if score.upvotes != 1 else ''}"]
    if score.comments:
        parts.append(f"{score.comments} comment{'s' if score.comments != 1 else ''}")
    if score.has_code:
        parts.append("code")
    return f"trending score {score.score:.3g} ({', '.join(parts)})"


def select_papers(
    preferences: Preferences, candidates: Candidates, *, already_sent: Collection[str] = ()
) -> Chosen:
    """The papers for one subscriber, best first, at most ``max_papers``."""
    includes = preferences.keywords
    excludes = preferences.exclude_keywords
    trending_first = preferences.selection is Selection.trending
    ordered = candidates.by_trending if trending_first else candidates.by_newest
    sent = already_sent
    chosen = Chosen()
    for candidate in ordered:
        if candidate.card.id in sent:
            continue
        reasons: list[str] = []
        if preferences.categories:
            category = _category_match(candidate, preferences.categories)
            if category is None:
                continue
            reasons.append(f"in {category}")
        if includes:
            matched = [keyword for keyword in includes if candidate.mentions(keyword)]
            if not matched:
                continue
            reasons.append("matches " + ", ".join(f"“{k}”" for k in matched))
        if any(candidate.mentions(keyword) for keyword in excludes):
            continue
        if len(chosen.picks) >= preferences.max_papers:
            chosen.more += 1
            continue
        if trending_first and candidate.score is not None:
            reasons.insert(0, _why_trending(candidate.score))
        elif not reasons and candidate.card.day is not None:
            reasons.append(f"new on {candidate.card.day.day} {candidate.card.day:%B}")
        chosen.picks.append(Pick(candidate.card, tuple(reasons), candidate.score))
    return chosen


__all__ = [
    "MAX_CATEGORIES",
    "MAX_KEYWORDS",
    "MAX_KEYWORD_CHARS",
    "MAX_PAPERS",
    "Candidate",
    "Candidates",
    "Chosen",
    "Pick",
    "Preferences",
    "Selection",
    "end_of_feed_day_score",
    "keyword_pattern",
    "normalise_keywords",
    "prepare_candidates",
    "select_papers",
]

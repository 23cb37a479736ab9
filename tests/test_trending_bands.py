"""The bound that lets the trending list score only the entries that can reach its places.

``trending_list`` scores the most recent entries and, from older days, only those with the votes that
:func:`trending.older_bands` asks of each band of days. Too high a bound would leave out an old paper
that belongs in the list; these tests pin the bound to the formula, exactly at the tie.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dailypapers import trending

OLDEST = date(2026, 7, 1)
NOW = datetime(2026, 7, 31, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(("upvotes", "day"), [(0, date(2026, 7, 31)), (12, date(2026, 7, 20)), (300, OLDEST)])
def test_points_to_reach_inverts_the_score(upvotes: int, day: date) -> None:
    scored = trending.trending_score(upvotes=upvotes, comments=3, has_code=True, day=day, now=NOW)
    needed = trending.points_to_reach(scored.score, age_hours=scored.age_hours)
    assert needed == pytest.approx(scored.points, rel=1e-12)


def test_an_older_paper_needs_more_points_for_the_same_score() -> None:
    young = trending.points_to_reach(0.01, age_hours=5)
    old = trending.points_to_reach(0.01, age_hours=50)
    assert young < old


def test_bands_double_in_length_going_back_the_last_one_open() -> None:
    bands = trending.older_bands(OLDEST, score=0.01, now=NOW)
    edges = [OLDEST] + [OLDEST - timedelta(days=2**step) for step in range(trending.OLDER_BANDS)]
    assert [(after, until) for after, until, _ in bands] == [
        *zip(edges[1:], edges[:-1], strict=True),
        (None, edges[-1]),
    ]


def test_bands_stop_at_the_first_day_of_the_calendar() -> None:
    # From day 9 of year 1 the bands reach back to day 1 exactly, and no further.
    oldest = date.fromordinal(9)
    bands = trending.older_bands(oldest, score=0.01, now=NOW)
    assert [until.toordinal() for _, until, _ in bands] == [9, 8, 7, 5, 1]
    assert bands[-1][0] is None


def test_each_band_asks_for_the_votes_that_tie_at_its_newest_day() -> None:
    # A paper with code on the newest day of a band, with exactly the votes that reach the score, is
    # let through; the bound is no lower than a hair under those votes.
    for upvotes in (0, 7, 250):
        for _, until, at_least in trending.older_bands(OLDEST, score=_score(upvotes, OLDEST), now=NOW)[:6]:
            tying = _votes_to_tie(_score(upvotes, OLDEST), until)
            assert at_least <= tying
            assert at_least > tying - 1e-6


def test_older_bands_ask_for_more_votes() -> None:
    needed = [at_least for _, _, at_least in trending.older_bands(OLDEST, score=0.001, now=NOW)]
    assert needed == sorted(needed)
    assert needed[0] < needed[-1]


def _score(upvotes: int, day: date) -> float:
    return trending.trending_score(upvotes=upvotes, comments=0, has_code=True, day=day, now=NOW).score


def _votes_to_tie(score: float, day: date) -> float:
    """The weighted votes a paper with code on ``day`` needs to score exactly ``score`` (from the formula)."""
    divisor = (trending.age_hours(day, NOW) + trending.AGE_OFFSET_HOURS) ** trending.GRAVITY
    return score * divisor - trending.CODE_BONUS - trending.BASE_POINTS

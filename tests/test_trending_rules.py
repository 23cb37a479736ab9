"""The trending rules as a reader sees them: the printed breakdown, the age, the order, the numbers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from dailypapers import trending

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
FEED_DAY = date(2026, 7, 31)
PLUS_TWO = timezone(timedelta(hours=2))


def score(**fields: object) -> trending.TrendingScore:
    values: dict[str, object] = {"upvotes": 0, "comments": 0, "has_code": False, "day": FEED_DAY, "now": NOW}
    values.update(fields)
    return trending.trending_score(**values)  # type: ignore[arg-type]


def test_the_breakdown_prints_the_papers_own_numbers_in_the_formula() -> None:
    with_code = score(upvotes=17, comments=2, has_code=True)
    assert with_code.explanation == (
        "age_hours from 2026-07-31, the feed day: "
        "(17 + 0.5 × 2 + 2 × 1 + 1) / (36.0 + 2)^1.8 = 21 / 697.6 = 0.0301"
    )
    assert with_code.divisor == pytest.approx(697.6064, abs=1e-4)
    no_code = score(comments=3, day=date(2026, 8, 1))
    assert no_code.explanation == (
        "age_hours from 2026-08-01, the feed day: "
        "(0 + 0.5 × 3 + 2 × 0 + 1) / (12.0 + 2)^1.8 = 2.5 / 115.6 = 0.02162"
    )


def test_a_score_without_a_feed_day_explains_only_the_formula() -> None:
    bare = trending.TrendingScore(upvotes=1, comments=0, has_code=False, age_hours=0.0, points=2.0, score=0.5)
    assert bare.age_origin == ""
    assert bare.explanation.startswith("(1 + 0.5 × 0 + 2 × 0 + 1) / (0.0 + 2)^1.8 = 2 / ")


def test_the_age_counts_from_midnight_utc_whatever_zone_the_clock_is_in() -> None:
    utc_clock = score()
    assert utc_clock.age_hours == 36.0
    assert score(now=datetime(2026, 8, 1, 14, 0, tzinfo=PLUS_TWO)).age_hours == 36.0
    assert score(now=datetime(2026, 8, 1, 12, 0)).age_hours == 36.0  # a naive clock is UTC
    assert trending.posted_at(FEED_DAY) == datetime(2026, 7, 31, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "published",
    [
        datetime(2026, 7, 17, 1, 0, tzinfo=PLUS_TWO),  # 23:00 UTC on 16 July
        datetime(2026, 7, 16, 23, 0),  # naive: UTC
        datetime(2026, 7, 16, 23, 0, tzinfo=UTC),
        date(2026, 7, 16),
    ],
)
def test_the_first_version_counts_on_its_utc_day(published: datetime | date) -> None:
    late = score(upvotes=3, published=published)
    assert (late.first_version, late.age_from) == (date(2026, 7, 16), date(2026, 7, 30))
    assert late.age_hours == 60.0
    assert late.explanation.startswith(
        "age_hours from 2026-07-30, 14 days after its first version of 2026-07-16 (on the feed 2026-07-31): "
    )


def test_ranking_is_highest_score_first_and_ties_go_to_the_smaller_id() -> None:
    votes = {"2607.00003": 4, "2607.00001": 4, "2607.00002": 9, "2607.00000": 1}
    ranked = trending.rank_trending(
        votes, score=lambda paper_id: score(upvotes=votes[paper_id]), key=lambda paper_id: paper_id
    )
    assert [paper_id for paper_id, _ in ranked] == ["2607.00002", "2607.00001", "2607.00003", "2607.00000"]
    assert [s.upvotes for _, s in ranked] == [9, 4, 4, 1]


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (0.0, 3, "0"),
        (float("inf"), 3, "inf"),
        (float("nan"), 3, "nan"),
        (3.7e-05, 3, "0.000037"),
        (0.000123456, 3, "0.000123"),
        (812_000_000.0, 3, "812,000,000"),
        (12_345_678.0, 3, "12,300,000"),
        (100.0, 3, "100"),
        (10.0, 3, "10"),
        (2.0, 3, "2"),
        (2.5, 3, "2.5"),
        (-0.5, 3, "-0.5"),
        (1234.56, 4, "1,235"),
        (0.0123456, 4, "0.01235"),
    ],
)
def test_numbers_are_written_with_a_few_significant_digits_and_no_exponent(
    value: float, digits: int, text: str
) -> None:
    assert trending.readable_number(value, digits) == text


def test_three_significant_digits_unless_told_otherwise() -> None:
    assert trending.readable_number(0.0123456) == "0.0123"
    assert trending.readable_number(98_765.0) == "98,800"


@pytest.fixture
def server_far_east_of_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone set to UTC+14, as on a server kept in local time."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("server_far_east_of_utc")
def test_days_and_naive_times_are_utc_whatever_the_servers_zone() -> None:
    # 05:00 naive is 05:00 UTC on 16 July (in the server's own zone it would be the 15th, UTC).
    naive = score(upvotes=3, published=datetime(2026, 7, 16, 5, 0))
    # 20:00 UTC on 16 July is already the 17th in the server's zone.
    aware = score(upvotes=3, published=datetime(2026, 7, 16, 20, 0, tzinfo=UTC))
    for late in (naive, aware):
        assert (late.first_version, late.age_from, late.age_hours) == (
            date(2026, 7, 16),
            date(2026, 7, 30),
            60.0,
        )
    assert score(now=datetime(2026, 8, 1, 12, 0)).age_hours == 36.0

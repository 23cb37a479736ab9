"""Choosing papers and periods: pure functions, checked on the real papers of 12 June 2026."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.digest.periods import (
    Frequency,
    covered_days,
    daily_period,
    due_period,
    weekly_period,
)
from dailypapers.digest.selection import Candidates, Preferences, Selection, prepare_candidates, select_papers


@pytest.fixture
def friday(papers: sessionmaker[Session]) -> Candidates:
    with papers() as session:
        cards = store.feed_cards(
            session, start=date(2026, 6, 11), end=date(2026, 6, 12), abstract_chars=None, limit=1000
        )
    return prepare_candidates(cards)


def ids(candidates: Candidates, preferences: Preferences, sent: set[str] | None = None) -> list[str]:
    return [p.card.id for p in select_papers(preferences, candidates, already_sent=sent or set()).picks]


def test_trending_ranks_by_votes_comments_and_code(friday: Candidates) -> None:
    top = ids(friday, Preferences(max_papers=6))
    # 2606.06113 has fewer upvotes than 2606.12243 (13 < 14) but released code, worth two votes.
    assert top == ["2606.13681", "2606.13392", "2606.08063", "2606.13289", "2606.13106", "2606.06113"]


def test_new_lists_the_newest_day_first(friday: Candidates) -> None:
    newest = ids(friday, Preferences(selection=Selection.new, max_papers=40))
    assert len(newest) == 35
    assert newest[:3] == ["2606.13681", "2606.13392", "2606.08063"]  # 12 June, most upvoted first
    assert all(i.startswith("2606.13") for i in newest[-5:])  # then the arXiv papers of 11 June


def test_keywords_match_word_starts_in_any_case_and_exclusions_win(friday: Candidates) -> None:
    chosen = select_papers(
        Preferences(keywords=("AGENT",), exclude_keywords=("memory",), max_papers=50), friday
    ).picks
    assert chosen
    for pick in chosen:
        text = f"{pick.card.title} {pick.card.abstract}".lower()
        assert "agent" in text and "memory" not in text
        assert any("matches “AGENT”" in reason for reason in pick.reasons)
    assert not ids(friday, Preferences(keywords=("gent",)))  # inside a word is no match


def test_phrases_match_across_whitespace(friday: Candidates) -> None:
    assert ids(friday, Preferences(keywords=("large   language model",), max_papers=50))


def test_categories_match_exactly_or_by_archive(friday: Candidates) -> None:
    robotics = ids(friday, Preferences(categories=("cs.RO",), max_papers=50))
    assert sorted(robotics) == ["2606.13515", "2606.13677"]
    assert len(ids(friday, Preferences(categories=("cs",), max_papers=50))) == 5
    assert ids(friday, Preferences(categories=("math-ph",), max_papers=50)) == ["2606.13568"]
    pick = select_papers(Preferences(categories=("cs.RO",)), friday).picks[0]
    assert "in cs.RO" in pick.reasons


def test_papers_already_sent_are_skipped_and_the_rest_counted(friday: Candidates) -> None:
    first = ids(friday, Preferences(max_papers=3))
    chosen = select_papers(Preferences(max_papers=3), friday, already_sent=set(first))
    assert not {p.card.id for p in chosen.picks} & set(first)
    assert chosen.more == 35 - 3 - 3


@pytest.mark.parametrize(
    ("zone", "hour", "now", "expected"),
    [
        ("UTC", 8, "2026-06-13T07:59:00+00:00", "2026-06-11"),
        ("UTC", 8, "2026-06-13T08:00:00+00:00", "2026-06-12"),
        ("Asia/Tokyo", 7, "2026-06-12T22:30:00+00:00", "2026-06-12"),
        ("America/Los_Angeles", 7, "2026-06-12T22:30:00+00:00", "2026-06-11"),
        ("Pacific/Kiritimati", 0, "2026-06-12T10:00:00+00:00", "2026-06-12"),
    ],
)
def test_the_daily_digest_due_is_the_day_before_the_subscribers_local_day(
    zone: str, hour: int, now: str, expected: str
) -> None:
    period = due_period(Frequency.daily, time_zone=zone, hour=hour, now=datetime.fromisoformat(now))
    assert period.key == expected


def test_the_weekly_digest_is_due_on_monday_for_the_week_before() -> None:
    sunday_night = datetime(2026, 6, 14, 23, 0, tzinfo=UTC)
    monday_morning = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
    assert due_period(Frequency.weekly, time_zone="UTC", hour=8, now=sunday_night).key == "2026-W23"
    assert due_period(Frequency.weekly, time_zone="UTC", hour=8, now=monday_morning).key == "2026-W24"
    week = weekly_period(date(2026, 6, 12))
    assert (week.key, week.first, week.last) == ("2026-W24", date(2026, 6, 8), date(2026, 6, 14))
    assert week.label == "the week of 8 June 2026"


def test_a_daily_digest_covers_the_days_since_the_last_one_at_most_a_week() -> None:
    tuesday = daily_period(date(2026, 6, 16))
    assert covered_days(tuesday, None) == (date(2026, 6, 16), date(2026, 6, 16))
    assert covered_days(tuesday, date(2026, 6, 12)) == (date(2026, 6, 13), date(2026, 6, 16))
    assert covered_days(tuesday, date(2026, 5, 1)) == (date(2026, 6, 10), date(2026, 6, 16))
    assert covered_days(tuesday, date(2026, 6, 16)) is None

"""Which papers a digest selects, in which order, and the reasons it gives for each.

The candidates are written out by hand here, so that each rule is seen on papers whose votes, days and
categories are known at a glance (the real papers of the demo feed are in ``test_selection.py``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from dailypapers.digest.selection import (
    Preferences,
    Selection,
    normalise_keywords,
    prepare_candidates,
    select_papers,
)
from dailypapers.store.feeds import PaperCard

MONDAY = date(2026, 6, 8)
FRIDAY = date(2026, 6, 12)


def card(paper_id: str, **fields: Any) -> PaperCard:
    values: dict[str, Any] = {
        "id": paper_id,
        "title": f"Paper {paper_id}",
        "abstract": "An abstract.",
        "authors": ["Ada Lovelace"],
        "categories": ["cs.CL"],
        "code_urls": [],
        "project_url": None,
        "published_at": None,
        "day": FRIDAY,
    }
    values.update(fields)
    return PaperCard(**values)


def picked(preferences: Preferences, *cards: PaperCard, sent: set[str] | None = None) -> list[str]:
    chosen = select_papers(preferences, prepare_candidates(cards), already_sent=sent or set())
    return [pick.card.id for pick in chosen.picks]


def reasons(preferences: Preferences, *cards: PaperCard) -> dict[str, tuple[str, ...]]:
    chosen = select_papers(preferences, prepare_candidates(cards))
    return {pick.card.id: pick.reasons for pick in chosen.picks}


def test_a_trending_pick_gives_its_score_at_the_end_of_its_feed_day() -> None:
    papers = [
        card("2606.00001", upvotes=10, num_comments=2, code_urls=["https://github.com/a/b"]),
        card("2606.00002", upvotes=1, num_comments=1),
        card("2606.00003", upvotes=2),
        card("2606.00004"),
    ]
    # A day-old paper: (votes + comments / 2 + 2 for code + 1) / (24 + 2)^1.8.
    assert reasons(Preferences(), *papers) == {
        "2606.00001": ("trending score 0.0397 (10 upvotes, 2 comments, code)",),
        "2606.00003": ("trending score 0.00851 (2 upvotes)",),
        "2606.00002": ("trending score 0.0071 (1 upvote, 1 comment)",),
        "2606.00004": ("trending score 0.00284 (0 upvotes)",),
    }
    # Each pick carries the score it was ranked by, for the digest to show.
    picks = select_papers(Preferences(), prepare_candidates(papers)).picks
    assert [(p.score.upvotes, p.score.age_hours) for p in picks if p.score] == [
        (10, 24.0),
        (2, 24.0),
        (1, 24.0),
        (0, 24.0),
    ]


def test_a_paper_long_on_arxiv_before_the_feed_ages_from_two_weeks_after_its_first_version() -> None:
    old = card(
        "2605.00001",
        upvotes=10,
        num_comments=2,
        code_urls=["https://github.com/a/b"],
        published_at=datetime(2026, 5, 1, tzinfo=UTC),
    )
    fresh = card("2606.00009", upvotes=1)
    assert picked(Preferences(), old, fresh) == ["2606.00009", "2605.00001"]
    assert reasons(Preferences(), old)["2605.00001"] == (
        "trending score 0.000106 (10 upvotes, 2 comments, code)",
    )


def test_a_weekly_digest_compares_the_days_of_the_week_at_the_same_age() -> None:
    # Counted at the same moment, the Friday paper would be far ahead with fewer votes.
    monday = card("2606.00001", day=MONDAY, upvotes=5)
    friday = card("2606.00002", day=FRIDAY, upvotes=4)
    assert picked(Preferences(), friday, monday) == ["2606.00001", "2606.00002"]


def test_equal_scores_and_equal_days_go_to_the_smaller_id() -> None:
    papers = [card("2606.00003", upvotes=3), card("2606.00001", upvotes=3), card("2606.00002", upvotes=3)]
    assert picked(Preferences(), *papers) == ["2606.00001", "2606.00002", "2606.00003"]
    assert picked(Preferences(selection=Selection.new), *papers) == ["2606.00001", "2606.00002", "2606.00003"]


def test_new_lists_newest_day_then_most_upvoted_and_says_when_it_was_new() -> None:
    papers = [
        card("2606.00001", day=MONDAY, upvotes=50),
        card("2606.00002", upvotes=1),
        card("2606.00003", upvotes=7),
    ]
    new = Preferences(selection=Selection.new)
    assert picked(new, *papers) == ["2606.00003", "2606.00002", "2606.00001"]
    assert reasons(new, *papers) == {
        "2606.00003": ("new on 12 June",),
        "2606.00002": ("new on 12 June",),
        "2606.00001": ("new on 8 June",),
    }


def test_a_paper_off_the_feed_comes_last_and_has_no_score() -> None:
    papers = [card("2606.00001", day=None, upvotes=40), card("2606.00002"), card("2606.00003", day=MONDAY)]
    for selection in Selection:
        ranked = picked(Preferences(selection=selection), *papers)
        assert ranked[-1] == "2606.00001"
    chosen = select_papers(Preferences(), prepare_candidates(papers))
    off_feed = next(pick for pick in chosen.picks if pick.card.id == "2606.00001")
    assert off_feed.score is None and off_feed.reasons == ()
    assert reasons(Preferences(selection=Selection.new), *papers)["2606.00001"] == ()


def test_filters_give_their_reasons_after_the_score() -> None:
    papers = [
        card("2606.00001", upvotes=2, categories=["cs.LG", "stat.ML"], title="Agents that plan"),
        card("2606.00002", upvotes=9, categories=["cs.CL"], abstract="Large language models."),
    ]
    trending_reasons = reasons(Preferences(categories=("stat", "cs.LG"), keywords=("agent", "plan")), *papers)
    assert trending_reasons == {
        "2606.00001": ("trending score 0.00851 (2 upvotes)", "in stat", "matches “agent”, “plan”"),
    }
    new_reasons = reasons(Preferences(selection=Selection.new, categories=("cs.CL",)), *papers)
    assert new_reasons == {"2606.00002": ("in cs.CL",)}


def test_an_archive_matches_its_categories_and_nothing_else() -> None:
    papers = [
        card("2606.00001", categories=["astro-ph.CO"]),
        card("2606.00002", categories=["astro-ph"]),
        card("2606.00003", categories=["cs.CL", "astro-phx.GA"]),
    ]
    assert picked(Preferences(categories=("astro-ph",)), *papers) == ["2606.00001", "2606.00002"]
    assert picked(Preferences(categories=("astro-ph.CO",)), *papers) == ["2606.00001"]
    assert picked(Preferences(categories=("astro",)), *papers) == []


def test_max_papers_is_a_limit_and_the_rest_are_counted() -> None:
    papers = [card(f"2606.0000{n}", upvotes=n) for n in range(1, 6)]
    chosen = select_papers(Preferences(max_papers=2), prepare_candidates(papers), already_sent={"2606.00005"})
    assert [pick.card.id for pick in chosen.picks] == ["2606.00004", "2606.00003"]
    assert chosen.more == 2


def test_keywords_are_trimmed_and_kept_once_in_their_first_spelling() -> None:
    assert normalise_keywords(
        ["  large   language\tmodel ", "LLM", "llm", "", "   ", "Large Language Model"]
    ) == (
        "large language model",
        "LLM",
    )

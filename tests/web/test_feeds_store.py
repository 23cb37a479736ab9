"""The feed queries of ``store/feeds.py`` on the real demo papers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from dailypapers import store
from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import FeedRecord, PaperRecord, Source

JUNE_12, JULY_31 = date(2026, 6, 12), date(2026, 7, 31)
OMNISCOPE_TITLE = "OmniScope: Modality-Decoupled Token Compression for Omnimodal Large Language Models"


@contextmanager
def session_for(settings: Settings) -> Iterator[tuple[Session, list[str]]]:
    """A session, and the list of SQL statements it runs."""
    engine = create_engine_from_settings(settings)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with make_session_factory(engine)() as session:
            yield session, statements
    finally:
        engine.dispose()


def _ingest(engine: Engine, records: list[PaperRecord]) -> None:
    Ingestor(make_session_factory(engine)).ingest_records(records, label="test")


def test_a_day_of_cards_is_one_query(demo_settings: Settings) -> None:
    with session_for(demo_settings) as (session, statements):
        cards = store.feed_cards(session, start=JULY_31, end=JULY_31)
    assert len(statements) == 1
    assert [c.upvotes for c in cards] == [17, 11, 3, 2, 0]
    omni = next(c for c in cards if c.id == "2607.23193")
    assert omni.code_urls == ["https://github.com/MAC-AutoML/OmniScope"] and omni.has_code
    assert omni.num_comments == 2 and omni.submitted_by == "Consonnm" and omni.day == JULY_31
    assert len(omni.abstract) <= store.CARD_ABSTRACT_CHARS and not omni.abstract_is_whole


def test_order_by_date_and_paging(demo_settings: Settings) -> None:
    with session_for(demo_settings) as (session, _):
        everything = store.feed_cards(
            session, start=JUNE_12, end=JULY_31, order=store.FeedOrder.date, limit=100
        )
        page2 = store.feed_cards(
            session, start=JUNE_12, end=JULY_31, order=store.FeedOrder.date, limit=10, offset=10
        )
        total = store.count_feed(session, start=JUNE_12, end=JULY_31)
    assert total == len(everything) == 35
    assert [c.day for c in everything[:5]] == [JULY_31] * 5
    assert [c.id for c in page2] == [c.id for c in everything[10:20]]


def test_neighbours_skip_empty_days(demo_settings: Settings) -> None:
    with session_for(demo_settings) as (session, _):
        assert store.feed_neighbours(session, start=JULY_31, end=JULY_31) == (JUNE_12, None)
        assert store.feed_neighbours(session, start=JUNE_12, end=JUNE_12) == (None, JULY_31)
        assert store.feed_neighbours(session, start=date(2026, 7, 1), end=date(2026, 7, 7)) == (
            JUNE_12,
            JULY_31,
        )
        assert store.newest_feed_day(session) == JULY_31
        assert store.newest_feed_day(session, on_or_before=date(2026, 7, 30)) == JUNE_12
        assert store.newest_feed_day(session, on_or_before=date(2026, 1, 1)) is None


def test_category_filter_uses_the_category_table(demo_settings: Settings) -> None:
    engine = create_engine_from_settings(demo_settings)
    try:
        _ingest(
            engine,
            [
                PaperRecord(
                    source=Source.HUGGINGFACE,
                    title="A language paper",
                    arxiv_id="2607.90001",
                    categories=["cs.CL", "cs.LG"],
                    feed=FeedRecord(day=JULY_31, upvotes=4),
                ),
                PaperRecord(
                    source=Source.HUGGINGFACE,
                    title="A maths paper",
                    arxiv_id="2607.90002",
                    categories=["math.CO"],
                    feed=FeedRecord(day=JUNE_12, upvotes=9),
                ),
            ],
        )
    finally:
        engine.dispose()
    with session_for(demo_settings) as (session, _):
        assert [c.id for c in store.feed_cards(session, start=JULY_31, end=JULY_31, category="cs.CL")] == [
            "2607.90001"
        ]
        assert [c.id for c in store.feed_cards(session, start=JUNE_12, end=JULY_31, category="cs")] == [
            "2607.90001"
        ]
        assert store.count_feed(session, start=JUNE_12, end=JULY_31, category="math.CO") == 1
        assert store.feed_neighbours(session, start=JULY_31, end=JULY_31, category="math") == (JUNE_12, None)
        assert ("cs.CL", 1) in store.feed_categories(session, start=JULY_31, end=JULY_31)
        newest = store.category_cards(session, category="math.CO", limit=500)
    dates = [c.published_at for c in newest if c.published_at is not None]
    assert dates == sorted(dates, reverse=True) and len(dates) > 1
    assert newest[-1].id == "2607.90002"  # no publication date: last
    assert "0704.0002" in {c.id for c in newest}


def test_cards_by_id_keep_the_order_given(demo_settings: Settings) -> None:
    with session_for(demo_settings) as (session, statements):
        cards = store.paper_cards(session, ids=["2607.23193", "0704.0002", "nope", "astro-ph/0601001"])
    assert [c.id for c in cards] == ["2607.23193", "0704.0002", "astro-ph/0601001"]
    assert len(statements) == 1
    assert cards[1].day is None and cards[0].day == JULY_31


def test_feed_version_moves_with_votes_and_papers(demo_settings: Settings) -> None:
    with session_for(demo_settings) as (session, _):
        before = store.feed_version(session)
    engine = create_engine_from_settings(demo_settings)
    try:
        _ingest(
            engine,
            [
                PaperRecord(
                    source=Source.HUGGINGFACE,
                    title=OMNISCOPE_TITLE,
                    arxiv_id="2607.23193",
                    feed=FeedRecord(day=JULY_31, upvotes=30, num_comments=2),
                )
            ],
        )
    finally:
        engine.dispose()
    with session_for(demo_settings) as (session, _):
        assert store.feed_version(session) != before

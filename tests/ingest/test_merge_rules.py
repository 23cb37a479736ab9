"""The merge rules, seen in the database: which source wins each field, what is filled, what is added.

Records are built by hand so that each test shows exactly the two descriptions of a paper being
merged; they go through the ingest pipeline into a real database and are read back from it.
"""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.ingest.merge import (
    Prepared,
    differs,
    merge_paper,
    new_paper_state,
    prepare,
    record_values,
    title_hash,
)
from dailypapers.ingest.pipeline import Ingestor, IngestReport
from dailypapers.ingest.records import FeedRecord, PaperRecord, Source, Version
from dailypapers.models import Paper, PaperState
from dailypapers.store.papers import PAPER_VALUE_FIELDS

NOW = datetime(2026, 6, 13, 9, 0, tzinfo=UTC)
ID = "2405.01234"
TITLE = "Sparse Attention for Long Documents"
V1 = datetime(2024, 5, 2, 17, 30, tzinfo=UTC)
V2 = datetime(2024, 6, 20, 8, 15, tzinfo=UTC)


def arxiv(**fields: Any) -> PaperRecord:
    """The paper as arXiv describes it (version 1 unless told otherwise)."""
    values: dict[str, Any] = {
        "source": Source.ARXIV_API,
        "title": TITLE,
        "abstract": "We make attention sparse.",
        "arxiv_id": ID,
        "authors": ["Ada Lovelace"],
        "categories": ["cs.CL"],
        "version": 1,
        "versions": [Version(1, V1)],
        "published": V1,
        "updated": V1,
    }
    values.update(fields)
    return PaperRecord(**values)


def unversioned(**fields: Any) -> PaperRecord:
    """The paper as a source without versions or dates describes it (a Hugging Face page, a listing)."""
    values: dict[str, Any] = {"source": Source.HUGGINGFACE, "title": TITLE, "arxiv_id": ID}
    values.update(fields)
    return PaperRecord(**values)


def ingest(sessions: sessionmaker[Session], *records: PaperRecord) -> IngestReport:
    return Ingestor(sessions, now=lambda: NOW).ingest_records(list(records), label="test")


def stored(sessions: sessionmaker[Session], paper_id: str = ID) -> Paper:
    with sessions() as session:
        paper = store.get_paper(session, paper_id=paper_id)
        assert paper is not None
        session.expunge(paper)
        return paper


def utc(moment: datetime | None) -> datetime | None:
    """A stored time as UTC (SQLite gives naive datetimes back, PostgreSQL aware ones)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- a new paper ----------------------------------------------------------------------------------


def test_a_new_paper_has_its_first_category_as_primary(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, arxiv(categories=["cs.LG", "stat.ML"]))
    paper = stored(sessions)
    assert paper.primary_category == "cs.LG"
    assert paper.categories == ["cs.LG", "stat.ML"]
    with sessions() as session:
        assert store.known_categories(session, ids=[ID]) == {ID: ["cs.LG", "stat.ML"]}


def test_version_history_keeps_dates_and_versions_without_one(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, arxiv(version=2, versions=[Version(1, V1), Version(2, None)], updated=V2))
    assert stored(sessions).versions == [
        {"version": 1, "date": V1.isoformat()},
        {"version": 2, "date": None},
    ]


def test_a_paper_without_a_dataset_is_keyed_by_its_title(sessions: sessionmaker[Session]) -> None:
    # A source id alone is not unique across sources: only a dataset's own ids key a paper.
    ingest(sessions, PaperRecord(source=Source.LISTING, title=TITLE, external_id="17"))
    with sessions() as session:
        (paper_id,) = session.scalars(select(Paper.id)).all()
    assert paper_id.startswith("dp-")


# -- which record wins ----------------------------------------------------------------------------


def test_the_same_version_read_again_never_flip_flops_a_spelling(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, arxiv())
    report = ingest(
        sessions,
        arxiv(
            source=Source.ARXIV_OAI,
            title="Sparse attention for long documents",
            abstract="We make  attention sparse .",
            authors=["A. Lovelace"],
            categories=["cs.AI"],
            comments="12 pages",
        ),
    )
    assert report.updated == 1  # a second source, and a field it filled
    paper = stored(sessions)
    assert (paper.title, paper.abstract) == (TITLE, "We make attention sparse.")
    assert (paper.authors, paper.categories) == (["Ada Lovelace"], ["cs.CL"])
    assert paper.comments == "12 pages"
    assert utc(paper.updated_at) == V1


def test_the_same_version_updated_later_overwrites(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, arxiv())
    later = V1 + timedelta(days=3)
    ingest(sessions, arxiv(abstract="We make attention sparse and fast.", updated=later))
    paper = stored(sessions)
    assert paper.abstract == "We make attention sparse and fast."
    assert utc(paper.updated_at) == later


def test_a_later_update_time_alone_is_written(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, arxiv())
    later = V1 + timedelta(hours=5)
    report = ingest(sessions, arxiv(updated=later))
    assert (report.new, report.updated, report.unchanged) == (0, 1, 0)
    assert utc(stored(sessions).updated_at) == later


def test_an_older_version_changes_neither_fields_nor_dates(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, arxiv(version=2, versions=[Version(1, V1), Version(2, V2)], updated=V2))
    report = ingest(sessions, arxiv(abstract="An old abstract."))
    assert (report.new, report.updated, report.unchanged) == (0, 0, 1)
    paper = stored(sessions)
    assert (paper.version, paper.abstract) == (2, "We make attention sparse.")
    assert utc(paper.updated_at) == V2


def test_times_compare_as_instants_whatever_their_offset(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, arxiv(updated=datetime(2024, 5, 3, 10, 0, tzinfo=UTC)))
    # 11:30 at UTC+2 is 09:30 UTC: earlier than what is known, so it is not a newer state.
    plus_two = timezone(timedelta(hours=2))
    ingest(sessions, arxiv(abstract="Earlier.", updated=datetime(2024, 5, 3, 11, 30, tzinfo=plus_two)))
    paper = stored(sessions)
    assert paper.abstract == "We make attention sparse."
    assert utc(paper.updated_at) == datetime(2024, 5, 3, 10, 0, tzinfo=UTC)


def test_records_without_versions_or_dates_only_fill_what_is_empty(
    sessions: sessionmaker[Session],
) -> None:
    ingest(sessions, unversioned(abstract="First spelling."))
    ingest(
        sessions,
        unversioned(
            source=Source.LISTING, abstract="Second spelling.", authors=["Ada Lovelace"], doi="10.1/x"
        ),
    )
    paper = stored(sessions)
    assert paper.abstract == "First spelling."
    assert (paper.authors, paper.doi) == (["Ada Lovelace"], "10.1/x")
    assert paper.version is None and paper.updated_at is None


def test_a_versioned_record_overrides_what_an_unversioned_source_said(
    sessions: sessionmaker[Session],
) -> None:
    ingest(
        sessions, unversioned(title="Sparse attention for long documents", abstract="Short.", published=V1)
    )
    ingest(sessions, arxiv(updated=None))
    paper = stored(sessions)
    assert (paper.title, paper.abstract, paper.version) == (TITLE, "We make attention sparse.", 1)


def test_a_paper_without_dates_takes_the_first_date_given(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, unversioned(abstract="Known abstract."))
    report = ingest(sessions, unversioned(source=Source.LISTING, published=V1))
    assert report.updated == 1
    paper = stored(sessions)
    assert utc(paper.published_at) == V1
    assert utc(paper.updated_at) == V1  # the first version's date stands in for the last update


def test_the_arxiv_id_of_a_listing_paper_is_set_when_arxiv_describes_it_in_the_same_batch(
    sessions: sessionmaker[Session],
) -> None:
    listing = PaperRecord(source=Source.LISTING, title=TITLE, abstract="Copied from a feed page.")
    ingest(sessions, listing, arxiv())
    paper = stored(sessions)
    assert paper.arxiv_id == ID
    assert {s.source for s in paper.sources} == {"listing", "arxiv-api"}


# -- categories -------------------------------------------------------------------------------------


def _with_predicted_categories(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, unversioned(abstract="No categories from this source."))
    with sessions.begin() as session:
        assert store.save_predicted_categories(session, predictions={ID: ["cs.IR"]}) == 1


def test_real_categories_replace_predicted_ones(sessions: sessionmaker[Session]) -> None:
    _with_predicted_categories(sessions)
    ingest(sessions, unversioned(source=Source.LISTING, title="A different spelling", categories=["cs.LG"]))
    paper = stored(sessions)
    assert (paper.categories, paper.primary_category) == (["cs.LG"], "cs.LG")
    assert paper.categories_predicted is False
    assert paper.title == TITLE  # only the categories count as empty
    with sessions() as session:
        assert store.known_categories(session, ids=[ID]) == {ID: ["cs.LG"]}


def test_predicted_categories_stay_predicted_until_real_ones_come(sessions: sessionmaker[Session]) -> None:
    _with_predicted_categories(sessions)
    ingest(sessions, unversioned(source=Source.LISTING, journal_ref="Nature 1 (2024)"))
    paper = stored(sessions)
    assert paper.journal_ref == "Nature 1 (2024)"
    assert (paper.categories, paper.categories_predicted) == (["cs.IR"], True)
    with sessions() as session:
        assert store.papers_without_categories(session, include_predicted=True) == [ID]


def test_real_categories_are_kept_against_a_record_that_is_not_newer(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, arxiv(categories=["cs.CL", "cs.LG"]))
    ingest(sessions, unversioned(categories=["cs.AI"]))
    paper = stored(sessions)
    assert (paper.categories, paper.primary_category, paper.categories_predicted) == (
        ["cs.CL", "cs.LG"],
        "cs.CL",
        False,
    )


# -- lists and facts that grow ----------------------------------------------------------------------


def test_version_dates_are_filled_once_and_then_kept(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, arxiv(version=2, versions=[Version(1, V1), Version(2, None)], updated=V2))
    # A second source knows the date of v2, and gives v1 a time an hour off.
    ingest(
        sessions,
        arxiv(
            source=Source.ARXIV_OAI,
            version=2,
            versions=[Version(1, V1 + timedelta(hours=1)), Version(2, V2)],
            updated=V2,
        ),
    )
    expected = [{"version": 1, "date": V1.isoformat()}, {"version": 2, "date": V2.isoformat()}]
    assert stored(sessions).versions == expected
    # A source that knows no dates takes none away.
    ingest(
        sessions,
        arxiv(source=Source.ARXIV_SNAPSHOT, version=2, versions=[Version(1), Version(2)], updated=V2),
    )
    assert stored(sessions).versions == expected


def test_code_links_are_a_union_and_extra_facts_are_added(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, arxiv(code_urls=["https://github.com/a/one"], extra={"stars": 1, "venue": "ACL"}))
    ingest(
        sessions,
        unversioned(
            code_urls=["https://github.com/b/two", "https://github.com/a/one"],
            extra={"stars": 5, "ai_summary": "Sparse attention."},
        ),
    )
    paper = stored(sessions)
    assert paper.code_urls == ["https://github.com/a/one", "https://github.com/b/two"]
    # Only a newer record may change a fact that is known.
    assert paper.extra == {"stars": 1, "venue": "ACL", "ai_summary": "Sparse attention."}
    ingest(sessions, arxiv(version=2, updated=V2, extra={"stars": 9}))
    assert stored(sessions).extra == {"stars": 9, "venue": "ACL", "ai_summary": "Sparse attention."}


def test_a_changed_title_is_what_a_copied_listing_is_matched_by(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, arxiv())
    ingest(sessions, arxiv(version=2, updated=V2, title="Sparse Attention for Very Long Documents"))
    report = ingest(
        sessions, PaperRecord(source=Source.LISTING, title="Sparse attention for very long documents")
    )
    assert (report.new, report.updated) == (0, 1)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == 1
    assert {s.source for s in stored(sessions).sources} == {"arxiv-api", "listing"}


# -- sources and the daily feed --------------------------------------------------------------------


def test_a_new_source_alone_makes_a_paper_updated(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, arxiv())
    report = ingest(sessions, arxiv(source=Source.ARXIV_OAI))
    assert (report.new, report.updated, report.unchanged, report.changed_ids) == (0, 1, 0, {ID})
    assert {s.source for s in stored(sessions).sources} == {"arxiv-api", "arxiv-oai"}
    again = ingest(sessions, arxiv(source=Source.ARXIV_OAI))
    assert (again.new, again.updated, again.unchanged, again.changed_ids) == (0, 0, 1, set())


def test_a_feed_entry_keeps_its_first_day_and_takes_new_counts(sessions: sessionmaker[Session]) -> None:
    first = FeedRecord(day=date(2024, 5, 3), submitted_by="akhaliq", upvotes=1, num_comments=0)
    later = FeedRecord(day=date(2024, 5, 4), submitted_by="someone", upvotes=12, num_comments=3)
    assert ingest(sessions, unversioned(feed=first)).new == 1
    report = ingest(sessions, unversioned(feed=later))
    assert (report.updated, report.changed_ids) == (1, {ID})
    entry = stored(sessions).feed_entry
    assert entry is not None
    assert (entry.day, entry.submitted_by, entry.upvotes, entry.num_comments) == (first.day, "akhaliq", 12, 3)
    assert ingest(sessions, unversioned(feed=later)).unchanged == 1


def test_a_paper_twice_on_the_feed_of_one_batch_gets_one_entry(sessions: sessionmaker[Session]) -> None:
    # The entry made by the first record is recounted by the second before either is written.
    first = FeedRecord(day=date(2024, 5, 3), submitted_by="akhaliq", upvotes=1, num_comments=0)
    later = FeedRecord(day=date(2024, 5, 4), submitted_by="someone", upvotes=12, num_comments=3)
    report = ingest(sessions, unversioned(feed=first), unversioned(feed=later))
    assert (report.new, report.updated) == (1, 1)
    entry = stored(sessions).feed_entry
    assert entry is not None
    assert (entry.day, entry.submitted_by, entry.upvotes, entry.num_comments) == (first.day, "akhaliq", 12, 3)
    assert utc(entry.created_at) == NOW


# -- records crossing to the writer process ---------------------------------------------------------


def test_a_record_provides_every_paper_value_in_the_declared_order() -> None:
    assert tuple(record_values(arxiv())) == PAPER_VALUE_FIELDS
    assert len(prepare(arxiv()).to_wire()[-1]) == len(PAPER_VALUE_FIELDS)


def test_a_prepared_record_crosses_processes_unchanged() -> None:
    feed = FeedRecord(day=date(2024, 5, 3), submitted_by="akhaliq", upvotes=12, num_comments=3)
    for record in (
        arxiv(position="line 7", code_urls=["https://github.com/a/one"], extra={"stars": 1}),
        unversioned(feed=feed, position="entry 2"),
        PaperRecord(source=Source.BEIR, title="A corpus document", external_id="4983", dataset="scifact"),
    ):
        prepared = prepare(record)
        wire = pickle.loads(pickle.dumps(prepared.to_wire(), protocol=pickle.HIGHEST_PROTOCOL))
        assert Prepared.from_wire(wire) == prepared


def test_a_wire_tuple_missing_a_value_is_refused() -> None:
    # A tuple from a parser process of another build must not shift every later field by one.
    *head, values = prepare(arxiv()).to_wire()
    with pytest.raises(ValueError):
        Prepared.from_wire((*head, values[:-1]))


# -- the merge itself, without a database -----------------------------------------------------------


def _state(**changes: Any) -> PaperState:
    state = new_paper_state(ID, prepare(arxiv()), NOW)
    state.update(changes)  # type: ignore[typeddict-item]
    return state


def test_a_naive_stored_time_is_read_as_utc() -> None:
    # SQLite gives naive datetimes back: the merge must still see V2 as later than a stored V1.
    current = _state(updated_at=V1.replace(tzinfo=None))
    merged = merge_paper(current, record_values(arxiv(title="Sparse Attention, Revised", updated=V2)))
    assert merged["title"] == "Sparse Attention, Revised"
    assert merged["updated_at"] == V2
    again = merge_paper(current, record_values(arxiv(updated=V1)))
    assert not differs(current, again)


def test_a_known_arxiv_id_is_never_replaced_by_another_records() -> None:
    merged = merge_paper(_state(), record_values(arxiv(arxiv_id="2405.99999", updated=V2)))
    assert merged["arxiv_id"] == ID
    assert merge_paper(_state(arxiv_id=None), record_values(arxiv()))["arxiv_id"] == ID


def test_a_paper_stored_without_a_title_hash_gets_one() -> None:
    current = cast(PaperState, {k: v for k, v in _state().items() if k != "title_hash"})
    merged = merge_paper(current, record_values(arxiv()))
    assert merged["title_hash"] == title_hash(TITLE)

"""Queries about papers: the ingest upserts and the look-ups.

The ingest hot path uses Core statements and bulk ``executemany`` (thousands of rows per call);
everything else uses the ORM. Its rows are plain dicts typed as ``TypedDict``s (``PaperState``,
``FeedEntryRow``...): they cost nothing over a dict at a million papers, and mypy checks their keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from dailypapers.db import bulk_insert, chunked, upsert_insert
from dailypapers.models import (
    PAPER_VALUE_FIELDS,
    CollectionPaper,
    Comment,
    DigestPaper,
    FeedEntry,
    IngestCheckpoint,
    ModerationAction,
    Paper,
    PaperActivity,
    PaperAlias,
    PaperCategory,
    PaperSource,
    PaperState,
    PaperValues,
    Submission,
    Vote,
)

PAPERS = cast(Table, Paper.__table__)
CATEGORIES = cast(Table, PaperCategory.__table__)
SOURCES = cast(Table, PaperSource.__table__)
FEED = cast(Table, FeedEntry.__table__)
ALIASES = cast(Table, PaperAlias.__table__)
# Tables of the community that point at papers: a merge of two papers moves their rows.
VOTES = cast(Table, Vote.__table__)
COMMENTS = cast(Table, Comment.__table__)
ACTIVITY = cast(Table, PaperActivity.__table__)
SUBMISSIONS = cast(Table, Submission.__table__)
DIGEST_PAPERS = cast(Table, DigestPaper.__table__)
MODERATION_LOG = cast(Table, ModerationAction.__table__)
COLLECTION_PAPERS = cast(Table, CollectionPaper.__table__)

_PAPER_COLUMNS = [c.name for c in PAPERS.columns]
_UPDATABLE = [name for name in _PAPER_COLUMNS if name not in {"id", "first_seen_at"}]


# --------------------------------------------------------------------------------------------------
# Ingest
# --------------------------------------------------------------------------------------------------


class PaperSourceRow(TypedDict):
    """A row of ``paper_sources``: one source that described a paper."""

    paper_id: str
    source: str
    external_id: str | None
    first_seen_at: datetime


class FeedCounts(TypedDict):
    """The upstream counts of a paper's feed entry: all that a later record may change in it."""

    paper_id: str
    upvotes: int
    num_comments: int


class FeedEntryRow(FeedCounts):
    """A new row of ``feed_entries``: the day and submitter of the paper's first appearance stay."""

    day: date
    submitted_by: str | None
    source: str
    created_at: datetime


def papers_state(session: Session, *, ids: Iterable[str]) -> dict[str, PaperState]:
    """Current column values of the given papers, keyed by id (missing ids are absent)."""
    result: dict[str, PaperState] = {}
    for chunk in chunked(ids):
        for row in session.execute(select(PAPERS).where(PAPERS.c.id.in_(chunk))).mappings():
            result[row["id"]] = cast(PaperState, dict(row))
    return result


def paper_source_map(session: Session, *, ids: Iterable[str]) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for chunk in chunked(ids):
        rows = session.execute(
            select(SOURCES.c.paper_id, SOURCES.c.source).where(SOURCES.c.paper_id.in_(chunk))
        )
        for paper_id, source in rows:
            result.setdefault(paper_id, set()).add(source)
    return result


def feed_entries_state(session: Session, *, ids: Iterable[str]) -> dict[str, FeedCounts]:
    """The counts of the given papers' feed entries, keyed by paper id (papers off the feed are absent)."""
    result: dict[str, FeedCounts] = {}
    columns = (FEED.c.paper_id, FEED.c.upvotes, FEED.c.num_comments)
    for chunk in chunked(ids):
        for paper_id, upvotes, num_comments in session.execute(
            select(*columns).where(FEED.c.paper_id.in_(chunk))
        ):
            result[paper_id] = {"paper_id": paper_id, "upvotes": upvotes, "num_comments": num_comments}
    return result


def paper_ids_by_title_hash(session: Session, *, hashes: Iterable[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    for chunk in chunked(hashes):
        rows = session.execute(
            select(PAPERS.c.title_hash, PAPERS.c.id)
            .where(PAPERS.c.title_hash.in_(chunk))
            .order_by(PAPERS.c.id)
        )
        for hash_, paper_id in rows:
            result.setdefault(hash_, []).append(paper_id)
    return result


def _category_rows(states: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"paper_id": state["id"], "category": category, "position": position}
        for state in states
        for position, category in enumerate(state.get("categories") or [])
    ]


def write_papers(session: Session, *, created: list[PaperState], changed: list[PaperState]) -> None:
    """Insert new papers and rewrite changed ones, keeping the category table in step."""
    if created:
        # A TypedDict is a plain dict at run time; bulk_insert only reads it by column name.
        bulk_insert(session, PAPERS, cast(list[dict[str, Any]], created))
        bulk_insert(session, CATEGORIES, _category_rows(created))
    if changed:
        statement = (
            update(PAPERS)
            .where(PAPERS.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in _UPDATABLE})
        )
        session.execute(
            statement, [{"_id": s["id"], **{name: s.get(name) for name in _UPDATABLE}} for s in changed]
        )
        for chunk in chunked(state["id"] for state in changed):
            session.execute(delete(CATEGORIES).where(CATEGORIES.c.paper_id.in_(chunk)))
        rows = _category_rows(changed)
        if rows:
            session.execute(insert(CATEGORIES), rows)


def add_paper_sources(
    session: Session, *, rows: list[PaperSourceRow], may_exist: list[PaperSourceRow] | None = None
) -> None:
    """Record sources: ``rows`` are known to be new (papers created in this batch), ``may_exist`` are
    inserted unless already there."""
    bulk_insert(session, SOURCES, cast(list[dict[str, Any]], rows))
    if may_exist:
        statement = upsert_insert(session, SOURCES).on_conflict_do_nothing(
            index_elements=["paper_id", "source"]
        )
        session.execute(statement, may_exist)


def has_local_papers(session: Session) -> bool:
    """Whether any paper is known by title alone (a ``dp-`` id); a primary-key range seek."""
    found = session.execute(select(PAPERS.c.id).where(PAPERS.c.id >= "dp-", PAPERS.c.id < "dp.").limit(1))
    return found.first() is not None


def write_feed_entries(session: Session, *, created: list[FeedEntryRow], recounted: list[FeedCounts]) -> None:
    """Insert the papers' first feed entries and set new upstream counts on existing ones."""
    if created:
        session.execute(insert(FEED), created)
    if recounted:
        statement = (
            update(FEED)
            .where(FEED.c.paper_id == bindparam("_paper_id"))
            .values(upvotes=bindparam("upvotes"), num_comments=bindparam("num_comments"))
        )
        session.execute(
            statement,
            [
                {"_paper_id": r["paper_id"], "upvotes": r["upvotes"], "num_comments": r["num_comments"]}
                for r in recounted
            ],
        )


def merge_local_paper(session: Session, *, local_id: str, arxiv_id: str, now: datetime) -> None:
    """Fold a paper known only by title (``dp-...``, from a copied listing) into the arXiv paper with
    the same title, creating the arXiv paper from it when there is none yet.

    Everything people attached to the local paper follows it: sources, feed entry, votes, comments,
    submission, digest history, places in collections (notes included) and moderation log (where the
    arXiv paper already has a feed entry or a submission of its own, or is in the collection already,
    that one stays). The local id becomes an alias of the arXiv paper, so
    links to it keep working. This is the one write that spans the community tables: a merge must move
    them in the same transaction as the paper, or a vote could end up pointing at nothing.

    A local id can be absorbed more than once: once the arXiv paper takes a new title, reading the
    listing again re-creates the local paper under the same id, and the next record with the old title
    absorbs it again. A local id has one alias, to the paper it was last absorbed into: an alias row
    already there for it (to this paper or another) is pointed at ``arxiv_id``, never inserted twice,
    and its ``created_at`` becomes the time of this merge.
    """
    local = session.execute(select(PAPERS).where(PAPERS.c.id == local_id)).mappings().first()
    if local is None:
        return
    exists = session.execute(select(PAPERS.c.id).where(PAPERS.c.id == arxiv_id)).first() is not None
    if not exists:
        values = dict(local)
        values.update(id=arxiv_id, arxiv_id=arxiv_id)
        session.execute(insert(PAPERS), [values])
        rows = _category_rows([values])
        if rows:
            session.execute(insert(CATEGORIES), rows)
    _move_unique_rows(session, SOURCES, "source", local_id, arxiv_id)
    for table in (FEED, SUBMISSIONS):
        taken = session.execute(select(table.c.id).where(table.c.paper_id == arxiv_id)).first() is not None
        if not taken:
            session.execute(update(table).where(table.c.paper_id == local_id).values(paper_id=arxiv_id))
    _move_unique_rows(session, VOTES, "user_id", local_id, arxiv_id)
    _move_unique_rows(session, DIGEST_PAPERS, "subscription_id", local_id, arxiv_id)
    _move_unique_rows(session, COLLECTION_PAPERS, "collection_id", local_id, arxiv_id)
    for table in (COMMENTS, MODERATION_LOG, ALIASES):
        session.execute(update(table).where(table.c.paper_id == local_id).values(paper_id=arxiv_id))
    _merge_activity(session, local_id, arxiv_id)
    session.execute(delete(PAPERS).where(PAPERS.c.id == local_id))
    alias = upsert_insert(session, ALIASES).values(id=local_id, paper_id=arxiv_id, created_at=now)
    session.execute(
        alias.on_conflict_do_update(
            index_elements=[ALIASES.c.id],
            set_={"paper_id": alias.excluded.paper_id, "created_at": alias.excluded.created_at},
        )
    )


def _move_unique_rows(session: Session, table: Table, key: str, old_id: str, new_id: str) -> None:
    """Re-point ``table`` rows from ``old_id`` to ``new_id`` unless ``new_id`` has a row with the same
    ``key`` (the primary key is (paper_id, key)); the rows left behind go with the old paper."""
    column = table.c[key]
    taken = select(column).where(table.c.paper_id == new_id)
    session.execute(
        update(table).where(table.c.paper_id == old_id, column.not_in(taken)).values(paper_id=new_id)
    )
    session.execute(delete(table).where(table.c.paper_id == old_id))


def _merge_activity(session: Session, old_id: str, new_id: str) -> None:
    """Count the merged paper's votes and visible comments again, as the community code keeps them."""
    revisions = session.scalar(
        select(func.coalesce(func.sum(ACTIVITY.c.revision), 0)).where(
            ACTIVITY.c.paper_id.in_([old_id, new_id])
        )
    )
    session.execute(delete(ACTIVITY).where(ACTIVITY.c.paper_id.in_([old_id, new_id])))
    upvotes = session.scalar(select(func.count()).select_from(VOTES).where(VOTES.c.paper_id == new_id)) or 0
    comments = (
        session.scalar(
            select(func.count())
            .select_from(COMMENTS)
            .where(COMMENTS.c.paper_id == new_id, COMMENTS.c.status == "visible")
        )
        or 0
    )
    if upvotes or comments or revisions:
        # A new revision, so that cached pages of the discussion are rebuilt.
        session.execute(
            insert(ACTIVITY),
            [
                {
                    "paper_id": new_id,
                    "upvotes": upvotes,
                    "comments": comments,
                    "revision": int(revisions or 0) + 1,
                }
            ],
        )


def paper_alias_target(session: Session, *, paper_id: str) -> str | None:
    """The paper that ``paper_id`` was merged into, if it was (for redirecting old links)."""
    return session.scalar(select(ALIASES.c.paper_id).where(ALIASES.c.id == paper_id))


# --------------------------------------------------------------------------------------------------
# Categories: known, missing, predicted
# --------------------------------------------------------------------------------------------------


def _has_known_categories() -> Any:
    return (PAPERS.c.primary_category.is_not(None)) & (PAPERS.c.categories_predicted.is_(False))


def known_categories(session: Session, *, ids: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Categories that a source gave (not predicted ones), primary first, of the given papers or all."""
    statement = select(PAPERS.c.id, PAPERS.c.categories).where(_has_known_categories())
    if ids is None:
        return {paper_id: list(categories) for paper_id, categories in session.execute(statement)}
    result: dict[str, list[str]] = {}
    for chunk in chunked(ids):
        for paper_id, categories in session.execute(statement.where(PAPERS.c.id.in_(chunk))):
            result[paper_id] = list(categories)
    return result


def papers_without_categories(session: Session, *, include_predicted: bool = False) -> list[str]:
    """Ids of the papers that no source gave categories (and, if asked, those with predicted ones)."""
    condition: Any = PAPERS.c.primary_category.is_(None)
    if include_predicted:
        condition = condition | PAPERS.c.categories_predicted.is_(True)
    return list(session.scalars(select(PAPERS.c.id).where(condition).order_by(PAPERS.c.id)))


def ids_lacking_known_categories(session: Session, *, ids: Iterable[str]) -> list[str]:
    """Those of ``ids`` that are not stored yet or whose categories are missing or predicted."""
    wanted = list(dict.fromkeys(ids))
    known = known_categories(session, ids=wanted)
    return [paper_id for paper_id in wanted if paper_id not in known]


def save_predicted_categories(session: Session, *, predictions: dict[str, list[str]]) -> int:
    """Store predicted categories; papers that got real ones in the meantime are left alone.

    Returns how many papers were written.
    """
    written = 0
    for chunk in chunked(predictions):
        # Re-read in the writing transaction: a real category that arrived since the vote must win.
        open_ids = list(
            session.scalars(
                select(PAPERS.c.id).where(
                    PAPERS.c.id.in_(chunk),
                    PAPERS.c.primary_category.is_(None) | PAPERS.c.categories_predicted.is_(True),
                )
            )
        )
        rows = [
            {"_id": paper_id, "categories": predictions[paper_id], "primary": predictions[paper_id][0]}
            for paper_id in open_ids
            if predictions[paper_id]
        ]
        if not rows:
            continue
        session.execute(
            update(PAPERS)
            .where(PAPERS.c.id == bindparam("_id"))
            .values(
                categories=bindparam("categories"),
                primary_category=bindparam("primary"),
                categories_predicted=True,
            ),
            rows,
        )
        session.execute(delete(CATEGORIES).where(CATEGORIES.c.paper_id.in_([r["_id"] for r in rows])))
        session.execute(
            insert(CATEGORIES),
            [
                {"paper_id": r["_id"], "category": category, "position": position}
                for r in rows
                for position, category in enumerate(r["categories"])
            ],
        )
        written += len(rows)
    return written


def get_checkpoint(session: Session, *, file_key: str) -> IngestCheckpoint | None:
    return session.get(IngestCheckpoint, file_key)


def save_checkpoint(
    session: Session, *, file_key: str, path: str, byte_offset: int, line: int, now: datetime
) -> None:
    values = {"file_key": file_key, "path": path, "byte_offset": byte_offset, "line": line, "updated_at": now}
    statement = upsert_insert(session, IngestCheckpoint.__table__).values(counts={}, **values)
    statement = statement.on_conflict_do_update(
        index_elements=["file_key"], set_={"byte_offset": byte_offset, "line": line, "updated_at": now}
    )
    session.execute(statement)


def delete_checkpoint(session: Session, *, file_key: str) -> None:
    session.execute(delete(IngestCheckpoint).where(IngestCheckpoint.file_key == file_key))


# --------------------------------------------------------------------------------------------------
# Reading papers
# --------------------------------------------------------------------------------------------------


def get_paper(session: Session, *, paper_id: str) -> Paper | None:
    return session.get(Paper, paper_id)


def count_papers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Paper)) or 0


def papers_for_day(session: Session, *, day: date, limit: int = 100, offset: int = 0) -> list[Paper]:
    """Papers on the daily feed for ``day``, most upvoted first."""
    statement = (
        select(Paper)
        .join(FeedEntry, FeedEntry.paper_id == Paper.id)
        .where(FeedEntry.day == day)
        .order_by(FeedEntry.upvotes.desc(), Paper.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(statement))


def latest_papers(session: Session, *, limit: int = 100, offset: int = 0) -> list[Paper]:
    """Most recently published papers first (papers without a date last)."""
    statement = (
        select(Paper)
        .order_by(Paper.published_at.desc().nulls_last(), Paper.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(statement))


def latest_feed_day(session: Session) -> date | None:
    return session.scalar(select(func.max(FeedEntry.day)))


def iter_papers(session: Session, *, batch_size: int = 1000) -> Iterator[Paper]:
    """Every paper in id order, read in pages so that memory stays flat on large databases."""
    last_id = ""
    while True:
        page = list(
            session.scalars(select(Paper).where(Paper.id > last_id).order_by(Paper.id).limit(batch_size))
        )
        if not page:
            return
        yield from page
        last_id = page[-1].id
        session.expunge_all()


def stats(session: Session) -> dict[str, Any]:
    """Counts for ``dailypapers stats``: papers, per source, feed entries and days, categories."""
    per_source = dict(
        session.execute(
            select(PaperSource.source, func.count()).group_by(PaperSource.source).order_by(PaperSource.source)
        ).all()
    )
    with_arxiv = (
        session.scalar(select(func.count()).select_from(Paper).where(Paper.arxiv_id.is_not(None))) or 0
    )
    feed_entries = session.scalar(select(func.count()).select_from(FeedEntry)) or 0
    feed_days = session.scalar(select(func.count(func.distinct(FeedEntry.day)))) or 0
    categories = session.scalar(select(func.count(func.distinct(PaperCategory.category)))) or 0
    first_day, last_day = session.execute(select(func.min(FeedEntry.day), func.max(FeedEntry.day))).one()
    total = count_papers(session)
    return {
        "papers": total,
        "with_arxiv_id": with_arxiv,
        "without_arxiv_id": total - with_arxiv,
        "sources": per_source,
        "feed_entries": feed_entries,
        "feed_days": feed_days,
        "feed_first_day": first_day.isoformat() if first_day else None,
        "feed_last_day": last_day.isoformat() if last_day else None,
        "categories": categories,
    }


def iter_index_rows(session: Session, *, batch_size: int = 2000) -> Iterator[Any]:
    """The columns the search index needs, for every paper in id order, read page by page."""
    columns = (
        PAPERS.c.id,
        PAPERS.c.title,
        PAPERS.c.abstract,
        PAPERS.c.authors,
        PAPERS.c.categories,
        PAPERS.c.published_at,
    )
    last_id = ""
    while True:
        page = session.execute(
            select(*columns).where(PAPERS.c.id > last_id).order_by(PAPERS.c.id).limit(batch_size)
        ).all()
        if not page:
            return
        yield from page
        last_id = page[-1].id


def paper_texts(session: Session, *, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Title and abstract of the given papers."""
    result: dict[str, tuple[str, str]] = {}
    for chunk in chunked(ids):
        rows = session.execute(
            select(PAPERS.c.id, PAPERS.c.title, PAPERS.c.abstract).where(PAPERS.c.id.in_(chunk))
        )
        for paper_id, title, abstract in rows:
            result[paper_id] = (title or "", abstract or "")
    return result


def papers_by_ids(session: Session, *, ids: list[str]) -> list[Paper]:
    """The papers with these ids, in the order given (unknown ids are skipped)."""
    found: dict[str, Paper] = {}
    for chunk in chunked(ids):
        for paper in session.scalars(select(Paper).where(Paper.id.in_(chunk))):
            found[paper.id] = paper
    return [found[i] for i in ids if i in found]


__all__ = [
    "PAPER_VALUE_FIELDS",
    "FeedCounts",
    "FeedEntryRow",
    "PaperSourceRow",
    "PaperState",
    "PaperValues",
    "add_paper_sources",
    "count_papers",
    "delete_checkpoint",
    "feed_entries_state",
    "get_checkpoint",
    "get_paper",
    "has_local_papers",
    "ids_lacking_known_categories",
    "iter_index_rows",
    "iter_papers",
    "known_categories",
    "latest_feed_day",
    "latest_papers",
    "merge_local_paper",
    "paper_alias_target",
    "paper_ids_by_title_hash",
    "paper_source_map",
    "paper_texts",
    "papers_by_ids",
    "papers_for_day",
    "papers_state",
    "papers_without_categories",
    "save_checkpoint",
    "save_predicted_categories",
    "stats",
    "write_feed_entries",
    "write_papers",
]

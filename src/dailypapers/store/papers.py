"""Queries about papers: the ingest upserts and the look-ups.

The ingest hot path uses Core statements and bulk ``executemany`` (thousands of rows per call);
everything else uses the ORM.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from dailypapers.db import bulk_insert, upsert_insert
from dailypapers.models import FeedEntry, IngestCheckpoint, Paper, PaperCategory, PaperSource

PAPERS = cast(Table, Paper.__table__)
CATEGORIES = cast(Table, PaperCategory.__table__)
SOURCES = cast(Table, PaperSource.__table__)
FEED = cast(Table, FeedEntry.__table__)

_PAPER_COLUMNS = [c.name for c in PAPERS.columns]
_UPDATABLE = [name for name in _PAPER_COLUMNS if name not in {"id", "first_seen_at"}]
# SQLite allows 32,766 bound parameters per statement; stay far below it for IN lists.
_IN_CHUNK = 900


def _chunks(values: Iterable[Any], size: int = _IN_CHUNK) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for value in values:
        chunk.append(value)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --------------------------------------------------------------------------------------------------
# Ingest
# --------------------------------------------------------------------------------------------------


def papers_state(session: Session, *, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Current column values of the given papers, keyed by id (missing ids are absent)."""
    result: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        for row in session.execute(select(PAPERS).where(PAPERS.c.id.in_(chunk))).mappings():
            result[row["id"]] = dict(row)
    return result


def paper_source_map(session: Session, *, ids: Iterable[str]) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(SOURCES.c.paper_id, SOURCES.c.source).where(SOURCES.c.paper_id.in_(chunk))
        )
        for paper_id, source in rows:
            result.setdefault(paper_id, set()).add(source)
    return result


def feed_entries_state(session: Session, *, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        for row in session.execute(select(FEED).where(FEED.c.paper_id.in_(chunk))).mappings():
            result[row["paper_id"]] = dict(row)
    return result


def paper_ids_by_title_hash(session: Session, *, hashes: Iterable[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    for chunk in _chunks(hashes):
        rows = session.execute(
            select(PAPERS.c.title_hash, PAPERS.c.id)
            .where(PAPERS.c.title_hash.in_(chunk))
            .order_by(PAPERS.c.id)
        )
        for hash_, paper_id in rows:
            result.setdefault(hash_, []).append(paper_id)
    return result


def _category_rows(states: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"paper_id": state["id"], "category": category, "position": position}
        for state in states
        for position, category in enumerate(state.get("categories") or [])
    ]


def write_papers(session: Session, *, created: list[dict[str, Any]], changed: list[dict[str, Any]]) -> None:
    """Insert new papers and rewrite changed ones, keeping the category table in step."""
    if created:
        bulk_insert(session, PAPERS, created)
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
        for chunk in _chunks(state["id"] for state in changed):
            session.execute(delete(CATEGORIES).where(CATEGORIES.c.paper_id.in_(chunk)))
        rows = _category_rows(changed)
        if rows:
            session.execute(insert(CATEGORIES), rows)


def add_paper_sources(
    session: Session, *, rows: list[dict[str, Any]], may_exist: list[dict[str, Any]] | None = None
) -> None:
    """Record sources: ``rows`` are known to be new (papers created in this batch), ``may_exist`` are
    inserted unless already there."""
    bulk_insert(session, SOURCES, rows)
    if may_exist:
        statement = upsert_insert(session, SOURCES).on_conflict_do_nothing(
            index_elements=["paper_id", "source"]
        )
        session.execute(statement, may_exist)


def has_local_papers(session: Session) -> bool:
    """Whether any paper is known by title alone (a ``dp-`` id); a primary-key range seek."""
    found = session.execute(select(PAPERS.c.id).where(PAPERS.c.id >= "dp-", PAPERS.c.id < "dp.").limit(1))
    return found.first() is not None


def write_feed_entries(session: Session, *, rows: list[dict[str, Any]]) -> None:
    new = [{k: v for k, v in row.items() if k not in {"_new", "id"}} for row in rows if row.get("_new")]
    old = [row for row in rows if not row.get("_new")]
    if new:
        session.execute(insert(FEED), new)
    if old:
        statement = (
            update(FEED)
            .where(FEED.c.paper_id == bindparam("_paper_id"))
            .values(upvotes=bindparam("upvotes"), num_comments=bindparam("num_comments"))
        )
        session.execute(
            statement,
            [
                {"_paper_id": r["paper_id"], "upvotes": r["upvotes"], "num_comments": r["num_comments"]}
                for r in old
            ],
        )


def absorb_local_paper(session: Session, *, local_id: str, arxiv_id: str) -> None:
    """Fold a paper known only by title (``dp-...``) into the arXiv paper with the same title.

    Its sources and feed entry move over; where the arXiv paper already has one, the arXiv one stays.
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
    taken = {s for (s,) in session.execute(select(SOURCES.c.source).where(SOURCES.c.paper_id == arxiv_id))}
    for (source,) in session.execute(select(SOURCES.c.source).where(SOURCES.c.paper_id == local_id)).all():
        if source not in taken:
            session.execute(
                update(SOURCES)
                .where(SOURCES.c.paper_id == local_id, SOURCES.c.source == source)
                .values(paper_id=arxiv_id)
            )
    has_feed = session.execute(select(FEED.c.id).where(FEED.c.paper_id == arxiv_id)).first() is not None
    if not has_feed:
        session.execute(update(FEED).where(FEED.c.paper_id == local_id).values(paper_id=arxiv_id))
    session.execute(delete(PAPERS).where(PAPERS.c.id == local_id))


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
    for chunk in _chunks(ids):
        rows = session.execute(
            select(PAPERS.c.id, PAPERS.c.title, PAPERS.c.abstract).where(PAPERS.c.id.in_(chunk))
        )
        for paper_id, title, abstract in rows:
            result[paper_id] = (title or "", abstract or "")
    return result


def papers_by_ids(session: Session, *, ids: list[str]) -> list[Paper]:
    """The papers with these ids, in the order given (unknown ids are skipped)."""
    found: dict[str, Paper] = {}
    for chunk in _chunks(ids):
        for paper in session.scalars(select(Paper).where(Paper.id.in_(chunk))):
            found[paper.id] = paper
    return [found[i] for i in ids if i in found]


__all__ = [
    "absorb_local_paper",
    "add_paper_sources",
    "count_papers",
    "delete_checkpoint",
    "feed_entries_state",
    "get_checkpoint",
    "get_paper",
    "has_local_papers",
    "iter_index_rows",
    "iter_papers",
    "latest_feed_day",
    "latest_papers",
    "paper_ids_by_title_hash",
    "paper_source_map",
    "paper_texts",
    "papers_by_ids",
    "papers_for_day",
    "papers_state",
    "save_checkpoint",
    "stats",
    "write_feed_entries",
    "write_papers",
]

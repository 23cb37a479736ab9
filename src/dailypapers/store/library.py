"""Queries of the library: each account's collections and the papers in them, with a note per paper.

Who may do what is decided in :mod:`dailypapers.community.library`; every write here still names the
owner in its ``WHERE`` clause, so a function called with the wrong account changes nothing rather than
someone else's collection. A paper is in a collection once by construction (the primary key is
(collection, paper)), so saving it twice, or from two tabs at once, adds one row:
``INSERT ... ON CONFLICT DO NOTHING RETURNING`` says on both databases whether a row was added. The
default collection (slug ``saved``) is made the same way on first use, so two first saves at once make
one collection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from dailypapers.db import chunked, upsert_insert
from dailypapers.models import Collection, CollectionPaper

COLLECTIONS = cast(Table, Collection.__table__)
COLLECTION_PAPERS = cast(Table, CollectionPaper.__table__)

DEFAULT_SLUG = "saved"
DEFAULT_NAME = "Saved"


@dataclass(frozen=True, slots=True)
class CollectionSummary:
    """A collection as lists show it: its own columns and how many papers it holds."""

    id: int
    owner_id: int
    name: str
    slug: str
    description: str | None
    shared: bool
    created_at: datetime
    updated_at: datetime
    papers: int


@dataclass(frozen=True, slots=True)
class CollectionEntry:
    """A paper in a collection: which one, the owner's note on it and when it was added."""

    paper_id: str
    note: str
    added_at: datetime


def _touch(session: Session, collection_id: int, now: datetime) -> None:
    session.execute(update(COLLECTIONS).where(COLLECTIONS.c.id == collection_id).values(updated_at=now))


def get_collection(session: Session, *, collection_id: int) -> Collection | None:
    return session.get(Collection, collection_id)


def collection_by_slug(session: Session, *, owner_id: int, slug: str) -> Collection | None:
    return session.scalars(
        select(Collection).where(Collection.owner_id == owner_id, Collection.slug == slug)
    ).first()


def slug_taken(session: Session, *, owner_id: int, slug: str, except_id: int | None = None) -> bool:
    statement = select(COLLECTIONS.c.id).where(COLLECTIONS.c.owner_id == owner_id, COLLECTIONS.c.slug == slug)
    if except_id is not None:
        statement = statement.where(COLLECTIONS.c.id != except_id)
    return session.execute(statement).first() is not None


def slugs_like(session: Session, *, owner_id: int, stem: str) -> set[str]:
    """The owner's slugs that are ``stem`` or start with ``stem-`` (to choose a free one)."""
    rows = session.execute(
        select(COLLECTIONS.c.slug).where(
            COLLECTIONS.c.owner_id == owner_id,
            (COLLECTIONS.c.slug == stem) | COLLECTIONS.c.slug.startswith(stem + "-", autoescape=True),
        )
    )
    return {slug for (slug,) in rows}


def count_collections(session: Session, *, owner_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(COLLECTIONS).where(COLLECTIONS.c.owner_id == owner_id)
        )
        or 0
    )


def create_collection(
    session: Session,
    *,
    owner_id: int,
    name: str,
    slug: str,
    description: str | None,
    shared: bool,
    now: datetime,
) -> int | None:
    """A new collection; None when the owner has one at ``slug`` already (nothing is written then)."""
    statement = (
        upsert_insert(session, COLLECTIONS)
        .values(
            owner_id=owner_id,
            name=name,
            slug=slug,
            description=description,
            shared=shared,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["owner_id", "slug"])
        .returning(COLLECTIONS.c.id)
    )
    row = session.execute(statement).first()
    return None if row is None else int(row[0])


def default_collection_id(session: Session, *, owner_id: int, now: datetime) -> int:
    """The owner's default collection (``saved``), made now when there is none yet."""
    create_collection(
        session,
        owner_id=owner_id,
        name=DEFAULT_NAME,
        slug=DEFAULT_SLUG,
        description=None,
        shared=False,
        now=now,
    )
    found = session.scalar(
        select(COLLECTIONS.c.id).where(COLLECTIONS.c.owner_id == owner_id, COLLECTIONS.c.slug == DEFAULT_SLUG)
    )
    assert found is not None
    return int(found)


def find_default_collection_id(session: Session, *, owner_id: int) -> int | None:
    """The owner's default collection, or None when they never saved anything."""
    found = session.scalar(
        select(COLLECTIONS.c.id).where(COLLECTIONS.c.owner_id == owner_id, COLLECTIONS.c.slug == DEFAULT_SLUG)
    )
    return None if found is None else int(found)


def update_collection(
    session: Session, *, collection_id: int, owner_id: int, values: dict[str, Any], now: datetime
) -> bool:
    """Change the owner's collection (name, slug, description, shared); False when it is not theirs."""
    row = session.execute(
        update(COLLECTIONS)
        .where(COLLECTIONS.c.id == collection_id, COLLECTIONS.c.owner_id == owner_id)
        .values(**values, updated_at=now)
        .returning(COLLECTIONS.c.id)
    ).first()
    return row is not None


def delete_collection(session: Session, *, collection_id: int, owner_id: int) -> bool:
    """Delete the owner's collection and, by the cascade, its papers; False when it is not theirs."""
    row = session.execute(
        delete(COLLECTIONS)
        .where(COLLECTIONS.c.id == collection_id, COLLECTIONS.c.owner_id == owner_id)
        .returning(COLLECTIONS.c.id)
    ).first()
    return row is not None


def collections_of(session: Session, *, owner_id: int, shared_only: bool = False) -> list[CollectionSummary]:
    """The owner's collections with their sizes: the default one first, then by name."""
    counts = (
        select(COLLECTION_PAPERS.c.collection_id, func.count().label("n"))
        .group_by(COLLECTION_PAPERS.c.collection_id)
        .subquery()
    )
    statement = (
        select(
            COLLECTIONS.c.id,
            COLLECTIONS.c.owner_id,
            COLLECTIONS.c.name,
            COLLECTIONS.c.slug,
            COLLECTIONS.c.description,
            COLLECTIONS.c.shared,
            COLLECTIONS.c.created_at,
            COLLECTIONS.c.updated_at,
            func.coalesce(counts.c.n, 0),
        )
        .select_from(COLLECTIONS.outerjoin(counts, counts.c.collection_id == COLLECTIONS.c.id))
        .where(COLLECTIONS.c.owner_id == owner_id)
        .order_by((COLLECTIONS.c.slug != DEFAULT_SLUG), func.lower(COLLECTIONS.c.name), COLLECTIONS.c.id)
    )
    if shared_only:
        statement = statement.where(COLLECTIONS.c.shared.is_(True))
    return [CollectionSummary(*row[:8], papers=int(row[8])) for row in session.execute(statement)]


def count_entries(session: Session, *, collection_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(COLLECTION_PAPERS)
            .where(COLLECTION_PAPERS.c.collection_id == collection_id)
        )
        or 0
    )


def collection_entries(
    session: Session, *, collection_id: int, limit: int | None = None, offset: int = 0
) -> list[CollectionEntry]:
    """The papers of a collection, the most recently added first."""
    statement = (
        select(COLLECTION_PAPERS.c.paper_id, COLLECTION_PAPERS.c.note, COLLECTION_PAPERS.c.added_at)
        .where(COLLECTION_PAPERS.c.collection_id == collection_id)
        .order_by(COLLECTION_PAPERS.c.added_at.desc(), COLLECTION_PAPERS.c.paper_id)
        .offset(offset)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return [CollectionEntry(row.paper_id, row.note or "", row.added_at) for row in session.execute(statement)]


def add_to_collection(
    session: Session, *, collection_id: int, paper_id: str, note: str = "", now: datetime
) -> bool:
    """Put a paper in a collection; False when it was there already (its note is kept then)."""
    statement = (
        upsert_insert(session, COLLECTION_PAPERS)
        .values(collection_id=collection_id, paper_id=paper_id, note=note, added_at=now)
        .on_conflict_do_nothing(index_elements=["collection_id", "paper_id"])
        .returning(COLLECTION_PAPERS.c.paper_id)
    )
    if session.execute(statement).first() is None:
        return False
    _touch(session, collection_id, now)
    return True


def remove_from_collection(session: Session, *, collection_id: int, paper_id: str, now: datetime) -> bool:
    """Take a paper out of a collection; False when it was not in it."""
    row = session.execute(
        delete(COLLECTION_PAPERS)
        .where(COLLECTION_PAPERS.c.collection_id == collection_id, COLLECTION_PAPERS.c.paper_id == paper_id)
        .returning(COLLECTION_PAPERS.c.paper_id)
    ).first()
    if row is None:
        return False
    _touch(session, collection_id, now)
    return True


def set_note(session: Session, *, collection_id: int, paper_id: str, note: str, now: datetime) -> bool:
    """Replace the note on a paper of a collection; False when the paper is not in it."""
    row = session.execute(
        update(COLLECTION_PAPERS)
        .where(COLLECTION_PAPERS.c.collection_id == collection_id, COLLECTION_PAPERS.c.paper_id == paper_id)
        .values(note=note)
        .returning(COLLECTION_PAPERS.c.paper_id)
    ).first()
    if row is None:
        return False
    _touch(session, collection_id, now)
    return True


def collection_paper_ids(session: Session, *, collection_id: int, paper_ids: Sequence[str]) -> set[str]:
    """Which of ``paper_ids`` are in the collection."""
    found: set[str] = set()
    for chunk in chunked(list(dict.fromkeys(paper_ids))):
        rows = session.execute(
            select(COLLECTION_PAPERS.c.paper_id).where(
                COLLECTION_PAPERS.c.collection_id == collection_id, COLLECTION_PAPERS.c.paper_id.in_(chunk)
            )
        )
        found.update(paper_id for (paper_id,) in rows)
    return found


def saved_ids(session: Session, *, owner_id: int, paper_ids: Sequence[str]) -> set[str]:
    """Which of ``paper_ids`` are in the owner's default collection (what the Save buttons show)."""
    default = find_default_collection_id(session, owner_id=owner_id)
    if default is None or not paper_ids:
        return set()
    return collection_paper_ids(session, collection_id=default, paper_ids=paper_ids)


__all__ = [
    "DEFAULT_NAME",
    "DEFAULT_SLUG",
    "CollectionEntry",
    "CollectionSummary",
    "add_to_collection",
    "collection_by_slug",
    "collection_entries",
    "collection_paper_ids",
    "collections_of",
    "count_collections",
    "count_entries",
    "create_collection",
    "default_collection_id",
    "delete_collection",
    "find_default_collection_id",
    "get_collection",
    "remove_from_collection",
    "saved_ids",
    "set_note",
    "slug_taken",
    "slugs_like",
    "update_collection",
]

"""Database tables (SQLAlchemy 2.0 declarative). One schema serves SQLite and PostgreSQL.

Lists that are always read whole with their paper (authors, versions, links) are JSON columns; lists
that are filtered on (categories) also get a table of their own so that both databases can use an index.
Alembic migrations in ``migrations/versions`` create and evolve these tables; ``metadata`` here must
match the newest migration (a test compares them).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names keep migrations identical on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[dict[str, Any]]: JSON,
    }


class Paper(Base):
    """A paper: arXiv papers are keyed by their id without version, others by a stable id of their own."""

    __tablename__ = "papers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Equal to ``id`` for arXiv papers (no separate unique index: the primary key already is one).
    arxiv_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    title_hash: Mapped[int] = mapped_column(BigInteger, index=True)
    abstract: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(default=list)
    categories: Mapped[list[str]] = mapped_column(default=list)
    primary_category: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int | None] = mapped_column(Integer)
    versions: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime | None]
    comments: Mapped[str | None] = mapped_column(Text)
    journal_ref: Mapped[str | None] = mapped_column(Text)
    doi: Mapped[str | None] = mapped_column(String(255))
    license: Mapped[str | None] = mapped_column(String(255))
    code_urls: Mapped[list[str]] = mapped_column(default=list)
    project_url: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_seen_at: Mapped[datetime]
    changed_at: Mapped[datetime]

    sources: Mapped[list[PaperSource]] = relationship(
        back_populates="paper", cascade="all, delete-orphan", lazy="selectin"
    )
    feed_entry: Mapped[FeedEntry | None] = relationship(back_populates="paper", lazy="selectin")


class PaperCategory(Base):
    """One row per (paper, category) so that feeds and search can filter by category with an index."""

    __tablename__ = "paper_categories"

    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    # WITHOUT ROWID on SQLite: the rows live in the primary-key B-tree, one B-tree less to write.
    __table_args__ = (
        Index("ix_paper_categories_category", "category", "paper_id"),
        {"sqlite_with_rowid": False},
    )


class PaperSource(Base):
    """Each source a paper was read from, with the source's own id for it when it has one."""

    __tablename__ = "paper_sources"

    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(255))
    first_seen_at: Mapped[datetime]

    paper: Mapped[Paper] = relationship(back_populates="sources")

    __table_args__ = ({"sqlite_with_rowid": False},)


class FeedEntry(Base):
    """A paper's place on the daily feed: the day it appears, who submitted it, its votes and comments.

    ``upvotes`` and ``num_comments`` carry the counts an upstream (Hugging Face) reported; local votes and
    comments are counted on top of them.
    """

    __tablename__ = "feed_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), unique=True)
    day: Mapped[date] = mapped_column(Date)
    submitted_by: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32))
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    num_comments: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]

    paper: Mapped[Paper] = relationship(back_populates="feed_entry")

    __table_args__ = (Index("ix_feed_entries_day_upvotes", "day", "upvotes"),)


class IngestCheckpoint(Base):
    """How far a long ingest (the arXiv snapshot) got, committed with each batch so a rerun resumes."""

    __tablename__ = "ingest_checkpoints"

    file_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    byte_offset: Mapped[int] = mapped_column(BigInteger)
    line: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class InstanceState(Base):
    """Key/value facts about this installation (for example which embedding model built the vectors)."""

    __tablename__ = "instance_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


__all__ = [
    "Base",
    "FeedEntry",
    "IngestCheckpoint",
    "InstanceState",
    "Paper",
    "PaperCategory",
    "PaperSource",
]

"""Database tables (SQLAlchemy 2.0 declarative). One schema serves SQLite and PostgreSQL.

Lists that are always read whole with their paper (authors, versions, links) are JSON columns; lists
that are filtered on (categories) also get a table of their own so that both databases can use an index.
Alembic migrations in ``migrations/versions`` create and evolve these tables; ``metadata`` here must
match the newest migration (a test compares them). Every ``datetime`` column is a :class:`UTCDateTime`,
so code that reads one always gets an aware UTC time, whichever database it came from.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar, TypedDict

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names keep migrations identical on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that stores and returns aware UTC times on both databases.

    SQLite keeps no zone: SQLAlchemy writes a datetime's wall-clock digits and reads them back naive, so
    a time written at +02:00 would be stored two hours off (and compare wrongly in SQL), and every reader
    would have to re-attach UTC. PostgreSQL's ``timestamptz`` comes back in the session's zone. Hence
    values are converted to UTC on the way in, naive ones taken to be UTC already (as the code always
    has), and returned as aware UTC. The DDL is the plain type's, so migrations are unchanged.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return _in_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return _in_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
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
    # True when no source gave categories and they were predicted from similar papers; real ones replace them.
    categories_predicted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
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


class PaperAlias(Base):
    """An id a paper was known by before it was merged into another (a listing paper into its arXiv
    paper), kept so that links and bookmarks to the old id still lead somewhere."""

    __tablename__ = "paper_aliases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]


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


class Subscription(Base):
    """Someone who asked for digests by mail, with their preferences.

    ``status`` moves pending → active (the confirmation link was used) → paused (mail kept bouncing) or
    unsubscribed; only active subscriptions get digests. ``token_key`` is part of every signed link made
    for the subscription: replacing it revokes them all, and it keeps a link of a removed subscription
    from working for a later one that reuses its id.
    """

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # Subscriptions made from an account point at it (users.id); most have none.
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    frequency: Mapped[str] = mapped_column(String(8), default="daily")
    selection: Mapped[str] = mapped_column(String(8), default="trending")
    categories: Mapped[list[str]] = mapped_column(default=list)
    keywords: Mapped[list[str]] = mapped_column(default=list)
    exclude_keywords: Mapped[list[str]] = mapped_column(default=list)
    max_papers: Mapped[int] = mapped_column(Integer, default=10)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    send_hour: Mapped[int] = mapped_column(Integer, default=8)
    token_key: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16), default="web")
    hard_bounces: Mapped[int] = mapped_column(Integer, default=0)
    last_bounce: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    confirmation_sent_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active', 'paused', 'unsubscribed')", name="status"),
        CheckConstraint("frequency IN ('daily', 'weekly')", name="frequency"),
        CheckConstraint("selection IN ('trending', 'new')", name="selection"),
        CheckConstraint("send_hour >= 0 AND send_hour <= 23", name="send_hour"),
        CheckConstraint("max_papers >= 1 AND max_papers <= 100", name="max_papers"),
    )


class OutboxMessage(Base):
    """One mail, rendered once and kept until the SMTP server accepted it.

    ``(subscription_id, period)`` is unique, so a digest of a period exists at most once however often
    it is composed. ``status`` moves pending → sending (claimed by one sender: ``claim_token`` and
    ``claimed_at``) → sent, or back to pending with a later ``next_attempt_at`` after a temporary failure,
    or to failed (permanent refusal, or too many tries) or cancelled (unsubscribed before it went out).
    A row left in sending by a sender that died is claimed again once its lease has expired.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    # 2026-06-12 (daily), 2026-W24 (weekly), confirm-20260612T0830 (confirmation mails)
    period: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    recipient: Mapped[str] = mapped_column(String(320))
    message: Mapped[bytes] = mapped_column(LargeBinary)
    paper_count: Mapped[int] = mapped_column(Integer, default=0)
    covers_from: Mapped[date | None] = mapped_column(Date)
    covers_to: Mapped[date | None] = mapped_column(Date)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("subscription_id", "period", name="uq_outbox_messages_subscription_period"),
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
        # Each composing run looks up the periods it is about and the days recent digests covered.
        Index("ix_outbox_messages_period", "period"),
        Index("ix_outbox_messages_covers_to", "covers_to"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')", name="status"),
    )


class DigestPaper(Base):
    """A paper put in a subscriber's digest: the primary key makes sending it to them twice impossible.

    Papers are keyed by arXiv id without version, so a new version of a paper is the same row.
    """

    __tablename__ = "digest_papers"

    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_digest_papers_paper_id", "paper_id"),)


# --------------------------------------------------------------------------------------------------
# The community: accounts, sessions, API tokens, votes, comments, submissions, moderation
# --------------------------------------------------------------------------------------------------

ROLES = ("user", "moderator", "admin")


class User(Base):
    """An account. ``username`` is shown as typed; ``username_key`` (case-folded) is what must be unique.

    ``security_stamp`` is a random value that every password-reset link is bound to: it changes with the
    password, so a reset link works once and a password change voids the links sent before it.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(32))
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="user")
    security_stamp: Mapped[str] = mapped_column(String(32))
    show_upvotes: Mapped[bool] = mapped_column(Boolean, default=False)
    email_verified_at: Mapped[datetime | None]
    verification_sent_at: Mapped[datetime | None]
    reset_sent_at: Mapped[datetime | None]
    banned_at: Mapped[datetime | None]
    ban_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("role IN ('user', 'moderator', 'admin')", name="role"),)

    @property
    def is_moderator(self) -> bool:
        return self.role in ("moderator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_banned(self) -> bool:
        return self.banned_at is not None


class UserSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored (``id``), so a
    copy of the database does not sign anyone in. Deleting the row logs that browser out."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class ApiToken(Base):
    """A personal API token. Only the SHA-256 of the token is kept; ``prefix`` lets its owner tell
    tokens apart. A revoked token stays listed with ``revoked_at`` set."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed log-ins per account (``account:<name>``) and per client address (``address:<ip>``).

    Kept in the database so that every worker process sees the same counts.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class Vote(Base):
    """One upvote: the primary key makes a second vote of the same person on the same paper impossible."""

    __tablename__ = "votes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_votes_paper_id", "paper_id"),)


class PaperActivity(Base):
    """This site's own counts for a paper, on top of the upstream ones in ``feed_entries``.

    ``upvotes`` is the number of ``votes`` rows and ``comments`` the number of visible comments; both are
    changed by atomic ``UPDATE ... SET n = n + 1`` in the transaction that adds or removes the vote or
    comment, never by reading and writing back. ``revision`` grows with every change to the paper's
    discussion (edits included), so cached pages can tell that they are out of date.
    """

    __tablename__ = "paper_activity"

    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer, default=0)


class Comment(Base):
    """A comment on a paper, in a thread (``parent_id``). The text is Markdown with ``$...$`` math.

    ``status``: visible, deleted (by its author: the text is erased, the row keeps the replies' place)
    or hidden (by a moderator: the text is kept so the decision can be undone).
    """

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="visible")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_comments_paper_id_id", "paper_id", "id"),
        Index("ix_comments_user_id_id", "user_id", "id"),
        Index("ix_comments_user_id_created_at", "user_id", "created_at"),
        CheckConstraint("status IN ('visible', 'deleted', 'hidden')", name="status"),
    )


class Submission(Base):
    """Who put a paper on the feed, and when. A paper is on the feed once, so it is submitted once."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_submissions_user_id_created_at", "user_id", "created_at"),)


SUBMISSION_ACTIONS = ("submit", "fetch")
SUBMISSION_OUTCOMES = ("pending", "added", "already", "fetched", "not_found", "too_old", "failed", "busy")


class SubmissionAttempt(Base):
    """Every paper an account asked to submit to the feed or fetch from arXiv, whatever came of it.

    The daily limit counts these rows, not the papers that reached the feed: a look-up that arXiv answered
    with nothing, or that failed, costs the site and arXiv as much as one that worked. The row is written,
    as ``pending``, before any upstream work starts, so a crash midway still counts. ``paper_id`` is the
    arXiv id asked for, which may name no paper at all, hence no foreign key.
    """

    __tablename__ = "submission_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    paper_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_submission_attempts_user_id_created_at", "user_id", "created_at"),
        CheckConstraint("action IN ('submit', 'fetch')", name="action"),
        CheckConstraint(
            "outcome IN ('pending', 'added', 'already', 'fetched', 'not_found', 'too_old', 'failed', 'busy')",
            name="outcome",
        ),
    )


class ModerationAction(Base):
    """Every moderation decision: who (``None``: the operator, from the command line), what, to whom."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    paper_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)


# --------------------------------------------------------------------------------------------------
# The library: each account's collections of papers, with a note per paper
# --------------------------------------------------------------------------------------------------


class Collection(Base):
    """A named list of papers that one account keeps. Private unless ``shared``: a shared collection
    can be read by anyone at ``/u/NAME/c/SLUG``. ``slug`` is unique per owner; the collection whose
    slug is ``saved`` is the account's default one, made on its first save."""

    __tablename__ = "collections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("owner_id", "slug", name="uq_collections_owner_id_slug"),)


class CollectionPaper(Base):
    """A paper in a collection: the primary key makes saving it twice to the same collection one row."""

    __tablename__ = "collection_papers"

    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    added_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_collection_papers_collection_id_added_at", "collection_id", "added_at"),
        Index("ix_collection_papers_paper_id", "paper_id"),
    )


# Rows as ingest reads and writes them, typed: plain dicts at run time (the hot path builds millions).


class PaperValues(TypedDict):
    """What one source says about a paper: the columns a record provides (empty means 'not provided').

    This class is the one list of those fields; ``PAPER_VALUE_FIELDS`` is read from it.
    """

    arxiv_id: str | None
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    version: int | None
    versions: list[dict[str, Any]]
    published_at: datetime | None
    updated_at: datetime | None
    comments: str | None
    journal_ref: str | None
    doi: str | None
    license: str | None
    code_urls: list[str]
    project_url: str | None
    extra: dict[str, Any]


PAPER_VALUE_FIELDS: tuple[str, ...] = tuple(PaperValues.__annotations__)
"""The keys of :class:`PaperValues`, in their declared order."""


class PaperState(PaperValues):
    """A row of ``papers`` as ingest reads and writes it: the values and what is derived from them."""

    id: str
    title_hash: int
    primary_category: str | None
    categories_predicted: bool
    first_seen_at: datetime
    changed_at: datetime


__all__ = [
    "PAPER_VALUE_FIELDS",
    "ROLES",
    "SUBMISSION_ACTIONS",
    "SUBMISSION_OUTCOMES",
    "ApiToken",
    "Base",
    "Collection",
    "CollectionPaper",
    "Comment",
    "DigestPaper",
    "FeedEntry",
    "IngestCheckpoint",
    "InstanceState",
    "LoginThrottle",
    "ModerationAction",
    "OutboxMessage",
    "Paper",
    "PaperActivity",
    "PaperAlias",
    "PaperCategory",
    "PaperSource",
    "PaperState",
    "PaperValues",
    "Submission",
    "SubmissionAttempt",
    "Subscription",
    "User",
    "UserSession",
    "Vote",
]

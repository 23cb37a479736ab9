"""Queries about what the community adds to papers: upvotes, comments, submissions, moderation.

Counts stay exact under concurrency by construction. A vote is a row whose primary key is (user, paper),
so inserting it twice adds one row; ``paper_activity`` is changed in the same transaction as the row it
counts, by an atomic ``UPDATE ... SET upvotes = upvotes + 1`` that runs only when the insert or delete
actually changed a row: ``RETURNING`` says so on both databases, where the driver's row count for
``INSERT ... ON CONFLICT DO NOTHING`` cannot be relied on. Comments change state with conditional updates
(``WHERE status = 'visible'``), so deleting and hiding the same comment at once decrements once.

Each function is one short write: on SQLite the write lock is taken by the first statement and held for
a few statements only, which keeps many writers from waiting long for each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from dailypapers.db import chunked, upsert_insert
from dailypapers.models import (
    Comment,
    FeedEntry,
    ModerationAction,
    Paper,
    PaperActivity,
    Submission,
    User,
    Vote,
)

VOTES = cast(Table, Vote.__table__)
ACTIVITY = cast(Table, PaperActivity.__table__)
COMMENTS = cast(Table, Comment.__table__)
SUBMISSIONS = cast(Table, Submission.__table__)
FEED = cast(Table, FeedEntry.__table__)
PAPERS = cast(Table, Paper.__table__)
USERS = cast(Table, User.__table__)
LOG = cast(Table, ModerationAction.__table__)


def _bump(session: Session, *, paper_id: str, upvotes: int = 0, comments: int = 0, revision: int = 1) -> None:
    """Add to a paper's counts, creating its row on first use; atomic on both databases."""
    statement = upsert_insert(session, ACTIVITY).values(
        paper_id=paper_id, upvotes=max(upvotes, 0), comments=max(comments, 0), revision=revision
    )
    statement = statement.on_conflict_do_update(
        index_elements=["paper_id"],
        set_={
            "upvotes": ACTIVITY.c.upvotes + upvotes,
            "comments": ACTIVITY.c.comments + comments,
            "revision": ACTIVITY.c.revision + revision,
        },
    )
    session.execute(statement)


# --------------------------------------------------------------------------------------------------
# Votes
# --------------------------------------------------------------------------------------------------


def add_vote(session: Session, *, user_id: int, paper_id: str, now: datetime) -> bool:
    """Upvote; False when the vote was already there (nothing changes then)."""
    statement = (
        upsert_insert(session, VOTES)
        .values(user_id=user_id, paper_id=paper_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "paper_id"])
        .returning(VOTES.c.paper_id)
    )
    if session.execute(statement).first() is None:
        return False
    _bump(session, paper_id=paper_id, upvotes=1)
    return True


def remove_vote(session: Session, *, user_id: int, paper_id: str) -> bool:
    """Take an upvote back; False when there was none."""
    deleted = session.execute(
        delete(VOTES)
        .where(VOTES.c.user_id == user_id, VOTES.c.paper_id == paper_id)
        .returning(VOTES.c.paper_id)
    ).first()
    if deleted is None:
        return False
    _bump(session, paper_id=paper_id, upvotes=-1)
    return True


def has_voted(session: Session, *, user_id: int, paper_id: str) -> bool:
    found = session.execute(
        select(VOTES.c.paper_id).where(VOTES.c.user_id == user_id, VOTES.c.paper_id == paper_id)
    ).first()
    return found is not None


def voted_ids(session: Session, *, user_id: int, paper_ids: Sequence[str]) -> set[str]:
    """Which of ``paper_ids`` the user has upvoted."""
    found: set[str] = set()
    wanted = list(dict.fromkeys(paper_ids))
    for chunk in chunked(wanted):
        rows = session.execute(
            select(VOTES.c.paper_id).where(VOTES.c.user_id == user_id, VOTES.c.paper_id.in_(chunk))
        )
        found.update(paper_id for (paper_id,) in rows)
    return found


@dataclass(frozen=True, slots=True)
class Counts:
    """A paper's displayed counts: what the upstream reported plus this site's own."""

    upvotes: int
    comments: int


def paper_counts(session: Session, *, paper_id: str) -> Counts:
    row = session.execute(
        select(
            func.coalesce(FEED.c.upvotes, 0) + func.coalesce(ACTIVITY.c.upvotes, 0),
            func.coalesce(FEED.c.num_comments, 0) + func.coalesce(ACTIVITY.c.comments, 0),
        )
        .select_from(PAPERS.outerjoin(FEED, FEED.c.paper_id == PAPERS.c.id))
        .outerjoin(ACTIVITY, ACTIVITY.c.paper_id == PAPERS.c.id)
        .where(PAPERS.c.id == paper_id)
    ).first()
    return Counts(0, 0) if row is None else Counts(int(row[0]), int(row[1]))


# --------------------------------------------------------------------------------------------------
# Comments
# --------------------------------------------------------------------------------------------------


def add_comment(
    session: Session, *, paper_id: str, user_id: int, body: str, parent_id: int | None, now: datetime
) -> int:
    """A new visible comment (the caller checked that the parent belongs to the same paper)."""
    comment_id = session.execute(
        insert(COMMENTS)
        .values(
            paper_id=paper_id,
            user_id=user_id,
            parent_id=parent_id,
            body=body,
            status="visible",
            created_at=now,
            updated_at=now,
        )
        .returning(COMMENTS.c.id)
    ).scalar_one()
    _bump(session, paper_id=paper_id, comments=1)
    return int(comment_id)


def get_comment(session: Session, *, comment_id: int) -> Comment | None:
    return session.get(Comment, comment_id)


def edit_comment(session: Session, *, comment_id: int, user_id: int, body: str, now: datetime) -> bool:
    """Replace the text of one's own visible comment."""
    result = session.execute(
        update(COMMENTS)
        .where(COMMENTS.c.id == comment_id, COMMENTS.c.user_id == user_id, COMMENTS.c.status == "visible")
        .values(body=body, edited_at=now, updated_at=now)
        .returning(COMMENTS.c.paper_id)
    ).first()
    if result is None:
        return False
    _bump(session, paper_id=result[0])
    return True


def _set_status(
    session: Session,
    *,
    comment_id: int,
    before: str,
    after: str,
    now: datetime,
    user_id: int | None = None,
    **values: Any,
) -> str | None:
    """Move a comment from one status to another; returns its paper id, or None when it was not in
    ``before`` (someone else got there first, or it is not the user's)."""
    statement = update(COMMENTS).where(COMMENTS.c.id == comment_id, COMMENTS.c.status == before)
    if user_id is not None:
        statement = statement.where(COMMENTS.c.user_id == user_id)
    row = session.execute(
        statement.values(status=after, updated_at=now, **values).returning(COMMENTS.c.paper_id)
    ).first()
    if row is None:
        return None
    visible_change = (after == "visible") - (before == "visible")
    _bump(session, paper_id=row[0], comments=visible_change)
    return str(row[0])


def delete_comment(session: Session, *, comment_id: int, user_id: int, now: datetime) -> bool:
    """Its author deletes a comment: the text is erased; the row keeps its replies' place."""
    return (
        _set_status(
            session,
            comment_id=comment_id,
            before="visible",
            after="deleted",
            now=now,
            user_id=user_id,
            body="",
        )
        is not None
    )


def hide_comment(session: Session, *, comment_id: int, now: datetime) -> str | None:
    """A moderator hides a comment (the text is kept, so that unhiding restores it)."""
    return _set_status(session, comment_id=comment_id, before="visible", after="hidden", now=now)


def unhide_comment(session: Session, *, comment_id: int, now: datetime) -> str | None:
    return _set_status(session, comment_id=comment_id, before="hidden", after="visible", now=now)


@dataclass(slots=True)
class CommentRow:
    """A comment as pages and the API show it."""

    id: int
    paper_id: str
    parent_id: int | None
    user_id: int
    author: str
    body: str
    status: str
    created_at: datetime
    edited_at: datetime | None


def _comment_rows(session: Session, statement: Any) -> list[CommentRow]:
    return [
        CommentRow(
            id=row.id,
            paper_id=row.paper_id,
            parent_id=row.parent_id,
            user_id=row.user_id,
            author=row.username,
            body=row.body,
            status=row.status,
            created_at=row.created_at,
            edited_at=row.edited_at,
        )
        for row in session.execute(statement)
    ]


def _comment_select() -> Any:
    return select(
        COMMENTS.c.id,
        COMMENTS.c.paper_id,
        COMMENTS.c.parent_id,
        COMMENTS.c.user_id,
        USERS.c.username,
        COMMENTS.c.body,
        COMMENTS.c.status,
        COMMENTS.c.created_at,
        COMMENTS.c.edited_at,
    ).select_from(COMMENTS.join(USERS, USERS.c.id == COMMENTS.c.user_id))


def paper_comments(session: Session, *, paper_id: str) -> list[CommentRow]:
    """Every comment of a paper, oldest first (deleted and hidden ones too: threads need their place)."""
    return _comment_rows(
        session, _comment_select().where(COMMENTS.c.paper_id == paper_id).order_by(COMMENTS.c.id)
    )


def comment_row(session: Session, *, comment_id: int) -> CommentRow | None:
    rows = _comment_rows(session, _comment_select().where(COMMENTS.c.id == comment_id))
    return rows[0] if rows else None


def user_comments(session: Session, *, user_id: int, limit: int = 50) -> list[CommentRow]:
    """A user's visible comments, newest first."""
    statement = (
        _comment_select()
        .where(COMMENTS.c.user_id == user_id, COMMENTS.c.status == "visible")
        .order_by(COMMENTS.c.id.desc())
        .limit(limit)
    )
    return _comment_rows(session, statement)


def comment_times_since(session: Session, *, user_id: int, since: datetime, limit: int) -> list[datetime]:
    """When the user's comments after ``since`` were posted, oldest first, at most the newest ``limit``
    (removed ones too: a deleted comment was still written). Uses ``ix_comments_user_id_created_at``."""
    rows = session.execute(
        select(COMMENTS.c.created_at)
        .where(COMMENTS.c.user_id == user_id, COMMENTS.c.created_at > since)
        .order_by(COMMENTS.c.created_at.desc())
        .limit(limit)
    )
    return sorted(created for (created,) in rows)


def count_visible_comments(session: Session, *, paper_id: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(COMMENTS)
            .where(COMMENTS.c.paper_id == paper_id, COMMENTS.c.status == "visible")
        )
        or 0
    )


# --------------------------------------------------------------------------------------------------
# Submissions
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedPlace:
    """Where a paper is on the feed, and who put it there."""

    day: date
    submitted_by: str | None
    source: str
    added_at: datetime


def feed_place(session: Session, *, paper_id: str) -> FeedPlace | None:
    row = session.execute(
        select(FEED.c.day, FEED.c.submitted_by, FEED.c.source, FEED.c.created_at).where(
            FEED.c.paper_id == paper_id
        )
    ).first()
    return None if row is None else FeedPlace(row.day, row.submitted_by, row.source, row.created_at)


def submissions_since(session: Session, *, user_id: int, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(SUBMISSIONS)
            .where(SUBMISSIONS.c.user_id == user_id, SUBMISSIONS.c.created_at >= since)
        )
        or 0
    )


def lock_user_row(session: Session, *, user_id: int) -> None:
    """Take the account's row lock for the rest of the transaction (serialises one user's submissions,
    so that two at once cannot both pass the daily limit). On SQLite the write starts the write lock."""
    session.execute(update(USERS).where(USERS.c.id == user_id).values(updated_at=USERS.c.updated_at))


def put_on_feed(
    session: Session, *, paper_id: str, day: date, user_id: int, username: str, now: datetime
) -> bool:
    """Put a paper on the feed of ``day`` as submitted by ``username``; False when it already was.

    The feed entry's unique paper id decides, so two people submitting one paper at once add it once.
    """
    statement = (
        upsert_insert(session, FEED)
        .values(
            paper_id=paper_id,
            day=day,
            submitted_by=username,
            source="submission",
            upvotes=0,
            num_comments=0,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["paper_id"])
        .returning(FEED.c.id)
    )
    if session.execute(statement).first() is None:
        return False
    session.execute(insert(SUBMISSIONS).values(paper_id=paper_id, user_id=user_id, created_at=now))
    return True


def user_submissions(session: Session, *, user_id: int, limit: int = 50) -> list[str]:
    """Ids of the papers a user submitted, newest first."""
    rows = session.execute(
        select(SUBMISSIONS.c.paper_id)
        .where(SUBMISSIONS.c.user_id == user_id)
        .order_by(SUBMISSIONS.c.created_at.desc(), SUBMISSIONS.c.id.desc())
        .limit(limit)
    )
    return [paper_id for (paper_id,) in rows]


def user_upvoted(session: Session, *, user_id: int, limit: int = 50) -> list[str]:
    rows = session.execute(
        select(VOTES.c.paper_id)
        .where(VOTES.c.user_id == user_id)
        .order_by(VOTES.c.created_at.desc(), VOTES.c.paper_id)
        .limit(limit)
    )
    return [paper_id for (paper_id,) in rows]


# --------------------------------------------------------------------------------------------------
# Moderation log
# --------------------------------------------------------------------------------------------------


def log_moderation(
    session: Session,
    *,
    action: str,
    now: datetime,
    moderator_id: int | None,
    target_user_id: int | None = None,
    comment_id: int | None = None,
    paper_id: str | None = None,
    reason: str | None = None,
) -> None:
    session.execute(
        insert(LOG).values(
            created_at=now,
            moderator_id=moderator_id,
            action=action,
            target_user_id=target_user_id,
            comment_id=comment_id,
            paper_id=paper_id,
            reason=reason or None,
        )
    )


@dataclass(frozen=True, slots=True)
class LoggedAction:
    id: int
    created_at: datetime
    moderator: str | None
    action: str
    target: str | None
    comment_id: int | None
    paper_id: str | None
    reason: str | None


def moderation_log(session: Session, *, limit: int = 100, offset: int = 0) -> list[LoggedAction]:
    moderators = USERS.alias("moderators")
    targets = USERS.alias("targets")
    statement = (
        select(
            LOG.c.id,
            LOG.c.created_at,
            moderators.c.username.label("moderator"),
            LOG.c.action,
            targets.c.username.label("target"),
            LOG.c.comment_id,
            LOG.c.paper_id,
            LOG.c.reason,
        )
        .select_from(
            LOG.outerjoin(moderators, moderators.c.id == LOG.c.moderator_id).outerjoin(
                targets, targets.c.id == LOG.c.target_user_id
            )
        )
        .order_by(LOG.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [LoggedAction(*row) for row in session.execute(statement)]


def hidden_comments(session: Session, *, limit: int = 100) -> list[CommentRow]:
    statement = (
        _comment_select().where(COMMENTS.c.status == "hidden").order_by(COMMENTS.c.id.desc()).limit(limit)
    )
    return _comment_rows(session, statement)


def recent_comments(session: Session, *, limit: int = 50) -> list[CommentRow]:
    statement = (
        _comment_select().where(COMMENTS.c.status == "visible").order_by(COMMENTS.c.id.desc()).limit(limit)
    )
    return _comment_rows(session, statement)


def banned_users(session: Session) -> list[User]:
    return list(
        session.scalars(select(User).where(User.banned_at.is_not(None)).order_by(User.banned_at.desc()))
    )


def activity_version(session: Session) -> tuple[Any, ...]:
    """Changes whenever a vote or any comment changes anywhere (for the page cache)."""
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(ACTIVITY.c.upvotes), 0),
            func.coalesce(func.sum(ACTIVITY.c.revision), 0),
        ).select_from(ACTIVITY)
    ).one()
    return tuple(row)


def check_counts(session: Session) -> dict[str, int]:
    """Papers whose stored counts disagree with the rows they count (0 and 0 when all is well)."""
    votes = select(VOTES.c.paper_id, func.count().label("n")).group_by(VOTES.c.paper_id).subquery()
    visible = (
        select(COMMENTS.c.paper_id, func.count().label("n"))
        .where(COMMENTS.c.status == "visible")
        .group_by(COMMENTS.c.paper_id)
        .subquery()
    )
    bad_votes = session.scalar(
        select(func.count())
        .select_from(ACTIVITY.outerjoin(votes, votes.c.paper_id == ACTIVITY.c.paper_id))
        .where(ACTIVITY.c.upvotes != func.coalesce(votes.c.n, 0))
    )
    missing_votes = session.scalar(
        select(func.count())
        .select_from(votes.outerjoin(ACTIVITY, ACTIVITY.c.paper_id == votes.c.paper_id))
        .where(ACTIVITY.c.paper_id.is_(None))
    )
    bad_comments = session.scalar(
        select(func.count())
        .select_from(ACTIVITY.outerjoin(visible, visible.c.paper_id == ACTIVITY.c.paper_id))
        .where(ACTIVITY.c.comments != func.coalesce(visible.c.n, 0))
    )
    missing_comments = session.scalar(
        select(func.count())
        .select_from(visible.outerjoin(ACTIVITY, ACTIVITY.c.paper_id == visible.c.paper_id))
        .where(ACTIVITY.c.paper_id.is_(None))
    )
    return {
        "upvote_mismatches": int(bad_votes or 0) + int(missing_votes or 0),
        "comment_mismatches": int(bad_comments or 0) + int(missing_comments or 0),
    }


__all__ = [
    "CommentRow",
    "Counts",
    "FeedPlace",
    "LoggedAction",
    "activity_version",
    "add_comment",
    "add_vote",
    "banned_users",
    "check_counts",
    "comment_row",
    "comment_times_since",
    "count_visible_comments",
    "delete_comment",
    "edit_comment",
    "feed_place",
    "get_comment",
    "has_voted",
    "hidden_comments",
    "hide_comment",
    "lock_user_row",
    "log_moderation",
    "moderation_log",
    "paper_comments",
    "paper_counts",
    "put_on_feed",
    "recent_comments",
    "remove_vote",
    "submissions_since",
    "unhide_comment",
    "user_comments",
    "user_submissions",
    "user_upvoted",
    "voted_ids",
]

"""The rules of the community's store, called directly on the library: what each vote, comment, status
change, submission and log entry returns and leaves behind, asserted to the exact count, field and order.

Every count is read back from ``paper_activity`` as (upvotes, comments, revision), so that a count that
moves by two, or a revision that moves when it must not, shows; every listing gets one row more than its
limit, rows of another user, another paper or another status, and a row exactly on its time boundary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import overload

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community.passwords import hash_password
from dailypapers.models import Comment, FeedEntry, ModerationAction, Paper, PaperActivity, Vote
from tests.community.support import HF_PAPER, NOW, PASSWORD, make_user

ON_FEED = "2601.00001"  # on the feed, with 3 upvotes and 2 comments from upstream
QUIET = "2601.00002"  # on the feed, with nothing from upstream
OFF_FEED = "2601.00003"  # not on the feed
SPARE = "2601.00004"  # not on the feed
DAY = date(2026, 7, 31)
UNKNOWN_PAPER = "2601.99999"
UNKNOWN_COMMENT = 987654
CLEAN = {"upvote_mismatches": 0, "comment_mismatches": 0}


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: datetime | None) -> datetime | None: ...
def aware(value: datetime | None) -> datetime | None:
    """SQLite gives stored times back without their zone; every stored time is UTC."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def add_paper(session: Session, paper_id: str, *, upstream: tuple[int, int] | None = None) -> None:
    """A paper; on the feed of ``DAY`` with (upvotes, comments) from upstream when ``upstream`` is given."""
    session.add(
        Paper(id=paper_id, title=f"Paper {paper_id}", title_hash=1, first_seen_at=NOW, changed_at=NOW)
    )
    if upstream is not None:
        session.flush()
        upvotes, comments = upstream
        session.add(
            FeedEntry(
                paper_id=paper_id,
                day=DAY,
                submitted_by=None,
                source="huggingface",
                upvotes=upvotes,
                num_comments=comments,
                created_at=NOW,
            )
        )


@dataclass
class World:
    sessions: sessionmaker[Session]
    ada: int
    bob: int

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def activity(self, paper_id: str) -> tuple[int, int, int] | None:
        """The paper's own (upvotes, comments, revision), or None when it has no row yet."""
        with self.read() as session:
            row = session.get(PaperActivity, paper_id)
            return None if row is None else (row.upvotes, row.comments, row.revision)

    def comment(
        self, paper_id: str, user_id: int, body: str, *, now: datetime = NOW, parent: int | None = None
    ) -> int:
        with self.write() as session:
            return store.add_comment(
                session, paper_id=paper_id, user_id=user_id, body=body, parent_id=parent, now=now
            )

    def stored(self, comment_id: int) -> tuple[str, str, datetime | None, datetime | None]:
        """(status, body, edited_at, updated_at) of a comment as stored."""
        with self.read() as session:
            found = store.get_comment(session, comment_id=comment_id)
            assert found is not None
            return found.status, found.body, aware(found.edited_at), aware(found.updated_at)

    def visible(self, paper_id: str) -> int:
        with self.read() as session:
            return store.count_visible_comments(session, paper_id=paper_id)

    def check(self) -> dict[str, int]:
        with self.read() as session:
            return store.check_counts(session)


@pytest.fixture(scope="module")
def password_hash() -> str:
    """One hash for every account here: none of them logs in, and hashing costs a quarter second."""
    return hash_password(PASSWORD)


def add_user(sessions: sessionmaker[Session], username: str, password_hash: str) -> int:
    with sessions.begin() as session:
        user = store.create_user(
            session,
            username=username,
            email=f"{username}@example.org",
            password_hash=password_hash,
            security_stamp=f"stamp-{username}",
            now=NOW,
            verified=True,
        )
        return user.id


@pytest.fixture
def world(sessions: sessionmaker[Session], password_hash: str) -> World:
    with sessions.begin() as session:
        add_paper(session, ON_FEED, upstream=(3, 2))
        add_paper(session, QUIET, upstream=(0, 0))
        add_paper(session, OFF_FEED)
        add_paper(session, SPARE)
    return World(sessions, add_user(sessions, "ada", password_hash), add_user(sessions, "bob", password_hash))


def extra_papers(world: World, count: int) -> list[str]:
    ids = [f"2602.{n:05d}" for n in range(count)]
    with world.write() as session:
        for paper_id in ids:
            add_paper(session, paper_id)
    return ids


def normalised(rows: list[store.CommentRow]) -> list[store.CommentRow]:
    return [replace(r, created_at=aware(r.created_at), edited_at=aware(r.edited_at)) for r in rows]


# --------------------------------------------------------------------------------------------------
# Votes
# --------------------------------------------------------------------------------------------------


def test_a_vote_counts_once_and_taking_it_back_counts_once(world: World) -> None:
    with world.write() as session:
        assert store.add_vote(session, user_id=world.ada, paper_id=OFF_FEED, now=NOW) is True
    assert world.activity(OFF_FEED) == (1, 0, 1)  # the first vote makes the row; every vote is a revision
    with world.write() as session:
        assert store.add_vote(session, user_id=world.ada, paper_id=OFF_FEED, now=at(1)) is False
    assert world.activity(OFF_FEED) == (1, 0, 1)
    with world.write() as session:
        assert store.add_vote(session, user_id=world.bob, paper_id=OFF_FEED, now=at(2)) is True
    assert world.activity(OFF_FEED) == (2, 0, 2)
    with world.write() as session:
        assert store.remove_vote(session, user_id=world.ada, paper_id=OFF_FEED) is True
    assert world.activity(OFF_FEED) == (1, 0, 3)
    with world.write() as session:
        assert store.remove_vote(session, user_id=world.ada, paper_id=OFF_FEED) is False
        assert store.remove_vote(session, user_id=world.ada, paper_id=SPARE) is False
    assert world.activity(OFF_FEED) == (1, 0, 3)
    assert world.activity(SPARE) is None  # taking back no vote writes nothing
    with world.read() as session:
        assert store.has_voted(session, user_id=world.ada, paper_id=OFF_FEED) is False
        assert store.has_voted(session, user_id=world.bob, paper_id=OFF_FEED) is True
    assert world.check() == CLEAN


def test_taking_a_vote_back_takes_only_that_users_vote_on_that_paper(world: World) -> None:
    with world.write() as session:
        store.add_vote(session, user_id=world.ada, paper_id=ON_FEED, now=NOW)
        store.add_vote(session, user_id=world.ada, paper_id=QUIET, now=NOW)
        store.add_vote(session, user_id=world.bob, paper_id=ON_FEED, now=NOW)
    with world.write() as session:
        assert store.remove_vote(session, user_id=world.ada, paper_id=ON_FEED) is True
    with world.read() as session:
        assert store.has_voted(session, user_id=world.ada, paper_id=ON_FEED) is False
        assert store.has_voted(session, user_id=world.ada, paper_id=QUIET) is True
        assert store.has_voted(session, user_id=world.bob, paper_id=ON_FEED) is True
    assert world.activity(ON_FEED) == (1, 0, 3)
    assert world.activity(QUIET) == (1, 0, 1)


def test_has_voted_asks_about_that_user_and_that_paper(world: World) -> None:
    with world.write() as session:
        store.add_vote(session, user_id=world.ada, paper_id=ON_FEED, now=NOW)
    with world.read() as session:
        assert store.has_voted(session, user_id=world.ada, paper_id=ON_FEED) is True
        assert store.has_voted(session, user_id=world.ada, paper_id=QUIET) is False
        assert store.has_voted(session, user_id=world.bob, paper_id=ON_FEED) is False


def test_voted_ids_are_the_users_votes_among_the_ids_asked(world: World) -> None:
    with world.write() as session:
        for paper_id in (ON_FEED, QUIET, OFF_FEED):
            store.add_vote(session, user_id=world.ada, paper_id=paper_id, now=NOW)
        for paper_id in (ON_FEED, SPARE):
            store.add_vote(session, user_id=world.bob, paper_id=paper_id, now=NOW)
    # Longer than two chunks of the IN list, with votes at the very first and very last place.
    asked = [ON_FEED, *(f"2699.{n:05d}" for n in range(1900)), SPARE, QUIET, ON_FEED]
    with world.read() as session:
        assert store.voted_ids(session, user_id=world.ada, paper_ids=asked) == {ON_FEED, QUIET}
        assert store.voted_ids(session, user_id=world.bob, paper_ids=asked) == {ON_FEED, SPARE}
        assert store.voted_ids(session, user_id=world.ada, paper_ids=[QUIET]) == {QUIET}
        assert store.voted_ids(session, user_id=world.ada, paper_ids=[]) == set()


def test_paper_counts_add_this_sites_counts_to_the_upstream_ones(world: World) -> None:
    with world.read() as session:
        assert store.paper_counts(session, paper_id=ON_FEED) == store.Counts(3, 2)
        assert store.paper_counts(session, paper_id=QUIET) == store.Counts(0, 0)
        assert store.paper_counts(session, paper_id=OFF_FEED) == store.Counts(0, 0)
        assert store.paper_counts(session, paper_id=UNKNOWN_PAPER) == store.Counts(0, 0)
    with world.write() as session:
        store.add_vote(session, user_id=world.ada, paper_id=ON_FEED, now=NOW)
        store.add_vote(session, user_id=world.ada, paper_id=OFF_FEED, now=NOW)
        store.add_vote(session, user_id=world.bob, paper_id=OFF_FEED, now=NOW)
    world.comment(ON_FEED, world.ada, "one")
    world.comment(ON_FEED, world.ada, "two")
    with world.read() as session:
        assert store.paper_counts(session, paper_id=ON_FEED) == store.Counts(4, 4)
        assert store.paper_counts(session, paper_id=OFF_FEED) == store.Counts(2, 0)
        assert store.paper_counts(session, paper_id=QUIET) == store.Counts(0, 0)


def test_paper_counts_of_a_real_hugging_face_paper(papers: sessionmaker[Session]) -> None:
    ada = make_user(papers, "ada")
    with papers.begin() as session:
        assert store.paper_counts(session, paper_id=HF_PAPER) == store.Counts(3, 2)
        store.add_vote(session, user_id=ada.id, paper_id=HF_PAPER, now=NOW)
        store.add_comment(session, paper_id=HF_PAPER, user_id=ada.id, body="Hi", parent_id=None, now=NOW)
    with papers() as session:
        assert store.paper_counts(session, paper_id=HF_PAPER) == store.Counts(4, 3)


# --------------------------------------------------------------------------------------------------
# Comments
# --------------------------------------------------------------------------------------------------


def test_a_comments_life_keeps_its_papers_counts_and_revision(world: World) -> None:
    first = world.comment(OFF_FEED, world.ada, "first")
    assert world.activity(OFF_FEED) == (0, 1, 1)  # the first comment makes the row
    reply = world.comment(OFF_FEED, world.bob, "reply", parent=first)
    assert world.activity(OFF_FEED) == (0, 2, 2)
    with world.write() as session:
        assert (
            store.edit_comment(session, comment_id=first, user_id=world.ada, body="first!", now=at(1)) is True
        )
    assert world.activity(OFF_FEED) == (0, 2, 3)  # an edit counts as a change, not as a comment
    with world.write() as session:
        assert store.delete_comment(session, comment_id=first, user_id=world.ada, now=at(2)) is True
    assert world.activity(OFF_FEED) == (0, 1, 4)
    with world.write() as session:
        assert store.hide_comment(session, comment_id=reply, now=at(3)) == OFF_FEED
    assert world.activity(OFF_FEED) == (0, 0, 5)
    assert world.visible(OFF_FEED) == 0
    with world.write() as session:
        assert store.unhide_comment(session, comment_id=reply, now=at(4)) == OFF_FEED
    assert world.activity(OFF_FEED) == (0, 1, 6)
    assert world.visible(OFF_FEED) == 1
    assert world.check() == CLEAN


def test_only_the_author_edits_and_only_a_visible_comment(world: World) -> None:
    mine = world.comment(ON_FEED, world.ada, "mine")
    other = world.comment(ON_FEED, world.ada, "other")
    theirs = world.comment(ON_FEED, world.bob, "theirs")
    assert world.activity(ON_FEED) == (0, 3, 3)
    with world.write() as session:
        assert (
            store.edit_comment(session, comment_id=mine, user_id=world.bob, body="defaced", now=at(1))
            is False
        )
        assert (
            store.edit_comment(session, comment_id=UNKNOWN_COMMENT, user_id=world.ada, body="x", now=at(1))
            is False
        )
    assert world.stored(mine) == ("visible", "mine", None, NOW)
    assert world.activity(ON_FEED) == (0, 3, 3)
    with world.write() as session:
        assert (
            store.edit_comment(session, comment_id=mine, user_id=world.ada, body="mine, edited", now=at(2))
            is True
        )
    assert world.stored(mine) == ("visible", "mine, edited", at(2), at(2))
    assert world.stored(other) == ("visible", "other", None, NOW)
    assert world.stored(theirs) == ("visible", "theirs", None, NOW)
    assert world.activity(ON_FEED) == (0, 3, 4)
    with world.write() as session:
        store.delete_comment(session, comment_id=other, user_id=world.ada, now=at(3))
        store.hide_comment(session, comment_id=mine, now=at(3))
    assert world.activity(ON_FEED) == (0, 1, 6)
    with world.write() as session:
        assert (
            store.edit_comment(session, comment_id=other, user_id=world.ada, body="back", now=at(4)) is False
        )
        assert (
            store.edit_comment(session, comment_id=mine, user_id=world.ada, body="back", now=at(4)) is False
        )
    assert world.stored(other) == ("deleted", "", None, at(3))
    assert world.stored(mine) == ("hidden", "mine, edited", at(2), at(3))
    assert world.activity(ON_FEED) == (0, 1, 6)


def test_only_the_author_deletes_and_only_a_visible_comment(world: World) -> None:
    mine = world.comment(ON_FEED, world.ada, "mine")
    other = world.comment(ON_FEED, world.ada, "other")
    world.comment(ON_FEED, world.bob, "theirs")
    with world.write() as session:
        assert store.delete_comment(session, comment_id=mine, user_id=world.bob, now=at(1)) is False
        assert (
            store.delete_comment(session, comment_id=UNKNOWN_COMMENT, user_id=world.ada, now=at(1)) is False
        )
    assert world.stored(mine) == ("visible", "mine", None, NOW)
    assert world.activity(ON_FEED) == (0, 3, 3)
    with world.write() as session:
        assert store.delete_comment(session, comment_id=mine, user_id=world.ada, now=at(2)) is True
    assert world.stored(mine) == ("deleted", "", None, at(2))  # the text is erased
    assert world.stored(other) == ("visible", "other", None, NOW)
    assert world.activity(ON_FEED) == (0, 2, 4)
    with world.write() as session:
        assert store.delete_comment(session, comment_id=mine, user_id=world.ada, now=at(3)) is False
        assert store.hide_comment(session, comment_id=other, now=at(3)) == ON_FEED
    assert world.activity(ON_FEED) == (0, 1, 5)
    with world.write() as session:
        assert store.delete_comment(session, comment_id=other, user_id=world.ada, now=at(4)) is False
    assert world.stored(mine) == ("deleted", "", None, at(2))
    assert world.stored(other) == ("hidden", "other", None, at(3))  # a hidden text is kept
    assert world.activity(ON_FEED) == (0, 1, 5)
    assert world.check() == CLEAN


def test_hiding_and_unhiding_move_only_between_visible_and_hidden(world: World) -> None:
    shown = world.comment(QUIET, world.ada, "shown")
    gone = world.comment(QUIET, world.ada, "gone")
    with world.write() as session:
        store.delete_comment(session, comment_id=gone, user_id=world.ada, now=at(1))
    assert world.activity(QUIET) == (0, 1, 3)
    with world.write() as session:
        assert store.hide_comment(session, comment_id=shown, now=at(2)) == QUIET
    assert world.stored(shown) == ("hidden", "shown", None, at(2))
    assert world.activity(QUIET) == (0, 0, 4)
    with world.write() as session:
        assert store.hide_comment(session, comment_id=shown, now=at(3)) is None
        assert store.hide_comment(session, comment_id=gone, now=at(3)) is None
        assert store.unhide_comment(session, comment_id=gone, now=at(3)) is None
        assert store.hide_comment(session, comment_id=UNKNOWN_COMMENT, now=at(3)) is None
    assert world.stored(shown) == ("hidden", "shown", None, at(2))
    assert world.stored(gone) == ("deleted", "", None, at(1))
    assert world.activity(QUIET) == (0, 0, 4)
    with world.write() as session:
        assert store.unhide_comment(session, comment_id=shown, now=at(4)) == QUIET
    assert world.stored(shown) == ("visible", "shown", None, at(4))
    assert world.activity(QUIET) == (0, 1, 5)
    with world.write() as session:
        assert store.unhide_comment(session, comment_id=shown, now=at(5)) is None
    assert world.stored(shown) == ("visible", "shown", None, at(4))
    assert world.activity(QUIET) == (0, 1, 5)


def test_a_change_on_a_paper_without_counts_starts_them_at_zero(world: World) -> None:
    """A comment and a vote planted without their counts: taking them away makes the row, at zero."""
    with world.write() as session:
        planted = session.execute(
            insert(Comment)
            .values(
                paper_id=SPARE, user_id=world.ada, body="x", status="visible", created_at=NOW, updated_at=NOW
            )
            .returning(Comment.id)
        ).scalar_one()
        session.execute(insert(Vote).values(user_id=world.ada, paper_id=OFF_FEED, created_at=NOW))
    with world.write() as session:
        assert store.hide_comment(session, comment_id=planted, now=at(1)) == SPARE
        assert store.remove_vote(session, user_id=world.ada, paper_id=OFF_FEED) is True
    assert world.activity(SPARE) == (0, 0, 1)
    assert world.activity(OFF_FEED) == (0, 0, 1)


def test_comment_rows_carry_every_field_in_thread_order(world: World) -> None:
    first = world.comment(ON_FEED, world.bob, "first", now=at(1))
    reply = world.comment(ON_FEED, world.ada, "reply", now=at(2), parent=first)
    world.comment(QUIET, world.bob, "elsewhere", now=at(3))
    removed = world.comment(ON_FEED, world.ada, "removed", now=at(4), parent=reply)
    hidden = world.comment(ON_FEED, world.bob, "hidden", now=at(5))
    # Changed newest first, so that on PostgreSQL the rows' places on disk run against their ids.
    with world.write() as session:
        store.hide_comment(session, comment_id=hidden, now=at(6))
        store.delete_comment(session, comment_id=removed, user_id=world.ada, now=at(7))
        store.edit_comment(session, comment_id=reply, user_id=world.ada, body="reply, edited", now=at(8))
        store.edit_comment(session, comment_id=first, user_id=world.bob, body="first, edited", now=at(9))
    rows = {
        first: store.CommentRow(
            first, ON_FEED, None, world.bob, "bob", "first, edited", "visible", at(1), at(9)
        ),
        reply: store.CommentRow(
            reply, ON_FEED, first, world.ada, "ada", "reply, edited", "visible", at(2), at(8)
        ),
        removed: store.CommentRow(removed, ON_FEED, reply, world.ada, "ada", "", "deleted", at(4), None),
        hidden: store.CommentRow(hidden, ON_FEED, None, world.bob, "bob", "hidden", "hidden", at(5), None),
    }
    with world.read() as session:
        assert normalised(store.paper_comments(session, paper_id=ON_FEED)) == list(rows.values())
        assert store.paper_comments(session, paper_id=OFF_FEED) == []
        for comment_id, row in rows.items():
            found_row = store.comment_row(session, comment_id=comment_id)
            assert found_row is not None and normalised([found_row]) == [row]
        assert store.comment_row(session, comment_id=UNKNOWN_COMMENT) is None
        found = store.get_comment(session, comment_id=reply)
        assert found is not None and (found.id, found.body) == (reply, "reply, edited")
        assert store.get_comment(session, comment_id=UNKNOWN_COMMENT) is None


def test_a_users_comments_are_their_visible_ones_newest_first(world: World) -> None:
    oldest = world.comment(ON_FEED, world.ada, "oldest", now=at(1))
    middle = world.comment(QUIET, world.ada, "middle", now=at(2))
    removed = world.comment(ON_FEED, world.ada, "removed", now=at(3))
    hidden = world.comment(ON_FEED, world.ada, "hidden", now=at(4))
    newest = world.comment(OFF_FEED, world.ada, "newest", now=at(5))
    theirs = world.comment(ON_FEED, world.bob, "theirs", now=at(6))
    with world.write() as session:
        store.delete_comment(session, comment_id=removed, user_id=world.ada, now=at(7))
        store.hide_comment(session, comment_id=hidden, now=at(7))
    with world.read() as session:
        assert [c.id for c in store.user_comments(session, user_id=world.ada)] == [newest, middle, oldest]
        assert [c.id for c in store.user_comments(session, user_id=world.ada, limit=2)] == [newest, middle]
        assert [c.id for c in store.user_comments(session, user_id=world.ada, limit=3)] == [
            newest,
            middle,
            oldest,
        ]
        assert normalised(store.user_comments(session, user_id=world.bob)) == [
            store.CommentRow(theirs, ON_FEED, None, world.bob, "bob", "theirs", "visible", at(6), None)
        ]


def test_comment_times_since_are_after_since_oldest_first_at_most_the_newest_limit(world: World) -> None:
    written = {
        seconds: world.comment(ON_FEED, world.ada, f"at {seconds}", now=at(seconds))
        for seconds in range(-1, 4)
    }
    world.comment(ON_FEED, world.bob, "bob's", now=at(1.5))
    with world.write() as session:
        store.delete_comment(session, comment_id=written[3], user_id=world.ada, now=at(4))
        store.hide_comment(session, comment_id=written[2], now=at(4))

    def times(since: datetime, limit: int) -> list[datetime | None]:
        with world.read() as session:
            found = store.comment_times_since(session, user_id=world.ada, since=since, limit=limit)
        return [aware(t) for t in found]

    # A comment exactly at ``since`` is not after it; removed comments were still written.
    assert times(NOW, 10) == [at(1), at(2), at(3)]
    assert times(NOW, 3) == [at(1), at(2), at(3)]
    assert times(NOW, 2) == [at(2), at(3)]
    assert times(at(-1), 10) == [at(0), at(1), at(2), at(3)]
    assert times(at(3), 10) == []


def test_count_visible_comments_leaves_out_hidden_deleted_and_other_papers(world: World) -> None:
    assert world.visible(ON_FEED) == 0
    world.comment(ON_FEED, world.ada, "one")
    world.comment(ON_FEED, world.bob, "two")
    removed = world.comment(ON_FEED, world.ada, "removed")
    hidden = world.comment(ON_FEED, world.bob, "hidden")
    world.comment(QUIET, world.ada, "elsewhere")
    with world.write() as session:
        store.delete_comment(session, comment_id=removed, user_id=world.ada, now=at(1))
        store.hide_comment(session, comment_id=hidden, now=at(1))
    assert world.visible(ON_FEED) == 2
    assert world.visible(QUIET) == 1
    assert world.visible(OFF_FEED) == 0


def test_hidden_and_recent_comments_are_newest_first_within_their_limit(world: World) -> None:
    oldest = world.comment(ON_FEED, world.ada, "oldest")
    hidden_first = world.comment(ON_FEED, world.ada, "spam")
    middle = world.comment(QUIET, world.ada, "middle")
    removed = world.comment(ON_FEED, world.ada, "removed")
    hidden_last = world.comment(QUIET, world.bob, "more spam", now=at(1))
    newest = world.comment(OFF_FEED, world.bob, "newest")
    with world.write() as session:
        store.hide_comment(session, comment_id=hidden_first, now=at(2))
        store.hide_comment(session, comment_id=hidden_last, now=at(2))
        store.delete_comment(session, comment_id=removed, user_id=world.ada, now=at(2))
    with world.read() as session:
        assert [c.id for c in store.recent_comments(session)] == [newest, middle, oldest]
        assert [c.id for c in store.recent_comments(session, limit=2)] == [newest, middle]
        assert normalised(store.hidden_comments(session)) == [
            store.CommentRow(hidden_last, QUIET, None, world.bob, "bob", "more spam", "hidden", at(1), None),
            store.CommentRow(hidden_first, ON_FEED, None, world.ada, "ada", "spam", "hidden", NOW, None),
        ]
        assert [c.id for c in store.hidden_comments(session, limit=1)] == [hidden_last]


# --------------------------------------------------------------------------------------------------
# Submissions
# --------------------------------------------------------------------------------------------------


def test_a_paper_goes_on_the_feed_once_as_its_first_submitter_put_it(world: World) -> None:
    with world.read() as session:
        assert store.feed_place(session, paper_id=OFF_FEED) is None
        assert store.feed_place(session, paper_id=UNKNOWN_PAPER) is None
    with world.write() as session:
        assert store.put_on_feed(
            session, paper_id=OFF_FEED, day=DAY, user_id=world.ada, username="ada", now=at(1)
        )
    first_place = store.FeedPlace(DAY, "ada", "submission", at(1))
    with world.write() as session:
        again = store.put_on_feed(
            session,
            paper_id=OFF_FEED,
            day=DAY + timedelta(days=1),
            user_id=world.bob,
            username="bob",
            now=at(2),
        )
        assert again is False
        upstream = store.put_on_feed(
            session, paper_id=ON_FEED, day=DAY, user_id=world.ada, username="ada", now=at(2)
        )
        assert upstream is False
    with world.read() as session:
        place = store.feed_place(session, paper_id=OFF_FEED)
        assert place is not None and replace(place, added_at=aware(place.added_at)) == first_place
        upstream_place = store.feed_place(session, paper_id=ON_FEED)
        assert upstream_place is not None
        assert replace(upstream_place, added_at=aware(upstream_place.added_at)) == store.FeedPlace(
            DAY, None, "huggingface", NOW
        )
        assert store.paper_counts(session, paper_id=OFF_FEED) == store.Counts(0, 0)  # nothing from upstream
        assert store.user_submissions(session, user_id=world.ada) == [OFF_FEED]
        assert store.user_submissions(session, user_id=world.bob) == []
        assert store.submissions_since(session, user_id=world.ada, since=NOW) == 1
        assert store.submissions_since(session, user_id=world.bob, since=NOW) == 0


def test_submissions_since_counts_one_made_exactly_at_since(world: World) -> None:
    ids = extra_papers(world, 4)
    with world.write() as session:
        for paper_id, seconds in zip(ids[:3], (-1, 0, 1), strict=True):
            store.put_on_feed(
                session, paper_id=paper_id, day=DAY, user_id=world.ada, username="ada", now=at(seconds)
            )
        store.put_on_feed(session, paper_id=ids[3], day=DAY, user_id=world.bob, username="bob", now=at(1))
    with world.read() as session:
        assert store.submissions_since(session, user_id=world.ada, since=NOW) == 2
        assert store.submissions_since(session, user_id=world.ada, since=at(1)) == 1
        assert store.submissions_since(session, user_id=world.ada, since=at(2)) == 0
        assert store.submissions_since(session, user_id=world.bob, since=NOW) == 1


def test_a_users_submissions_are_newest_first_and_the_later_of_a_tie_first(world: World) -> None:
    second, first, third, fourth, theirs = extra_papers(world, 5)
    with world.write() as session:
        for paper_id, seconds in ((second, 2), (first, 1), (third, 3), (fourth, 3)):
            store.put_on_feed(
                session, paper_id=paper_id, day=DAY, user_id=world.ada, username="ada", now=at(seconds)
            )
        store.put_on_feed(session, paper_id=theirs, day=DAY, user_id=world.bob, username="bob", now=at(9))
    with world.read() as session:
        assert store.user_submissions(session, user_id=world.ada) == [fourth, third, second, first]
        assert store.user_submissions(session, user_id=world.ada, limit=2) == [fourth, third]
        assert store.user_submissions(session, user_id=world.bob) == [theirs]


def test_a_users_upvoted_papers_are_newest_first_and_a_tie_by_paper_id(world: World) -> None:
    with world.write() as session:
        for paper_id, seconds in ((QUIET, 1), (ON_FEED, 1), (SPARE, 2), (OFF_FEED, 0)):
            store.add_vote(session, user_id=world.ada, paper_id=paper_id, now=at(seconds))
        store.add_vote(session, user_id=world.bob, paper_id=ON_FEED, now=at(5))
    with world.read() as session:
        assert store.user_upvoted(session, user_id=world.ada) == [SPARE, ON_FEED, QUIET, OFF_FEED]
        assert store.user_upvoted(session, user_id=world.ada, limit=3) == [SPARE, ON_FEED, QUIET]
        assert store.user_upvoted(session, user_id=world.bob) == [ON_FEED]


def test_locking_a_users_row_changes_nothing_in_it(world: World) -> None:
    with world.read() as session:
        before = [(u.id, aware(u.updated_at)) for u in store.list_users(session)]
    with world.write() as session:
        store.lock_user_row(session, user_id=world.ada)
    with world.read() as session:
        assert [(u.id, aware(u.updated_at)) for u in store.list_users(session)] == before


@pytest.mark.postgres_only
def test_locking_a_users_row_holds_that_account_only(world: World, password_hash: str) -> None:
    carol = add_user(world.sessions, "carol", password_hash)
    with world.sessions.begin() as first:
        store.lock_user_row(first, user_id=world.ada)
        with world.sessions.begin() as second:
            second.execute(text("SET LOCAL lock_timeout = '200ms'"))
            store.lock_user_row(second, user_id=world.bob)  # another account goes on
            store.lock_user_row(second, user_id=carol)
        with pytest.raises(OperationalError, match="lock timeout"), world.sessions.begin() as third:
            third.execute(text("SET LOCAL lock_timeout = '200ms'"))
            store.lock_user_row(third, user_id=world.ada)


# --------------------------------------------------------------------------------------------------
# Moderation
# --------------------------------------------------------------------------------------------------


def test_the_moderation_log_is_newest_first_with_names_and_pages(world: World) -> None:
    comment = world.comment(ON_FEED, world.bob, "spam")
    with world.write() as session:
        store.log_moderation(
            session, action="ban", now=at(1), moderator_id=None, target_user_id=world.bob, reason="spam"
        )
        store.log_moderation(
            session,
            action="hide",
            now=at(2),
            moderator_id=world.ada,
            comment_id=comment,
            paper_id=ON_FEED,
            reason="",
        )
        store.log_moderation(
            session, action="unban", now=at(3), moderator_id=world.ada, target_user_id=world.bob
        )
    with world.read() as session:
        ids = list(session.scalars(select(ModerationAction.id).order_by(ModerationAction.id)))
        entries = [replace(e, created_at=aware(e.created_at)) for e in store.moderation_log(session)]
        assert entries == [
            store.LoggedAction(ids[2], at(3), "ada", "unban", "bob", None, None, None),
            store.LoggedAction(ids[1], at(2), "ada", "hide", None, comment, ON_FEED, None),  # "" is no reason
            store.LoggedAction(ids[0], at(1), None, "ban", "bob", None, None, "spam"),
        ]
        assert [e.id for e in store.moderation_log(session, limit=2)] == [ids[2], ids[1]]
        assert [e.id for e in store.moderation_log(session, offset=1)] == [ids[1], ids[0]]
        assert [e.id for e in store.moderation_log(session, limit=1, offset=1)] == [ids[1]]
        assert store.moderation_log(session, offset=3) == []


def test_banned_users_are_the_banned_ones_latest_ban_first(world: World) -> None:
    with world.write() as session:
        store.set_ban(session, user_id=world.ada, banned_at=at(1), reason="spam", now=at(1))
        store.set_ban(session, user_id=world.bob, banned_at=at(2), reason="spam", now=at(2))
    with world.read() as session:
        assert [u.id for u in store.banned_users(session)] == [world.bob, world.ada]
    with world.write() as session:
        store.set_ban(session, user_id=world.bob, banned_at=None, reason=None, now=at(3))
    with world.read() as session:
        assert [u.id for u in store.banned_users(session)] == [world.ada]


def test_default_page_sizes_leave_out_the_oldest_row(world: World) -> None:
    """One row more than each default limit, so that every default shows."""
    ids = extra_papers(world, 51)
    with world.write() as session:
        for n, paper_id in enumerate(ids):
            store.put_on_feed(
                session, paper_id=paper_id, day=DAY, user_id=world.ada, username="ada", now=at(n)
            )
            store.add_vote(session, user_id=world.ada, paper_id=paper_id, now=at(n))
            store.add_comment(
                session, paper_id=paper_id, user_id=world.ada, body="hi", parent_id=None, now=at(n)
            )
        hidden = []
        for n in range(101):
            comment_id = store.add_comment(
                session, paper_id=ON_FEED, user_id=world.bob, body="spam", parent_id=None, now=at(n)
            )
            store.hide_comment(session, comment_id=comment_id, now=at(n))
            store.log_moderation(
                session, action="hide", now=at(n), moderator_id=world.ada, comment_id=comment_id
            )
            hidden.append(comment_id)
    with world.read() as session:
        assert store.user_submissions(session, user_id=world.ada) == ids[:0:-1]
        assert store.user_upvoted(session, user_id=world.ada) == ids[:0:-1]
        visible = [c.id for c in store.user_comments(session, user_id=world.ada)]
        assert len(visible) == 50 and visible == sorted(visible, reverse=True)
        assert [c.id for c in store.recent_comments(session)] == visible
        assert [c.id for c in store.hidden_comments(session)] == hidden[:0:-1]
        assert [e.comment_id for e in store.moderation_log(session)] == hidden[:0:-1]


# --------------------------------------------------------------------------------------------------
# Versions and checks
# --------------------------------------------------------------------------------------------------


def test_activity_version_moves_with_every_kind_of_write(world: World) -> None:
    def version() -> tuple[int, ...]:
        with world.read() as session:
            return tuple(int(n) for n in store.activity_version(session))

    assert version() == (0, 0, 0)
    with world.write() as session:
        store.add_vote(session, user_id=world.ada, paper_id=ON_FEED, now=NOW)
    assert version() == (1, 1, 1)  # (papers with counts, upvotes, revisions)
    first = world.comment(QUIET, world.ada, "first")
    assert version() == (2, 1, 2)
    with world.write() as session:
        store.add_vote(session, user_id=world.bob, paper_id=QUIET, now=NOW)
    assert version() == (2, 2, 3)
    with world.write() as session:
        store.edit_comment(session, comment_id=first, user_id=world.ada, body="edited", now=at(1))
    assert version() == (2, 2, 4)
    with world.write() as session:
        store.remove_vote(session, user_id=world.ada, paper_id=ON_FEED)
    assert version() == (2, 1, 5)
    with world.write() as session:
        store.hide_comment(session, comment_id=first, now=at(2))
    assert version() == (2, 1, 6)
    with world.write() as session:
        store.unhide_comment(session, comment_id=first, now=at(3))
    assert version() == (2, 1, 7)
    with world.write() as session:
        store.delete_comment(session, comment_id=first, user_id=world.ada, now=at(4))
    assert version() == (2, 1, 8)


def test_check_counts_finds_each_kind_of_planted_drift(world: World) -> None:
    # A consistent state with every shape: votes without comments, comments without votes, only hidden ones.
    with world.write() as session:
        store.add_vote(session, user_id=world.ada, paper_id=ON_FEED, now=NOW)
        store.add_vote(session, user_id=world.bob, paper_id=ON_FEED, now=NOW)
    world.comment(QUIET, world.ada, "shown")
    hidden = world.comment(OFF_FEED, world.ada, "hidden")
    with world.write() as session:
        store.hide_comment(session, comment_id=hidden, now=at(1))
    assert world.check() == CLEAN
    extra, planted_votes, planted_comments = extra_papers(world, 3)
    with world.write() as session:
        # Upvotes: one count too high, one count with no votes at all, and votes with no count row.
        session.execute(update(PaperActivity).where(PaperActivity.paper_id == ON_FEED).values(upvotes=3))
        session.add(PaperActivity(paper_id=extra, upvotes=1, comments=1, revision=1))
        session.execute(insert(Vote).values(user_id=world.ada, paper_id=planted_votes, created_at=NOW))
    assert world.check() == {"upvote_mismatches": 3, "comment_mismatches": 1}
    with world.write() as session:
        # Comments: a hidden one counted, and visible ones with no count row.
        session.execute(update(PaperActivity).where(PaperActivity.paper_id == OFF_FEED).values(comments=1))
        for _ in range(2):
            session.execute(
                insert(Comment).values(
                    paper_id=planted_comments,
                    user_id=world.bob,
                    body="x",
                    status="visible",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    assert world.check() == {"upvote_mismatches": 3, "comment_mismatches": 3}


def test_a_vote_given_here_and_taken_back_there_still_changes_the_version(world: World) -> None:
    """Pages are cached until the activity version moves: a vote on one paper and one taken back on
    another leave the number of votes the same, and must move it all the same."""
    with world.write() as session:
        store.add_vote(session, user_id=world.ada, paper_id=ON_FEED, now=NOW)
        store.add_vote(session, user_id=world.bob, paper_id=QUIET, now=NOW)
    with world.read() as session:
        before = tuple(store.activity_version(session)), store.feed_version(session)
    with world.write() as session:
        store.remove_vote(session, user_id=world.ada, paper_id=ON_FEED)
        store.add_vote(session, user_id=world.ada, paper_id=QUIET, now=at(1))
    assert (world.activity(ON_FEED)[0], world.activity(QUIET)[0]) == (0, 2)  # two papers, two votes, still
    with world.read() as session:
        after = tuple(store.activity_version(session)), store.feed_version(session)
    assert after[0] != before[0]
    assert after[1] != before[1]

"""The rules of comments, called on the library: how text is cleaned and bounded, what the hourly limit
says at its edges, where replies may go, who edits and deletes, and how a discussion is paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community import discussion, moderation
from dailypapers.community.markdown import MAX_COMMENT_CHARS
from dailypapers.errors import (
    NotAllowed,
    NotFoundError,
    TooManyRequests,
)
from dailypapers.models import Comment, User
from dailypapers.store.community import CommentRow
from tests.community.support import HF_PAPER, NOW, invalid, make_user, refused

OTHER_PAPER = "2607.16922"  # also on the feed of 2026-07-31
NOT_OURS = "You can only change your own comments."
REMOVED = "This comment was removed and can no longer be edited."
NO_SUCH_PARENT = {"parent_id": "There is no such comment on this paper to reply to."}
REMOVED_PARENT = {"parent_id": "This comment was removed; it takes no more replies."}


def post(
    sessions: sessionmaker[Session],
    user: User,
    text: str = "A comment.",
    *,
    now: datetime = NOW,
    paper_id: str = HF_PAPER,
    parent_id: int | None = None,
    per_hour: int | None = None,
) -> int:
    with sessions.begin() as session:
        return discussion.post_comment(
            session, user=user, paper_id=paper_id, text=text, parent_id=parent_id, now=now, per_hour=per_hour
        )


def comment(sessions: sessionmaker[Session], comment_id: int) -> tuple[str, str]:
    """A comment's status and text."""
    with sessions() as session:
        found = store.get_comment(session, comment_id=comment_id)
    assert found is not None
    return found.status, found.body


def comment_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Comment)) or 0)


# -- text --------------------------------------------------------------------------------------------


def test_line_ends_become_newlines_and_control_characters_go() -> None:
    assert discussion.clean_text("one\r\ntwo") == "one\ntwo"
    assert discussion.clean_text("one\rtwo") == "one\ntwo"
    assert discussion.clean_text("one\r\n\r\ntwo\r\rthree") == "one\n\ntwo\n\nthree"
    assert discussion.clean_text(" \t a\x00b\x08c\x0b\x0c\x1f\x7fd\te \r\n") == "abcd\te"


def test_a_comment_is_refused_when_empty_or_over_the_limit_but_not_at_it() -> None:
    for blank in ("", "   ", "\r\n\t\r", "\x00\x07"):
        with invalid({"text": "Write something first."}):
            discussion.clean_text(blank)
    with invalid({"body": "Write something first."}):
        discussion.clean_text(" ", field_name="body")
    assert discussion.clean_text("x" * MAX_COMMENT_CHARS) == "x" * MAX_COMMENT_CHARS
    # What counts is the cleaned text: spaces around it and \r of \r\n are not characters of the comment.
    assert len(discussion.clean_text(" " + "x\r\n" * (MAX_COMMENT_CHARS // 2) + " ")) == MAX_COMMENT_CHARS - 1
    too_long = f"A comment can have at most {MAX_COMMENT_CHARS:,} characters."
    assert too_long == "A comment can have at most 10,000 characters."
    with invalid({"text": too_long}):
        discussion.clean_text("x" * (MAX_COMMENT_CHARS + 1))


def test_posted_and_edited_comments_are_stored_cleaned(papers: sessionmaker[Session]) -> None:
    ada = make_user(papers, "ada")
    posted = post(papers, ada, "First line\r\nsecond\rthird\x00 ")
    assert comment(papers, posted) == ("visible", "First line\nsecond\nthird")
    with papers.begin() as session:
        discussion.edit_comment(session, user=ada, comment_id=posted, text="\rEdited\r\nagain", now=NOW)
    assert comment(papers, posted) == ("visible", "Edited\nagain")
    with invalid({"text": "Write something first."}):
        post(papers, ada, "\r\n")
    assert comment_count(papers) == 1


# -- the hourly limit --------------------------------------------------------------------------------


def refusal(posted: str, wait: str) -> str:
    return (
        f"You have posted {posted} in the last hour, the most this site allows. You can post again in "
        f"{wait}; your text was not posted, so keep a copy."
    )


def test_the_hourly_limit_says_when_in_whole_minutes(papers: sessionmaker[Session]) -> None:
    ada = make_user(papers, "ada")
    post(papers, ada, per_hour=1)
    hour = NOW + timedelta(hours=1)
    for now, words, seconds in (
        (NOW + timedelta(minutes=59), "1 minute", 60.0),
        (hour - timedelta(seconds=61), "2 minutes", 61.0),
        (hour - timedelta(seconds=1), "1 minute", 1.0),
        (hour - timedelta(seconds=0.25), "1 minute", 1.0),  # never less than a second
    ):
        with pytest.raises(TooManyRequests) as caught:
            post(papers, ada, "too soon", now=now, per_hour=1)
        assert str(caught.value) == refusal("1 comment", words)
        assert caught.value.retry_after == seconds
    assert comment_count(papers) == 1
    # An hour after the first comment there is room again.
    post(papers, ada, "an hour later", now=hour, per_hour=1)
    assert comment_count(papers) == 2


def test_the_wait_runs_from_the_oldest_of_the_newest_comments_that_fill_the_limit(
    papers: sessionmaker[Session],
) -> None:
    """Three comments in the hour (posted while the account had no limit) and a limit of two: the
    second of them is the one whose hour must pass."""
    ada = make_user(papers, "ada")
    for minutes in (0, 10, 20):
        post(papers, ada, now=NOW + timedelta(minutes=minutes))
    with pytest.raises(TooManyRequests) as caught:
        post(papers, ada, "too soon", now=NOW + timedelta(minutes=30), per_hour=2)
    assert str(caught.value) == refusal("2 comments", "40 minutes")
    assert caught.value.retry_after == 40 * 60
    assert comment_count(papers) == 3


def test_the_wait_is_right_when_the_clock_is_not_in_utc(papers: sessionmaker[Session]) -> None:
    ada = make_user(papers, "ada")
    summer = timezone(timedelta(hours=2))
    post(papers, ada, now=NOW.astimezone(summer), per_hour=1)
    with pytest.raises(TooManyRequests) as caught:
        post(papers, ada, "too soon", now=(NOW + timedelta(minutes=30)).astimezone(summer), per_hour=1)
    assert str(caught.value) == refusal("1 comment", "30 minutes")
    assert caught.value.retry_after == 30 * 60


# -- replies -----------------------------------------------------------------------------------------


def test_replies_go_only_to_visible_comments_of_the_same_paper(papers: sessionmaker[Session]) -> None:
    moe = make_user(papers, "moe", role="moderator")
    ada = make_user(papers, "ada")
    with papers() as session:
        assert store.paper_exists(session, paper_id=OTHER_PAPER)
    elsewhere = post(papers, moe, "On another paper.", paper_id=OTHER_PAPER)
    deleted = post(papers, ada, "Second thoughts.")
    hidden = post(papers, ada, "Buy pills.")
    with papers.begin() as session:
        discussion.delete_comment(session, user=ada, comment_id=deleted, now=NOW)
        moderation.hide_comment(session, moderator=moe, comment_id=hidden, reason=None, now=NOW)
    for parent_id in (elsewhere, 999999):
        with invalid(NO_SUCH_PARENT):
            post(papers, ada, "A reply.", parent_id=parent_id)
    for parent_id in (deleted, hidden):
        with invalid(REMOVED_PARENT):
            post(papers, ada, "A reply.", parent_id=parent_id)
    assert comment_count(papers) == 3
    reply = post(papers, moe, "A reply.", paper_id=OTHER_PAPER, parent_id=elsewhere)
    with papers() as session:
        row = store.get_comment(session, comment_id=reply)
        assert row is not None and row.parent_id == elsewhere


# -- own comments ------------------------------------------------------------------------------------


def test_only_the_author_edits_or_deletes_and_a_removed_comment_stays_removed(
    papers: sessionmaker[Session],
) -> None:
    moe = make_user(papers, "moe", role="moderator")
    ada = make_user(papers, "ada")
    bob = make_user(papers, "bob")
    mine = post(papers, ada, "Mine.")
    with refused(NotFoundError, "There is no comment 999999."), papers.begin() as session:
        discussion.edit_comment(session, user=ada, comment_id=999999, text="Edited.", now=NOW)
    with refused(NotFoundError, "There is no comment 999999."), papers.begin() as session:
        discussion.delete_comment(session, user=ada, comment_id=999999, now=NOW)
    with refused(NotAllowed, NOT_OURS), papers.begin() as session:
        discussion.edit_comment(session, user=bob, comment_id=mine, text="Not yours.", now=NOW)
    with refused(NotAllowed, NOT_OURS), papers.begin() as session:
        discussion.delete_comment(session, user=bob, comment_id=mine, now=NOW)
    assert comment(papers, mine) == ("visible", "Mine.")

    hidden = post(papers, ada, "Buy pills.")
    with papers.begin() as session:
        moderation.hide_comment(session, moderator=moe, comment_id=hidden, reason=None, now=NOW)
        assert discussion.delete_comment(session, user=ada, comment_id=mine, now=NOW) == HF_PAPER
        # Deleting again changes nothing and is no error.
        assert discussion.delete_comment(session, user=ada, comment_id=mine, now=NOW) == HF_PAPER
    for removed in (mine, hidden):
        with refused(NotAllowed, REMOVED), papers.begin() as session:
            discussion.edit_comment(session, user=ada, comment_id=removed, text="Back.", now=NOW)
    assert [comment(papers, c) for c in (mine, hidden)] == [("deleted", ""), ("hidden", "Buy pills.")]


def test_a_banned_author_cannot_delete_what_they_wrote(papers: sessionmaker[Session]) -> None:
    ada = make_user(papers, "ada")
    bob = make_user(papers, "bob")
    theirs = {user.username: post(papers, user, f"By {user.username}.") for user in (ada, bob)}
    with papers.begin() as session:
        moderation.ban(session, moderator=None, target=ada, reason="spam", now=NOW)
        moderation.ban(session, moderator=None, target=bob, reason=None, now=NOW)
    for user, message in ((ada, "This account is suspended: spam"), (bob, "This account is suspended.")):
        with papers() as session:
            banned = session.get(User, user.id)
        assert banned is not None
        with refused(NotAllowed, message), papers.begin() as session:
            discussion.delete_comment(session, user=banned, comment_id=theirs[user.username], now=NOW)
    assert [comment(papers, c)[0] for c in theirs.values()] == ["visible", "visible"]


# -- pages -------------------------------------------------------------------------------------------


def row(comment_id: int, parent_id: int | None = None, status: str = "visible") -> CommentRow:
    when = datetime(2026, 8, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=comment_id)
    return CommentRow(comment_id, HF_PAPER, parent_id, 1, "ada", f"Comment {comment_id}.", status, when, None)


def chain(length: int) -> list[CommentRow]:
    """Comment 1 and a chain of replies, each to the one before: comment n is at depth n - 1."""
    return [row(n, n - 1 if n > 1 else None) for n in range(1, length + 1)]


# An entry of a page: (depth, the entry it hangs under, whom it says it answers, on which page, its replies).
Shown = tuple[int, int | None, int | None, int, list[int]]


def shown(entries: list[discussion.ShownComment]) -> dict[int, Shown]:
    """Every entry of a page by id, walked with a stack."""
    found: dict[int, Shown] = {}
    stack: list[tuple[discussion.ShownComment, int | None]] = [(entry, None) for entry in entries]
    while stack:
        entry, under = stack.pop()
        answers = entry.reply_to.id if entry.reply_to else None
        replies = [reply.comment.id for reply in entry.replies]
        found[entry.comment.id] = (entry.depth, under, answers, entry.reply_to_page, replies)
        stack.extend((reply, entry.comment.id) for reply in entry.replies)
    return found


def ids(page: discussion.ThreadPage) -> list[int]:
    return [entry.comment.id for entry in page]


def test_an_empty_discussion_has_one_empty_page() -> None:
    page = discussion.thread_page([])
    assert (page.page, page.pages, page.total, ids(page)) == (1, 1, 0, [])
    assert discussion.page_of([], comment_id=1) == 1
    with refused(NotFoundError, "This discussion has 1 page; there is no page 2."):
        discussion.thread_page([], page=2)


def test_pages_hold_per_page_comments_and_refuse_pages_past_the_last() -> None:
    threads = discussion.build_threads([row(1), row(2), row(3)])
    whole = discussion.thread_page(threads)
    assert (whole.page, whole.pages, whole.total, ids(whole)) == (1, 1, 3, [1, 2, 3])
    assert discussion.thread_page(threads, per_page=3).pages == 1
    first, second = (discussion.thread_page(threads, page=n, per_page=2) for n in (1, 2))
    assert (first.pages, ids(first), second.pages, ids(second)) == (2, [1, 2], 2, [3])
    for page in (0, 3):
        with refused(NotFoundError, f"This discussion has 2 pages; there is no page {page}."):
            discussion.thread_page(threads, page=page, per_page=2)
    with refused(NotFoundError, "This discussion has 1 page; there is no page 2."):
        discussion.thread_page(threads, page=2)
    assert [discussion.page_of(threads, comment_id=c, per_page=2) for c in (1, 2, 3, 4)] == [1, 1, 2, 1]
    # The default page size, at its edge.
    full = discussion.build_threads([row(n) for n in range(1, discussion.COMMENTS_PER_PAGE + 1)])
    assert discussion.thread_page(full).pages == 1
    over = discussion.build_threads([row(n) for n in range(1, discussion.COMMENTS_PER_PAGE + 2)])
    assert discussion.thread_page(over).pages == 2
    assert discussion.page_of(over, comment_id=discussion.COMMENTS_PER_PAGE + 1) == 2


# -- threads -----------------------------------------------------------------------------------------


def test_removed_comments_stay_only_as_the_place_of_a_shown_reply() -> None:
    comments = [
        row(1),
        row(1),  # the same row twice is read once
        row(2, status="hidden"),
        row(3, status="deleted"),
        row(4, status="hidden"),
        row(5, 4),
        row(6, status="deleted"),
        row(7, 6, status="hidden"),
        row(8, 1),
    ]
    threads = discussion.build_threads(comments)
    tree = [(node.comment.id, [reply.comment.id for reply in node.replies]) for node in threads]
    assert tree == [(1, [8]), (4, [5])]
    assert [node.shown_as_removed for node in threads] == [False, True]
    assert discussion.count_shown(threads) == 3
    # Moderators also see hidden comments that have no reply; deleted ones still go.
    moderated = discussion.build_threads(comments, show_hidden=True)
    assert [node.comment.id for node in moderated] == [1, 2, 4, 6]
    assert [r.comment.id for r in moderated[3].replies] == [7]
    assert discussion.count_shown(moderated) == 3


def test_replies_beyond_the_deepest_level_are_listed_flat_saying_whom_they_answer() -> None:
    deepest = discussion.MAX_DEPTH_SHOWN
    assert deepest == 6
    page = discussion.thread_page(discussion.build_threads(chain(9)))
    entries = shown(page.roots)
    # Comments 1 to 7 (depths 0 to 6) nest, each right under the one it answers.
    for n in range(2, 8):
        assert entries[n][:3] == (n - 1, n - 1, None)
    # Comments 8 and 9 (depths 7 and 8) are listed at depth 6 beside comment 7, naming whom they answer.
    assert entries[8] == (deepest, 6, 7, 1, [])
    assert entries[9] == (deepest, 6, 8, 1, [])
    assert entries[6][4] == [7, 8, 9]
    assert (page.total, len(page), ids(page)) == (9, 1, [1])


def test_a_thread_continued_on_the_next_page_names_the_comment_it_answers() -> None:
    threads = discussion.build_threads(chain(9))
    first, second, third = (discussion.thread_page(threads, page=n, per_page=4) for n in (1, 2, 3))
    assert (ids(first), ids(second), ids(third)) == ([1], [5], [9])
    assert shown(first.roots)[1] == (0, None, None, 1, [2])
    assert shown(first.roots)[4] == (3, 3, None, 1, [])
    page_two = shown(second.roots)
    assert page_two[5] == (4, None, 4, 1, [6])
    assert page_two[6] == (5, 5, None, 1, [7, 8])
    assert page_two[7] == (6, 6, None, 1, [])
    assert page_two[8] == (6, 6, 7, 2, [])
    assert shown(third.roots) == {9: (6, None, 8, 2, [])}
    assert [page.total for page in (first, second, third)] == [9, 9, 9]


# -- who may write -----------------------------------------------------------------------------------


def test_only_a_verified_account_writes_and_only_on_a_paper_that_is_here(
    papers: sessionmaker[Session],
) -> None:
    newbie = make_user(papers, "newbie", verified=False)
    ada = make_user(papers, "ada")
    confirm = (
        "Confirm your mail address first: use the link we sent you (your account page can send it again)."
    )
    with refused(NotAllowed, confirm), papers.begin() as session:
        discussion.post_comment(session, user=newbie, paper_id=HF_PAPER, text="Hi.", parent_id=None, now=NOW)
    with refused(NotAllowed, confirm), papers.begin() as session:
        discussion.upvote(session, user=newbie, paper_id=HF_PAPER, now=NOW)
    assert comment_count(papers) == 0
    missing = "There is no paper '2699.99999' here."
    with refused(NotFoundError, missing):
        post(papers, ada, paper_id="2699.99999")
    with refused(NotFoundError, missing), papers.begin() as session:
        discussion.upvote(session, user=ada, paper_id="2699.99999", now=NOW)
    with refused(NotFoundError, missing), papers.begin() as session:
        discussion.remove_upvote(session, user=ada, paper_id="2699.99999")
    assert comment_count(papers) == 0
    posted = post(papers, ada, "Verified, so posted.")
    with papers.begin() as session:
        assert discussion.upvote(session, user=ada, paper_id=HF_PAPER, now=NOW) is True
    # An account that lost its verified address may still delete what it wrote before.
    with papers.begin() as session:
        store.update_user(session, user_id=ada.id, values={"email_verified_at": None}, now=NOW)
        unverified = session.get(User, ada.id)
        assert unverified is not None and not unverified.is_verified
        assert discussion.delete_comment(session, user=unverified, comment_id=posted, now=NOW) == HF_PAPER
    assert comment(papers, posted) == ("deleted", "")

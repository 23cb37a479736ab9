"""Votes and comments: who may do what, checked here, written by :mod:`dailypapers.store.community`.

Writing needs an account that is not banned and whose address is verified: verification is what makes a
thousand throw-away accounts cost a thousand mailboxes. An account posts at most ``comments_per_hour``
comments in any hour (moderators have no limit). Everyone may read.

A comment is deleted by its author and hidden by a moderator. Either way it stops counting; in the
thread it keeps its place as "[deleted]" (or "[hidden]") while it has replies, and disappears when it has
none. Replies go to visible comments of the same paper only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dailypapers import store
from dailypapers.community.markdown import MAX_COMMENT_CHARS
from dailypapers.errors import InvalidInput, NotAllowed, NotFoundError, TooManyRequests
from dailypapers.models import Comment, User
from dailypapers.store.community import CommentRow

# Control characters other than tab and newline have no place in a comment (PostgreSQL refuses NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_DEPTH_SHOWN = 6
COMMENTS_PER_PAGE = 100


def check_may_write(user: User) -> None:
    if user.is_banned:
        raise NotAllowed("This account is suspended" + (f": {user.ban_reason}" if user.ban_reason else "."))
    if not user.is_verified:
        raise NotAllowed(
            "Confirm your mail address first: use the link we sent you (your account page can send it again)."
        )


def clean_text(text: str, field_name: str = "text") -> str:
    cleaned = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not cleaned:
        raise InvalidInput({field_name: "Write something first."})
    if len(cleaned) > MAX_COMMENT_CHARS:
        raise InvalidInput({field_name: f"A comment can have at most {MAX_COMMENT_CHARS:,} characters."})
    return cleaned


def _require_paper(session: Session, paper_id: str) -> None:
    if not store.paper_exists(session, paper_id=paper_id):
        raise NotFoundError(f"There is no paper {paper_id!r} here.")


# -- votes -------------------------------------------------------------------------------------------


def upvote(session: Session, *, user: User, paper_id: str, now: datetime) -> bool:
    check_may_write(user)
    _require_paper(session, paper_id)
    return store.add_vote(session, user_id=user.id, paper_id=paper_id, now=now)


def remove_upvote(session: Session, *, user: User, paper_id: str) -> bool:
    check_may_write(user)
    _require_paper(session, paper_id)
    return store.remove_vote(session, user_id=user.id, paper_id=paper_id)


# -- comments ----------------------------------------------------------------------------------------


COMMENT_WINDOW = timedelta(hours=1)


def _wait_words(seconds: float) -> str:
    minutes = max(1, -(-int(seconds) // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def check_comment_limit(session: Session, *, user: User, per_hour: int | None, now: datetime) -> None:
    """Refuse a comment past the account's hourly limit, with when the next one is possible.

    The account's row is locked first, so that two comments posted at once are counted one after the
    other (otherwise both could see the count below the limit). Moderators and admins have no limit.
    """
    if per_hour is None or user.is_moderator:
        return
    store.lock_user_row(session, user_id=user.id)
    recent = store.comment_times_since(session, user_id=user.id, since=now - COMMENT_WINDOW, limit=per_hour)
    if len(recent) < per_hour:
        return
    wait = max(1.0, (recent[0] + COMMENT_WINDOW - now).total_seconds())
    raise TooManyRequests(
        f"You have posted {per_hour} comment{'s' if per_hour != 1 else ''} in the last hour, the most this "
        f"site allows. You can post again in {_wait_words(wait)}; your text was not posted, so keep a copy.",
        retry_after=wait,
    )


def post_comment(
    session: Session,
    *,
    user: User,
    paper_id: str,
    text: str,
    parent_id: int | None,
    now: datetime,
    per_hour: int | None = None,
) -> int:
    """Post a comment or a reply; ``per_hour`` is the account's limit (None: no limit)."""
    check_may_write(user)
    body = clean_text(text)
    _require_paper(session, paper_id)
    check_comment_limit(session, user=user, per_hour=per_hour, now=now)
    if parent_id is not None:
        parent = store.get_comment(session, comment_id=parent_id)
        if parent is None or parent.paper_id != paper_id:
            raise InvalidInput({"parent_id": "There is no such comment on this paper to reply to."})
        if parent.status != "visible":
            raise InvalidInput({"parent_id": "This comment was removed; it takes no more replies."})
    return store.add_comment(
        session, paper_id=paper_id, user_id=user.id, body=body, parent_id=parent_id, now=now
    )


def _own_comment(session: Session, user: User, comment_id: int) -> Comment:
    comment = store.get_comment(session, comment_id=comment_id)
    if comment is None:
        raise NotFoundError(f"There is no comment {comment_id}.")
    if comment.user_id != user.id:
        raise NotAllowed("You can only change your own comments.")
    return comment


def edit_comment(session: Session, *, user: User, comment_id: int, text: str, now: datetime) -> str:
    """Edit one's own comment; returns its paper id."""
    check_may_write(user)
    body = clean_text(text)
    comment = _own_comment(session, user, comment_id)
    if not store.edit_comment(session, comment_id=comment_id, user_id=user.id, body=body, now=now):
        raise NotAllowed("This comment was removed and can no longer be edited.")
    return comment.paper_id


def delete_comment(session: Session, *, user: User, comment_id: int, now: datetime) -> str:
    """Delete one's own comment; returns its paper id. Deleting it again changes nothing.

    Unverified accounts may delete what they wrote (they could write only before losing the right);
    banned ones may not, so that a moderator's view of what happened stays intact.
    """
    if user.is_banned:
        check_may_write(user)
    comment = _own_comment(session, user, comment_id)
    paper_id = comment.paper_id
    store.delete_comment(session, comment_id=comment_id, user_id=user.id, now=now)
    return paper_id


# -- threads -----------------------------------------------------------------------------------------

# Reply chains are made by users, so they are walked with loops, never recursion: a chain of thousands of
# replies is as easy to show as a short one. Replies nest on screen down to depth MAX_DEPTH_SHOWN; the
# replies below that are listed flat at that depth, in reading order, under their last ancestor shown
# nested, each saying whom it answers (as Hacker News and Reddit do). Pages hold COMMENTS_PER_PAGE
# comments in reading order, so one long chain spreads over pages instead of making one huge page.


@dataclass
class ThreadNode:
    """A comment with its replies, for showing a thread; ``depth`` is 0 for a comment on the paper."""

    comment: CommentRow
    depth: int
    replies: list[ThreadNode] = field(default_factory=list)

    @property
    def shown_as_removed(self) -> bool:
        return self.comment.status != "visible"


def build_threads(comments: list[CommentRow], *, show_hidden: bool = False) -> list[ThreadNode]:
    """Comments (oldest first) as trees. A removed comment stays as a placeholder while it has a reply
    that is shown; a removed comment without one is left out, and so are its removed descendants."""
    nodes: dict[int, ThreadNode] = {}
    order: list[ThreadNode] = []
    roots: list[ThreadNode] = []
    for comment in comments:
        if comment.id in nodes:
            continue
        # A parent is only ever older than its reply, so it has been seen already; one that has not (or
        # is missing) makes the comment a thread of its own. This also rules out cycles.
        parent = nodes.get(comment.parent_id) if comment.parent_id is not None else None
        node = ThreadNode(comment, 0 if parent is None else parent.depth + 1)
        nodes[comment.id] = node
        order.append(node)
        (roots if parent is None else parent.replies).append(node)
    kept: set[int] = set()
    for node in reversed(order):  # replies come after their parents: each is decided before its parent
        node.replies = [reply for reply in node.replies if reply.comment.id in kept]
        status = node.comment.status
        if status == "visible" or node.replies or (show_hidden and status == "hidden"):
            kept.add(node.comment.id)
    return [root for root in roots if root.comment.id in kept]


def reading_order(threads: list[ThreadNode]) -> list[ThreadNode]:
    """Every node of the threads, each before its replies, in the order a reader meets them."""
    ordered: list[ThreadNode] = []
    stack = list(reversed(threads))
    while stack:
        node = stack.pop()
        ordered.append(node)
        stack.extend(reversed(node.replies))
    return ordered


def count_shown(threads: list[ThreadNode]) -> int:
    return sum(node.comment.status == "visible" for node in reading_order(threads))


@dataclass
class ShownComment:
    """A comment as one page of the discussion shows it.

    ``reply_to`` names the comment it answers when that one is not right above it: a reply listed flat
    beyond the deepest level, or the first of a thread continued from the page before
    (``reply_to_page`` says which page shows the parent).
    """

    comment: CommentRow
    depth: int
    replies: list[ShownComment] = field(default_factory=list)
    reply_to: CommentRow | None = None
    reply_to_page: int = 1

    @property
    def shown_as_removed(self) -> bool:
        return self.comment.status != "visible"


@dataclass
class ThreadPage:
    """One page of a discussion: up to ``per_page`` comments in reading order, as nested lists no
    deeper than ``MAX_DEPTH_SHOWN`` levels. Iterating gives the page's top-level entries."""

    roots: list[ShownComment]
    page: int
    pages: int
    total: int

    def __iter__(self) -> Iterator[ShownComment]:
        return iter(self.roots)

    def __len__(self) -> int:
        return len(self.roots)


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def page_of(threads: list[ThreadNode], *, comment_id: int, per_page: int = COMMENTS_PER_PAGE) -> int:
    """The page of the discussion that shows a comment (1 when it is not shown at all)."""
    for index, node in enumerate(reading_order(threads)):
        if node.comment.id == comment_id:
            return index // per_page + 1
    return 1


def thread_page(threads: list[ThreadNode], *, page: int = 1, per_page: int = COMMENTS_PER_PAGE) -> ThreadPage:
    """Page ``page`` (from 1) of the discussion; :class:`NotFoundError` past the last page."""
    ordered = reading_order(threads)
    pages = _pages(len(ordered), per_page)
    if not 1 <= page <= pages:
        raise NotFoundError(
            f"This discussion has {pages} page{'s' if pages != 1 else ''}; there is no page {page}."
        )
    position = {node.comment.id: index for index, node in enumerate(ordered)}
    parent_of: dict[int, ThreadNode] = {}
    for node in ordered:
        for reply in node.replies:
            parent_of[reply.comment.id] = node
    # Where each comment hangs on screen: under its parent, or, beyond the deepest level, under the
    # ancestor at the deepest level (the same one its parent hangs under).
    anchor: dict[int, int] = {}
    for node in ordered:
        parent = parent_of.get(node.comment.id)
        if parent is not None:
            anchor[node.comment.id] = (
                parent.comment.id if node.depth <= MAX_DEPTH_SHOWN else anchor[parent.comment.id]
            )
    first = (page - 1) * per_page
    shown: dict[int, ShownComment] = {}
    roots: list[ShownComment] = []
    for node in ordered[first : first + per_page]:
        parent = parent_of.get(node.comment.id)
        entry = ShownComment(node.comment, min(node.depth, MAX_DEPTH_SHOWN))
        shown[node.comment.id] = entry
        above = shown.get(anchor[node.comment.id]) if parent is not None else None
        if parent is not None and (above is None or node.depth > MAX_DEPTH_SHOWN):
            entry.reply_to = parent.comment
            entry.reply_to_page = position[parent.comment.id] // per_page + 1
        (roots if above is None else above.replies).append(entry)
    return ThreadPage(roots=roots, page=page, pages=pages, total=len(ordered))


__all__ = [
    "COMMENTS_PER_PAGE",
    "MAX_DEPTH_SHOWN",
    "ShownComment",
    "ThreadNode",
    "ThreadPage",
    "build_threads",
    "check_comment_limit",
    "check_may_write",
    "clean_text",
    "count_shown",
    "delete_comment",
    "edit_comment",
    "page_of",
    "post_comment",
    "reading_order",
    "remove_upvote",
    "thread_page",
    "upvote",
]

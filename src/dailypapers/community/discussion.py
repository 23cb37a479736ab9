"""Votes and comments: who may do what, checked here, written by :mod:`dailypapers.store.community`.

Writing needs an account that is not banned and whose address is verified: verification is what makes a
thousand throw-away accounts cost a thousand mailboxes. Everyone may read.

A comment is deleted by its author and hidden by a moderator. Either way it stops counting; in the
thread it keeps its place as "[deleted]" (or "[hidden]") while it has replies, and disappears when it has
none. Replies go to visible comments of the same paper only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from dailypapers import store
from dailypapers.community.markdown import MAX_COMMENT_CHARS
from dailypapers.errors import InvalidInput, NotAllowed, NotFoundError
from dailypapers.models import Comment, User
from dailypapers.store.community import CommentRow

# Control characters other than tab and newline have no place in a comment (PostgreSQL refuses NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_DEPTH_SHOWN = 6


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


def post_comment(
    session: Session, *, user: User, paper_id: str, text: str, parent_id: int | None, now: datetime
) -> int:
    check_may_write(user)
    body = clean_text(text)
    _require_paper(session, paper_id)
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


@dataclass
class ThreadNode:
    """A comment with its replies, for showing a thread."""

    comment: CommentRow
    depth: int
    replies: list[ThreadNode] = field(default_factory=list)

    @property
    def shown_as_removed(self) -> bool:
        return self.comment.status != "visible"


def build_threads(comments: list[CommentRow], *, show_hidden: bool = False) -> list[ThreadNode]:
    """Comments (oldest first) as trees. A removed comment stays as a placeholder while it has a reply
    that is shown; a removed comment without one is left out, and so are its removed descendants."""
    nodes = {c.id: ThreadNode(c, 0) for c in comments}
    roots: list[ThreadNode] = []
    for comment in comments:
        node = nodes[comment.id]
        parent = nodes.get(comment.parent_id) if comment.parent_id is not None else None
        if parent is None:
            roots.append(node)
        else:
            parent.replies.append(node)

    def keep(node: ThreadNode, depth: int) -> bool:
        node.depth = depth
        node.replies = [child for child in node.replies if keep(child, depth + 1)]
        if node.comment.status == "visible" or node.replies:
            return True
        return show_hidden and node.comment.status == "hidden"

    return [root for root in roots if keep(root, 0)]


def count_shown(threads: list[ThreadNode]) -> int:
    return sum((node.comment.status == "visible") + count_shown(node.replies) for node in threads)


__all__ = [
    "MAX_DEPTH_SHOWN",
    "ThreadNode",
    "build_threads",
    "check_may_write",
    "clean_text",
    "count_shown",
    "delete_comment",
    "edit_comment",
    "post_comment",
    "remove_upvote",
    "upvote",
]

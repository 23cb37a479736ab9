"""Moderation: hiding comments, banning accounts, changing roles; every decision goes in the log.

Moderators hide and unhide comments and ban and unban ordinary accounts; admins may also ban moderators
and change roles. Nobody bans, unbans or changes the role of their own account. Hiding judges a comment,
not its author, so any moderator may hide any comment, their own or an admin's included (the log keeps
who did it). ``moderator=None`` is the operator at the command line,
who may do everything. A ban ends every session of the account at once and makes its API tokens stop
working (they work again after an unban); what the account wrote stays, for moderators to judge.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dailypapers import store
from dailypapers.errors import AlreadyDone, InvalidInput, NotAllowed, NotFoundError
from dailypapers.models import ROLES, User

MAX_REASON_CHARS = 500


def _reason(reason: str | None) -> str | None:
    text = " ".join((reason or "").split())
    return text[:MAX_REASON_CHARS] or None


def _check_moderator(moderator: User | None) -> None:
    if moderator is not None and (not moderator.is_moderator or moderator.is_banned):
        raise NotAllowed("Only moderators can do this.")


def _check_target(moderator: User | None, target: User) -> None:
    if moderator is None:
        return
    if moderator.id == target.id:
        raise NotAllowed("You cannot do this to your own account.")
    if target.is_moderator and not moderator.is_admin:
        raise NotAllowed("Only an admin can act on a moderator's or admin's account.")


def hide_comment(
    session: Session, *, moderator: User | None, comment_id: int, reason: str | None, now: datetime
) -> str:
    """Hide a comment; returns its paper id."""
    return _set_comment_hidden(
        session, moderator=moderator, comment_id=comment_id, reason=reason, now=now, hidden=True
    )


def unhide_comment(
    session: Session, *, moderator: User | None, comment_id: int, reason: str | None, now: datetime
) -> str:
    """Show a hidden comment again; returns its paper id."""
    return _set_comment_hidden(
        session, moderator=moderator, comment_id=comment_id, reason=reason, now=now, hidden=False
    )


def _set_comment_hidden(
    session: Session,
    *,
    moderator: User | None,
    comment_id: int,
    reason: str | None,
    now: datetime,
    hidden: bool,
) -> str:
    _check_moderator(moderator)
    comment = store.get_comment(session, comment_id=comment_id)
    if comment is None:
        raise NotFoundError(f"There is no comment {comment_id}.")
    change = store.hide_comment if hidden else store.unhide_comment
    paper_id = change(session, comment_id=comment_id, now=now)
    if paper_id is None:
        raise AlreadyDone(
            "This comment is not visible (already hidden, or deleted by its author)."
            if hidden
            else "This comment is not hidden."
        )
    store.log_moderation(
        session,
        action="hide_comment" if hidden else "unhide_comment",
        now=now,
        moderator_id=moderator.id if moderator else None,
        target_user_id=comment.user_id,
        comment_id=comment_id,
        paper_id=paper_id,
        reason=_reason(reason),
    )
    return paper_id


def ban(session: Session, *, moderator: User | None, target: User, reason: str | None, now: datetime) -> None:
    _check_moderator(moderator)
    _check_target(moderator, target)
    if not store.set_ban(session, user_id=target.id, banned_at=now, reason=_reason(reason), now=now):
        raise AlreadyDone(f"{target.username} is banned already.")
    ended = store.delete_sessions(session, user_id=target.id)
    store.log_moderation(
        session,
        action="ban",
        now=now,
        moderator_id=moderator.id if moderator else None,
        target_user_id=target.id,
        reason=_reason(reason) or (f"{ended} sessions ended" if ended else None),
    )


def unban(
    session: Session, *, moderator: User | None, target: User, reason: str | None, now: datetime
) -> None:
    _check_moderator(moderator)
    _check_target(moderator, target)
    if not store.set_ban(session, user_id=target.id, banned_at=None, reason=None, now=now):
        raise AlreadyDone(f"{target.username} is not banned.")
    store.log_moderation(
        session,
        action="unban",
        now=now,
        moderator_id=moderator.id if moderator else None,
        target_user_id=target.id,
        reason=_reason(reason),
    )


def set_role(session: Session, *, admin: User | None, target: User, role: str, now: datetime) -> None:
    if admin is not None and (not admin.is_admin or admin.is_banned):
        raise NotAllowed("Only admins can change roles.")
    if role not in ROLES:
        raise InvalidInput({"role": f"The role must be one of {', '.join(ROLES)}."})
    if admin is not None and admin.id == target.id:
        raise NotAllowed("You cannot change your own role.")
    if target.role == role:
        raise AlreadyDone(f"{target.username} is {role} already.")
    previous = target.role
    store.update_user(session, user_id=target.id, values={"role": role}, now=now)
    store.log_moderation(
        session,
        action="set_role",
        now=now,
        moderator_id=admin.id if admin else None,
        target_user_id=target.id,
        reason=f"{previous} → {role}",
    )


__all__ = ["ban", "hide_comment", "set_role", "unban", "unhide_comment"]

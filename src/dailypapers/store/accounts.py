"""Queries about accounts: users, signed-in sessions, API tokens, failed log-ins.

Secrets are never stored: sessions and API tokens are looked up by the SHA-256 of the value the client
holds (see :mod:`dailypapers.community.secrets`), passwords by their argon2 hash. Counters that several
workers may change at once (failed log-ins) are checked and changed with single ``INSERT ... ON CONFLICT
DO UPDATE`` statements, never read, changed in Python and written back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from dailypapers.db import upsert_insert
from dailypapers.models import ApiToken, LoginThrottle, User, UserSession

USERS = cast(Table, User.__table__)
SESSIONS = cast(Table, UserSession.__table__)
TOKENS = cast(Table, ApiToken.__table__)
THROTTLE = cast(Table, LoginThrottle.__table__)

# Last-seen times are written at most this often, so that reading pages does not mean writing rows.
TOUCH_EVERY = timedelta(minutes=5)


# --------------------------------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    username: str,
    email: str,
    password_hash: str,
    security_stamp: str,
    now: datetime,
    role: str = "user",
    verified: bool = False,
) -> User:
    """A new account; the caller has validated every value. Raises IntegrityError for a taken name or
    address (the unique indexes decide, so two sign-ups racing for one name cannot both win)."""
    user = User(
        username=username,
        username_key=username.casefold(),
        email=email,
        password_hash=password_hash,
        security_stamp=security_stamp,
        role=role,
        show_upvotes=False,
        email_verified_at=now if verified else None,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id)


def user_by_name(session: Session, *, username: str) -> User | None:
    return session.scalars(select(User).where(User.username_key == username.casefold())).first()


def user_by_email(session: Session, *, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).first()


def user_by_login(session: Session, *, login: str) -> User | None:
    """The account whose name or mail address is ``login`` (names cannot contain ``@``)."""
    if "@" in login:
        return user_by_email(session, email=login.strip().lower())
    return user_by_name(session, username=login.strip())


def username_taken(session: Session, *, username: str) -> bool:
    return (
        session.execute(select(USERS.c.id).where(USERS.c.username_key == username.casefold())).first()
        is not None
    )


def email_taken(session: Session, *, email: str) -> bool:
    return session.execute(select(USERS.c.id).where(USERS.c.email == email)).first() is not None


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def update_user(session: Session, *, user_id: int, values: dict[str, Any], now: datetime) -> None:
    session.execute(update(USERS).where(USERS.c.id == user_id).values(**values, updated_at=now))


def mark_verified(session: Session, *, user_id: int, email: str, now: datetime) -> bool:
    """Mark the address verified, if it is still the account's address and not verified yet."""
    result = session.execute(
        update(USERS)
        .where(USERS.c.id == user_id, USERS.c.email == email, USERS.c.email_verified_at.is_(None))
        .values(email_verified_at=now, updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim_mail_slot(session: Session, *, user_id: int, column: str, now: datetime, every: timedelta) -> bool:
    """Record that a mail of a kind (``verification_sent_at``, ``reset_sent_at``) goes out now, unless
    one went out less than ``every`` ago. One conditional update, so two requests cannot both send."""
    sent_at = USERS.c[column]
    result = session.execute(
        update(USERS)
        .where(USERS.c.id == user_id, or_(sent_at.is_(None), sent_at < now - every))
        .values({column: now})
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def set_password(
    session: Session, *, user_id: int, password_hash: str, security_stamp: str, now: datetime
) -> None:
    """Replace the password and the security stamp (which voids every reset link sent before)."""
    session.execute(
        update(USERS)
        .where(USERS.c.id == user_id)
        .values(password_hash=password_hash, security_stamp=security_stamp, updated_at=now)
    )


def set_ban(
    session: Session, *, user_id: int, banned_at: datetime | None, reason: str | None, now: datetime
) -> bool:
    """Ban (``banned_at`` set) or unban (``None``); False when the account was already in that state."""
    already = USERS.c.banned_at.is_not(None) if banned_at is not None else USERS.c.banned_at.is_(None)
    result = session.execute(
        update(USERS)
        .where(USERS.c.id == user_id, ~already)
        .values(banned_at=banned_at, ban_reason=reason, updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def usernames(session: Session, *, user_ids: Sequence[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.execute(select(USERS.c.id, USERS.c.username).where(USERS.c.id.in_(set(user_ids))))
    return {user_id: name for user_id, name in rows}


def local_usernames(session: Session, *, names: Sequence[str]) -> set[str]:
    """Which of ``names`` are accounts here (submitters on the feed may be Hugging Face users)."""
    keys = {name.casefold(): name for name in names if name}
    if not keys:
        return set()
    rows = session.execute(select(USERS.c.username_key).where(USERS.c.username_key.in_(list(keys))))
    return {keys[key] for (key,) in rows}


# --------------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A valid session and its account."""

    session_id: str
    user: User
    last_seen_at: datetime


def create_session(
    session: Session,
    *,
    session_id: str,
    user_id: int,
    now: datetime,
    expires_at: datetime,
    client_address: str | None,
    user_agent: str | None,
) -> None:
    session.add(
        UserSession(
            id=session_id,
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            client_address=(client_address or "")[:64] or None,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    session.execute(update(USERS).where(USERS.c.id == user_id).values(last_login_at=now))


def signed_in(session: Session, *, session_id: str, now: datetime) -> SignedIn | None:
    """The account of a live session (not expired, account not banned), or None."""
    row = session.execute(
        select(User, SESSIONS.c.last_seen_at)
        .join(SESSIONS, SESSIONS.c.user_id == User.id)
        .where(SESSIONS.c.id == session_id, SESSIONS.c.expires_at > now, User.banned_at.is_(None))
    ).first()
    if row is None:
        return None
    return SignedIn(session_id=session_id, user=row[0], last_seen_at=row[1])


def touch_session(session: Session, *, found: SignedIn, now: datetime) -> bool:
    """Record that a session was used, at most every few minutes; on SQLite even an update that matches
    nothing takes the write lock, so the age is checked here first."""
    if found.last_seen_at > now - TOUCH_EVERY:
        return False
    session.execute(update(SESSIONS).where(SESSIONS.c.id == found.session_id).values(last_seen_at=now))
    return True


def delete_session(session: Session, *, session_id: str) -> None:
    session.execute(delete(SESSIONS).where(SESSIONS.c.id == session_id))


def delete_sessions(session: Session, *, user_id: int, keep: str | None = None) -> int:
    """Log an account out everywhere (except the session ``keep``); returns how many were ended."""
    statement = delete(SESSIONS).where(SESSIONS.c.user_id == user_id)
    if keep is not None:
        statement = statement.where(SESSIONS.c.id != keep)
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def user_sessions(session: Session, *, user_id: int, now: datetime) -> list[UserSession]:
    return list(
        session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id, UserSession.expires_at > now)
            .order_by(UserSession.last_seen_at.desc())
        )
    )


def delete_expired_sessions(session: Session, *, now: datetime) -> int:
    return int(session.execute(delete(SESSIONS).where(SESSIONS.c.expires_at <= now)).rowcount)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------
# API tokens
# --------------------------------------------------------------------------------------------------


def create_api_token(
    session: Session, *, user_id: int, name: str, token_hash: str, prefix: str, now: datetime
) -> ApiToken:
    token = ApiToken(user_id=user_id, name=name, token_hash=token_hash, prefix=prefix, created_at=now)
    session.add(token)
    session.flush()
    return token


def api_tokens(session: Session, *, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def user_for_token(session: Session, *, token_hash: str) -> tuple[User, ApiToken] | None:
    """The account of a live token, or None (unknown or revoked; bans are the caller's to check)."""
    row = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    ).first()
    return None if row is None else (row[0], row[1])


def touch_api_token(session: Session, *, token: ApiToken, now: datetime) -> bool:
    """Record that a token was used, at most every few minutes (see :func:`touch_session`)."""
    if token.last_used_at is not None and token.last_used_at > now - TOUCH_EVERY:
        return False
    session.execute(update(TOKENS).where(TOKENS.c.id == token.id).values(last_used_at=now))
    return True


def api_token_of(session: Session, *, token_id: int, user_id: int) -> ApiToken | None:
    """The account's token with this id (revoked or not), or None, also when it is someone else's."""
    return session.scalars(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    ).first()


def revoke_api_token(session: Session, *, token_id: int, user_id: int, now: datetime) -> bool:
    result = session.execute(
        update(TOKENS)
        .where(TOKENS.c.id == token_id, TOKENS.c.user_id == user_id, TOKENS.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------
# Failed log-ins
# --------------------------------------------------------------------------------------------------


def locked_until(session: Session, *, keys: Sequence[str], now: datetime) -> datetime | None:
    """The latest end of a lockout in force for any of ``keys``, or None."""
    until: datetime | None = session.scalar(
        select(func.max(THROTTLE.c.locked_until)).where(
            THROTTLE.c.key.in_(list(keys)), THROTTLE.c.locked_until > now
        )
    )
    return until


def claim_login_attempt(session: Session, *, key: str, now: datetime, forget_after: timedelta) -> int | None:
    """Count one log-in attempt under ``key`` unless a lockout is in force: the count of attempts in a
    row, this one included, or None when ``key`` is locked (and nothing was counted).

    The check and the count are one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` statement, atomic on
    both databases: PostgreSQL locks the row and re-evaluates the ``WHERE`` on the newest version, and
    SQLite runs one writer at a time. Of a burst of parallel attempts, exactly as many get through as the
    limit allows, whatever their timing. The count starts again at 1 once the previous attempt is older
    than ``forget_after``. The caller locks the key (``lock_login``) in the same transaction once the
    count reaches its limit, while the row is still locked for it.
    """
    statement = upsert_insert(session, THROTTLE).values(key=key, failures=1, last_failure_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "failures": case(
                (THROTTLE.c.last_failure_at < now - forget_after, 1), else_=THROTTLE.c.failures + 1
            ),
            "last_failure_at": now,
        },
        where=or_(THROTTLE.c.locked_until.is_(None), THROTTLE.c.locked_until <= now),
    ).returning(THROTTLE.c.failures)
    row = session.execute(statement).first()
    return None if row is None else int(row[0])


def lock_login(session: Session, *, key: str, until: datetime) -> None:
    session.execute(update(THROTTLE).where(THROTTLE.c.key == key).values(locked_until=until))


def clear_login_failures(session: Session, *, key: str) -> None:
    session.execute(delete(THROTTLE).where(THROTTLE.c.key == key))


def uncount_login_attempt(session: Session, *, key: str, lock_set: datetime | None) -> None:
    """Take back one counted attempt that turned out to succeed, and the lockout it set, if no later
    attempt has replaced that lockout since (used for the address count, which successes do not clear)."""
    values: dict[str, Any] = {"failures": case((THROTTLE.c.failures > 0, THROTTLE.c.failures - 1), else_=0)}
    if lock_set is not None:
        values["locked_until"] = case(
            (THROTTLE.c.locked_until == lock_set, None), else_=THROTTLE.c.locked_until
        )
    session.execute(update(THROTTLE).where(THROTTLE.c.key == key).values(values))


def forget_old_login_failures(session: Session, *, before: datetime, now: datetime) -> int:
    """Drop failure counts last touched before ``before`` whose lockout (if any) is over."""
    statement = delete(THROTTLE).where(
        THROTTLE.c.last_failure_at < before,
        or_(THROTTLE.c.locked_until.is_(None), THROTTLE.c.locked_until <= now),
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


__all__ = [
    "SignedIn",
    "api_token_of",
    "api_tokens",
    "claim_login_attempt",
    "claim_mail_slot",
    "clear_login_failures",
    "create_api_token",
    "create_session",
    "create_user",
    "delete_expired_sessions",
    "delete_session",
    "delete_sessions",
    "email_taken",
    "forget_old_login_failures",
    "get_user",
    "list_users",
    "local_usernames",
    "lock_login",
    "locked_until",
    "mark_verified",
    "revoke_api_token",
    "set_ban",
    "set_password",
    "signed_in",
    "touch_api_token",
    "touch_session",
    "uncount_login_attempt",
    "update_user",
    "user_by_email",
    "user_by_login",
    "user_by_name",
    "user_for_token",
    "user_sessions",
    "username_taken",
    "usernames",
]

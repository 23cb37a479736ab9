"""Accounts: signing up, logging in (with throttling), verifying addresses, resetting passwords, tokens.

Every function takes an open session (the caller owns the transaction) or, where it must commit between
steps, the session factory, and the clock as ``now``, so tests decide what time it is.

Throttling of failed log-ins keeps its counts in the database (``login_throttle``), so that every web
worker sees them, under two keys per attempt: the account and client address together (the account by
id when the name exists, else by the name typed, so that unknown names answer like known ones), and the
client address alone. Once a key has had too many failures in a row, log-ins under it are refused for
``login_lockout_seconds``, doubling with each further failure up to ``login_lockout_max_seconds``.

Each attempt is counted *before* its password is checked, by the statement that checks the lockout
(``store.claim_login_attempt``): a check followed by a later count lets a burst of parallel guesses all
pass the check before any is counted. A success then takes its count back: it clears the pair's record,
and takes one off the address's (never clears it, so an attacker cannot wipe their address's record by
logging into an account of their own). During a lockout the password is not even checked: the answer
says when to try again and costs nothing to compute.

Why per account and address, not per account: a lock on the account alone lets anyone lock its owner
out by guessing wrong on purpose. Keyed by the pair, the guesser slows down exponentially and the owner,
from their own address, is not held up. A guesser with many addresses gets a few guesses per address;
the address count and the password policy (no common passwords) are what stand against that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community.credentials import (
    Credentials,
    InvalidLink,
    LinkPurpose,
    new_api_token,
    new_secret,
    new_security_stamp,
    sha256_hex,
)
from dailypapers.community.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
    waste_time_like_a_login,
)
from dailypapers.config import Settings
from dailypapers.digest.subscribers import normalise_email
from dailypapers.errors import (
    AlreadyDone,
    InvalidInput,
    LoginFailed,
    NotAllowed,
    NotFoundError,
    TooManyRequests,
)
from dailypapers.models import ROLES, User

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{2,31}")
RESERVED_NAMES = frozenset(
    """admin administrator moderator mod mods root system support staff deleted hidden anonymous
    nobody me you dailypapers daily-papers daily_papers api static login logout signup account
    moderation submit""".split()
)
FORGET_FAILURES_AFTER = timedelta(days=1)
MAIL_EVERY = timedelta(minutes=2)
TOKEN_NAME_CHARS = 100


class AddressTaken(InvalidInput):
    """A sign-up that would be fine but for its mail address, which an account has already."""


def username_problem(value: str) -> str | None:
    if not USERNAME.fullmatch(value):
        return (
            "Use 3 to 32 letters, digits, '-' or '_', starting with a letter or digit "
            "(it is shown with everything you post)."
        )
    if value.casefold() in RESERVED_NAMES:
        return "This name is reserved; choose another."
    return None


def clean_email(value: str) -> str:
    try:
        return normalise_email(value)
    except ValueError as exc:
        raise InvalidInput({"email": str(exc).capitalize() + "."}) from None


def sign_up(
    session: Session,
    *,
    username: str,
    email: str,
    password: str,
    now: datetime,
    role: str = "user",
    verified: bool = False,
) -> User:
    """Create an account after checking every field; :class:`InvalidInput` lists all that is wrong,
    and :class:`AddressTaken` (raised only when nothing else is wrong) says the address has an account."""
    username = username.strip()
    problems: dict[str, str] = {}
    if problem := username_problem(username):
        problems["username"] = problem
    try:
        address = normalise_email(email)
    except ValueError as exc:
        problems["email"] = str(exc).capitalize() + "."
        address = email.strip()
    if problem := password_problem(password, username=username, email=address):
        problems["password"] = problem
    if role not in ROLES:
        problems["role"] = f"The role must be one of {', '.join(ROLES)}."
    if "username" not in problems and store.username_taken(session, username=username):
        problems["username"] = "This name is taken; choose another."
    if problems:
        raise InvalidInput(problems)
    # Checked last, and apart: the site must not tell a visitor which addresses have accounts, so the
    # web page answers AddressTaken like a sign-up that worked (the owner gets a mail about it).
    if store.email_taken(session, email=address):
        raise AddressTaken(
            {"email": "An account with this address exists already. Log in, or reset its password."}
        )
    try:
        with session.begin_nested():
            return store.create_user(
                session,
                username=username,
                email=address,
                password_hash=hash_password(password),
                security_stamp=new_security_stamp(),
                now=now,
                role=role,
                verified=verified,
            )
    except IntegrityError:
        # Someone took the name or address between the check and the insert.
        raise InvalidInput({"username": "This name or address was just taken; choose another."}) from None


# --------------------------------------------------------------------------------------------------
# Logging in
# --------------------------------------------------------------------------------------------------


def _wait_text(seconds: float) -> str:
    seconds = ceil(seconds)
    if seconds < 120:
        return "1 second" if seconds <= 1 else f"{seconds} seconds"
    minutes = ceil(seconds / 60)
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{ceil(minutes / 60)} hours"


def _lockout(settings: Settings, failures: int, threshold: int) -> timedelta | None:
    if failures < threshold:
        return None
    seconds = settings.login_lockout_seconds * 2 ** min(failures - threshold, 30)
    return timedelta(seconds=min(seconds, settings.login_lockout_max_seconds))


def _throttle_key(kind: str, value: str) -> str:
    """A ``login_throttle`` key; one too long for the column (a long name typed) is hashed."""
    key = f"{kind}:{value}"
    return key if len(key) <= 200 else f"{kind}:sha256:{sha256_hex(value)}"


@dataclass(frozen=True, slots=True)
class ThrottleKeys:
    pair: str
    address: str | None

    @classmethod
    def of(cls, *, user: User | None, login: str, client_address: str | None) -> ThrottleKeys:
        account = f"account:{user.id}" if user is not None else f"name:{login.casefold()}"
        return cls(
            pair=_throttle_key("pair", f"{account}|{client_address or '-'}"),
            address=_throttle_key("address", client_address) if client_address else None,
        )


def _too_many(until: datetime, now: datetime) -> TooManyRequests:
    wait = (until - now).total_seconds()
    return TooManyRequests(
        f"Too many failed log-ins. Try again in {_wait_text(wait)}, or reset your password if you have "
        "forgotten it.",
        retry_after=wait,
    )


def _claim_attempt(
    sessions: sessionmaker[Session], settings: Settings, keys: ThrottleKeys, now: datetime
) -> dict[str, datetime | None]:
    """Count this attempt under every key, or none of them when one is locked (:class:`TooManyRequests`).
    Returns, per key, the lockout this attempt set (None when it set none)."""
    limits = [(keys.pair, settings.login_failures_per_account)]
    if keys.address is not None:
        limits.append((keys.address, settings.login_failures_per_address))
    set_locks: dict[str, datetime | None] = {}
    # One transaction: a refusal under the address rolls the pair's count back. Keys are always taken
    # in the same order (pair, then address), so two attempts cannot wait for each other's row.
    with sessions.begin() as session:
        for key, threshold in limits:
            count = store.claim_login_attempt(session, key=key, now=now, forget_after=FORGET_FAILURES_AFTER)
            if count is None:
                until = store.locked_until(session, keys=[key], now=now)
                raise _too_many(until if until is not None else now, now)
            wait = _lockout(settings, count, threshold)
            set_locks[key] = now + wait if wait is not None else None
            if wait is not None:
                store.lock_login(session, key=key, until=now + wait)
    return set_locks


def log_in(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    login: str,
    password: str,
    client_address: str | None,
    now: datetime,
) -> User:
    """The account for a name (or address) and password; raises :class:`LoginFailed`,
    :class:`TooManyRequests` (locked out) or :class:`NotAllowed` (banned)."""
    login = login.strip()[:320]
    with sessions() as session:
        user = store.user_by_login(session, login=login) if login else None
    keys = ThrottleKeys.of(user=user, login=login, client_address=client_address)
    set_locks = _claim_attempt(sessions, settings, keys, now)
    if user is None or not password:
        waste_time_like_a_login(password or "-")
        correct = False
    else:
        correct = verify_password(user.password_hash, password)
    if not correct:
        locks = [until for until in set_locks.values() if until is not None]
        if locks:
            raise _too_many(max(locks), now)
        raise LoginFailed("The name or the password is wrong.")
    assert user is not None
    with sessions.begin() as session:
        store.clear_login_failures(session, key=keys.pair)
        if keys.address is not None:
            store.uncount_login_attempt(session, key=keys.address, lock_set=set_locks.get(keys.address))
        if not user.is_banned and needs_rehash(user.password_hash):
            store.update_user(
                session, user_id=user.id, values={"password_hash": hash_password(password)}, now=now
            )
    if user.is_banned:
        raise NotAllowed("This account is suspended" + (f": {user.ban_reason}" if user.ban_reason else "."))
    return user


def start_session(
    session: Session,
    settings: Settings,
    *,
    user_id: int,
    now: datetime,
    client_address: str | None = None,
    user_agent: str | None = None,
) -> str:
    """A new session for the account; returns the token for the cookie (only its hash is stored).

    A new token at every log-in is what defeats session fixation: whatever id a browser carried before
    logging in, the one it carries afterwards was made by the server just now.
    """
    token = new_secret()
    # Housekeeping that needs no scheduler: log-ins are rare enough to carry it.
    store.delete_expired_sessions(session, now=now)
    store.forget_old_login_failures(session, before=now - FORGET_FAILURES_AFTER, now=now)
    store.create_session(
        session,
        session_id=sha256_hex(token),
        user_id=user_id,
        now=now,
        expires_at=now + timedelta(days=settings.session_days),
        client_address=client_address,
        user_agent=user_agent,
    )
    return token


# --------------------------------------------------------------------------------------------------
# Links in mails
# --------------------------------------------------------------------------------------------------


def verification_link(credentials: Credentials, settings: Settings, user: User, *, now: datetime) -> str:
    token = credentials.make_link(LinkPurpose.verify, user.id, user.email, now=now)
    return f"{settings.base_url}/verify/{token}"


def reset_link(credentials: Credentials, settings: Settings, user: User, *, now: datetime) -> str:
    binding = credentials.password_binding(user.password_hash, user.security_stamp)
    token = credentials.make_link(LinkPurpose.reset, user.id, binding, now=now)
    return f"{settings.base_url}/reset/{token}"


def claim_verification_mail(session: Session, *, user: User, now: datetime) -> bool:
    """Whether a verification mail may go out now (at most one every two minutes per account)."""
    return store.claim_mail_slot(
        session, user_id=user.id, column="verification_sent_at", now=now, every=MAIL_EVERY
    )


def verify_address(session: Session, credentials: Credentials, *, token: str, now: datetime) -> User:
    """Mark the address in a verification link verified; the link must be for the current address."""
    user_id, email = credentials.read_link(LinkPurpose.verify, token, now=now)
    user = store.get_user(session, user_id=user_id)
    if user is None or user.email != email:
        raise InvalidLink("this link is not valid")
    store.mark_verified(session, user_id=user.id, email=email, now=now)
    return user


def signup_attempt_target(session: Session, *, email: str, now: datetime) -> User | None:
    """The account to tell that someone tried to sign up with its address, or None when a mail with a
    reset link went out just now (the same slot as the reset mails, so neither can flood a mailbox)."""
    return password_reset_target(session, email=email, now=now)


def password_reset_target(session: Session, *, email: str, now: datetime) -> User | None:
    """The account to send a reset link to, or None (unknown address, or a link went out just now).

    The page that asks says the same thing either way, so it does not tell who has an account.
    """
    try:
        address = normalise_email(email)
    except ValueError:
        return None
    user = store.user_by_email(session, email=address)
    if user is None or user.is_banned:
        return None
    if not store.claim_mail_slot(session, user_id=user.id, column="reset_sent_at", now=now, every=MAIL_EVERY):
        return None
    return user


def reset_link_user(session: Session, credentials: Credentials, *, token: str, now: datetime) -> User:
    """The account a reset link is for, if the link is genuine, unexpired and not used yet."""
    user_id, binding = credentials.read_link(LinkPurpose.reset, token, now=now)
    user = store.get_user(session, user_id=user_id)
    if user is None or binding != credentials.password_binding(user.password_hash, user.security_stamp):
        raise InvalidLink("this link was already used, or a newer one replaced it")
    return user


def reset_password(
    session: Session, credentials: Credentials, *, token: str, password: str, now: datetime
) -> User:
    """Set a new password through a reset link. The link dies with the old password, and every session
    of the account ends: whoever had the old password, or a stolen cookie, is out."""
    user = reset_link_user(session, credentials, token=token, now=now)
    _replace_password(session, user, password, field="password", now=now)
    # Receiving the link proves the address too.
    store.mark_verified(session, user_id=user.id, email=user.email, now=now)
    return user


def change_password(
    session: Session, *, user: User, current: str, new: str, now: datetime, keep_session: str | None
) -> None:
    """Change the password of a signed-in account; every other session of it ends."""
    if not verify_password(user.password_hash, current):
        raise InvalidInput({"current_password": "This is not your current password."})
    _replace_password(session, user, new, field="new_password", now=now, keep_session=keep_session)


def set_password_directly(session: Session, *, user: User, password: str, now: datetime) -> None:
    """For the operator (``dailypapers users create``): no current password needed."""
    _replace_password(session, user, password, field="password", now=now)


def _replace_password(
    session: Session,
    user: User,
    password: str,
    *,
    field: str,
    now: datetime,
    keep_session: str | None = None,
) -> None:
    """Give ``user`` a new password (refused, under ``field``, when it is too weak) and a new security
    stamp, which ends reset links made before; every session ends but ``keep_session``."""
    if problem := password_problem(password, username=user.username, email=user.email):
        raise InvalidInput({field: problem})
    store.set_password(
        session,
        user_id=user.id,
        password_hash=hash_password(password),
        security_stamp=new_security_stamp(),
        now=now,
    )
    store.delete_sessions(session, user_id=user.id, keep=keep_session)


# --------------------------------------------------------------------------------------------------
# API tokens
# --------------------------------------------------------------------------------------------------


def issue_api_token(session: Session, *, user: User, name: str, now: datetime) -> str:
    """A new API token for the account; the token itself is returned once and never stored."""
    if user.is_banned:
        raise NotAllowed(f"{user.username} is banned; unban the account before giving it a token.")
    label = " ".join(name.split())[:TOKEN_NAME_CHARS] or f"token of {now:%Y-%m-%d}"
    token, digest, prefix = new_api_token()
    store.create_api_token(session, user_id=user.id, name=label, token_hash=digest, prefix=prefix, now=now)
    return token


def user_for_api_token(session: Session, *, token: str, now: datetime) -> User | None:
    """The account a bearer token belongs to, or None when the token is unknown or revoked."""
    if not token.startswith("dp_") or len(token) > 200:
        return None
    found = store.user_for_token(session, token_hash=sha256_hex(token))
    if found is None:
        return None
    user, api_token = found
    store.touch_api_token(session, token=api_token, now=now)
    return user


def require_user(session: Session, *, username: str) -> User:
    user = store.user_by_name(session, username=username)
    if user is None:
        raise NotFoundError(f"There is no account {username!r}.")
    return user


def ensure_new(session: Session, *, username: str) -> None:
    if store.username_taken(session, username=username):
        raise AlreadyDone(f"The name {username!r} is taken.")


__all__ = [
    "RESERVED_NAMES",
    "AddressTaken",
    "ThrottleKeys",
    "change_password",
    "claim_verification_mail",
    "clean_email",
    "ensure_new",
    "issue_api_token",
    "log_in",
    "password_reset_target",
    "require_user",
    "reset_link",
    "reset_link_user",
    "reset_password",
    "set_password_directly",
    "sign_up",
    "signup_attempt_target",
    "start_session",
    "user_for_api_token",
    "username_problem",
    "verification_link",
    "verify_address",
]

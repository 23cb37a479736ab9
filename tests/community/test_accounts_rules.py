"""The rules of accounts, called on the library: which names and addresses sign-up accepts and what it
says when it refuses, the log-in throttle's keys, counts and back-off at their edges, sessions and when
they end, links in mails, password changes, API tokens, bans and name look-ups.

Most accounts here get an argon2id hash of the lowest cost (``account``), so that a wrong password is
checked in microseconds and the throttle can be driven through many attempts; the library's own hashing
(argon2's default cost, tenths of a second) runs where a test is about it, and a successful log-in
upgrades the cheap hash with it. Real SQLite or PostgreSQL throughout; only the clock is the test's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, overload

import pytest
from argon2 import PasswordHasher
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community import accounts
from dailypapers.community.credentials import (
    Credentials,
    InvalidLink,
    LinkPurpose,
    new_security_stamp,
    sha256_hex,
)
from dailypapers.community.passwords import needs_rehash, verify_password
from dailypapers.config import Settings
from dailypapers.errors import (
    AlreadyDone,
    LoginFailed,
    NotAllowed,
    NotFoundError,
    TooManyRequests,
)
from dailypapers.models import ApiToken, LoginThrottle, User, UserSession
from tests.community.support import NOW, PASSWORD, Clock, invalid, refused

NEW_PASSWORD = "violet harbour compass 17"
ADDRESS = "203.0.113.9"
OTHER_ADDRESS = "198.51.100.7"
SECRET = "account-rules-secret-0123456789-abcdefghijkl"
SITE = "https://papers.example.org"
PLUS_TWO = timezone(timedelta(hours=2))

USERNAME_RULE = (
    "Use 3 to 32 letters, digits, '-' or '_', starting with a letter or digit "
    "(it is shown with everything you post)."
)
RESERVED = "This name is reserved; choose another."
NAME_TAKEN = "This name is taken; choose another."
NOT_AN_ADDRESS = "Enter a mail address such as ada@example.org."
TOO_SHORT = (
    "Use at least 10 characters. A few unrelated words make a password that is long and easy to remember."
)
PERSONAL = "The password must not be your user name or mail address."
WRONG = "The name or the password is wrong."
USED_LINK = "this link was already used, or a newer one replaced it"

# argon2id at its lowest cost (see the module docstring).
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC time (SQLite gives them back without their zone)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@contextmanager
def too_many(seconds: float, wait: str) -> Iterator[None]:
    """The block is refused for too many failed log-ins, to be tried again in ``seconds`` (``wait``)."""
    with pytest.raises(TooManyRequests) as caught:
        yield
    assert caught.value.retry_after == seconds
    assert str(caught.value) == (
        f"Too many failed log-ins. Try again in {wait}, or reset your password if you have forgotten it."
    )


@contextmanager
def bad_link(message: str) -> Iterator[None]:
    with pytest.raises(InvalidLink) as caught:
        yield
    assert str(caught.value) == message


def account(
    sessions: sessionmaker[Session],
    username: str,
    *,
    email: str | None = None,
    verified: bool = True,
    banned: bool = False,
    ban_reason: str | None = None,
) -> User:
    """An account with ``PASSWORD`` under a cheap hash."""
    with sessions.begin() as session:
        user = store.create_user(
            session,
            username=username,
            email=email or f"{username.lower()}@example.org",
            password_hash=CHEAP.hash(PASSWORD),
            security_stamp=new_security_stamp(),
            now=NOW,
            verified=verified,
        )
        if banned:
            store.set_ban(session, user_id=user.id, banned_at=NOW, reason=ban_reason, now=NOW)
    return reload(sessions, user)


def reload(sessions: sessionmaker[Session], user: User) -> User:
    with sessions() as session:
        found = session.get(User, user.id)
        assert found is not None
        return found


def throttle(sessions: sessionmaker[Session]) -> dict[str, tuple[int, datetime | None]]:
    """Every ``login_throttle`` row: key -> (failures, locked until)."""
    with sessions() as session:
        return {
            row.key: (row.failures, utc(row.locked_until)) for row in session.scalars(select(LoginThrottle))
        }


def open_session(
    session: Session, session_id: str, user: User, *, now: datetime = NOW, expires_at: datetime | None = None
) -> None:
    store.create_session(
        session,
        session_id=session_id,
        user_id=user.id,
        now=now,
        expires_at=expires_at or now + timedelta(days=1),
        client_address=None,
        user_agent=None,
    )


def session_ids(sessions: sessionmaker[Session], user: User) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(UserSession.id).where(UserSession.user_id == user.id)))


def last_seen(sessions: sessionmaker[Session], session_id: str) -> datetime:
    with sessions() as session:
        found = session.get(UserSession, session_id)
        assert found is not None
        return utc(found.last_seen_at)


def token_row(sessions: sessionmaker[Session], token_id: int) -> ApiToken:
    with sessions() as session:
        found = session.get(ApiToken, token_id)
        assert found is not None
        return found


def add_token(session: Session, user: User, secret: str, *, now: datetime = NOW) -> ApiToken:
    """A token row for ``secret`` (stored by its hash, as issued tokens are)."""
    return store.create_api_token(
        session, user_id=user.id, name=secret[:20], token_hash=sha256_hex(secret), prefix=secret[:10], now=now
    )


def link_token(link: str, kind: str) -> str:
    prefix = f"{SITE}/{kind}/"
    assert link.startswith(prefix), link
    return link.removeprefix(prefix)


# --------------------------------------------------------------------------------------------------
# Names and addresses
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("abc", None),  # the shortest name
        ("ab", USERNAME_RULE),
        ("a" * 32, None),  # the longest
        ("a" * 33, USERNAME_RULE),
        ("Ada_Lovelace-1815", None),
        ("9lives", None),
        ("_ada", USERNAME_RULE),  # must start with a letter or digit
        ("-ada", USERNAME_RULE),
        ("ada lovelace", USERNAME_RULE),
        ("adá", USERNAME_RULE),
        ("ada@example.org", USERNAME_RULE),
        ("", USERNAME_RULE),
        ("ada\n", USERNAME_RULE),  # a line end is not a name character, even the last
        ("admin", RESERVED),
        ("Admin", RESERVED),  # reserved whatever the case
        ("DAILY_PAPERS", RESERVED),
        ("moderation", RESERVED),
        ("me", USERNAME_RULE),  # reserved, but too short first
    ],
)
def test_username_rules_and_their_boundaries(name: str, problem: str | None) -> None:
    assert accounts.username_problem(name) == problem


def test_clean_email_normalises_and_refuses_in_plain_words() -> None:
    assert accounts.clean_email("  Ada.Lovelace@Example.ORG ") == "ada.lovelace@example.org"
    assert accounts.clean_email("ada@bücher.example") == "ada@xn--bcher-kva.example"
    with invalid({"email": NOT_AN_ADDRESS}):
        accounts.clean_email("ada")
    with invalid({"email": "The part before @ has characters that mail servers do not accept."}):
        accounts.clean_email("ada(lovelace)@example.org")


# --------------------------------------------------------------------------------------------------
# Signing up
# --------------------------------------------------------------------------------------------------


def test_sign_up_lists_every_problem_at_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        with invalid(
            {
                "username": USERNAME_RULE,
                "email": NOT_AN_ADDRESS,
                "password": TOO_SHORT,
                "role": "The role must be one of user, moderator, admin.",
            }
        ):
            accounts.sign_up(session, username="ab", email="nope", password="short", now=NOW, role="boss")
        # The password may not be the name, nor the (normalised) address.
        with invalid({"password": PERSONAL}):
            accounts.sign_up(
                session,
                username="lantern_keeper",
                email="grace@example.org",
                password="Lantern_Keeper",
                now=NOW,
            )
        with invalid({"password": PERSONAL}):
            accounts.sign_up(
                session,
                username="lantern_keeper",
                email=" Grace.Hopper@Example.ORG ",
                password="grace.hopper@example.org",
                now=NOW,
            )
        # An address that is not one is still not a password.
        with invalid({"email": NOT_AN_ADDRESS, "password": PERSONAL}):
            accounts.sign_up(
                session,
                username="lantern_keeper",
                email="grace.hopper at example.org",
                password="grace.hopper at example.org",
                now=NOW,
            )
    with sessions() as session:
        assert store.list_users(session) == []


def test_sign_up_refuses_taken_names_and_addresses_and_tells_the_address_last(
    sessions: sessionmaker[Session],
) -> None:
    account(sessions, "Ada")
    # An account made by the operator before its name was reserved: a newcomer is told the rule.
    account(sessions, "Support")
    with sessions.begin() as session:
        with invalid({"username": NAME_TAKEN}):
            accounts.sign_up(session, username=" ADA ", email="other@example.org", password=PASSWORD, now=NOW)
        with invalid({"username": RESERVED}):
            accounts.sign_up(
                session, username="support", email="other@example.org", password=PASSWORD, now=NOW
            )
        # A taken address is said only when nothing else is wrong, and apart (AddressTaken).
        with invalid({"password": TOO_SHORT}):
            accounts.sign_up(session, username="grace", email="ada@example.org", password="short", now=NOW)
        with invalid({"username": NAME_TAKEN}):
            accounts.sign_up(session, username="ada", email="ada@example.org", password=PASSWORD, now=NOW)
        with pytest.raises(accounts.AddressTaken) as caught:
            accounts.sign_up(session, username="grace", email=" ADA@Example.ORG ", password=PASSWORD, now=NOW)
    assert caught.value.problems == {
        "email": "An account with this address exists already. Log in, or reset its password."
    }
    with sessions() as session:
        assert [user.username for user in store.list_users(session)] == ["Ada", "Support"]


def test_sign_up_stores_the_cleaned_account_and_only_a_hash(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ada = accounts.sign_up(
            session, username="  Ada_L  ", email="  ADA@Example.ORG ", password=PASSWORD, now=NOW
        )
        moe = accounts.sign_up(
            session,
            username="moe",
            email="moe@example.org",
            password=NEW_PASSWORD,
            now=NOW,
            role="moderator",
            verified=True,
        )
    row = reload(sessions, ada)
    assert (row.username, row.username_key, row.email, row.role) == (
        "Ada_L",
        "ada_l",
        "ada@example.org",
        "user",
    )
    assert (row.email_verified_at, row.show_upvotes, row.banned_at) == (None, False, None)
    assert utc(row.created_at) == utc(row.updated_at) == NOW
    assert re.fullmatch(r"[0-9a-f]{32}", row.security_stamp)
    assert PASSWORD not in row.password_hash and not needs_rehash(row.password_hash)
    assert verify_password(row.password_hash, PASSWORD)
    row = reload(sessions, moe)
    assert (row.role, utc(row.email_verified_at)) == ("moderator", NOW)
    assert row.security_stamp != reload(sessions, ada).security_stamp


def test_a_name_taken_between_the_checks_and_the_insert_is_refused_in_words(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:

        @event.listens_for(session, "before_flush", once=True)
        def another_sign_up_wins(flushing: Session, *_: Any) -> None:
            flushing.connection().execute(
                insert(User).values(
                    username="ada",
                    username_key="ada",
                    email="ada@elsewhere.example.org",
                    password_hash="-",
                    security_stamp="-",
                    role="user",
                    show_upvotes=False,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )

        with invalid({"username": "This name or address was just taken; choose another."}):
            accounts.sign_up(session, username="Ada", email="ada@example.org", password=PASSWORD, now=NOW)


# --------------------------------------------------------------------------------------------------
# The throttle's parts
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (59, "59 seconds"),
        (59.01, "60 seconds"),  # rounded up, never down
        (60, "60 seconds"),
        (61, "61 seconds"),
        (119, "119 seconds"),
        (119.5, "2 minutes"),
        (120, "2 minutes"),
        (121, "3 minutes"),
        (3600, "60 minutes"),
        (7140, "119 minutes"),
        (7141, "2 hours"),
        (7200, "2 hours"),
        (7201, "3 hours"),
        (86400, "24 hours"),
    ],
)
def test_wait_text_wording(seconds: float, text: str) -> None:
    assert accounts._wait_text(seconds) == text


def test_wait_text_of_a_second() -> None:
    # Rounded up to one second, said in the singular.
    assert accounts._wait_text(0.2) == "1 second"
    assert accounts._wait_text(1) == "1 second"
    assert accounts._wait_text(1.01) == "2 seconds"


def test_lockout_starts_at_the_threshold_doubles_and_stops_at_the_cap(settings: Settings) -> None:
    assert (settings.login_lockout_seconds, settings.login_lockout_max_seconds) == (60.0, 3600.0)
    lockouts = {failures: accounts._lockout(settings, failures, 5) for failures in (4, 5, 6, 7, 10, 11, 1000)}
    assert lockouts == {
        4: None,
        5: timedelta(seconds=60),
        6: timedelta(seconds=120),
        7: timedelta(seconds=240),
        10: timedelta(seconds=1920),
        11: timedelta(seconds=3600),  # 3840 capped
        1000: timedelta(seconds=3600),
    }
    # The doubling itself stops after 30 steps, however high the cap.
    uncapped = settings.model_copy(update={"login_lockout_max_seconds": 1e12})
    assert accounts._lockout(uncapped, 5 + 30, 5) == timedelta(seconds=60 * 2**30)
    assert accounts._lockout(uncapped, 5 + 31, 5) == timedelta(seconds=60 * 2**30)


def test_throttle_keys_by_account_or_name_and_address() -> None:
    assert accounts._throttle_key("address", ADDRESS) == f"address:{ADDRESS}"
    assert accounts._throttle_key("pair", "v" * 195) == "pair:" + "v" * 195  # 200 characters: kept
    assert accounts._throttle_key("pair", "v" * 196) == "pair:sha256:" + sha256_hex("v" * 196)
    ada = User(id=7)
    keys = accounts.ThrottleKeys
    assert keys.of(user=ada, login="ignored", client_address=ADDRESS) == keys(
        pair=f"pair:account:7|{ADDRESS}", address=f"address:{ADDRESS}"
    )
    assert keys.of(user=None, login="Ada.Lovelace@Example.org", client_address=ADDRESS) == keys(
        pair=f"pair:name:ada.lovelace@example.org|{ADDRESS}", address=f"address:{ADDRESS}"
    )
    assert keys.of(user=ada, login="ada", client_address=None) == keys(pair="pair:account:7|-", address=None)
    assert keys.of(user=ada, login="ada", client_address="") == keys(pair="pair:account:7|-", address=None)


def test_too_many_says_when_to_try_again() -> None:
    with too_many(90.0, "90 seconds"):
        raise accounts._too_many(NOW + timedelta(seconds=90), NOW)
    with too_many(1800.0, "30 minutes"):
        raise accounts._too_many(NOW + timedelta(minutes=30), NOW)


def test_claim_login_attempt_counts_in_a_row_and_forgets_after_a_day(sessions: sessionmaker[Session]) -> None:
    day = timedelta(days=1)

    def claim(key: str, now: datetime) -> int | None:
        with sessions.begin() as session:
            return store.claim_login_attempt(session, key=key, now=now, forget_after=day)

    assert claim("k", NOW) == 1
    assert claim("k", NOW + day) == 2  # a day after the last attempt: still in a row
    assert claim("k", NOW + 2 * day + timedelta(seconds=1)) == 1  # more than a day: counted afresh
    assert claim("j", NOW) == 1
    assert claim("k", NOW + 2 * day + timedelta(seconds=2)) == 2
    with sessions.begin() as session:
        store.lock_login(session, key="k", until=NOW + 3 * day)
    assert claim("k", NOW + 3 * day - timedelta(seconds=1)) is None  # locked: refused, not counted
    assert throttle(sessions) == {"k": (2, NOW + 3 * day), "j": (1, None)}
    with sessions() as session:
        row = session.get(LoginThrottle, "k")
        assert row is not None and utc(row.last_failure_at) == NOW + 2 * day + timedelta(seconds=2)
    assert claim("k", NOW + 3 * day) == 3  # the lockout is over at its end


def test_locked_until_is_the_latest_lockout_in_force_among_the_keys(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for key, until in [
            ("a", NOW + timedelta(seconds=60)),
            ("b", NOW + timedelta(seconds=120)),
            ("ends-now", NOW),
            ("not-asked", NOW + timedelta(hours=1)),
            ("never", None),
        ]:
            session.add(LoginThrottle(key=key, failures=5, last_failure_at=NOW, locked_until=until))
    with sessions() as session:

        def latest(*keys: str) -> datetime | None:
            return utc(store.locked_until(session, keys=list(keys), now=NOW))

        assert latest("a", "b", "ends-now", "never") == NOW + timedelta(seconds=120)
        assert latest("a", "ends-now") == NOW + timedelta(seconds=60)
        assert latest("ends-now", "never", "missing") is None


def test_uncounting_takes_back_one_attempt_and_only_its_own_lockout(sessions: sessionmaker[Session]) -> None:
    mine = NOW + timedelta(seconds=60)
    with sessions.begin() as session:
        for key, failures, until in [
            ("mine", 3, mine),
            ("replaced", 3, mine),
            ("zero", 0, None),
            ("other", 2, mine),
            ("cleared", 4, None),
        ]:
            session.add(LoginThrottle(key=key, failures=failures, last_failure_at=NOW, locked_until=until))
    with sessions.begin() as session:
        store.uncount_login_attempt(session, key="mine", lock_set=mine)
        # A later attempt has set a lockout of its own since: it stays.
        store.uncount_login_attempt(session, key="replaced", lock_set=NOW + timedelta(seconds=30))
        store.uncount_login_attempt(session, key="zero", lock_set=None)
        store.clear_login_failures(session, key="cleared")
    assert throttle(sessions) == {
        "mine": (2, None),
        "replaced": (2, mine),
        "zero": (0, None),
        "other": (2, mine),
    }


# --------------------------------------------------------------------------------------------------
# Logging in
# --------------------------------------------------------------------------------------------------


def test_the_right_password_logs_in_an_unverified_account_and_upgrades_its_hash(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    ada = account(sessions, "Ada", verified=False)
    later = NOW + timedelta(minutes=1)
    user = accounts.log_in(
        sessions, settings, login="  ada  ", password=PASSWORD, client_address=None, now=later
    )
    assert user.id == ada.id
    row = reload(sessions, ada)
    assert row.password_hash != ada.password_hash and not needs_rehash(row.password_hash)
    assert utc(row.updated_at) == later
    # Without an address only the pair is counted, and the success cleared it.
    assert throttle(sessions) == {}


def test_wrong_empty_and_unknown_all_fail_alike_and_unknown_names_count_by_the_name_typed(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    ada = account(sessions, "ada")

    def attempt(login: str, password: str) -> User:
        return accounts.log_in(
            sessions, settings, login=login, password=password, client_address=ADDRESS, now=NOW
        )

    with refused(LoginFailed, WRONG):
        attempt("ada", "not the password")
    with refused(LoginFailed, WRONG):
        attempt("ada", "")
    typed = "N" * 400  # cut to 320 characters, and a key that long is hashed
    with refused(LoginFailed, WRONG):
        attempt(f"  {typed}  ", "a guess")
    typed_key = "name:" + "n" * 320 + f"|{ADDRESS}"
    assert throttle(sessions) == {
        f"pair:account:{ada.id}|{ADDRESS}": (2, None),
        f"pair:sha256:{sha256_hex(typed_key)}": (1, None),
        f"address:{ADDRESS}": (3, None),
    }


def test_wrong_passwords_lock_the_account_at_that_address_only_and_back_off(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    limits = settings.model_copy(update={"login_failures_per_account": 3})
    ada = account(sessions, "ada")
    pair = f"pair:account:{ada.id}|{ADDRESS}"
    address = f"address:{ADDRESS}"
    clock = Clock()

    def attempt(password: str, client_address: str = ADDRESS) -> User:
        return accounts.log_in(
            sessions, limits, login="ada", password=password, client_address=client_address, now=clock.now
        )

    for _ in range(2):
        with refused(LoginFailed, WRONG):
            attempt("not the password")
    assert throttle(sessions) == {pair: (2, None), address: (2, None)}
    # The attempt that reaches the limit is refused with the first wait rather than told "wrong".
    with too_many(60.0, "60 seconds"):
        attempt("not the password")
    assert throttle(sessions) == {pair: (3, NOW + timedelta(seconds=60)), address: (3, None)}
    # While the lockout lasts even the right password is refused, with the time left, and not counted.
    clock.advance(seconds=15)
    with too_many(45.0, "45 seconds"):
        attempt(PASSWORD)
    assert throttle(sessions) == {pair: (3, NOW + timedelta(seconds=60)), address: (3, None)}
    # At its end the next failure is counted again, and the wait doubles.
    clock.advance(seconds=45)
    with too_many(120.0, "2 minutes"):
        attempt("still not it")
    locked = NOW + timedelta(seconds=60 + 120)
    assert throttle(sessions) == {pair: (4, locked), address: (4, None)}
    # The owner, from another address, is not held up, and the success leaves no count there.
    assert attempt(PASSWORD, OTHER_ADDRESS).id == ada.id
    assert throttle(sessions) == {
        pair: (4, locked),
        address: (4, None),
        f"address:{OTHER_ADDRESS}": (0, None),
    }


def test_a_success_takes_back_its_own_count_at_the_address_but_never_clears_it(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    limits = settings.model_copy(update={"login_failures_per_address": 3})
    ada, bob, cyd = (account(sessions, name) for name in ("ada", "bob", "cyd"))
    address = f"address:{ADDRESS}"

    def attempt(login: str, password: str) -> User:
        return accounts.log_in(
            sessions, limits, login=login, password=password, client_address=ADDRESS, now=NOW
        )

    for name in ("bob", "cyd"):
        with refused(LoginFailed, WRONG):
            attempt(name, "not the password")
    # The third attempt reaches the address's limit, but it is Ada with her password: she gets in, and
    # the lockout her own attempt set goes with her count.
    assert attempt("ada", PASSWORD).id == ada.id
    assert throttle(sessions) == {
        f"pair:account:{bob.id}|{ADDRESS}": (1, None),
        f"pair:account:{cyd.id}|{ADDRESS}": (1, None),
        address: (2, None),
    }
    # The next failure from the address locks it, whoever is named ...
    with too_many(60.0, "60 seconds"):
        attempt("bob", "not the password")
    # ... and a refusal under the address takes back what it counted under the pair.
    with too_many(60.0, "60 seconds"):
        attempt("cyd", PASSWORD)
    assert throttle(sessions) == {
        f"pair:account:{bob.id}|{ADDRESS}": (2, None),
        f"pair:account:{cyd.id}|{ADDRESS}": (1, None),
        address: (3, NOW + timedelta(seconds=60)),
    }


def test_a_suspended_account_is_told_so_only_with_the_right_password(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    spammer = account(sessions, "spammer", banned=True, ban_reason="spam")
    quiet = account(sessions, "quiet", banned=True)

    def attempt(login: str, password: str) -> User:
        return accounts.log_in(
            sessions, settings, login=login, password=password, client_address=ADDRESS, now=NOW
        )

    with refused(LoginFailed, WRONG):
        attempt("spammer", "not the password")
    with refused(NotAllowed, "This account is suspended: spam"):
        attempt("spammer", PASSWORD)
    with refused(NotAllowed, "This account is suspended."):
        attempt("quiet", PASSWORD)
    # A suspended account's hash is left as it is; its right passwords count as successes.
    assert reload(sessions, spammer).password_hash == spammer.password_hash
    assert reload(sessions, quiet).password_hash == quiet.password_hash
    assert throttle(sessions) == {f"address:{ADDRESS}": (1, None)}


# --------------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------------


def test_start_session_stores_only_the_hash_and_lasts_session_days(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    week = settings.model_copy(update={"session_days": 7})
    ada, bob, carol = (account(sessions, name) for name in ("ada", "bob", "carol"))
    later = NOW + timedelta(minutes=1)
    with sessions.begin() as session:
        token = accounts.start_session(
            session, week, user_id=ada.id, now=NOW, client_address=ADDRESS, user_agent="Firefox/140.0"
        )
        bare = accounts.start_session(session, week, user_id=bob.id, now=later)
        long = accounts.start_session(
            session, week, user_id=bob.id, now=later, client_address="a" * 70, user_agent="u" * 250
        )
    with sessions() as session:
        assert session.get(UserSession, token) is None
        row = session.get(UserSession, sha256_hex(token))
        assert row is not None
        assert (row.user_id, row.client_address, row.user_agent) == (ada.id, ADDRESS, "Firefox/140.0")
        assert (utc(row.created_at), utc(row.last_seen_at)) == (NOW, NOW)
        assert utc(row.expires_at) == NOW + timedelta(days=7)
        row = session.get(UserSession, sha256_hex(bare))
        assert row is not None and (row.client_address, row.user_agent) == (None, None)
        row = session.get(UserSession, sha256_hex(long))
        assert row is not None and (row.client_address, row.user_agent) == ("a" * 64, "u" * 200)
        # Live until its last second.
        found = store.signed_in(
            session, session_id=sha256_hex(token), now=NOW + timedelta(days=7, seconds=-1)
        )
        assert found is not None
        assert (found.session_id, found.user.id, utc(found.last_seen_at)) == (sha256_hex(token), ada.id, NOW)
        assert store.signed_in(session, session_id=sha256_hex(token), now=NOW + timedelta(days=7)) is None
    assert utc(reload(sessions, ada).last_login_at) == NOW
    assert utc(reload(sessions, bob).last_login_at) == later
    assert reload(sessions, carol).last_login_at is None


def test_a_log_in_sweeps_ended_sessions_and_forgotten_failure_counts(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    ada = account(sessions, "ada")
    day = timedelta(days=1)
    with sessions.begin() as session:
        open_session(session, "ends-now", ada, now=NOW - 30 * day, expires_at=NOW)
        open_session(
            session, "ends-in-a-second", ada, now=NOW - 30 * day, expires_at=NOW + timedelta(seconds=1)
        )
        for key, last_failure, until in [
            ("a-day-and-a-second-ago", NOW - day - timedelta(seconds=1), None),
            ("a-day-ago", NOW - day, None),
            ("old-but-locked", NOW - 2 * day, NOW + timedelta(seconds=1)),
            ("old-lock-ends-now", NOW - 2 * day, NOW),
        ]:
            session.add(LoginThrottle(key=key, failures=3, last_failure_at=last_failure, locked_until=until))
    with sessions.begin() as session:
        token = accounts.start_session(session, settings, user_id=ada.id, now=NOW)
    assert session_ids(sessions, ada) == {"ends-in-a-second", sha256_hex(token)}
    assert set(throttle(sessions)) == {"a-day-ago", "old-but-locked"}


def test_signed_in_finds_only_a_live_session_of_an_account_in_good_standing(
    sessions: sessionmaker[Session],
) -> None:
    ada, bob = account(sessions, "ada"), account(sessions, "bob")
    with sessions.begin() as session:
        open_session(session, "ada-1", ada)
        open_session(session, "bob-1", bob)
    with sessions() as session:
        found = store.signed_in(session, session_id="ada-1", now=NOW)
        assert found is not None and (found.session_id, found.user.id) == ("ada-1", ada.id)
        assert store.signed_in(session, session_id="missing", now=NOW) is None
        assert store.signed_in(session, session_id="bob-1", now=NOW) is not None
    with sessions.begin() as session:
        store.set_ban(session, user_id=bob.id, banned_at=NOW, reason=None, now=NOW)
    with sessions() as session:
        assert store.signed_in(session, session_id="bob-1", now=NOW) is None
        assert store.signed_in(session, session_id="ada-1", now=NOW) is not None


def test_a_session_is_touched_only_once_its_last_use_is_five_minutes_old(
    sessions: sessionmaker[Session],
) -> None:
    ada = account(sessions, "ada")
    with sessions.begin() as session:
        open_session(session, "a", ada)
        open_session(session, "b", ada)
    with sessions() as session:
        found = store.signed_in(session, session_id="a", now=NOW)
    assert found is not None
    soon, later = NOW + timedelta(minutes=5, seconds=-1), NOW + timedelta(minutes=5)
    with sessions.begin() as session:
        assert store.touch_session(session, found=found, now=soon) is False
    assert last_seen(sessions, "a") == NOW
    with sessions.begin() as session:
        assert store.touch_session(session, found=found, now=later) is True
    assert (last_seen(sessions, "a"), last_seen(sessions, "b")) == (later, NOW)
    # A last-seen time in another zone is the instant it names.
    local = store.SignedIn(session_id="b", user=found.user, last_seen_at=NOW.astimezone(PLUS_TWO))
    with sessions.begin() as session:
        assert store.touch_session(session, found=local, now=later) is True
    assert last_seen(sessions, "b") == later


def test_sessions_list_the_live_ones_of_the_account_and_end_all_but_the_one_kept(
    sessions: sessionmaker[Session],
) -> None:
    ada, bob = account(sessions, "ada"), account(sessions, "bob")
    with sessions.begin() as session:
        open_session(session, "oldest", ada, now=NOW - timedelta(hours=3))
        open_session(session, "middle", ada, now=NOW - timedelta(hours=2))
        open_session(session, "newest", ada, now=NOW - timedelta(hours=1))
        open_session(session, "ended", ada, now=NOW - timedelta(days=2), expires_at=NOW)
        open_session(session, "bob-1", bob)
        open_session(session, "bob-2", bob)
    with sessions.begin() as session:
        found = store.signed_in(session, session_id="oldest", now=NOW)
        assert found is not None
        store.touch_session(session, found=found, now=NOW - timedelta(minutes=30))
    with sessions() as session:
        live = store.user_sessions(session, user_id=ada.id, now=NOW)
        assert [row.id for row in live] == ["oldest", "newest", "middle"]
    with sessions.begin() as session:
        assert store.delete_sessions(session, user_id=ada.id, keep="middle") == 3
    assert session_ids(sessions, ada) == {"middle"}
    with sessions.begin() as session:
        assert store.delete_sessions(session, user_id=ada.id) == 1
        store.delete_session(session, session_id="bob-1")
    assert session_ids(sessions, ada) == set()
    assert session_ids(sessions, bob) == {"bob-2"}


# --------------------------------------------------------------------------------------------------
# Links in mails
# --------------------------------------------------------------------------------------------------


def test_a_verification_link_works_for_three_days_and_for_the_current_address_only(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    site = settings.model_copy(update={"base_url": SITE})
    credentials = Credentials(SECRET)
    ada, bob = account(sessions, "ada", verified=False), account(sessions, "bob", verified=False)
    token = link_token(accounts.verification_link(credentials, site, ada, now=NOW), "verify")
    assert credentials.read_link(LinkPurpose.verify, token, now=NOW) == (ada.id, "ada@example.org")
    with sessions.begin() as session, bad_link("this link has expired"):
        accounts.verify_address(session, credentials, token=token, now=NOW + timedelta(days=3, seconds=1))
    at_the_end = NOW + timedelta(days=3)
    with sessions.begin() as session:
        assert accounts.verify_address(session, credentials, token=token, now=at_the_end).id == ada.id
    row = reload(sessions, ada)
    assert (utc(row.email_verified_at), utc(row.updated_at)) == (at_the_end, at_the_end)
    with sessions.begin() as session:  # once verified, a second use changes nothing
        assert accounts.verify_address(session, credentials, token=token, now=NOW + timedelta(days=1))
    assert utc(reload(sessions, ada).email_verified_at) == at_the_end
    # A link for an address the account no longer has, or for an account that is gone.
    old = link_token(accounts.verification_link(credentials, site, bob, now=NOW), "verify")
    with sessions.begin() as session:
        store.update_user(session, user_id=bob.id, values={"email": "bob@new.example.org"}, now=NOW)
    gone = credentials.make_link(LinkPurpose.verify, 9999, "ghost@example.org", now=NOW)
    for stale in (old, gone):
        with sessions.begin() as session, bad_link("this link is not valid"):
            accounts.verify_address(session, credentials, token=stale, now=NOW)
    assert reload(sessions, bob).email_verified_at is None


def test_mail_slots_are_two_minutes_apart_per_account_and_kind(sessions: sessionmaker[Session]) -> None:
    ada, bob = account(sessions, "ada"), account(sessions, "bob")

    def claim(now: datetime) -> bool:
        with sessions.begin() as session:
            return accounts.claim_verification_mail(session, user=ada, now=now)

    assert claim(NOW) is True
    assert claim(NOW + timedelta(minutes=2)) is False  # two minutes is not yet more than two
    assert claim(NOW + timedelta(minutes=2, seconds=1)) is True
    row = reload(sessions, ada)
    assert (utc(row.verification_sent_at), row.reset_sent_at) == (NOW + timedelta(minutes=2, seconds=1), None)
    assert reload(sessions, bob).verification_sent_at is None


def test_reset_mails_go_to_known_accounts_in_good_standing_at_most_every_two_minutes(
    sessions: sessionmaker[Session],
) -> None:
    ada = account(sessions, "ada")
    spammer = account(sessions, "spammer", banned=True)
    with sessions.begin() as session:
        for unknown in ("not an address", "ghost@example.org", "spammer@example.org"):
            assert accounts.password_reset_target(session, email=unknown, now=NOW) is None
        found = accounts.password_reset_target(session, email="  ADA@Example.ORG ", now=NOW)
        assert found is not None and found.id == ada.id
    row = reload(sessions, ada)
    assert (utc(row.reset_sent_at), row.verification_sent_at) == (NOW, None)
    assert reload(sessions, spammer).reset_sent_at is None
    # A sign-up with a taken address tells its owner through the same slot.
    with sessions.begin() as session:
        soon = NOW + timedelta(minutes=2)
        assert accounts.password_reset_target(session, email="ada@example.org", now=soon) is None
        assert accounts.signup_attempt_target(session, email="ada@example.org", now=soon) is None
        found = accounts.signup_attempt_target(
            session, email="ada@example.org", now=soon + timedelta(seconds=1)
        )
        assert found is not None and found.id == ada.id
        assert accounts.signup_attempt_target(session, email="ghost@example.org", now=soon) is None


def test_a_reset_link_works_for_an_hour_once_and_ends_every_session(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    site = settings.model_copy(update={"base_url": SITE})
    credentials = Credentials(SECRET)
    keeper = account(sessions, "lantern_keeper", email="grace.hopper@example.org", verified=False)
    bob = account(sessions, "bob")
    with sessions.begin() as session:
        open_session(session, "keeper-1", keeper)
        open_session(session, "bob-1", bob)
    token = link_token(accounts.reset_link(credentials, site, keeper, now=NOW), "reset")
    hour = timedelta(hours=1)
    with sessions() as session:
        assert accounts.reset_link_user(session, credentials, token=token, now=NOW + hour).id == keeper.id
        with bad_link("this link has expired"):
            accounts.reset_link_user(session, credentials, token=token, now=NOW + hour + timedelta(seconds=1))
        with bad_link(USED_LINK):
            gone = credentials.make_link(LinkPurpose.reset, 9999, "-", now=NOW)
            accounts.reset_link_user(session, credentials, token=gone, now=NOW)
    later = NOW + timedelta(minutes=10)
    with sessions.begin() as session:
        for weak, problem in [
            ("short", TOO_SHORT),
            ("Lantern-Keeper", PERSONAL),
            ("grace.hopper@example.org", PERSONAL),
        ]:
            with invalid({"password": problem}):
                accounts.reset_password(session, credentials, token=token, password=weak, now=later)
    assert reload(sessions, keeper).password_hash == keeper.password_hash
    with sessions.begin() as session:
        user = accounts.reset_password(session, credentials, token=token, password=NEW_PASSWORD, now=later)
        assert user.id == keeper.id
    row = reload(sessions, keeper)
    assert row.password_hash != keeper.password_hash and row.security_stamp != keeper.security_stamp
    assert (utc(row.updated_at), utc(row.email_verified_at)) == (later, later)  # the link proves the address
    assert session_ids(sessions, keeper) == set()
    assert session_ids(sessions, bob) == {"bob-1"}
    with sessions() as session, bad_link(USED_LINK):
        accounts.reset_link_user(session, credentials, token=token, now=later)


# --------------------------------------------------------------------------------------------------
# Changing passwords
# --------------------------------------------------------------------------------------------------


def test_change_password_needs_the_current_one_and_ends_the_other_sessions(
    sessions: sessionmaker[Session],
) -> None:
    keeper = account(sessions, "lantern_keeper", email="grace.hopper@example.org")
    bob = account(sessions, "bob")
    with sessions.begin() as session:
        for session_id in ("this-browser", "phone", "laptop"):
            open_session(session, session_id, keeper)
        open_session(session, "bob-1", bob)
    later = NOW + timedelta(minutes=1)

    def change(current: str, new: str) -> None:
        with sessions.begin() as session:
            accounts.change_password(
                session, user=keeper, current=current, new=new, now=later, keep_session="this-browser"
            )

    with invalid({"current_password": "This is not your current password."}):
        change("not the password", NEW_PASSWORD)
    for weak, problem in [
        ("short", TOO_SHORT),
        ("Lantern-Keeper", PERSONAL),
        ("grace.hopper@example.org", PERSONAL),
    ]:
        with invalid({"new_password": problem}):
            change(PASSWORD, weak)
    assert reload(sessions, keeper).password_hash == keeper.password_hash
    assert session_ids(sessions, keeper) == {"this-browser", "phone", "laptop"}
    change(PASSWORD, NEW_PASSWORD)
    row = reload(sessions, keeper)
    assert verify_password(row.password_hash, NEW_PASSWORD)
    assert row.security_stamp != keeper.security_stamp and utc(row.updated_at) == later
    assert session_ids(sessions, keeper) == {"this-browser"}
    assert session_ids(sessions, bob) == {"bob-1"}


def test_set_password_directly_checks_the_policy_and_ends_every_session(
    sessions: sessionmaker[Session],
) -> None:
    keeper = account(sessions, "lantern_keeper", email="grace.hopper@example.org")
    bob = account(sessions, "bob")
    with sessions.begin() as session:
        open_session(session, "keeper-1", keeper)
        open_session(session, "bob-1", bob)
    later = NOW + timedelta(minutes=1)
    with sessions.begin() as session:
        for weak, problem in [
            ("short", TOO_SHORT),
            ("Lantern-Keeper", PERSONAL),
            ("grace.hopper@example.org", PERSONAL),
        ]:
            with invalid({"password": problem}):
                accounts.set_password_directly(session, user=keeper, password=weak, now=later)
    assert session_ids(sessions, keeper) == {"keeper-1"}
    with sessions.begin() as session:
        accounts.set_password_directly(session, user=keeper, password=NEW_PASSWORD, now=later)
    row = reload(sessions, keeper)
    assert row.password_hash != keeper.password_hash and row.security_stamp != keeper.security_stamp
    assert utc(row.updated_at) == later
    assert session_ids(sessions, keeper) == set()
    assert session_ids(sessions, bob) == {"bob-1"}
    assert reload(sessions, bob).password_hash == bob.password_hash


# --------------------------------------------------------------------------------------------------
# API tokens
# --------------------------------------------------------------------------------------------------


def test_an_issued_token_is_stored_by_its_hash_with_a_tidy_name(sessions: sessionmaker[Session]) -> None:
    ada = account(sessions, "ada")
    spammer = account(sessions, "spammer", banned=True)
    with sessions.begin() as session:
        token = accounts.issue_api_token(session, user=ada, name="  my   laptop\n ", now=NOW)
        accounts.issue_api_token(session, user=ada, name="   ", now=NOW - timedelta(days=1))
        accounts.issue_api_token(session, user=ada, name="x" * 150, now=NOW - timedelta(days=2))
        with refused(NotAllowed, "spammer is banned; unban the account before giving it a token."):
            accounts.issue_api_token(session, user=spammer, name="bot", now=NOW)
    assert re.fullmatch(r"dp_[A-Za-z0-9_-]{43}", token)
    with sessions() as session:
        rows = store.api_tokens(session, user_id=ada.id)
        assert [row.name for row in rows] == ["my laptop", "token of 2026-07-31", "x" * 100]
        row = rows[0]
        assert (row.user_id, row.token_hash, row.prefix) == (ada.id, sha256_hex(token), token[:10])
        assert (utc(row.created_at), row.last_used_at, row.revoked_at) == (NOW, None, None)
        assert store.api_tokens(session, user_id=spammer.id) == []


def test_a_token_names_its_account_until_revoked_and_is_touched_every_five_minutes(
    sessions: sessionmaker[Session],
) -> None:
    ada, bob = account(sessions, "ada"), account(sessions, "bob")
    with sessions.begin() as session:
        token = accounts.issue_api_token(session, user=ada, name="laptop", now=NOW)
        bobs = accounts.issue_api_token(session, user=bob, name="phone", now=NOW)
        tokens = store.api_tokens(session, user_id=ada.id) + store.api_tokens(session, user_id=bob.id)
    mine, theirs = (row.id for row in tokens)

    def use(value: str, now: datetime) -> User | None:
        with sessions.begin() as session:
            return accounts.user_for_api_token(session, token=value, now=now)

    found = use(token, NOW)
    assert found is not None and (found.id, found.username) == (ada.id, "ada")
    assert utc(token_row(sessions, mine).last_used_at) == NOW
    found = use(bobs, NOW)
    assert found is not None and (found.id, found.username) == (bob.id, "bob")
    soon, later = NOW + timedelta(minutes=5, seconds=-1), NOW + timedelta(minutes=5)
    assert use(token, soon) is not None
    assert utc(token_row(sessions, mine).last_used_at) == NOW
    assert use(token, later) is not None
    assert (utc(token_row(sessions, mine).last_used_at), utc(token_row(sessions, theirs).last_used_at)) == (
        later,
        NOW,
    )
    with sessions.begin() as session:
        row = session.get(ApiToken, mine)
        assert row is not None
        assert store.touch_api_token(session, token=row, now=later + timedelta(minutes=4)) is False
        assert store.touch_api_token(session, token=row, now=later + timedelta(minutes=5)) is True
    # A banned owner's token still names the owner: the API refuses them by the ban.
    with sessions.begin() as session:
        store.set_ban(session, user_id=bob.id, banned_at=NOW, reason=None, now=NOW)
    found = use(bobs, NOW)
    assert found is not None and found.is_banned
    with sessions.begin() as session:
        assert store.revoke_api_token(session, token_id=mine, user_id=ada.id, now=NOW) is True
    assert use(token, later) is None
    assert use("dp_not-a-token", NOW) is None


def test_only_values_shaped_like_tokens_are_looked_up(sessions: sessionmaker[Session]) -> None:
    ada = account(sessions, "ada")
    longest, too_long = "dp_" + "a" * 197, "dp_" + "a" * 198
    with sessions.begin() as session:
        for secret in ("xx_" + "a" * 43, longest, too_long):
            add_token(session, ada, secret)
    with sessions.begin() as session:
        assert accounts.user_for_api_token(session, token="xx_" + "a" * 43, now=NOW) is None
        found = accounts.user_for_api_token(session, token=longest, now=NOW)  # 200 characters
        assert found is not None and (found.id, found.username) == (ada.id, "ada")
        assert accounts.user_for_api_token(session, token=too_long, now=NOW) is None


def test_tokens_are_listed_live_first_newest_first_and_revoked_only_by_their_owner(
    sessions: sessionmaker[Session],
) -> None:
    ada, bob = account(sessions, "ada"), account(sessions, "bob")
    hour = timedelta(hours=1)
    with sessions.begin() as session:
        first = add_token(session, ada, "dp_first", now=NOW - hour).id
        older = add_token(session, ada, "dp_older", now=NOW - 2 * hour).id
        same_time = add_token(session, ada, "dp_same_time", now=NOW - hour).id
        revoked = add_token(session, ada, "dp_revoked", now=NOW).id
        bobs = add_token(session, bob, "dp_bobs", now=NOW).id
    with sessions.begin() as session:
        assert store.revoke_api_token(session, token_id=revoked, user_id=ada.id, now=NOW + hour) is True
        assert store.revoke_api_token(session, token_id=revoked, user_id=ada.id, now=NOW + 2 * hour) is False
        assert store.revoke_api_token(session, token_id=bobs, user_id=ada.id, now=NOW + hour) is False
    with sessions() as session:
        listed = store.api_tokens(session, user_id=ada.id)
        assert [row.id for row in listed] == [same_time, first, older, revoked]
        assert {row.id: utc(row.revoked_at) for row in listed} == {
            same_time: None,
            first: None,
            older: None,
            revoked: NOW + hour,
        }
        assert token_row(sessions, bobs).revoked_at is None
        own = store.api_token_of(session, token_id=first, user_id=ada.id)
        assert own is not None and own.id == first
        assert store.api_token_of(session, token_id=bobs, user_id=ada.id) is None
        theirs = store.api_token_of(session, token_id=bobs, user_id=bob.id)
        assert theirs is not None and theirs.id == bobs


# --------------------------------------------------------------------------------------------------
# Accounts in the store: look-ups, bans, names
# --------------------------------------------------------------------------------------------------


def test_create_user_defaults_and_look_ups(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ada = store.create_user(
            session, username="Ada", email="ada@example.org", password_hash="-", security_stamp="-", now=NOW
        )
        bob = store.create_user(
            session,
            username="bob",
            email="bob@example.org",
            password_hash="-",
            security_stamp="-",
            now=NOW,
            role="moderator",
            verified=True,
        )
    row = reload(sessions, ada)
    assert (row.username_key, row.role, row.email_verified_at, row.show_upvotes) == (
        "ada",
        "user",
        None,
        False,
    )
    assert (utc(row.created_at), utc(row.updated_at), row.last_login_at) == (NOW, NOW, None)
    row = reload(sessions, bob)
    assert (row.role, utc(row.email_verified_at)) == ("moderator", NOW)

    def id_of(found: User | None) -> int | None:
        return None if found is None else found.id

    with sessions() as session:
        assert id_of(store.get_user(session, user_id=ada.id)) == ada.id
        assert store.get_user(session, user_id=9999) is None
        assert id_of(store.user_by_name(session, username="ADA")) == ada.id
        assert id_of(store.user_by_name(session, username="bob")) == bob.id
        assert store.user_by_name(session, username="carol") is None
        assert id_of(store.user_by_email(session, email="bob@example.org")) == bob.id
        assert store.user_by_email(session, email="carol@example.org") is None
        assert id_of(store.user_by_login(session, login="  ADA@Example.ORG ")) == ada.id
        assert id_of(store.user_by_login(session, login="  bob ")) == bob.id
        assert store.user_by_login(session, login="ada@elsewhere.example.org") is None
        assert (
            store.username_taken(session, username="ADA"),
            store.username_taken(session, username="carol"),
        ) == (
            True,
            False,
        )
        assert (
            store.email_taken(session, email="bob@example.org"),
            store.email_taken(session, email="c@x.org"),
        ) == (
            True,
            False,
        )
        assert [user.id for user in store.list_users(session)] == [ada.id, bob.id]
        assert accounts.require_user(session, username="ada").id == ada.id
        with refused(NotFoundError, "There is no account 'ghost'."):
            accounts.require_user(session, username="ghost")
        accounts.ensure_new(session, username="carol")
        with refused(AlreadyDone, "The name 'Ada' is taken."):
            accounts.ensure_new(session, username="Ada")


def test_update_user_and_mark_verified_change_that_account_only(sessions: sessionmaker[Session]) -> None:
    ada, carol = account(sessions, "ada", verified=False), account(sessions, "carol", verified=False)
    hour = timedelta(hours=1)
    with sessions.begin() as session:
        store.update_user(session, user_id=ada.id, values={"show_upvotes": True}, now=NOW + hour)
        # Someone else's address is not this account's to verify.
        assert (
            store.mark_verified(session, user_id=ada.id, email="carol@example.org", now=NOW + hour) is False
        )
        assert (
            store.mark_verified(session, user_id=ada.id, email="ada@example.org", now=NOW + 2 * hour) is True
        )
        assert (
            store.mark_verified(session, user_id=ada.id, email="ada@example.org", now=NOW + 3 * hour) is False
        )
    row = reload(sessions, ada)
    assert (row.show_upvotes, utc(row.email_verified_at), utc(row.updated_at)) == (
        True,
        NOW + 2 * hour,
        NOW + 2 * hour,
    )
    row = reload(sessions, carol)
    assert (row.show_upvotes, row.email_verified_at, utc(row.updated_at)) == (False, None, NOW)


def test_set_ban_bans_and_unbans_once_and_says_when_nothing_changed(sessions: sessionmaker[Session]) -> None:
    ada, bob = account(sessions, "ada"), account(sessions, "bob")
    hour = timedelta(hours=1)

    def ban(banned_at: datetime | None, reason: str | None, now: datetime) -> bool:
        with sessions.begin() as session:
            return store.set_ban(session, user_id=ada.id, banned_at=banned_at, reason=reason, now=now)

    def state() -> tuple[datetime | None, str | None, datetime]:
        row = reload(sessions, ada)
        return utc(row.banned_at), row.ban_reason, utc(row.updated_at)

    assert ban(NOW + hour, "spam", NOW + hour) is True
    assert state() == (NOW + hour, "spam", NOW + hour)
    assert ban(NOW + 2 * hour, "again", NOW + 2 * hour) is False
    assert state() == (NOW + hour, "spam", NOW + hour)
    assert ban(None, None, NOW + 3 * hour) is True
    assert state() == (None, None, NOW + 3 * hour)
    assert ban(None, None, NOW + 4 * hour) is False
    assert state() == (None, None, NOW + 3 * hour)
    row = reload(sessions, bob)
    assert (row.banned_at, row.ban_reason, utc(row.updated_at)) == (None, None, NOW)


def test_usernames_by_id_and_which_names_are_local(sessions: sessionmaker[Session]) -> None:
    ada, bob = account(sessions, "Ada"), account(sessions, "bob")
    with sessions() as session:
        assert store.usernames(session, user_ids=[]) == {}
        assert store.usernames(session, user_ids=[ada.id, bob.id, ada.id, 9999]) == {
            ada.id: "Ada",
            bob.id: "bob",
        }
        assert store.usernames(session, user_ids=[bob.id]) == {bob.id: "bob"}
        assert store.local_usernames(session, names=[]) == set()
        assert store.local_usernames(session, names=["", ""]) == set()
        # Names come back as asked for (feed submitters are matched whatever their case).
        assert store.local_usernames(session, names=["ADA", "nobody", "", "bob"]) == {"ADA", "bob"}

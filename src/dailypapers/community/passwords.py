"""Passwords: argon2id hashes and the policy a new password must meet.

Hashes are argon2id with argon2-cffi's default cost (RFC 9106's second recommended setting: 64 MiB,
3 passes), which takes tens of milliseconds: cheap for one log-in, expensive for a guesser with a stolen
database. ``needs_rehash`` lets a log-in upgrade an old hash when the defaults move on.

The policy follows NIST SP 800-63B rather than composition rules: at least 10 characters (a passphrase of
a few words is the easiest way there), no upper limit below 256, and a refusal of what guessers try
first: the most common passwords (also with digits or punctuation added at the end), the account's own
name or address, and strings of one or two repeated characters. Hashing a password of any length costs
the same, but very long input is refused so that a request cannot make the server hash megabytes.
"""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256

# The most common passwords of public breach corpora (and variants guessers try), lower-case. Those
# shorter than MIN_LENGTH are refused anyway; they stay listed because digits appended to them reach it.
COMMON_PASSWORDS = frozenset(
    """
    123456 123456789 12345678 12345 1234567 1234567890 qwerty password 111111 123123 abc123 1234
    password1 iloveyou 1q2w3e4r 000000 qwerty123 zaq12wsx dragon sunshine princess letmein 654321
    monkey 27653 1qaz2wsx 123321 qwertyuiop superman asdfghjkl asdfgh 121212 football baseball
    welcome welcome1 admin administrator master hello freedom whatever qazwsx trustno1 login
    passw0rd starwars michael shadow ashley jessica charlie donald mustang access batman 666666
    7777777 987654321 1q2w3e 123qwe 1qazxsw2 qwer1234 q1w2e3r4 q1w2e3r4t5 1q2w3e4r5t zxcvbnm
    zxcvbnm123 asdf1234 aa123456 a123456 abcd1234 password123 password12 p@ssw0rd p@ssword
    changeme secret letmein123 iloveyou1 iloveyou123 princess1 sunshine1 football1 monkey123
    hunter2 hunter hottie loveme lovely flower tigger soccer hockey killer pepper jordan
    jordan23 harley ranger buster thomas robert daniel andrew michelle jennifer nicole joshua
    matthew anthony computer internet samsung google facebook linkedin twitter apple microsoft
    summer winter spring autumn january qwertyui qwertyu 11111111 1111111111 00000000 0000000000
    88888888 12341234 11223344 112233 123654 159753 147258369 741852963 987654321 0987654321
    1234qwer qwerasdf asdfghjkl1 zaq1zaq1 zaq1xsw2 !qaz2wsx mypassword yourpassword password!
    password1! welcome123 welcome2024 welcome2025 welcome2026 admin123 admin1234 root toor
    test test123 test1234 testing guest guest123 user user123 default master123 dragon123
    baseball1 superman1 batman123 starwars1 pokemon minecraft fortnite liverpool chelsea arsenal
    manchester barcelona realmadrid dailypapers daily papers research science arxiv huggingface
    correcthorsebatterystaple trustno1 qwerty1234 qwerty12345 1q2w3e4r5t6y 123456a 123456q
    iloveu iloveyou2 babygirl lovelove loveyou 5201314 woaini 1314520 abc12345 abcdef abcdefg
    abcdefgh abcdefghij letmein1 whatever1 nothing blahblah trustme sunshine123 shadow123
    """.split()
)
_SEPARATORS = re.compile(r"[\s._\-]+")
_TRAILING = re.compile(r"[\d\W_]+$")

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches; False for a hash that cannot be read (never raises)."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(24))


def waste_time_like_a_login(password: str) -> None:
    """Verify against a hash no password matches, when a log-in names no account: the answer then takes
    as long as for a real account, so timing does not tell which names exist."""
    verify_password(_dummy_hash(), password)


def _squash(text: str) -> str:
    return _SEPARATORS.sub("", text.casefold())


def password_problem(password: str, *, username: str = "", email: str = "") -> str | None:
    """Why ``password`` is refused, as a sentence for the person choosing it; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return (
            f"Use at least {MIN_LENGTH} characters. A few unrelated words make a password that is long "
            "and easy to remember."
        )
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    squashed = _squash(password)
    if len(set(squashed)) < 4:
        return "This password repeats too few characters; it would be guessed quickly."
    stem = _TRAILING.sub("", squashed)
    if (
        squashed in COMMON_PASSWORDS
        or stem in COMMON_PASSWORDS
        or squashed.strip("!@#$%^&*") in COMMON_PASSWORDS
    ):
        return "This is one of the most common passwords, which are tried first. Choose another."
    personal = {_squash(username), _squash(email)}
    local_part = email.split("@", 1)[0]
    personal.add(_squash(local_part))
    personal.discard("")
    for value in personal:
        if len(value) >= 3 and (
            squashed == value or stem == value or (value in squashed and len(squashed) - len(value) < 6)
        ):
            return "The password must not be your user name or mail address."
    return None


__all__ = [
    "COMMON_PASSWORDS",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "hash_password",
    "needs_rehash",
    "password_problem",
    "verify_password",
    "waste_time_like_a_login",
]

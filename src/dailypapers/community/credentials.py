"""Secrets handed to clients: session cookies, CSRF tokens, API tokens, and links in account mails.

* A **session** is a random 256-bit token in a cookie, signed with the secret key (so that a forged or
  truncated cookie is refused before any database look-up); the database keeps only its SHA-256.
* An **API token** is ``dp_`` plus a random 256-bit value, shown once; the database keeps its SHA-256
  (a fast hash is right here: the token is random, so there is nothing to guess, unlike a password) and
  its first characters, for telling tokens apart in a list.
* A **CSRF token** is an HMAC of the browser's session token (or, before log-in, of a random value in a
  cookie of its own) under the secret key. A page of another site can make a browser post a form, but it
  cannot read the token, and it cannot compute one without the key.
* **Links in mails** (verify an address, reset a password) are signed ``[user id, binding, issued]``.
  The binding ties a link to the state it was made for: the address for a verification link, and an
  HMAC of the password hash and the account's security stamp for a reset link, so a reset link stops
  working once the password has changed, which its own use does. They are signed and checked by
  :class:`dailypapers.signing.LinkSigner`, the one rule for links, which checks expiry against the
  application's clock, not the system's, so tests can move time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from itsdangerous import BadSignature, Signer

from dailypapers.signing import InvalidSignedLink, LinkKind, LinkSigner

API_TOKEN_PREFIX = "dp_"
PREFIX_SHOWN = 10
VERIFY_LINK_LIFETIME = timedelta(days=3)
RESET_LINK_LIFETIME = timedelta(hours=1)
_SALT = "dailypapers.account."


def new_secret() -> str:
    """A random value of 256 bits, URL-safe."""
    return secrets.token_urlsafe(32)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_api_token() -> tuple[str, str, str]:
    """A new API token: (the token, shown once; its hash, stored; its prefix, shown in lists)."""
    token = API_TOKEN_PREFIX + new_secret()
    return token, sha256_hex(token), token[:PREFIX_SHOWN]


def new_security_stamp() -> str:
    return secrets.token_hex(16)


class LinkPurpose(StrEnum):
    verify = "verify"
    reset = "reset"


LIFETIMES = {LinkPurpose.verify: VERIFY_LINK_LIFETIME, LinkPurpose.reset: RESET_LINK_LIFETIME}
LINK_KINDS = {purpose: LinkKind(_SALT + purpose, lifetime=LIFETIMES[purpose]) for purpose in LinkPurpose}

InvalidLink = InvalidSignedLink
"""The accounts' name for a link that was altered, made for something else, has expired or was used."""


class Credentials:
    """Signs and checks everything above with one secret key."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()
        self._session_signer = Signer(secret, salt=_SALT + "session")
        self._links = LinkSigner(secret)

    # -- sessions ----------------------------------------------------------------------------------

    def session_cookie(self, token: str) -> str:
        return self._session_signer.sign(token).decode()

    def session_token(self, cookie: str | None) -> str | None:
        """The session token in a cookie value, or None when the cookie is missing or not genuine."""
        if not cookie or len(cookie) > 200:
            return None
        try:
            return self._session_signer.unsign(cookie).decode()
        except BadSignature:
            return None

    # -- CSRF --------------------------------------------------------------------------------------

    def csrf_token(self, base: str) -> str:
        return hmac.new(self._key, b"csrf\x1f" + base.encode(), hashlib.sha256).hexdigest()[:40]

    def csrf_matches(self, base: str | None, token: str | None) -> bool:
        if not base or not token:
            return False
        return hmac.compare_digest(self.csrf_token(base), token)

    # -- links in mails ----------------------------------------------------------------------------

    def password_binding(self, password_hash: str, security_stamp: str) -> str:
        message = f"{password_hash}\x1f{security_stamp}".encode()
        return hmac.new(self._key, b"reset\x1f" + message, hashlib.sha256).hexdigest()[:32]

    def make_link(self, purpose: LinkPurpose, user_id: int, binding: str, *, now: datetime) -> str:
        return self._links.make(LINK_KINDS[purpose], user_id, binding, now=now)

    def read_link(self, purpose: LinkPurpose, token: str, *, now: datetime) -> tuple[int, str]:
        """The user id and binding of a genuine, unexpired link; :class:`InvalidLink` otherwise."""
        return self._links.read(LINK_KINDS[purpose], token, now=now)


__all__ = [
    "API_TOKEN_PREFIX",
    "RESET_LINK_LIFETIME",
    "VERIFY_LINK_LIFETIME",
    "Credentials",
    "InvalidLink",
    "LinkPurpose",
    "new_api_token",
    "new_secret",
    "new_security_stamp",
    "sha256_hex",
]

"""Signed tokens in subscription links: the digest's purposes of :class:`LinkSigner`.

Each purpose signs with a salt of its own, so a token made to manage a subscription cannot confirm or end
one, and a token from one installation is worthless on another. A token carries the subscription id and
its ``token_key``; the key must still match the stored one, which makes every link of a subscription
revocable and keeps links of a deleted subscription from acting on a later one with the same id.

Unsubscribe and manage links never expire: they sit in mails that people open months later, so their
format must never change. Confirmation links expire after a week, measured on the clock passed in as
``now``. (The subscription pages' forms are guarded by the site's CSRF tokens, :mod:`dailypapers.web.auth`,
not by tokens of their own.)

Before its issue time moved into the payload, a confirmation token carried itsdangerous's own timestamp,
which expired by the system clock. Tokens of that format are still read
(:attr:`LinkKind.reads_timed_format`), under the same lifetime and the same ``now``, so that a
confirmation mail sent just before an upgrade still works; a week after the upgrade every one of them has
expired, and that reading can go.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from dailypapers.signing import InvalidSignedLink, LinkKind, LinkSigner

CONFIRM_LINK_LIFETIME = timedelta(days=7)
_SALT_PREFIX = "dailypapers.subscription."


class Purpose(StrEnum):
    confirm = "confirm"
    manage = "manage"
    unsubscribe = "unsubscribe"


KINDS = {
    Purpose.confirm: LinkKind(
        _SALT_PREFIX + Purpose.confirm, lifetime=CONFIRM_LINK_LIFETIME, reads_timed_format=True
    ),
    Purpose.manage: LinkKind(_SALT_PREFIX + Purpose.manage),
    Purpose.unsubscribe: LinkKind(_SALT_PREFIX + Purpose.unsubscribe),
}

InvalidToken = InvalidSignedLink
"""The digest's name for a bad or expired token: the one exception of every signed link."""


class Tokens:
    """Makes and checks the subscription tokens of one secret key."""

    def __init__(self, secret: str) -> None:
        self._signer = LinkSigner(secret)

    def make(self, purpose: Purpose, subscription_id: int, key: str, *, now: datetime) -> str:
        return self._signer.make(KINDS[purpose], subscription_id, key, now=now)

    def read(self, purpose: Purpose, token: str, *, now: datetime) -> tuple[int, str]:
        """The subscription id and key in ``token``; :class:`InvalidToken` when it is not genuine."""
        return self._signer.read(KINDS[purpose], token, now=now)


__all__ = ["CONFIRM_LINK_LIFETIME", "KINDS", "InvalidToken", "Purpose", "Tokens"]

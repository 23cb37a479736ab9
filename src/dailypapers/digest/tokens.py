"""Signed tokens in subscription links and forms (itsdangerous, keyed by ``DAILYPAPERS_SECRET_KEY``).

Each purpose signs with a salt of its own, so a token made to manage a subscription cannot confirm or end
one, and a token from one installation is worthless on another. A token carries the subscription id and
its ``token_key``; the key must still match the stored one, which makes every link of a subscription
revocable and keeps links of a deleted subscription from acting on a later one with the same id.

Unsubscribe and manage links never expire: they sit in mails that people open months later. Confirmation
links expire after a week, and form tokens, which guard the forms against cross-site posts, after a day.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

CONFIRM_MAX_AGE_SECONDS = 7 * 24 * 3600
FORM_MAX_AGE_SECONDS = 24 * 3600
_SALT_PREFIX = "dailypapers.subscription."


class Purpose(StrEnum):
    confirm = "confirm"
    manage = "manage"
    unsubscribe = "unsubscribe"
    form = "form"


_TIMED = {Purpose.confirm: CONFIRM_MAX_AGE_SECONDS, Purpose.form: FORM_MAX_AGE_SECONDS}


class InvalidToken(Exception):
    """A token that was forged, altered, made for another purpose, or has expired."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        self.expired = expired
        super().__init__(message)


class Tokens:
    """Makes and checks the tokens of one secret key."""

    def __init__(self, secret: str) -> None:
        self._plain = {
            purpose: URLSafeSerializer(secret, salt=_SALT_PREFIX + purpose)
            for purpose in Purpose
            if purpose not in _TIMED
        }
        self._timed = {
            purpose: URLSafeTimedSerializer(secret, salt=_SALT_PREFIX + purpose) for purpose in _TIMED
        }

    def make(self, purpose: Purpose, subscription_id: int, key: str, *, scope: str = "") -> str:
        payload: list[Any] = [subscription_id, key]
        if scope:
            payload.append(scope)
        if purpose in _TIMED:
            return str(self._timed[purpose].dumps(payload))
        return str(self._plain[purpose].dumps(payload))

    def read(self, purpose: Purpose, token: str, *, scope: str = "") -> tuple[int, str]:
        """The subscription id and key in ``token``; :class:`InvalidToken` when it is not genuine."""
        if not token or len(token) > 512:
            raise InvalidToken("this link is not valid")
        try:
            if purpose in _TIMED:
                payload = self._timed[purpose].loads(token, max_age=_TIMED[purpose])
            else:
                payload = self._plain[purpose].loads(token)
        except SignatureExpired as exc:
            raise InvalidToken("this link has expired", expired=True) from exc
        except BadSignature as exc:
            raise InvalidToken("this link is not valid") from exc
        expected = 3 if scope else 2
        if (
            not isinstance(payload, list)
            or len(payload) != expected
            or not isinstance(payload[0], int)
            or not isinstance(payload[1], str)
            or (scope and payload[2] != scope)
        ):
            raise InvalidToken("this link is not valid")
        return payload[0], payload[1]


__all__ = ["CONFIRM_MAX_AGE_SECONDS", "FORM_MAX_AGE_SECONDS", "InvalidToken", "Purpose", "Tokens"]

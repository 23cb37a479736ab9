"""The secret key that signs links, the rule for when a weak one is refused, and the one link signer.

Links in mails (confirm, manage, unsubscribe) must be impossible to forge: anyone who could compute them
could unsubscribe other people or read their preferences. They are signed with ``DAILYPAPERS_SECRET_KEY``.

A placeholder key is worse than none, because it looks configured. So a key that is empty, short or a
known placeholder is refused, loudly, whenever something others can reach depends on it: in production,
when real mail goes out, and when the site listens beyond loopback. For local use only, a random key is
generated once and kept in the data dir (mode 0600), so development needs no setup and links keep
working across restarts.

:class:`LinkSigner` is the one rule for signed links, whatever they are for (digest subscriptions,
accounts): each purpose signs with a salt of its own, so a link made for one purpose is refused for every
other; a link names a row (an id) and a key that ties it to the row's current state; and a link that
expires carries the time it was made, checked against the ``now`` passed in, the application's clock
rather than the system's, so that tests can move time. A bad or expired link raises
:class:`InvalidSignedLink`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer

from dailypapers.config import Settings
from dailypapers.errors import ConfigurationError, DailyPapersError

MIN_SECRET_LENGTH = 32
SECRET_FILE = "secret_key"
PLACEHOLDERS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "change-this",
        "secret",
        "secret-key",
        "secretkey",
        "mysecret",
        "password",
        "dev",
        "development",
        "test",
        "example",
        "insecure",
        "please-change-me",
        "replace-me",
        "xxx",
    }
)
_GENERATE_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def secret_weakness(value: str) -> str | None:
    """Why ``value`` is not a usable secret key, or None when it is."""
    text = value.strip()
    if not text:
        return "it is empty"
    lowered = text.lower()
    if lowered in PLACEHOLDERS or any(word in lowered for word in ("changeme", "change-me", "change_me")):
        return "it is a placeholder"
    if len(text) < MIN_SECRET_LENGTH:
        return f"it is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(text)) < 8:
        return "it repeats too few characters"
    return None


def is_loopback(host: str) -> bool:
    """Whether a server listening on ``host`` can only be reached from this machine."""
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def secret_key(settings: Settings, *, public: bool) -> str:
    """The key to sign with.

    ``public`` says that people other than the operator depend on the key: real mail is sent, or the
    site is served beyond loopback. Then, as in production, only a strong configured key is accepted.
    """
    configured = settings.secret_key.get_secret_value()
    weakness = secret_weakness(configured)
    strict = public or settings.environment == "production"
    if weakness is None:
        return configured.strip()
    if strict:
        why = (
            "in production"
            if settings.environment == "production"
            else "on a site that other people reach, since it signs the links they are sent"
        )
        raise ConfigurationError(
            f"DAILYPAPERS_SECRET_KEY is unusable {why}: {weakness}. Set it to at least "
            f"{MIN_SECRET_LENGTH} random characters, e.g. from: {_GENERATE_HINT}"
        )
    if configured.strip():
        return configured.strip()  # a weak key the operator chose, for local use only
    return _local_secret(settings.data_dir)


def mail_is_public(settings: Settings) -> bool:
    """Real mail leaves this machine when an SMTP host is set (otherwise mails are printed)."""
    return bool(settings.smtp_host)


def check_serving(settings: Settings, host: str) -> None:
    """Refuse to serve beyond loopback, in production, or with mail going out, without a strong secret key.

    Checked before the server starts, so that several workers do not each fail on their own.
    """
    secret_key(settings, public=not is_loopback(host) or mail_is_public(settings))


def _local_secret(data_dir: Path) -> str:
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Written to a private temporary file, then linked into place: the link fails if another process
        # got there first, and nobody ever reads a half-written key.
        temporary = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    existing = path.read_text(encoding="utf-8").strip()
    weakness = secret_weakness(existing)
    if weakness is not None:
        raise ConfigurationError(
            f"the generated secret key in {path} is unusable ({weakness}): delete the file to make a new one"
        )
    return existing


# -- signed links ---------------------------------------------------------------------------------

MAX_LINK_TOKEN_LENGTH = 512
# How far ahead of the reader's clock a link's issue time may be: the clocks of two workers (or of a
# worker and the scheduler) differ by a little. A link from further ahead was made by a clock that was
# wrong, and would outlive its lifetime by as much, so it is refused.
CLOCK_SKEW = timedelta(minutes=5)


class InvalidSignedLink(DailyPapersError):
    """A link that was forged, altered, made for another purpose, or has expired.

    ``expired`` tells an expired link, which deserves "ask for a new one", from the others.
    """

    exit_code = 65  # EX_DATAERR

    def __init__(self, message: str = "this link is not valid", *, expired: bool = False) -> None:
        self.expired = expired
        super().__init__(message)


@dataclass(frozen=True)
class LinkKind:
    """One purpose of signed link: its salt, and how long its links work (``None``: for ever).

    ``reads_timed_format`` also accepts the tokens that itsdangerous's ``URLSafeTimedSerializer`` made
    under the same salt, for links sent before their issue time moved into the payload; their issue time
    is its timestamp, and the same expiry rule applies to them.
    """

    salt: str
    lifetime: timedelta | None = None
    reads_timed_format: bool = False


class LinkSigner:
    """Makes and reads the signed links of one secret key.

    A token is ``URLSafeSerializer(secret, salt=kind.salt)`` over ``[id, key]``, then, for a kind that
    expires, the issue time in whole seconds since the epoch. That is the format that manage, unsubscribe
    and account links have always had, so the links already in mailboxes keep working; it must not change.
    """

    def __init__(self, secret: str) -> None:
        self._secret = secret
        # One serializer per salt, made on first use; two threads racing only make one twice.
        self._plain: dict[str, URLSafeSerializer] = {}
        self._timed: dict[str, URLSafeTimedSerializer] = {}

    def make(self, kind: LinkKind, subject_id: int, key: str, *, now: datetime) -> str:
        payload: list[Any] = [subject_id, key]
        if kind.lifetime is not None:
            payload.append(int(_seconds(now)))
        return str(self._serializer(kind).dumps(payload))

    def read(self, kind: LinkKind, token: str, *, now: datetime) -> tuple[int, str]:
        """The id and key of a genuine, unexpired link; :class:`InvalidSignedLink` otherwise."""
        if not token or len(token) > MAX_LINK_TOKEN_LENGTH:
            raise InvalidSignedLink()
        payload, issued = self._payload(kind, token)
        if (
            not isinstance(payload, list)
            or len(payload) != 2
            or not _is_int(payload[0])
            or not isinstance(payload[1], str)
        ):
            raise InvalidSignedLink()
        # Exactly ``lifetime`` old still works; a second more does not.
        lifetime = kind.lifetime
        if lifetime is not None:
            age = None if issued is None else _seconds(now) - issued
            if age is None or age > lifetime.total_seconds():
                raise InvalidSignedLink("this link has expired", expired=True)
            if age < -CLOCK_SKEW.total_seconds():
                raise InvalidSignedLink(
                    "this link is not valid yet: it was made by a clock ahead of this server's"
                )
        return payload[0], payload[1]

    def _payload(self, kind: LinkKind, token: str) -> tuple[Any, int | None]:
        """The signed values and, for a kind that expires, the issue time taken off their end."""
        try:
            payload: Any = self._serializer(kind).loads(token)
        except BadData:
            payload = None
        if kind.lifetime is None:
            if payload is None:
                raise InvalidSignedLink()
            return payload, None
        if isinstance(payload, list) and payload and _is_int(payload[-1]):
            return payload[:-1], payload[-1]
        if kind.reads_timed_format:
            # Safe to accept: the old format is signed with the same key and salt, and forging it needs
            # the key as much as the new one does.
            try:
                old, stamp = self._timed_serializer(kind).loads(token, return_timestamp=True)
            except BadData:
                raise InvalidSignedLink() from None
            return old, int(stamp.timestamp())
        raise InvalidSignedLink()

    def _serializer(self, kind: LinkKind) -> URLSafeSerializer:
        serializer = self._plain.get(kind.salt)
        if serializer is None:
            serializer = self._plain[kind.salt] = URLSafeSerializer(self._secret, salt=kind.salt)
        return serializer

    def _timed_serializer(self, kind: LinkKind) -> URLSafeTimedSerializer:
        serializer = self._timed.get(kind.salt)
        if serializer is None:
            serializer = self._timed[kind.salt] = URLSafeTimedSerializer(self._secret, salt=kind.salt)
        return serializer


def _seconds(now: datetime) -> float:
    # A naive time is UTC, as everywhere in Daily Papers (SQLite gives stored times back without a zone);
    # read as local time, it would move every expiry by the machine's offset.
    return (now if now.tzinfo is not None else now.replace(tzinfo=UTC)).timestamp()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


__all__ = [
    "MAX_LINK_TOKEN_LENGTH",
    "MIN_SECRET_LENGTH",
    "InvalidSignedLink",
    "LinkKind",
    "LinkSigner",
    "check_serving",
    "is_loopback",
    "mail_is_public",
    "secret_key",
    "secret_weakness",
]

"""The secret key that signs links and form tokens, and the rule for when a weak one is refused.

Links in mails (confirm, manage, unsubscribe) must be impossible to forge: anyone who could compute them
could unsubscribe other people or read their preferences. They are signed with ``DAILYPAPERS_SECRET_KEY``.

A placeholder key is worse than none, because it looks configured. So a key that is empty, short or a
known placeholder is refused, loudly, whenever something others can reach depends on it: in production,
when real mail goes out, and when the site listens beyond loopback. For local use only, a random key is
generated once and kept in the data dir (mode 0600), so development needs no setup and links keep
working across restarts.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

from dailypapers.config import Settings
from dailypapers.errors import ConfigurationError

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
    """Refuse to serve beyond loopback, or in production, without a strong secret key."""
    secret_key(settings, public=not is_loopback(host))


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


__all__ = [
    "MIN_SECRET_LENGTH",
    "check_serving",
    "is_loopback",
    "mail_is_public",
    "secret_key",
    "secret_weakness",
]

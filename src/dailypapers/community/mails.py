"""The mails an account gets: "verify your address", "reset your password", and "someone tried to sign
up with your address" (the sign-up page does not say that the address has an account, so its owner is
told instead).

Plain text only: each mail is one link and two sentences, which every client shows well, and a text mail
has no markup to get wrong. They go through the same :class:`~dailypapers.mail.Mailer` and settings as
the digests (``DAILYPAPERS_SMTP_*``, ``MAIL_FROM``), and their links start with ``BASE_URL``.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from dailypapers.community.credentials import RESET_LINK_LIFETIME, VERIFY_LINK_LIFETIME
from dailypapers.config import Settings
from dailypapers.mail import envelope_address

SITE_NAME = "Daily Papers"


def _hours(seconds: float) -> str:
    hours = round(seconds / 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}" if hours < 48 else f"{hours // 24} days"


def _message(settings: Settings, *, to: str, subject: str, body: str, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    domain = envelope_address(settings.mail_from).rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<account.{secrets.token_hex(12)}@{domain}>"
    # Automatic replies (out of office) should not answer these mails.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def verification_mail(
    settings: Settings, *, to: str, username: str, link: str, now: datetime
) -> EmailMessage:
    body = (
        f"Hello {username},\n\n"
        f"Someone, probably you, made an account on {SITE_NAME} ({settings.base_url}) with this address.\n"
        "Open this link to confirm that the address is yours:\n\n"
        f"{link}\n\n"
        f"The link works for {_hours(VERIFY_LINK_LIFETIME.total_seconds())}. If you did not make an account, "
        "ignore this mail: nothing will be sent to you again.\n"
    )
    return _message(settings, to=to, subject=f"Confirm your address for {SITE_NAME}", body=body, now=now)


def reset_mail(settings: Settings, *, to: str, username: str, link: str, now: datetime) -> EmailMessage:
    body = (
        f"Hello {username},\n\n"
        f"Someone asked to reset the password of your {SITE_NAME} account ({settings.base_url}).\n"
        "Open this link to choose a new one:\n\n"
        f"{link}\n\n"
        f"The link works once, for {_hours(RESET_LINK_LIFETIME.total_seconds())}. If you did not ask for "
        "this, ignore this mail: your password stays as it is.\n"
    )
    return _message(settings, to=to, subject=f"Reset your {SITE_NAME} password", body=body, now=now)


def signup_attempt_mail(
    settings: Settings, *, to: str, username: str, link: str, now: datetime
) -> EmailMessage:
    body = (
        f"Hello {username},\n\n"
        f"Someone tried to make a new account on {SITE_NAME} ({settings.base_url}) with this address, which\n"
        f"your account {username} uses already, so no account was made.\n\n"
        f"If it was you, log in as {username} instead. Forgotten your password? Open this link to\n"
        "choose a new one:\n\n"
        f"{link}\n\n"
        f"The link works once, for {_hours(RESET_LINK_LIFETIME.total_seconds())}. If it was not you, ignore "
        "this mail: nothing changes on your account.\n"
    )
    return _message(
        settings,
        to=to,
        subject=f"Someone tried to sign up to {SITE_NAME} with your address",
        body=body,
        now=now,
    )


__all__ = ["reset_mail", "signup_attempt_mail", "verification_mail"]

"""Mails about an account (address confirmation, password reset), queued to go out after the response.

Shared by the sign-up and reset pages (``sign_in.py``) and the account page (``account_page.py``). Each
mail is a background task, as the subscription pages' mails are, so that no page waits on the mail
server; a mail that fails is logged, and the person can ask for it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage

from fastapi import BackgroundTasks
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.community import accounts
from dailypapers.community.credentials import Credentials
from dailypapers.community.mails import verification_mail
from dailypapers.config import Settings
from dailypapers.errors import DailyPapersError
from dailypapers.mail import make_mailer, send_message
from dailypapers.models import User

log = logging.getLogger(__name__)


def send_in_background(settings: Settings, message: EmailMessage) -> None:
    """Send one account mail; a failure is logged (the person can ask for the mail again)."""
    try:
        send_message(make_mailer(settings), message)
    except DailyPapersError as exc:
        log.error("could not send the %r mail to %s: %s", message["Subject"], message["To"], exc)


def queue_reset_link(
    credentials: Credentials,
    settings: Settings,
    background: BackgroundTasks,
    user: User,
    now: datetime,
    compose: Callable[..., EmailMessage],
) -> None:
    """Mail ``user`` a password-reset link in the words of ``compose``, after the response is sent."""
    link = accounts.reset_link(credentials, settings, user, now=now)
    message = compose(settings, to=user.email, username=user.username, link=link, now=now)
    background.add_task(send_in_background, settings, message)


def queue_verification(
    credentials: Credentials,
    settings: Settings,
    sessions: sessionmaker[Session],
    background: BackgroundTasks,
    user: User,
    now: datetime,
) -> bool:
    """Mail ``user`` a link that confirms their address, unless one went out a moment ago (False)."""
    with sessions.begin() as session:
        if not accounts.claim_verification_mail(session, user=user, now=now):
            return False
    link = accounts.verification_link(credentials, settings, user, now=now)
    background.add_task(
        send_in_background,
        settings,
        verification_mail(settings, to=user.email, username=user.username, link=link, now=now),
    )
    return True


__all__ = ["queue_reset_link", "queue_verification", "send_in_background"]

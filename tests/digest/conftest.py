"""Fixtures for digests: the real demo papers, subscribers, a loopback SMTP server, a controllable clock.

The database of each test holds the real Hugging Face daily papers of 2026-06-12 (30 papers with
upvotes) and 2026-07-31 (5), and the five arXiv papers of the recorded ``transformer AND cat:cs.LG``
query, put on the feed of the day they were submitted (2026-06-11) the way ``dailypapers fetch arxiv``
does, so that category filters have papers to match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from dailypapers.digest.delivery import OutboxSender
from dailypapers.digest.render import MailRenderer
from dailypapers.digest.subscribers import subscribe, validate_subscription
from dailypapers.digest.tokens import Tokens
from dailypapers.ingest.formats.atom import parse_atom
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import new_on_feed
from dailypapers.mail import SmtpMailer
from dailypapers.models import Subscription
from tests.digest.smtp import SmtpServer

SECRET = "k3y-for-tests-only-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
BASE_URL = "https://papers.example.org"
# Saturday 13 June 2026, 09:00 UTC: the daily digest of Friday 12 June is due for readers at 08:00 UTC.
SATURDAY = datetime(2026, 6, 13, 9, 0, tzinfo=UTC)
FRIDAY = date(2026, 6, 12)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def load_demo_papers(sessions: sessionmaker[Session], shared_data: Path) -> None:
    ingestor = Ingestor(sessions)
    ingestor.ingest_paths([shared_data / "hf-daily-papers"])
    atom = (shared_data / "arxiv/api-atom/sotawhat-arxiv_transformer.xml").read_bytes()
    day = date(2026, 6, 11)
    ingestor.ingest_records(new_on_feed(parse_atom(atom).items, day, day), label="arXiv cs.LG")


@pytest.fixture
def papers(sessions: sessionmaker[Session], shared_data: Path) -> sessionmaker[Session]:
    load_demo_papers(sessions, shared_data)
    return sessions


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpServer) -> Settings:
    return smtp.settings_for(
        settings,
        secret=SECRET,
        timeout=2.0,
        base_url=BASE_URL,
        mail_from="Daily Papers <digest@papers.example.org>",
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(SATURDAY)


@pytest.fixture
def renderer(mail_settings: Settings) -> MailRenderer:
    return MailRenderer(mail_settings, Tokens(SECRET))


def make_sender(
    settings: Settings, sessions: sessionmaker[Session], clock: Callable[[], datetime], **kwargs: object
) -> OutboxSender:
    mailer = SmtpMailer.from_settings(settings, data_timeout=kwargs.pop("data_timeout", 600.0))
    return OutboxSender.from_settings(settings, sessions, mailer, clock=clock, **kwargs)


def add_subscriber(
    sessions: sessionmaker[Session],
    renderer: MailRenderer,
    email: str,
    *,
    confirmed: bool = True,
    now: datetime = SATURDAY,
    **preferences: object,
) -> Subscription:
    values = validate_subscription(email=email, **preferences)  # type: ignore[arg-type]
    with sessions.begin() as session:
        return subscribe(
            session, renderer, values=values, now=now, confirmed=confirmed, source="cli"
        ).subscription

"""Helpers for the community tests: a clock the test moves, forms read from pages, accounts, clients.

The site on a real socket is ``tests/live_server.py``'s ``LiveServer``, shared with the site's browser tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.community import accounts
from dailypapers.config import Settings
from dailypapers.errors import DailyPapersError, InvalidInput
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.models import User
from dailypapers.web.app import create_app

# The day after the newest feed day of the Hugging Face data (2026-07-31), at noon UTC.
NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
PASSWORD = "quiet orange lantern 42"
HF_PAPER = "2607.23193"  # on the feed of 2026-07-31 with 3 upvotes and 2 comments from Hugging Face
ATOM_FOR_SUBMISSION = Path("arxiv/api-atom/arxivpy-id_2104.12255v1_s0_m100.xml")
SUBMITTED_ID = "2104.12255"


@dataclass
class Clock:
    """The application's clock; the test moves it by hand."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def load_hf_papers(sessions: sessionmaker[Session], shared_data: Path) -> None:
    """The real Hugging Face daily papers of 2026-06-12 (30) and 2026-07-31 (5)."""
    Ingestor(sessions).ingest_paths([shared_data / "hf-daily-papers"])


def make_user(
    sessions: sessionmaker[Session],
    username: str,
    *,
    role: str = "user",
    verified: bool = True,
    password: str = PASSWORD,
    now: datetime = NOW,
) -> User:
    with sessions.begin() as session:
        return accounts.sign_up(
            session,
            username=username,
            email=f"{username.lower()}@example.org",
            password=password,
            now=now,
            role=role,
            verified=verified,
        )


def make_token(sessions: sessionmaker[Session], user: User, now: datetime = NOW) -> str:
    with sessions.begin() as session:
        return accounts.issue_api_token(session, user=user, name="tests", now=now)


def app_client(settings: Settings, clock: Clock, **kwargs: Any) -> TestClient:
    return TestClient(create_app(settings, now=clock, cache_check_seconds=0, **kwargs))


def forms(html: str) -> list[Any]:
    return list(lxml.html.fromstring(html).forms)


def form_fields(html: str, action: str) -> dict[str, str]:
    """The fields of the form posting to ``action`` (hidden ones included), as the browser would send."""
    for form in forms(html):
        if form.get("action") == action:
            return {name: value or "" for name, value in form.form_values()}
    raise AssertionError(f"no form posting to {action} in the page")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def log_in(client: TestClient, login: str, password: str = PASSWORD, next_path: str = "/") -> Any:
    page = client.get("/login")
    fields = form_fields(page.text, "/login")
    fields.update(login=login, password=password, next=next_path)
    return client.post("/login", data=fields, follow_redirects=False)


@contextmanager
def signed_in(settings: Settings, clock: Clock, login: str, password: str = PASSWORD) -> Iterator[TestClient]:
    """A client of a new app, logged in as ``login``."""
    with app_client(settings, clock) as client:
        response = log_in(client, login, password)
        assert response.status_code == 303, response.text
        yield client


@contextmanager
def refused(error: type[DailyPapersError], message: str) -> Iterator[None]:
    """The block raises exactly ``error`` (not a subclass) saying exactly ``message``."""
    with pytest.raises(error) as caught:
        yield
    assert type(caught.value) is error
    assert str(caught.value) == message


@contextmanager
def invalid(problems: dict[str, str]) -> Iterator[None]:
    """The block raises :class:`InvalidInput` itself (not a subclass) with exactly these problems."""
    with pytest.raises(InvalidInput) as caught:
        yield
    assert type(caught.value) is InvalidInput
    assert caught.value.problems == problems

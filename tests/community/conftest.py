"""Fixtures for the community: a database holding the real Hugging Face daily papers, a clock the test
moves, an app on it, and accounts made through the library."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from tests.community.support import Clock, app_client, load_hf_papers


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def papers(sessions: sessionmaker[Session], shared_data: Path) -> sessionmaker[Session]:
    load_hf_papers(sessions, shared_data)
    return sessions


@pytest.fixture
def client(settings: Settings, papers: sessionmaker[Session], clock: Clock) -> Iterator[TestClient]:
    with app_client(settings, clock) as test_client:
        yield test_client

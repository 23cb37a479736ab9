"""Fetching one arXiv paper onto the site without putting it on the feed (``POST /fetch``): signed in,
confirmed and CSRF-checked like every form, counted toward the same daily limit as submissions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from dailypapers.models import FeedEntry, Paper, PaperSource
from tests.community.submitting import outcomes, page_text, recorded_arxiv, send_form
from tests.community.support import (
    HF_PAPER,
    SUBMITTED_ID,
    Clock,
    app_client,
    form_fields,
    log_in,
    make_user,
)
from tests.loopback import free_port
from tests.replay import ReplayServer
from tests.web.pagecheck import assert_page_hygiene, parse


@pytest.fixture
def arxiv(shared_data: Path) -> Iterator[ReplayServer]:
    server = recorded_arxiv(shared_data)
    yield server
    server.stop()


@pytest.fixture
def fetch_settings(settings: Settings, arxiv: ReplayServer) -> Settings:
    return settings.model_copy(update={"arxiv_api_url": arxiv.url("/api/query"), "submissions_per_day": 2})


@pytest.fixture
def ada(fetch_settings: Settings, papers: sessionmaker[Session], clock: Clock) -> Iterator[TestClient]:
    make_user(papers, "ada")
    with app_client(fetch_settings, clock) as client:
        log_in(client, "ada")
        yield client


def test_a_fetched_paper_is_on_the_site_but_not_on_the_feed(
    ada: TestClient, papers: sessionmaker[Session], arxiv: ReplayServer
) -> None:
    # No age window for fetching: the paper is from 2021.
    response = send_form(ada, "/fetch", f"https://arxiv.org/abs/{SUBMITTED_ID}v1")
    assert response.status_code == 303 and response.headers["location"] == f"/papers/{SUBMITTED_ID}"
    assert [r.param("id_list") for r in arxiv.requests] == [SUBMITTED_ID]
    with papers() as session:
        paper = session.get(Paper, SUBMITTED_ID)
        assert paper is not None and paper.published_at is not None
        assert session.scalars(select(FeedEntry).where(FeedEntry.paper_id == SUBMITTED_ID)).all() == []
        sources = session.scalars(
            select(PaperSource.source).where(PaperSource.paper_id == SUBMITTED_ID)
        ).all()
    assert sources == ["arxiv-api"]
    assert ada.get(f"/papers/{SUBMITTED_ID}").status_code == 200
    assert outcomes(papers, "ada") == [("fetch", SUBMITTED_ID, "fetched")]


def test_a_paper_on_the_site_already_opens_without_asking_arxiv_or_counting(
    ada: TestClient, papers: sessionmaker[Session], arxiv: ReplayServer
) -> None:
    for _ in range(3):
        response = send_form(ada, "/fetch", HF_PAPER)
        assert response.status_code == 303 and response.headers["location"] == f"/papers/{HF_PAPER}"
    assert arxiv.requests == [] and outcomes(papers, "ada") == []


def test_fetches_and_submissions_share_the_daily_limit(
    ada: TestClient, papers: sessionmaker[Session], arxiv: ReplayServer
) -> None:
    missing = send_form(ada, "/fetch", "2104.99999")
    assert missing.status_code == 404
    tree = parse(missing)
    assert_page_hygiene(tree)
    assert "arXiv has no paper 2104.99999" in page_text(missing)
    assert tree.xpath("//form[@action='/fetch']//input[@name='paper']/@value") == ["2104.99999"]
    assert send_form(ada, "/fetch", SUBMITTED_ID).status_code == 303
    refused = send_form(ada, "/submit", "2607.99999")
    assert refused.status_code == 429 and "asked for 2 papers today" in page_text(refused)
    refused = send_form(ada, "/fetch", "2607.99999")
    assert refused.status_code == 429
    assert len(arxiv.requests) == 2


def test_an_unreachable_arxiv_re_renders_the_form_in_plain_words(
    settings: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    make_user(papers, "ada")
    configured = settings.model_copy(update={"arxiv_api_url": f"http://127.0.0.1:{free_port()}/api/query"})
    with app_client(configured, clock) as client:
        log_in(client, "ada")
        response = send_form(client, "/fetch", SUBMITTED_ID)
    assert response.status_code == 503
    assert (
        "arXiv could not be reached just now; the paper was not fetched. Try again in a few minutes."
        in page_text(response)
    )
    assert "ConnectError" not in response.text


def test_fetching_needs_a_confirmed_account_and_the_form_token(
    fetch_settings: Settings, papers: sessionmaker[Session], clock: Clock, arxiv: ReplayServer
) -> None:
    make_user(papers, "ada")
    make_user(papers, "newbie", verified=False)
    with app_client(fetch_settings, clock) as client:
        anonymous = client.post("/fetch", data={"paper": SUBMITTED_ID}, follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
        log_in(client, "ada")
        forged = client.post("/fetch", data={"paper": SUBMITTED_ID, "csrf_token": "x" * 40})
        assert forged.status_code == 403
    with app_client(fetch_settings, clock) as client:
        log_in(client, "newbie")
        token = form_fields(client.get("/fetch").text, "/logout")["csrf_token"]
        unconfirmed = client.post("/fetch", data={"paper": SUBMITTED_ID, "csrf_token": token})
        assert unconfirmed.status_code == 403 and "Confirm your mail address" in page_text(unconfirmed)
    assert arxiv.requests == []
    with papers() as session:
        assert session.get(Paper, SUBMITTED_ID) is None

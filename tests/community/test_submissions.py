"""Submitting papers: fetched from arXiv (a replay server with a recorded answer) when new, taken from
the database when known, never on the feed twice, and at most so many per account and day."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from dailypapers.models import FeedEntry, PaperSource, Submission
from tests.community.support import (
    ATOM_FOR_SUBMISSION,
    HF_PAPER,
    SUBMITTED_ID,
    Clock,
    app_client,
    form_fields,
    log_in,
    make_user,
)
from tests.replay import ReplayServer, Reply, Request
from tests.web.pagecheck import assert_page_hygiene, parse, text_of

EMPTY_ATOM = Path("arxiv/api-atom/arxivpy-id_0000.0000_s0_m100.xml")


@pytest.fixture
def arxiv(shared_data: Path) -> Iterator[ReplayServer]:
    """arXiv's query API, answering the recorded response for 2104.12255 and "no results" otherwise."""
    recorded = (shared_data / ATOM_FOR_SUBMISSION).read_bytes()
    empty = (shared_data / EMPTY_ATOM).read_bytes()
    server = ReplayServer()

    def query(request: Request) -> Reply:
        ids = (request.param("id_list") or "").split(",")
        return Reply(
            body=recorded if ids == [SUBMITTED_ID] else empty,
            headers={"Content-Type": "application/atom+xml"},
        )

    server.routes["/api/query"] = query
    server.start()
    yield server
    server.stop()


@pytest.fixture
def submit_settings(settings: Settings, arxiv: ReplayServer) -> Settings:
    return settings.model_copy(update={"arxiv_api_url": arxiv.url("/api/query"), "submissions_per_day": 2})


@pytest.fixture
def submitter(submit_settings: Settings, papers: sessionmaker[Session], clock: Clock) -> Iterator[TestClient]:
    make_user(papers, "ada")
    with app_client(submit_settings, clock) as client:
        log_in(client, "ada")
        yield client


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    return text_of(parse(response))


def submit(client: TestClient, text: str):  # type: ignore[no-untyped-def]
    fields = form_fields(client.get("/submit").text, "/submit")
    fields["paper"] = text
    return client.post("/submit", data=fields)


def test_a_new_paper_is_fetched_and_appears_on_todays_feed(
    submitter: TestClient, arxiv: ReplayServer, papers: sessionmaker[Session]
) -> None:
    response = submit(submitter, "https://arxiv.org/abs/2104.12255v1")
    assert response.status_code == 200
    tree = parse(response)
    assert_page_hygiene(tree)
    assert "is on today's feed" in text_of(tree.xpath("//h1")[0])
    assert [r.param("id_list") for r in arxiv.requests] == [SUBMITTED_ID]
    with papers() as session:
        entry = session.scalars(select(FeedEntry).where(FeedEntry.paper_id == SUBMITTED_ID)).one()
        sources = session.scalars(
            select(PaperSource.source).where(PaperSource.paper_id == SUBMITTED_ID)
        ).all()
    assert (entry.day.isoformat(), entry.submitted_by, entry.source) == ("2026-08-01", "ada", "submission")
    assert sources == ["submission"]
    home = parse(submitter.get("/"))
    card = home.xpath(f"//li[@class='card'][.//a[@href='/papers/{SUBMITTED_ID}']]")[0]
    assert "Submitted by ada" in text_of(card)
    assert card.xpath(".//a[@href='/u/ada']")
    page = parse(submitter.get(f"/papers/{SUBMITTED_ID}"))
    facts = {
        text_of(d.xpath("dt")[0]): text_of(d.xpath("dd")[0]) for d in page.xpath("//dl[@class='facts']/div")
    }
    assert facts["On the feed"] == "1 Aug 2026, submitted by ada on 1 Aug 2026, 12:00 UTC"
    profile = parse(submitter.get("/u/ada"))
    assert profile.xpath(
        f"//section[@aria-labelledby='submitted-heading']//a[@href='/papers/{SUBMITTED_ID}']"
    )


def test_a_paper_on_the_feed_is_not_added_twice(
    submitter: TestClient,
    submit_settings: Settings,
    papers: sessionmaker[Session],
    clock: Clock,
    arxiv: ReplayServer,
) -> None:
    submit(submitter, SUBMITTED_ID)
    make_user(papers, "bob")
    clock.advance(hours=3)
    with app_client(submit_settings, clock) as bob:
        log_in(bob, "bob")
        response = submit(bob, "arXiv:2104.12255v2")
        assert "on the feed already" in page_text(response)
        assert "submitted by ada on 1 Aug 2026, 12:00 UTC" in page_text(response)
        # A Hugging Face paper says where it came from.
        response = submit(bob, HF_PAPER)
        assert "on the feed of 31 Jul 2026, submitted by Consonnm" in page_text(response)
    assert len(arxiv.requests) == 1
    with papers() as session:
        assert session.scalars(select(Submission.paper_id)).all() == [SUBMITTED_ID]


def test_a_known_paper_needs_no_fetch(
    submitter: TestClient, papers: sessionmaker[Session], arxiv: ReplayServer
) -> None:
    # Take a paper off the feed: it stays in the database.
    with papers.begin() as session:
        session.execute(FeedEntry.__table__.delete().where(FeedEntry.paper_id == HF_PAPER))
    response = submit(submitter, HF_PAPER)
    assert "is on today's feed" in page_text(response)
    assert arxiv.requests == []


def test_unknown_and_malformed_ids(submitter: TestClient, arxiv: ReplayServer) -> None:
    response = submit(submitter, "2104.99999")
    assert response.status_code == 404 and "arXiv has no paper 2104.99999" in page_text(response)
    response = submit(submitter, "not an id")
    assert response.status_code == 400 and "arXiv identifier" in page_text(response)


def test_the_daily_limit(submitter: TestClient, papers: sessionmaker[Session], clock: Clock) -> None:
    with papers.begin() as session:
        session.execute(FeedEntry.__table__.delete().where(FeedEntry.day == FeedEntry.day))
    assert "today's feed" in page_text(submit(submitter, HF_PAPER))
    assert "today's feed" in page_text(submit(submitter, "2607.27958"))
    refused = submit(submitter, "2607.28582")
    assert refused.status_code == 429 and "submitted 2 papers today" in page_text(refused)
    assert int(refused.headers["retry-after"]) == 12 * 3600
    clock.advance(hours=12)
    assert "today's feed" in page_text(submit(submitter, "2607.28582"))


def test_submitting_needs_a_confirmed_account(
    submit_settings: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    make_user(papers, "newbie", verified=False)
    with app_client(submit_settings, clock) as client:
        assert client.get("/submit", follow_redirects=False).headers["location"] == "/login?next=/submit"
        log_in(client, "newbie")
        page = client.get("/submit")
        assert "Confirm your mail address first" in page_text(page)
        token = form_fields(page.text, "/logout")["csrf_token"]
        assert client.post("/submit", data={"csrf_token": token, "paper": SUBMITTED_ID}).status_code == 403

"""Submitting papers: fetched from arXiv (a replay server with a recorded answer) when new, taken from
the database when known, never on the feed twice, and at most so many per account and day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from dailypapers.models import FeedEntry, PaperSource, Submission
from tests.community.submitting import outcomes, page_text, recorded_arxiv, send_form
from tests.community.support import (
    HF_PAPER,
    SUBMITTED_ID,
    Clock,
    app_client,
    form_fields,
    log_in,
    make_token,
    make_user,
)
from tests.replay import ReplayServer
from tests.web.pagecheck import assert_page_hygiene, parse, text_of

OLD_HF_PAPER = "2607.16922"  # on the feed of 2026-07-31; first version 2026-07-18


@pytest.fixture
def arxiv(shared_data: Path) -> Iterator[ReplayServer]:
    server = recorded_arxiv(shared_data)
    yield server
    server.stop()


@pytest.fixture
def submit_settings(settings: Settings, arxiv: ReplayServer) -> Settings:
    # The recorded paper is from April 2021 and the clock says August 2026: these tests of fetching and
    # feeding turn the age window off; the tests of the window below set it.
    return settings.model_copy(
        update={
            "arxiv_api_url": arxiv.url("/api/query"),
            "submissions_per_day": 2,
            "submission_max_age_days": 0,
        }
    )


@pytest.fixture
def submitter(submit_settings: Settings, papers: sessionmaker[Session], clock: Clock) -> Iterator[TestClient]:
    make_user(papers, "ada")
    with app_client(submit_settings, clock) as client:
        log_in(client, "ada")
        yield client


def submit(client: TestClient, text: str):  # type: ignore[no-untyped-def]
    return send_form(client, "/submit", text)


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
    assert refused.status_code == 429 and "asked for 2 papers today" in page_text(refused)
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


# -- every attempt counts ----------------------------------------------------------------------------


def test_ids_arxiv_does_not_have_count_toward_the_daily_limit(
    submitter: TestClient, papers: sessionmaker[Session], arxiv: ReplayServer
) -> None:
    assert submit(submitter, "2104.99998").status_code == 404
    assert submit(submitter, "2104.99999").status_code == 404
    refused = submit(submitter, SUBMITTED_ID)
    assert refused.status_code == 429 and "asked for 2 papers today" in page_text(refused)
    # The refusal came before any look-up: arXiv was asked twice, not three times.
    assert len(arxiv.requests) == 2
    assert outcomes(papers, "ada") == [
        ("submit", "2104.99998", "not_found"),
        ("submit", "2104.99999", "not_found"),
    ]


def test_a_paper_on_the_feed_already_costs_nothing(
    submitter: TestClient, papers: sessionmaker[Session]
) -> None:
    for _ in range(3):
        assert "on the feed already" in page_text(submit(submitter, HF_PAPER))
    assert outcomes(papers, "ada") == []


def test_parallel_attempts_of_one_account_cannot_pass_the_limit(
    submit_settings: Settings, papers: sessionmaker[Session], clock: Clock, arxiv: ReplayServer
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    token = make_token(papers, make_user(papers, "ada"))
    with app_client(submit_settings, clock) as client:

        def one(n: int) -> int:
            answer = client.post(
                "/api/papers/submit",
                json={"id": f"2104.{90000 + n}"},
                headers={"Authorization": f"Bearer {token}"},
            )
            return answer.status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = sorted(pool.map(one, range(8)))
    assert statuses == [404, 404] + [429] * 6
    assert len(outcomes(papers, "ada")) == 2 and len(arxiv.requests) == 2


# -- the age window ----------------------------------------------------------------------------------

FIRST_POSTED = datetime(2021, 4, 20, 16, 7, tzinfo=UTC)  # 2104.12255v1, in the recorded answer


@pytest.mark.parametrize(
    ("days_later", "window", "accepted"),
    [(13, 14, True), (14, 14, True), (15, 14, False), (15, 20, True), (15, 0, True), (400, 0, True)],
)
def test_a_new_paper_is_submitted_only_within_the_window_after_its_first_version(
    submit_settings: Settings,
    papers: sessionmaker[Session],
    days_later: int,
    window: int,
    accepted: bool,
) -> None:
    make_user(papers, "ada", now=FIRST_POSTED)
    clock = Clock(FIRST_POSTED + timedelta(days=days_later))
    configured = submit_settings.model_copy(update={"submission_max_age_days": window})
    with app_client(configured, clock) as client:
        log_in(client, "ada")
        response = submit(client, SUBMITTED_ID)
    with papers() as session:
        on_feed = session.scalars(select(FeedEntry.day).where(FeedEntry.paper_id == SUBMITTED_ID)).all()
    if accepted:
        assert response.status_code == 200 and "is on today's feed" in page_text(response)
        assert on_feed == [clock.now.date()]
    else:
        assert response.status_code == 400
        assert (
            "2104.12255 was first posted on 2021-04-20; papers can be submitted within 14 days of their "
            "first version." in page_text(response)
        )
        assert on_feed == []
        assert outcomes(papers, "ada") == [("submit", SUBMITTED_ID, "too_old")]


@pytest.mark.parametrize(("day", "accepted"), [(date(2026, 8, 1), True), (date(2026, 8, 2), False)])
def test_a_known_paper_is_judged_by_its_stored_first_version(
    submit_settings: Settings, papers: sessionmaker[Session], arxiv: ReplayServer, day: date, accepted: bool
) -> None:
    make_user(papers, "ada")
    with papers.begin() as session:
        session.execute(FeedEntry.__table__.delete().where(FeedEntry.paper_id == OLD_HF_PAPER))
    configured = submit_settings.model_copy(update={"submission_max_age_days": 14})
    with app_client(configured, Clock(datetime.combine(day, time(9), tzinfo=UTC))) as client:
        log_in(client, "ada")
        response = submit(client, OLD_HF_PAPER)
    if accepted:
        assert "is on today's feed" in page_text(response)
    else:
        assert response.status_code == 400
        assert f"{OLD_HF_PAPER} was first posted on 2026-07-18" in page_text(response)
    assert arxiv.requests == []


def test_moderators_follow_the_window_too(
    submit_settings: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    make_user(papers, "mia", role="moderator")
    token = make_token(papers, make_user(papers, "ada"))
    configured = submit_settings.model_copy(update={"submission_max_age_days": 14})
    with app_client(configured, clock) as client:
        log_in(client, "mia")
        refused = submit(client, SUBMITTED_ID)
        assert refused.status_code == 400 and "first posted on 2021-04-20" in page_text(refused)
        api = client.post(
            "/api/papers/submit", json={"id": SUBMITTED_ID}, headers={"Authorization": f"Bearer {token}"}
        )
    assert api.status_code == 422
    assert api.json()["problems"] == [
        "id: 2104.12255 was first posted on 2021-04-20; papers can be submitted within 14 days of their "
        "first version."
    ]
    with papers() as session:
        assert session.scalars(select(FeedEntry).where(FeedEntry.paper_id == SUBMITTED_ID)).all() == []

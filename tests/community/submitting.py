"""Helpers for the tests of submitting and fetching papers: arXiv replayed from a recorded answer, arXiv
that refuses or never answers, the forms as a browser sends them, and the attempts the limit counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.models import User
from tests.community.support import ATOM_FOR_SUBMISSION, SUBMITTED_ID, form_fields
from tests.replay import ReplayServer, Reply, Request
from tests.web.pagecheck import parse, text_of

EMPTY_ATOM = Path("arxiv/api-atom/arxivpy-id_0000.0000_s0_m100.xml")


def recorded_arxiv(shared_data: Path) -> ReplayServer:
    """arXiv's query API, started: the recorded response for 2104.12255 and "no results" otherwise."""
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
    return server


def silent_arxiv(seconds: float) -> ReplayServer:
    """An arXiv that accepts every connection and answers nothing for ``seconds``."""
    server = ReplayServer()
    server.routes["/api/query"] = lambda _request: Reply(body=b"", delay=seconds)
    server.start()
    return server


def page_text(response: Any) -> str:
    return text_of(parse(response))


def send_form(client: TestClient, action: str, text: str, *, page: str | None = None) -> Any:
    """Fill the form posting to ``action`` (read from ``page``, by default ``action`` itself) and send it."""
    fields = form_fields(client.get(page or action).text, action)
    fields["paper"] = text
    return client.post(action, data=fields, follow_redirects=False)


def outcomes(sessions: sessionmaker[Session], username: str) -> list[tuple[str, str, str]]:
    """The account's attempts as (action, paper id, outcome), oldest first."""
    from dailypapers.models import SubmissionAttempt  # imported here so the other helpers work without it

    with sessions() as session:
        rows = session.execute(
            select(SubmissionAttempt.action, SubmissionAttempt.paper_id, SubmissionAttempt.outcome)
            .join(User, User.id == SubmissionAttempt.user_id)
            .where(User.username == username)
            .order_by(SubmissionAttempt.id)
        )
        return [(a, p, o) for a, p, o in rows]

"""The jobs of ``dailypapers run``: fetch new papers from a replayed Hugging Face, then send what is due."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from dailypapers.digest.render import MailRenderer
from dailypapers.models import FeedEntry
from dailypapers.scheduler import ScheduledJobs, build_scheduler
from tests.digest.conftest import Clock, add_subscriber
from tests.digest.smtp import SmtpServer
from tests.replay import ReplayServer, Reply, arxiv_id_list_route

# Saturday 1 August 2026, 09:00 UTC: the Hugging Face papers of Friday 31 July are due for readers at 08:00.
SATURDAY_AUGUST = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def hf(shared_data: Path) -> Iterator[ReplayServer]:
    body = (shared_data / "hf-daily-papers" / "daily_papers-2026-07-31.all-news-ai.json").read_bytes()
    server = ReplayServer()
    server.routes["/hf/api/daily_papers"] = lambda request: Reply(
        body=body if request.param("date") == "2026-07-31" else b"[]"
    )
    server.start()
    yield server
    server.stop()


def test_the_scheduled_jobs_fetch_the_papers_then_mail_them_once(
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    hf: ReplayServer,
) -> None:
    settings = mail_settings.model_copy(
        update={"hf_api_url": hf.url("/hf/api"), "fetch_hf": True, "auto_index": False}
    )
    add_subscriber(sessions, renderer, "ada@example.org", now=SATURDAY_AUGUST)
    jobs = ScheduledJobs(settings, sessions, clock=Clock(SATURDAY_AUGUST))

    jobs.send_digests()  # nothing on the feed yet: no mail, and no empty digest
    assert smtp.sink.messages() == []
    jobs.fetch_papers()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(FeedEntry)) == 5
    jobs.send_digests()
    jobs.send_digests()
    (digest,) = smtp.sink.messages()
    assert digest["Subject"] == "Daily Papers: 5 trending papers of 31 July 2026"


def test_the_scheduler_runs_both_jobs_or_only_digests(
    mail_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    jobs = ScheduledJobs(mail_settings, sessions)
    assert {job.id for job in build_scheduler(jobs, mail_settings).get_jobs()} == {"fetch", "digests"}
    quiet = mail_settings.model_copy(update={"fetch_interval_minutes": 0})
    assert {job.id for job in build_scheduler(jobs, quiet).get_jobs()} == {"digests"}


def test_the_fetch_job_looks_up_the_categories_hugging_face_does_not_give(
    sessions: sessionmaker[Session], mail_settings: Settings, shared_data: Path
) -> None:
    from dailypapers.models import Paper

    items = json.loads(
        (shared_data / "hf-daily-papers" / "daily_papers-2026-07-31.all-news-ai.json").read_text()
    )
    on_arxiv = ["2606.13677", "2606.13591", "1605.08386"]
    for item, arxiv_id in zip(items, on_arxiv, strict=False):
        item["paper"]["id"] = arxiv_id
    body = json.dumps(items).encode()
    server = ReplayServer()
    server.routes["/hf/api/daily_papers"] = lambda request: Reply(
        body=body if request.param("date") == "2026-07-31" else b"[]"
    )
    server.routes["/api/query"] = arxiv_id_list_route(shared_data)
    server.start()
    try:
        settings = mail_settings.model_copy(
            update={
                "hf_api_url": server.url("/hf/api"),
                "arxiv_api_url": server.url("/api/query"),
                "fetch_hf": True,
                "auto_index": False,
                "arxiv_delay_seconds": 0.0,
            }
        )
        ScheduledJobs(settings, sessions, clock=Clock(SATURDAY_AUGUST)).fetch_papers()
    finally:
        server.stop()
    asked = [r for r in server.requests if r.path == "/api/query"]
    assert len(asked) == 1  # one batched call for the day's papers
    with sessions() as session:
        papers = {p.id: p for p in session.scalars(select(Paper))}
    assert papers["2606.13677"].categories == ["cs.RO", "cs.AI", "cs.CV", "cs.LG"]
    assert papers["1605.08386"].primary_category == "math.CO"

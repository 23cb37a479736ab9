"""The clock of ``dailypapers run``: fetch new papers now and then, and send digests when they are due.

Two jobs run in a background thread (APScheduler) beside the web server:

* fetch, every ``fetch_interval_minutes``: the new papers of ``fetch_categories`` from arXiv and the
  Hugging Face daily papers of today and yesterday, through the same clients and ingest pipeline as
  ``dailypapers fetch``; the arXiv categories of the Hugging Face papers (which name none), then the
  search index, then predicted categories for papers arXiv could not give (each failure is logged,
  not fatal);
* digests, every few minutes: compose the digests that have come due in each subscriber's time zone,
  then deliver the outbox, retries included.

Each job runs at most once at a time, and a run missed while the previous one lasted is merged into the
next (``coalesce``). Both jobs are safe to run in several processes at once: composing is idempotent per
(subscriber, period) and sending claims each mail before it goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.config import Settings
from dailypapers.digest.compose import compose_digests
from dailypapers.digest.delivery import OutboxSender
from dailypapers.digest.render import MailRenderer
from dailypapers.digest.tokens import Tokens
from dailypapers.errors import DailyPapersError
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.ingest.records import PaperRecord, new_on_feed
from dailypapers.mail import Mailer, make_mailer
from dailypapers.signing import mail_is_public, secret_key

log = logging.getLogger(__name__)

DIGEST_CHECK_MINUTES = 5
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ScheduledJobs:
    """The work ``dailypapers run`` does on a clock, callable directly (and so testable) without one."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        mailer: Mailer | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.mailer = mailer or make_mailer(settings)
        self.clock = clock
        # Resolved now, so that a weak key stops `run` at start instead of failing every few minutes.
        self.renderer = MailRenderer(settings, Tokens(secret_key(settings, public=mail_is_public(settings))))

    def send_digests(self) -> None:
        now = self.clock()
        composed = compose_digests(self.sessions, self.renderer, now=now)
        if composed.composed:
            log.info("composed %d digest(s)", composed.composed)
        sender = OutboxSender.from_settings(self.settings, self.sessions, self.mailer, clock=self.clock)
        report = sender.deliver()
        sender.forget_old_messages()
        if report.sent or report.retried or report.failed:
            log.info(
                "mail: %d sent, %d to retry, %d failed, %d cancelled",
                report.sent,
                report.retried,
                report.failed,
                report.cancelled,
            )
        for address in report.paused:
            log.warning("subscription of %s paused: its mail keeps being refused", address)
        if report.aborted is not None:
            log.error("mail delivery stopped: %s", report.aborted)

    def fetch_papers(self) -> None:
        """Fetch and ingest new papers, then update the search index; each failure is logged."""
        from dailypapers.ingest.clients import make_clients
        from dailypapers.ingest.pipeline import Ingestor

        today = self.clock().astimezone(UTC).date()
        since = today - timedelta(days=1)
        ingestor = Ingestor(self.sessions, batch_size=self.settings.ingest_batch_size)
        changed = 0
        with make_clients(self.settings, on_wait=log.info) as clients:
            sources: list[tuple[str, Callable[[], Any]]] = []
            for category in self.settings.fetch_categories:
                fetch = partial(clients.arxiv.new_in_category, category, since)
                sources.append((f"arXiv {category}", partial(_new_on_feed, fetch, since)))
            if self.settings.fetch_hf:
                for day in (since, today):
                    sources.append((f"Hugging Face {day}", partial(clients.hf.daily_papers, day)))
            hf_ids: list[str] = []
            for label, records in sources:
                try:
                    fetched = list(records())
                    report = ingestor.ingest_records(fetched, label=label)
                except DailyPapersError as exc:
                    log.error("fetching %s failed: %s", label, exc)
                    continue
                changed += report.new + report.updated
                log.info("fetched %s: %d new, %d updated", label, report.new, report.updated)
                if label.startswith("Hugging Face"):
                    hf_ids += [r.arxiv_id for r in fetched if isinstance(r, PaperRecord) and r.arxiv_id]
            changed += self.look_up_categories(clients, ingestor, hf_ids)
        if changed and self.settings.auto_index:
            self.update_search_index()
            self.predict_categories()

    def look_up_categories(self, clients: Any, ingestor: Any, ids: list[str]) -> int:
        """Ask arXiv for the categories of those of ``ids`` that have none known (Hugging Face names
        none); returns how many papers changed. A failing arXiv is logged: prediction stands in."""
        from dailypapers.ingest.clients import ARXIV_ID_CHUNK

        with self.sessions() as session:
            wanted = [i for i in store.ids_lacking_known_categories(session, ids=ids) if parse_arxiv_id(i)]
        if not wanted:
            return 0
        try:
            records = [
                record
                for start in range(0, len(wanted), ARXIV_ID_CHUNK)
                for record in clients.arxiv.fetch_ids(wanted[start : start + ARXIV_ID_CHUNK])
            ]
            report = ingestor.ingest_records(records, label="arXiv look-up")
        except DailyPapersError as exc:
            log.error("categories not looked up on arXiv: %s", exc)
            return 0
        log.info("arXiv look-up: %d papers asked, %d updated", len(wanted), report.updated)
        return int(report.new + report.updated)

    def predict_categories(self) -> None:
        """Predict the categories that no source gave, from the nearest papers in the fresh index."""
        try:
            from dailypapers.categories import predict_missing

            report = predict_missing(self.settings, self.sessions)
        except (DailyPapersError, ImportError) as exc:
            log.error("categories not predicted: %s", exc)
            return
        if report.predicted:
            log.info("categories predicted for %d papers", report.predicted)

    def update_search_index(self) -> None:
        try:
            from dailypapers.search.runtime import update_index

            update_index(self.settings, self.sessions)
        except (DailyPapersError, ImportError) as exc:
            log.error("search index not updated: %s", exc)


def _new_on_feed(fetch: Callable[[], Any], since: Any) -> Any:
    return new_on_feed(fetch(), since)


def build_scheduler(jobs: ScheduledJobs, settings: Settings) -> Any:
    """A started-on-demand APScheduler running ``jobs`` in a background thread."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler = BackgroundScheduler(timezone=UTC)
    start = datetime.now(UTC)
    options: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    if settings.fetch_interval_minutes > 0 and (settings.fetch_categories or settings.fetch_hf):
        scheduler.add_job(
            jobs.fetch_papers,
            IntervalTrigger(minutes=settings.fetch_interval_minutes),
            id="fetch",
            name="fetch new papers",
            next_run_time=start,
            **options,
        )
    scheduler.add_job(
        jobs.send_digests,
        IntervalTrigger(minutes=DIGEST_CHECK_MINUTES),
        id="digests",
        name="send due digests",
        next_run_time=start + timedelta(seconds=30),
        **options,
    )
    return scheduler


__all__ = ["DIGEST_CHECK_MINUTES", "ScheduledJobs", "build_scheduler"]

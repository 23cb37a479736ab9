"""What composing stores and reports: the digests planned, the days each covers, previews and races.

Real papers (the demo feed of 11 and 12 June 2026), a real database and the real renderer; the clock is
the ``now`` each call is given.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.config import Settings
from dailypapers.digest.compose import BATCH_SIZE, PlannedDigest, compose_digests, compose_one
from dailypapers.digest.periods import Period, daily_period
from dailypapers.digest.render import MailRenderer, Recipient, RenderedMail
from dailypapers.digest.selection import Chosen
from dailypapers.digest.subscribers import subscribe, validate_subscription
from dailypapers.digest.tokens import Tokens
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import FeedRecord, PaperRecord, Source
from dailypapers.models import DigestPaper, OutboxMessage, Paper, Subscription
from tests.digest.conftest import FRIDAY, SATURDAY, SECRET, add_subscriber

THURSDAY = date(2026, 6, 11)
MONDAY_MORNING = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
# The three best papers of 12 June by trending score (see test_selection.py).
FRIDAY_TOP = ["2606.13681", "2606.13392", "2606.08063"]
COMPOSE_LOG = "dailypapers.digest.compose"


def subscription(sessions: sessionmaker[Session], email: str) -> Subscription:
    with sessions() as session:
        found = store.subscription_by_email(session, email=email)
        assert found is not None
        return found


def outbox(sessions: sessionmaker[Session], email: str) -> list[OutboxMessage]:
    sid = subscription(sessions, email).id
    with sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.subscription_id == sid, OutboxMessage.kind == "digest")
                .order_by(OutboxMessage.period)
            )
        )


def sent_papers(sessions: sessionmaker[Session], email: str) -> list[str]:
    sid = subscription(sessions, email).id
    with sessions() as session:
        return sorted(session.scalars(select(DigestPaper.paper_id).where(DigestPaper.subscription_id == sid)))


def titles(sessions: sessionmaker[Session], ids: list[str]) -> list[str]:
    with sessions() as session:
        rows = session.execute(select(Paper.id, Paper.title).where(Paper.id.in_(ids)))
        by_id = {paper_id: title for paper_id, title in rows}
    return [by_id[i] for i in ids]


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def test_a_dry_run_plans_every_digest_and_stores_nothing(
    papers: sessionmaker[Session], renderer: MailRenderer
) -> None:
    ada = add_subscriber(papers, renderer, "ada@example.org", max_papers=3)
    wes = add_subscriber(papers, renderer, "wes@example.org", frequency="weekly", max_papers=2)
    report = compose_digests(papers, renderer, now=SATURDAY, day=FRIDAY, dry_run=True)
    assert (report.subscribers, report.composed, report.already_done, report.nothing_new) == (2, 2, 0, 0)
    weekly_top = FRIDAY_TOP[:2]
    assert report.planned == [
        PlannedDigest(
            subscription_id=wes.id,
            email="wes@example.org",
            period="2026-W24",
            first=date(2026, 6, 8),
            last=date(2026, 6, 14),
            paper_ids=weekly_top,
            titles=titles(papers, weekly_top),
            more=35 - 2,
        ),
        PlannedDigest(
            subscription_id=ada.id,
            email="ada@example.org",
            period="2026-06-12",
            first=FRIDAY,
            last=FRIDAY,
            paper_ids=FRIDAY_TOP,
            titles=titles(papers, FRIDAY_TOP),
            more=30 - 3,
        ),
    ]
    assert outbox(papers, "ada@example.org") == outbox(papers, "wes@example.org") == []


def test_a_stored_digest_records_its_days_its_papers_and_when_it_was_composed(
    papers: sessionmaker[Session], renderer: MailRenderer
) -> None:
    add_subscriber(papers, renderer, "ada@example.org", max_papers=3)
    report = compose_digests(papers, renderer, now=SATURDAY)
    assert report.composed == 1
    (mail,) = outbox(papers, "ada@example.org")
    assert (mail.period, mail.covers_from, mail.covers_to) == ("2026-06-12", FRIDAY, FRIDAY)
    assert (mail.status, mail.paper_count) == ("pending", 3)
    assert as_utc(mail.created_at) == as_utc(mail.next_attempt_at) == SATURDAY
    assert sent_papers(papers, "ada@example.org") == sorted(FRIDAY_TOP)


def test_a_daily_digest_after_days_without_one_catches_up_on_them(
    papers: sessionmaker[Session], renderer: MailRenderer
) -> None:
    readers = ("ada@example.org", "bea@example.org")
    for email in readers:
        add_subscriber(papers, renderer, email, max_papers=50)
    compose_digests(papers, renderer, now=SATURDAY, day=THURSDAY)
    # No digest on Friday or over the weekend: Monday's covers Friday to Sunday.
    report = compose_digests(papers, renderer, now=MONDAY_MORNING)
    assert (report.composed, report.already_done) == (2, 0)
    for email in readers:
        thursday, monday = outbox(papers, email)
        assert (thursday.covers_from, thursday.covers_to, thursday.paper_count) == (THURSDAY, THURSDAY, 5)
        assert (monday.period, monday.covers_from, monday.covers_to) == (
            "2026-06-14",
            FRIDAY,
            date(2026, 6, 14),
        )
        assert monday.paper_count == 30
    # Friday's digest is in Monday's: asked for by day, it is done already, as is Monday's itself.
    by_day = compose_digests(papers, renderer, now=MONDAY_MORNING, day=FRIDAY)
    again = compose_digests(papers, renderer, now=MONDAY_MORNING)
    for rerun in (by_day, again):
        assert (rerun.subscribers, rerun.composed, rerun.already_done, rerun.nothing_new) == (2, 0, 2, 0)


def test_progress_counts_the_subscribers_done(papers: sessionmaker[Session], renderer: MailRenderer) -> None:
    add_subscriber(papers, renderer, "rob@example.org", categories="cs.RO")
    add_subscriber(papers, renderer, "ada@example.org")
    add_subscriber(papers, renderer, "rex@example.org", categories="cs.RO")
    add_subscriber(papers, renderer, "wes@example.org", frequency="weekly")
    calls: list[tuple[int, int]] = []
    report = compose_digests(
        papers, renderer, now=SATURDAY, day=FRIDAY, progress=lambda done, total: calls.append((done, total))
    )
    # Nobody on Friday's feed is in cs.RO: no mail for Rob or Rex, and Ada's still comes after Rob's.
    assert (report.composed, report.nothing_new) == (2, 2)
    assert [m.period for m in outbox(papers, "ada@example.org")] == ["2026-06-12"]
    # One call at the end of each group of subscribers who share their days (the week, then Friday).
    assert calls == [(1, 4), (4, 4)]


class TimedRenderer(MailRenderer):
    """The real renderer, timing each digest it renders."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, Tokens(SECRET))
        self.seconds: list[float] = []

    def digest(
        self, recipient: Recipient, period: Period, chosen: Chosen, *, now: datetime, preview: bool = False
    ) -> RenderedMail:
        started = time.perf_counter()
        try:
            return super().digest(recipient, period, chosen, now=now, preview=preview)
        finally:
            self.seconds.append(time.perf_counter() - started)


def test_a_run_for_many_subscribers_stores_every_batch_and_reports_as_it_goes(
    papers: sessionmaker[Session], renderer: MailRenderer, mail_settings: Settings
) -> None:
    readers = BATCH_SIZE + 1
    with papers.begin() as session:
        for n in range(readers):
            values = validate_subscription(email=f"reader{n}@example.org", max_papers=3)
            subscribe(session, renderer, values=values, now=SATURDAY, confirmed=True, source="cli")
    plan = compose_digests(papers, renderer, now=SATURDAY, day=FRIDAY, dry_run=True)
    assert (plan.composed, len(plan.planned)) == (readers, readers)
    calls: list[tuple[int, int]] = []
    timed = TimedRenderer(mail_settings)
    started = time.perf_counter()
    report = compose_digests(
        papers, timed, now=SATURDAY, day=FRIDAY, progress=lambda done, total: calls.append((done, total))
    )
    elapsed = time.perf_counter() - started
    assert (report.subscribers, report.composed, report.already_done) == (readers, readers, 0)
    assert calls == [(done, readers) for done in (100, 200, 300, 400, 500, readers)]
    with papers() as session:
        stored = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest")).all()
        assert len(stored) == readers
        assert {as_utc(mail.created_at) for mail in stored} == {SATURDAY}
        assert session.scalar(select(func.count()).select_from(DigestPaper)) == 3 * readers
    # The time spent rendering is the sum of every render's, and part of the run's.
    assert len(timed.seconds) == readers
    assert sum(timed.seconds) <= report.render_seconds <= elapsed


def test_a_preview_shows_the_next_digest_without_storing_it(
    papers: sessionmaker[Session], renderer: MailRenderer
) -> None:
    add_subscriber(papers, renderer, "ada@example.org", max_papers=3)
    compose_digests(papers, renderer, now=SATURDAY, day=THURSDAY)
    ada = subscription(papers, "ada@example.org")
    got_thursday = sent_papers(papers, "ada@example.org")
    assert len(got_thursday) == 3

    # The next digest covers the days since the last one: Friday's papers, in Saturday's preview.
    chosen, rendered, candidates = compose_one(
        papers, renderer, subscription=ada, period=daily_period(SATURDAY.date()), now=SATURDAY
    )
    assert [p.card.id for p in chosen.picks] == FRIDAY_TOP and len(candidates) == 30
    assert rendered is not None
    message = message_from_bytes(rendered.message, policy=policy.default)
    assert parsedate_to_datetime(str(message["Date"])) == SATURDAY

    # A period already sent shows what is left of it for this reader.
    chosen, rendered, _ = compose_one(
        papers, renderer, subscription=ada, period=daily_period(THURSDAY), now=SATURDAY
    )
    left = [p.card.id for p in chosen.picks]
    assert len(left) == 2 and not set(left) & set(got_thursday)
    assert len(outbox(papers, "ada@example.org")) == 1
    assert sent_papers(papers, "ada@example.org") == got_thursday


def test_a_preview_reads_every_paper_of_the_period_and_all_of_each_abstract(
    papers: sessionmaker[Session], renderer: MailRenderer
) -> None:
    # Friday gets 25 more papers without votes; the last of them mentions zebrafish at the very end.
    records = [
        PaperRecord(
            source=Source.HUGGINGFACE,
            arxiv_id=f"2606.999{n:02d}",
            title=f"Unvoted paper {n}",
            abstract="An abstract about nothing in particular. " * 20 + ("Zebrafish." if n == 24 else ""),
            feed=FeedRecord(day=FRIDAY),
        )
        for n in range(25)
    ]
    Ingestor(papers, now=lambda: SATURDAY).ingest_records(records, label="more papers")
    add_subscriber(papers, renderer, "fish@example.org", keywords="zebrafish")
    fish = subscription(papers, "fish@example.org")
    chosen, rendered, candidates = compose_one(
        papers, renderer, subscription=fish, period=daily_period(FRIDAY), now=SATURDAY
    )
    assert len(candidates) == 55
    assert [p.card.id for p in chosen.picks] == ["2606.99924"] and rendered is not None
    report = compose_digests(papers, renderer, now=SATURDAY)
    assert report.planned[0].paper_ids == ["2606.99924"]


class RacingRenderer(MailRenderer):
    """The real renderer, which lets another composer run while it renders its first digest."""

    def __init__(self, settings: Settings, race: Callable[[], Any]) -> None:
        super().__init__(settings, Tokens(SECRET))
        self._race: Callable[[], Any] | None = race

    def digest(
        self, recipient: Recipient, period: Period, chosen: Chosen, *, now: datetime, preview: bool = False
    ) -> RenderedMail:
        race, self._race = self._race, None
        if race is not None:
            race()
        return super().digest(recipient, period, chosen, now=now, preview=preview)


def test_a_digest_raced_by_another_composer_is_dropped_and_the_others_stored(
    papers: sessionmaker[Session],
    renderer: MailRenderer,
    mail_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for name in ("ada", "bob", "cyd", "dan"):
        add_subscriber(papers, renderer, f"{name}@example.org", max_papers=3)
    compose_digests(papers, renderer, now=SATURDAY, day=THURSDAY, email="ada@example.org")
    compose_digests(papers, renderer, now=SATURDAY, email="dan@example.org")

    # While this composer works on Saturday's digests, a later one sends Ada Friday's papers first
    # (Monday's digest of hers covers Friday to Sunday).
    def later_composer() -> None:
        compose_digests(papers, renderer, now=MONDAY_MORNING, email="ada@example.org")

    caplog.set_level(logging.WARNING, logger=COMPOSE_LOG)
    report = compose_digests(papers, RacingRenderer(mail_settings, later_composer), now=SATURDAY)
    assert (report.subscribers, report.composed, report.already_done, report.nothing_new) == (4, 2, 2, 0)
    ada = subscription(papers, "ada@example.org")
    assert [r.getMessage() for r in caplog.records if r.name == COMPOSE_LOG] == [
        f"digest 2026-06-12 for subscription {ada.id} raced another composer"
    ]
    assert [m.period for m in outbox(papers, "ada@example.org")] == ["2026-06-11", "2026-06-14"]
    for name in ("bob", "cyd", "dan"):
        assert [m.period for m in outbox(papers, f"{name}@example.org")] == ["2026-06-12"]
        assert sent_papers(papers, f"{name}@example.org") == sorted(FRIDAY_TOP)
    ada_papers = sent_papers(papers, "ada@example.org")
    assert len(ada_papers) == len(set(ada_papers)) == 6


def test_a_reader_whose_last_digest_is_over_a_week_old_still_gets_the_week_of_catch_up(
    papers: sessionmaker[Session], renderer: MailRenderer
) -> None:
    add_subscriber(papers, renderer, "ada@example.org", max_papers=50)
    sid = subscription(papers, "ada@example.org").id
    sent = datetime(2026, 6, 5, 9, 0, tzinfo=UTC)
    with papers() as session:
        session.add(
            OutboxMessage(
                subscription_id=sid,
                kind="digest",
                period="2026-06-04",
                status="sent",
                message_id="<old-digest@example.org>",
                recipient="ada@example.org",
                message=b"",
                covers_from=date(2026, 6, 4),
                covers_to=date(2026, 6, 4),
                next_attempt_at=sent,
                created_at=sent,
                sent_at=sent,
            )
        )
        session.commit()
    # Nine days later: the digest of 13 June reaches back a week, to the papers of 11 and 12 June.
    report = compose_digests(
        papers, renderer, now=datetime(2026, 6, 14, 9, 0, tzinfo=UTC), day=date(2026, 6, 13)
    )
    assert report.composed == 1
    latest = outbox(papers, "ada@example.org")[-1]
    assert (latest.covers_from, latest.covers_to) == (date(2026, 6, 7), date(2026, 6, 13))
    assert latest.paper_count == 35  # Thursday 11 June (5) and Friday 12 June (30)

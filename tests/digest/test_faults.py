"""Delivery under faults: dropped connections, 421, slow servers, refusals, crashes, two senders at once.

"Exactly one copy" is checked on what the SMTP server kept: after the retries, every subscriber has one
digest, and it is the outbox's (same Message-ID).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.config import Settings
from dailypapers.digest.compose import compose_digests
from dailypapers.digest.render import MailRenderer
from dailypapers.models import OutboxMessage, Subscription
from tests.digest.conftest import FRIDAY, Clock, add_subscriber, make_sender
from tests.digest.smtp import SmtpServer
from tests.loopback import free_port

SUBSCRIBERS = 8


def compose(
    papers: sessionmaker[Session], renderer: MailRenderer, clock: Clock, count: int = SUBSCRIBERS
) -> None:
    for n in range(count):
        add_subscriber(papers, renderer, f"reader{n}@example.org", max_papers=3)
    report = compose_digests(papers, renderer, now=clock.now, day=FRIDAY)
    assert report.composed == count


def copies(smtp: SmtpServer) -> Counter[str]:
    return Counter(rcpt for item in smtp.sink.received for rcpt in item.rcpt_tos)


def outbox(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def assert_exactly_one_copy_each(
    smtp: SmtpServer, sessions: sessionmaker[Session], count: int = SUBSCRIBERS
) -> None:
    assert copies(smtp) == Counter({f"reader{n}@example.org": 1 for n in range(count)})
    kept = {m["To"].addresses[0].addr_spec: m["Message-ID"] for m in smtp.sink.messages()}
    rows = outbox(sessions)
    assert {row.recipient: row.message_id for row in rows} == kept
    assert {row.status for row in rows} == {"sent"}


def test_dropped_connections_halfway_through_a_batch_are_retried_without_duplicates(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    clock: Clock,
) -> None:
    compose(papers, renderer, clock)
    # The 3rd message is lost after its data was sent (the server never answers), the 6th at MAIL.
    smtp.sink.faults = {("data", 2): "drop", ("mail", 5): "drop"}
    sender = make_sender(mail_settings, papers, clock)

    first = sender.deliver()
    assert (first.sent, first.retried) == (SUBSCRIBERS - 2, 2)
    assert first.aborted is None  # a new connection was opened for the rest of the batch
    assert sender.deliver().sent == 0  # not due yet: the retry waits

    clock.advance(minutes=1)
    assert sender.deliver().sent == 2
    assert_exactly_one_copy_each(smtp, papers)
    assert max(row.attempts for row in outbox(papers)) == 2


def test_421_replies_are_retried_later_without_duplicates(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    clock: Clock,
) -> None:
    compose(papers, renderer, clock)
    smtp.sink.faults = {
        ("mail", 1): "421",
        ("data", 3): "421",
        ("rcpt", 4): ("4xx", "452 4.2.2 mailbox full"),
    }
    sender = make_sender(mail_settings, papers, clock)
    first = sender.deliver()
    assert first.retried == 3 and first.failed == 0
    assert any("421" in problem for problem in first.problems)
    clock.advance(minutes=1)
    assert sender.deliver().sent == 3
    assert_exactly_one_copy_each(smtp, papers)


def test_a_slow_server_gets_exactly_one_copy(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    clock: Clock,
) -> None:
    compose(papers, renderer, clock)
    settings = mail_settings.model_copy(update={"smtp_timeout_seconds": 0.5})
    # A reply to a whole message that takes 1.5 s is waited for (RFC 5321 allows 10 minutes); a reply to
    # MAIL that takes as long times out, safely, since the message was not offered yet.
    smtp.sink.faults = {("data", 1): ("slow", 1.5), ("mail", 4): ("slow", 1.5)}
    sender = make_sender(settings, papers, clock)
    first = sender.deliver()
    assert (first.sent, first.retried) == (SUBSCRIBERS - 1, 1)
    clock.advance(minutes=1)
    assert sender.deliver().sent == 1
    assert_exactly_one_copy_each(smtp, papers)


def test_losing_the_reply_to_an_accepted_mail_is_the_documented_duplicate_window(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    clock: Clock,
) -> None:
    """The server kept the mail but its reply never came: the retry sends it again, with the same Message-ID.

    This is the at-least-once window that no client can close (the crash of a sender between the
    server's 250 and its commit is the same case); the sender narrows it and says so.
    """
    compose(papers, renderer, clock, count=1)
    smtp.sink.faults = {("data", 0): "keep-and-drop"}
    sender = make_sender(mail_settings, papers, clock)
    first = sender.deliver()
    assert first.retried == 1 and "may have accepted" in first.problems[0]
    clock.advance(minutes=1)
    assert sender.deliver().sent == 1
    ids = [m["Message-ID"] for m in smtp.sink.messages()]
    assert len(ids) == 2 and len(set(ids)) == 1  # receivers can drop the copy by its Message-ID


def test_permanent_refusals_fail_the_mail_and_pause_the_subscription(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    clock: Clock,
) -> None:
    add_subscriber(papers, renderer, "gone@example.org")
    add_subscriber(papers, renderer, "fine@example.org")
    smtp.sink.refuse = {"gone@example.org"}
    settings = mail_settings.model_copy(update={"digest_hard_bounce_limit": 2})
    sender = make_sender(settings, papers, clock)
    for day in ("2026-06-11", "2026-06-12"):
        compose_digests(papers, renderer, now=clock.now, day=date.fromisoformat(day))
        report = sender.deliver()
        assert report.failed == 1 and report.sent == 1
    assert report.paused == ["gone@example.org"]
    with papers() as session:
        statuses = dict(session.execute(select(Subscription.email, Subscription.status)).all())
    assert statuses == {"gone@example.org": "paused", "fine@example.org": "active"}
    assert {r.status for r in outbox(papers) if r.recipient == "gone@example.org"} == {"failed"}
    # A paused subscription gets no new digests.
    later = compose_digests(papers, renderer, now=clock.now, day=FRIDAY.replace(month=7, day=31))
    assert later.subscribers == 1


def test_a_crashed_senders_mail_is_sent_after_its_lease_and_not_before(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    clock: Clock,
) -> None:
    compose(papers, renderer, clock)
    first_id = outbox(papers)[0].id
    with papers() as session:  # a sender claims a mail, then dies before sending it
        assert store.claim_mail(session, outbox_id=first_id, now=clock.now, lease_seconds=1800) is not None
        session.commit()
    sender = make_sender(mail_settings, papers, clock)
    assert sender.deliver().sent == SUBSCRIBERS - 1
    clock.advance(minutes=29)
    assert sender.deliver().sent == 0  # still leased to the dead sender
    clock.advance(minutes=2)
    assert sender.deliver().sent == 1
    assert_exactly_one_copy_each(smtp, papers)


def test_two_senders_at_once_never_send_the_same_mail(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    clock: Clock,
) -> None:
    compose(papers, renderer, clock, count=16)
    smtp.sink.faults = {("data", n): ("slow", 0.02) for n in range(16)}
    reports = []

    def work() -> None:
        reports.append(make_sender(mail_settings, papers, clock).deliver())

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r.sent for r in reports) == 16
    assert_exactly_one_copy_each(smtp, papers, count=16)


def test_an_unreachable_server_stops_the_run_without_spending_tries(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    clock: Clock,
) -> None:
    compose(papers, renderer, clock, count=3)
    nowhere = mail_settings.model_copy(update={"smtp_port": free_port()})
    report = make_sender(nowhere, papers, clock).deliver()
    assert report.aborted is not None and report.aborted.stage == "connect"
    assert report.sent == 0
    assert [(r.status, r.attempts) for r in outbox(papers)] == [("pending", 0)] * 3
    clock.advance(minutes=1)
    assert make_sender(mail_settings, papers, clock).deliver().sent == 3


def test_unsubscribing_before_delivery_cancels_the_mail(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    clock: Clock,
) -> None:
    compose(papers, renderer, clock, count=2)
    with papers.begin() as session:
        leaving = store.subscription_by_email(session, email="reader0@example.org")
        assert leaving is not None
        store.unsubscribe(session, subscription=leaving, now=clock.now)
    report = make_sender(mail_settings, papers, clock).deliver()
    assert report.sent == 1
    assert set(copies(smtp)) == {"reader1@example.org"}


def test_old_message_bodies_are_dropped_but_the_rows_keep_digests_from_repeating(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    renderer: MailRenderer,
    smtp: SmtpServer,
    clock: Clock,
) -> None:
    compose(papers, renderer, clock, count=2)
    sender = make_sender(mail_settings, papers, clock)
    assert sender.deliver().sent == 2
    assert sender.forget_old_messages() == 0  # too recent
    clock.advance(days=15)
    assert make_sender(mail_settings, papers, clock).forget_old_messages() == 2
    assert {(row.status, row.message) for row in outbox(papers)} == {("sent", b"")}
    assert compose_digests(papers, renderer, now=clock.now, day=FRIDAY).composed == 0

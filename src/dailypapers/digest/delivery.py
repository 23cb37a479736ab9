"""Delivering the outbox: each mail is claimed, sent, and marked sent the moment the server accepts it.

For each due mail the sender

1. claims it with a conditional update (pending and due, or sending with an expired lease → sending)
   and commits, so no other sender can take it while this one works (mails are claimed fifty at a
   time, and one whose claim is half-way to the end of its lease is released instead of sent, so a
   send always ends before the lease does);
2. hands the stored bytes, with their fixed ``Message-ID``, to the mail server;
3. marks it sent in a transaction of its own right after the server's ``250``, or records the failure.

Failures are sorted by what they mean for the mail:

* the session could not be opened (server down, TLS or login refused) or the server refused our sender
  address: nothing was offered, so the mail goes back to pending without counting a try, and the run
  stops, since every other mail would fail the same way;
* a temporary refusal (4xx), a dropped connection or a timeout: the mail is tried again later, after
  1, 2, 4... minutes (at most 6 hours), up to ``digest_max_attempts`` tries;
* a permanent refusal (5xx) of the recipient or the message: the mail is given up, and a subscription
  refused ``digest_hard_bounce_limit`` times in a row is paused.

The one case that can produce a second copy is a server that accepted the mail while we could not record
it: the sender died between the ``250`` and the commit, or the connection broke while we waited for the
reply. The mail is then sent again later with the same ``Message-ID``. Step 3 keeps that window as short
as one small write, and the final reply is awaited for 10 minutes (see :mod:`dailypapers.mail`) so that a
slow server does not open it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.config import Settings
from dailypapers.errors import MailError
from dailypapers.mail import MailConnection, Mailer, envelope_address

log = logging.getLogger(__name__)

KEEP_SENT_MESSAGES = timedelta(days=14)
"""How long the body of a settled mail is kept (for looking into problems) before it is dropped."""
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
_PAGE = 500
CLAIM_BATCH = 50
Clock = Callable[[], datetime]
Progress = Callable[[int, int], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


def mail_not_tried() -> str:
    return "released unsent: the run stopped first"


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 1, 2, 4, 8... minutes, at most 6 hours."""
    exponent = max(0, min(attempts - 1, 20))
    return min(FIRST_RETRY * (1 << exponent), LONGEST_RETRY)


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    skipped: int = 0
    """Mails another sender claimed first."""
    paused: list[str] = field(default_factory=list)
    lost_claims: int = 0
    """Mails sent after this sender's claim had expired and been taken over (possible duplicates)."""
    problems: list[str] = field(default_factory=list)
    aborted: MailError | None = None


class OutboxSender:
    """Sends due outbox mails through a :class:`~dailypapers.mail.Mailer`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        mailer: Mailer,
        *,
        sender: str,
        lease_seconds: float = 1800.0,
        max_attempts: int = 10,
        hard_bounce_limit: int = 3,
        clock: Clock = utc_now,
    ) -> None:
        self.sessions = sessions
        self.mailer = mailer
        self.sender = sender
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.hard_bounce_limit = hard_bounce_limit
        self.clock = clock

    @classmethod
    def from_settings(
        cls, settings: Settings, sessions: sessionmaker[Session], mailer: Mailer, **kwargs: object
    ) -> OutboxSender:
        return cls(
            sessions,
            mailer,
            sender=envelope_address(settings.mail_from),
            lease_seconds=settings.outbox_lease_seconds,
            max_attempts=settings.digest_max_attempts,
            hard_bounce_limit=settings.digest_hard_bounce_limit,
            **kwargs,  # type: ignore[arg-type]
        )

    def deliver(
        self,
        *,
        only: Sequence[int] | None = None,
        recipient: str | None = None,
        progress: Progress | None = None,
    ) -> DeliveryReport:
        """Send every mail due now (or only the given outbox ids, or only those to ``recipient``)."""
        report = DeliveryReport()
        total = self._count_due(only, recipient)
        done = 0
        connection: MailConnection | None = None
        after_id = 0
        # One session for the run, committed after every write: each claim and each "sent" is its own
        # short transaction, without the cost of a new session per mail.
        session = self.sessions()
        try:
            while report.aborted is None:
                ids = store.due_outbox_ids(
                    session,
                    now=self.clock(),
                    lease_seconds=self.lease_seconds,
                    limit=_PAGE,
                    only=only,
                    recipient=recipient,
                    after_id=after_id,
                )
                session.commit()
                if not ids:
                    break
                after_id = ids[-1]
                for start in range(0, len(ids), CLAIM_BATCH):
                    chunk = ids[start : start + CLAIM_BATCH]
                    claimed = store.claim_mails(
                        session, outbox_ids=chunk, now=self.clock(), lease_seconds=self.lease_seconds
                    )
                    session.commit()
                    report.skipped += len(chunk) - len(claimed)
                    for position, mail in enumerate(claimed):
                        if report.aborted is not None or self._claim_too_old(mail):
                            self._release(session, claimed[position:])
                            break
                        connection = self._deliver_one(session, mail, connection, report)
                        done += 1
                        if progress is not None:
                            progress(done, max(total, done))
                    if report.aborted is not None:
                        break
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if connection is not None:
                connection.close()
        return report

    def forget_old_messages(self) -> int:
        """Drop the bodies of mails settled more than :data:`KEEP_SENT_MESSAGES` ago; the rows stay."""
        with self.sessions.begin() as session:
            return store.forget_old_messages(session, before=self.clock() - KEEP_SENT_MESSAGES)

    def _claim_too_old(self, mail: store.ClaimedMail) -> bool:
        """A mail whose claim is half-way to its lease is released, not sent: sending takes time, and it
        must be over before the lease ends and another sender may take the mail."""
        return (self.clock() - mail.claimed_at).total_seconds() > self.lease_seconds / 2

    def _release(self, session: Session, mails: Sequence[store.ClaimedMail]) -> None:
        for mail in mails:
            store.mark_released(session, claimed=mail, error=mail_not_tried(), retry_at=self.clock())
        session.commit()

    def _count_due(self, only: Sequence[int] | None, recipient: str | None) -> int:
        with self.sessions() as session:
            return len(
                store.due_outbox_ids(
                    session,
                    now=self.clock(),
                    lease_seconds=self.lease_seconds,
                    limit=1_000_000,
                    only=only,
                    recipient=recipient,
                )
            )

    def _deliver_one(
        self,
        session: Session,
        claimed: store.ClaimedMail,
        connection: MailConnection | None,
        report: DeliveryReport,
    ) -> MailConnection | None:
        if claimed.subscription_status not in store.DELIVERABLE_STATUS.get(claimed.kind, ()):
            store.mark_cancelled(
                session, claimed=claimed, reason=f"subscription is {claimed.subscription_status}"
            )
            session.commit()
            report.cancelled += 1
            return connection
        try:
            if connection is None:
                connection = self.mailer.connect()
            connection.send(claimed.message, sender=self.sender, recipients=[claimed.recipient])
        except MailError as exc:
            if connection is not None and getattr(connection, "broken", False):
                connection = None
            self._failed(session, claimed, exc, report)
            return connection
        # Accepted: record it now, in its own transaction; this write is the whole duplicate window.
        recorded = store.mark_sent(session, claimed=claimed, now=self.clock())
        if claimed.hard_bounces:  # refusals count "in a row": an accepted mail ends the row
            store.clear_hard_bounces(session, subscription_id=claimed.subscription_id)
        session.commit()
        report.sent += 1
        if not recorded:
            report.lost_claims += 1
            log.warning(
                "mail %s was sent after its claim expired; another sender may send it too", claimed.id
            )
        return connection

    def _failed(
        self, session: Session, claimed: store.ClaimedMail, error: MailError, report: DeliveryReport
    ) -> None:
        now = self.clock()
        message = str(error)
        report.problems.append(f"{claimed.recipient}: {message}")
        never_offered = error.stage in {"connect", "auth"} or (error.stage == "sender" and error.permanent)
        if never_offered:
            store.mark_released(
                session, claimed=claimed, error=message, retry_at=now + retry_delay(claimed.attempts)
            )
            report.retried += 1
            report.aborted = error
        elif error.permanent:
            store.mark_failed(session, claimed=claimed, error=message)
            report.failed += 1
            if store.record_hard_bounce(
                session,
                subscription_id=claimed.subscription_id,
                error=message,
                limit=self.hard_bounce_limit,
                now=now,
            ):
                report.paused.append(claimed.recipient)
        elif claimed.attempts >= self.max_attempts:
            store.mark_failed(
                session, claimed=claimed, error=f"gave up after {claimed.attempts} tries: {message}"
            )
            report.failed += 1
        else:
            store.mark_retry(
                session, claimed=claimed, error=message, retry_at=now + retry_delay(claimed.attempts)
            )
            report.retried += 1
        session.commit()
        log.warning("mail %s to %s not sent: %s", claimed.id, claimed.recipient, message)


__all__ = ["DeliveryReport", "OutboxSender", "retry_delay", "utc_now"]

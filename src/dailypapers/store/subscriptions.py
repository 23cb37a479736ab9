"""Queries about subscriptions, the mail outbox, and the papers put in each subscriber's digests.

The outbox state machine lives in the conditional updates below. Every transition names the state it
leaves in its ``WHERE`` clause, so it happens at most once whatever runs concurrently, on SQLite (one
writer at a time) and on PostgreSQL (a concurrent ``UPDATE`` of the same row waits, then re-checks the
``WHERE`` clause against the committed row and matches nothing):

* claim: pending and due, or sending with an expired lease → sending, with a fresh ``claim_token``;
* sent / retry / failed / cancelled: only by the holder of that ``claim_token``.

A sender that lost its claim (it stalled past the lease and another took over) finds that its update
matched no row, and knows.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from dailypapers.db import chunked, upsert_insert
from dailypapers.models import DigestPaper, OutboxMessage, Subscription

SUBSCRIPTIONS = cast(Table, Subscription.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)
DIGEST_PAPERS = cast(Table, DigestPaper.__table__)

# Which subscription status each kind of mail still goes out in.
DELIVERABLE_STATUS = {"digest": ("active",), "confirm": ("pending",), "manage": ("active", "paused")}


def new_token_key() -> str:
    return secrets.token_urlsafe(18)[:24]


# --------------------------------------------------------------------------------------------------
# Subscriptions
# --------------------------------------------------------------------------------------------------


def create_subscription(
    session: Session, *, values: dict[str, Any], status: str, now: datetime
) -> Subscription:
    """A new subscription from validated ``values`` (email, name, preferences, source...)."""
    subscription = Subscription(
        **values,
        status=status,
        token_key=new_token_key(),
        hard_bounces=0,
        created_at=now,
        updated_at=now,
        confirmed_at=now if status == "active" else None,
    )
    session.add(subscription)
    session.flush()
    return subscription


def get_subscription(session: Session, *, subscription_id: int) -> Subscription | None:
    return session.get(Subscription, subscription_id)


def subscription_by_email(session: Session, *, email: str) -> Subscription | None:
    return session.scalars(select(Subscription).where(Subscription.email == email)).first()


def list_subscriptions(session: Session, *, status: str | None = None) -> list[Subscription]:
    statement = select(Subscription).order_by(Subscription.id)
    if status:
        statement = statement.where(Subscription.status == status)
    return list(session.scalars(statement))


def count_subscriptions(session: Session) -> dict[str, int]:
    rows = session.execute(select(Subscription.status, func.count()).group_by(Subscription.status))
    return {status: count for status, count in rows}


def digest_subscriptions(session: Session, *, email: str | None = None) -> list[Subscription]:
    """Subscriptions that get digests (active), or the one of ``email`` if it is active."""
    statement = select(Subscription).where(Subscription.status == "active").order_by(Subscription.id)
    if email is not None:
        statement = statement.where(Subscription.email == email)
    return list(session.scalars(statement))


def update_subscription(
    session: Session, *, subscription: Subscription, values: dict[str, Any], now: datetime
) -> None:
    for name, value in values.items():
        setattr(subscription, name, value)
    subscription.updated_at = now
    session.flush()


def confirm_subscription(session: Session, *, subscription: Subscription, now: datetime) -> bool:
    """Pending → active; False when it was not pending (confirming twice changes nothing)."""
    if subscription.status != "pending":
        return False
    subscription.status = "active"
    subscription.confirmed_at = now
    subscription.updated_at = now
    session.flush()
    return True


def unsubscribe(session: Session, *, subscription: Subscription, now: datetime) -> bool:
    """Any status → unsubscribed, cancelling mails not sent yet; False when already unsubscribed."""
    if subscription.status == "unsubscribed":
        return False
    subscription.status = "unsubscribed"
    subscription.unsubscribed_at = now
    subscription.updated_at = now
    session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.subscription_id == subscription.id, OUTBOX.c.status == "pending")
        .values(status="cancelled", last_error="unsubscribed before it was sent")
    )
    session.flush()
    return True


def resume_subscription(session: Session, *, subscription: Subscription, now: datetime) -> bool:
    """Paused or unsubscribed → active again (the owner of the address asked through a signed link)."""
    if subscription.status not in {"paused", "unsubscribed"}:
        return False
    subscription.status = "active"
    subscription.hard_bounces = 0
    subscription.unsubscribed_at = None
    subscription.confirmed_at = subscription.confirmed_at or now
    subscription.updated_at = now
    session.flush()
    return True


def restart_subscription(
    session: Session, *, subscription: Subscription, values: dict[str, Any], now: datetime
) -> None:
    """An unsubscribed address signed up again: new preferences, back to pending, old links revoked."""
    update_subscription(session, subscription=subscription, values=values, now=now)
    subscription.status = "pending"
    subscription.token_key = new_token_key()
    subscription.hard_bounces = 0
    subscription.unsubscribed_at = None
    subscription.confirmation_sent_at = None
    session.flush()


def delete_subscription(session: Session, *, subscription_id: int) -> bool:
    """Remove a subscription with its outbox mails and digest history."""
    # Explicit deletes rather than relying on ON DELETE CASCADE, which SQLite applies only with
    # foreign keys switched on (they are, in db.py, but a copied database may have been opened without).
    session.execute(delete(DIGEST_PAPERS).where(DIGEST_PAPERS.c.subscription_id == subscription_id))
    session.execute(delete(OUTBOX).where(OUTBOX.c.subscription_id == subscription_id))
    result = session.execute(delete(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == subscription_id))
    return bool(getattr(result, "rowcount", 0))


def record_hard_bounce(
    session: Session, *, subscription_id: int, error: str, limit: int, now: datetime
) -> bool:
    """Count a permanent refusal; pause the subscription at ``limit`` in a row. True when it was paused."""
    session.execute(
        update(SUBSCRIPTIONS)
        .where(SUBSCRIPTIONS.c.id == subscription_id)
        .values(hard_bounces=SUBSCRIPTIONS.c.hard_bounces + 1, last_bounce=error[:2000], updated_at=now)
    )
    paused = session.execute(
        update(SUBSCRIPTIONS)
        .where(
            SUBSCRIPTIONS.c.id == subscription_id,
            SUBSCRIPTIONS.c.status == "active",
            SUBSCRIPTIONS.c.hard_bounces >= limit,
        )
        .values(status="paused", updated_at=now)
    )
    return bool(getattr(paused, "rowcount", 0))


def clear_hard_bounces(session: Session, *, subscription_id: int) -> None:
    session.execute(
        update(SUBSCRIPTIONS)
        .where(SUBSCRIPTIONS.c.id == subscription_id, SUBSCRIPTIONS.c.hard_bounces != 0)
        .values(hard_bounces=0)
    )


# --------------------------------------------------------------------------------------------------
# Composing digests
# --------------------------------------------------------------------------------------------------


def outbox_periods(session: Session, *, periods: Iterable[str]) -> set[tuple[int, str]]:
    """The (subscription, period) pairs that already have a mail, among the given periods."""
    found: set[tuple[int, str]] = set()
    wanted = sorted(set(periods))
    for chunk in chunked(wanted):
        rows = session.execute(
            select(OUTBOX.c.subscription_id, OUTBOX.c.period).where(OUTBOX.c.period.in_(chunk))
        )
        found.update((sid, period) for sid, period in rows)
    return found


def last_covered_days(session: Session, *, since: date | None = None) -> dict[int, date]:
    """The last feed day each subscriber's digests covered (cancelled mails do not count).

    ``since`` ignores digests that ended before it.
    """
    statement = (
        select(OUTBOX.c.subscription_id, func.max(OUTBOX.c.covers_to))
        .where(OUTBOX.c.kind == "digest", OUTBOX.c.status != "cancelled", OUTBOX.c.covers_to.is_not(None))
        .group_by(OUTBOX.c.subscription_id)
    )
    if since is not None:
        statement = statement.where(OUTBOX.c.covers_to >= since)
    rows = session.execute(statement)
    return {sid: day for sid, day in rows if day is not None}


def papers_already_sent(session: Session, *, paper_ids: Sequence[str]) -> dict[int, set[str]]:
    """For each subscriber, which of ``paper_ids`` were already in one of their digests."""
    sent: dict[int, set[str]] = {}
    for chunk in chunked(paper_ids):
        rows = session.execute(
            select(DIGEST_PAPERS.c.subscription_id, DIGEST_PAPERS.c.paper_id).where(
                DIGEST_PAPERS.c.paper_id.in_(chunk)
            )
        )
        for sid, paper_id in rows:
            sent.setdefault(sid, set()).add(paper_id)
    return sent


@dataclass(slots=True)
class NewMail:
    """A rendered mail to put in the outbox, with the papers it carries."""

    subscription_id: int
    kind: str
    period: str
    message_id: str
    recipient: str
    message: bytes
    paper_ids: list[str]
    covers_from: date | None = None
    covers_to: date | None = None


def enqueue_mails(session: Session, *, mails: Sequence[NewMail], now: datetime) -> int:
    """Store mails in the outbox; a (subscription, period) that already has one is left alone.

    The papers of each stored mail are recorded in the same transaction, so a paper is in the outbox
    and in the subscriber's history together or not at all. Returns how many mails were stored.
    """
    if not mails:
        return 0
    rows = [
        {
            "subscription_id": mail.subscription_id,
            "kind": mail.kind,
            "period": mail.period,
            "status": "pending",
            "message_id": mail.message_id,
            "recipient": mail.recipient,
            "message": mail.message,
            "paper_count": len(mail.paper_ids),
            "covers_from": mail.covers_from,
            "covers_to": mail.covers_to,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for mail in mails
    ]
    statement = (
        upsert_insert(session, OUTBOX)
        .on_conflict_do_nothing(index_elements=["subscription_id", "period"])
        .returning(OUTBOX.c.id, OUTBOX.c.subscription_id, OUTBOX.c.period)
    )
    stored: dict[tuple[int, str], int] = {}
    for outbox_rows in chunked(rows, 500):
        for row_id, sid, period in session.execute(statement, outbox_rows):
            stored[(sid, period)] = row_id
    papers = [
        {
            "subscription_id": mail.subscription_id,
            "paper_id": paper_id,
            "outbox_id": row_id,
            "created_at": now,
        }
        for mail in mails
        if (row_id := stored.get((mail.subscription_id, mail.period))) is not None
        for paper_id in mail.paper_ids
    ]
    if papers:
        # A plain insert: a paper already recorded for the subscriber is an IntegrityError, which rolls
        # the whole batch back rather than let a paper go out twice.
        for paper_rows in chunked(papers, 2000):
            session.execute(DIGEST_PAPERS.insert(), paper_rows)
    return len(stored)


def enqueue_one(session: Session, *, mail: NewMail, now: datetime) -> int | None:
    """Store one mail; its outbox id, or None when its (subscription, period) already had one."""
    if not enqueue_mails(session, mails=[mail], now=now):
        return None
    return session.scalar(
        select(OUTBOX.c.id).where(
            OUTBOX.c.subscription_id == mail.subscription_id, OUTBOX.c.period == mail.period
        )
    )


def mark_confirmation_sent(session: Session, *, subscription_id: int, now: datetime) -> None:
    session.execute(
        update(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == subscription_id).values(confirmation_sent_at=now)
    )


# --------------------------------------------------------------------------------------------------
# Delivering
# --------------------------------------------------------------------------------------------------


def _due(now: datetime, lease_seconds: float) -> Any:
    stale = now - timedelta(seconds=lease_seconds)
    return or_(
        and_(OUTBOX.c.status == "pending", OUTBOX.c.next_attempt_at <= now),
        and_(OUTBOX.c.status == "sending", OUTBOX.c.claimed_at < stale),
    )


def due_outbox_ids(
    session: Session,
    *,
    now: datetime,
    lease_seconds: float,
    limit: int = 500,
    only: Sequence[int] | None = None,
    recipient: str | None = None,
    after_id: int = 0,
) -> list[int]:
    """Ids of mails that may be claimed now, oldest first (a hint: the claim itself decides)."""
    statement = (
        select(OUTBOX.c.id)
        .where(_due(now, lease_seconds), OUTBOX.c.id > after_id)
        .order_by(OUTBOX.c.id)
        .limit(limit)
    )
    if only is not None:
        statement = statement.where(OUTBOX.c.id.in_(list(only)))
    if recipient is not None:
        statement = statement.where(OUTBOX.c.recipient == recipient)
    return list(session.scalars(statement))


@dataclass(slots=True)
class ClaimedMail:
    id: int
    subscription_id: int
    kind: str
    recipient: str
    message: bytes
    attempts: int
    subscription_status: str
    hard_bounces: int
    token: str
    claimed_at: datetime


def claim_mails(
    session: Session, *, outbox_ids: Sequence[int], now: datetime, lease_seconds: float
) -> list[ClaimedMail]:
    """Claim the given mails that are due for sending, in id order; the others are left alone.

    One conditional ``UPDATE`` claims them all with one fresh token; the rows that carry the token
    afterwards are the ones won. The caller commits at once, before sending: a claim protects a mail
    only once it is visible to the other senders.
    """
    if not outbox_ids:
        return []
    token = secrets.token_hex(16)
    result = session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(list(outbox_ids)), _due(now, lease_seconds))
        .values(status="sending", claim_token=token, claimed_at=now, attempts=OUTBOX.c.attempts + 1)
    )
    if not getattr(result, "rowcount", 0):
        return []
    rows = session.execute(
        select(
            OUTBOX.c.id,
            OUTBOX.c.subscription_id,
            OUTBOX.c.kind,
            OUTBOX.c.recipient,
            OUTBOX.c.message,
            OUTBOX.c.attempts,
            SUBSCRIPTIONS.c.status,
            SUBSCRIPTIONS.c.hard_bounces,
        )
        .select_from(OUTBOX.join(SUBSCRIPTIONS, SUBSCRIPTIONS.c.id == OUTBOX.c.subscription_id))
        .where(OUTBOX.c.claim_token == token)
        .order_by(OUTBOX.c.id)
    )
    return [
        ClaimedMail(
            id=row.id,
            subscription_id=row.subscription_id,
            kind=row.kind,
            recipient=row.recipient,
            message=bytes(row.message),
            attempts=row.attempts,
            subscription_status=row.status,
            hard_bounces=row.hard_bounces,
            token=token,
            claimed_at=now,
        )
        for row in rows
    ]


def claim_mail(
    session: Session, *, outbox_id: int, now: datetime, lease_seconds: float
) -> ClaimedMail | None:
    """Claim one mail for sending, or None when it is not due or someone else holds it."""
    claimed = claim_mails(session, outbox_ids=[outbox_id], now=now, lease_seconds=lease_seconds)
    return claimed[0] if claimed else None


def _finish(session: Session, claimed: ClaimedMail, values: dict[str, Any]) -> bool:
    result = session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == claimed.id, OUTBOX.c.status == "sending", OUTBOX.c.claim_token == claimed.token)
        .values(claim_token=None, **values)
    )
    return bool(getattr(result, "rowcount", 0))


def mark_sent(session: Session, *, claimed: ClaimedMail, now: datetime) -> bool:
    """sending → sent. False when the claim was lost (another sender took the mail over)."""
    return _finish(session, claimed, {"status": "sent", "sent_at": now, "last_error": None})


def mark_retry(session: Session, *, claimed: ClaimedMail, error: str, retry_at: datetime) -> bool:
    """sending → pending, to be tried again at ``retry_at``."""
    return _finish(
        session, claimed, {"status": "pending", "next_attempt_at": retry_at, "last_error": error[:2000]}
    )


def mark_released(session: Session, *, claimed: ClaimedMail, error: str, retry_at: datetime) -> bool:
    """sending → pending without counting a try: the mail was never offered to the server."""
    return _finish(
        session,
        claimed,
        {
            "status": "pending",
            "next_attempt_at": retry_at,
            "attempts": OUTBOX.c.attempts - 1,
            "last_error": error[:2000],
        },
    )


def mark_failed(session: Session, *, claimed: ClaimedMail, error: str) -> bool:
    """sending → failed: refused for good, or out of tries."""
    return _finish(session, claimed, {"status": "failed", "last_error": error[:2000]})


def mark_cancelled(session: Session, *, claimed: ClaimedMail, reason: str) -> bool:
    return _finish(session, claimed, {"status": "cancelled", "last_error": reason})


def forget_old_messages(session: Session, *, before: datetime) -> int:
    """Drop the bodies of mails that were settled (sent, failed, cancelled) before ``before``.

    The rows stay: they are what makes composing idempotent and say which days were covered.
    """
    result = session.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.status.in_(["sent", "failed", "cancelled"]),
            OUTBOX.c.created_at < before,
            func.length(OUTBOX.c.message) > 0,
        )
        .values(message=b"")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def outbox_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status))
    return {status: count for status, count in rows}


def outbox_message(session: Session, *, outbox_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, outbox_id)


__all__ = [
    "DELIVERABLE_STATUS",
    "ClaimedMail",
    "NewMail",
    "claim_mail",
    "claim_mails",
    "clear_hard_bounces",
    "confirm_subscription",
    "count_subscriptions",
    "create_subscription",
    "delete_subscription",
    "digest_subscriptions",
    "due_outbox_ids",
    "enqueue_mails",
    "enqueue_one",
    "forget_old_messages",
    "get_subscription",
    "last_covered_days",
    "list_subscriptions",
    "mark_cancelled",
    "mark_confirmation_sent",
    "mark_failed",
    "mark_released",
    "mark_retry",
    "mark_sent",
    "new_token_key",
    "outbox_counts",
    "outbox_message",
    "outbox_periods",
    "papers_already_sent",
    "record_hard_bounce",
    "restart_subscription",
    "resume_subscription",
    "subscription_by_email",
    "unsubscribe",
    "update_subscription",
]

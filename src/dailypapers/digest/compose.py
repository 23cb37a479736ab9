"""Composing digests: for every due subscriber, choose the papers, render the mail, store it in the outbox.

A digest is rendered once. Its outbox row is unique per (subscriber, period) and is written in the same
transaction as the subscriber's record of the papers it carries, so composing again (a second
``digest send``, a restart, two schedulers) finds the period done and adds nothing, and no paper can go
to the same subscriber twice. Periods whose papers do not interest a subscriber produce no mail at all:
there are no empty digests.

The candidates of a period are loaded and prepared once and shared by every subscriber who gets that
period; what each subscriber already received is loaded in one query per period, not per subscriber.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.digest.periods import (
    Frequency,
    Period,
    covered_days,
    due_period,
    period_for_day,
)
from dailypapers.digest.render import MailRenderer, RenderedMail
from dailypapers.digest.selection import Candidates, Chosen, prepare_candidates, select_papers
from dailypapers.digest.subscribers import preferences_of, recipient_of
from dailypapers.models import Subscription

log = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_CANDIDATES = 20_000
Progress = Callable[[int, int], None]


@dataclass(slots=True)
class PlannedDigest:
    """What one subscriber gets for one period (the dry-run report, and what was stored)."""

    subscription_id: int
    email: str
    period: str
    first: date
    last: date
    paper_ids: list[str]
    titles: list[str]
    more: int


@dataclass(slots=True)
class ComposeReport:
    subscribers: int = 0
    composed: int = 0
    already_done: int = 0
    nothing_new: int = 0
    render_seconds: float = 0.0
    planned: list[PlannedDigest] = field(default_factory=list)


@dataclass(slots=True)
class _Due:
    subscription: Subscription
    period: Period
    first: date
    last: date


def _due_digests(
    session: Session, subscriptions: list[Subscription], *, now: datetime, day: date | None
) -> tuple[list[_Due], int]:
    periods: dict[int, Period] = {}
    for subscription in subscriptions:
        frequency = Frequency(subscription.frequency)
        if day is not None:
            periods[subscription.id] = period_for_day(frequency, day)
        else:
            periods[subscription.id] = due_period(
                frequency, time_zone=subscription.timezone, hour=subscription.send_hour, now=now
            )
    done = store.outbox_periods(session, periods=[p.key for p in periods.values()])
    # Every subscriber's last covered day, however old: one that ended over a week ago still marks a
    # returning reader, whose catch-up `covered_days` caps at DAILY_CATCH_UP_DAYS, not a first digest.
    covered = store.last_covered_days(session)
    due: list[_Due] = []
    already = 0
    for subscription in subscriptions:
        period = periods[subscription.id]
        if (subscription.id, period.key) in done:
            already += 1
            continue
        window = covered_days(period, covered.get(subscription.id))
        if window is None:
            already += 1
            continue
        due.append(_Due(subscription, period, *window))
    return due, already


def compose_digests(
    sessions: sessionmaker[Session],
    renderer: MailRenderer,
    *,
    now: datetime,
    day: date | None = None,
    email: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ComposeReport:
    """Store the digests due at ``now`` (or, with ``day``, the digests about that day) in the outbox.

    ``email`` limits it to one subscriber; ``dry_run`` reports what would be stored and stores nothing.
    """
    report = ComposeReport()
    with sessions() as session:
        subscriptions = store.digest_subscriptions(session, email=email)
        report.subscribers = len(subscriptions)
        due, report.already_done = _due_digests(session, subscriptions, now=now, day=day)
        groups: dict[tuple[date, date], list[_Due]] = defaultdict(list)
        for item in due:
            groups[(item.first, item.last)].append(item)
        done = 0
        for (first, last), items in sorted(groups.items()):
            cards = store.feed_cards(
                session, start=first, end=last, limit=MAX_CANDIDATES, abstract_chars=None
            )
            candidates = prepare_candidates(cards)
            sent = store.papers_already_sent(session, paper_ids=candidates.ids) if len(candidates) else {}
            # End the read transaction before writing batches. A commit, not a rollback: a rollback
            # would expire the loaded subscriptions and reload each one on its next attribute access.
            session.commit()
            batch: list[tuple[_Due, Chosen, RenderedMail | None]] = []
            for item in items:
                done += 1
                if progress is not None and done % 100 == 0:
                    progress(done, len(due))
                chosen = Chosen()
                if len(candidates):
                    already_sent = sent.get(item.subscription.id, ())
                    chosen = select_papers(
                        preferences_of(item.subscription), candidates, already_sent=already_sent
                    )
                if not chosen.picks:
                    report.nothing_new += 1
                    continue
                rendered = None
                if not dry_run:
                    started = time.perf_counter()
                    rendered = renderer.digest(recipient_of(item.subscription), item.period, chosen, now=now)
                    report.render_seconds += time.perf_counter() - started
                batch.append((item, chosen, rendered))
                if len(batch) >= BATCH_SIZE:
                    _store(sessions, batch, now=now, dry_run=dry_run, report=report)
                    batch = []
            _store(sessions, batch, now=now, dry_run=dry_run, report=report)
            if progress is not None:
                progress(done, len(due))
    return report


def _plan(item: _Due, chosen: Chosen) -> PlannedDigest:
    return PlannedDigest(
        subscription_id=item.subscription.id,
        email=item.subscription.email,
        period=item.period.key,
        first=item.first,
        last=item.last,
        paper_ids=[p.card.id for p in chosen.picks],
        titles=[p.card.title for p in chosen.picks],
        more=chosen.more,
    )


def _mail(item: _Due, chosen: Chosen, rendered: RenderedMail) -> store.NewMail:
    return store.NewMail(
        subscription_id=item.subscription.id,
        kind="digest",
        period=item.period.key,
        message_id=rendered.message_id,
        recipient=rendered.recipient,
        message=rendered.message,
        paper_ids=[p.card.id for p in chosen.picks],
        covers_from=item.first,
        covers_to=item.last,
    )


def _store(
    sessions: sessionmaker[Session],
    batch: list[tuple[_Due, Chosen, RenderedMail | None]],
    *,
    now: datetime,
    dry_run: bool,
    report: ComposeReport,
) -> None:
    if not batch:
        return
    if dry_run:
        report.planned.extend(_plan(item, chosen) for item, chosen, _ in batch)
        report.composed += len(batch)
        return
    mails = [_mail(item, chosen, rendered) for item, chosen, rendered in batch if rendered is not None]
    try:
        with sessions.begin() as session:
            stored = store.enqueue_mails(session, mails=mails, now=now)
    except IntegrityError:
        # Another composer recorded one of these papers for one of these subscribers in the meantime.
        # Store the mails one by one; the ones that collide are dropped and composed again next time.
        stored = 0
        for mail in mails:
            try:
                with sessions.begin() as session:
                    stored += store.enqueue_mails(session, mails=[mail], now=now)
            except IntegrityError:
                log.warning(
                    "digest %s for subscription %s raced another composer", mail.period, mail.subscription_id
                )
    report.composed += stored
    report.already_done += len(mails) - stored
    report.planned.extend(_plan(item, chosen) for item, chosen, _ in batch)


def compose_one(
    sessions: sessionmaker[Session],
    renderer: MailRenderer,
    *,
    subscription: Subscription,
    period: Period,
    now: datetime,
) -> tuple[Chosen, RenderedMail | None, Candidates]:
    """The digest ``subscription`` would get for ``period`` (a preview: nothing is stored)."""
    with sessions() as session:
        covered = store.last_covered_days(session).get(subscription.id) if subscription.id else None
        window = covered_days(period, covered) or (period.first, period.last)
        cards = store.feed_cards(
            session, start=window[0], end=window[1], limit=MAX_CANDIDATES, abstract_chars=None
        )
        candidates = prepare_candidates(cards)
        sent = store.papers_already_sent(session, paper_ids=candidates.ids) if subscription.id else {}
    chosen = select_papers(
        preferences_of(subscription), candidates, already_sent=sent.get(subscription.id, ())
    )
    if not chosen.picks:
        return chosen, None, candidates
    return chosen, renderer.digest(recipient_of(subscription), period, chosen, now=now), candidates


__all__ = ["BATCH_SIZE", "ComposeReport", "PlannedDigest", "compose_digests", "compose_one"]

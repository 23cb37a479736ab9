"""Subscribing: checking what people type, and the life of a subscription up to its confirmation.

The web form and the CLI both go through :func:`validate_subscription` and :func:`subscribe`, so the
rules are the same everywhere. Subscribing by address is double opt-in: a new subscription is pending,
and nothing but the confirmation mail is sent until its link is used.

Answers never reveal whether an address is subscribed: a form submitted for an address that is already
subscribed sends that address a note with its manage link, and the page says "check your inbox" in
every case. Confirmation mails to one address are limited to one per :data:`CONFIRMATION_INTERVAL`, so
the form cannot be used to flood someone's inbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from dailypapers import store
from dailypapers.digest.periods import Frequency, zone
from dailypapers.digest.render import MailRenderer, Recipient, RenderedMail
from dailypapers.digest.selection import (
    MAX_CATEGORIES,
    MAX_KEYWORD_CHARS,
    MAX_KEYWORDS,
    MAX_PAPERS,
    Preferences,
    Selection,
    normalise_keywords,
)
from dailypapers.errors import SubscriptionError
from dailypapers.ingest.arxiv_ids import validate_category
from dailypapers.models import Subscription

CONFIRMATION_INTERVAL = timedelta(minutes=10)
MAX_NAME_CHARS = 200
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidSubscription(SubscriptionError, ValueError):
    """Input that cannot make a subscription; ``problems`` maps each field to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems.items()))


def normalise_email(value: str) -> str:
    """The address in the form it is stored and compared: trimmed, lower-case, IDNA domain.

    Local parts are limited to the unquoted ASCII characters of RFC 5322, which every mail server
    accepts without the SMTPUTF8 extension.
    """
    text = value.strip()
    if not text or len(text) > 254 or any(c.isspace() or ord(c) < 32 for c in text):
        raise ValueError("enter a mail address such as ada@example.org")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("enter a mail address such as ada@example.org")
    if len(local) > 64 or not _LOCAL_PART.match(local):
        raise ValueError("the part before @ has characters that mail servers do not accept")
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"{domain!r} is not a valid domain") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValueError(f"{domain!r} is not a valid domain")
    return f"{local.lower()}@{ascii_domain}"


def _split_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [part.strip() for item in items for part in re.split(r"[,\n;]", item) if part.strip()]


@dataclass(frozen=True, slots=True)
class SubscriptionInput:
    """Validated values of a subscription, ready to store."""

    email: str
    name: str | None
    frequency: Frequency
    selection: Selection
    categories: tuple[str, ...]
    keywords: tuple[str, ...]
    exclude_keywords: tuple[str, ...]
    max_papers: int
    timezone: str
    send_hour: int

    def preference_values(self) -> dict[str, Any]:
        return {
            "frequency": self.frequency.value,
            "selection": self.selection.value,
            "categories": list(self.categories),
            "keywords": list(self.keywords),
            "exclude_keywords": list(self.exclude_keywords),
            "max_papers": self.max_papers,
            "timezone": self.timezone,
            "send_hour": self.send_hour,
        }


def validate_subscription(
    *,
    email: str,
    name: str | None = None,
    frequency: str = "daily",
    selection: str = "trending",
    categories: str | Iterable[str] | None = None,
    keywords: str | Iterable[str] | None = None,
    exclude_keywords: str | Iterable[str] | None = None,
    max_papers: int | str = 10,
    timezone: str = "UTC",
    send_hour: int | str = 8,
) -> SubscriptionInput:
    """Check every field; :class:`InvalidSubscription` lists all problems at once."""
    problems: dict[str, str] = {}
    try:
        clean_email = normalise_email(email)
    except ValueError as exc:
        problems["email"] = str(exc)
        clean_email = ""
    clean_name = " ".join((name or "").split()) or None
    if clean_name and len(clean_name) > MAX_NAME_CHARS:
        problems["name"] = f"at most {MAX_NAME_CHARS} characters"
    try:
        clean_frequency = Frequency(frequency)
    except ValueError:
        problems["frequency"] = "choose daily or weekly"
        clean_frequency = Frequency.daily
    try:
        clean_selection = Selection(selection)
    except ValueError:
        problems["selection"] = "choose trending or new"
        clean_selection = Selection.trending
    clean_categories = _categories(categories, problems)
    lists = {
        field: _keywords(raw, field, problems)
        for field, raw in (("keywords", keywords), ("exclude_keywords", exclude_keywords))
    }
    clean_max = _integer(max_papers, 1, MAX_PAPERS, "max_papers", problems)
    clean_hour = _integer(send_hour, 0, 23, "send_hour", problems)
    try:
        zone(timezone.strip())
        clean_zone = timezone.strip()
    except ValueError as exc:
        problems["timezone"] = str(exc)
        clean_zone = "UTC"
    if problems:
        raise InvalidSubscription(problems)
    return SubscriptionInput(
        email=clean_email,
        name=clean_name,
        frequency=clean_frequency,
        selection=clean_selection,
        categories=clean_categories,
        keywords=lists["keywords"],
        exclude_keywords=lists["exclude_keywords"],
        max_papers=clean_max,
        timezone=clean_zone,
        send_hour=clean_hour,
    )


def _categories(raw: str | Iterable[str] | None, problems: dict[str, str]) -> tuple[str, ...]:
    """The arXiv categories asked for, each once, in order; the first bad one is a problem."""
    clean: list[str] = []
    for category in _split_list(raw):
        try:
            validate_category(category)
        except ValueError as exc:
            problems["categories"] = str(exc).split(";")[0]
            break
        if category not in clean:
            clean.append(category)
    if len(clean) > MAX_CATEGORIES:
        problems["categories"] = f"at most {MAX_CATEGORIES} categories"
    return tuple(clean)


def _keywords(raw: str | Iterable[str] | None, field: str, problems: dict[str, str]) -> tuple[str, ...]:
    """A keyword list, normalised; too many or too long a keyword is a problem under ``field``."""
    values = normalise_keywords(_split_list(raw))
    if len(values) > MAX_KEYWORDS:
        problems[field] = f"at most {MAX_KEYWORDS} keywords"
    elif any(len(k) > MAX_KEYWORD_CHARS for k in values):
        problems[field] = f"each keyword has at most {MAX_KEYWORD_CHARS} characters"
    return values


def _integer(value: int | str, low: int, high: int, field: str, problems: dict[str, str]) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        problems[field] = f"a whole number from {low} to {high}"
        return low
    if not low <= number <= high:
        problems[field] = f"a whole number from {low} to {high}"
    return number


def preferences_of(subscription: Subscription) -> Preferences:
    return Preferences(
        selection=Selection(subscription.selection),
        categories=tuple(subscription.categories or ()),
        keywords=tuple(subscription.keywords or ()),
        exclude_keywords=tuple(subscription.exclude_keywords or ()),
        max_papers=subscription.max_papers,
    )


def recipient_of(subscription: Subscription) -> Recipient:
    return Recipient(
        subscription_id=subscription.id,
        email=subscription.email,
        name=subscription.name,
        token_key=subscription.token_key,
        frequency=Frequency(subscription.frequency),
        preferences=preferences_of(subscription),
    )


class SubscribeOutcome(StrEnum):
    created = "created"  # new and pending: a confirmation mail is queued
    confirmation_resent = "confirmation_resent"  # still pending: the confirmation mail again
    already_subscribed = "already_subscribed"  # active or paused: a note with the manage link
    activated = "activated"  # created or re-activated without confirmation (CLI --confirmed)
    throttled = "throttled"  # a mail went to this address moments ago: nothing queued


@dataclass(slots=True)
class Subscribed:
    subscription: Subscription
    outcome: SubscribeOutcome
    outbox_id: int | None = None


def subscribe(
    session: Session,
    renderer: MailRenderer,
    *,
    values: SubscriptionInput,
    now: datetime,
    source: str = "web",
    confirmed: bool = False,
) -> Subscribed:
    """Create or refresh the subscription of ``values.email`` and queue the mail that follows.

    ``confirmed`` (the CLI's ``--confirmed``, for an operator adding an address they vouch for) makes it
    active at once and queues nothing. The caller commits, then delivers ``outbox_id``.
    """
    existing = store.subscription_by_email(session, email=values.email)
    fields = {"name": values.name, **values.preference_values()}
    if existing is None:
        subscription = store.create_subscription(
            session,
            values={"email": values.email, "source": source, **fields},
            status="active" if confirmed else "pending",
            now=now,
        )
        if confirmed:
            return Subscribed(subscription, SubscribeOutcome.activated)
        return _queue(session, renderer, subscription, "confirm", SubscribeOutcome.created, now)
    if existing.status == "unsubscribed":
        store.restart_subscription(session, subscription=existing, values=fields, now=now)
        if confirmed:
            store.confirm_subscription(session, subscription=existing, now=now)
            return Subscribed(existing, SubscribeOutcome.activated)
        return _queue(session, renderer, existing, "confirm", SubscribeOutcome.created, now)
    if existing.status == "pending":
        # Until the address is confirmed, whoever asks last decides the preferences.
        store.update_subscription(session, subscription=existing, values=fields, now=now)
        if confirmed:
            store.confirm_subscription(session, subscription=existing, now=now)
            return Subscribed(existing, SubscribeOutcome.activated)
        return _queue(session, renderer, existing, "confirm", SubscribeOutcome.confirmation_resent, now)
    if confirmed:
        # The operator vouches for the address: apply the preferences directly.
        store.update_subscription(session, subscription=existing, values=fields, now=now)
        store.resume_subscription(session, subscription=existing, now=now)
        return Subscribed(existing, SubscribeOutcome.activated)
    # Active or paused: the preferences typed by whoever filled in the form are not applied, since
    # they may not own the address; the owner gets their manage link instead.
    return _queue(session, renderer, existing, "manage", SubscribeOutcome.already_subscribed, now)


def _queue(
    session: Session,
    renderer: MailRenderer,
    subscription: Subscription,
    kind: str,
    outcome: SubscribeOutcome,
    now: datetime,
) -> Subscribed:
    last = subscription.confirmation_sent_at
    if last is not None and last > now - CONFIRMATION_INTERVAL:
        return Subscribed(subscription, SubscribeOutcome.throttled)
    recipient = recipient_of(subscription)
    mail: RenderedMail = (
        renderer.confirmation(recipient, now=now)
        if kind == "confirm"
        else renderer.manage_note(recipient, now=now)
    )
    outbox_id = store.enqueue_one(
        session,
        mail=store.NewMail(
            subscription_id=subscription.id,
            kind=kind,
            period=f"{kind}-{now:%Y%m%dT%H%M%S}",
            message_id=mail.message_id,
            recipient=mail.recipient,
            message=mail.message,
            paper_ids=[],
        ),
        now=now,
    )
    store.mark_confirmation_sent(session, subscription_id=subscription.id, now=now)
    return Subscribed(subscription, outcome, outbox_id)


def describe_problems(problems: Mapping[str, str]) -> list[str]:
    labels = {
        "email": "Mail address",
        "name": "Name",
        "frequency": "How often",
        "selection": "Which papers",
        "categories": "Categories",
        "keywords": "Keywords",
        "exclude_keywords": "Excluded keywords",
        "max_papers": "Number of papers",
        "timezone": "Time zone",
        "send_hour": "Hour",
    }
    return [f"{labels.get(field, field)}: {problem}" for field, problem in problems.items()]


__all__ = [
    "CONFIRMATION_INTERVAL",
    "InvalidSubscription",
    "SubscribeOutcome",
    "Subscribed",
    "SubscriptionInput",
    "describe_problems",
    "normalise_email",
    "preferences_of",
    "recipient_of",
    "subscribe",
    "validate_subscription",
]

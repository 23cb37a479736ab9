"""Which papers a digest covers, and when it is due in the subscriber's own time zone.

A daily digest is named by the feed day it carries (``2026-06-12``) and a weekly one by the ISO week
(``2026-W24``, Monday to Sunday). The feed day of a paper is a UTC date, as on the site.

* A daily digest goes out on the subscriber's local day after its feed day, at their hour: readers in
  Tokyo and in Los Angeles both get "yesterday's papers" with their morning coffee. It covers the feed
  days since the previous digest (at most a week back), so the papers of a weekend, when arXiv announces
  nothing and the feed is usually empty, come with Tuesday's digest rather than in digests of their own.
* A weekly digest goes out on the subscriber's local Monday at their hour and covers the week before.

"Due" is a state, not an instant: a digest missed while the server was down goes out at the next check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAILY_CATCH_UP_DAYS = 7
"""How many feed days back a daily digest reaches for days no earlier digest covered."""


class Frequency(StrEnum):
    daily = "daily"
    weekly = "weekly"


@dataclass(frozen=True, slots=True)
class Period:
    """The feed days one digest is about: ``key`` names it in the outbox, ``day`` is its last day."""

    frequency: Frequency
    key: str
    first: date
    last: date

    @property
    def label(self) -> str:
        if self.frequency is Frequency.daily:
            return human_day(self.last)
        return f"the week of {human_day(self.first)}"


def human_day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def daily_period(day: date) -> Period:
    return Period(Frequency.daily, day.isoformat(), day, day)


def weekly_period(day: date) -> Period:
    """The ISO week (Monday to Sunday) that contains ``day``."""
    year, week, _ = day.isocalendar()
    monday = day - timedelta(days=day.weekday())
    return Period(Frequency.weekly, f"{year}-W{week:02d}", monday, monday + timedelta(days=6))


def period_for_day(frequency: Frequency, day: date) -> Period:
    """The digest about ``day``: that day's, or that of the week containing it."""
    return daily_period(day) if frequency is Frequency.daily else weekly_period(day)


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/Paris or UTC") from exc


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def due_period(frequency: Frequency, *, time_zone: str, hour: int, now: datetime) -> Period:
    """The newest digest that is due at ``now`` for a subscriber in ``time_zone`` who reads at ``hour``."""
    local = now.astimezone(zone(time_zone))
    # Before the subscriber's hour, today's digest is not due yet: the newest due one is yesterday's.
    today = local.date() if local.hour >= hour else local.date() - timedelta(days=1)
    if frequency is Frequency.daily:
        return daily_period(today - timedelta(days=1))
    # The week that ended on the last Sunday before ``today`` (which is a Monday or later).
    return weekly_period(today - timedelta(days=today.weekday() + 1))


def covered_days(period: Period, last_covered: date | None) -> tuple[date, date] | None:
    """The feed days a digest of ``period`` covers, given the last day an earlier digest covered.

    A weekly digest covers its week. A daily digest covers the days after the previous digest up to its
    own day (only its own day for a first digest), never more than :data:`DAILY_CATCH_UP_DAYS` back.
    None when an earlier digest already covered the period.
    """
    if period.frequency is Frequency.weekly:
        return period.first, period.last
    if last_covered is None:
        return period.last, period.last
    first = max(last_covered + timedelta(days=1), period.last - timedelta(days=DAILY_CATCH_UP_DAYS - 1))
    if first > period.last:
        return None
    return first, period.last


__all__ = [
    "DAILY_CATCH_UP_DAYS",
    "Frequency",
    "Period",
    "covered_days",
    "daily_period",
    "due_period",
    "human_day",
    "period_for_day",
    "time_zone_names",
    "weekly_period",
    "zone",
]

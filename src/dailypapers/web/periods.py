"""Feed periods: a day (``2026-07-31``), an ISO week (``2026-W31``) or a month (``2026-07``).

Parsing is strict and its errors say what is accepted, because they are shown to whoever typed the URL.

The calendar of Python's ``date`` ends on 31 December 9999, inside ISO week 9999-W52 (27 December 9999 to
2 January 10000). A feed page shows tabs for the day, week and month around the day it shows, so a day,
week or month is accepted only when its week and month both fit: ``LAST_DAY`` is the last such day.
Past it, ``PeriodOutOfRange`` says so in words (404 on pages, 422 in the API) instead of the
``OverflowError`` that date arithmetic would raise. ``FeedPeriod.containing`` never overflows: at the end of
the calendar a week is cut short, so that links built from data near the edge cannot fail either.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodKind(StrEnum):
    day = "day"
    week = "week"
    month = "month"


LAST_DAY = date(9999, 12, 26)
"""The last day whose week (9999-W51) and month end within the calendar."""


class PeriodError(ValueError):
    """A period that cannot be read; the message says what is accepted."""


class PeriodOutOfRange(PeriodError):
    """A well-formed period after ``LAST_DAY``: there can be no papers there."""

    def __init__(self, value: str) -> None:
        last = f"{LAST_DAY.day} {LAST_DAY:%B} {LAST_DAY.year}"
        super().__init__(f"{value} is past the last date this site can show ({last}).")


@dataclass(frozen=True, slots=True)
class FeedPeriod:
    kind: PeriodKind
    start: date
    end: date

    @classmethod
    def containing(cls, kind: PeriodKind, day: date) -> FeedPeriod:
        if kind is PeriodKind.day:
            return cls(kind, day, day)
        if kind is PeriodKind.week:
            start = day - timedelta(days=day.weekday())
            # The week of 31 December 9999 ends after the calendar does: cut it short.
            end = start + timedelta(days=6) if start <= date.max - timedelta(days=6) else date.max
            return cls(kind, start, end)
        last = calendar.monthrange(day.year, day.month)[1]
        return cls(kind, day.replace(day=1), day.replace(day=last))

    @property
    def slug(self) -> str:
        """The period as written in URLs and API parameters."""
        if self.kind is PeriodKind.day:
            return self.start.isoformat()
        if self.kind is PeriodKind.week:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def path(self) -> str:
        prefix = {PeriodKind.day: "date", PeriodKind.week: "week", PeriodKind.month: "month"}[self.kind]
        return f"/{prefix}/{self.slug}"

    @property
    def label(self) -> str:
        """How a reader would say it: ``Friday 31 July 2026``, ``Week 31 of 2026``, ``July 2026``."""
        if self.kind is PeriodKind.day:
            return f"{self.start:%A} {self.start.day} {self.start:%B %Y}"
        if self.kind is PeriodKind.week:
            year, week, _ = self.start.isocalendar()
            return f"Week {week} of {year}"
        return f"{self.start:%B %Y}"

    @property
    def span(self) -> str:
        """The dates a week or month covers, for a subtitle (empty for a day)."""
        if self.kind is PeriodKind.day:
            return ""
        if self.start.year == self.end.year:
            return f"{self.start.day} {self.start:%b} – {self.end.day} {self.end:%b %Y}"
        return f"{self.start.day} {self.start:%b %Y} – {self.end.day} {self.end:%b %Y}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def is_just_before(self, other: FeedPeriod) -> bool:
        """Whether ``other`` is the very next period of this kind (no period between the two)."""
        return self.end < date.max and self.end + timedelta(days=1) == other.start

    def is_just_after(self, other: FeedPeriod) -> bool:
        """Whether ``other`` is the period of this kind right before this one."""
        return other.is_just_before(self)


def parse_day(value: str) -> date:
    match = _DAY.match(value.strip())
    if match:
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
        else:
            if day > LAST_DAY:
                raise PeriodOutOfRange(day.isoformat())
            return day
    raise PeriodError(f"{value!r} is not a date: use YYYY-MM-DD, for example 2026-07-31")


def parse_week(value: str) -> FeedPeriod:
    match = _WEEK.match(value.strip())
    if match:
        try:
            start = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError:
            pass
        else:
            if start > LAST_DAY:
                raise PeriodOutOfRange(f"Week {int(match.group(2))} of {start.year}")
            return FeedPeriod(PeriodKind.week, start, start + timedelta(days=6))
    raise PeriodError(
        f"{value!r} is not an ISO week: use YYYY-Www, for example 2026-W31 (weeks 01 to 52 or 53)"
    )


def parse_month(value: str) -> FeedPeriod:
    match = _MONTH.match(value.strip())
    if match and 1 <= int(match.group(2)) <= 12 and int(match.group(1)) >= 1:
        return FeedPeriod.containing(PeriodKind.month, date(int(match.group(1)), int(match.group(2)), 1))
    raise PeriodError(f"{value!r} is not a month: use YYYY-MM, for example 2026-07")


def parse_period(kind: PeriodKind, value: str) -> FeedPeriod:
    if kind is PeriodKind.day:
        return FeedPeriod.containing(kind, parse_day(value))
    if kind is PeriodKind.week:
        return parse_week(value)
    return parse_month(value)


__all__ = [
    "LAST_DAY",
    "FeedPeriod",
    "PeriodError",
    "PeriodKind",
    "PeriodOutOfRange",
    "parse_day",
    "parse_month",
    "parse_period",
    "parse_week",
]

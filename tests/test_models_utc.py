"""Every datetime column stores and returns aware UTC times, whichever zone went in and on both databases.

SQLite keeps no zone at all and PostgreSQL answers in the session's zone, so each test reads back on a
PostgreSQL session set far from UTC: without :class:`~dailypapers.models.UTCDateTime` the values would
come back naive (SQLite) or at +05:30 (PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import pytest
from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.models import LoginThrottle

THROTTLE = cast(Table, LoginThrottle.__table__)
PLUS_TWO = timezone(timedelta(hours=2))
TEN_UTC = datetime(2026, 6, 12, 10, 0, tzinfo=UTC)


def far_from_utc(session: Session, db_kind: str) -> None:
    """Set this transaction's zone on PostgreSQL to one that ``timestamptz`` values would come back in."""
    if db_kind == "postgresql":
        session.execute(text("SET LOCAL TIME ZONE 'Asia/Kolkata'"))


def read_back(session: Session) -> datetime:
    session.expire_all()
    row = session.get(LoginThrottle, "k")
    assert row is not None
    return row.last_failure_at


def test_a_time_in_another_zone_is_stored_as_the_instant_it_names_and_read_back_in_utc(
    sessions: sessionmaker[Session], db_kind: str
) -> None:
    with sessions.begin() as session:
        far_from_utc(session, db_kind)
        session.add(LoginThrottle(key="k", failures=1, last_failure_at=TEN_UTC.astimezone(PLUS_TWO)))
        session.flush()
        stored = read_back(session)
        # SQLite compares the stored text: it must hold 10:00 UTC, not the 12:00 written at +02:00.
        before_eleven = session.scalar(
            select(func.count())
            .select_from(THROTTLE)
            .where(THROTTLE.c.last_failure_at < datetime(2026, 6, 12, 11, 0, tzinfo=UTC))
        )
        latest = session.scalar(select(func.max(THROTTLE.c.last_failure_at)))
    assert stored == TEN_UTC and stored.tzinfo is UTC
    assert before_eleven == 1
    # An aggregate keeps the column's type, so it too comes back aware.
    assert latest is not None and latest == TEN_UTC and latest.tzinfo is UTC


def test_a_naive_time_written_is_taken_as_utc(sessions: sessionmaker[Session], db_kind: str) -> None:
    with sessions.begin() as session:
        far_from_utc(session, db_kind)
        session.add(LoginThrottle(key="k", failures=1, last_failure_at=TEN_UTC.replace(tzinfo=None)))
        session.flush()
        stored = read_back(session)
    assert stored == TEN_UTC and stored.tzinfo is UTC


def test_a_zoneless_time_stored_in_sqlite_reads_back_aware(
    sessions: sessionmaker[Session], db_kind: str
) -> None:
    if db_kind != "sqlite":
        pytest.skip("only SQLite stores times without their zone")
    with sessions.begin() as session:
        session.execute(
            text("INSERT INTO login_throttle (key, failures, last_failure_at) VALUES ('k', 1, :at)"),
            {"at": "2026-06-12 10:00:00.000000"},
        )
    with sessions() as session:
        stored = read_back(session)
    assert stored == TEN_UTC and stored.tzinfo is UTC

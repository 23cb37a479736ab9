"""Queries for submitting and fetching papers: the attempts that the daily limit counts, and the date a
known paper was first posted.

An attempt is written before any upstream work starts (outcome ``pending``) and finished with what came
of it; :func:`attempts_since` counts them all, whatever their outcome. The caller holds the account's
row lock (``lock_user_row``) around counting and adding, so that parallel requests of one account
cannot pass the limit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from dailypapers.models import SUBMISSION_ACTIONS, SUBMISSION_OUTCOMES, Paper, SubmissionAttempt

ATTEMPTS = cast(Table, SubmissionAttempt.__table__)
PAPERS = cast(Table, Paper.__table__)


def attempts_since(session: Session, *, user_id: int, since: datetime) -> int:
    """How many papers the account asked to submit or fetch since ``since``, whatever came of them."""
    return (
        session.scalar(
            select(func.count())
            .select_from(ATTEMPTS)
            .where(ATTEMPTS.c.user_id == user_id, ATTEMPTS.c.created_at >= since)
        )
        or 0
    )


def add_attempt(session: Session, *, user_id: int, paper_id: str, action: str, now: datetime) -> int:
    """Record a pending attempt and return its id."""
    if action not in SUBMISSION_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    attempt_id = session.execute(
        insert(ATTEMPTS)
        .values(user_id=user_id, paper_id=paper_id, action=action, outcome="pending", created_at=now)
        .returning(ATTEMPTS.c.id)
    ).scalar_one()
    return int(attempt_id)


def finish_attempt(session: Session, *, attempt_id: int, outcome: str, now: datetime) -> None:
    if outcome not in SUBMISSION_OUTCOMES or outcome == "pending":
        raise ValueError(f"unknown outcome {outcome!r}")
    session.execute(
        update(ATTEMPTS).where(ATTEMPTS.c.id == attempt_id).values(outcome=outcome, finished_at=now)
    )


@dataclass(frozen=True, slots=True)
class AttemptRow:
    paper_id: str
    action: str
    outcome: str
    created_at: datetime
    finished_at: datetime | None


def user_attempts(session: Session, *, user_id: int, limit: int = 50) -> list[AttemptRow]:
    """The account's attempts, newest first."""
    rows = session.execute(
        select(
            ATTEMPTS.c.paper_id,
            ATTEMPTS.c.action,
            ATTEMPTS.c.outcome,
            ATTEMPTS.c.created_at,
            ATTEMPTS.c.finished_at,
        )
        .where(ATTEMPTS.c.user_id == user_id)
        .order_by(ATTEMPTS.c.created_at.desc(), ATTEMPTS.c.id.desc())
        .limit(limit)
    )
    return [AttemptRow(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class KnownPaper:
    """What the submission rules need of a paper already in the database."""

    title: str
    published_at: datetime | None
    versions: list[dict[str, Any]]


def known_paper(session: Session, *, paper_id: str) -> KnownPaper | None:
    row = session.execute(
        select(PAPERS.c.title, PAPERS.c.published_at, PAPERS.c.versions).where(PAPERS.c.id == paper_id)
    ).first()
    return None if row is None else KnownPaper(row.title, row.published_at, list(row.versions or []))


__all__ = [
    "AttemptRow",
    "KnownPaper",
    "add_attempt",
    "attempts_since",
    "finish_attempt",
    "known_paper",
    "user_attempts",
]

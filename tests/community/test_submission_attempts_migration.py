"""Migration 0006 adds the attempts that the daily limit counts, fills them from the papers already
submitted (so today's count survives the upgrade), and goes down and up again on both databases."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from dailypapers.db import _alembic_config, upgrade_schema
from dailypapers.errors import TooManyRequests
from dailypapers.models import FeedEntry, Submission, SubmissionAttempt, User
from tests.community.support import HF_PAPER, NOW, make_user


def _migrate(engine: Engine, target: str) -> None:
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, target)


def test_migration_0006_counts_earlier_submissions_and_downgrades(
    engine: Engine, papers: sessionmaker[Session], settings: Settings
) -> None:
    from dailypapers.community.submissions import submit_paper

    ada = make_user(papers, "ada")
    _migrate(engine, "0005")
    assert "submission_attempts" not in inspect(engine).get_table_names()
    with papers.begin() as session:
        session.execute(
            Submission.__table__.insert().values(paper_id=HF_PAPER, user_id=ada.id, created_at=NOW)
        )
    upgrade_schema(engine)
    with papers() as session:
        rows = session.execute(
            select(SubmissionAttempt.user_id, SubmissionAttempt.paper_id, SubmissionAttempt.outcome)
        ).all()
        user = session.get(User, ada.id)
    assert [tuple(r) for r in rows] == [(ada.id, HF_PAPER, "added")]
    assert user is not None
    limited = settings.model_copy(update={"submissions_per_day": 1})
    with papers.begin() as session:
        session.execute(FeedEntry.__table__.delete().where(FeedEntry.paper_id == "2607.27958"))
    with pytest.raises(TooManyRequests):
        submit_paper(papers, limited, user=user, text="2607.27958", fetch=lambda _id: None, now=NOW)

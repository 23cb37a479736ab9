"""Migration 0005 adds the index the comment limit counts with, drops the failed log-ins counted per
account alone (never read again), and goes down and up again on both databases."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.db import _alembic_config, upgrade_schema
from dailypapers.models import LoginThrottle
from tests.community.support import NOW

INDEX = "ix_comments_user_id_created_at"


def _migrate(engine: Engine, target: str) -> None:
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, target)


def _indexes(engine: Engine) -> set[str]:
    return {index["name"] for index in inspect(engine).get_indexes("comments") if index["name"]}


def _throttle_keys(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(LoginThrottle.key)))


def test_migration_0005_upgrades_and_downgrades(engine: Engine, sessions: sessionmaker[Session]) -> None:
    assert INDEX in _indexes(engine)
    _migrate(engine, "0004")
    assert INDEX not in _indexes(engine)
    with sessions.begin() as session:
        for key in ("account:1", "address:203.0.113.9", "name:nobody"):
            session.add(
                LoginThrottle(
                    key=key, failures=30, last_failure_at=NOW, locked_until=NOW + timedelta(hours=23)
                )
            )
    upgrade_schema(engine)
    assert INDEX in _indexes(engine)
    # The account-wide lockouts, which held owners out, are gone; the address's count stays.
    assert _throttle_keys(sessions) == {"address:203.0.113.9"}
    with sessions.begin() as session:
        session.add(LoginThrottle(key="pair:account:1|203.0.113.9", failures=2, last_failure_at=NOW))
    _migrate(engine, "0004")
    assert _throttle_keys(sessions) == {"address:203.0.113.9"}
    upgrade_schema(engine)
    assert INDEX in _indexes(engine)

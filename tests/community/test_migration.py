"""Migration 0003 goes down and up again on both databases, leaving the tables before it alone."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from dailypapers.db import _alembic_config, upgrade_schema

NEW_TABLES = {
    "users",
    "user_sessions",
    "api_tokens",
    "login_throttle",
    "votes",
    "paper_activity",
    "comments",
    "submissions",
    "moderation_log",
}


def test_migration_0003_downgrades_and_upgrades(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= NEW_TABLES
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    tables = set(inspect(engine).get_table_names())
    assert not NEW_TABLES & tables and {"papers", "subscriptions"} <= tables
    upgrade_schema(engine)
    assert set(inspect(engine).get_table_names()) >= NEW_TABLES

"""Migration 0002 goes down and up again on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from dailypapers.db import _alembic_config, upgrade_schema

NEW_TABLES = {"subscriptions", "outbox_messages", "digest_papers"}


def test_migration_0002_downgrades_and_upgrades(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= NEW_TABLES
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    tables = set(inspect(engine).get_table_names())
    assert not NEW_TABLES & tables and "papers" in tables
    upgrade_schema(engine)
    assert set(inspect(engine).get_table_names()) >= NEW_TABLES

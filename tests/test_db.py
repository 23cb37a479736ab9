"""Schema migrations when several processes start at once, as `serve --workers` does; IN-list chunks."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from dailypapers.config import Settings
from dailypapers.db import (
    IN_CHUNK,
    _alembic_config,
    chunked,
    create_engine_from_settings,
    has_tables,
    schema_is_current,
    upgrade_schema,
)

PROCESSES = 4


def _start(url: str, barrier: Any) -> str:
    engine = create_engine_from_settings(Settings(database_url=url))
    barrier.wait(timeout=60)  # every process reaches the migration together
    try:
        upgrade_schema(engine)
        return "ok"
    except Exception as exc:  # reported to the test, which shows what went wrong
        return f"{type(exc).__name__}: {exc}"
    finally:
        engine.dispose()


def _fresh_database(tmp_path: Path, pg_template: Any, name: str) -> str:
    if pg_template is None:
        return f"sqlite:///{tmp_path / f'{name}.db'}"
    server, _ = pg_template
    name = f"{name}_{os.getpid()}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return str(server.url(name))


@pytest.mark.parametrize("starting_at", [None, "0002"])
def test_processes_starting_together_migrate_once(
    tmp_path: Path, pg_template: Any, starting_at: str | None
) -> None:
    """From an empty database, and from an older schema (an upgrade of a running installation)."""
    for attempt in range(3):
        url = _fresh_database(tmp_path, pg_template, f"race_{starting_at}_{attempt}")
        engine = create_engine_from_settings(Settings(database_url=url))
        if starting_at:
            config = _alembic_config(engine)
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, starting_at)
        context = multiprocessing.get_context("spawn")
        with context.Manager() as manager:
            barrier = manager.Barrier(PROCESSES)
            with context.Pool(PROCESSES) as pool:
                outcomes = pool.starmap(_start, [(url, barrier)] * PROCESSES)
        assert outcomes == ["ok"] * PROCESSES
        assert has_tables(engine) and schema_is_current(engine)
        engine.dispose()


def test_chunked_keeps_order_and_takes_a_generator() -> None:
    values = range(2 * IN_CHUNK + 1)
    chunks = list(chunked(value for value in values))
    assert [len(chunk) for chunk in chunks] == [IN_CHUNK, IN_CHUNK, 1]
    assert [value for chunk in chunks for value in chunk] == list(values)
    assert list(chunked([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    assert list(chunked([])) == []

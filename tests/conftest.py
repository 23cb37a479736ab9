"""Fixtures shared by the whole suite.

Every test gets a fresh database: a new SQLite file under ``tmp_path``, or, with ``--db=postgresql``,
a new database on a real PostgreSQL server that this session starts (see ``pg_server.py``), cloned from
a migrated template so that creating it takes milliseconds.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory, upgrade_schema
from tests.digest.smtp import SmtpServer

REPO = Path(__file__).resolve().parents[1]
_counter = itertools.count()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default=os.environ.get("DAILYPAPERS_TEST_DB", "sqlite"),
        help="Database to run the suite against (default: sqlite).",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"dailypapers database: {config.getoption('--db')}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--db") != "postgresql":
        skip = pytest.mark.skip(reason="PostgreSQL-only test; run with --db=postgresql")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def db_kind(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--db"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real third-party data beside the checkout (``../shared/data``)."""
    path = Path(os.environ.get("DAILYPAPERS_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not (path / "README.md").exists():
        pytest.skip(f"real data not present at {path} (set DAILYPAPERS_SHARED_DATA to its folder)")
    return path


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """Where exported embedding models are kept between test runs (exporting takes tens of seconds)."""
    path = Path(os.environ.get("DAILYPAPERS_TEST_MODELS_DIR", REPO / ".cache" / "models"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def pg_template(db_kind: str) -> Iterator[tuple[object, str] | None]:
    """For PostgreSQL runs: a server for the whole session and a migrated template database."""
    if db_kind != "postgresql":
        yield None
        return
    from tests.pg_server import PostgresServer

    server = PostgresServer.start()
    try:
        admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE dp_template"))
        template = create_engine(server.url("dp_template"))
        upgrade_schema(template)
        template.dispose()
        admin.dispose()
        yield server, "dp_template"
    finally:
        server.stop()


@pytest.fixture
def database_url(tmp_path: Path, pg_template: tuple[object, str] | None) -> Iterator[str]:
    if pg_template is None:
        yield f"sqlite:///{tmp_path / 'data' / 'dailypapers.db'}"
        return
    server, template = pg_template
    name = f"test_{os.getpid()}_{next(_counter)}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")  # type: ignore[attr-defined]
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE {template}'))
    try:
        yield server.url(name)  # type: ignore[attr-defined]
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, arxiv_delay_seconds=0)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_engine_from_settings(settings)
    upgrade_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for running the CLI (in-process or as a subprocess) against this test's database."""
    return {
        "DAILYPAPERS_DATA_DIR": str(settings.data_dir),
        "DAILYPAPERS_DATABASE_URL": settings.resolved_database_url,
        # Building the search index embeds every paper; only the search tests want that.
        "DAILYPAPERS_AUTO_INDEX": "false",
    }


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback that keeps what it is sent."""
    server = SmtpServer().start()
    yield server
    server.stop()

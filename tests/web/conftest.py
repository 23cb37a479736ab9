"""Fixtures for the site and its API.

Every test gets a fresh database holding the real demo papers (Hugging Face daily papers, arXiv Atom,
OAI-PMH and snapshot files, the copied listing): they are ingested once per session into a template,
and each test gets a copy of it (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL),
so the tests stay independent without ingesting the same files again and again.

Search tests need an index. Building one with the embedding model takes a while, so the index shared by
most tests is built once, by the production ``IndexBuilder``, from vectors computed without a model
(``precomputed``, as the benchmarks do): a hashed bag of words of each paper, which makes papers with
words in common similar. Keyword search is exact either way; semantic search needs the model, and a
test that needs it builds its own index with it.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from dailypapers.config import Settings
from tests.web.support import build_test_index, ingest_demo, make_client

_copies = itertools.count()


@pytest.fixture(scope="session")
def demo_template(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path, pg_template: tuple[object, str] | None
) -> Iterator[tuple[str, Path]]:
    """A database holding the demo papers, and a data dir holding its search index."""
    folder = tmp_path_factory.mktemp("demo-template")
    if pg_template is None:
        url = f"sqlite:///{folder / 'dailypapers.db'}"
        settings = Settings(data_dir=folder, database_url=url)
        ingest_demo(settings, shared_data)
        build_test_index(settings)
        yield url, folder
        return
    server, template = pg_template
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")  # type: ignore[attr-defined]
    name = f"dp_web_template_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE {template}'))
    settings = Settings(data_dir=folder, database_url=server.url(name))  # type: ignore[attr-defined]
    ingest_demo(settings, shared_data)
    build_test_index(settings)
    try:
        yield settings.database_url, folder
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def models_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the embedding model's converted files, shared by every test's data dir: the
    conversion takes seconds, and only the first test that loads the model should pay for it."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def demo_settings(
    tmp_path: Path,
    demo_template: tuple[str, Path],
    pg_template: tuple[object, str] | None,
    models_cache: Path,
) -> Iterator[Settings]:
    """Settings for a fresh copy of the demo database (no search index: see ``indexed_settings``)."""
    template_url, template_dir = demo_template
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "models").symlink_to(models_cache, target_is_directory=True)
    if pg_template is None:
        shutil.copyfile(template_dir / "dailypapers.db", data_dir / "dailypapers.db")
        yield Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'dailypapers.db'}")
        return
    server, _ = pg_template
    template_name = template_url.rsplit("/", 1)[1]
    name = f"test_web_{os.getpid()}_{next(_copies)}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")  # type: ignore[attr-defined]
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    try:
        yield Settings(data_dir=data_dir, database_url=server.url(name))  # type: ignore[attr-defined]
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def indexed_settings(demo_settings: Settings, demo_template: tuple[str, Path]) -> Settings:
    """The demo database with the shared search index (hard links: the index is never written)."""
    shutil.copytree(demo_template[1] / "index", demo_settings.data_dir / "index", copy_function=os.link)
    return demo_settings


@pytest.fixture
def client(demo_settings: Settings) -> Iterator[TestClient]:
    with make_client(demo_settings) as test_client:
        yield test_client


@pytest.fixture
def indexed_client(indexed_settings: Settings) -> Iterator[TestClient]:
    with make_client(indexed_settings) as test_client:
        yield test_client

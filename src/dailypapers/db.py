"""Engine and session factory built from :class:`~dailypapers.config.Settings`, and schema migrations.

SQLite runs in WAL mode so that the web server keeps reading while an ingest writes, with foreign keys
on and a busy timeout so that two writers wait for each other instead of failing at once.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson

try:
    import fcntl
except ImportError:  # Windows: no flock; one process at a time must start the site there
    fcntl = None  # type: ignore[assignment]
from sqlalchemy import Engine, Table, create_engine, event, insert, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from dailypapers.errors import ConfigurationError, DatabaseError, MissingExtraError

MIGRATIONS_PACKAGE = "dailypapers:migrations"
# SQLite allows 32,766 bound parameters per statement; stay far below it for IN lists.
IN_CHUNK = 900

_T = TypeVar("_T")


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # NORMAL is durable in WAL mode except for the last transactions before a power loss; the
    # database itself never corrupts, and ingest commits are idempotent to repeat.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A 64 MB page cache (default 2 MB) keeps the upper levels of every index in memory, which matters
    # once a database holds millions of papers: ingest inserts into six B-trees per paper.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    # Checkpoint the WAL every 64 MB instead of every 4 MB: each checkpoint syncs the disk, and bulk
    # ingest commits tens of MB per batch. Readers are unaffected; the WAL is truncated afterwards.
    cursor.execute("PRAGMA wal_autocheckpoint=16384")
    cursor.close()


def create_engine_from_settings(settings: Settings, **kwargs: Any) -> Engine:
    """Create the engine for the configured database, making the data dir for a SQLite file."""
    url_text = settings.resolved_database_url
    try:
        url = make_url(url_text)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"DAILYPAPERS_DATABASE_URL is not a database URL: {url_text!r} "
            "(expected sqlite:///path/to/file.db or postgresql+psycopg://user:pass@host/dbname)"
        ) from exc
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
    elif url.get_backend_name() == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        kwargs.setdefault("pool_pre_ping", True)
    else:
        raise ConfigurationError(
            f"Unsupported database {url.get_backend_name()!r}: Daily Papers runs on SQLite and PostgreSQL."
        )
    # orjson is several times faster than json for the JSON columns written in bulk by ingest.
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    try:
        engine = create_engine(url, **kwargs)
    except NoSuchModuleError as exc:
        raise ConfigurationError(f"No SQLAlchemy driver for {url.drivername!r}") from exc
    except ModuleNotFoundError as exc:
        raise MissingExtraError("PostgreSQL", "postgres") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upsert_insert(engine_or_session: Engine | Session, table: Any) -> Any:
    """``INSERT`` for the dialect in use, with its ``on_conflict_do_*`` methods."""
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    dialect = bind.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows through the driver's ``executemany`` with the column types' own converters.

    Equivalent to ``session.execute(insert(table), rows)`` but without SQLAlchemy's per-row statement
    machinery, which costs more than SQLite itself when ingest writes millions of rows. Values are
    converted by the same bind processors SQLAlchemy would use, so what is stored is identical.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    compiled = insert(table).compile(dialect=dialect)
    names = [c.name for c in table.columns]
    processors = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names}
    order = list(compiled.positiontup or []) if compiled.positional else names
    converters = [
        (index, _last_value_cached(processor))
        for index, name in enumerate(order)
        if (processor := processors[name]) is not None
    ]
    getter = operator.itemgetter(*order)
    params: list[Any] = []
    for row in rows:
        values = list(getter(row)) if len(order) > 1 else [getter(row)]
        for index, convert in converters:
            values[index] = convert(values[index])
        params.append(tuple(values) if compiled.positional else dict(zip(order, values, strict=True)))
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(str(compiled), params)
    finally:
        cursor.close()


def chunked(values: Iterable[_T], size: int = IN_CHUNK) -> Iterator[list[_T]]:
    """``values`` in lists of at most ``size``, in order: one ``IN (...)`` or ``executemany`` per list.

    Takes any iterable, a generator included, so callers need not build the whole list first.
    """
    chunk: list[_T] = []
    for value in values:
        chunk.append(value)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _last_value_cached(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Remember the last conversion: a batch stamps the same timestamp object on every row."""
    last: list[Any] = [object(), None]

    def cached(value: Any) -> Any:
        if value is last[0]:
            return last[1]
        result = convert(value)
        last[0], last[1] = value, result
        return result

    return cached


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_PACKAGE)
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


# Key of the PostgreSQL advisory lock held while migrating ("dpmi").
_MIGRATION_LOCK = 0x64706D69


def upgrade_schema(engine: Engine) -> None:
    """Bring the database to the newest schema (creating it when empty). Safe to call every start.

    Several processes may start at once (``serve --workers``, a scheduler beside the site): one migrates
    while the others wait for it and then find nothing to do. PostgreSQL serialises them with an
    advisory lock held for the migration's transaction; SQLite with a lock on a file beside the database.
    """
    from alembic import command

    config = _alembic_config(engine)
    try:
        with _sqlite_migration_lock(engine), engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise DatabaseError(f"Cannot open the database at {engine.url!r}: {exc.orig}") from exc


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or fcntl is None:
        yield
        return
    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def schema_is_current(engine: Engine) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(engine))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        return set(context.get_current_heads()) == set(script.get_heads())


def has_tables(engine: Engine) -> bool:
    return bool(inspect(engine).get_table_names())

"""Alembic environment: runs migrations on the connection handed over by ``dailypapers.db``.

``upgrade_schema`` passes its open connection in ``config.attributes`` so that migrations run inside the
caller's transaction; the URL is used only when Alembic is driven from its own command line.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from dailypapers.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables instead
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)

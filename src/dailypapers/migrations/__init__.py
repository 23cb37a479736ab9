"""Alembic migrations; run through :func:`dailypapers.db.upgrade_schema`."""

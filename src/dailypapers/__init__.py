"""Daily Papers: a self-hostable research-paper hub.

Importing the package does nothing but define names; databases, indexes and models are created by
the functions that need them (see :func:`dailypapers.db.create_engine_from_settings`).
"""

__version__ = "0.1.0"

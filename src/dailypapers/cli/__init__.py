"""The ``dailypapers`` command line: thin Typer commands over the library.

``common`` holds the app and what every command shares; ``papers``, ``categories``, ``search``, ``digest``
and ``users`` add their commands to it. Errors derived from :class:`~dailypapers.errors.DailyPapersError`
become a one-line message on stderr and the error's exit code (see :class:`~dailypapers.cli.common.Group`);
no traceback reaches the user.
"""

from __future__ import annotations

from dailypapers.cli import categories, digest, papers, search, users
from dailypapers.cli.common import app

digest.register(app)
users.register(app)


def main() -> None:
    """Entry point of the ``dailypapers`` script."""
    app()


__all__ = ["app", "categories", "main", "papers", "search", "users"]

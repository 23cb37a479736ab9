"""The ``dailypapers`` command line: thin Typer commands over the library.

``common`` holds the app and what every command shares; ``papers``, ``categories``, ``search``, ``digest``,
``users`` and ``run`` each add their commands or groups to it, the one way: decorators and ``add_typer`` on
``common.app``, run when this package imports them.

Errors derived from :class:`~dailypapers.errors.DailyPapersError` become a one-line message on stderr and
the error's exit code (see :class:`~dailypapers.cli.common.Group`); no traceback reaches the user.
"""

from __future__ import annotations

from dailypapers.cli import categories, digest, papers, run, search, users  # noqa: F401  (their commands)
from dailypapers.cli.common import app


def main() -> None:
    """Entry point of the ``dailypapers`` script."""
    app()


__all__ = ["app", "categories", "main", "papers", "search", "users"]

"""``dailypapers run``: the site, and on a schedule (``scheduler.py``) fetching, indexing and digests."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from dailypapers.cli.common import app, err_console, runtime
from dailypapers.errors import ConfigurationError
from dailypapers.signing import check_serving


@app.command("run")
def run(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the site and, on a schedule, fetch new papers, update search and send due digests."""
    import uvicorn

    from dailypapers.ingest.arxiv_ids import validate_category
    from dailypapers.scheduler import ScheduledJobs, build_scheduler
    from dailypapers.web.app import create_app

    rt = runtime(ctx)
    settings = rt.settings
    check_serving(settings, host)
    for category in settings.fetch_categories:
        try:
            validate_category(category)
        except ValueError as exc:
            raise ConfigurationError(f"DAILYPAPERS_FETCH_CATEGORIES: {exc}") from None
    _ = rt.engine  # create or upgrade the schema before anything runs
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
        )
    jobs = ScheduledJobs(settings, rt.sessions)
    scheduler = build_scheduler(jobs, settings)
    err_console.print(
        f"Mail goes to {jobs.mailer.description}; fetching "
        + (
            f"every {settings.fetch_interval_minutes} min"
            if settings.fetch_interval_minutes and (settings.fetch_categories or settings.fetch_hf)
            else "is off"
        ),
        highlight=False,
    )
    scheduler.start()
    try:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
    finally:
        scheduler.shutdown(wait=False)


__all__ = ["run"]

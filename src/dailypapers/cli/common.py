"""What the ``dailypapers`` commands share: the app, settings and database, output, progress bars.

Errors derived from :class:`~dailypapers.errors.DailyPapersError` are turned into a one-line message on
stderr and the error's exit code by :class:`Group`; no traceback reaches the user.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Column, Table
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import __version__
from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory, upgrade_schema
from dailypapers.errors import ConfigurationError, DailyPapersError, MissingExtraError
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.ingest.pipeline import IngestReport

console = Console()
err_console = Console(stderr=True)


class Group(typer.core.TyperGroup):
    """Turns errors meant for the user into one line on stderr and the error's exit code."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # Typer's base takes its Context
        try:
            return super().invoke(ctx)
        except DailyPapersError as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            # Text, not markup: messages quote user input, which may contain [brackets].
            err_console.print(Text.assemble(("Error: ", "bold red"), message), soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("Interrupted.")
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=Group,
    help="Daily Papers: a self-hostable research-paper hub.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
papers_app = typer.Typer(cls=Group, help="List and show papers.", no_args_is_help=True)
fetch_app = typer.Typer(
    cls=Group, help="Fetch new papers live from arXiv or Hugging Face.", no_args_is_help=True
)
app.add_typer(papers_app, name="papers")
app.add_typer(fetch_app, name="fetch")


# --------------------------------------------------------------------------------------------------
# Shared state
# --------------------------------------------------------------------------------------------------


@dataclass
class Runtime:
    """What the commands share: settings, then the engine and session factory on first use."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        engine = create_engine_from_settings(self.settings)
        upgrade_schema(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"DAILYPAPERS_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc


def runtime(ctx: typer.Context) -> Runtime:
    root = ctx.find_root()
    if not isinstance(root.obj, Runtime):
        root.obj = Runtime(load_settings())
    return root.obj


def _version_callback(value: bool) -> None:
    if value:
        console.print(f"dailypapers {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Daily Papers: a self-hostable research-paper hub."""


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


LABEL_WIDTH = 22
"""Characters of a bar's label: with the bar and its figures, a row fits 80 columns."""


class RateColumn(ProgressColumn):
    """Items per second (``120/s``), or nothing until there is a rate to show."""

    max_refresh = 0.5

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        # A handful of steps ("Keyword index 1/2") has no meaningful rate.
        if speed is None or (task.total is not None and task.total < 10):
            return Text("", style="progress.data.speed")
        shown = f"{speed:,.0f}/s" if speed >= 10 else f"{speed:.1f}/s"
        return Text(shown, style="progress.data.speed")


def make_progress(unit: str = "bytes", *, console: Console | None = None) -> Progress:
    """Rows of label, bar, done/total, rate and time left, that stay readable in 80 columns.

    The label has a fixed width and long ones (file paths) are cut with an ellipsis; left to Rich, a
    long label squeezed the bar and the figures of every row to "━ … ?".
    """
    counters: tuple[ProgressColumn, ...] = (
        (DownloadColumn(), TransferSpeedColumn()) if unit == "bytes" else (MofNCompleteColumn(), RateColumn())
    )
    return Progress(
        TextColumn(
            "[bold]{task.description}",
            table_column=Column(width=LABEL_WIDTH, no_wrap=True, overflow="ellipsis"),
        ),
        BarColumn(bar_width=16),
        *counters,
        TimeRemainingColumn(),
        console=console or err_console,
        transient=False,
    )


def short_label(label: str) -> str:
    """A file's name, or the end of it, in :data:`LABEL_WIDTH` characters."""
    name = Path(label).name or label
    return name if len(name) <= LABEL_WIDTH else "…" + name[-(LABEL_WIDTH - 1) :]


@contextmanager
def progress_bar(
    enabled: bool, *, unit: str = "bytes", console: Console | None = None
) -> Iterator[Callable[[str, int, int | None], None] | None]:
    """A Rich progress bar fed by (label, done, total) callbacks, one row per label; silent when disabled."""
    if not enabled:
        yield None
        return
    progress = make_progress(unit, console=console)
    tasks: dict[str, TaskID] = {}

    def update(label: str, done: int, total: int | None) -> None:
        if label not in tasks:
            tasks[label] = progress.add_task(short_label(label), total=total)
        progress.update(tasks[label], completed=done, total=total)

    with progress:
        yield update


def print_ingest_report(report: IngestReport, *, dry_run: bool, what: str) -> None:
    verb = "Would ingest" if dry_run else "Ingested"
    console.print(
        f"{verb} {what}: [bold green]{report.new:,} new[/], [bold]{report.updated:,} updated[/], "
        f"{report.unchanged:,} unchanged, "
        + (f"[bold red]{report.rejected:,} rejected[/]" if report.rejected else "0 rejected"),
        highlight=False,
    )
    if report.errors:
        table = Table(title="Rejected records", title_justify="left")
        table.add_column("file")
        table.add_column("position")
        table.add_column("reason")
        for error in report.errors[:20]:
            table.add_row(error["file"], error["position"], error["reason"])
        console.print(table)
        if report.rejected > 20:
            console.print(f"... and {report.rejected - 20:,} more (use --json to see up to 1,000).")
    for skipped in report.skipped:
        err_console.print(f"[yellow]Skipped[/] {skipped['file']}: {skipped['reason']}", highlight=False)


def search_runtime() -> Any:
    """The search wiring, or a clear error when the search extra is not installed."""
    try:
        from dailypapers.search import runtime as search_runtime
    except ImportError as exc:
        raise MissingExtraError("Search", "search") from exc
    return search_runtime


def update_index_after_ingest(rt: Runtime, *, quiet: bool) -> None:
    """Keep search in step with the papers, then predict the categories that no source gave (they need
    the new papers' vectors). A failure here does not undo the ingest."""
    try:
        with progress_bar(not quiet and err_console.is_terminal, unit="items") as progress:
            built = search_runtime().update_index(rt.settings, rt.sessions, progress=progress)
    except DailyPapersError as exc:
        err_console.print(
            Text.assemble(
                ("Warning: ", "bold yellow"),
                f"the papers are in, but the search index was not updated: {exc}",
            )
        )
        return
    if not quiet:
        err_console.print(
            f"Search index {built.version}: {built.documents:,} papers, {built.embedded:,} embedded, "
            f"{built.reused:,} reused.",
            highlight=False,
        )
    predict_categories_after_index(rt, quiet=quiet)


def predict_categories_after_index(rt: Runtime, *, quiet: bool) -> None:
    from dailypapers.categories import predict_missing

    report = predict_missing(rt.settings, rt.sessions)
    if report.predicted and not quiet:
        err_console.print(
            f"Categories predicted for {report.predicted:,} papers that no source gave any "
            "(from their nearest papers; `dailypapers categories lookup` asks arXiv for the real ones).",
            highlight=False,
        )


def parse_day(value: str, option: str) -> date:
    if value == "today":
        return datetime.now(UTC).date()
    if value == "yesterday":
        return datetime.now(UTC).date() - timedelta(days=1)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; use YYYY-MM-DD, 'today' or 'yesterday'", param_hint=option
        ) from None


DryRun = Annotated[bool, typer.Option("--dry-run", help="Fetch and report; write nothing.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def short_authors(authors: list[str]) -> str:
    if len(authors) <= 2:
        return ", ".join(authors)
    return f"{authors[0]} et al."


def normalise_id(value: str) -> str:
    parsed = parse_arxiv_id(value)
    return parsed.id if parsed else value.strip()

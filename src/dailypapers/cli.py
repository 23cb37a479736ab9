"""The ``dailypapers`` command line: thin Typer commands over the library.

Errors derived from :class:`~dailypapers.errors.DailyPapersError` are turned into a one-line message on
stderr and the error's exit code by :class:`_Group`; no traceback reaches the user.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
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
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import __version__, store
from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory, upgrade_schema
from dailypapers.errors import ConfigurationError, DailyPapersError, MissingExtraError, NotFoundError
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.ingest.formats.detect import Format
from dailypapers.ingest.pipeline import Ingestor, IngestReport
from dailypapers.ingest.records import new_on_feed
from dailypapers.serialize import paper_to_bibtex, paper_to_dict

console = Console()
err_console = Console(stderr=True)


class _Group(typer.core.TyperGroup):
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
    cls=_Group,
    help="Daily Papers: a self-hostable research-paper hub.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
papers_app = typer.Typer(cls=_Group, help="List and show papers.", no_args_is_help=True)
fetch_app = typer.Typer(
    cls=_Group, help="Fetch new papers live from arXiv or Hugging Face.", no_args_is_help=True
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


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


@contextmanager
def _progress(
    enabled: bool, *, unit: str = "bytes"
) -> Iterator[Callable[[str, int, int | None], None] | None]:
    """A Rich progress bar fed by (label, done, total) callbacks; silent when disabled."""
    if not enabled:
        yield None
        return
    counters = (DownloadColumn(), TransferSpeedColumn()) if unit == "bytes" else (MofNCompleteColumn(),)
    progress = Progress(
        TextColumn("[bold]{task.description}", justify="left"),
        BarColumn(),
        *counters,
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def update(label: str, done: int, total: int | None) -> None:
        if label not in tasks:
            tasks[label] = progress.add_task(Path(label).name, total=total)
        progress.update(tasks[label], completed=done, total=total)

    with progress:
        yield update


def _print_report(report: IngestReport, *, dry_run: bool, what: str) -> None:
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


# --------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the data folder and the database (or bring its schema up to date)."""
    rt = runtime(ctx)
    rt.settings.data_dir.mkdir(parents=True, exist_ok=True)
    _ = rt.engine
    url = make_url(rt.settings.resolved_database_url)
    console.print(f"Database ready: {url.render_as_string(hide_password=True)}", highlight=False)


FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format", "-f", help="Skip detection and read every file in this format.", case_sensitive=False
    ),
]


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to read.", show_default=False)],
    format: FormatOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    index: Annotated[
        bool | None,
        typer.Option(help="Update the search index afterwards (default: DAILYPAPERS_AUTO_INDEX)."),
    ] = None,
) -> None:
    """Read papers from files and folders; the format of each file is detected from its content.

    Formats: arXiv API Atom, arXiv OAI-PMH, the arXiv metadata snapshot (JSON lines), Hugging Face
    daily papers JSON, a plain-text listing (title, blank line, abstract), and BEIR corpus.jsonl.
    """
    rt = runtime(ctx)
    with _progress(not as_json and err_console.is_terminal) as progress:
        ingestor = Ingestor(
            rt.sessions, batch_size=rt.settings.ingest_batch_size, dry_run=dry_run, progress=progress
        )
        report = ingestor.ingest_paths(paths, forced=format)
    for message in ingestor.messages:
        err_console.print(message, highlight=False)
    if as_json:
        _print_json(report.to_json())
    else:
        _print_report(report, dry_run=dry_run, what=f"{len(report.files)} file(s)")
    wanted = rt.settings.auto_index if index is None else index
    if wanted and not dry_run and (report.new or report.updated):
        _update_index_after_ingest(rt, quiet=as_json)


def _search_runtime() -> Any:
    """The search wiring, or a clear error when the search extra is not installed."""
    try:
        from dailypapers.search import runtime as search_runtime
    except ImportError as exc:
        raise MissingExtraError("Search", "search") from exc
    return search_runtime


def _update_index_after_ingest(rt: Runtime, *, quiet: bool) -> None:
    """Keep search in step with the papers; a failure here does not undo the ingest."""
    try:
        with _progress(not quiet and err_console.is_terminal, unit="items") as progress:
            built = _search_runtime().update_index(rt.settings, rt.sessions, progress=progress)
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


def _parse_day(value: str, option: str) -> date:
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


@contextmanager
def _clients(rt: Runtime) -> Iterator[Any]:
    from dailypapers.ingest import clients

    with clients.make_clients(
        rt.settings, on_wait=lambda msg: err_console.print(f"[yellow]{msg}[/]")
    ) as made:
        yield made


def _ingest_fetched(rt: Runtime, records: Any, *, label: str, dry_run: bool, as_json: bool) -> None:
    ingestor = Ingestor(rt.sessions, batch_size=rt.settings.ingest_batch_size, dry_run=dry_run)
    report = ingestor.ingest_records(records, label=label)
    if as_json:
        _print_json(report.to_json())
    else:
        _print_report(report, dry_run=dry_run, what=label)
    if rt.settings.auto_index and not dry_run and (report.new or report.updated):
        _update_index_after_ingest(rt, quiet=as_json)


def _counting(records: Any, progress: Progress, task: TaskID) -> Iterator[Any]:
    for record in records:
        progress.advance(task)
        yield record


@contextmanager
def _record_progress(description: str, enabled: bool) -> Iterator[Callable[[Any], Any]]:
    if not enabled:
        yield lambda records: records
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        MofNCompleteColumn(),
        TextColumn("records"),
        console=err_console,
    )
    with progress:
        task = progress.add_task(description, total=None)
        yield lambda records: _counting(records, progress, task)


DryRun = Annotated[bool, typer.Option("--dry-run", help="Fetch and report; write nothing.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


@fetch_app.command("arxiv")
def fetch_arxiv(
    ctx: typer.Context,
    category: Annotated[
        list[str], typer.Option("--category", "-c", help="arXiv category, e.g. cs.CL (repeatable).")
    ],
    since: Annotated[str, typer.Option(help="Earliest submission date (YYYY-MM-DD, 'today', 'yesterday').")],
    until: Annotated[str | None, typer.Option(help="Latest submission date.")] = None,
    dry_run: DryRun = False,
    as_json: AsJson = False,
) -> None:
    """New papers in arXiv categories from the arXiv query API (3 s between calls, as arXiv asks)."""
    from dailypapers.ingest.clients import validate_category

    for cat in category:
        try:
            validate_category(cat)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--category") from None
    rt = runtime(ctx)
    since_day = _parse_day(since, "--since")
    until_day = _parse_day(until, "--until") if until else None
    with _clients(rt) as made, _record_progress("arXiv", not as_json and err_console.is_terminal) as wrap:

        def records() -> Iterator[Any]:
            for cat in category:
                yield from made.arxiv.new_in_category(cat, since_day, until=until_day)

        _ingest_fetched(
            rt,
            wrap(new_on_feed(records(), since_day, until_day)),
            label=f"arXiv {', '.join(category)}",
            dry_run=dry_run,
            as_json=as_json,
        )


@fetch_app.command("oai")
def fetch_oai(
    ctx: typer.Context,
    set_spec: Annotated[str | None, typer.Option("--set", help="OAI set, e.g. cs or physics:hep-th.")] = None,
    from_: Annotated[
        str, typer.Option("--from", help="Records changed on or after this date.")
    ] = "yesterday",
    until: Annotated[str | None, typer.Option(help="Records changed up to this date.")] = None,
    dry_run: DryRun = False,
    as_json: AsJson = False,
) -> None:
    """Harvest arXiv metadata over OAI-PMH (follows resumption tokens, waits out Retry-After)."""
    rt = runtime(ctx)
    from_day = _parse_day(from_, "--from")
    until_day = _parse_day(until, "--until") if until else None
    with _clients(rt) as made, _record_progress("OAI-PMH", not as_json and err_console.is_terminal) as wrap:
        records = made.oai.list_records(set_spec=set_spec, from_date=from_day, until=until_day)
        _ingest_fetched(
            rt,
            wrap(new_on_feed(records, from_day, until_day)),
            label=f"OAI-PMH set {set_spec or 'all'}",
            dry_run=dry_run,
            as_json=as_json,
        )


@fetch_app.command("hf")
def fetch_hf(
    ctx: typer.Context,
    day: Annotated[
        str, typer.Option("--date", help="Feed day (YYYY-MM-DD, 'today', 'yesterday').")
    ] = "today",
    dry_run: DryRun = False,
    as_json: AsJson = False,
) -> None:
    """The Hugging Face daily papers of one day, with their upvotes and submitters."""
    rt = runtime(ctx)
    feed_day = _parse_day(day, "--date")
    with _clients(rt) as made:
        records = made.hf.daily_papers(feed_day)
        _ingest_fetched(rt, records, label=f"Hugging Face {feed_day}", dry_run=dry_run, as_json=as_json)


@app.command()
def stats(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Counts: papers, papers per source, feed entries and days."""
    rt = runtime(ctx)
    with rt.session() as session:
        numbers = store.stats(session)
    if as_json:
        _print_json(numbers)
        return
    table = Table(show_header=False, box=None)
    table.add_row("papers", f"{numbers['papers']:,}")
    table.add_row("  with an arXiv id", f"{numbers['with_arxiv_id']:,}")
    table.add_row("  without", f"{numbers['without_arxiv_id']:,}")
    for source, count in numbers["sources"].items():
        table.add_row(f"  from {source}", f"{count:,}")
    table.add_row("feed entries", f"{numbers['feed_entries']:,}")
    table.add_row("feed days", f"{numbers['feed_days']:,}")
    if numbers["feed_first_day"]:
        table.add_row("feed range", f"{numbers['feed_first_day']} to {numbers['feed_last_day']}")
    table.add_row("categories", f"{numbers['categories']:,}")
    console.print(table)


def _short_authors(authors: list[str]) -> str:
    if len(authors) <= 2:
        return ", ".join(authors)
    return f"{authors[0]} et al."


@papers_app.command("list")
def papers_list(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option("--date", help="Papers on the feed of this day.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="How many papers.")] = 20,
    as_json: AsJson = False,
) -> None:
    """Papers on one day's feed (most upvoted first), or the most recently published papers."""
    rt = runtime(ctx)
    with rt.session() as session:
        if day:
            papers = store.papers_for_day(session, day=_parse_day(day, "--date"), limit=limit)
        else:
            papers = store.latest_papers(session, limit=limit)
        rows = [paper_to_dict(p) for p in papers]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        console.print("No papers" + (f" on {day}." if day else " yet: add some with `dailypapers ingest`."))
        return
    table = Table()
    table.add_column("id", no_wrap=True)
    table.add_column("title")
    table.add_column("authors")
    table.add_column("category", no_wrap=True)
    table.add_column("▲", justify="right")
    for row in rows:
        table.add_row(
            row["id"],
            row["title"],
            _short_authors(row["authors"]),
            row["primary_category"] or "",
            str(row["feed"]["upvotes"]) if row["feed"] else "",
        )
    console.print(table)


def _normalise_id(value: str) -> str:
    parsed = parse_arxiv_id(value)
    return parsed.id if parsed else value.strip()


@papers_app.command("show")
def papers_show(
    ctx: typer.Context,
    paper_id: Annotated[
        str, typer.Argument(help="arXiv id (with or without version), arXiv URL, or local id.")
    ],
    as_json: AsJson = False,
) -> None:
    """Everything known about one paper."""
    rt = runtime(ctx)
    with rt.session() as session:
        paper = store.get_paper(session, paper_id=_normalise_id(paper_id))
        if paper is None:
            raise NotFoundError(f"no paper {paper_id!r} (try `dailypapers papers list`)")
        data = paper_to_dict(paper)
    if as_json:
        _print_json(data)
        return
    console.print(f"[bold]{data['title']}[/]", highlight=False)
    console.print(", ".join(data["authors"]), highlight=False)
    facts = Table(show_header=False, box=None)
    facts.add_row("id", data["id"] + (f" (v{data['version']})" if data["version"] else ""))
    for label, key in (("categories", "categories"),):
        if data[key]:
            facts.add_row(label, " ".join(data[key]))
    for label, key in (
        ("published", "published"),
        ("updated", "updated"),
        ("journal", "journal_ref"),
        ("doi", "doi"),
        ("comments", "comments"),
        ("license", "license"),
    ):
        if data[key]:
            facts.add_row(label, str(data[key]))
    for name, url in data["links"].items():
        if url and name != "doi":
            facts.add_row(name, " ".join(url) if isinstance(url, list) else url)
    facts.add_row("sources", ", ".join(s["source"] for s in data["sources"]))
    if data["feed"]:
        feed = data["feed"]
        who = f" by {feed['submitted_by']}" if feed["submitted_by"] else ""
        facts.add_row(
            "feed", f"{feed['day']}{who}, {feed['upvotes']} upvotes, {feed['num_comments']} comments"
        )
    console.print(facts)
    console.print()
    console.print(data["abstract"], highlight=False)


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    bibtex = "bibtex"


@app.command()
def export(
    ctx: typer.Context,
    format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="jsonl or bibtex.")
    ] = ExportFormat.jsonl,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Export every paper as JSON lines or BibTeX."""
    rt = runtime(ctx)
    target = output.open("w", encoding="utf-8") if output else sys.stdout
    count = 0
    try:
        with rt.session() as session:
            for paper in store.iter_papers(session):
                if format is ExportFormat.jsonl:
                    target.write(json.dumps(paper_to_dict(paper), ensure_ascii=False) + "\n")
                else:
                    target.write(paper_to_bibtex(paper) + "\n")
                count += 1
    finally:
        if output:
            target.close()
    if output:
        err_console.print(f"Wrote {count:,} papers to {output}", highlight=False)


@app.command()
def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the copy.")],
) -> None:
    """A consistent copy of the database, safe to take while the site runs."""
    rt = runtime(ctx)
    url = make_url(rt.settings.resolved_database_url)
    file = file.expanduser()
    if file.parent and not file.parent.exists():
        raise NotFoundError(f"folder {file.parent} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=".backup-", dir=file.parent or Path("."))
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if url.get_backend_name() == "sqlite":
            _ = rt.engine  # make sure the schema exists
            # The SQLite online backup API copies a consistent snapshot while other connections write.
            source = sqlite3.connect(url.database or "")
            target = sqlite3.connect(tmp)
            try:
                with target:
                    source.backup(target)
            finally:
                source.close()
                target.close()
        else:
            pg_dump = shutil.which("pg_dump")
            if pg_dump is None:
                raise ConfigurationError(
                    "backing up PostgreSQL needs pg_dump on PATH (apt-get install postgresql-client)"
                )
            plain_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
            # pg_dump runs in one repeatable-read transaction: a consistent snapshot while the site writes.
            done = subprocess.run(
                [pg_dump, "--format=custom", "--no-owner", f"--file={tmp}", plain_url],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise DailyPapersError(
                    f"pg_dump failed: {done.stderr.strip().splitlines()[-1] if done.stderr else ''}"
                )
        tmp.replace(file)
    finally:
        tmp.unlink(missing_ok=True)
    console.print(f"Backed up to {file} ({file.stat().st_size:,} bytes)", highlight=False)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (PostgreSQL for more than one).")] = 1,
) -> None:
    """Serve the site and its JSON API."""
    import uvicorn

    from dailypapers.signing import check_serving

    rt = runtime(ctx)
    check_serving(rt.settings, host)
    _ = rt.engine  # create or upgrade the schema once, before workers start
    if workers > 1:
        uvicorn.run(
            "dailypapers.web.app:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
        )
    else:
        from dailypapers.web.app import create_app

        uvicorn.run(create_app(rt.settings), host=host, port=port, log_level="info")


# --------------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------------

eval_app = typer.Typer(
    cls=_Group, help="Measure search quality on standard benchmarks.", no_args_is_help=True
)
app.add_typer(eval_app, name="eval")


class SearchMode(StrEnum):
    bm25 = "bm25"
    dense = "dense"
    hybrid = "hybrid"


@app.command("index")
def index_command(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild everything, re-embedding every paper.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Build or update the search index (only new or changed papers are embedded)."""
    rt = runtime(ctx)
    with _progress(not as_json and err_console.is_terminal, unit="items") as progress:
        built = _search_runtime().update_index(rt.settings, rt.sessions, progress=progress, force=force)
    if as_json:
        _print_json(built.to_json())
    elif built.up_to_date:
        console.print(
            f"Search index {built.version} is up to date ({built.documents:,} papers).", highlight=False
        )
    else:
        console.print(
            f"Search index {built.version}: {built.documents:,} papers ({built.embedded:,} embedded, "
            f"{built.reused:,} reused), {built.passages:,} passages, in {built.seconds:.1f} s.",
            highlight=False,
        )


def _results_json(rt: Runtime, results: Any) -> dict[str, Any]:
    with rt.session() as session:
        papers = {p.id: p for p in store.papers_by_ids(session, ids=[h.id for h in results.hits])}
    data = results.to_json()
    for item in data["results"]:
        paper = papers.get(item["id"])
        if paper is not None:
            item.update(
                title=paper.title,
                authors=list(paper.authors or []),
                categories=list(paper.categories or []),
                published=paper.published_at.date().isoformat() if paper.published_at else None,
            )
        else:
            item.update(title=None, authors=[], categories=[], published=None)
    return data


def _print_results(data: dict[str, Any]) -> None:
    for notice in data.get("notices", []):
        err_console.print(Text.assemble(("Note: ", "yellow"), notice))
    if not data["results"]:
        console.print("No results.")
        return
    table = Table()
    table.add_column("#", justify="right")
    table.add_column("id", no_wrap=True)
    table.add_column("title")
    table.add_column("authors")
    table.add_column("score", justify="right")
    for rank, item in enumerate(data["results"], 1):
        table.add_row(
            str(rank),
            item["id"],
            item["title"] or "",
            _short_authors(item["authors"]),
            f"{item['score']:.3f}",
        )
    console.print(table)


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[
        str, typer.Argument(help='Words, "phrases", author:, cat:, since:, until:, or an arXiv id.')
    ],
    k: Annotated[int, typer.Option("-k", min=1, max=1000, help="Number of results.")] = 10,
    mode: Annotated[SearchMode, typer.Option(help="bm25, dense or hybrid.")] = SearchMode.hybrid,
    since: Annotated[str | None, typer.Option(help="Published on or after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Published on or before (YYYY-MM-DD).")] = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", "-c", help="Only this category.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Search papers: keyword, semantic, or both (the default)."""
    rt = runtime(ctx)
    service = _search_runtime().make_search_service(rt.settings, rt.sessions)
    results = service.search(
        query,
        k=k,
        mode=mode.value,
        since=_parse_day(since, "--since") if since else None,
        until=_parse_day(until, "--until") if until else None,
        categories=category or [],
    )
    data = _results_json(rt, results)
    if as_json:
        _print_json(data)
    else:
        _print_results(data)


@app.command()
def similar(
    ctx: typer.Context,
    paper_id: Annotated[str, typer.Argument(help="arXiv id, arXiv URL or local id.")],
    k: Annotated[int, typer.Option("-k", min=1, max=1000, help="Number of results.")] = 10,
    as_json: AsJson = False,
) -> None:
    """Papers most similar to one paper."""
    rt = runtime(ctx)
    results = (
        _search_runtime().make_search_service(rt.settings, rt.sessions).similar(_normalise_id(paper_id), k=k)
    )
    data = _results_json(rt, results)
    if as_json:
        _print_json(data)
    else:
        _print_results(data)


@eval_app.command("beir")
def eval_beir(
    ctx: typer.Context,
    folder: Annotated[
        Path, typer.Argument(help="A BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/).")
    ],
    split: Annotated[str, typer.Option(help="Which qrels file to evaluate on.")] = "test",
    mode: Annotated[SearchMode, typer.Option(help="bm25, dense or hybrid.")] = SearchMode.hybrid,
    work_dir: Annotated[
        Path | None, typer.Option(help="Data dir for the evaluation index (default: <data dir>/eval/<name>).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """nDCG@10, recall@100 and MRR@10 on a BEIR dataset, indexed in a data dir of its own."""
    from dailypapers.search.evaluate import evaluate_beir

    rt = runtime(ctx)
    with _progress(not as_json and err_console.is_terminal, unit="items") as progress:
        result = evaluate_beir(
            folder, split=split, mode=mode.value, settings=rt.settings, work_dir=work_dir, progress=progress
        )
    if as_json:
        _print_json(result)
        return
    table = Table(title=f"{result['dataset']} ({split}, {result['queries']} queries, mode {mode.value})")
    for column in ("metric", "value", "95% CI"):
        table.add_column(column, justify="right" if column != "metric" else "left")
    for metric in ("ndcg@10", "recall@100", "mrr@10"):
        low, high = result["ci95"][metric]
        table.add_row(metric, f"{result[metric]:.4f}", f"{low:.4f} - {high:.4f}")
    console.print(table)


# `digest`, `subscribers` and `run` live in cli_digest, which imports the helpers above: register it last.
from dailypapers import cli_digest  # noqa: E402

cli_digest.register(app)


def main() -> None:
    """Entry point of the ``dailypapers`` script."""
    app()


if __name__ == "__main__":
    main()


__all__ = ["app", "main"]

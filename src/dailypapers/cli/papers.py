"""Commands about papers: init, ingest, fetch, stats, papers list/show, export, backup, serve."""

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
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table
from sqlalchemy.engine import make_url

from dailypapers import store
from dailypapers.cli.common import (
    AsJson,
    DryRun,
    Runtime,
    app,
    console,
    err_console,
    fetch_app,
    normalise_id,
    papers_app,
    parse_day,
    print_ingest_report,
    print_json,
    progress_bar,
    runtime,
    short_authors,
    update_index_after_ingest,
)
from dailypapers.errors import ConfigurationError, DailyPapersError, NotFoundError
from dailypapers.ingest.formats.detect import Format
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import PaperRecord, new_on_feed
from dailypapers.serialize import paper_to_bibtex, paper_to_dict

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
    with progress_bar(not as_json and err_console.is_terminal) as progress:
        ingestor = Ingestor(
            rt.sessions, batch_size=rt.settings.ingest_batch_size, dry_run=dry_run, progress=progress
        )
        report = ingestor.ingest_paths(paths, forced=format)
    for message in ingestor.messages:
        err_console.print(message, highlight=False)
    if as_json:
        print_json(report.to_json())
    else:
        print_ingest_report(report, dry_run=dry_run, what=f"{len(report.files)} file(s)")
    wanted = rt.settings.auto_index if index is None else index
    if wanted and not dry_run and (report.new or report.updated):
        update_index_after_ingest(rt, quiet=as_json)


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
        print_json(report.to_json())
    else:
        print_ingest_report(report, dry_run=dry_run, what=label)
    if rt.settings.auto_index and not dry_run and (report.new or report.updated):
        update_index_after_ingest(rt, quiet=as_json)


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
    from dailypapers.ingest.arxiv_ids import validate_category

    for cat in category:
        try:
            validate_category(cat)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--category") from None
    rt = runtime(ctx)
    since_day = parse_day(since, "--since")
    until_day = parse_day(until, "--until") if until else None
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
    from_day = parse_day(from_, "--from")
    until_day = parse_day(until, "--until") if until else None
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
    """The Hugging Face daily papers of one day, with their upvotes and submitters.

    Hugging Face names no categories, so they are then looked up on the arXiv API (100 ids a call, at
    arXiv's pace); those arXiv cannot give are predicted from similar papers after the index update.
    """
    from dailypapers.cli.categories import lookup_categories

    rt = runtime(ctx)
    feed_day = parse_day(day, "--date")
    label = f"Hugging Face {feed_day}"
    with _clients(rt) as made:
        records = made.hf.daily_papers(feed_day)
        ingestor = Ingestor(rt.sessions, batch_size=rt.settings.ingest_batch_size, dry_run=dry_run)
        report = ingestor.ingest_records(records, label=label)
        ids = [r.arxiv_id for r in records if isinstance(r, PaperRecord) and r.arxiv_id]
        # A dry run writes nothing, so there is nothing to look up for.
        lookup = None if dry_run else lookup_categories(rt, made, ids, dry_run=dry_run, quiet=as_json)
    if as_json:
        print_json({**report.to_json(), "arxiv_lookup": lookup.to_json() if lookup else None})
    else:
        print_ingest_report(report, dry_run=dry_run, what=label)
    looked_up = lookup is not None and lookup.report is not None and lookup.report.updated
    if rt.settings.auto_index and not dry_run and (report.new or report.updated or looked_up):
        update_index_after_ingest(rt, quiet=as_json)


@app.command()
def stats(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Counts: papers, papers per source, feed entries and days."""
    rt = runtime(ctx)
    with rt.session() as session:
        numbers = store.stats(session)
    if as_json:
        print_json(numbers)
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
            papers = store.papers_for_day(session, day=parse_day(day, "--date"), limit=limit)
        else:
            papers = store.latest_papers(session, limit=limit)
        rows = [paper_to_dict(p) for p in papers]
    if as_json:
        print_json(rows)
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
            short_authors(row["authors"]),
            row["primary_category"] or "",
            str(row["feed"]["upvotes"]) if row["feed"] else "",
        )
    console.print(table)


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
        paper = store.get_paper(session, paper_id=normalise_id(paper_id))
        if paper is None:
            raise NotFoundError(f"no paper {paper_id!r} (try `dailypapers papers list`)")
        data = paper_to_dict(paper)
    if as_json:
        print_json(data)
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
    from dailypapers.web.serving import site_address, uvicorn_options

    rt = runtime(ctx)
    check_serving(rt.settings, host)
    settings, warning = site_address(rt.settings, host, port)
    if warning:
        err_console.print(f"Warning: {warning}", highlight=False, soft_wrap=True)
    _ = rt.engine  # create or upgrade the schema once, before workers start
    options = uvicorn_options(settings)
    if workers > 1:
        # Workers read their settings from the environment: hand them the address worked out here.
        os.environ["DAILYPAPERS_BASE_URL"] = settings.base_url
        uvicorn.run(
            "dailypapers.web.app:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            **options,
        )
    else:
        from dailypapers.web.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level="info", **options)

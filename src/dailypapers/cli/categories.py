"""Commands about the categories that no source gave: predict them, measure the prediction, ask arXiv.

``fetch hf`` asks arXiv for the categories of the papers it fetched (:func:`lookup_categories`), and the
index update after an ingest or fetch predicts those still missing; these commands do either on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from dailypapers import store
from dailypapers.cli.common import (
    AsJson,
    DryRun,
    Group,
    Runtime,
    app,
    console,
    err_console,
    make_progress,
    print_ingest_report,
    print_json,
    runtime,
    update_index_after_ingest,
)
from dailypapers.errors import DailyPapersError, NotFoundError
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.ingest.clients import ARXIV_ID_CHUNK, Clients
from dailypapers.ingest.pipeline import Ingestor, IngestReport
from dailypapers.ingest.records import ParsedItem

categories_app = typer.Typer(
    cls=Group,
    help="Categories of papers that no source gave: predict, evaluate, look up.",
    no_args_is_help=True,
)
app.add_typer(categories_app, name="categories")


@dataclass
class Lookup:
    """What asking arXiv for categories did."""

    asked: int = 0
    found: int = 0
    failed: str | None = None
    report: IngestReport | None = None

    def to_json(self) -> dict[str, Any]:
        return {"asked": self.asked, "found": self.found, "failed": self.failed}


def lookup_categories(
    rt: Runtime, made: Clients, ids: list[str], *, dry_run: bool, quiet: bool, show_progress: bool = False
) -> Lookup:
    """Ask the arXiv API for those of ``ids`` whose categories are unknown or predicted, 100 ids a call
    at the clients' pace, and merge what it answers (categories, and arXiv's own metadata with them).

    A failing arXiv is reported and the rest goes on: the categories are predicted meanwhile.
    """
    with rt.session() as session:
        wanted = [i for i in store.ids_lacking_known_categories(session, ids=ids) if parse_arxiv_id(i)]
    lookup = Lookup(asked=len(wanted))
    if not wanted:
        return lookup
    records: list[ParsedItem] = []
    progress = make_progress("items") if show_progress and not quiet and err_console.is_terminal else None
    try:
        if progress is not None:
            progress.start()
        task = progress.add_task("arXiv look-up", total=len(wanted)) if progress is not None else None
        for start in range(0, len(wanted), ARXIV_ID_CHUNK):
            records.extend(made.arxiv.fetch_ids(wanted[start : start + ARXIV_ID_CHUNK]))
            if progress is not None and task is not None:
                progress.update(task, completed=min(start + ARXIV_ID_CHUNK, len(wanted)))
    except DailyPapersError as exc:
        lookup.failed = str(exc)
        err_console.print(
            Text.assemble(
                ("Warning: ", "bold yellow"),
                f"categories not looked up on arXiv ({exc}); similar papers' categories stand in meanwhile",
            )
        )
    finally:
        if progress is not None:
            progress.stop()
    lookup.found = sum(1 for r in records if getattr(r, "categories", None))
    if records:
        ingestor = Ingestor(rt.sessions, batch_size=rt.settings.ingest_batch_size, dry_run=dry_run)
        lookup.report = ingestor.ingest_records(records, label="arXiv look-up")
    if not quiet:
        err_console.print(
            f"arXiv: asked for {lookup.asked:,} papers without known categories, {lookup.found:,} found.",
            highlight=False,
        )
    return lookup


@categories_app.command("lookup")
def lookup_command(ctx: typer.Context, dry_run: DryRun = False, as_json: AsJson = False) -> None:
    """Ask arXiv for the categories of every paper with an arXiv id whose categories are missing or
    predicted (100 ids a call, 3 s apart)."""
    from dailypapers.ingest import clients

    rt = runtime(ctx)
    with rt.session() as session:
        ids = store.papers_without_categories(session, include_predicted=True)
    with clients.make_clients(
        rt.settings, on_wait=lambda msg: err_console.print(f"[yellow]{msg}[/]")
    ) as made:
        lookup = lookup_categories(rt, made, ids, dry_run=dry_run, quiet=as_json, show_progress=True)
    if as_json:
        print_json(lookup.to_json())
    elif lookup.report is not None:
        print_ingest_report(lookup.report, dry_run=dry_run, what="from arXiv")
    changed = lookup.report is not None and (lookup.report.new or lookup.report.updated)
    if rt.settings.auto_index and not dry_run and changed:
        update_index_after_ingest(rt, quiet=as_json)


@categories_app.command("predict")
def predict_command(
    ctx: typer.Context,
    again: Annotated[
        bool, typer.Option("--all", help="Predict again the categories predicted before, too.")
    ] = False,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Then measure the prediction (as `categories evaluate`).")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Predict and report; store nothing.")] = False,
    as_json: AsJson = False,
) -> None:
    """Predict the categories of papers that no source gave any, from their nearest papers in the
    search index (run `dailypapers index` first)."""
    from dailypapers.categories import predict_missing

    rt = runtime(ctx)
    report = predict_missing(rt.settings, rt.sessions, include_predicted=again, dry_run=dry_run)
    result: dict[str, Any] = report.to_json()
    if evaluate:
        result["evaluation"] = _evaluation(rt, sample=None, quiet=as_json)
    if as_json:
        print_json(result)
        return
    verb = "Would predict" if dry_run else "Predicted"
    console.print(
        f"{verb} categories for {report.predicted:,} of {report.without:,} papers without known ones.",
        highlight=False,
    )
    if report.not_indexed:
        console.print(
            f"{report.not_indexed:,} papers are not in the search index yet: run `dailypapers index`.",
            highlight=False,
        )
    if evaluate:
        _print_evaluation(result["evaluation"])


@categories_app.command("evaluate")
def evaluate_command(
    ctx: typer.Context,
    sample: Annotated[
        int | None, typer.Option(min=1, help="Evaluate on this many random papers (default: all).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Top-1 and top-3 accuracy of the predicted primary category on the papers whose categories are
    known (each left out of its own neighbours), beside always answering the most frequent one."""
    rt = runtime(ctx)
    result = _evaluation(rt, sample=sample, quiet=as_json)
    if as_json:
        print_json(result)
    else:
        _print_evaluation(result)


def _evaluation(rt: Runtime, *, sample: int | None, quiet: bool) -> dict[str, Any]:
    from dailypapers.categories import evaluate_installation

    progress = make_progress("items") if not quiet and err_console.is_terminal else None
    if progress is None:
        evaluation = evaluate_installation(rt.settings, rt.sessions, sample=sample)
    else:
        with progress:
            task = progress.add_task("Evaluating", total=None)
            evaluation = evaluate_installation(
                rt.settings,
                rt.sessions,
                sample=sample,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    if evaluation is None:
        raise NotFoundError("there is no search index yet: run `dailypapers index` first")
    return evaluation.to_json()


def _print_evaluation(result: dict[str, Any]) -> None:
    table = Table(
        title=f"Primary category on {result['papers']:,} papers with known categories (each left out)",
        title_justify="left",
    )
    table.add_column("method")
    table.add_column("top-1", justify="right")
    table.add_column("top-3", justify="right")
    knn, baseline = result["knn"], result["most_frequent"]
    table.add_row(
        f"{result['neighbours']} nearest papers, weighted vote", _percent(knn["top1"]), _percent(knn["top3"])
    )
    table.add_row(
        f"most frequent ({', '.join(baseline['categories'])})",
        _percent(baseline["top1"]),
        _percent(baseline["top3"]),
    )
    console.print(table)


def _percent(value: float) -> str:
    return f"{value * 100:.1f} %"


__all__ = ["Lookup", "categories_app", "lookup_categories"]

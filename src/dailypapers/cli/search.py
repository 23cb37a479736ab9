"""Search commands: index, search, similar, eval beir."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from dailypapers import store
from dailypapers.cli.common import (
    AsJson,
    Group,
    Runtime,
    app,
    console,
    err_console,
    normalise_id,
    parse_day,
    print_json,
    progress_bar,
    runtime,
    search_runtime,
    short_authors,
)

# --------------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------------

eval_app = typer.Typer(cls=Group, help="Measure search quality on standard benchmarks.", no_args_is_help=True)
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
    with progress_bar(not as_json and err_console.is_terminal, unit="items") as progress:
        built = search_runtime().update_index(rt.settings, rt.sessions, progress=progress, force=force)
    if as_json:
        print_json(built.to_json())
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
    data: dict[str, Any] = results.to_json()
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
            short_authors(item["authors"]),
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
    service = search_runtime().make_search_service(rt.settings, rt.sessions)
    results = service.search(
        query,
        k=k,
        mode=mode.value,
        since=parse_day(since, "--since") if since else None,
        until=parse_day(until, "--until") if until else None,
        categories=category or [],
    )
    data = _results_json(rt, results)
    if as_json:
        print_json(data)
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
        search_runtime().make_search_service(rt.settings, rt.sessions).similar(normalise_id(paper_id), k=k)
    )
    data = _results_json(rt, results)
    if as_json:
        print_json(data)
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
    with progress_bar(not as_json and err_console.is_terminal, unit="items") as progress:
        result = evaluate_beir(
            folder, split=split, mode=mode.value, settings=rt.settings, work_dir=work_dir, progress=progress
        )
    if as_json:
        print_json(result)
        return
    table = Table(title=f"{result['dataset']} ({split}, {result['queries']} queries, mode {mode.value})")
    for column in ("metric", "value", "95% CI"):
        table.add_column(column, justify="right" if column != "metric" else "left")
    for metric in ("ndcg@10", "recall@100", "mrr@10"):
        low, high = result["ci95"][metric]
        table.add_row(metric, f"{result[metric]:.4f}", f"{low:.4f} - {high:.4f}")
    console.print(table)

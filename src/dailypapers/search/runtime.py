"""Wiring search to an installation: build the index from the database, answer queries against it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.config import Settings
from dailypapers.errors import MissingExtraError
from dailypapers.search.build import BuildReport, IndexBuilder
from dailypapers.search.index import IndexHolder, IndexStore, LexicalParams, Progress, iter_index_docs
from dailypapers.search.service import SearchService, phrase_matches

if TYPE_CHECKING:
    from dailypapers.search.embedders import Embedder


def update_index(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    progress: Progress | None = None,
    force: bool = False,
) -> BuildReport:
    """Build or update the search index from every paper in the database."""
    try:
        from dailypapers.search.embedders import load_embedder
    except ImportError as exc:
        raise MissingExtraError("Search", "search") from exc

    embedder = load_embedder(settings)
    params = LexicalParams(k1=settings.bm25_k1, b=settings.bm25_b, title_weight=settings.bm25_title_weight)
    builder = IndexBuilder(IndexStore(settings.data_dir), embedder, params=params, progress=progress)
    with sessions() as session:
        total = store.count_papers(session)
        return builder.build(iter_index_docs(store.iter_index_rows(session)), force=force, total=total)


def make_search_service(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    embedder: Callable[[], Embedder] | None = None,
) -> SearchService:
    """The search service of an installation; ``embedder`` makes the query embedder (default: the
    configured model, loaded on the first semantic query)."""

    def check_phrases(ids: Sequence[str], phrases: Sequence[str]) -> set[str]:
        with sessions() as session:
            texts = store.paper_texts(session, ids=ids)
        return {
            paper_id
            for paper_id, (title, abstract) in texts.items()
            if all(phrase_matches(f"{title} {abstract}", phrase) for phrase in phrases)
        }

    def paper_authors(ids: Sequence[str]) -> dict[str, list[str]]:
        with sessions() as session:
            return {
                paper.id: list(paper.authors or ()) for paper in store.papers_by_ids(session, ids=list(ids))
            }

    @lru_cache(maxsize=1)
    def configured_embedder():  # type: ignore[no-untyped-def]
        from dailypapers.search.embedders import load_embedder

        return load_embedder(settings)

    return SearchService(
        IndexHolder(IndexStore(settings.data_dir)),
        embedder or configured_embedder,
        phrase_check=check_phrases,
        paper_authors=paper_authors,
    )

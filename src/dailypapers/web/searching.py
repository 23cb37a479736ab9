"""Running a search for a page or the API, with what can go wrong turned into something to show.

No index yet, an index built by another embedding model, or no embedding model installed are all
states a site can be in for a while (after a fresh install, during a model change); none of them is an
error of the person searching. Semantic and hybrid searches then fall back to keyword search with a
notice, and with no index at all the page says so instead of failing. An index made by an older
version is refused by the search code with a message saying how to rebuild it, which is shown as is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from dailypapers.errors import SearchError
from dailypapers.search.index import OutdatedIndexError
from dailypapers.search.query import ParsedQuery, parse_query
from dailypapers.search.service import Mode, SearchResults, SearchService

log = logging.getLogger(__name__)

NO_INDEX_MESSAGE = (
    "Search is not ready yet: this site has no search index. Whoever runs it can build one with "
    "`dailypapers index` (ingesting papers builds it too)."
)

OUTDATED_INDEX_MESSAGE = (
    "Search is not available right now: the search index was built by an older version of Daily Papers. "
    "Whoever runs this site can rebuild it with `dailypapers index` (the paper vectors are kept)."
)


@dataclass
class SearchOutcome:
    query: ParsedQuery
    mode: Mode
    results: SearchResults | None = None
    notices: list[str] = field(default_factory=list)
    unavailable: str | None = None
    index_version: str | None = None

    @property
    def hits(self) -> list[str]:
        return [h.id for h in self.results.hits] if self.results else []

    @property
    def total(self) -> int:
        return self.results.total if self.results else 0

    @property
    def page_notices(self) -> list[str]:
        """The notices without the summary of what was found, which the search page shows in place."""
        summary = set(self.results.summary) if self.results else set()
        return [notice for notice in self.notices if notice not in summary]


def open_index(service: SearchService) -> tuple[str | None, str | None]:
    """(version of the current index, or None; why it cannot be used, or None)."""
    try:
        index = service.holder.get()
    except OutdatedIndexError as exc:
        log.warning("the search index is outdated: %s", exc)
        return None, OUTDATED_INDEX_MESSAGE
    except Exception as exc:  # a damaged index, or one written by another version of Daily Papers
        log.warning("the search index cannot be opened: %r", exc)
        return None, (
            "Search is not available: the search index cannot be opened. Whoever runs this site can "
            "rebuild it with `dailypapers index --force`."
        )
    if index is None:
        return None, NO_INDEX_MESSAGE
    return index.version, None


def index_version(service: SearchService) -> str | None:
    return open_index(service)[0]


def run_search(
    service: SearchService,
    raw: str,
    *,
    k: int,
    offset: int = 0,
    mode: Mode = Mode.hybrid,
    since: date | None = None,
    until: date | None = None,
    categories: Sequence[str] = (),
) -> SearchOutcome:
    version, problem = open_index(service)
    outcome = SearchOutcome(query=parse_query(raw), mode=mode, index_version=version)
    if problem is not None:
        outcome.unavailable = problem
        return outcome
    arguments = {"k": k, "offset": offset, "since": since, "until": until, "categories": list(categories)}
    try:
        outcome.results = service.search(raw, mode=mode, **arguments)  # type: ignore[arg-type]
    except SearchError as exc:
        if mode is Mode.bm25:
            outcome.unavailable = str(exc)
            return outcome
        log.info("semantic search unavailable: %s", exc)
    # Loading the embedding model can fail in many ways (missing extra, missing files, runtime errors).
    except Exception as exc:
        if mode is Mode.bm25:
            raise
        log.warning("semantic search failed, falling back to keyword search: %r", exc)
    if outcome.results is None:
        # Semantic ranking needs the model that built the vectors; keyword search needs nothing more.
        outcome.mode = Mode.bm25
        outcome.notices.append(
            f"{'Semantic' if mode is Mode.dense else 'Hybrid'} search is not available on this site right "
            "now, so these are keyword (BM25) results."
        )
        try:
            outcome.results = service.search(raw, mode=Mode.bm25, **arguments)  # type: ignore[arg-type]
        except SearchError as again:
            outcome.unavailable = str(again)
            return outcome
    outcome.notices.extend(outcome.results.notices + outcome.results.summary)
    return outcome


__all__ = [
    "NO_INDEX_MESSAGE",
    "OUTDATED_INDEX_MESSAGE",
    "SearchOutcome",
    "index_version",
    "open_index",
    "run_search",
]

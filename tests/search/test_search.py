"""Search end to end: papers from the real data, indexed with the real default model, queried every way.

The index is built once per module (embedding is the slow part) from the Atom and Hugging Face files;
tests that change the database build their own small index.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory, upgrade_schema
from dailypapers.errors import SearchError
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.search import lexical
from dailypapers.search.index import IndexHolder, IndexStore
from dailypapers.search.lexical import bm25_matches, query_term_ids
from dailypapers.search.runtime import make_search_service, update_index
from dailypapers.search.service import Mode, SearchService

ATOM = "arxiv/api-atom"
HF = "hf-daily-papers"
TESTING_PAPER = (
    "2202.12139"  # "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
)


@pytest.fixture(scope="module")
def indexed(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path, models_dir: Path
) -> tuple[Settings, sessionmaker[Session]]:
    data_dir = tmp_path_factory.mktemp("search-data")
    settings = Settings(data_dir=data_dir, models_dir=models_dir)
    engine = create_engine_from_settings(settings)
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    Ingestor(sessions).ingest_paths([shared_data / ATOM, shared_data / HF])
    update_index(settings, sessions)
    return settings, sessions


@pytest.fixture(scope="module")
def service(indexed: tuple[Settings, sessionmaker[Session]]) -> SearchService:
    return make_search_service(*indexed)


def ids(results: object) -> list[str]:
    return [hit.id for hit in results.hits]  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", list(Mode))
def test_every_mode_finds_the_paper_described(service: SearchService, mode: Mode) -> None:
    results = service.search("comparative study of testing techniques for deep learning models", mode=mode)
    assert ids(results)[0] == TESTING_PAPER


def test_hybrid_signals_are_reported(service: SearchService) -> None:
    hit = service.search("metamorphic testing of deep learning", k=1).hits[0]
    assert set(hit.signals) == {"bm25", "dense", "passage"}
    assert hit.signals["passage"] >= hit.signals["dense"]


def test_arxiv_id_and_url_go_straight_to_the_paper(service: SearchService) -> None:
    for query in (TESTING_PAPER, f"https://arxiv.org/abs/{TESTING_PAPER}v1", f"arXiv:{TESTING_PAPER}"):
        results = service.search(query)
        assert results.exact == [TESTING_PAPER]
        assert ids(results)[0] == TESTING_PAPER


def test_category_filter_and_archive_prefix(service: SearchService) -> None:
    index = service.index()
    for query, wanted in (("testing cat:cs.SE", "cs.SE"), ("testing cat:cs", "cs.")):
        results = service.search(query, k=50)
        assert results.hits
        for hit in results.hits:
            row = index.position(hit.id)
            categories = [str(k) for k in index.categories.keys if row in index.categories.get(str(k))]
            assert any(c == wanted or c.startswith(wanted) for c in categories), (hit.id, categories)


def test_author_filter_matches_folded_names(service: SearchService) -> None:
    results = service.search("author:maestro helium", k=20, mode="bm25")
    assert results.hits
    with_accents = service.search("author:MAESTRO helium", k=20, mode="bm25")
    assert ids(with_accents) == ids(results)


def test_date_filters(service: SearchService) -> None:
    index = service.index()
    epoch = date(1970, 1, 1).toordinal()

    def published(query: str) -> dict[str, date]:
        rows = {hit.id: index.position(hit.id) for hit in service.search(query, k=100).hits}
        return {paper: date.fromordinal(epoch + int(index.published[row])) for paper, row in rows.items()}

    year = published("testing since:2022 until:2022-12-31")
    assert year and {day.year for day in year.values()} == {2022}
    # Both ends are inclusive: TESTING_PAPER was published on 2022-02-24 (15:05 UTC), and a range that
    # starts or ends that day, given as the day or as its month, keeps it.
    day = date(2022, 2, 24)
    assert year[TESTING_PAPER] == day
    for query, first, last in (
        ("testing since:2022-02-24 until:2022-02-24", day, day),
        ("testing since:2022-02-24", day, date.max),
        ("testing until:2022-02-24", date.min, day),
        ("testing since:2022-02 until:2022-02", date(2022, 2, 1), date(2022, 2, 28)),
        ("testing since:2021-02-24 until:2022-02-24", date(2021, 2, 24), day),
    ):
        found = published(query)
        assert TESTING_PAPER in found, query
        assert all(first <= found_day <= last for found_day in found.values()), query
    for query in ("testing since:2022-02-25", "testing until:2022-02-23", "testing until:2022-01"):
        assert TESTING_PAPER not in published(query), query


def test_filtered_semantic_search_loses_no_recall(service: SearchService) -> None:
    """With the ANN path forced (no exact limit), filtered results equal an exact scan of the allowed set."""
    index = service.index()
    allowed = np.sort(np.concatenate([index.categories.get("cs.SE"), index.categories.get("cs.LG")]))
    allowed = np.unique(allowed)
    for text in ("flaky tests in continuous integration", "adversarial robustness of neural networks"):
        vector = service.embedder.embed_query(text)
        exact = allowed[np.argsort(-(np.asarray(index.vectors[allowed], dtype=np.float32) @ vector))][:10]
        service.exact_filter_limit = 0
        try:
            rows, _ = service.dense(index, vector, allowed, 10)
        finally:
            service.exact_filter_limit = SearchService.exact_filter_limit
        assert list(rows) == list(exact)


def test_phrases_must_appear_as_written(
    service: SearchService, indexed: tuple[Settings, sessionmaker[Session]]
) -> None:
    from dailypapers import store

    results = service.search('"metamorphic testing"', k=50)
    assert results.hits
    _, sessions = indexed
    with sessions() as session:
        texts = store.paper_texts(session, ids=ids(results))
    for title, abstract in texts.values():
        assert re.search(r"metamorphic\W+testing", f"{title} {abstract}", re.IGNORECASE)
    unquoted = service.search("metamorphic testing", k=50)
    assert len(unquoted.hits) > len(results.hits)
    assert not service.search('"metamorphic zebra testing"').hits


ODD_QUERIES = [
    "",
    "   ",
    "the of and",
    "x" * 10_000,
    "word " * 3000,
    '"unbalanced quote',
    '""',
    "venue:neurips transformers",
    "since:yesterday testing",
    r".* \d+ (?: [a-z]+ ) $^ | \\",
    "'; DROP TABLE papers; --",
    "author:",
    "cat:",
    "%_% \x00 \u202e",
    "😀 🧪",
]


@pytest.mark.parametrize("query", ODD_QUERIES)
@pytest.mark.parametrize("mode", list(Mode))
def test_odd_queries_never_raise(service: SearchService, query: str, mode: Mode) -> None:
    results = service.search(query, mode=mode)
    assert isinstance(results.hits, list)
    if not query.strip() or (query == "the of and" and mode is not Mode.dense):
        assert results.hits == [] and results.notices


def test_bad_k_is_a_clear_error(service: SearchService) -> None:
    with pytest.raises(SearchError, match="between 1 and 1000"):
        service.search("testing", k=0)


def test_similar_papers(service: SearchService) -> None:
    results = service.similar(TESTING_PAPER, k=5)
    assert len(results.hits) == 5
    assert TESTING_PAPER not in ids(results)
    scores = [h.score for h in results.hits]
    assert scores == sorted(scores, reverse=True)
    with pytest.raises(SearchError, match="not in the search index"):
        service.similar("9999.99999")


def test_results_do_not_depend_on_the_database(
    service: SearchService,
    indexed: tuple[Settings, sessionmaker[Session]],
    tmp_path: Path,
    shared_data: Path,
    database_url: str,
) -> None:
    """The same papers in the other kind of database (this run's --db) give the same ranking."""
    settings, _ = indexed
    other = Settings(data_dir=tmp_path / "other", database_url=database_url, models_dir=settings.models_dir)
    engine = create_engine_from_settings(other)
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    Ingestor(sessions).ingest_paths([shared_data / HF, shared_data / ATOM])  # the other order, on purpose
    update_index(other, sessions)
    theirs = make_search_service(other, sessions)
    for query in ("testing deep learning", "large language models", "helium nanopores"):
        assert ids(theirs.search(query)) == ids(service.search(query))
    engine.dispose()


def test_updates_embed_only_new_papers_and_a_restart_embeds_nothing(
    settings: Settings, sessions: sessionmaker[Session], shared_data: Path, models_dir: Path
) -> None:
    settings = settings.model_copy(update={"models_dir": models_dir})
    Ingestor(sessions).ingest_paths([shared_data / HF / "daily_papers-2026-07-31.all-news-ai.json"])
    first = update_index(settings, sessions)
    assert (first.embedded, first.reused) == (5, 0)
    service = make_search_service(settings, sessions)
    service.holder.check_every = 0
    assert service.index().size == 5

    Ingestor(sessions).ingest_paths([shared_data / HF / "daily_papers-2026-06-12.sotawhat.json"])
    second = update_index(settings, sessions)
    assert (second.embedded, second.reused) == (30, 5)
    assert second.version != first.version
    # The running service notices the new version without a restart.
    assert service.index().size == 35
    again = update_index(settings, sessions)
    assert again.up_to_date and again.embedded == 0
    store = IndexStore(settings.data_dir)
    assert (store.root / (store.current_version() or "") / "manifest.json").exists()
    assert not list(store.root.glob(".build-*"))


def test_a_new_embedder_rebuilds_instead_of_mixing(
    settings: Settings, sessions: sessionmaker[Session], shared_data: Path, models_dir: Path
) -> None:
    settings = settings.model_copy(update={"models_dir": models_dir})
    Ingestor(sessions).ingest_paths([shared_data / HF / "daily_papers-2026-07-31.all-news-ai.json"])
    update_index(settings, sessions)
    fast = settings.model_copy(update={"embedder": "wordllama"})
    stale = make_search_service(fast, sessions)
    with pytest.raises(SearchError, match="rebuild"):
        stale.search("token compression", mode="dense")
    rebuilt = update_index(fast, sessions)
    assert (rebuilt.embedded, rebuilt.reused) == (5, 0)
    holder = IndexHolder(IndexStore(settings.data_dir))
    index = holder.get()
    assert index is not None and index.embedder_key.startswith("wordllama") and index.vectors.shape[1] == 256
    assert make_search_service(fast, sessions).search("token compression", mode="dense").hits


def test_cli_search_similar_and_index_json(
    indexed: tuple[Settings, sessionmaker[Session]],
) -> None:
    settings, _ = indexed
    env = {
        "DAILYPAPERS_DATA_DIR": str(settings.data_dir),
        "DAILYPAPERS_MODELS_DIR": str(settings.models_dir),
    }
    runner = CliRunner()
    found = runner.invoke(app, ["search", "testing deep learning", "-k", "3", "--json"], env=env)
    assert found.exit_code == 0, found.output
    data = json.loads(found.stdout)
    assert len(data["results"]) == 3
    assert {"id", "title", "score", "authors"} <= set(data["results"][0])
    similar = json.loads(runner.invoke(app, ["similar", TESTING_PAPER, "--json"], env=env).stdout)
    assert similar["results"] and all(r["id"] != TESTING_PAPER for r in similar["results"])
    built = json.loads(runner.invoke(app, ["index", "--json"], env=env).stdout)
    assert built["up_to_date"] is True
    human = runner.invoke(app, ["search", "--mode", "bm25", "helium nanopores"], env=env)
    assert re.search(r"Helium", human.stdout)


def test_search_without_an_index_says_what_to_do(settings: Settings, sessions: sessionmaker[Session]) -> None:
    with pytest.raises(SearchError, match="dailypapers index"):
        make_search_service(settings, sessions).search("anything")


def test_posting_lists_are_sorted_by_paper(service: SearchService) -> None:
    # The shortlist's binary searches into posting lists depend on it.
    matrix = service.index().bm25.scores
    indices, indptr = np.asarray(matrix["indices"]), np.asarray(matrix["indptr"])
    starts_of_columns = np.zeros(len(indices), dtype=bool)
    starts_of_columns[indptr[:-1][indptr[:-1] < len(indices)]] = True
    assert (np.diff(indices)[~starts_of_columns[1:]] > 0).all()


@pytest.mark.parametrize("common_from", [1, 3, 10])
def test_common_terms_are_looked_up_exactly_for_the_candidates(
    service: SearchService, monkeypatch: pytest.MonkeyPatch, common_from: int
) -> None:
    index = service.index()
    terms = query_term_ids(index, "a comparative study of testing techniques for deep learning models")
    everything = dict(zip(*(a.tolist() for a in bm25_matches(index, terms, None)), strict=True))
    monkeypatch.setattr(lexical, "COMMON_TERM_PAPERS", common_from)
    monkeypatch.setattr(lexical, "CANDIDATES", 5)
    assert len(lexical.shortlist_terms(index, terms)) < len(terms)  # some terms are looked up, not walked
    rows, scores = lexical.shortlist_matches(index, terms, None)
    assert 0 < len(rows) <= 5
    for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
        assert score == pytest.approx(everything[row], rel=1e-5)
    # With room for every candidate: each paper with a walked term, each with its full score.
    monkeypatch.setattr(lexical, "CANDIDATES", index.size)
    rows, scores = lexical.shortlist_matches(index, terms, None)
    walked, _ = bm25_matches(index, lexical.shortlist_terms(index, terms), None)
    assert sorted(rows.tolist()) == sorted(walked.tolist())
    assert scores.tolist() == pytest.approx([everything[r] for r in rows.tolist()], rel=1e-5)

"""Plain author names, dropped filters, ids not held and outdated indexes, on the real demo papers.

The shared test index was built without the embedding model (see ``conftest.py``); for hybrid ranking
here, queries are embedded the same way as its papers were (hashed words), through the production
search service.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from dailypapers import store
from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory
from dailypapers.search.index import IndexStore
from dailypapers.search.names_eval import author_mrr, author_queries
from dailypapers.search.runtime import make_search_service
from dailypapers.search.service import Mode
from tests.community.support import log_in, make_user
from tests.web.pagecheck import links, parse, text_of
from tests.web.support import VECTOR_DIM, hashed_vectors, make_client

MISSING = "2402.14776"


class HashedWords:
    """Query vectors made like the shared index's paper vectors (``support.hashed_vectors``)."""

    key = "precomputed"
    dim = VECTOR_DIM
    max_tokens = None

    def embed_documents(self, texts: object, *, progress: object = None) -> np.ndarray:
        raise NotImplementedError("the shared index is built, not embedded")

    def embed_query(self, text: str) -> np.ndarray:
        return hashed_vectors({"query": text}).make(["query"])[0][0]


@pytest.mark.parametrize("mode", [Mode.hybrid, Mode.bm25])
def test_author_name_queries_find_the_person_first(indexed_settings: Settings, mode: Mode) -> None:
    engine = create_engine_from_settings(indexed_settings)
    sessions = make_session_factory(engine)
    try:
        with sessions() as session:
            papers = [(row.id, list(row.authors or ())) for row in store.iter_index_rows(session)]
        queries = author_queries(papers)
        service = make_search_service(indexed_settings, sessions, embedder=HashedWords)
        figures = author_mrr(service, queries, mode=mode)
    finally:
        engine.dispose()
    assert figures["queries"] >= 30
    assert set(figures["by_kind"]) == {"full", "surname", "initials", "unaccented"}
    assert figures["mrr@10"] >= 0.9, figures["misses"]


def test_the_page_says_whose_papers_come_first(indexed_client: TestClient) -> None:
    tree = parse(indexed_client.get("/search", params={"q": "Adrian Del Maestro"}))
    assert text_of(tree.xpath("//p[@class='by-author']")[0]) == "Papers by Adrian Del Maestro"
    authors = [text_of(p) for p in tree.xpath("//ol[@class='results']/li//p[@class='card-authors']")]
    assert len(authors) > 8
    assert all("Del Maestro" in a for a in authors[:8]), authors[:8]


def test_a_dropped_author_filter_gets_a_notice(indexed_client: TestClient) -> None:
    tree = parse(indexed_client.get("/search", params={"q": "author:% graphs", "mode": "bm25"}))
    notices = [text_of(li) for li in tree.xpath("//div[@class='notices']//li")]
    assert any(n.startswith("author:% has no name in it") for n in notices), notices
    assert tree.xpath("//ol[@class='results']/li")


def test_an_id_not_held_links_to_arxiv_and_to_logging_in(indexed_client: TestClient) -> None:
    tree = parse(indexed_client.get("/search", params={"q": MISSING}))
    page = text_of(tree.xpath("//body")[0])
    assert "Type some words" not in page and "No papers match" not in page
    offered = links(tree.xpath("//div[contains(@class, 'missing')]")[0])
    assert offered["Open it on arXiv"] == f"https://arxiv.org/abs/{MISSING}"
    assert offered["log in"] == f"/login?next=%2Ffetch%3Fpaper%3D{MISSING}"


def test_an_id_not_held_offers_fetching_to_people_signed_in(
    indexed_settings: Settings, indexed_client: TestClient
) -> None:
    engine = create_engine_from_settings(indexed_settings)
    make_user(make_session_factory(engine), "ada")
    engine.dispose()
    assert log_in(indexed_client, "ada").status_code == 303
    tree = parse(indexed_client.get("/search", params={"q": f"arXiv:{MISSING}"}))
    offered = links(tree.xpath("//div[contains(@class, 'missing')]")[0])
    assert offered["Fetch it onto this site"] == f"/fetch?paper={MISSING}"
    assert offered["Open it on arXiv"] == f"https://arxiv.org/abs/{MISSING}"
    form = parse(indexed_client.get(offered["Fetch it onto this site"]))
    assert form.xpath(f"//form[@action='/fetch']//input[@name='paper' and @value='{MISSING}']")


def test_an_index_from_an_older_version_is_refused_with_how_to_rebuild(indexed_settings: Settings) -> None:
    path = IndexStore(indexed_settings.data_dir).current_path()
    assert path is not None
    manifest_file = path / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["bm25"]["analyzer"] = 2
    manifest_file.unlink()  # a hard link to the shared index: write a file of its own
    manifest_file.write_text(json.dumps(manifest))
    with make_client(indexed_settings) as client:
        empty = text_of(
            parse(client.get("/search", params={"q": "graphs"})).xpath("//div[@class='empty']")[0]
        )
        assert "older version of Daily Papers" in empty and "dailypapers index" in empty
        api = client.get("/api/papers/search", params={"q": "graphs"})
        assert api.status_code == 503 and "older version" in api.json()["error"]

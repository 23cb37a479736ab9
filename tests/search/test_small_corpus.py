"""Search rules on a small corpus built by the production ``IndexBuilder``: counts that say what matched,
the relevance floor, author names in plain queries, folded accents, and indexes from another version.

The papers are embedded by a small concept model (words of one meaning share an axis: "car" and
"automobile"), so that what is similar by meaning, and by how much, is known exactly. Its key names the
default model, whose relevance floor therefore applies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from dailypapers.errors import SearchError
from dailypapers.search.analyzer import analyze
from dailypapers.search.build import IndexBuilder
from dailypapers.search.index import IndexDoc, IndexHolder, IndexStore, OpenIndex, OutdatedIndexError
from dailypapers.search.relevance import semantic_floor
from dailypapers.search.service import Mode, SearchService

CONCEPTS = {
    "car": 0, "automobil": 0, "vehicl": 0,
    "retromae": 1, "retriev": 1, "search": 1,
    "frechet": 2, "distanc": 2, "curv": 2,
    "graph": 3, "color": 3,
    "long": 4, "context": 4, "languag": 4,
    "engin": 5, "effici": 5,
}  # fmt: skip
NOTHING = 7  # the axis of a text with no known word: no paper is there


class ConceptModel:
    """Unit vectors: the sum of the axes of a text's known words."""

    key = "all-MiniLM-L6-v2:concepts"
    dim = 8
    max_tokens = None

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for term in analyze(text):
            if term in CONCEPTS:
                vector[CONCEPTS[term]] += 1.0
        if not vector.any():
            vector[NOTHING] = 1.0
        return vector / np.linalg.norm(vector)

    def embed_documents(self, texts: Sequence[str], *, progress: object = None) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


PAPERS = [
    IndexDoc("2401.00001", "RetroMAE: pre-training retrieval models", "Masked auto-encoders for search.",
             ("Shitao Xiao", "Zheng Liu")),
    IndexDoc("2401.00002", "Dense retrieval at scale", "Search with vectors, and retrieval.", ("Ann Smith",)),
    IndexDoc("2401.00003", "Automobile engine efficiency", "Engines of vehicles that last long.",
             ("Bob Jones",)),
    IndexDoc("2401.00004", "The discrete Fréchet distance", "Curves and their distance.",
             ("Paul Erdős", "Łukasz Kaiser")),
    IndexDoc("2401.00005", "Frechet means of curves", "Distance on curves.", ("Jiawei Xu", "Søren Hauberg")),
    IndexDoc("2401.00006", "Long context language models", "Context length of language models.",
             ("Xin Long",)),
    IndexDoc("2401.00007", "Graph coloring", "Colour a graph with few colours.", ("Jiawei Xu",)),
    IndexDoc("2401.00008", "Long graphs", "A long graph and its long paths.", ("Cy Young",)),
]  # fmt: skip


def build(folder: Path, docs: Sequence[IndexDoc] = PAPERS) -> None:
    IndexBuilder(IndexStore(folder), ConceptModel()).build(sorted(docs, key=lambda d: d.id))


@pytest.fixture
def service(tmp_path: Path) -> SearchService:
    build(tmp_path)
    authors = {doc.id: list(doc.authors) for doc in PAPERS}
    return SearchService(
        IndexHolder(IndexStore(tmp_path), check_every=0),
        ConceptModel,
        paper_authors=lambda ids: {i: authors[i] for i in ids},
    )


def ids(results: object) -> list[str]:
    return [hit.id for hit in results.hits]  # type: ignore[attr-defined]


def test_the_default_model_has_a_floor() -> None:
    assert semantic_floor(ConceptModel.key) == semantic_floor("all-MiniLM-L6-v2:onnx-int8") is not None


@pytest.mark.parametrize("mode", list(Mode))
def test_nonsense_matches_nothing_in_every_mode(service: SearchService, mode: Mode) -> None:
    results = service.search("xyzzyqwerty", mode=mode)
    assert (results.total, ids(results)) == (0, [])


@pytest.mark.parametrize("mode", list(Mode))
def test_the_count_is_what_matched(service: SearchService, mode: Mode) -> None:
    results = service.search("RetroMAE", mode=mode)
    assert ids(results)[0] == "2401.00001"
    # The other retrieval paper is as similar by meaning; papers on cars or curves are not, and are left out.
    assert set(ids(results)) <= {"2401.00001", "2401.00002"}
    assert results.total == len(results.hits)


def test_a_semantic_ranking_ends_at_its_last_match_and_has_no_holes(tmp_path: Path) -> None:
    # "Curves in context" holds no word of the query and is below the floor by meaning (cosine 0.32),
    # yet nearer to "long" than the automobile paper that holds the word (0.27): semantic mode keeps it,
    # and the list ends with that least similar match.
    context = IndexDoc("2401.00009", "Curves in context", "Distance of curves.", ("Ada Byron",))
    build(tmp_path, [*PAPERS, context])
    holder = IndexHolder(IndexStore(tmp_path), check_every=0)
    service = SearchService(holder, ConceptModel, paper_authors=lambda ids: {i: [] for i in ids})
    floor = semantic_floor(ConceptModel.key)
    cosine = float(ConceptModel().embed_query("Curves in context. Distance of curves.")[4])
    assert floor is not None and cosine < floor
    dense = service.search("long", mode=Mode.dense)
    assert ids(dense) == ["2401.00006", "2401.00008", "2401.00009", "2401.00003"]
    assert dense.total == 4
    # Hybrid ranks by words too, and there a paper without the word still needs the floor.
    assert "2401.00009" not in ids(service.search("long"))


def test_only_related_papers_are_said_to_be_so(service: SearchService) -> None:
    results = service.search("car")  # no paper has the word; one is about automobiles
    assert ids(results) == ["2401.00003"] and results.total == 1
    assert results.related_only
    assert "No exact matches; 1 related paper." in results.to_json()["notices"]
    assert not service.search("automobile").related_only


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("frechet", {"2401.00004", "2401.00005"}),
        ("Fréchet", {"2401.00004", "2401.00005"}),
        (r"Fr\'echet", {"2401.00004", "2401.00005"}),
        ("erdos", {"2401.00004"}),
        ("lukasz", {"2401.00004"}),
        ("Łukasz", {"2401.00004"}),
        ("soren", {"2401.00005"}),
    ],
)
def test_accents_are_folded_both_ways(service: SearchService, query: str, expected: set[str]) -> None:
    assert set(ids(service.search(query, mode=Mode.bm25))) == expected


@pytest.mark.parametrize("mode", list(Mode))
def test_an_author_name_puts_their_papers_first(service: SearchService, mode: Mode) -> None:
    results = service.search("Jiawei Xu", mode=mode)
    assert set(ids(results)[:2]) == {"2401.00005", "2401.00007"}
    assert results.author == "Jiawei Xu" and results.author_total == 2
    assert "Papers by Jiawei Xu first (2)." in results.to_json()["notices"]


@pytest.mark.parametrize("mode", list(Mode))
def test_topic_words_rank_the_authors_papers(service: SearchService, mode: Mode) -> None:
    assert ids(service.search("graph J. Xu", mode=mode))[:2] == ["2401.00007", "2401.00005"]
    assert ids(service.search("Xu curves", mode=mode))[:2] == ["2401.00005", "2401.00007"]


def test_a_surname_that_is_a_common_word_stays_a_topic(service: SearchService) -> None:
    results = service.search("long", mode=Mode.bm25)
    assert results.author is None
    assert ids(results)[0] == "2401.00008"  # the paper that says "long" most, not Xin Long's first
    assert service.search("Young", mode=Mode.bm25).author == "Cy Young"


def test_a_dropped_author_filter_is_reported(service: SearchService) -> None:
    results = service.search("author:% graph", mode=Mode.bm25)
    assert "author:% has no name in it" in " ".join(results.notices)
    assert ids(results)[0] in {"2401.00007", "2401.00008"}
    alone = service.search("author:%", mode=Mode.bm25)
    assert alone.hits == [] and "Type some words to search for." in alone.notices


def test_an_id_not_held_is_reported_not_asked_for_words(service: SearchService) -> None:
    results = service.search("2402.14776")
    assert results.hits == [] and results.missing == ["2402.14776"]
    assert "Type some words to search for." not in results.notices
    assert "arXiv:2402.14776 is not on this site yet." in results.to_json()["notices"]


def test_an_index_from_another_analyzer_is_refused_then_rebuilt(tmp_path: Path) -> None:
    build(tmp_path)
    store = IndexStore(tmp_path)
    path = store.current_path()
    assert path is not None
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["bm25"]["analyzer"] = 2
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(OutdatedIndexError, match=r"dailypapers index") as refused:
        OpenIndex(path)
    assert isinstance(refused.value, SearchError)
    rebuilt = IndexBuilder(store, ConceptModel()).build(sorted(PAPERS, key=lambda d: d.id))
    assert not rebuilt.up_to_date and (rebuilt.embedded, rebuilt.reused) == (0, len(PAPERS))
    assert OpenIndex(store.current_path()).size == len(PAPERS)  # type: ignore[arg-type]

"""Hybrid and semantic search with the real embedding model, on the Hugging Face daily papers and the
copied listing.

The index is built once for the module with ``update_index`` and the configured (default) model, from
the papers of the two real daily-papers files and the listing; each test ingests the same files into its
own fresh database and uses that index (it depends on the papers only, not on the database holding them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory, upgrade_schema
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.search.runtime import update_index
from tests.web.pagecheck import parse, text_of
from tests.web.support import make_client

OMNISCOPE = "2607.23193"
BETA_OPSD = "2607.28582"  # the first paper of the 2026-07-31 feed; its first author is Jiawei Xu
RETROMAE_V2 = "RetroMAE v2: Duplex Masked Auto-Encoder For Pre-Training Retrieval-Oriented Language Models"


def ingest_daily_papers(settings: Settings, shared_data: Path) -> None:
    engine = create_engine_from_settings(settings)
    try:
        upgrade_schema(engine)
        Ingestor(make_session_factory(engine)).ingest_paths(
            [shared_data / "hf-daily-papers", shared_data / "seed"]
        )
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def semantic_index(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, models_cache: Path) -> Path:
    folder = tmp_path_factory.mktemp("semantic")
    (folder / "models").symlink_to(models_cache, target_is_directory=True)
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'build.db'}")
    ingest_daily_papers(settings, shared_data)
    engine = create_engine_from_settings(settings)
    try:
        update_index(settings, make_session_factory(engine))
    except Exception as exc:  # the model or its extra is missing: nothing here can run
        pytest.skip(f"the embedding model cannot be loaded: {exc}")
    finally:
        engine.dispose()
    return folder / "index"


@pytest.fixture
def semantic_client(
    settings: Settings, shared_data: Path, semantic_index: Path, models_cache: Path
) -> Iterator[TestClient]:
    ingest_daily_papers(settings, shared_data)
    shutil.copytree(semantic_index, settings.data_dir / "index", copy_function=os.link)
    (settings.data_dir / "models").symlink_to(models_cache, target_is_directory=True)
    with make_client(settings) as client:
        yield client


def test_hybrid_search_ranks_with_every_signal(semantic_client: TestClient) -> None:
    body = semantic_client.get(
        "/api/papers/search", params={"q": "token compression for omnimodal language models"}
    ).json()
    assert body["mode"] == "hybrid" and body["notices"] == []
    first = body["results"][0]
    assert first["paper"]["id"] == OMNISCOPE
    assert set(first["signals"]) == {"bm25", "dense", "passage"}


def test_semantic_search_finds_other_words_for_the_same_thing(semantic_client: TestClient) -> None:
    body = semantic_client.get(
        "/api/papers/search",
        params={"q": "pruning visual and audio tokens to speed up multimodal LLM inference", "mode": "dense"},
    ).json()
    assert body["mode"] == "dense"
    assert OMNISCOPE in [r["paper"]["id"] for r in body["results"][:3]]


def test_search_page_in_hybrid_mode(semantic_client: TestClient) -> None:
    tree = parse(semantic_client.get("/search", params={"q": "omnimodal token compression"}))
    assert not tree.xpath("//div[@class='notices']")
    first = tree.xpath("//ol[@class='results']/li/h2/a")[0]
    assert first.get("href") == f"/papers/{OMNISCOPE}"
    assert {text_of(m).lower() for m in tree.xpath("//ol[@class='results']/li[1]//mark")} >= {"omnimodal"}


def test_similar_papers_with_real_vectors(semantic_client: TestClient) -> None:
    tree = parse(semantic_client.get(f"/papers/{OMNISCOPE}"))
    similar = tree.xpath("//section[@id='similar']//ol/li/a")
    assert len(similar) == 6
    api = semantic_client.get(f"/api/papers/{OMNISCOPE}/similar", params={"limit": 6}).json()
    assert [f"/papers/{r['paper']['id']}" for r in api["results"]] == [a.get("href") for a in similar]
    assert all(0 < r["score"] < 1 for r in api["results"])


def search_api(client: TestClient, q: str, mode: str = "hybrid") -> dict:  # type: ignore[type-arg]
    response = client.get("/api/papers/search", params={"q": q, "mode": mode})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_plain_author_name_finds_the_persons_paper_first(semantic_client: TestClient) -> None:
    body = search_api(semantic_client, "Jiawei Xu")
    assert body["mode"] == "hybrid"
    assert body["results"][0]["paper"]["id"] == BETA_OPSD
    assert "Papers by Jiawei Xu first (1)." in body["notices"]
    tree = parse(semantic_client.get("/search", params={"q": "jiawei xu"}))
    assert text_of(tree.xpath("//p[@class='by-author']")[0]) == "Papers by Jiawei Xu"
    assert tree.xpath("//ol[@class='results']/li/h2/a")[0].get("href") == f"/papers/{BETA_OPSD}"


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_nonsense_answers_no_results_in_every_mode(semantic_client: TestClient, mode: str) -> None:
    body = search_api(semantic_client, "xyzzyqwerty", mode)
    assert (body["total"], body["results"]) == (0, [])
    tree = parse(semantic_client.get("/search", params={"q": "xyzzyqwerty", "mode": mode}))
    assert "No papers match “xyzzyqwerty”" in text_of(tree.xpath("//div[@class='empty']")[0])


def test_the_only_exact_hit_ranks_first_and_the_count_is_honest(semantic_client: TestClient) -> None:
    body = search_api(semantic_client, "RetroMAE")
    assert body["results"][0]["paper"]["title"] == RETROMAE_V2
    assert body["total"] == len(body["results"]) < 10


def test_related_papers_alone_are_named_so(semantic_client: TestClient) -> None:
    # No paper here has the word "pianist"; PianoKontext renders piano performances.
    assert search_api(semantic_client, "pianist", "bm25")["total"] == 0
    tree = parse(semantic_client.get("/search", params={"q": "pianist"}))
    assert text_of(tree.xpath("//p[@class='count']")[0]) == "No exact matches; 1 related paper"
    assert "PianoKontext" in text_of(tree.xpath("//ol[@class='results']/li/h2/a")[0])
    assert not tree.xpath("//div[@class='notices']")

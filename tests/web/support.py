"""Helpers for the site's tests: the fixed clock, the demo data, a search index without the model."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dailypapers import store
from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory, upgrade_schema
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.search.analyzer import analyze
from dailypapers.search.build import IndexBuilder, VectorFunction
from dailypapers.search.index import IndexStore, iter_index_docs
from dailypapers.web.app import create_app

# "Now" for every test: the day after the newest feed day of the demo data (2026-07-31), at noon UTC.
NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
DEMO_INPUTS = ("hf-daily-papers", "arxiv", "seed")
VECTOR_DIM = 256


def fixed_clock() -> datetime:
    return NOW


def hashed_vectors(texts: dict[str, str]) -> VectorFunction:
    """``precomputed`` vectors for IndexBuilder: each paper's analysed words hashed into a unit vector."""

    def make(ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        vectors = np.zeros((len(ids), VECTOR_DIM), dtype=np.float32)
        for row, paper_id in enumerate(ids):
            for term in analyze(texts.get(paper_id, paper_id)) or [paper_id]:
                digest = hashlib.blake2b(term.encode(), digest_size=4).digest()
                vectors[row, int.from_bytes(digest, "little") % VECTOR_DIM] += 1.0
            vectors[row] /= np.linalg.norm(vectors[row]) or 1.0
        return vectors, vectors.copy()  # one passage per paper: the paper itself

    return VectorFunction(make, passages_per_paper=1)


def build_test_index(settings: Settings) -> None:
    """Build the search index of ``settings``' database with hashed-word vectors (no model needed)."""
    engine = create_engine_from_settings(settings)
    try:
        with make_session_factory(engine)() as session:
            docs = list(iter_index_docs(store.iter_index_rows(session)))
    finally:
        engine.dispose()
    texts = {doc.id: f"{doc.title} {doc.abstract}" for doc in docs}
    IndexBuilder(IndexStore(settings.data_dir), None, precomputed=hashed_vectors(texts)).build(docs)


def ingest_demo(settings: Settings, shared_data: Path) -> None:
    engine = create_engine_from_settings(settings)
    try:
        upgrade_schema(engine)
        Ingestor(make_session_factory(engine)).ingest_paths([shared_data / name for name in DEMO_INPUTS])
    finally:
        engine.dispose()


def make_client(settings: Settings, **kwargs: object) -> TestClient:
    app: FastAPI = create_app(settings, now=fixed_clock, **kwargs)  # type: ignore[arg-type]
    return TestClient(app)

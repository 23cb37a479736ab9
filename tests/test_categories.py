"""Categories for papers that no source gave any: predicted from the nearest papers, replaced by real ones.

The index is built from precomputed vectors (two clusters) so that who is near whom is known exactly;
the end-to-end test runs the real `dailypapers ingest` of the demo sources with a real embedder.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from dailypapers import store
from dailypapers.categories import evaluate_installation, predict_missing
from dailypapers.cli import app
from dailypapers.config import Settings
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import FeedRecord, PaperRecord, Source
from dailypapers.models import FeedEntry, Paper, PaperCategory
from dailypapers.search.build import IndexBuilder, VectorFunction
from dailypapers.search.index import IndexStore, iter_index_docs
from dailypapers.serialize import paper_to_dict

DAY = date(2026, 6, 12)
DIM = 8


def _direction(axis: int, wobble: float, seed: int) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[axis] = 1.0
    vector += np.random.default_rng(seed).normal(0, wobble, DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _arxiv(paper_id: str, categories: list[str]) -> PaperRecord:
    return PaperRecord(
        source=Source.ARXIV_API,
        title=f"Paper {paper_id}",
        abstract="An abstract.",
        arxiv_id=paper_id,
        categories=categories,
        version=1,
        published=datetime(2026, 6, 1, tzinfo=UTC),
    )


def _hf(paper_id: str) -> PaperRecord:
    return PaperRecord(
        source=Source.HUGGINGFACE,
        title=f"Paper {paper_id}",
        abstract="An abstract.",
        arxiv_id=paper_id,
        feed=FeedRecord(day=DAY, upvotes=5),
    )


# Cluster 0 is language (cs.CL, cross-listed cs.LG), cluster 1 algebraic geometry; one q-bio paper sits
# inside cluster 0, and two Hugging Face papers without categories sit one in each cluster.
LANGUAGE = [f"2606.0000{i}" for i in range(1, 6)]
GEOMETRY = [f"2606.0001{i}" for i in range(1, 7)]
STRAY = "2606.00020"
NEAR_LANGUAGE, NEAR_GEOMETRY = "2606.00031", "2606.00032"
VECTORS = {
    **{paper_id: _direction(0, 0.05, n) for n, paper_id in enumerate(LANGUAGE)},
    **{paper_id: _direction(1, 0.05, 10 + n) for n, paper_id in enumerate(GEOMETRY)},
    STRAY: _direction(0, 0.05, 20),
    NEAR_LANGUAGE: _direction(0, 0.05, 31),
    NEAR_GEOMETRY: _direction(1, 0.05, 32),
}


def _build_index(settings: Settings, sessions: sessionmaker[Session]) -> None:
    def make(ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        rows = np.stack([VECTORS[i] for i in ids]) if ids else np.zeros((0, DIM), np.float32)
        return rows, rows

    builder = IndexBuilder(IndexStore(settings.data_dir), None, precomputed=VectorFunction(make, 1))
    with sessions() as session:
        builder.build(iter_index_docs(store.iter_index_rows(session)))


@pytest.fixture
def corpus(settings: Settings, sessions: sessionmaker[Session]) -> None:
    records = [_arxiv(i, ["cs.CL", "cs.LG"]) for i in LANGUAGE] + [_arxiv(i, ["math.AG"]) for i in GEOMETRY]
    records += [_arxiv(STRAY, ["q-bio.NC"]), _hf(NEAR_LANGUAGE), _hf(NEAR_GEOMETRY)]
    Ingestor(sessions).ingest_records(records, label="test")
    _build_index(settings, sessions)


def test_papers_without_categories_get_those_of_their_nearest_papers(
    corpus: None, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    report = predict_missing(settings, sessions)
    assert (report.without, report.predicted) == (2, 2)
    with sessions() as session:
        near_language = session.get(Paper, NEAR_LANGUAGE)
        near_geometry = session.get(Paper, NEAR_GEOMETRY)
        assert near_language is not None and near_geometry is not None
        assert (near_language.categories, near_language.primary_category) == (["cs.CL", "cs.LG"], "cs.CL")
        assert near_geometry.categories == ["math.AG"]
        assert near_language.categories_predicted and near_geometry.categories_predicted
        assert paper_to_dict(near_language)["categories_predicted"] is True
        assert store.get_paper(session, paper_id=LANGUAGE[0]).categories_predicted is False  # type: ignore[union-attr]
        # Predicted categories filter like real ones: the day's cs.CL feed now has the paper.
        cards = store.feed_cards(session, start=DAY, end=DAY, category="cs.CL")
        assert [(card.id, card.categories_predicted) for card in cards] == [(NEAR_LANGUAGE, True)]
        assert [c.id for c in store.feed_cards(session, start=DAY, end=DAY, category="math")] == [
            NEAR_GEOMETRY
        ]
    assert predict_missing(settings, sessions).without == 0  # nothing left to predict


def test_real_categories_replace_predicted_ones(
    corpus: None, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    predict_missing(settings, sessions)
    # Hugging Face again (no categories): the prediction stays.
    Ingestor(sessions).ingest_records([_hf(NEAR_LANGUAGE)], label="again")
    with sessions() as session:
        assert session.get(Paper, NEAR_LANGUAGE).categories_predicted is True  # type: ignore[union-attr]
    # arXiv says what they really are, even in a record that is not newer than what is stored.
    record = _arxiv(NEAR_LANGUAGE, ["cs.IR", "cs.CL"])
    record.version = None
    report = Ingestor(sessions).ingest_records([record], label="arXiv")
    assert report.updated == 1
    with sessions() as session:
        paper = session.get(Paper, NEAR_LANGUAGE)
        assert paper is not None
        assert (paper.categories, paper.primary_category, paper.categories_predicted) == (
            ["cs.IR", "cs.CL"],
            "cs.IR",
            False,
        )
        rows = session.execute(
            select(PaperCategory.category).where(PaperCategory.paper_id == NEAR_LANGUAGE)
        ).scalars()
        assert sorted(rows) == ["cs.CL", "cs.IR"]
    # A later prediction leaves real categories alone, even one voted before they arrived.
    assert predict_missing(settings, sessions, include_predicted=True).without == 1
    with sessions() as session:
        assert store.save_predicted_categories(session, predictions={NEAR_LANGUAGE: ["math.AG"]}) == 0
        assert session.get(Paper, NEAR_LANGUAGE).categories == ["cs.IR", "cs.CL"]  # type: ignore[union-attr]


def test_evaluation_leaves_each_paper_out_of_its_neighbours(
    corpus: None, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    evaluation = evaluate_installation(settings, sessions)
    assert evaluation is not None
    # 12 papers with known categories; the one q-bio paper has no q-bio neighbour once it is left out.
    assert (evaluation.papers, evaluation.top1, evaluation.top3) == (12, 11, 11)
    # Baseline: the most frequent primary category, counted without the held-out paper. math.AG (6)
    # wins for the cs.CL and q-bio papers; for a math.AG paper the counts tie 5:5 and cs.CL comes first.
    assert evaluation.most_frequent[0] == "math.AG"
    assert evaluation.baseline_top1 == 0
    assert evaluation.baseline_top3 == 11


def test_categories_commands(
    corpus: None, cli_env: dict[str, str], settings: Settings, sessions: sessionmaker[Session]
) -> None:
    runner = CliRunner()
    dry = runner.invoke(app, ["categories", "predict", "--dry-run", "--json"], env=cli_env)
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["predicted"] == 2
    with sessions() as session:
        assert session.get(Paper, NEAR_LANGUAGE).categories == []  # type: ignore[union-attr]
    done = runner.invoke(app, ["categories", "predict", "--evaluate"], env=cli_env)
    assert done.exit_code == 0, done.output
    assert "Predicted categories for 2 of 2 papers" in done.stdout
    assert "nearest papers, weighted vote" in done.stdout and "91.7 %" in done.stdout
    evaluated = runner.invoke(app, ["categories", "evaluate", "--json"], env=cli_env)
    assert json.loads(evaluated.stdout)["knn"] == {"top1": 0.9167, "top3": 0.9167}


def test_without_an_index_the_commands_say_what_to_do(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["categories", "evaluate"], env=cli_env)
    assert result.exit_code != 0
    assert "run `dailypapers index` first" in result.output and "Traceback" not in result.output


def test_every_paper_on_the_demo_feed_has_categories_after_ingest(
    shared_data: Path, cli_env: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    pytest.importorskip("wordllama")
    # The demo sources of `make run`, with the index update (and so the prediction) that follows an
    # ingest; the static embedder keeps it to seconds.
    env = {**cli_env, "DAILYPAPERS_AUTO_INDEX": "true", "DAILYPAPERS_EMBEDDER": "wordllama"}
    sources = [shared_data / "arxiv", shared_data / "hf-daily-papers", shared_data / "seed"]
    result = CliRunner().invoke(app, ["ingest", *map(str, sources)], env=env)
    assert result.exit_code == 0, result.output
    with sessions() as session:
        feed = session.execute(
            select(Paper.id, Paper.categories, Paper.categories_predicted).join(FeedEntry)
        ).all()
        assert len(feed) == 35
        assert all(categories for _, categories, _ in feed), [i for i, c, _ in feed if not c]
        assert all(predicted for _, _, predicted in feed)  # Hugging Face names none
        # The listing's papers, off the feed, got some too; the arXiv papers kept their own.
        assert store.papers_without_categories(session) == []
        assert not session.get(Paper, "0704.0001").categories_predicted  # type: ignore[union-attr]

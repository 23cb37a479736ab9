"""Categories for papers that no source gave any: predicted from the nearest papers that have them.

Hugging Face and copied listings name no arXiv categories, and without them a paper falls out of every
category filter (digests, ``/rss?category=``, the category chips). Where arXiv cannot be asked, or has
not been yet, a paper's categories are predicted by a weighted vote of its nearest neighbours in the
search index's paper vectors (cosine similarity of the embedded title and abstract) among the papers
whose categories a source gave. A neighbour votes with its similarity, fully for its primary category
and half for its cross-lists; the category with the most votes is the predicted primary, and the
runners-up with at least half its votes join it. Predicted categories are stored marked as such
(``papers.categories_predicted``) and filter like real ones; the first source that gives real
categories replaces them (see :func:`dailypapers.ingest.merge.merge_paper`).

:func:`evaluate` measures the vote on the papers whose categories are known, each left out of its own
neighbours, against the baseline of always answering the most frequent category.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store

if TYPE_CHECKING:
    from dailypapers.config import Settings
    from dailypapers.search.index import OpenIndex

NEIGHBOURS = 10
"""Labelled neighbours that vote."""
CANDIDATES = 64
"""Nearest papers looked at to find them (some have no categories of their own)."""
CROSS_LIST_WEIGHT = 0.5
RUNNER_UP_SHARE = 0.5
MAX_PREDICTED = 3
EXACT_LIMIT = 20_000
"""Up to this many papers, neighbours come from an exact scan of every paper vector; above, from the
index's HNSW graph, re-scored with the stored vectors."""

Labels = Callable[[Sequence[str]], dict[str, list[str]]]
"""Known (not predicted) categories of the given paper ids, primary first; papers without are absent."""


@dataclass(frozen=True, slots=True)
class Vote:
    """The categories of one paper ranked by their neighbours' votes (best first)."""

    paper_id: str
    ranking: list[tuple[str, float]]

    @property
    def categories(self) -> list[str]:
        """What is stored: the winner and the runners-up with at least half its votes."""
        if not self.ranking:
            return []
        top = self.ranking[0][1]
        return [c for c, score in self.ranking[:MAX_PREDICTED] if score >= top * RUNNER_UP_SHARE]


def predict(index: OpenIndex, paper_ids: Sequence[str], labels: Labels) -> dict[str, Vote]:
    """Votes for the given papers (those that are not in the index, or have no labelled neighbour, are
    left out)."""
    positions = [(paper_id, index.position(paper_id)) for paper_id in paper_ids]
    wanted = [(paper_id, row) for paper_id, row in positions if row is not None]
    votes: dict[str, Vote] = {}
    for start in range(0, len(wanted), 256):
        chunk = wanted[start : start + 256]
        for vote in _votes(index, [row for _, row in chunk], labels):
            if vote.ranking:
                votes[vote.paper_id] = vote
    return votes


def _votes(index: OpenIndex, rows: list[int], labels: Labels) -> list[Vote]:
    candidate_rows, similarities = _neighbours(index, np.asarray(rows, dtype=np.int64))
    ids = [str(i) for i in index.ids[np.unique(candidate_rows[candidate_rows >= 0])]] if rows else []
    known = labels(ids)
    votes = []
    for position, row in enumerate(rows):
        scores: dict[str, float] = {}
        voters = 0
        for candidate, similarity in zip(candidate_rows[position], similarities[position], strict=True):
            if candidate < 0 or candidate == row:
                continue  # the paper is no neighbour of itself (and is left out when it is evaluated)
            categories = known.get(str(index.ids[candidate]))
            if not categories:
                continue
            weight = max(float(similarity), 0.0)
            scores[categories[0]] = scores.get(categories[0], 0.0) + weight
            for other in categories[1:]:
                scores[other] = scores.get(other, 0.0) + weight * CROSS_LIST_WEIGHT
            voters += 1
            if voters == NEIGHBOURS:
                break
        ranking = sorted(((c, s) for c, s in scores.items() if s > 0), key=lambda item: (-item[1], item[0]))
        votes.append(Vote(str(index.ids[row]), ranking))
    return votes


def _neighbours(index: OpenIndex, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cosines) of the nearest papers of each given row, best first, ``-1`` padded."""
    wanted = min(CANDIDATES + 1, index.size)
    queries = np.asarray(index.vectors[rows], dtype=np.float32)
    if index.size <= EXACT_LIMIT:
        matrix = np.asarray(index.vectors, dtype=np.float32)
        similarities = queries @ matrix.T
        order = np.argsort(-similarities, axis=1, kind="stable")[:, :wanted]
        return order, np.take_along_axis(similarities, order, axis=1)
    _, found = index.ann.search(queries, wanted)
    similarities = np.full(found.shape, -1.0, dtype=np.float32)
    for position, candidates in enumerate(found):
        valid = candidates >= 0
        vectors = np.asarray(index.vectors[candidates[valid].astype(np.int64)], dtype=np.float32)
        similarities[position, valid] = vectors @ queries[position]
    order = np.argsort(-similarities, axis=1, kind="stable")
    return np.take_along_axis(found, order, axis=1), np.take_along_axis(similarities, order, axis=1)


# --------------------------------------------------------------------------------------------------
# How good is it
# --------------------------------------------------------------------------------------------------


@dataclass
class Evaluation:
    """Accuracy of the predicted primary category on papers whose categories are known."""

    papers: int = 0
    top1: int = 0
    top3: int = 0
    baseline_top1: int = 0
    baseline_top3: int = 0
    most_frequent: list[str] = field(default_factory=list)
    labelled: int = 0

    def rate(self, hits: int) -> float:
        return hits / self.papers if self.papers else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "papers": self.papers,
            "labelled_papers": self.labelled,
            "neighbours": NEIGHBOURS,
            "knn": {"top1": round(self.rate(self.top1), 4), "top3": round(self.rate(self.top3), 4)},
            "most_frequent": {
                "categories": self.most_frequent,
                "top1": round(self.rate(self.baseline_top1), 4),
                "top3": round(self.rate(self.baseline_top3), 4),
            },
        }


def evaluate(
    index: OpenIndex,
    known: dict[str, list[str]],
    *,
    sample: int | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Leave-one-out accuracy of the vote, for every paper in ``known`` that is in the index (or a
    random ``sample`` of them), beside always answering the most frequent primary categories."""
    ids = sorted(paper_id for paper_id in known if index.position(paper_id) is not None)
    if sample is not None and sample < len(ids):
        ids = sorted(random.Random(seed).sample(ids, sample))
    primaries = Counter(known[paper_id][0] for paper_id in known)
    result = Evaluation(papers=len(ids), labelled=len(known))

    def labels(wanted: Sequence[str]) -> dict[str, list[str]]:
        return {paper_id: known[paper_id] for paper_id in wanted if paper_id in known}

    for start in range(0, len(ids), 256):
        chunk = ids[start : start + 256]
        votes = predict(index, chunk, labels)
        for paper_id in chunk:
            truth = known[paper_id][0]
            ranked = [c for c, _ in votes[paper_id].ranking] if paper_id in votes else []
            result.top1 += ranked[:1] == [truth]
            result.top3 += truth in ranked[:3]
            # The baseline is fair too: the held-out paper does not count towards the frequencies.
            counts = primaries.copy()
            counts[truth] -= 1
            ranked_counts = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            frequent = [c for c, n in ranked_counts if n > 0][:3]
            result.baseline_top1 += frequent[:1] == [truth]
            result.baseline_top3 += truth in frequent
        if progress:
            progress(min(start + len(chunk), len(ids)), len(ids))
    result.most_frequent = [c for c, _ in sorted(primaries.items(), key=lambda item: (-item[1], item[0]))[:3]]
    return result


# --------------------------------------------------------------------------------------------------
# For an installation
# --------------------------------------------------------------------------------------------------


@dataclass
class PredictReport:
    """What :func:`predict_missing` did."""

    without: int = 0
    predicted: int = 0
    not_indexed: int = 0
    no_neighbours: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "without_categories": self.without,
            "predicted": self.predicted,
            "not_in_index": self.not_indexed,
            "no_labelled_neighbours": self.no_neighbours,
        }


def open_current_index(settings: Settings) -> OpenIndex | None:
    """The search index in use, or ``None`` when none was built yet."""
    from dailypapers.search.index import IndexStore, OpenIndex

    path = IndexStore(settings.data_dir).current_path()
    return OpenIndex(path) if path is not None else None


def predict_missing(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    include_predicted: bool = False,
    dry_run: bool = False,
) -> PredictReport:
    """Predict and store the categories of every paper that has none (or, if asked, predicted ones)."""
    with sessions() as session:
        ids = store.papers_without_categories(session, include_predicted=include_predicted)
    report = PredictReport(without=len(ids))
    if not ids:
        return report
    index = open_current_index(settings)
    if index is None:
        report.not_indexed = len(ids)
        return report
    try:
        report.not_indexed = sum(index.position(paper_id) is None for paper_id in ids)
        with sessions() as session:

            def labels(wanted: Sequence[str]) -> dict[str, list[str]]:
                return store.known_categories(session, ids=wanted)

            votes = predict(index, ids, labels)
            predictions = {paper_id: vote.categories for paper_id, vote in votes.items()}
            report.no_neighbours = len(ids) - report.not_indexed - len(predictions)
            report.predicted = store.save_predicted_categories(session, predictions=predictions)
            if dry_run:
                session.rollback()
            else:
                session.commit()
    finally:
        index.close()
    return report


def evaluate_installation(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    sample: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation | None:
    """:func:`evaluate` on this installation's papers with known categories; ``None`` without an index."""
    index = open_current_index(settings)
    if index is None:
        return None
    try:
        with sessions() as session:
            known = store.known_categories(session)
        return evaluate(index, known, sample=sample, progress=progress)
    finally:
        index.close()


__all__ = [
    "NEIGHBOURS",
    "Evaluation",
    "PredictReport",
    "Vote",
    "evaluate",
    "evaluate_installation",
    "predict",
    "predict_missing",
]

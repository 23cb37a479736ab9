"""Answering queries: keyword (BM25), semantic (dense vectors) and hybrid ranking, and similar papers.

Hybrid ranking scores a shortlist — the keyword top ``SHORTLIST`` and the semantic top ``SHORTLIST`` — with
three signals, each computed exactly for every paper on it:

* BM25, divided by the best BM25 score on the shortlist (so a query's scale does not matter);
* cosine similarity of the query and the paper vector (title and abstract);
* cosine similarity of the query and the paper's best-matching passage (see ``passages.py``).

The fused score is a weighted sum; the weights were tuned on the SciFact train split (``FUSION``).

Filters narrow every path before ranking, never after: keyword scores are only accumulated for allowed
papers, and semantic search over a small allowed set is exact, over a large one approximate with the
shortlist oversampled and topped up exactly when the filter removed too much — so a filter never costs
recall.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from dailypapers.errors import SearchError
from dailypapers.search.analyzer import analyze, words
from dailypapers.search.index import ANN_EF_SEARCH, NO_DATE, IndexHolder, OpenIndex, author_keys, load_faiss
from dailypapers.search.query import MAX_QUERY_CHARS, ParsedQuery, parse_query

if TYPE_CHECKING:
    from dailypapers.search.embedders import Embedder

SHORTLIST = 100
EXACT_FILTER_LIMIT = 50_000  # below this many allowed papers, semantic search scans them exactly
MAX_QUERY_TERMS = 64


@dataclass(frozen=True)
class Fusion:
    bm25: float
    paper: float
    passage: float


FUSION = Fusion(bm25=0.4, paper=0.3, passage=0.3)


class Mode(StrEnum):
    bm25 = "bm25"
    dense = "dense"
    hybrid = "hybrid"


@dataclass
class Hit:
    id: str
    score: float
    signals: dict[str, float] = field(default_factory=dict)


@dataclass
class SearchResults:
    query: ParsedQuery
    mode: Mode
    hits: list[Hit]
    total: int
    exact: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query.raw,
            "mode": self.mode.value,
            "total": self.total,
            "exact": self.exact,
            "notices": self.notices,
            "results": [{"id": h.id, "score": round(h.score, 6), "signals": h.signals} for h in self.hits],
        }


PhraseCheck = Callable[[Sequence[str], Sequence[str]], set[str]]
"""(paper ids, phrases) -> the ids whose title or abstract contains every phrase."""


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest scores, best first (ties broken by position, so results are stable)."""
    if len(scores) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if len(scores) > k else np.arange(len(scores))
    order = np.lexsort((part, -scores[part]))
    return part[order]


class SearchService:
    """Search over the current index. The embedder is loaded on first semantic query."""

    exact_filter_limit = EXACT_FILTER_LIMIT

    def __init__(
        self,
        holder: IndexHolder,
        embedder: Callable[[], Embedder],
        *,
        phrase_check: PhraseCheck | None = None,
        fusion: Fusion = FUSION,
    ) -> None:
        self.holder = holder
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self.phrase_check = phrase_check
        self.fusion = fusion

    # -- helpers ------------------------------------------------------------------------------------

    def index(self) -> OpenIndex:
        index = self.holder.get()
        if index is None:
            raise SearchError("there is no search index yet: run `dailypapers index` (ingest builds it too)")
        return index

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def _check_embedder(self, index: OpenIndex) -> None:
        if self.embedder.key != index.embedder_key:
            raise SearchError(
                f"the index was built with {index.embedder_key} but the configured embedder is "
                f"{self.embedder.key}: run `dailypapers index` to rebuild the vectors"
            )

    def allowed(self, index: OpenIndex, query: ParsedQuery) -> np.ndarray | None:
        """Row numbers allowed by the query's filters (sorted), or None when nothing is filtered."""
        sets: list[np.ndarray] = []
        for category in query.categories:
            rows = index.categories.get(category)
            if "." not in category:
                rows = np.union1d(rows, index.categories.with_prefix(category + "."))
            sets.append(rows)
        for author in query.authors:
            keys = sorted(author_keys(author))
            if not keys:
                continue
            rows = index.authors.get(keys[0])
            for key in keys[1:]:
                rows = np.intersect1d(rows, index.authors.get(key), assume_unique=True)
            sets.append(rows)
        if query.since or query.until:
            days = np.asarray(index.published)
            ok = days != NO_DATE
            if query.since:
                ok &= days >= (query.since - date(1970, 1, 1)).days
            if query.until:
                ok &= days <= (query.until - date(1970, 1, 1)).days
            sets.append(np.flatnonzero(ok).astype(np.int32))
        if not sets:
            return None
        result = sets[0]
        for rows in sets[1:]:
            result = np.intersect1d(result, rows, assume_unique=True)
        return result

    # -- the three rankings ---------------------------------------------------------------------------

    def bm25(self, index: OpenIndex, text: str, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of every allowed paper that matches at least one query term."""
        terms = analyze(text)[: MAX_QUERY_TERMS * 4]
        term_ids = [index.vocab[t] for t in dict.fromkeys(terms) if t in index.vocab][:MAX_QUERY_TERMS]
        if not term_ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        weights_by_term = {t: terms.count(t) for t in set(terms)}
        scores_csc = index.bm25.scores
        data, indices, indptr = scores_csc["data"], scores_csc["indices"], scores_csc["indptr"]
        inverse_vocab = {v: k for k, v in ((t, index.vocab[t]) for t in weights_by_term if t in index.vocab)}
        rows_parts, score_parts = [], []
        for term_id in term_ids:
            start, end = int(indptr[term_id]), int(indptr[term_id + 1])
            rows_parts.append(np.asarray(indices[start:end]))
            repeat = weights_by_term[inverse_vocab[term_id]]
            part = np.asarray(data[start:end], dtype=np.float32)
            score_parts.append(part * repeat if repeat > 1 else part)
        rows = np.concatenate(rows_parts)
        weights = np.concatenate(score_parts)
        if len(rows) * 8 < index.size:
            unique, inverse = np.unique(rows, return_inverse=True)
            scores = np.bincount(inverse, weights=weights).astype(np.float32)
        else:
            dense = np.bincount(rows, weights=weights, minlength=index.size)
            unique = np.flatnonzero(dense)
            scores = dense[unique].astype(np.float32)
        if allowed is not None:
            keep = np.isin(unique, allowed, assume_unique=True)
            unique, scores = unique[keep], scores[keep]
        return unique.astype(np.int64), scores

    def dense(
        self, index: OpenIndex, vector: np.ndarray, allowed: np.ndarray | None, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosines) of the ``k`` papers nearest to ``vector`` among the allowed ones, exact scores."""
        if index.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if allowed is not None and len(allowed) <= self.exact_filter_limit:
            return self._exact(index, vector, allowed, k)
        count = k
        if allowed is not None:
            selectivity = max(len(allowed) / index.size, 1e-6)
            count = min(index.size, math.ceil(k / selectivity * 2))
        wanted = min(max(count, k), index.size)
        params = load_faiss().SearchParametersHNSW(efSearch=max(ANN_EF_SEARCH, wanted))
        _, found = index.ann.search(vector.reshape(1, -1).astype(np.float32), wanted, params=params)
        rows = found[0][found[0] >= 0].astype(np.int64)
        if allowed is not None:
            rows = rows[np.isin(rows, allowed, assume_unique=True)]
            if len(rows) < min(k, len(allowed)):
                return self._exact(index, vector, allowed, k)
        cosines = self.cosines(index, vector, rows)
        order = _top(cosines, k)
        return rows[order], cosines[order]

    def _exact(
        self, index: OpenIndex, vector: np.ndarray, allowed: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(allowed, dtype=np.int64)
        cosines = self.cosines(index, vector, rows)
        order = _top(cosines, k)
        return rows[order], cosines[order]

    @staticmethod
    def cosines(index: OpenIndex, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(index.vectors[rows], dtype=np.float32) @ vector.astype(np.float32)

    @staticmethod
    def best_passages(
        index: OpenIndex, vector: np.ndarray, rows: np.ndarray, paper: np.ndarray
    ) -> np.ndarray:
        """For each row, the cosine of its best passage (its paper cosine when it has no passages)."""
        ptr = index.passage_ptr
        best = paper.copy()
        for n, row in enumerate(rows):
            start, end = int(ptr[row]), int(ptr[row + 1])
            if end > start:
                block = np.asarray(index.passages[start:end], dtype=np.float32)
                best[n] = max(float(paper[n]), float((block @ vector).max()))
        return best

    # -- public -----------------------------------------------------------------------------------

    def search(
        self,
        raw: str,
        *,
        k: int = 10,
        offset: int = 0,
        mode: Mode | str = Mode.hybrid,
        since: date | None = None,
        until: date | None = None,
        categories: Sequence[str] = (),
        syntax: bool = True,
    ) -> SearchResults:
        """Rank papers for ``raw``; ``syntax=False`` takes it as plain text (no filters, phrases or ids)."""
        mode = Mode(mode)
        if k < 1 or k > 1000:
            raise SearchError("k must be between 1 and 1000")
        query = parse_query(raw) if syntax else ParsedQuery(raw=raw, text=raw[:MAX_QUERY_CHARS])
        query.since = since or query.since
        query.until = until or query.until
        query.categories.extend(categories)
        index = self.index()
        results = SearchResults(query=query, mode=mode, hits=[], total=0, notices=list(query.notices))
        results.exact = [i for i in query.arxiv_ids if index.position(i) is not None]
        text = query.search_text
        if not text:
            if not results.exact and not query.has_filters:
                results.notices.append("Type some words to search for.")
            if not query.has_filters:
                results.hits = [Hit(i, 1.0, {"exact": 1.0}) for i in results.exact]
                results.total = len(results.hits)
                return results
        if (
            text
            and not analyze(text)
            and mode is not Mode.dense
            and not query.has_filters
            and not results.exact
        ):
            # Only words like "the" and "of": nothing to match on, and semantic neighbours of "the" are noise.
            results.notices.append(
                "The query has only very common words, which search ignores: add a more specific word."
            )
            return results
        allowed = self.allowed(index, query)
        depth = max(SHORTLIST, offset + k)
        ranked = self._rank(index, query, text, allowed, mode, depth)
        if query.phrases and self.phrase_check is not None and ranked:
            candidates = [str(index.ids[row]) for row, _, _ in ranked]
            keep = self.phrase_check(candidates, query.phrases)
            ranked = [item for item, paper_id in zip(ranked, candidates, strict=True) if paper_id in keep]
        hits = [Hit(str(index.ids[row]), score, signals) for row, score, signals in ranked]
        exact_hits = [
            Hit(i, max([h.score for h in hits], default=1.0) + 1.0, {"exact": 1.0}) for i in results.exact
        ]
        hits = exact_hits + [h for h in hits if h.id not in set(results.exact)]
        results.total = len(hits)
        results.hits = hits[offset : offset + k]
        return results

    def _rank(
        self,
        index: OpenIndex,
        query: ParsedQuery,
        text: str,
        allowed: np.ndarray | None,
        mode: Mode,
        depth: int,
    ) -> list[tuple[int, float, dict[str, float]]]:
        if not text:
            # Filters alone: newest first.
            rows = allowed if allowed is not None else np.arange(index.size)
            days = np.asarray(index.published)[rows]
            order = np.lexsort((rows, -days.astype(np.int64)))[:depth]
            return [(int(rows[i]), 0.0, {}) for i in order]
        if mode is Mode.bm25:
            rows, scores = self.bm25(index, text, allowed)
            order = _top(scores, depth)
            return [(int(rows[i]), float(scores[i]), {"bm25": float(scores[i])}) for i in order]
        self._check_embedder(index)
        vector = self.embedder.embed_query(text)
        if mode is Mode.dense:
            rows, cosines = self.dense(index, vector, allowed, depth)
            return [(int(r), float(c), {"dense": float(c)}) for r, c in zip(rows, cosines, strict=True)]
        return self._hybrid(index, text, vector, allowed, depth)

    def _hybrid(
        self, index: OpenIndex, text: str, vector: np.ndarray, allowed: np.ndarray | None, depth: int
    ) -> list[tuple[int, float, dict[str, float]]]:
        lexical_rows, lexical_scores = self.bm25(index, text, allowed)
        top_lexical = _top(lexical_scores, depth)
        dense_rows, _ = self.dense(index, vector, allowed, depth)
        shortlist = np.union1d(lexical_rows[top_lexical], dense_rows).astype(np.int64)
        if len(shortlist) == 0:
            return []
        bm25 = np.zeros(len(shortlist), dtype=np.float32)
        if len(lexical_rows):
            position = np.searchsorted(lexical_rows, shortlist)
            position[position >= len(lexical_rows)] = 0
            found = lexical_rows[position] == shortlist
            bm25[found] = lexical_scores[position[found]]
        top_bm25 = float(bm25.max()) if len(bm25) else 0.0
        bm25_norm = bm25 / top_bm25 if top_bm25 > 0 else bm25
        paper = self.cosines(index, vector, shortlist)
        passage = self.best_passages(index, vector, shortlist, paper)
        fused = self.fusion.bm25 * bm25_norm + self.fusion.paper * paper + self.fusion.passage * passage
        order = _top(fused, depth)
        return [
            (
                int(shortlist[i]),
                float(fused[i]),
                {"bm25": float(bm25[i]), "dense": float(paper[i]), "passage": float(passage[i])},
            )
            for i in order
        ]

    def similar(self, paper_id: str, *, k: int = 10) -> SearchResults:
        index = self.index()
        row = index.position(paper_id)
        query = parse_query(paper_id)
        results = SearchResults(query=query, mode=Mode.dense, hits=[], total=0)
        if row is None:
            raise SearchError(f"paper {paper_id!r} is not in the search index (run `dailypapers index`)")
        vector = np.asarray(index.vectors[row], dtype=np.float32)
        rows, cosines = self.dense(index, vector, None, k + 1)
        hits = [
            Hit(str(index.ids[r]), float(c), {"dense": float(c)}) for r, c in zip(rows, cosines, strict=True)
        ]
        results.hits = [h for h in hits if h.id != paper_id][:k]
        results.total = len(results.hits)
        return results


def phrase_matches(text: str, phrase: str) -> bool:
    """Whether the folded words of ``phrase`` appear consecutively in ``text``."""
    needle = words(phrase)
    if not needle:
        return True
    pattern = r"\b" + r"\W+".join(re.escape(w) for w in needle) + r"\b"
    return re.search(pattern, " ".join(words(text))) is not None

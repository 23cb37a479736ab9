"""Answering queries: keyword (BM25), semantic (dense vectors) and hybrid ranking, and similar papers.

Hybrid ranking scores a shortlist — the keyword top ``SHORTLIST`` and the semantic top ``SHORTLIST`` — with
three signals, each computed exactly for every paper on it:

* BM25 of the query expanded with terms from the best keyword matches (RM3, see ``lexical.py``);
* cosine similarity of the query and the paper vector (title and abstract);
* cosine similarity of the query and the paper's best-matching sentence (see ``passages.py``).

The keyword shortlist walks the posting lists of the query's rarer terms and looks the very common ones
up for the best candidates only (``lexical.shortlist_matches``); the semantic one comes from the HNSW
graph, re-ranked with the stored vectors.

Each signal is turned into standard scores over the shortlist and the fused score is their weighted
sum; the weights were tuned on the SciFact train split (``FUSION``). Measured on SciFact test (300
queries): nDCG@10 0.75, against 0.73 for a plain fusion of BM25 and MiniLM.

Before ranking, the query is checked for author names (``names.py``): the papers of a person named come
first, ranked by the query's other words, and the other results follow. A paper that holds none of the
query's words counts as a result only at or above the model's relevance floor (``relevance.py``), so
``total`` is the number of papers that matched, not the size of the shortlist.

Filters narrow every path before ranking, never after: keyword scores are only accumulated for allowed
papers, and semantic search over a small allowed set is exact, over a large one approximate with the
shortlist oversampled and topped up exactly when the filter removed too much — so a filter never costs
recall.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from dailypapers.errors import SearchError
from dailypapers.search.analyzer import analyze, words
from dailypapers.search.index import (
    ANN_EF_RESULTS,
    ANN_EF_SEARCH,
    NO_DATE,
    IndexHolder,
    OpenIndex,
    author_keys,
    load_faiss,
)
from dailypapers.search.lexical import (
    FEEDBACK_PAPERS,
    bm25_and_matches,
    bm25_matches,
    query_term_ids,
    rm3_weights,
    shortlist_matches,
)
from dailypapers.search.names import NameInQuery, display_name, find_names, without_names
from dailypapers.search.query import MAX_QUERY_CHARS, ParsedQuery, parse_query
from dailypapers.search.ranking import NOTHING, Ranking, kept, nearer_than_a_match, newest, papers_of
from dailypapers.search.relevance import semantic_floor

if TYPE_CHECKING:
    from dailypapers.search.embedders import Embedder

SHORTLIST = 100
ANN_CANDIDATES = 100  # nearest neighbours taken from the graph before exact re-ranking
EXACT_FILTER_LIMIT = 50_000  # below this many allowed papers, semantic search scans them exactly
NAME_SAMPLE = 20  # papers of a name whose author lists are read to spell the name as the papers do


# Weights of the z-scored signals, tuned by grid search on the SciFact train split (809 queries).
FUSION: dict[str, float] = {"bm25": 0.3, "dense": 0.4, "passage": 0.3}


def _zscore(values: np.ndarray) -> np.ndarray:
    """Standard scores over the shortlist: each signal weighs the same whatever its scale."""
    values = values.astype(np.float64)
    spread = values.std()
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


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
    """One page of hits and what to tell the person about them.

    ``total`` counts the papers that matched: those holding a query word or phrase, those above the
    relevance floor by meaning, the papers named by id, the papers of a name typed. ``notices`` say how
    the query was read (what was ignored and why); ``summary`` says what was found, for example "Papers
    by Adrian Del Maestro first" or "No exact matches; 3 related papers".
    """

    query: ParsedQuery
    mode: Mode
    hits: list[Hit]
    total: int
    exact: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """arXiv ids in the query that this site does not hold."""
    author: str | None = None
    """Whose papers come first, as the papers spell the name, when the query names someone."""
    author_total: int = 0
    related_only: bool = False
    """No paper holds the query's words; every hit was found by meaning."""

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query.raw,
            "mode": self.mode.value,
            "total": self.total,
            "exact": self.exact,
            "missing": self.missing,
            "author": self.author,
            "related_only": self.related_only,
            "notices": self.notices + self.summary,
            "results": [{"id": h.id, "score": round(h.score, 6), "signals": h.signals} for h in self.hits],
        }


PhraseCheck = Callable[[Sequence[str], Sequence[str]], set[str]]
"""(paper ids, phrases) -> the ids whose title or abstract contains every phrase."""

AuthorLookup = Callable[[Sequence[str]], dict[str, list[str]]]
"""paper ids -> each paper's author names (to spell a name typed in a query as the papers do)."""


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _answered_without_ranking(results: SearchResults, text: str, mode: Mode) -> bool:
    """Whether ``results`` are already whole with no ranking: ids alone, an empty box, only common words."""
    query = results.query
    if not text and not query.has_filters:
        if not query.arxiv_ids:
            results.notices.append("Type some words to search for.")
        results.hits = [Hit(i, 1.0, {"exact": 1.0}) for i in results.exact]
        results.total = len(results.hits)
        return True
    only_common_words = text and not analyze(text) and mode is not Mode.dense
    if only_common_words and not query.has_filters and not results.exact:
        # Only words like "the" and "of": nothing to match on, and semantic neighbours of "the" are noise.
        results.notices.append(
            "The query has only very common words, which search ignores: add a more specific word."
        )
        return True
    return False


def _items(
    rows: np.ndarray, scores: np.ndarray, signals: dict[str, np.ndarray], positions: Iterable[int]
) -> list[tuple[int, float, dict[str, float]]]:
    """The ranked items at ``positions``: each paper's row, its score and the value of every signal."""
    return [
        (int(rows[i]), float(scores[i]), {name: float(values[i]) for name, values in signals.items()})
        for i in positions
    ]


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
        paper_authors: AuthorLookup | None = None,
        fusion: dict[str, float] | None = None,
    ) -> None:
        self.holder = holder
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self.phrase_check = phrase_check
        self.paper_authors = paper_authors
        self.fusion = fusion or FUSION

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
            if not keys:  # parse_query drops these, with a notice
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
        return bm25_matches(index, query_term_ids(index, text), allowed)

    def dense(
        self,
        index: OpenIndex,
        vector: np.ndarray,
        allowed: np.ndarray | None,
        k: int,
        *,
        breadth: int = ANN_EF_RESULTS,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosines) of the ``k`` papers nearest to ``vector`` among the allowed ones, exact scores.

        ``breadth`` is the graph search's candidate list (HNSW's efSearch): wider finds more of the exact
        nearest papers and costs more."""
        if index.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if allowed is not None and len(allowed) <= self.exact_filter_limit:
            return self._exact(index, vector, allowed, k)
        count = k
        if allowed is not None:
            selectivity = max(len(allowed) / index.size, 1e-6)
            count = min(index.size, math.ceil(k / selectivity * 2))
        # The graph's 8-bit codes rank near-ties loosely; asking for more and re-ranking with the stored
        # vectors keeps recall@10 against an exact scan above 0.98 at a million papers.
        wanted = min(max(count, k, ANN_CANDIDATES), index.size)
        params = load_faiss().SearchParametersHNSW(efSearch=max(breadth, wanted))
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
        starts = np.asarray(ptr[rows], dtype=np.int64)
        counts = np.asarray(ptr[rows + 1], dtype=np.int64) - starts
        best = paper.astype(np.float32).copy()
        has = counts > 0
        if not has.any():
            return best
        rows_of_passages = index.passages.ranges(starts[has], counts[has])
        cosines = rows_of_passages.astype(np.float32) @ vector.astype(np.float32)
        offsets = np.concatenate([[0], np.cumsum(counts[has])[:-1]])
        best[has] = np.maximum.reduceat(cosines, offsets)
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
        results.missing = [i for i in query.arxiv_ids if i not in results.exact]
        results.summary.extend(f"arXiv:{i} is not on this site yet." for i in results.missing)
        text = query.search_text
        if _answered_without_ranking(results, text, mode):
            return results
        allowed = self.allowed(index, query)
        depth = max(SHORTLIST, offset + k)
        names = self.names_in(index, query.text)
        first = self._by_author(index, query, names, allowed, mode, depth) if names else NOTHING
        rest = self._rank(index, text, allowed, mode, depth + len(first.items))
        ranking = self._phrases(index, query, rest)
        self._fill(results, index, first, ranking, offset=offset, k=k)
        if names:
            self._say_by_author(results, index, names, first)
        elif ranking.keyword == 0 and len(ranking.matched) and not results.exact:
            results.related_only = True
            results.summary.append(f"No exact matches; {_count(len(ranking.matched), 'related paper')}.")
        return results

    def names_in(self, index: OpenIndex, text: str) -> list[NameInQuery]:
        """The author names typed in the free text (see ``names.py``)."""
        if not text.strip():
            return []
        return find_names(text, index.names, is_name_word=lambda word: self._mostly_a_name(index, word))

    @staticmethod
    def _mostly_a_name(index: OpenIndex, word: str) -> bool:
        """Whether most papers holding ``word`` hold it in an author's name (Xu, Maestro; not Long)."""
        named = len(index.authors.get(word))
        if named == 0:
            return False
        stems = analyze(word)
        term = index.vocab.get(stems[0]) if stems else None
        return term is None or 2 * named >= int(index.document_frequency[term])

    # -- assembling results ---------------------------------------------------------------------------

    def _fill(
        self, results: SearchResults, index: OpenIndex, first: Ranking, rest: Ranking, *, offset: int, k: int
    ) -> None:
        """Hits in order (named papers, the author's papers, the rest), each group scored above the next."""
        listed = set(results.exact)
        groups: list[list[Hit]] = [[Hit(i, 0.0, {"exact": 1.0}) for i in results.exact]]
        for ranking in (first, rest):
            group = [Hit(str(index.ids[row]), score, signals) for row, score, signals in ranking.items]
            groups.append([hit for hit in group if hit.id not in listed])
            listed.update(hit.id for hit in group)
        floor = max((hit.score for hit in groups[-1]), default=0.0)
        for group in reversed(groups[:-1]):
            # Rank, not the score of another ranking: a group comes before the next whatever the scales.
            for place, hit in enumerate(group):
                hit.score = floor + float(len(group) - place)
            floor = max((hit.score for hit in group), default=floor)
        hits = [hit for group in groups for hit in group]
        matched = np.union1d(first.matched, rest.matched)
        exact_rows = [index.position(i) for i in results.exact]
        results.total = len(np.union1d(matched, np.asarray(exact_rows, dtype=np.int64)))
        results.hits = hits[offset : offset + k]

    def _say_by_author(
        self, results: SearchResults, index: OpenIndex, names: list[NameInQuery], first: Ranking
    ) -> None:
        ids = [str(index.ids[row]) for row, _, _ in first.items[:NAME_SAMPLE]]
        author_lists = list(self.paper_authors(ids).values()) if self.paper_authors and ids else []
        labels = [display_name(name.form, author_lists) or f"authors named {name.typed}" for name in names]
        label = " and ".join(labels)
        if len(first.matched) == 0:
            results.summary.append(f"No papers by {label} match the rest of the query.")
            return
        results.author, results.author_total = label, len(first.matched)
        results.summary.append(f"Papers by {label} first ({len(first.matched):,}).")

    # -- rankings -------------------------------------------------------------------------------------

    def _by_author(
        self,
        index: OpenIndex,
        query: ParsedQuery,
        names: list[NameInQuery],
        allowed: np.ndarray | None,
        mode: Mode,
        depth: int,
    ) -> Ranking:
        """The papers of the named people, ranked by the query's other words (newest first without any)."""
        rows = papers_of(names)
        if allowed is not None:
            rows = np.intersect1d(rows, allowed)
        if len(rows) == 0:
            return NOTHING
        topic = " ".join([without_names(query.text, names), *query.phrases]).strip()
        ranking = self._phrases(
            index, query, self._rank(index, topic, rows, mode, min(depth, len(rows)), floor=False)
        )
        ranked = {row for row, _, _ in ranking.items}
        if query.phrases:
            return ranking
        unranked = np.setdiff1d(rows, np.fromiter(ranked, np.int64, len(ranked)))
        items = ranking.items + [(row, 0.0, {}) for row in newest(index, unranked, depth - len(ranked))]
        return Ranking(items, rows, keyword=len(rows))

    def _phrases(self, index: OpenIndex, query: ParsedQuery, ranking: Ranking) -> Ranking:
        """Only the papers holding every quoted phrase (checked for the ranked ones, the only ones known)."""
        if not query.phrases or self.phrase_check is None or not ranking.items:
            return ranking
        candidates = [str(index.ids[row]) for row, _, _ in ranking.items]
        keep = self.phrase_check(candidates, query.phrases)
        items = [item for item, paper in zip(ranking.items, candidates, strict=True) if paper in keep]
        rows = np.unique(np.asarray([row for row, _, _ in items], dtype=np.int64))
        return Ranking(items, rows, keyword=len(rows))

    def _rank(
        self,
        index: OpenIndex,
        text: str,
        allowed: np.ndarray | None,
        mode: Mode,
        depth: int,
        *,
        floor: bool = True,
    ) -> Ranking:
        """The ``depth`` best papers for ``text`` among the allowed ones, and every paper that matched.

        With ``floor``, a paper without any of the query's words is a match only when its semantic
        evidence reaches the model's relevance floor (``relevance.py``).
        """
        if not text:
            # Filters alone: newest first.
            rows = allowed if allowed is not None else np.arange(index.size)
            return Ranking([(row, 0.0, {}) for row in newest(index, rows, depth)], rows, keyword=len(rows))
        if mode is Mode.bm25:
            rows, scores = self.bm25(index, text, allowed)
            order = _top(scores, depth)
            items = [(int(rows[i]), float(scores[i]), {"bm25": float(scores[i])}) for i in order]
            return Ranking(items, rows, keyword=len(rows))
        self._check_embedder(index)
        vector = self.embedder.embed_query(text)
        cutoff = semantic_floor(index.embedder_key) if floor else None
        if mode is Mode.dense:
            return self._dense_ranking(index, text, vector, allowed, depth, cutoff)
        return self._hybrid(index, text, vector, allowed, depth, cutoff)

    def _dense_ranking(
        self,
        index: OpenIndex,
        text: str,
        vector: np.ndarray,
        allowed: np.ndarray | None,
        depth: int,
        cutoff: float | None,
    ) -> Ranking:
        rows, cosines = self.dense(index, vector, allowed, depth)
        _, typed = bm25_and_matches(index, {}, query_term_ids(index, text), rows)
        keep = kept(typed, self.best_passages(index, vector, rows, cosines), cosines, cutoff)
        keep = nearer_than_a_match(keep, cosines)
        items = _items(rows, cosines, {"dense": cosines}, np.flatnonzero(keep))
        return Ranking(items, np.sort(rows[keep]), keyword=int(typed.sum()))

    def _hybrid(
        self,
        index: OpenIndex,
        text: str,
        vector: np.ndarray,
        allowed: np.ndarray | None,
        depth: int,
        cutoff: float | None,
    ) -> Ranking:
        term_ids = query_term_ids(index, text)
        lexical_rows, lexical_scores = shortlist_matches(index, term_ids, allowed)
        top_lexical = _top(lexical_scores, max(depth, SHORTLIST))
        dense_rows, _ = self.dense(index, vector, allowed, max(depth, SHORTLIST), breadth=ANN_EF_SEARCH)
        shortlist = np.union1d(lexical_rows[top_lexical], dense_rows).astype(np.int64)
        if len(shortlist) == 0:
            return NOTHING
        feedback = top_lexical[:FEEDBACK_PAPERS]
        expanded = (
            rm3_weights(index, term_ids, lexical_rows[feedback], lexical_scores[feedback]) if term_ids else {}
        )
        bm25, typed = bm25_and_matches(index, expanded, term_ids, shortlist)
        signals = {"bm25": bm25, "dense": self.cosines(index, vector, shortlist)}
        signals["passage"] = self.best_passages(index, vector, shortlist, signals["dense"])
        keep = kept(typed, signals["passage"], signals["dense"], cutoff)
        fused = np.zeros(len(shortlist), dtype=np.float64)
        for name, weight in self.fusion.items():
            fused += weight * _zscore(signals[name])
        # Standard scores are taken over the whole shortlist, so that dropping the papers below the floor
        # changes no other paper's score or place.
        order = [i for i in _top(fused, len(fused)) if keep[i]][:depth]
        items = _items(shortlist, fused, signals, order)
        keyword_rows = np.union1d(lexical_rows, shortlist[typed])
        return Ranking(items, np.union1d(keyword_rows, shortlist[keep]), keyword=len(keyword_rows))

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

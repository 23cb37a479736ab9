"""The pieces rankings are assembled from: a ranking with what it matched, the relevance floor applied,
and the orders used where there are no words to rank by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dailypapers.search.index import OpenIndex
from dailypapers.search.names import NameInQuery


@dataclass
class Ranking:
    """Ranked papers, best first and at most as many as asked for, and the rows of every paper that matched.

    ``keyword`` is how many of the matches hold one of the query's words (0: all were found by meaning).
    """

    items: list[tuple[int, float, dict[str, float]]]
    matched: np.ndarray
    keyword: int


NOTHING = Ranking([], np.zeros(0, dtype=np.int64), 0)


def kept(typed: np.ndarray, passage: np.ndarray, dense: np.ndarray, cutoff: float | None) -> np.ndarray:
    """Which papers count as matches: those with a query word, the others only at or above the floor."""
    if cutoff is None:
        return np.ones(len(typed), dtype=bool)
    return np.asarray(typed | (np.maximum(passage, dense) >= cutoff))


def nearer_than_a_match(keep: np.ndarray, cosines: np.ndarray) -> np.ndarray:
    """A ranking by meaning without holes: every paper nearer to the query than some match is kept too.

    The floor then only ends a semantic list, after the least similar paper that holds a query word or
    reaches the floor, and never drops a paper from inside it: a paper shown is never less similar than
    one left out. A list with no match at all (nonsense) stays empty.
    """
    if not keep.any():
        return keep
    return np.asarray(keep | (cosines > cosines[keep].min()))


def newest(index: OpenIndex, rows: np.ndarray, count: int) -> list[int]:
    """The ``count`` most recently published of ``rows`` (undated last)."""
    if count <= 0 or len(rows) == 0:
        return []
    days = np.asarray(index.published)[rows].astype(np.int64)
    return [int(rows[i]) for i in np.lexsort((rows, -days))[:count]]


def papers_of(names: Sequence[NameInQuery]) -> np.ndarray:
    """Papers by all the people named, or by any of them when no paper has them all."""
    both = names[0].rows
    for name in names[1:]:
        both = np.intersect1d(both, name.rows)
    if len(both):
        return both
    return np.unique(np.concatenate([name.rows for name in names]))


__all__ = ["NOTHING", "Ranking", "kept", "nearer_than_a_match", "newest", "papers_of"]

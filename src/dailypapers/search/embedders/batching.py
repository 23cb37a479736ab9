"""Helpers shared by the embedders: batches of texts of similar length, and unit-length rows.

A batch is padded to its longest text, so batching texts in the order they come wastes work on padding:
an abstract of 60 tokens beside one of 256 costs as much as a second long one. Sorting by length first
and restoring the order afterwards removes most of that waste.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

SORT_WINDOW_BATCHES = 64
"""Texts are tokenised and sorted in windows of this many batches, so memory stays flat on big corpora."""


def length_sorted_batches(lengths: Sequence[int] | np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Positions into ``lengths``, in batches of at most ``batch_size``, shortest texts first."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    order = np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def windows(count: int, batch_size: int) -> Iterator[range]:
    """Consecutive ranges of positions, each a few dozen batches long, covering ``range(count)``."""
    step = max(1, batch_size * SORT_WINDOW_BATCHES)
    for start in range(0, count, step):
        yield range(start, min(start + step, count))


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` as float32 with each row scaled to length 1 (an all-zero row stays zero), in place."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    vectors /= norms
    return vectors

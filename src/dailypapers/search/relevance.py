"""When a paper that shares no word with the query still counts as a result: the relevance floor.

Semantic search always has nearest neighbours, even for ``xyzzyqwerty``: without a floor every query
answers a hundred papers, and the count on the page means nothing. A paper that contains one of the
query's words is a match whatever its similarity; one that contains none (a "semantic-only" paper) is
kept only when its semantic evidence — the better of its paper cosine and its best sentence cosine
(see ``passages.py``) — reaches the floor of the model that made the vectors.

The floor is a property of the model, since each spreads cosines differently, and was calibrated on the
SciFact *train* split only (809 claims, 919 relevant abstracts; ``bench/search.py --calibrate-floor``
prints the figures): it is the semantic evidence that 95 % of the relevant (claim, abstract) pairs
reach, rounded down to two decimals — 0.38 for all-MiniLM-L6-v2. The 1 % quantile (0.27) was the first
candidate, but it lets nonsense through: the best neighbour of ``xyzzyqwerty`` among the demo papers has
0.32. A relevant paper is only lost when it also holds none of the query's words: on SciFact train 16
of the 919 relevant pairs share no word with their claim, and the floor cuts 7 of them (0.8 % of all).
Models without a calibrated floor keep every neighbour, as before.
"""

from __future__ import annotations

# Calibrated on SciFact train (see the module docstring and docs/search.md); keyed by model name, the part
# of the embedder key before ``:`` (the int8, bf16 and fp32 variants of one model share it).
SEMANTIC_FLOORS: dict[str, float] = {"all-MiniLM-L6-v2": 0.38}
FLOOR_QUANTILE = 0.05  # the share of relevant training pairs below the floor


def semantic_floor(embedder_key: str) -> float | None:
    """The floor for the model that made an index's vectors, or None when none was calibrated."""
    return SEMANTIC_FLOORS.get(embedder_key.split(":", 1)[0])


__all__ = ["FLOOR_QUANTILE", "SEMANTIC_FLOORS", "semantic_floor"]

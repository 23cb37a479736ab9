"""Passages: the pieces of an abstract that get a vector of their own.

MiniLM reads at most 256 word pieces and many abstracts are longer, so one vector per paper misses
what its end says; and a short query often matches one sentence, not the whole abstract. Each paper
therefore also gets vectors for overlapping windows of sentences, each prefixed with the title, and the
ranking uses the best-matching passage as evidence beside the whole-paper vector.
"""

from __future__ import annotations

import re

WINDOW_SENTENCES = 3
STRIDE_SENTENCES = 2
MAX_PASSAGES = 12

# A sentence ends at . ! or ? followed by space and an upper-case letter, digit or opening bracket;
# abbreviations such as "e.g. the" or "et al. showed" are not split because a lower-case word follows.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def passages(title: str, abstract: str) -> list[str]:
    """Title-prefixed windows of ``WINDOW_SENTENCES`` sentences, ``STRIDE_SENTENCES`` apart."""
    sentences = split_sentences(abstract)
    if len(sentences) <= WINDOW_SENTENCES:
        return []  # the whole-paper vector already covers a short abstract
    windows = []
    for start in range(0, len(sentences) - WINDOW_SENTENCES + STRIDE_SENTENCES, STRIDE_SENTENCES):
        window = " ".join(sentences[start : start + WINDOW_SENTENCES])
        windows.append(f"{title}. {window}" if title else window)
        if len(windows) >= MAX_PASSAGES:
            break
    return windows

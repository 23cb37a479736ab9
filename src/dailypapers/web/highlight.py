"""Marking query terms in titles and abstract snippets, safely.

A word is marked when it analyses to one of the query's terms (the same folding and stemming as the
index, so ``models`` in a query marks ``model`` and ``Modeling``). The text is cut into tokens and the
pieces between them; every piece is HTML-escaped on its own and only then wrapped in ``<mark>``, so no
text from a paper can open a tag. Formulas are rendered as MathML and never marked inside.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from html import escape

from markupsafe import Markup

from dailypapers.mathml import ELLIPSIS, Segment, render_segment, split_math
from dailypapers.search.analyzer import analyze, words
from dailypapers.search.query import ParsedQuery

_TOKEN = re.compile(r"[^\W_]+")
SNIPPET_CHARS = 320


@lru_cache(maxsize=65536)
def _stems(token: str) -> tuple[str, ...]:
    return tuple(analyze(token))


def query_terms(query: ParsedQuery) -> frozenset[str]:
    """The analysed terms of a query's free text and phrases (filters are not text to mark)."""
    terms = set(analyze(query.search_text))
    for phrase in query.phrases:
        terms.update(analyze(" ".join(words(phrase))))
    return frozenset(terms)


def _marks(token: str, terms: frozenset[str]) -> bool:
    return any(stem in terms for stem in _stems(token))


def highlight_text(text: str, terms: frozenset[str]) -> str:
    """Escaped ``text`` with matching words wrapped in ``<mark>`` (no math handling)."""
    if not terms:
        return escape(text, quote=False)
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        if _marks(match.group(0), terms):
            out.append(escape(text[position : match.start()], quote=False))
            out.append(f"<mark>{escape(match.group(0), quote=False)}</mark>")
            position = match.end()
    out.append(escape(text[position:], quote=False))
    return "".join(out)


def _render(segments: Iterable[Segment], terms: frozenset[str]) -> str:
    return "".join(render_segment(s) if s.math else highlight_text(s.text, terms) for s in segments)


def highlight(text: str, terms: frozenset[str]) -> Markup:
    """The whole text, math rendered, query terms marked."""
    return Markup(_render(split_math(text), terms))


def _window_start(text: str, hits: list[int], chars: int) -> int:
    """Where a window of ``chars`` holding the densest run of ``hits`` begins: a sentence or word start."""
    if not hits:
        return 0
    best, best_count = hits[0], 0
    for i, first in enumerate(hits):
        count = sum(1 for h in hits[i:] if h < first + chars * 0.8)
        if count > best_count:
            best, best_count = first, count
    start = max(0, best - chars // 5)
    sentence = text.rfind(". ", 0, best)
    if sentence != -1 and best - sentence < chars // 2:
        return sentence + 2
    if start:
        space = text.find(" ", start)
        start = space + 1 if space != -1 and space < best else start
    return start


def _outside_formulas(text: str, start: int, end: int) -> tuple[int, int]:
    """``start`` and ``end`` moved out of any formula they fall in, so that the window never cuts one."""
    position = 0
    for segment in split_math(text):
        seg_start, seg_end = position, position + len(segment.source or segment.text)
        if segment.math:
            if seg_start < start < seg_end:
                start = seg_start
            if seg_start < end < seg_end:
                end = seg_end
        position = seg_end
    return start, end


def snippet(text: str, terms: frozenset[str], *, chars: int = SNIPPET_CHARS) -> Markup:
    """About ``chars`` characters of ``text`` around its densest run of matches, terms marked.

    The window starts at the beginning of a sentence or word and never cuts a formula.
    """
    if len(text) <= chars:
        return highlight(text, terms)
    hits = [m.start() for m in _TOKEN.finditer(text) if terms and _marks(m.group(0), terms)]
    start = _window_start(text, hits, chars)
    end = min(len(text), start + chars)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + chars // 2 else end
    start, end = _outside_formulas(text, start, end)
    body = _render(split_math(text[start:end]), terms)
    return Markup((ELLIPSIS if start > 0 else "") + body + (ELLIPSIS if end < len(text) else ""))


__all__ = ["highlight", "highlight_text", "query_terms", "snippet"]

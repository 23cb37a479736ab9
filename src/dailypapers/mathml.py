"""LaTeX math in titles and abstracts, rendered to MathML on the server.

Abstracts are full of ``$...$``. Rendering them on the server means pages need no script (and no
remote one) to show formulas, and browsers draw MathML natively. Text is split into math and non-math
segments: non-math text is HTML-escaped, each formula is converted by ``latex2mathml`` and the result is
sanitised with an allow-list of MathML elements and attributes (nh3). The converter was not written
with hostile input in mind and passes some text through, so its output is never trusted as it is: only
the listed presentation elements survive, attribute values are re-escaped, and anything else (``<img>``,
event handlers, ``href``) is dropped. A formula the converter rejects, or one too long to be worth
converting, falls back to its escaped source text, so the reader still sees what the authors wrote.

Delimiters understood: ``$...$`` and ``\\(...\\)`` inline, ``$$...$$`` and ``\\[...\\]`` display.
``\\$`` is a literal dollar sign, and a ``$`` that opens no closed formula stays text. As in pandoc, an
inline formula cannot start or end with a space and its closing ``$`` cannot be followed by a digit, so
prices ("between $5 and $10") stay text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html import escape

import nh3
from markupsafe import Markup

MAX_FORMULA_CHARS = 2000
ELLIPSIS = "…"

MATHML_ELEMENTS = frozenset(
    """math mrow mi mn mo ms mtext mspace msup msub msubsup mfrac msqrt mroot mover munder munderover
    mtable mtr mtd mstyle mpadded mphantom menclose merror mmultiscripts mprescripts none semantics""".split()
)
_COMMON_ATTRIBUTES = frozenset(
    """mathvariant mathsize displaystyle scriptlevel stretchy fence separator lspace rspace form
    symmetric largeop movablelimits accent accentunder minsize maxsize width height depth
    linethickness columnalign rowalign columnspacing rowspacing columnlines rowlines frame
    framespacing equalrows equalcolumns notation align""".split()
)
MATHML_ATTRIBUTES = {
    name: set(_COMMON_ATTRIBUTES | ({"display", "xmlns", "alttext"} if name == "math" else set()))
    for name in MATHML_ELEMENTS
}

# One alternation, tried left to right at each position: escaped dollars first (they are text), then
# display math before inline math so that ``$$`` is not read as an empty inline formula.
_SEGMENT = re.compile(
    r"""(?P<escaped>\\\$)
      | \$\$(?P<display>.+?)\$\$
      | \\\[(?P<display2>.+?)\\\]
      | \$(?P<inline>(?=\S)(?:\\\$|[^$])+?)(?<=\S)\$(?!\d)
      | \\\((?P<inline2>.+?)\\\)""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of text: plain text, or the LaTeX source of a formula (without its delimiters)."""

    text: str
    math: bool = False
    display: bool = False
    source: str = ""  # the formula with its delimiters, as written

    @property
    def visible_length(self) -> int:
        return len(self.source) if self.math else len(self.text)


def split_math(text: str) -> list[Segment]:
    """Split ``text`` into plain-text and formula segments, in order."""
    if "$" not in text and "\\(" not in text and "\\[" not in text:
        return [Segment(text)] if text else []
    segments: list[Segment] = []
    plain: list[str] = []
    position = 0
    for match in _SEGMENT.finditer(text):
        plain.append(text[position : match.start()])
        position = match.end()
        if match.group("escaped"):
            plain.append("$")
            continue
        formula = next(
            (match.group(g) for g in ("display", "display2", "inline", "inline2") if match.group(g)), ""
        )
        if not formula.strip():
            plain.append(match.group(0))
            continue
        if plain:
            joined = "".join(plain)
            if joined:
                segments.append(Segment(joined))
            plain = []
        display = match.group("display") is not None or match.group("display2") is not None
        segments.append(Segment(formula, math=True, display=display, source=match.group(0)))
    plain.append(text[position:])
    joined = "".join(plain)
    if joined:
        segments.append(Segment(joined))
    return segments


@lru_cache(maxsize=32768)
def formula_to_mathml(latex: str, display: bool = False) -> str | None:
    """Sanitised MathML for one formula, or ``None`` when it cannot be converted."""
    if len(latex) > MAX_FORMULA_CHARS:
        return None
    from latex2mathml.converter import convert

    try:
        converted = convert(latex.strip(), display="block" if display else "inline")
    except Exception:  # the converter raises many kinds of errors on malformed LaTeX
        return None
    # alttext gives screen readers and copy-paste the source; nh3 re-escapes the attribute value.
    converted = converted.replace("<math ", f'<math alttext="{escape(latex.strip(), quote=True)}" ', 1)
    cleaned = nh3.clean(
        converted,
        tags=set(MATHML_ELEMENTS),
        attributes=MATHML_ATTRIBUTES,
        url_schemes=set(),
        strip_comments=True,
    )
    if not cleaned.startswith("<math"):
        return None
    return cleaned


def render_segment(segment: Segment) -> str:
    if not segment.math:
        return escape(segment.text, quote=False)
    mathml = formula_to_mathml(segment.text, segment.display)
    return mathml if mathml is not None else escape(segment.source, quote=False)


def render_math(text: str | None) -> Markup:
    """HTML for ``text``: escaped, with every formula as MathML."""
    if not text:
        return Markup("")
    return Markup("".join(render_segment(s) for s in split_math(text)))


def truncate_segments(segments: list[Segment], limit: int) -> tuple[list[Segment], bool]:
    """The segments that fit in about ``limit`` visible characters, cutting text at a word boundary.

    A formula is never cut in half: it is kept whole or left out. Returns (segments, truncated).
    """
    kept: list[Segment] = []
    used = 0
    for segment in segments:
        length = segment.visible_length
        if used + length <= limit:
            kept.append(segment)
            used += length
            continue
        if not segment.math:
            room = limit - used
            cut = segment.text[:room]
            space = cut.rfind(" ")
            if space > room // 2:
                cut = cut[:space]
            cut = cut.rstrip(" ,;:")
            if cut:
                kept.append(Segment(cut))
        return kept, True
    return kept, False


def render_math_excerpt(text: str | None, limit: int) -> Markup:
    """Like :func:`render_math`, for about the first ``limit`` characters, ending with an ellipsis if cut."""
    if not text:
        return Markup("")
    segments, cut = truncate_segments(split_math(text), limit)
    html = "".join(render_segment(s) for s in segments)
    return Markup(html + (ELLIPSIS if cut else ""))


def render_paragraphs(text: str | None) -> Markup:
    """``<p>`` per paragraph (abstracts separate paragraphs with a blank line), math rendered."""
    if not text:
        return Markup("")
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return Markup("".join(f"<p>{render_math(p)}</p>" for p in paragraphs))


def strip_math_delimiters(text: str) -> str:
    """Plain text for places that cannot show MathML (feed titles, ``<title>``): formulas as written."""
    return "".join(s.source if s.math else s.text for s in split_math(text))


__all__ = [
    "Segment",
    "formula_to_mathml",
    "render_math",
    "render_math_excerpt",
    "render_paragraphs",
    "render_segment",
    "split_math",
    "strip_math_delimiters",
    "truncate_segments",
]

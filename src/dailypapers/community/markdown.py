"""Comments as HTML: a Markdown subset with ``$...$`` math, sanitised with a strict allow-list.

Comments are written by anyone with an account, so their HTML is built in three steps, each of which
would be enough alone against the usual tricks and which together leave nothing to chance:

1. markdown-it-py in CommonMark mode with raw HTML **off**: ``<script>`` or ``<img onerror=...>`` in a
   comment is text, not a tag. Images, headings and reference-style link definitions are turned off too
   (a comment has no use for them), and markdown-it itself refuses ``javascript:``, ``vbscript:``,
   ``file:`` and ``data:`` link targets.
2. Math: an inline rule of our own takes ``$...$`` and ``$$...$$`` out before emphasis or escapes can
   touch them (``$a_1 * b_2$`` stays one formula), with the same delimiter rules as abstracts (see
   :mod:`dailypapers.mathml`), and renders each with the site's MathML converter, whose output is
   already sanitised. A formula that cannot be converted is shown as its source.
3. nh3 (ammonia) cleans the result with an allow-list of elements and attributes: paragraphs, emphasis,
   code, quotes, lists, links and the MathML elements; links may only be http(s) or mailto and get
   ``rel="nofollow noopener ugc"`` (search engines should not credit links in comments, and a linked
   page must not get a handle on this one).
"""

from __future__ import annotations

from functools import lru_cache
from html import escape
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markupsafe import Markup

from dailypapers.mathml import MATHML_ATTRIBUTES, MATHML_ELEMENTS, MAX_FORMULA_CHARS, formula_to_mathml

MAX_COMMENT_CHARS = 10_000
LINK_REL = "nofollow noopener ugc"
HTML_ELEMENTS = frozenset("p br em strong code pre blockquote ul ol li a hr del s".split())
ALLOWED_ELEMENTS = set(HTML_ELEMENTS | MATHML_ELEMENTS)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    **{name: set(values) for name, values in MATHML_ATTRIBUTES.items()},
    "a": {"href", "title"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def _math_rule(state: StateInline, silent: bool) -> bool:
    """``$$...$$`` (display) or ``$...$`` (inline: no space inside either delimiter, closing ``$`` not
    followed by a digit, so "$5 and $10" stays text)."""
    src, start, end = state.src, state.pos, state.posMax
    if src[start] != "$":
        return False
    display = src.startswith("$$", start)
    opener = 2 if display else 1
    content_start = start + opener
    if display:
        close = src.find("$$", content_start, end)
        if close < 0 or not src[content_start:close].strip():
            return False
        stop = close + 2
    else:
        if content_start >= end or src[content_start].isspace() or src[content_start] == "$":
            return False
        close = content_start
        while True:
            close = src.find("$", close, end)
            if close < 0:
                return False
            if src[close - 1] == "\\":  # an escaped dollar inside the formula
                close += 1
                continue
            if src[close - 1].isspace() or (close + 1 < end and src[close + 1].isdigit()):
                return False
            break
        stop = close + 1
    latex = src[content_start:close]
    if len(latex) > MAX_FORMULA_CHARS:
        return False
    if not silent:
        token = state.push("math_display" if display else "math_inline", "math", 0)
        token.content = latex
        token.markup = src[start:stop]
    state.pos = stop
    return True


def _render_math(_renderer: Any, tokens: list[Any], index: int, _options: Any, _env: Any) -> str:
    token = tokens[index]
    mathml = formula_to_mathml(token.content, token.type == "math_display")
    return mathml if mathml is not None else escape(token.markup, quote=False)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True})
    md.disable(["image", "heading", "lheading", "reference", "html_block", "html_inline"])
    md.inline.ruler.before("escape", "math", _math_rule)
    md.add_render_rule("math_inline", _render_math)
    md.add_render_rule("math_display", _render_math)
    return md


@lru_cache(maxsize=4096)
def _render(text: str) -> str:
    html = _parser().render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_ELEMENTS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_comment(text: str) -> Markup:
    """Safe HTML for a comment's Markdown source."""
    return Markup(_render(text)) if text else Markup("")


__all__ = ["LINK_REL", "MAX_COMMENT_CHARS", "render_comment"]

"""Server-side LaTeX to MathML: segments, conversion, sanitising, and the fall-backs."""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from dailypapers.mathml import (
    formula_to_mathml,
    render_math,
    render_math_excerpt,
    render_paragraphs,
    split_math,
    strip_math_delimiters,
)
from tests.factories import SNAPSHOT


def test_split_finds_inline_and_display_math() -> None:
    segments = split_math(r"the $(k,\ell)$-pebble game and $$E=mc^2$$ or \(a\) and \[b\]")
    assert [(s.math, s.display, s.text) for s in segments if s.math] == [
        (True, False, r"(k,\ell)"),
        (True, True, "E=mc^2"),
        (True, False, "a"),
        (True, True, "b"),
    ]
    assert "".join(s.source if s.math else s.text for s in segments).startswith("the $(k,")


def test_prices_and_escaped_dollars_stay_text() -> None:
    assert not any(s.math for s in split_math("between $5 and $10 a day"))
    assert strip_math_delimiters(r"costs \$5") == "costs $5"
    assert not any(s.math for s in split_math("a lone $ sign"))


def test_math_becomes_mathml_with_its_source_as_alt_text() -> None:
    html = str(render_math(r"Let $\alpha_i < \frac{1}{2}$ hold."))
    tree = lxml.html.fragment_fromstring(html, create_parent="p")
    (math,) = tree.findall(".//math")
    assert math.get("alttext") == r"\alpha_i < \frac{1}{2}"
    assert math.find(".//mfrac") is not None
    assert html.startswith("Let <math") and html.endswith("</math> hold.")


def test_text_outside_math_is_escaped() -> None:
    html = str(render_math("<script>alert(1)</script> & <b>bold</b> $x$"))
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.parametrize(
    "hostile",
    [
        r"$\text{<img src=x onerror=alert(1)>}$",
        r"$\mathrm{<script>alert(1)</script>}$",
        r"$\href{javascript:alert(1)}{x}$",
        r"$x\style{color:red}{y}$",
        "$<svg onload=alert(1)>$",
    ],
)
def test_hostile_formulas_cannot_inject_markup(hostile: str) -> None:
    html = str(render_math(hostile))
    tree = lxml.html.fragment_fromstring(html, create_parent="p")
    for element in tree.iter():
        assert (
            element.tag in {"p", "math"}
            or element.tag.startswith("m")
            or element.tag in {"semantics", "none"}
        )
        assert element.tag not in {"script", "img", "svg", "a", "style"}
        for name in element.attrib:
            assert not name.startswith("on") and name not in {"href", "src", "style"}


def test_a_formula_that_does_not_convert_falls_back_to_its_source() -> None:
    assert formula_to_mathml(r"\frac{1}{") is None
    assert str(render_math(r"broken $\frac{1}{$ math")) == r"broken $\frac{1}{$ math"
    assert formula_to_mathml("x" * 5000) is None  # too long to be worth converting


def test_excerpt_cuts_at_a_word_and_never_inside_a_formula() -> None:
    text = r"one two three $\alpha + \beta$ four five six seven"
    cut = str(render_math_excerpt(text, 16))
    assert cut.endswith("…") and "<math" not in cut and cut.startswith("one two three")
    whole = str(render_math_excerpt(text, 200))
    assert whole.count("<math") == 1 and not whole.endswith("…")


def test_paragraphs() -> None:
    html = str(render_paragraphs("First $x$.\n\nSecond."))
    assert html.count("<p>") == 2 and "<math" in html


def test_every_formula_of_the_real_snapshot_renders_or_falls_back(shared_data: Path) -> None:
    converted = 0
    for line in (shared_data / SNAPSHOT).read_text().splitlines():
        abstract = json.loads(line)["abstract"]
        html = str(render_math(abstract))
        lxml.html.fragment_fromstring(html, create_parent="div")  # parses
        converted += html.count("<math")
    assert converted > 200

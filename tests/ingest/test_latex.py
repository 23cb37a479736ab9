"""LaTeX text markup becomes Unicode at ingest, in every parser; math and everything else is kept."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dailypapers.ingest.formats.atom import parse_atom
from dailypapers.ingest.formats.beir import parse_beir_line
from dailypapers.ingest.formats.hf import parse_hf_daily_papers
from dailypapers.ingest.formats.listing import parse_listing
from dailypapers.ingest.formats.oai import parse_oai
from dailypapers.ingest.formats.snapshot import parse_snapshot_line
from dailypapers.ingest.latex import latex_text
from dailypapers.ingest.records import PaperRecord
from dailypapers.ingest.text import clean_abstract, clean_title
from dailypapers.mathml import split_math


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (r"Erd{\H{o}}s", "Erdős"),
        (r"Fr\'echet", "Fréchet"),
        (r"Gr\"obner", "Gröbner"),
        (r"R\'{e}nyi", "Rényi"),
        (r"Djokovi\'{c}'s", "Djoković's"),
        (r"Tom\'a\v{s} \v{S}r\'amek", "Tomáš Šrámek"),
        (r"A. Petojevi\' c verified", "A. Petojević verified"),  # TeX skips the space after \'
        (r"Fran\c cois and Gau\ss{} and \o ne", "François and Gauß and ø ne"),
        (r"\'{\i}", "í"),
        (r"{\em Lorentzian} and \emph{Erd\H{o}s}", "Lorentzian and Erdős"),
        (r"1\textit{T}-TiSe$_{2}$", "1T-TiSe$_{2}$"),
        (r"up by 5\% \& more", "up by 5% & more"),
        (r"a \emph{} b", "a b"),
    ],
)
def test_accents_symbols_and_font_commands_become_unicode(source: str, expected: str) -> None:
    assert latex_text(source) == expected


@pytest.mark.parametrize(
    "text",
    [
        r"the $(k,\ell)$-pebble game and $\Lambda_{\alpha}$",
        r"inline \(\"o\) and display $$\H{o}$$ and \[\v{s}\] and $\'e$",
        r"costs \$5 and \$10",  # a bare $ could open a formula, so the escape stays
        "between $5 and $10",
        "10% of runs; see http://example.org/~user/a_b?x=1",  # % is no comment here, ~ no space
        "the {GPT} model and f{x} in code",
        r"a stray \ backslash, C:\path, \cite{G2} and a \pi outside math",
        r"a LaTeX line break\\'e is no accent",
        "plain Unicode: Erdős, Gröbner",
    ],
)
def test_math_and_what_is_not_text_markup_are_kept(text: str) -> None:
    assert latex_text(text) == text


def test_math_is_found_as_the_mathml_renderer_finds_it() -> None:
    text = r"For $\alpha$ and \(\beta\), between $5 and $10, $$x^2$$ with \'e."
    formulas = [segment.source for segment in split_math(latex_text(text)) if segment.math]
    assert formulas == [r"$\alpha$", r"\(\beta\)", "$$x^2$$"]
    assert latex_text(text).endswith("with é.")


@given(st.text(alphabet=st.sampled_from(list("\\{}$'\"`^~=.Hvcuioae %&#_ \n()[]")), max_size=40))
def test_cleaning_a_cleaned_text_changes_nothing(text: str) -> None:
    once = clean_abstract(text)
    assert clean_abstract(once) == once
    title = clean_title(text)
    assert clean_title(title) == title


def test_real_snapshot_abstracts_are_converted_and_stable(shared_data: Path) -> None:
    path = shared_data / "arxiv" / "oai-snapshot" / "arxiv-metadata-oai-snapshot.first200.jsonl"
    records = {}
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        record = parse_snapshot_line(line, f"line {number}")
        assert isinstance(record, PaperRecord)
        records[record.arxiv_id] = record
    assert "Ynduráin's method" in records["0704.0039"].abstract
    assert "Muskhelishvili-Omnès" in records["0704.0039"].abstract
    assert records["0704.0073"].title.startswith("A transcendental approach to Kollár's")
    assert "compact Kähler manifold" in records["0704.0073"].abstract
    assert "matrix nonlinear Schrödinger equation" in records["0704.0082"].abstract
    assert "dimerized phase to Néel order" in records["0704.0114"].abstract
    for record in records.values():
        # Every accent of the file is gone; the formulas are exactly those of the raw text.
        for text in (record.title, record.abstract):
            assert "\\'" not in text and '\\"' not in text and "\\`" not in text, text
            assert latex_text(text) == text
    raw = orjson.loads(path.read_bytes().splitlines()[1])
    assert r"$(k,\ell)$-pebble game" in raw["abstract"]
    assert r"$(k,\ell)$-pebble game" in records["0704.0002"].abstract


# -- every parser ------------------------------------------------------------------------------------

TITLE = r"On Erd{\H{o}}s and R\'{e}nyi: $\alpha$-{\em graphs} in Gr\"obner bases"
EXPECTED = r"On Erdős and Rényi: $\alpha$-graphs in Gröbner bases"
ABSTRACT = r"We study Fr\'echet means of $\mathbb{R}^n$ and improve by 5\%."
EXPECTED_ABSTRACT = r"We study Fréchet means of $\mathbb{R}^n$ and improve by 5%."


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def test_atom_titles_abstracts_and_authors(shared_data: Path) -> None:
    feed = (shared_data / "arxiv" / "api-atom" / "arxivpy-id_1605.08386_s0_m100.xml").read_text()
    start, end = feed.index("<title>", feed.index("<entry>")), feed.index("</title>", feed.index("<entry>"))
    feed = feed[:start] + f"<title>{_xml(TITLE)}</title>" + feed[end + len("</title>") :]
    start, end = feed.index("<summary>"), feed.index("</summary>")
    feed = feed[:start] + f"<summary>{_xml(ABSTRACT)}</summary>" + feed[end + len("</summary>") :]
    (record,) = parse_atom(feed.encode()).items
    assert isinstance(record, PaperRecord)
    assert (record.title, record.abstract) == (EXPECTED, EXPECTED_ABSTRACT)


def test_oai_titles_and_abstracts(shared_data: Path) -> None:
    data = (shared_data / "arxiv" / "oai-pmh" / "invenio-sample_arxiv_response.xml").read_text()
    start = data.index("<title>")
    end = data.index("</title>", start) + len("</title>")
    data = data[:start] + f"<title>{_xml(TITLE)}</title>" + data[end:]
    start = data.index("<abstract>")
    end = data.index("</abstract>", start) + len("</abstract>")
    data = data[:start] + f"<abstract>{_xml(ABSTRACT)}</abstract>" + data[end:]
    (record,) = parse_oai(data.encode()).items
    assert isinstance(record, PaperRecord)
    assert (record.title, record.abstract) == (EXPECTED, EXPECTED_ABSTRACT)


def test_hugging_face_titles_abstracts_and_authors() -> None:
    item = {
        "paper": {
            "id": "2606.00001",
            "title": TITLE,
            "summary": ABSTRACT,
            "authors": [{"name": r"Paul Erd\H{o}s"}, {"name": "Alfréd Rényi"}],
        }
    }
    (record,) = parse_hf_daily_papers(orjson.dumps([item]))
    assert isinstance(record, PaperRecord)
    assert (record.title, record.abstract) == (EXPECTED, EXPECTED_ABSTRACT)
    assert record.authors == ["Paul Erdős", "Alfréd Rényi"]


def test_listing_and_beir_titles_and_abstracts() -> None:
    long_abstract = ABSTRACT + " " + "More words of the abstract follow here. " * 5
    (record,) = parse_listing(f"{TITLE}\n\n{long_abstract}\n".encode())
    assert isinstance(record, PaperRecord)
    assert record.title == EXPECTED and record.abstract.startswith(EXPECTED_ABSTRACT)
    line = orjson.dumps({"_id": "1", "title": TITLE, "text": ABSTRACT})
    beir = parse_beir_line(line, "line 1", dataset="test")
    assert isinstance(beir, PaperRecord)
    assert (beir.title, beir.abstract) == (EXPECTED, EXPECTED_ABSTRACT)

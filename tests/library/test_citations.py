"""Reading and writing reference files: Zotero's BibTeX, RIS and CSL-JSON exports, and the round trip."""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dailypapers.citations import (
    CITATION_FORMATS,
    MAX_CITATION_BYTES,
    Citation,
    CitationError,
    normalize_doi,
    read_citations,
    write_citations,
)
from dailypapers.errors import DailyPapersError
from dailypapers.ingest.formats.snapshot import parse_snapshot_line
from dailypapers.ingest.merge import new_paper_state, prepare
from dailypapers.ingest.records import PaperRecord, title_key
from dailypapers.models import Paper
from dailypapers.serialize import paper_to_bibtex
from tests.factories import SNAPSHOT

NOW = datetime(2026, 6, 13, 9, 0, tzinfo=UTC)

# Zotero 7, "Export Collection..." as BibTeX: an arXiv preprint saved from arxiv.org (its arXiv comment
# became a child note, exported as annote) and a journal article saved from the publisher's page.
ZOTERO_BIBTEX = r"""
@misc{vaswani_attention_2023,
	title = {Attention {Is} {All} {You} {Need}},
	url = {http://arxiv.org/abs/1706.03762},
	doi = {10.48550/arXiv.1706.03762},
	abstract = {The dominant sequence transduction models are based on complex recurrent networks.},
	urldate = {2024-03-05},
	publisher = {arXiv},
	author = {Vaswani, Ashish and Shazeer, Noam and Parmar, Niki and Uszkoreit, Jakob and Jones, Llion},
	month = aug,
	year = {2023},
	note = {arXiv:1706.03762 [cs]},
	keywords = {Computer Science - Computation and Language, Computer Science - Machine Learning},
	annote = {Comment: 15 pages, 5 figures},
}

@article{balazs_calculation_2007,
	title = {Calculation of prompt diphoton production cross sections at {Tevatron} and {LHC} energies},
	volume = {76},
	issn = {1550-7998, 1550-2368},
	url = {https://link.aps.org/doi/10.1103/PhysRevD.76.013009},
	doi = {10.1103/PhysRevD.76.013009},
	number = {1},
	urldate = {2024-03-05},
	journal = {Physical Review D},
	author = {Bal{\'a}zs, C. and Berger, E. L. and Nadolsky, P. M. and Yuan, C.-P.},
	month = jul,
	year = {2007},
	pages = {013009},
}
"""

# The same two items exported by Zotero as RIS (notes exported as N1, in Zotero's HTML). Zotero ends
# each record with "ER  - " and a trailing space, added below.
ZOTERO_RIS = """TY  - GEN
TI  - Attention Is All You Need
AU  - Vaswani, Ashish
AU  - Shazeer, Noam
AU  - Parmar, Niki
AB  - The dominant sequence transduction models are based on complex recurrent networks.
DA  - 2023/08/01/
PY  - 2023
DO  - 10.48550/arXiv.1706.03762
DP  - arXiv.org
PB  - arXiv
UR  - http://arxiv.org/abs/1706.03762
Y2  - 2024/03/05/10:12:41
N1  - arXiv:1706.03762 [cs]
N1  - <p>Comment: 15 pages, 5 figures</p>
KW  - Computer Science - Computation and Language
ER  -

TY  - JOUR
TI  - Calculation of prompt diphoton production cross sections at Tevatron and LHC energies
AU  - Balázs, C.
AU  - Berger, E. L.
AU  - Nadolsky, P. M.
AU  - Yuan, C.-P.
T2  - Physical Review D
DA  - 2007/07/05/
PY  - 2007
DO  - 10.1103/PhysRevD.76.013009
VL  - 76
IS  - 1
SP  - 013009
SN  - 1550-7998, 1550-2368
UR  - https://link.aps.org/doi/10.1103/PhysRevD.76.013009
ER  -
""".replace("ER  -\n", "ER  - \n")

# And as "CSL JSON": Zotero puts the arXiv id of a preprint in "number" and its Extra field in "note".
ZOTERO_CSL_JSON = """[
  {
    "id": "http://zotero.org/users/1234567/items/ABCD2345",
    "type": "article",
    "abstract": "The dominant sequence transduction models are based on complex recurrent networks.",
    "DOI": "10.48550/arXiv.1706.03762",
    "note": "arXiv:1706.03762 [cs]\\nCitation Key: vaswani2017attention",
    "number": "arXiv:1706.03762",
    "publisher": "arXiv",
    "source": "arXiv.org",
    "title": "Attention Is All You Need",
    "URL": "http://arxiv.org/abs/1706.03762",
    "author": [
      {"family": "Vaswani", "given": "Ashish"},
      {"family": "Shazeer", "given": "Noam"}
    ],
    "accessed": {"date-parts": [["2024", 3, 5]]},
    "issued": {"date-parts": [["2023", 8, 1]]}
  },
  {
    "id": "http://zotero.org/users/1234567/items/EFGH6789",
    "type": "article-journal",
    "container-title": "Physical Review D",
    "DOI": "10.1103/PhysRevD.76.013009",
    "ISSN": "1550-7998, 1550-2368",
    "issue": "1",
    "page": "013009",
    "title": "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies",
    "URL": "https://link.aps.org/doi/10.1103/PhysRevD.76.013009",
    "volume": "76",
    "author": [
      {"family": "Balázs", "given": "C."},
      {"family": "Berger", "given": "E. L."}
    ],
    "issued": {"date-parts": [["2007", 7, 5]]}
  }
]
"""


def _one_bibtex(fields: str, kind: str = "article") -> Citation:
    (entry,) = read_citations(f"@{kind}{{key,\n{fields}\n}}\n".encode()).entries
    return entry


def _paper(record: PaperRecord) -> Paper:
    return Paper(**new_paper_state(record.arxiv_id or "x", prepare(record), NOW))


def _real_papers() -> list[Paper]:
    data = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    path = data / SNAPSHOT
    if not path.exists():
        return []
    records = [parse_snapshot_line(line, str(n)) for n, line in enumerate(path.read_bytes().splitlines())]
    return [_paper(r) for r in records if isinstance(r, PaperRecord)]


REAL_PAPERS = _real_papers()
needs_real_data = pytest.mark.skipif(not REAL_PAPERS, reason="real data not present in ../shared/data")


# -- Reading Zotero's exports --------------------------------------------------------------------


def test_zotero_bibtex_finds_the_arxiv_id_the_doi_and_the_readers_note() -> None:
    read = read_citations(ZOTERO_BIBTEX.encode(), "My Library.bib")
    assert read.format == "bibtex" and read.problems == []
    preprint, article = read.entries
    assert preprint.title == "Attention Is All You Need"
    assert preprint.authors[:2] == ("Ashish Vaswani", "Noam Shazeer") and len(preprint.authors) == 5
    assert (preprint.year, preprint.arxiv_id) == (2023, "1706.03762")
    assert preprint.doi == "10.48550/arxiv.1706.03762"
    assert preprint.note == "Comment: 15 pages, 5 figures"
    assert (
        article.title
        == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert article.authors == ("C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan")
    assert (article.year, article.arxiv_id, article.doi) == (2007, None, "10.1103/physrevd.76.013009")
    assert article.note is None


def test_zotero_ris_reads_the_same_items() -> None:
    read = read_citations(ZOTERO_RIS.encode(), "export.ris")
    assert read.format == "ris" and read.problems == []
    preprint, article = read.entries
    assert preprint == Citation(
        title="Attention Is All You Need",
        authors=("Ashish Vaswani", "Noam Shazeer", "Niki Parmar"),
        year=2023,
        arxiv_id="1706.03762",
        doi="10.48550/arxiv.1706.03762",
        # The HTML note becomes text; the N1 line that only repeats the arXiv id is no note.
        note="Comment: 15 pages, 5 figures",
    )
    assert article.authors[0] == "C. Balázs" and article.doi == "10.1103/physrevd.76.013009"
    assert (article.year, article.arxiv_id) == (2007, None)


def test_zotero_csl_json_reads_the_same_items() -> None:
    read = read_citations(ZOTERO_CSL_JSON.encode(), "export.json")
    assert read.format == "csl-json" and read.problems == []
    preprint, article = read.entries
    assert (preprint.title, preprint.arxiv_id, preprint.year) == (
        "Attention Is All You Need",
        "1706.03762",
        2023,
    )
    assert preprint.authors == ("Ashish Vaswani", "Noam Shazeer") and preprint.note is None
    assert (article.doi, article.arxiv_id, article.year) == ("10.1103/physrevd.76.013009", None, 2007)
    assert article.authors == ("C. Balázs", "E. L. Berger")


@pytest.mark.parametrize(
    ("fields", "arxiv_id"),
    [
        # arXiv's own "Export BibTeX citation": eprint with archivePrefix, the version split off.
        ("title={Attention Is All You Need}, eprint={1706.03762v7}, archivePrefix={arXiv}", "1706.03762"),
        # DBLP: eprinttype instead of archivePrefix.
        ("title={Attention}, journal={CoRR}, volume={abs/1706.03762}, eprinttype={arXiv},"
         "eprint={1706.03762}", "1706.03762"),
        # Google Scholar: the id only in the journal.
        ("title={Attention}, journal={arXiv preprint arXiv:1706.03762}, year={2017}", "1706.03762"),
        # Zotero without a URL: the id in the note (its Extra field).
        ("title={Attention}, note={arXiv: 1706.03762}", "1706.03762"),
        ("title={Attention}, url={https://arxiv.org/pdf/1706.03762v5.pdf}", "1706.03762"),
        ("title={Attention}, doi={10.48550/arXiv.1706.03762}", "1706.03762"),
        # Old-style ids, subject class dropped as arXiv does.
        ("title={Spaces}, eprint={math.GT/0309136}, archivePrefix={arXiv}", "math/0309136"),
        ("title={Strings}, eprint={hep-th/9901001}", "hep-th/9901001"),
        # Not arXiv: a bare number in free text.
        ("title={Numbers}, note={see table 1706.03762 in the appendix}", None),
        ("title={Numbers}, note={1706.03762}", None),
    ],
)  # fmt: skip
def test_bibtex_arxiv_ids_are_found_where_tools_put_them(fields: str, arxiv_id: str | None) -> None:
    assert _one_bibtex(fields).arxiv_id == arxiv_id


def test_bibtex_latex_becomes_unicode_and_formulas_stay() -> None:
    entry = _one_bibtex(
        r"title = {On the {Erd\H{o}s}--{R\'enyi} {Model} of $\mathbb{R}^{n}$ \& {Graphs}},"
        r"author = {Erd{\H{o}}s, Paul and R{\'e}nyi, Alfr{\'e}d and {Google DeepMind} and others}"
    )
    assert entry.title == r"On the Erdős--Rényi Model of $\mathbb{R}^{n}$ & Graphs"
    assert entry.authors == ("Paul Erdős", "Alfréd Rényi", "Google DeepMind")


def test_only_lines_that_repeat_the_arxiv_id_are_dropped_from_notes() -> None:
    note = "arXiv:1706.03762v2 [cs.CL]\narXiv rocks: read 1706.03762 first\nCitation Key: vaswani2017"
    (entry,) = read_citations(
        json.dumps([{"type": "article", "title": "Attention", "note": note}]).encode()
    ).entries
    assert entry.note == "arXiv rocks: read 1706.03762 first"


def test_dois_are_normalised() -> None:
    assert normalize_doi("https://doi.org/10.1103/PhysRevD.76.013009") == "10.1103/physrevd.76.013009"
    assert normalize_doi("doi: 10.1038/NATURE14539.") == "10.1038/nature14539"
    assert normalize_doi("not a doi") is None
    assert _one_bibtex("title={X}, doi={https://dx.doi.org/10.1038/Nature14539}").doi == "10.1038/nature14539"


@pytest.mark.parametrize(
    ("number", "container", "arxiv_id"),
    [
        ("1706.03762", "arXiv", "1706.03762"),  # a bare number is an arXiv id when the item says arXiv
        ("1706.03762", "Journal of Numbers", None),
        ("arXiv:1706.03762", "Journal of Numbers", "1706.03762"),
    ],
)
def test_csl_json_arxiv_number(number: str, container: str, arxiv_id: str | None) -> None:
    item = {"type": "article", "title": "Attention", "number": number, "container-title": container}
    (entry,) = read_citations(json.dumps([item]).encode()).entries
    assert entry.arxiv_id == arxiv_id


@pytest.mark.parametrize(
    "line",
    ["M3  - arXiv:1706.03762", "N1  - arXiv: 1706.03762", "JO  - arXiv preprint arXiv:1706.03762",
     "UR  - https://arxiv.org/abs/1706.03762v2", "L1  - https://arxiv.org/pdf/1706.03762"],
)  # fmt: skip
def test_ris_arxiv_ids_in_the_tags_tools_use(line: str) -> None:
    (entry,) = read_citations(f"TY  - JOUR\nTI  - Attention\n{line}\nER  - \n".encode()).entries
    assert entry.arxiv_id == "1706.03762"


def test_ris_with_one_space_before_the_dash_is_read() -> None:
    (entry,) = read_citations(b"TY - JOUR\nTI - Attention\nDO - 10.1000/ABC\nER - \n").entries
    assert (entry.title, entry.doi) == ("Attention", "10.1000/abc")


# -- Telling formats and encodings apart ---------------------------------------------------------


def test_the_content_decides_the_format_and_the_name_only_breaks_ties() -> None:
    assert read_citations(ZOTERO_BIBTEX.encode(), "wrongly-named.ris").format == "bibtex"
    assert read_citations(ZOTERO_RIS.encode(), "wrongly-named.json").format == "ris"
    assert read_citations(ZOTERO_CSL_JSON.encode()).format == "csl-json"
    # An RIS note that quotes BibTeX looks like both formats; the name says which it is.
    both = "TY  - JOUR\nTI  - Citing\nN1  - cite as\n@misc{x, title={Other}}\nER  - \n"
    assert read_citations(both.encode(), "refs.ris").format == "ris"
    assert read_citations(both.encode(), "refs.bib").format == "bibtex"
    assert read_citations(both.encode()).format == "ris"  # no name: what comes first


@pytest.mark.parametrize(
    "encoded",
    [
        codecs.BOM_UTF8 + "@misc{k, title={Balázs – “Quoted”}}".encode(),
        "@misc{k, title={Balázs – “Quoted”}}".encode("utf-16"),
        "@misc{k, title={Balázs – “Quoted”}}".encode("cp1252"),
    ],
    ids=["utf-8 with BOM", "utf-16", "windows-1252"],
)
def test_encodings_other_tools_write(encoded: bytes) -> None:
    (entry,) = read_citations(encoded).entries
    assert entry.title == "Balázs – “Quoted”"


# -- Files that cannot be read, entries that cannot be read -------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"  \n\n ", "empty"),
        (codecs.BOM_UTF8, "empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
        (bytes(range(256)) * 4, "binary"),
        (b"Dear reviewer, thank you for the comments.", "not in a reference format"),
        (b"Dear reviewer.", "not in a reference format"),
        (b'{"name": "dailypapers", "version": 1}', "not CSL-JSON"),
        (b"[1, 2, 3]", "not CSL-JSON"),
        (b'[{"type": "article", "title": "Cut', "not valid JSON"),
        (b"[" * 100_000, "nested too deeply"),
        (b"@misc{k, title={A}}\n\x00", "binary"),
        (b"Just some words", "not in a reference format"),
    ],
)
def test_unreadable_files_raise_a_citation_error_in_plain_words(data: bytes, words: str) -> None:
    with pytest.raises(CitationError) as raised:
        read_citations(data)
    assert words in str(raised.value)
    assert "Accepted are BibTeX (.bib), RIS (.ris) and CSL-JSON (.json)" in str(raised.value)
    assert isinstance(raised.value, DailyPapersError)


def test_a_file_named_bib_without_entries_says_what_bibtex_looks_like() -> None:
    with pytest.raises(CitationError, match=r"named like BibTeX but is not: .*@article\{"):
        read_citations(b"title = {Attention}", "refs.bib")


def test_files_over_the_size_limit_are_refused() -> None:
    big = b"@misc{k, title={A}}\n" + b"%" * MAX_CITATION_BYTES
    with pytest.raises(CitationError, match=r"MB; at most 10 MB"):
        read_citations(big)


def test_truncated_bibtex_keeps_the_good_entries_and_names_the_bad() -> None:
    cut = ZOTERO_BIBTEX + "\n@article{cut_2024,\n\ttitle = {A paper cut of"
    read = read_citations(cut.encode())
    assert [e.title[:9] for e in read.entries] == ["Attention", "Calculati"]
    (problem,) = read.problems
    assert problem.startswith("entry 3 (cut_2024) at line 32 could not be read")
    assert "cut off" in problem


def test_an_unclosed_brace_spoils_only_its_own_entry() -> None:
    text = "@misc{broken,\n  title = {Never closed,\n  year = 2020\n\n@misc{fine, title = {Fine}}\n"
    read = read_citations(text.encode())
    assert [e.title for e in read.entries] == ["Fine"]
    assert read.problems == [
        "entry 1 (broken) at line 1 could not be read: "
        "a brace or quote is not closed before the next entry starts"
    ]


def test_two_entries_with_one_key_are_two_references() -> None:
    read = read_citations(b"@misc{same, title={First}}\n@misc{same, title={Second}}\n")
    assert [e.title for e in read.entries] == ["First", "Second"] and read.problems == []


def test_entries_without_anything_to_match_are_problems() -> None:
    read = read_citations(b"@misc{a, title={Kept}}\n@misc{b, author={Nobody, A.}, year={2020}}\n")
    assert [e.title for e in read.entries] == ["Kept"]
    assert read.problems == [
        "entry 2 (b) at line 2 has no title, arXiv id or DOI, so it cannot be matched to a paper"
    ]


def test_ris_without_er_is_a_problem_and_the_complete_records_are_read() -> None:
    cut = ZOTERO_RIS + "TY  - JOUR\nTI  - Cut in the middle\nAU  - Someone, A.\n"
    read = read_citations(cut.encode())
    assert len(read.entries) == 2
    assert read.problems == [
        "entry 3 at line 35 could not be read: it has no end (a line 'ER  - '): the file seems cut off"
    ]
    missing_er = ZOTERO_RIS.replace("KW  - Computer Science - Computation and Language\nER  - \n", "")
    read = read_citations(missing_er.encode())
    assert [e.title[:9] for e in read.entries] == ["Calculati"]
    assert "before the next record starts" in read.problems[0]


def test_a_file_with_no_readable_entry_is_an_error_listing_why() -> None:
    with pytest.raises(
        CitationError, match=r"No entry of this RIS file could be read: entry 1 at line 1"
    ) as raised:
        read_citations(b"TY  - JOUR\nTI  - Only a start\n")
    assert raised.value.problems == [
        "entry 1 at line 1 could not be read: it has no end (a line 'ER  - '): the file seems cut off"
    ]


def test_csl_items_that_are_not_objects_are_problems() -> None:
    read = read_citations(b'[{"type": "article", "title": "Kept"}, "stray", {"type": "book"}]')
    assert [e.title for e in read.entries] == ["Kept"]
    assert read.problems == [
        "entry 2 is not a CSL-JSON item (an object)",
        "entry 3 has no title, arXiv id or DOI, so it cannot be matched to a paper",
    ]


# -- Writing -------------------------------------------------------------------------------------


@needs_real_data
def test_the_paper_page_bibtex_is_unchanged() -> None:
    paper = next(p for p in REAL_PAPERS if p.id == "0704.0001")
    assert paper_to_bibtex(paper) == (
        "@misc{balazs2007calculation,\n"
        "  title = {{Calculation of prompt diphoton production cross sections at Tevatron and LHC"
        " energies}},\n"
        "  author = {C. Balázs and E. L. Berger and P. M. Nadolsky and C.-P. Yuan},\n"
        "  year = {2007},\n"
        "  eprint = {0704.0001},\n"
        "  archivePrefix = {arXiv},\n"
        "  primaryClass = {hep-ph},\n"
        "  url = {https://arxiv.org/abs/0704.0001},\n"
        "  doi = {10.1103/PhysRevD.76.013009},\n"
        "  note = {Phys.Rev.D76:013009,2007}\n"
        "}\n"
    )
    assert write_citations([paper], "bibtex") == paper_to_bibtex(paper)


@needs_real_data
def test_keys_are_unique_within_a_file() -> None:
    paper = REAL_PAPERS[0]
    twin = _copy(paper, id="0704.9999", arxiv_id="0704.9999")
    text = write_citations([paper, twin, _copy(paper, id="0704.9998", arxiv_id="0704.9998")], "bibtex")
    assert re.findall(r"@misc\{(\w+),", text) == ["balazs2007calculation", "balazs2007calculationa",
                                                  "balazs2007calculationb"]  # fmt: skip
    items = json.loads(write_citations([paper, twin], "csl-json"))
    assert [i["id"] for i in items] == ["balazs2007calculation", "balazs2007calculationa"]


@needs_real_data
def test_written_csl_json_follows_the_schema() -> None:
    paper = next(p for p in REAL_PAPERS if p.id == "0704.0002")
    (item,) = json.loads(write_citations([paper], "csl-json", {paper.id: "Read for the seminar"}))
    assert item == {
        "id": "streinu2007sparsity",
        "citation-key": "streinu2007sparsity",
        "type": "article",
        "title": "Sparsity-certifying Graph Decompositions",
        "author": [{"family": "Streinu", "given": "Ileana"}, {"family": "Theran", "given": "Louis"}],
        "issued": {"date-parts": [[2007, 3, 31]]},
        "URL": "https://arxiv.org/abs/0704.0002",
        "number": "arXiv:0704.0002",
        "publisher": "arXiv",
        "note": "Read for the seminar",
    }


@needs_real_data
def test_written_ris_is_plain_ris() -> None:
    paper = next(p for p in REAL_PAPERS if p.id == "0704.0002")
    text = write_citations([paper], "ris", {paper.id: "First thought.\n\nSecond thought."})
    assert text.splitlines()[0] == "TY  - GEN"  # no "1." counter line before the record
    assert "AU  - Streinu, Ileana\nAU  - Theran, Louis\n" in text
    assert "UR  - https://arxiv.org/abs/0704.0002\n" in text
    assert "N1  - First thought.\nN1  - Second thought.\nER  - " in text
    (entry,) = read_citations(text.encode()).entries
    assert entry.note == "First thought.\n\nSecond thought."


def test_citation_formats_name_every_written_format() -> None:
    assert CITATION_FORMATS == {
        "bibtex": ("application/x-bibtex", ".bib"),
        "ris": ("application/x-research-info-systems", ".ris"),
        "csl-json": ("application/vnd.citationstyles.csl+json", ".json"),
    }
    with pytest.raises(ValueError, match="bibtex, ris, csl-json"):
        write_citations([], "endnote")


def test_awkward_titles_and_notes_survive_bibtex() -> None:
    paper = Paper(
        id="2401.00001", arxiv_id="2401.00001", title="100% {unbalanced @misc{x} & a_b #1 $\\alpha_{1}$",
        authors=["Ada Lovelace"], published_at=NOW,
    )  # fmt: skip
    note = "Use @article{key, ...}\n@book(other, title={x})\n} a stray brace & 50% of it\\"
    (entry,) = read_citations(write_citations([paper], "bibtex", {paper.id: note}).encode()).entries
    # The brace without a partner is text; the pair around "x" is a LaTeX group, as BibTeX reads it.
    assert entry.title == "100% {unbalanced @miscx & a_b #1 $\\alpha_{1}$"
    assert entry.note == note.rstrip("\\").strip() + "\\"


# -- The round trip --------------------------------------------------------------------------------


def _copy(paper: Paper, **changes: object) -> Paper:
    values = {c.key: getattr(paper, c.key) for c in Paper.__table__.columns} | changes
    return Paper(**values)


def _same_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


# Text as readers type it: letters, digits, punctuation, symbols and spaces of any script; LaTeX
# commands (a backslash) are left out, since BibTeX would rightly read them as LaTeX.
_TYPED = st.characters(categories=["L", "N", "P", "S", "Zs"], exclude_characters="\\$")
_TITLES = st.text(_TYPED, min_size=1, max_size=80).filter(lambda t: title_key(t) != "")
_NOTES = st.text(st.one_of(_TYPED, st.just("\n")), max_size=120)


def _papers_strategy() -> st.SearchStrategy[list[Paper]]:
    real = st.sampled_from(REAL_PAPERS)
    retitled = st.builds(lambda p, t: _copy(p, title=t), real, _TITLES)
    return st.lists(st.one_of(real, retitled), min_size=1, max_size=6, unique_by=lambda p: p.id)


@needs_real_data
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(papers=_papers_strategy(), fmt=st.sampled_from(sorted(CITATION_FORMATS)), data=st.data())
def test_every_written_file_reads_back_to_the_same_papers(
    papers: list[Paper], fmt: str, data: st.DataObject
) -> None:
    notes = {p.id: data.draw(_NOTES, label=f"note of {p.id}") for p in papers}
    read = read_citations(write_citations(papers, fmt, notes).encode(), f"export{CITATION_FORMATS[fmt][1]}")
    assert read.format == fmt and read.problems == []
    assert [e.arxiv_id for e in read.entries] == [p.arxiv_id for p in papers]
    assert [e.doi for e in read.entries] == [normalize_doi(p.doi) for p in papers]
    assert [e.year for e in read.entries] == [p.published_at.year if p.published_at else None for p in papers]
    if fmt == "bibtex":
        # BibTeX groups with braces ({GPT}); they are markup, not part of the title.
        assert [title_key(e.title) for e in read.entries] == [title_key(_same_text(p.title)) for p in papers]
    else:
        assert [e.title for e in read.entries] == [_same_text(p.title) for p in papers]
    assert [e.authors for e in read.entries] == [tuple(p.authors) for p in papers]
    assert [_same_text(e.note or "") for e in read.entries] == [_same_text(notes[p.id]) for p in papers]

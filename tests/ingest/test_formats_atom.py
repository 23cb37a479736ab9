"""The arXiv API (Atom) parser, checked against recorded real responses from 2016 and 2026."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dailypapers.errors import FormatError
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.ingest.formats.atom import AtomPage, parse_atom
from dailypapers.ingest.records import PaperRecord, Rejected, Source, Version

# file -> (entries, totalResults, startIndex, itemsPerPage), read from each file by eye.
ATOM_FILES = {
    "arxivpy-2016-id_list_1111.2011v2.xml": (1, 1, 0, 10),
    "arxivpy-2016-search_au_del_maestro.xml": (10, 31, 0, 10),
    "arxivpy-2016-search_au_del_maestro_ANDNOT_checkerboard_OR_pyrochlore.xml": (10, 24, 0, 10),
    "arxivpy-2016-search_au_del_maestro_AND_ti_checkerboard.xml": (1, 1, 0, 10),
    "arxivpy-id_0000.0000_s0_m100.xml": (0, 0, 0, 100),
    "arxivpy-id_0808.05394_1707.08567_s0_m100.xml": (1, 1, 0, 100),
    "arxivpy-id_1605.08386_s0_m100.xml": (1, 1, 0, 100),
    "arxivpy-id_2104.12255v1_s0_m100.xml": (1, 1, 0, 100),
    "arxivpy-id_astro-ph_0601001_s0_m100.xml": (1, 1, 0, 100),
    "arxivpy-q_testing_s0_m100.xml": (100, 214881, 0, 100),
    "sotawhat-arxiv_transformer.xml": (5, 28946, 0, 5),
}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def atom_dir(shared_data: Path) -> Path:
    return shared_data / "arxiv" / "api-atom"


def parse_file(shared_data: Path, name: str) -> AtomPage:
    return parse_atom((atom_dir(shared_data) / name).read_bytes())


def papers(page: AtomPage) -> list[PaperRecord]:
    assert all(isinstance(item, PaperRecord) for item in page.items)
    return [item for item in page.items if isinstance(item, PaperRecord)]


def by_id(page: AtomPage) -> dict[str, PaperRecord]:
    return {paper.arxiv_id or "": paper for paper in papers(page)}


def test_the_table_lists_every_recorded_response(shared_data: Path) -> None:
    assert {path.name for path in atom_dir(shared_data).glob("*.xml")} == set(ATOM_FILES)


@pytest.mark.parametrize("name", sorted(ATOM_FILES))
def test_every_file_parses_with_its_paging_totals(shared_data: Path, name: str) -> None:
    entries, total, start, per_page = ATOM_FILES[name]
    page = parse_file(shared_data, name)
    assert len(page.items) == entries
    assert (page.total_results, page.start_index, page.items_per_page) == (total, start, per_page)
    for number, paper in enumerate(papers(page), start=1):
        assert paper.source is Source.ARXIV_API
        assert paper.position == f"entry {number}"
        assert paper.title and paper.abstract and paper.authors and paper.categories
        assert parse_arxiv_id(paper.arxiv_id or "") is not None
        assert paper.version is not None and paper.versions[-1].number == paper.version
        assert paper.published is not None and paper.updated is not None
        assert paper.published <= paper.updated


def test_unique_ids_across_all_atom_files(shared_data: Path) -> None:
    ids = {paper.arxiv_id for name in ATOM_FILES for paper in papers(parse_file(shared_data, name))}
    assert len(ids) == 121


def test_versioned_id_lookup_2104_12255v1(shared_data: Path) -> None:
    (paper,) = papers(parse_file(shared_data, "arxivpy-id_2104.12255v1_s0_m100.xml"))
    assert paper.arxiv_id == "2104.12255"
    assert paper.version == 1
    assert paper.versions == [Version(1, when("2021-04-20T16:07:14"))]
    assert paper.title == "0"  # a real title; a falsy check on it would drop the paper
    assert paper.authors == ["Quan Thoi Minh Nguyen"]
    assert paper.categories == ["cs.CR"]
    assert paper.abstract.startswith("What is the funniest number in cryptography? 0.")
    assert paper.comments is None and paper.doi is None and paper.journal_ref is None


def test_2016_format_second_version_of_1111_2011(shared_data: Path) -> None:
    (paper,) = papers(parse_file(shared_data, "arxivpy-2016-id_list_1111.2011v2.xml"))
    assert paper.arxiv_id == "1111.2011"
    assert paper.version == 2
    # published is v1's date and updated the current version's; nothing in between is invented.
    assert paper.versions == [
        Version(1, when("2011-11-08T18:48:36")),
        Version(2, when("2012-04-02T12:38:54")),
    ]
    assert paper.published == when("2011-11-08T18:48:36")
    assert paper.updated == when("2012-04-02T12:38:54")
    assert (
        paper.title
        == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert paper.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert paper.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert paper.doi == "10.1103/PhysRevB.85.115117"
    assert paper.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert paper.comments == "8 pages, 3 figures. Published version"
    assert paper.abstract.startswith(
        "Theoretical description of anisotropic systems, such as layered superconductors"
    )
    assert "\n" not in paper.abstract


def test_2016_search_results_hold_old_style_cond_mat_ids(shared_data: Path) -> None:
    page = parse_file(shared_data, "arxivpy-2016-search_au_del_maestro_AND_ti_checkerboard.xml")
    (paper,) = papers(page)
    assert paper.arxiv_id == "cond-mat/0603029"
    assert paper.version == 1
    assert paper.title == (
        "From stripe to checkerboard order on the square lattice in the presence of quenched disorder"
    )
    assert paper.authors == ["Adrian Del Maestro", "Bernd Rosenow", "Subir Sachdev"]
    assert paper.categories == ["cond-mat.str-el", "cond-mat.supr-con"]
    assert paper.published == when("2006-03-02T02:22:45")

    search = by_id(parse_file(shared_data, "arxivpy-2016-search_au_del_maestro.xml"))
    assert list(search)[:2] == ["1201.4869", "cond-mat/0412498"]
    assert search["1201.4869"].authors == ["Adrian Del Maestro"]
    assert search["1201.4869"].categories == ["cond-mat.mes-hall", "cond-mat.other"]


def test_old_style_id_astro_ph_0601001(shared_data: Path) -> None:
    (paper,) = papers(parse_file(shared_data, "arxivpy-id_astro-ph_0601001_s0_m100.xml"))
    assert paper.arxiv_id == "astro-ph/0601001"
    assert paper.version == 1
    assert paper.categories == ["astro-ph"]
    # Affiliations are separate elements and never leak into the names.
    assert paper.authors == ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.published == paper.updated == when("2006-01-02T14:57:58")
    assert "Gould & Morgan (2003)" in paper.abstract  # XML entities decoded
    assert "V_max<17.5" in paper.abstract
    assert paper.comments is not None and paper.comments.endswith("ogle_hot_jupiters.ps.gz")


def test_bad_id_mixed_with_good_id_returns_only_the_good_paper(shared_data: Path) -> None:
    page = parse_file(shared_data, "arxivpy-id_0808.05394_1707.08567_s0_m100.xml")
    # 0808.05394 is not an arXiv id (5 digits before 2015); arXiv silently leaves it out of this response.
    assert parse_arxiv_id("0808.05394") is None
    (paper,) = papers(page)
    assert paper.arxiv_id == "1707.08567"
    assert paper.title == "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    assert len(paper.authors) == 34
    assert paper.authors[0] == "Kees A. Schouhamer Immink"
    assert paper.authors[-1] == "Hirosuke Yamamoto"
    assert "Dirk Wübben" in paper.authors  # recorded as "Dirk WÃ¼bben"
    assert paper.categories == ["cs.IT"]


def test_empty_result_is_an_empty_page(shared_data: Path) -> None:
    page = parse_file(shared_data, "arxivpy-id_0000.0000_s0_m100.xml")
    assert page.items == []
    assert page.total_results == 0


def test_double_encoded_utf8_is_repaired_in_names_titles_and_abstracts(shared_data: Path) -> None:
    page = by_id(parse_file(shared_data, "arxivpy-q_testing_s0_m100.xml"))
    assert page["2405.13786"].authors[0] == "Aurora Ramírez"
    all_authors = {name for paper in page.values() for name in paper.authors}
    assert {
        "José Raúl Romero",
        "Oliver Weißl",
        "Florian Kroiß",
        "Clément L. Canonne",
        "Sólrún Einarsdóttir",
    } <= all_authors
    assert page["2306.03845"].title == "$ω$Test: WebView-Oriented Testing for Android Applications"
    for paper in page.values():
        for text in (paper.title, paper.abstract, *paper.authors):
            assert "Ã" not in text and "Î" not in text, text


def test_latex_in_titles_is_kept(shared_data: Path) -> None:
    page = by_id(parse_file(shared_data, "arxivpy-q_testing_s0_m100.xml"))
    assert page["2306.03845"].title.startswith("$ω$")


def test_current_shape_fields_and_links(shared_data: Path) -> None:
    page = parse_file(shared_data, "sotawhat-arxiv_transformer.xml")
    first, second = papers(page)[:2]
    assert first.arxiv_id == "2606.13677"
    assert first.authors == ["Zhao-Heng Yin", "Guanya Shi", "Pieter Abbeel", "C. Karen Liu"]
    assert first.categories == ["cs.RO", "cs.AI", "cs.CV", "cs.LG"]
    assert first.comments == "Project Page: https://zhaohengyin.github.io/mana"
    assert first.project_url == "https://zhaohengyin.github.io/mana"
    assert first.published == when("2026-06-11T17:59:49")
    assert second.arxiv_id == "2606.13591"
    assert second.categories[0] == "cs.AI"

    testing = by_id(parse_file(shared_data, "arxivpy-q_testing_s0_m100.xml"))
    assert testing["1706.00679"].code_urls == ["https://github.com/ydecastro/super-resolution-testing"]
    assert testing["2202.12139"].doi == "10.1109/ICSTW55395.2022.00035"
    assert testing["2202.12139"].categories == ["cs.SE", "cs.LG"]


def test_primary_category_goes_first_without_duplicates(shared_data: Path) -> None:
    data = (atom_dir(shared_data) / "arxivpy-id_1605.08386_s0_m100.xml").read_bytes()
    assert b'<category term="math.CO"' in data
    # Put the primary category last among the <category> elements: it must still come first.
    swapped = data.replace(b'<category term="math.CO"', b'<category term="TMP"', 1)
    swapped = swapped.replace(b'<category term="math.ST"', b'<category term="math.CO"', 1)
    swapped = swapped.replace(b'<category term="TMP"', b'<category term="math.ST"', 1)
    (paper,) = papers(parse_atom(swapped))
    assert paper.categories == ["math.CO", "math.ST"]


ERROR_RESPONSE = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="html">ArXiv Query: search_query=&amp;id_list=0808.05394,1605.08386</title>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:totalResults>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_0808.05394</id>
    <title>Error</title>
    <summary>incorrect id format for 0808.05394</summary>
    <updated>2016-10-09T00:00:00-04:00</updated>
    <author><name>arXiv api core</name></author>
  </entry>
  <entry>
    <id>http://arxiv.org/abs/1605.08386v1</id>
    <title>Heat-bath random walks with Markov bases</title>
    <summary>Graphs on lattice points are studied.</summary>
    <author><name>Caprice Stanley</name></author>
  </entry>
  <entry><title>No id here</title></entry>
  <entry><id>http://arxiv.org/abs/1605.08386v1</id><title>  </title></entry>
  <entry><id>http://example.org/not-arxiv</id><title>Elsewhere</title></entry>
</feed>
"""


def test_error_entries_and_incomplete_entries_are_rejected_with_reasons() -> None:
    page = parse_atom(ERROR_RESPONSE)
    assert page.items[0] == Rejected("entry 1", "arXiv API error: incorrect id format for 0808.05394")
    assert isinstance(page.items[1], PaperRecord) and page.items[1].arxiv_id == "1605.08386"
    assert page.items[2] == Rejected("entry 3", "entry has no <id>")
    assert page.items[3] == Rejected("entry 4", "entry 1605.08386v1 has no title")
    assert isinstance(page.items[4], Rejected) and "not an arXiv abs URL" in page.items[4].reason
    assert page.total_results == 1
    assert page.items_per_page is None


@pytest.mark.parametrize("data", [b"", b"   \n\t"])
def test_empty_input_is_a_format_error(data: bytes) -> None:
    with pytest.raises(FormatError, match="file is empty"):
        parse_atom(data)


def test_truncated_file_names_the_line(shared_data: Path) -> None:
    data = (atom_dir(shared_data) / "arxivpy-q_testing_s0_m100.xml").read_bytes()
    with pytest.raises(FormatError, match=r"^truncated or malformed XML at line \d+: ") as caught:
        parse_atom(data[: len(data) // 2])
    assert "\n" not in str(caught.value)


def test_text_that_is_not_xml_is_a_format_error() -> None:
    with pytest.raises(FormatError, match="malformed XML at line 1"):
        parse_atom(b"id,title\n1,A paper\n")


def test_an_oai_response_is_not_an_atom_feed(shared_data: Path) -> None:
    data = (shared_data / "arxiv" / "oai-pmh" / "invenio-sample_arxiv_response.xml").read_bytes()
    with pytest.raises(FormatError, match=r"not an Atom feed: the root element is <OAI-PMH>"):
        parse_atom(data)


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    data = f"""<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file://{secret}">]>
<feed xmlns="http://www.w3.org/2005/Atom">
  <entry><id>http://arxiv.org/abs/1605.08386v1</id><title>Title &xxe;</title>
  <summary>Abstract &xxe;</summary></entry>
</feed>""".encode()
    # A document that declares entities is refused before anything is parsed, so nothing is ever read.
    with pytest.raises(FormatError, match=r"^XML entity expansion refused") as caught:
        parse_atom(data)
    assert "TOP-SECRET" not in str(caught.value)

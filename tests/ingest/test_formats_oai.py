"""The OAI-PMH parser, checked against real arXiv responses in the arXiv and oai_dc formats."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dailypapers.errors import FormatError
from dailypapers.ingest.formats.oai import OaiPage, parse_oai, subject_to_category, subjects_to_categories
from dailypapers.ingest.records import PaperRecord, Rejected, Source

OAI_FILES = {
    "invenio-sample_arxiv_response.xml": 1,
    "invenio-sample_arxiv_response_listrecords_cs.xml": 46,
    "invenio-sample_arxiv_response_listrecords_physics.xml": 150,
    "invenio-sample_arxiv_response_utf8.xml": 1,
}


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def oai_dir(shared_data: Path) -> Path:
    return shared_data / "arxiv" / "oai-pmh"


def parse_file(shared_data: Path, name: str) -> OaiPage:
    return parse_oai((oai_dir(shared_data) / name).read_bytes())


def by_id(page: OaiPage) -> dict[str, PaperRecord]:
    assert all(isinstance(item, PaperRecord) for item in page.items)
    return {item.arxiv_id or "": item for item in page.items if isinstance(item, PaperRecord)}


def test_the_table_lists_every_recorded_response(shared_data: Path) -> None:
    assert {path.name for path in oai_dir(shared_data).glob("*.xml")} == set(OAI_FILES)


@pytest.mark.parametrize("name", sorted(OAI_FILES))
def test_every_file_parses_completely(shared_data: Path, name: str) -> None:
    page = parse_file(shared_data, name)
    assert len(page.items) == OAI_FILES[name]
    assert page.resumption_token is None and page.complete_list_size is None
    assert page.error_code is None
    for number, paper in enumerate(by_id(page).values(), start=1):
        assert paper.source is Source.ARXIV_OAI
        assert paper.position == f"record {number}"
        assert paper.title and paper.abstract and paper.authors and paper.categories
        assert paper.version is None and paper.versions == []
        assert paper.published is not None
        assert paper.updated is None or paper.updated > paper.published


def test_unique_ids_across_all_oai_files(shared_data: Path) -> None:
    ids = {paper for name in OAI_FILES for paper in by_id(parse_file(shared_data, name))}
    assert len(ids) == 191


def test_arxiv_format_record_with_two_dates(shared_data: Path) -> None:
    page = by_id(parse_file(shared_data, "invenio-sample_arxiv_response_listrecords_cs.xml"))
    assert next(iter(page)) == "1101.4388"
    first = page["1101.4388"]
    assert first.title == "Reproducing Kernel Banach Spaces with the l1 Norm"
    assert first.authors == ["Guohui Song", "Haizhang Zhang", "Fred J. Hickernell"]
    assert first.categories == ["stat.ML", "cs.LG", "math.FA"]
    assert first.published == day("2011-01-23")
    assert first.updated == day("2012-03-28")
    assert first.doi == "10.1016/j.acha.2012.03.009"
    assert first.journal_ref == "Appl. Comput. Harmon. Anal., 34:96-116, 2013"
    assert first.comments == "28 pages, an extra section was added"
    assert first.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert first.abstract.startswith("Targeting at sparse learning, we construct Banach spaces B")


def test_character_references_in_names_become_unicode(shared_data: Path) -> None:
    page = by_id(parse_file(shared_data, "invenio-sample_arxiv_response_listrecords_cs.xml"))
    paper = page["1111.1546"]
    assert paper.authors == ["Tobias Brunsch", "Heiko Röglin"]
    assert paper.categories == ["cs.DS"]
    assert paper.comments == "to appear in JACM"
    assert (paper.published, paper.updated) == (day("2011-11-07"), day("2015-01-15"))


def test_single_version_record_has_no_updated_date(shared_data: Path) -> None:
    page = by_id(parse_file(shared_data, "invenio-sample_arxiv_response_listrecords_cs.xml"))
    last = page[list(page)[-1]]
    assert last.arxiv_id == "1501.03810"
    assert last.position == "record 46"
    assert last.title == "Time-Varying Input and State Delay Compensation for Uncertain Nonlinear Systems"
    assert last.authors == ["Rushikesh Kamalapurkar", "Nicholas Fischer", "Serhat Obuz", "Warren E. Dixon"]
    assert last.published == day("2015-01-15")
    assert last.updated is None


def test_suffix_follows_the_name_and_accents_survive(shared_data: Path) -> None:
    page = by_id(parse_file(shared_data, "invenio-sample_arxiv_response_listrecords_physics.xml"))
    paper = page["1501.03491"]
    assert paper.authors == [
        "Edésio M. Barboza Jr.",
        "Rafael C. Nunes",
        "Éverton M. C. Abreu",
        "Jorge Ananias Neto",
    ]
    assert paper.categories == ["gr-qc", "astro-ph.CO"]
    assert paper.title == "Is this the end of dark energy?"
    first = page["0912.3200"]
    assert first.categories == ["math.CO", "math-ph", "math.MP"]
    assert first.title == "Discrete Dirac Operators, Critical Embeddings and Ihara-Selberg Functions"


def test_get_record_in_arxiv_format(shared_data: Path) -> None:
    (paper,) = by_id(parse_file(shared_data, "invenio-sample_arxiv_response.xml")).values()
    assert paper.arxiv_id == "1507.03011"
    assert paper.authors == ["J. E. Young", "Rachel Kuzio de Naray", "Sharon X. Wang"]
    assert paper.categories == ["astro-ph.GA"]
    assert paper.published == day("2015-07-10")
    assert paper.updated is None
    assert paper.comments == "13 pages, 7 figures"
    # This sample file holds literal backslash-n sequences (as the two characters); they are kept as text.
    assert paper.title.startswith("The Distribution of Star Formation and Metals in the Low Surface")
    assert paper.title.endswith("Brightness Galaxy UGC 628")


def test_oai_dc_record_matches_the_same_paper_in_arxiv_format(shared_data: Path) -> None:
    (dc,) = by_id(parse_file(shared_data, "invenio-sample_arxiv_response_utf8.xml")).values()
    assert dc.arxiv_id == "1207.1019"
    assert dc.title == "PAC-Bayesian Majority Vote for Late Classifier Fusion"
    assert dc.authors == ["Emilie Morvant", "Amaury Habrard", "Stéphane Ayache"]
    # Long subject names mapped back to codes, in order, primary first.
    assert dc.categories == ["stat.ML", "cs.CV", "cs.LG", "cs.MM"]
    assert dc.comments == "7 pages, Research report"
    assert dc.published == day("2012-07-04")
    assert dc.updated is None
    # The description is indented by the XML layout: that must not read as one paragraph per line.
    assert "\n" not in dc.abstract
    assert dc.abstract.startswith(
        "A lot of attention has been devoted to multimedia indexing over the past few years."
    )

    arxiv_format = by_id(parse_file(shared_data, "invenio-sample_arxiv_response_listrecords_cs.xml"))[
        "1207.1019"
    ]
    for attribute in ("title", "abstract", "authors", "categories", "published", "updated", "comments"):
        assert getattr(dc, attribute) == getattr(arxiv_format, attribute), attribute


def test_cross_listed_papers_appear_in_both_set_harvests(shared_data: Path) -> None:
    cs = by_id(parse_file(shared_data, "invenio-sample_arxiv_response_listrecords_cs.xml"))
    physics = by_id(parse_file(shared_data, "invenio-sample_arxiv_response_listrecords_physics.xml"))
    shared = set(cs) & set(physics)
    assert shared == {"1306.5042", "1310.6119", "1311.5932", "1410.1594", "1501.03577", "1501.03737"}
    for arxiv_id in shared:
        assert cs[arxiv_id].categories == physics[arxiv_id].categories


def oai_response(body: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
  <responseDate>2026-01-01T00:00:00Z</responseDate>
  <request verb="ListRecords">http://export.arxiv.org/oai2</request>
  {body}
</OAI-PMH>""".encode()


ARXIV_RECORD = """<record>
<header><identifier>oai:arXiv.org:{id}</identifier><datestamp>2015-01-16</datestamp></header>
<metadata><arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>{id}</id><created>2015-01-13</created>
<authors><author><keyname>Doe</keyname><forenames>Jane</forenames></author></authors>
<title>A title</title><categories>hep-th</categories><abstract>An abstract.</abstract>
</arXiv></metadata></record>"""


def test_deleted_records_are_skipped_and_the_resumption_token_is_read() -> None:
    data = oai_response(
        "<ListRecords>"
        '<record><header status="deleted"><identifier>oai:arXiv.org:1501.00001</identifier>'
        "<datestamp>2015-01-16</datestamp></header></record>"
        + ARXIV_RECORD.format(id="hep-th/9901001")
        + '<resumptionToken cursor="0" completeListSize="2523">6960524|1001</resumptionToken>'
        "</ListRecords>"
    )
    page = parse_oai(data)
    (paper,) = page.items
    assert isinstance(paper, PaperRecord)
    assert paper.arxiv_id == "hep-th/9901001"
    assert paper.position == "record 2"
    assert paper.authors == ["Jane Doe"]
    assert page.resumption_token == "6960524|1001"
    assert page.complete_list_size == 2523


def test_an_empty_resumption_token_ends_the_list() -> None:
    data = oai_response(
        "<ListRecords>"
        + ARXIV_RECORD.format(id="1501.00002")
        + '<resumptionToken cursor="1000" completeListSize="1001"/></ListRecords>'
    )
    page = parse_oai(data)
    assert page.resumption_token is None
    assert page.complete_list_size == 1001


def test_no_records_match_is_an_empty_page() -> None:
    page = parse_oai(oai_response('<error code="noRecordsMatch">No records match the request</error>'))
    assert page.items == []
    assert page.error_code == "noRecordsMatch"
    assert page.error_message == "No records match the request"


@pytest.mark.parametrize("code", ["badResumptionToken", "badArgument", "cannotDisseminateFormat"])
def test_other_oai_errors_raise_with_code_and_message(code: str) -> None:
    with pytest.raises(FormatError, match=f"error {code}: the request was wrong"):
        parse_oai(oai_response(f'<error code="{code}">the request was wrong</error>'))


def test_unsupported_metadata_format_is_rejected_per_record() -> None:
    data = oai_response(
        "<ListRecords><record><header><identifier>oai:arXiv.org:0704.0001</identifier></header>"
        '<metadata><arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/"><id>0704.0001</id></arXivRaw></metadata>'
        "</record>" + ARXIV_RECORD.format(id="0704.0002") + "</ListRecords>"
    )
    page = parse_oai(data)
    assert isinstance(page.items[0], Rejected)
    assert page.items[0].position == "record 1"
    assert "arXivRaw" in page.items[0].reason and "metadataPrefix=arXiv" in page.items[0].reason
    assert isinstance(page.items[1], PaperRecord) and page.items[1].arxiv_id == "0704.0002"


def test_records_without_title_or_id_are_rejected() -> None:
    untitled = ARXIV_RECORD.format(id="1501.00003").replace("<title>A title</title>", "")
    unidentified = ARXIV_RECORD.format(id="not-an-id")
    page = parse_oai(oai_response(f"<ListRecords>{untitled}{unidentified}</ListRecords>"))
    assert page.items[0] == Rejected("record 1", "record 1501.00003 has no title")
    assert isinstance(page.items[1], Rejected) and "no arXiv id" in page.items[1].reason


def test_truncated_response_is_a_format_error(shared_data: Path) -> None:
    data = (oai_dir(shared_data) / "invenio-sample_arxiv_response_listrecords_physics.xml").read_bytes()
    with pytest.raises(FormatError, match=r"^truncated or malformed XML at line \d+"):
        parse_oai(data[: len(data) // 2])


def test_an_atom_feed_is_not_an_oai_response(shared_data: Path) -> None:
    data = (shared_data / "arxiv" / "api-atom" / "arxivpy-id_1605.08386_s0_m100.xml").read_bytes()
    with pytest.raises(FormatError, match=r"not an OAI-PMH response: the root element is <feed>"):
        parse_oai(data)


@pytest.mark.parametrize(
    ("subject", "category"),
    [
        ("Computer Science - Learning", "cs.LG"),
        ("Computer Science - Machine Learning", "cs.LG"),
        ("Statistics - Machine Learning", "stat.ML"),
        ("Computer Science - Computer Vision and Pattern Recognition", "cs.CV"),
        ("High Energy Physics - Theory", "hep-th"),
        ("Quantum Physics", "quant-ph"),
        ("Physics - Optics", "physics.optics"),
        ("Condensed Matter - Strongly Correlated Electrons", "cond-mat.str-el"),
        ("Astrophysics - Cosmology and Nongalactic Astrophysics", "astro-ph.CO"),
        ("Mathematics - Mathematical Physics", "math.MP"),
        ("Computer Science - Underwater Basket Weaving", None),
        ("Computer Science", None),  # an archive, not a category
        ("cs", None),
    ],
)
def test_subject_names_map_to_category_codes(subject: str, category: str | None) -> None:
    assert subject_to_category(subject) == category


def test_an_unmappable_primary_subject_leaves_categories_empty() -> None:
    assert subjects_to_categories(["Alchemy - Transmutation", "Computer Science - Learning"]) == []
    assert subjects_to_categories(
        ["Computer Science - Learning", "Alchemy", "Statistics - Machine Learning"]
    ) == [
        "cs.LG",
        "stat.ML",
    ]

"""The arXiv metadata snapshot parser, checked against the first 200 lines of the real Kaggle file."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dailypapers.ingest.formats.snapshot import iter_snapshot, parse_snapshot_line
from dailypapers.ingest.records import PaperRecord, Rejected, Source, Version

SNAPSHOT = Path("arxiv") / "oai-snapshot" / "arxiv-metadata-oai-snapshot.first200.jsonl"


def gmt(text: str) -> datetime:
    return datetime.strptime(text, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def snapshot_bytes(shared_data: Path) -> bytes:
    return (shared_data / SNAPSHOT).read_bytes()


@pytest.fixture(scope="module")
def records(snapshot_bytes: bytes) -> dict[str, PaperRecord]:
    result: dict[str, PaperRecord] = {}
    for item, _line, _offset in iter_snapshot(io.BytesIO(snapshot_bytes)):
        assert isinstance(item, PaperRecord), item
        result[item.arxiv_id or ""] = item
    return result


def test_all_200_lines_parse_in_order_with_resumable_offsets(snapshot_bytes: bytes) -> None:
    rows = list(iter_snapshot(io.BytesIO(snapshot_bytes)))
    assert len(rows) == 200
    assert [line for _item, line, _offset in rows] == list(range(1, 201))
    ids = [item.arxiv_id for item, _line, _offset in rows if isinstance(item, PaperRecord)]
    assert ids == [f"0704.{n:04d}" for n in range(1, 201)]
    lengths = [len(line) for line in snapshot_bytes.splitlines(keepends=True)]
    assert [offset for _item, _line, offset in rows] == [sum(lengths[: n + 1]) for n in range(200)]
    assert rows[-1][2] == len(snapshot_bytes) == 287_303
    assert rows[0][0].position == "line 1" and rows[-1][0].position == "line 200"


def test_resuming_from_a_stored_offset_continues_at_the_next_line(snapshot_bytes: bytes) -> None:
    rows = list(iter_snapshot(io.BytesIO(snapshot_bytes)))
    _item, line, offset = rows[99]
    resumed = list(iter_snapshot(io.BytesIO(snapshot_bytes), start_offset=offset, start_line=line + 1))
    assert len(resumed) == 100
    first, first_line, _ = resumed[0]
    assert isinstance(first, PaperRecord) and first.arxiv_id == "0704.0101"
    assert first_line == 101 and first.position == "line 101"
    assert resumed[-1][2] == len(snapshot_bytes)


def test_first_record_fields(records: dict[str, PaperRecord]) -> None:
    paper = records["0704.0001"]
    assert paper.source is Source.ARXIV_SNAPSHOT
    assert (
        paper.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    # authors_parsed already turned Bal\'azs into Unicode, and wrote "C.-P." as "C. -P.".
    assert paper.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert paper.categories == ["hep-ph"]
    assert paper.version == 2
    assert paper.versions == [
        Version(1, gmt("Mon, 2 Apr 2007 19:18:42 GMT")),
        Version(2, gmt("Tue, 24 Jul 2007 20:10:27 GMT")),
    ]
    assert paper.published == gmt("Mon, 2 Apr 2007 19:18:42 GMT")
    assert paper.updated == gmt("Tue, 24 Jul 2007 20:10:27 GMT")
    assert paper.doi == "10.1103/PhysRevD.76.013009"
    assert paper.journal_ref == "Phys.Rev.D76:013009,2007"
    assert paper.comments == "37 pages, 15 figures; published version"
    assert paper.license is None
    assert paper.extra == {"report_no": "ANL-HEP-PR-07-12", "update_date": "2008-11-26"}
    assert paper.abstract.startswith(
        "A fully differential calculation in perturbative quantum chromodynamics is"
    )
    assert "\n" not in paper.abstract


def test_five_versions_give_first_and_last_dates(records: dict[str, PaperRecord]) -> None:
    paper = records["0704.0064"]
    assert [version.number for version in paper.versions] == [1, 2, 3, 4, 5]
    assert paper.version == 5
    assert paper.published == gmt("Sun, 1 Apr 2007 13:32:15 GMT")
    assert paper.updated == gmt("Fri, 24 Oct 2008 12:23:58 GMT")
    assert paper.authors == ["R. P. Malik"]  # "R. P. Malik (Bhu)": the affiliation is not a name part
    assert paper.title == (
        "Nilpotent symmetry invariance in the superfield formulation: the (non-)Abelian 1-form gauge theories"
    )


def test_author_suffixes_affiliations_and_latex(records: dict[str, PaperRecord]) -> None:
    assert records["0704.0027"].authors[1] == "J.-N. Fuchs"
    assert records["0704.0093"].authors[-1] == "Z.-X. Shen"
    assert records["0704.0009"].authors[-2:] == ["Neal J. Evans II", "Philip C. Myers"]
    assert records["0704.0009"].authors[0] == "Paul Harvey"
    assert records["0704.0066"].authors == ["Bozhidar Z. Iliev"]
    assert records["0704.0163"].authors == ["Peter Brommer", "Franz Gähler"]
    assert records["0704.0200"].authors == ["Martin Schumacher"]
    assert records["0704.0200"].categories == ["hep-ph", "nucl-ex"]


def test_latex_math_is_kept_and_text_accents_become_unicode(records: dict[str, PaperRecord]) -> None:
    assert records["0704.0005"].title == r"From dyadic $\Lambda_{\alpha}$ to $\Lambda_{\alpha}$"
    assert records["0704.0019"].title.endswith("the Gröbner basis")
    assert "lower bound of Révész and Sarantopoulos" in records["0704.0028"].abstract
    assert "Djoković's and Winkler's relations" in records["0704.0010"].abstract
    assert r"$(k,\ell)$-pebble game" in records["0704.0002"].abstract
    assert records["0704.0002"].categories == ["math.CO", "cs.CG"]


def test_indented_lines_start_paragraphs(records: dict[str, PaperRecord]) -> None:
    paragraphs = records["0704.0010"].abstract.split("\n\n")
    assert len(paragraphs) == 2
    assert paragraphs[0].startswith("Partial cubes are isometric subgraphs of hypercubes.")
    assert paragraphs[1].startswith("The operations of Cartesian product and pasting")


def test_licenses_are_read_where_given(records: dict[str, PaperRecord]) -> None:
    licenses = [paper.license for paper in records.values()]
    assert licenses.count(None) == 181
    assert licenses.count("http://arxiv.org/licenses/nonexclusive-distrib/1.0/") == 17
    assert licenses.count("http://creativecommons.org/licenses/by-nc-nd/4.0/") == 2


def test_a_broken_line_is_rejected_and_the_rest_still_parse(snapshot_bytes: bytes) -> None:
    lines = snapshot_bytes.splitlines(keepends=True)
    data = lines[0] + b'{"id": "0704.9999", "title": "Cut off\n' + lines[1]
    rows = list(iter_snapshot(io.BytesIO(data)))
    assert [line for _item, line, _offset in rows] == [1, 2, 3]
    assert isinstance(rows[0][0], PaperRecord) and rows[0][0].arxiv_id == "0704.0001"
    rejected = rows[1][0]
    assert isinstance(rejected, Rejected)
    assert rejected.position == "line 2"
    assert rejected.reason.startswith("invalid JSON at column")
    assert isinstance(rows[2][0], PaperRecord) and rows[2][0].arxiv_id == "0704.0002"


def test_blank_lines_are_counted_but_skipped_and_a_last_line_needs_no_newline(snapshot_bytes: bytes) -> None:
    lines = snapshot_bytes.splitlines(keepends=True)
    data = b"\n" + lines[0] + b"  \r\n" + lines[1].rstrip(b"\n")
    rows = list(iter_snapshot(io.BytesIO(data)))
    assert [(item.position, line) for item, line, _offset in rows] == [("line 2", 2), ("line 4", 4)]
    assert rows[-1][2] == len(data)
    assert isinstance(rows[-1][0], PaperRecord) and rows[-1][0].arxiv_id == "0704.0002"


def test_invalid_utf8_is_named_as_such(snapshot_bytes: bytes) -> None:
    line = snapshot_bytes.splitlines()[0].replace(b"prompt diphoton", "prompt diphotón".encode("latin-1"))
    item = parse_snapshot_line(line, "line 7")
    assert isinstance(item, Rejected)
    assert item.position == "line 7"
    bad_byte = line.index("ó".encode("latin-1"))
    assert item.reason == f"not valid UTF-8 at byte {bad_byte} of the line"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"[1, 2]", "expected a JSON object, found a JSON array"),
        (b'"0704.0001"', "expected a JSON object, found a JSON string"),
        (b'{"title": "No id"}', "record has no id"),
        (b'{"id": "0704.0001", "title": "   "}', "record 0704.0001 has no title"),
        (b'{"id": "0704.0001"}', "record 0704.0001 has no title"),
    ],
)
def test_unusable_records_are_rejected(line: bytes, reason: str) -> None:
    assert parse_snapshot_line(line, "line 3") == Rejected("line 3", reason)


def test_a_field_of_the_wrong_type_is_rejected_not_raised() -> None:
    item = parse_snapshot_line(b'{"id": "0704.0001", "title": "T", "versions": "v1"}', "line 9")
    assert isinstance(item, Rejected)
    assert item.reason.startswith("unexpected value in record '0704.0001'")


def test_free_text_authors_are_the_fallback(snapshot_bytes: bytes) -> None:
    record = orjson.loads(snapshot_bytes.splitlines()[0])
    del record["authors_parsed"]
    item = parse_snapshot_line(orjson.dumps(record), "line 1")
    assert isinstance(item, PaperRecord)
    assert item.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)
snapshot_like = st.fixed_dictionaries(
    {"id": json_values | st.just("0704.0001"), "title": json_values | st.text(min_size=1)},
    optional={
        "authors": json_values,
        "authors_parsed": json_values,
        "versions": json_values,
        "categories": json_values,
        "abstract": json_values,
        "comments": json_values,
        "license": json_values,
    },
)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(line: bytes) -> None:
    assert isinstance(parse_snapshot_line(line, "line 1"), PaperRecord | Rejected)


@given(snapshot_like)
def test_records_with_arbitrary_field_types_never_raise(record: dict[str, object]) -> None:
    item = parse_snapshot_line(orjson.dumps(record), "line 1")
    assert isinstance(item, PaperRecord | Rejected)
    if isinstance(item, PaperRecord):
        assert item.title and item.arxiv_id

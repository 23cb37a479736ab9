"""Format detection from the first bytes of real files and of broken or foreign input."""

from __future__ import annotations

import contextlib
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dailypapers.errors import FormatError, IngestError, UnknownFormatError
from dailypapers.ingest.formats.detect import FORMAT_DESCRIPTIONS, HEAD_SIZE, Format, detect_format

EXPECTED = {
    "arxiv/api-atom/arxivpy-2016-id_list_1111.2011v2.xml": Format.ARXIV_ATOM,
    "arxiv/api-atom/arxivpy-2016-search_au_del_maestro.xml": Format.ARXIV_ATOM,
    "arxiv/api-atom/arxivpy-2016-search_au_del_maestro_ANDNOT_checkerboard_OR_pyrochlore.xml": (
        Format.ARXIV_ATOM
    ),
    "arxiv/api-atom/arxivpy-2016-search_au_del_maestro_AND_ti_checkerboard.xml": Format.ARXIV_ATOM,
    "arxiv/api-atom/arxivpy-id_0000.0000_s0_m100.xml": Format.ARXIV_ATOM,
    "arxiv/api-atom/arxivpy-id_0808.05394_1707.08567_s0_m100.xml": Format.ARXIV_ATOM,
    "arxiv/api-atom/arxivpy-id_1605.08386_s0_m100.xml": Format.ARXIV_ATOM,
    "arxiv/api-atom/arxivpy-id_2104.12255v1_s0_m100.xml": Format.ARXIV_ATOM,
    "arxiv/api-atom/arxivpy-id_astro-ph_0601001_s0_m100.xml": Format.ARXIV_ATOM,
    "arxiv/api-atom/arxivpy-q_testing_s0_m100.xml": Format.ARXIV_ATOM,
    "arxiv/api-atom/sotawhat-arxiv_transformer.xml": Format.ARXIV_ATOM,
    "arxiv/oai-pmh/invenio-sample_arxiv_response.xml": Format.OAI_PMH,
    "arxiv/oai-pmh/invenio-sample_arxiv_response_listrecords_cs.xml": Format.OAI_PMH,
    "arxiv/oai-pmh/invenio-sample_arxiv_response_listrecords_physics.xml": Format.OAI_PMH,
    "arxiv/oai-pmh/invenio-sample_arxiv_response_utf8.xml": Format.OAI_PMH,
    "arxiv/oai-snapshot/arxiv-metadata-oai-snapshot.first200.jsonl": Format.ARXIV_SNAPSHOT,
    "hf-daily-papers/daily_papers-2026-06-12.sotawhat.json": Format.HF_DAILY_PAPERS,
    "hf-daily-papers/daily_papers-2026-07-31.all-news-ai.json": Format.HF_DAILY_PAPERS,
    "seed/000_f44c086a8a650424.txt": Format.LISTING,
    "beir-scifact/corpus.jsonl": Format.BEIR_CORPUS,
}

NOT_PAPERS = [
    "README.md",
    "SHA256SUMS",
    "reference-scores/ndcg10.csv",
    "beir-scifact/qrels/test.tsv",
    "beir-scifact/qrels/train.tsv",
    "reference-scores/mteb-results/BAAI__bge-small-en-v1.5/SciFact.json",
]


def head_of(path: Path) -> bytes:
    with path.open("rb") as stream:
        return stream.read(HEAD_SIZE)


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_every_real_file_is_detected(shared_data: Path, relative: str) -> None:
    assert detect_format(head_of(shared_data / relative)) is EXPECTED[relative]


def test_every_arxiv_and_hf_file_is_in_the_table(shared_data: Path) -> None:
    found = {
        str(path.relative_to(shared_data))
        for folder in ("arxiv", "hf-daily-papers")
        for path in (shared_data / folder).rglob("*")
        if path.is_file()
    }
    assert found <= set(EXPECTED)
    assert len(found) == 18


@pytest.mark.parametrize("relative", NOT_PAPERS)
def test_other_real_files_are_unknown_and_the_message_lists_the_formats(
    shared_data: Path, relative: str
) -> None:
    with pytest.raises(UnknownFormatError) as caught:
        detect_format(head_of(shared_data / relative))
    message = str(caught.value)
    assert message.startswith("unrecognised input format: ")
    for fmt in Format:
        assert fmt.value in message


def test_beir_queries_are_not_a_corpus(shared_data: Path) -> None:
    with pytest.raises(UnknownFormatError, match=r"BEIR queries\.jsonl .*ingest the corpus\.jsonl"):
        detect_format(head_of(shared_data / "beir-scifact" / "queries.jsonl"))


def test_only_the_head_is_needed_and_the_full_file_gives_the_same_answer(shared_data: Path) -> None:
    big = shared_data / "arxiv" / "api-atom" / "arxivpy-q_testing_s0_m100.xml"
    assert big.stat().st_size > HEAD_SIZE
    assert detect_format(big.read_bytes()) is Format.ARXIV_ATOM
    hf = (shared_data / "hf-daily-papers" / "daily_papers-2026-06-12.sotawhat.json").read_bytes()
    assert len(hf) > HEAD_SIZE  # the array is cut mid-item: the first item alone decides
    assert detect_format(hf[:HEAD_SIZE]) is Format.HF_DAILY_PAPERS
    assert detect_format(hf[:3000]) is Format.HF_DAILY_PAPERS


def test_a_head_that_ends_inside_a_multibyte_character(shared_data: Path) -> None:
    data = (shared_data / "hf-daily-papers" / "daily_papers-2026-07-31.all-news-ai.json").read_bytes()
    sigma = data.index("Σ".encode())
    assert detect_format(data[: sigma + 1]) is Format.HF_DAILY_PAPERS


def test_a_snapshot_line_longer_than_the_head(shared_data: Path) -> None:
    first = (
        shared_data / "arxiv" / "oai-snapshot" / "arxiv-metadata-oai-snapshot.first200.jsonl"
    ).read_bytes()
    record = orjson.loads(first.splitlines()[0])
    # A collaboration paper: thousands of authors push "abstract" and "versions" past the head.
    record["authors"] = ", ".join(f"Author Number{n}" for n in range(5000))
    line = orjson.dumps(record) + b"\n"
    assert len(line) > HEAD_SIZE
    assert detect_format(line[:HEAD_SIZE]) is Format.ARXIV_SNAPSHOT


def test_bom_and_leading_whitespace_are_ignored(shared_data: Path) -> None:
    seed = (shared_data / "seed" / "000_f44c086a8a650424.txt").read_bytes()
    assert detect_format(b"\xef\xbb\xbf\r\n\n" + seed.replace(b"\n", b"\r\n")) is Format.LISTING
    atom = (shared_data / "arxiv" / "api-atom" / "arxivpy-id_1605.08386_s0_m100.xml").read_bytes()
    assert detect_format(b"\xef\xbb\xbf\n  " + atom) is Format.ARXIV_ATOM


def test_a_truncated_atom_head_is_still_atom(shared_data: Path) -> None:
    atom = (shared_data / "arxiv" / "api-atom" / "arxivpy-id_1605.08386_s0_m100.xml").read_bytes()
    end_of_root_tag = atom.index(b"<id>")
    assert detect_format(atom[:end_of_root_tag]) is Format.ARXIV_ATOM


@pytest.mark.parametrize(
    ("head", "message"), [(b"", "file is empty"), (b"\xef\xbb\xbf \n\t", "only whitespace")]
)
def test_empty_input_is_a_format_error(head: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        detect_format(head)


def test_latin1_text_is_refused_with_the_offset_and_a_hint(shared_data: Path) -> None:
    seed = (shared_data / "seed" / "000_f44c086a8a650424.txt").read_text(encoding="utf-8")
    latin1 = seed.replace("Learned feature", "Learnéd feature", 1).encode("latin-1")
    with pytest.raises(FormatError) as caught:
        detect_format(latin1)
    assert not isinstance(caught.value, UnknownFormatError)
    message = str(caught.value)
    assert f"not UTF-8 text: invalid byte 0xe9 at byte offset {latin1.index(0xE9)}" in message
    assert "iconv -f WINDOWS-1252 -t UTF-8" in message


def test_utf16_and_binary_data_are_refused(shared_data: Path) -> None:
    seed = (shared_data / "seed" / "000_f44c086a8a650424.txt").read_text(encoding="utf-8")
    with pytest.raises(FormatError, match=r"not UTF-8 text: NUL byte at byte offset 3 .*iconv -f UTF-16"):
        detect_format(seed.encode("utf-16"))
    with pytest.raises(FormatError, match="NUL byte at byte offset 4"):
        detect_format(b"\x89PNG\x00\x00\x00\rIHDR")


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"<!DOCTYPE html><html><head><title>x</title></head></html>", "root element <html>"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "root element <rss>"),
        (b'<feed xmlns="http://example.org/not-atom"/>', "root element <feed>"),
        (b"<not xml", "not well-formed XML"),
        (b"[]", "empty JSON array"),
        (b'[{"id": "2606.00001"}]', 'no "paper" object'),
        (b'{"id": "1", "title": "t"}\n', "keys id, title"),
        (b'{\n  "id": "1"\n}\n', "JSON document spread over several lines"),
        (b"id,title,abstract\n1,A,B\n", "not a copied listing"),
    ],
)
def test_foreign_content_is_unknown_with_a_reason(head: bytes, reason: str) -> None:
    with pytest.raises(UnknownFormatError, match=reason.replace("(", r"\(").replace("[", r"\[")):
        detect_format(head)


def test_a_listing_whose_first_title_starts_with_a_bracket() -> None:
    abstract = "We reproduce the paper's main claims and find that two of the three hold. " * 3
    assert detect_format(f"[Re] A reproduction\n\n{abstract}\n".encode()) is Format.LISTING


def test_every_format_has_a_one_line_description() -> None:
    assert set(FORMAT_DESCRIPTIONS) == set(Format)
    assert all(description and "\n" not in description for description in FORMAT_DESCRIPTIONS.values())
    assert [fmt.value for fmt in Format] == [
        "arxiv-atom",
        "oai-pmh",
        "arxiv-snapshot",
        "hf-daily-papers",
        "listing",
        "beir-corpus",
    ]


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_a_format_or_an_ingest_error(head: bytes) -> None:
    with contextlib.suppress(IngestError):
        assert detect_format(head) in set(Format)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=500))
def test_arbitrary_text_gives_a_format_or_an_ingest_error(text: str) -> None:
    for prefix in ("", "<", "[", "{", "<?xml version='1.0'?>"):
        with contextlib.suppress(IngestError):
            assert detect_format((prefix + text).encode()) in set(Format)

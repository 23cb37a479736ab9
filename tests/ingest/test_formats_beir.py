"""The BEIR corpus parser, checked against the real SciFact corpus."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from dailypapers.ingest.formats.beir import dataset_name_for, iter_beir, parse_beir_line, title_from_text
from dailypapers.ingest.merge import local_id_for, prepare
from dailypapers.ingest.records import PaperRecord, Rejected, Source

CORPUS = Path("beir-scifact") / "corpus.jsonl"


@pytest.fixture(scope="module")
def corpus(shared_data: Path) -> list[tuple[PaperRecord | Rejected, int, int]]:
    with (shared_data / CORPUS).open("rb") as stream:
        return list(iter_beir(stream, dataset=dataset_name_for(shared_data / CORPUS)))


def test_scifact_corpus_has_5183_documents(shared_data: Path, corpus: list) -> None:
    assert len(corpus) == 5183
    docs = [item for item, _line, _offset in corpus]
    assert all(isinstance(doc, PaperRecord) for doc in docs)
    assert len({doc.external_id for doc in docs if isinstance(doc, PaperRecord)}) == 5183
    assert corpus[-1][1] == 5183
    assert corpus[-1][2] == (shared_data / CORPUS).stat().st_size == 8_106_566


def test_first_and_last_documents(corpus: list) -> None:
    first, last = corpus[0][0], corpus[-1][0]
    assert isinstance(first, PaperRecord) and isinstance(last, PaperRecord)
    assert first.source is Source.BEIR
    assert first.external_id == "4983"
    assert first.dataset == "scifact"
    assert first.arxiv_id is None
    assert first.title == (
        "Microstructural development of human newborn cerebral white matter assessed in vivo by "
        "diffusion tensor magnetic resonance imaging."
    )
    assert first.abstract.startswith(
        "Alterations of the architecture of cerebral white matter in the developing"
    )
    assert first.position == "line 1"
    assert first.extra == {}
    assert local_id_for(prepare(first)) == "scifact-4983"
    assert last.external_id == "198309074"
    assert last.title.startswith("Adhesion molecules and chemokines")


def test_resuming_at_an_offset(shared_data: Path, corpus: list) -> None:
    _item, line, offset = corpus[4999]
    with (shared_data / CORPUS).open("rb") as stream:
        rest = list(iter_beir(stream, dataset="scifact", start_offset=offset, start_line=line + 1))
    assert len(rest) == 183
    assert rest[0][0] == corpus[5000][0]
    assert rest[0][1] == 5001


def test_an_empty_title_is_derived_from_the_first_sentence() -> None:
    line = orjson.dumps(
        {"_id": 7, "title": "", "text": "Short first sentence. Then more text.", "metadata": {}}
    )
    doc = parse_beir_line(line, "line 3", dataset="nfcorpus")
    assert isinstance(doc, PaperRecord)
    assert doc.title == "Short first sentence."
    assert doc.extra == {"title_from_text": True}
    assert doc.external_id == "7"
    assert doc.abstract == "Short first sentence. Then more text."


def test_a_long_first_sentence_is_cut_at_a_word() -> None:
    title = title_from_text("word " * 100 + "end.")
    assert len(title) <= 200
    assert title.endswith("word…")
    assert title_from_text("Is this a question? Yes.") == "Is this a question?"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"title": "T", "text": "x"}', "document has no _id"),
        (b'{"_id": "  ", "title": "T", "text": "x"}', "document has no _id"),
        (b'{"_id": "9", "title": "", "text": ""}', "document 9 has neither title nor text"),
        (b"[]", "expected a JSON object with _id, title and text"),
        (b'{"_id": "9", "title": ', "invalid JSON at column 23: unexpected end of data"),
        (b'{"_id": "9", "title": "\xe9"}', "not valid UTF-8 at byte 23 of the line"),
    ],
)
def test_unusable_lines_are_rejected(line: bytes, reason: str) -> None:
    assert parse_beir_line(line, "line 8", dataset="scifact") == Rejected("line 8", reason)


def test_a_broken_line_does_not_stop_the_corpus(shared_data: Path) -> None:
    lines = (shared_data / CORPUS).read_bytes().splitlines(keepends=True)[:3]
    data = lines[0] + b"{broken\n" + b"\n" + lines[1] + lines[2]
    rows = list(iter_beir(io.BytesIO(data), dataset="scifact"))
    assert [(type(item).__name__, line) for item, line, _offset in rows] == [
        ("PaperRecord", 1),
        ("Rejected", 2),
        ("PaperRecord", 4),
        ("PaperRecord", 5),
    ]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/data/beir-scifact/corpus.jsonl", "scifact"),
        ("/data/BEIR_NFCorpus/corpus.jsonl", "nfcorpus"),
        ("/data/trec-covid/corpus.jsonl", "trec-covid"),
        ("/data/beir/corpus.jsonl", "beir"),
        ("corpus.jsonl", "beir"),
    ],
)
def test_dataset_name_comes_from_the_folder(path: str, name: str) -> None:
    assert dataset_name_for(Path(path)) == name

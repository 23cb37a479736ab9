"""Bad input is reported precisely: wrongly typed Hugging Face fields, entity bombs, endless first lines."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.errors import FormatError, UnknownFormatError
from dailypapers.ingest.formats.atom import parse_atom
from dailypapers.ingest.formats.detect import HEAD_SIZE, detect_format
from dailypapers.ingest.formats.hf import parse_hf_daily_papers
from dailypapers.ingest.formats.oai import parse_oai
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import PaperRecord, Rejected
from dailypapers.models import Paper


def _item(**paper: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "2606.00001",
        "title": "A title",
        "summary": "An abstract.",
        "authors": [{"name": "Ada Lovelace"}],
        "publishedAt": "2026-06-01T20:00:00.000Z",
        "submittedOnDailyAt": "2026-06-02T08:00:00.000Z",
        "upvotes": 3,
    }
    base.update(paper)
    return {"paper": base, "numComments": 1}


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (_item(upvotes="many"), 'paper.upvotes is a JSON string ("many"), expected a count (0 or more)'),
        (_item(upvotes=-2), "paper.upvotes is a negative number (-2), expected a count (0 or more)"),
        (_item(upvotes=True), "paper.upvotes is a JSON boolean (true), expected a count (0 or more)"),
        (_item(authors="x"), "paper.authors is a JSON string, expected an array of authors"),
        (_item(authors=["x"]), "paper.authors[1] is a JSON string, expected an object"),
        (_item(authors=[{"name": 7}]), "paper.authors[1].name is a JSON number (7), expected a string"),
        ({"paper": []}, "paper is a JSON array, expected an object"),
        (_item(publishedAt=5), "paper.publishedAt is a JSON number (5), expected a string"),
        (
            _item(publishedAt="last week"),
            'paper.publishedAt "last week" is not a date (expected ISO 8601, e.g. 2026-06-12T08:00:00Z)',
        ),
        (_item(title=["A", "title"]), 'paper.title is a JSON array (["A","title"]), expected a string'),
        (_item() | {"numComments": "3"}, 'numComments is a JSON string ("3"), expected a count (0 or more)'),
    ],
)
def test_wrongly_typed_hugging_face_fields_reject_the_item(item: dict[str, object], reason: str) -> None:
    good, bad = parse_hf_daily_papers(orjson.dumps([_item(id="2606.00002"), item]))
    assert isinstance(good, PaperRecord) and good.feed is not None and good.feed.upvotes == 3
    assert bad == Rejected("item 2", reason)


def test_null_and_missing_hugging_face_fields_are_fine() -> None:
    (record,) = parse_hf_daily_papers(
        orjson.dumps([_item(upvotes=None, githubRepo=None, projectPage=None, authors=None)])
    )
    assert isinstance(record, PaperRecord)
    assert record.authors == [] and record.feed is not None and record.feed.upvotes == 0


def test_an_ingest_reports_the_rejected_item_and_keeps_the_rest(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    path = tmp_path / "daily.json"
    path.write_bytes(orjson.dumps([_item(id="2606.00002"), _item(id="2606.00003", upvotes="many")]))
    report = Ingestor(sessions).ingest_paths([path])
    assert (report.new, report.rejected) == (1, 1)
    assert report.errors == [
        {
            "file": str(path),
            "position": "item 2",
            "reason": 'paper.upvotes is a JSON string ("many"), expected a count (0 or more)',
        }
    ]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == 1


def _billion_laughs(root: str = "lolz") -> bytes:
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE {root} [\n <!ENTITY lol0 "lol">\n {entities}\n]>\n'
        f"<{root}>&lol9;</{root}>\n"
    ).encode()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_an_entity_bomb_is_refused_by_name_at_once(tmp_path: Path, sessions: sessionmaker[Session]) -> None:
    bomb = _billion_laughs()
    before = _peak_rss_mb()
    started = time.monotonic()
    with pytest.raises(FormatError, match=r"^XML entity expansion refused"):
        detect_format(bomb)
    # Shaped like the formats it pretends to be, it is refused by their parsers too (``--format``).
    with pytest.raises(FormatError, match=r"^XML entity expansion refused"):
        parse_atom(_billion_laughs("feed"))
    with pytest.raises(FormatError, match=r"^XML entity expansion refused"):
        parse_oai(_billion_laughs("OAI-PMH"))
    path = tmp_path / "bomb.xml"
    path.write_bytes(bomb)
    with pytest.raises(FormatError, match="XML entity expansion refused"):
        Ingestor(sessions).ingest_paths([path])
    # A billion "lol"s would take gigabytes and minutes; refusing takes neither.
    assert time.monotonic() - started < 10
    assert _peak_rss_mb() - before < 100


def test_a_very_long_first_line_is_reported_with_its_length(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    path = tmp_path / "one-line.txt"
    path.write_bytes(b"lorem ipsum " * 500_000 + b"\nsecond line\n")
    with pytest.raises(UnknownFormatError) as caught:
        Ingestor(sessions).ingest_paths([path])
    message = str(caught.value)
    assert "the first line is 6,000,000 bytes long: not a format dailypapers reads" in message
    with pytest.raises(UnknownFormatError, match=f"the first line is longer than {HEAD_SIZE:,} bytes"):
        detect_format(b"x" * HEAD_SIZE)
    # A short unknown file keeps the general reason.
    with pytest.raises(UnknownFormatError, match="it is text, but not a copied listing"):
        detect_format(b"just a line of text\n")


def test_a_long_first_line_of_json_lines_is_still_read(tmp_path: Path) -> None:
    # A snapshot line with thousands of authors is longer than the head: detection goes by its keys.
    authors = ", ".join(f"Author {i}" for i in range(20_000))
    line = orjson.dumps(
        {
            "id": "0704.0001",
            "submitter": "x",
            "authors": authors,
            "title": "T",
            "abstract": "A",
            "versions": [],
        }
    )
    assert len(line) > HEAD_SIZE
    assert detect_format(line[:HEAD_SIZE]).value == "arxiv-snapshot"

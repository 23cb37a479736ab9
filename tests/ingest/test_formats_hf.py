"""The Hugging Face daily papers parser, checked against two real API responses."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest

from dailypapers.errors import FormatError
from dailypapers.ingest.formats.hf import parse_hf_daily_papers
from dailypapers.ingest.records import FeedRecord, PaperRecord, Rejected, Source

HF_FILES = {
    "daily_papers-2026-06-12.sotawhat.json": (30, date(2026, 6, 12)),
    "daily_papers-2026-07-31.all-news-ai.json": (5, date(2026, 7, 31)),
}


def hf_dir(shared_data: Path) -> Path:
    return shared_data / "hf-daily-papers"


def parse_file(shared_data: Path, name: str) -> list[PaperRecord]:
    items = parse_hf_daily_papers((hf_dir(shared_data) / name).read_bytes())
    assert all(isinstance(item, PaperRecord) for item in items)
    return [item for item in items if isinstance(item, PaperRecord)]


def by_id(shared_data: Path, name: str) -> dict[str, PaperRecord]:
    return {paper.arxiv_id or "": paper for paper in parse_file(shared_data, name)}


def test_the_table_lists_every_response(shared_data: Path) -> None:
    assert {path.name for path in hf_dir(shared_data).glob("*.json")} == set(HF_FILES)


@pytest.mark.parametrize("name", sorted(HF_FILES))
def test_every_item_becomes_a_paper_on_the_feed_of_its_day(shared_data: Path, name: str) -> None:
    count, feed_day = HF_FILES[name]
    papers = parse_file(shared_data, name)
    assert len(papers) == count
    for number, paper in enumerate(papers, start=1):
        assert paper.source is Source.HUGGINGFACE
        assert paper.position == f"item {number}"
        assert paper.arxiv_id and paper.title and paper.abstract and paper.authors
        assert paper.feed is not None and paper.feed.day == feed_day
        assert paper.feed.submitted_by
        assert paper.published is not None and paper.published.date() <= feed_day
        assert paper.extra["hf_discussion_id"]


def test_35_distinct_papers_across_both_days(shared_data: Path) -> None:
    ids = {paper.arxiv_id for name in HF_FILES for paper in parse_file(shared_data, name)}
    assert len(ids) == 35


def test_first_item_fields(shared_data: Path) -> None:
    paper = parse_file(shared_data, "daily_papers-2026-06-12.sotawhat.json")[0]
    assert paper.arxiv_id == "2606.00467"
    assert paper.title == (
        "On the Limits of LLM Adaptability: "
        "Impact of Model-Internalized Priors on Annotation Task Performance"
    )
    assert paper.authors == ["Etienne Casanova", "Rafal Kocielnik", "R. Michael Alvarez"]
    assert paper.published == datetime(2026, 5, 30, tzinfo=UTC)  # paper.publishedAt, not the item's
    assert paper.feed == FeedRecord(
        day=date(2026, 6, 12), submitted_by="RKocielnik", upvotes=0, num_comments=2
    )
    assert paper.abstract.startswith(
        "Large Language Models (LLMs) are increasingly used for zero-shot annotation"
    )
    assert paper.extra["organization"] == "caltech"
    assert paper.extra["hf_discussion_id"] == "6a2c75a4a0d4daae4285f068"
    assert paper.extra["ai_keywords"][:2] == ["zero-shot annotation", "LLM-as-a-judge"]
    assert len(paper.extra["ai_keywords"]) == 14
    assert paper.extra["ai_summary"].startswith("Large language models exhibit limited ability")
    assert "github_stars" not in paper.extra
    assert paper.code_urls == [] and paper.project_url is None


def test_hidden_authors_are_kept_in_place(shared_data: Path) -> None:
    paper = by_id(shared_data, "daily_papers-2026-06-12.sotawhat.json")["2606.12575"]
    assert len(paper.authors) == 10
    assert paper.authors[3] == "Dengyang Jiang"  # flagged hidden on the page
    assert paper.authors[0] == "Dongyang Liu" and paper.authors[-1] == "Peng Gao"


def test_repository_and_project_links(shared_data: Path) -> None:
    papers = by_id(shared_data, "daily_papers-2026-06-12.sotawhat.json")
    web = papers["2606.10423"]
    assert web.code_urls == ["https://github.com/jayoohwang1/webchallenger"]
    assert web.project_url == "https://jayoohwang1.github.io/webchallenger-site/"
    assert web.extra["github_stars"] == 2
    robust = papers["2606.08063"]
    assert robust.code_urls[0] == "https://github.com/jqtangust/Robust-U1"
    assert robust.project_url == "https://huggingface.co/spaces/Jiaqi-hkust/Robust-U1"
    assert robust.feed is not None and robust.feed.upvotes == 74
    assert papers["2606.06113"].extra["organization"] == "Kwai-Kolors"


def test_second_day_with_non_ascii_titles(shared_data: Path) -> None:
    papers = parse_file(shared_data, "daily_papers-2026-07-31.all-news-ai.json")
    assert [paper.arxiv_id for paper in papers] == [
        "2607.23193",
        "2607.27958",
        "2607.28582",
        "2607.28308",
        "2607.16922",
    ]
    omni, sigma, beta = papers[:3]
    assert omni.code_urls == ["https://github.com/MAC-AutoML/OmniScope"]
    assert omni.feed == FeedRecord(day=date(2026, 7, 31), submitted_by="Consonnm", upvotes=3, num_comments=2)
    assert omni.authors[0] == "Jinsen Su" and omni.authors[-1] == "Xiaowu Zheng"
    assert sigma.title.startswith("Σ-Mem: An Online Reliability Memory")
    assert sigma.extra["organization"] == "NanyangTechnologicalUniversity"
    assert beta.title.startswith("β-OPSD")
    assert beta.project_url == "https://umd-huang-lab.github.io/beta-opsd/"


def item(**paper: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "2606.00001",
        "title": "A title",
        "summary": "An abstract.",
        "authors": [],
    }
    base.update(paper)
    return {"paper": base, "numComments": 1, "publishedAt": "2026-06-01T20:00:00.000Z"}


def test_items_without_id_or_title_are_rejected() -> None:
    data = orjson.dumps(
        [item(), item(id=None), item(title="", id="2606.00002"), item(id="not-an-id"), "junk", {"title": "x"}]
    )
    items = parse_hf_daily_papers(data)
    assert isinstance(items[0], PaperRecord)
    assert items[1] == Rejected("item 2", "item has no paper.id")
    assert items[2] == Rejected("item 3", "paper 2606.00002 has no title")
    assert items[3] == Rejected("item 4", "paper.id 'not-an-id' is not an arXiv id")
    assert items[4] == Rejected("item 5", "item is a JSON string, expected an object")
    assert items[5] == Rejected("item 6", "item has no paper object")


def test_feed_day_and_submitter_fallbacks() -> None:
    data = orjson.dumps([item(submittedOnDailyBy={"name": "someone"}) | {"submittedBy": {"name": "other"}}])
    (paper,) = parse_hf_daily_papers(data)
    assert isinstance(paper, PaperRecord)
    # No submittedOnDailyAt: the item's publishedAt gives the day.
    assert paper.feed == FeedRecord(day=date(2026, 6, 1), submitted_by="someone", upvotes=0, num_comments=1)
    (fallback,) = parse_hf_daily_papers(orjson.dumps([item() | {"submittedBy": {"name": "other"}}]))
    assert isinstance(fallback, PaperRecord) and fallback.feed is not None
    assert fallback.feed.submitted_by == "other"


def test_invalid_json_names_line_and_column(shared_data: Path) -> None:
    data = (hf_dir(shared_data) / "daily_papers-2026-07-31.all-news-ai.json").read_bytes()
    with pytest.raises(FormatError, match=r"^invalid JSON at line \d+ column \d+: "):
        parse_hf_daily_papers(data[: len(data) // 2])
    with pytest.raises(FormatError, match=r"^invalid JSON at line 2 column 1: "):
        parse_hf_daily_papers(b"[\n}")


@pytest.mark.parametrize("data", [b'{"paper": {}}', b'"text"', b"42"])
def test_anything_but_an_array_is_a_format_error(data: bytes) -> None:
    with pytest.raises(FormatError, match="expected a JSON array of daily papers"):
        parse_hf_daily_papers(data)


def test_empty_and_latin1_input_are_format_errors() -> None:
    with pytest.raises(FormatError, match="file is empty"):
        parse_hf_daily_papers(b"  \n")
    latin1 = '[{"paper": {"id": "2606.00001", "title": "Café"}}]'.encode("latin-1")
    with pytest.raises(
        FormatError, match=f"not UTF-8 text: invalid byte at byte offset {latin1.index(0xE9)}"
    ):
        parse_hf_daily_papers(latin1)

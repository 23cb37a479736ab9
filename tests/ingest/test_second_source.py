"""One paper read from arXiv and from Hugging Face, in both orders: every field of the merged paper.

The rules (``dailypapers.ingest.merge``): an arXiv record is a versioned description, so it overwrites
what an unversioned source (Hugging Face) said; Hugging Face, read after arXiv, is not newer and only
fills what arXiv left empty; code links are a union; ``extra`` facts are added; the feed entry (day,
submitter, counts) comes from Hugging Face alone. Either order therefore ends in the same paper.

The shared data holds no paper that both sources describe, so the real Hugging Face item of one paper
(2606.13681, with code, a project page, AI summary and keywords) is given the id of a real arXiv Atom
entry (2606.13591, with comments but no project page), as ``fetch hf`` meets it when arXiv answers for
the same id. The two descriptions differ in every field both give, so each field shows whose value won.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.ingest.formats.atom import parse_atom
from dailypapers.ingest.formats.hf import parse_hf_daily_papers
from dailypapers.ingest.merge import title_hash
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import PaperRecord
from dailypapers.models import FeedEntry, Paper, PaperSource

ATOM = "arxiv/api-atom/sotawhat-arxiv_transformer.xml"
HF = "hf-daily-papers/daily_papers-2026-06-12.sotawhat.json"
ARXIV_ID = "2606.13591"  # "Multiagent Protocols with Aggregated Confidence Signals", v1 of 2026-06-11
HF_ITEM = "2606.13681"  # EvoArena on the feed of 2026-06-12: 118 upvotes, 3 comments
NOW = datetime(2026, 6, 14, 9, 0, tzinfo=UTC)


def utc(moment: datetime | None) -> datetime | None:
    """A stored time as UTC (SQLite gives naive datetimes back, PostgreSQL aware ones)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@pytest.fixture
def hf_file(shared_data: Path, tmp_path: Path) -> Path:
    """The real Hugging Face item, alone in a response, under the arXiv entry's id."""
    items = json.loads((shared_data / HF).read_text())
    (item,) = [i for i in items if i["paper"]["id"] == HF_ITEM]
    item["paper"]["id"] = ARXIV_ID
    path = tmp_path / "daily_papers.json"
    path.write_text(json.dumps([item]))
    return path


def arxiv_record(shared_data: Path) -> PaperRecord:
    (record,) = [
        r
        for r in parse_atom((shared_data / ATOM).read_bytes()).items
        if isinstance(r, PaperRecord) and r.arxiv_id == ARXIV_ID
    ]
    return record


def hf_record(hf_file: Path) -> PaperRecord:
    (record,) = parse_hf_daily_papers(hf_file.read_bytes())
    assert isinstance(record, PaperRecord)
    return record


def merged_fields(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Every stored field of the paper, its sources and its feed entry."""
    with sessions() as session:
        paper = session.get(Paper, ARXIV_ID)
        assert paper is not None
        entry = session.scalar(select(FeedEntry).where(FeedEntry.paper_id == ARXIV_ID))
        assert entry is not None
        sources = session.scalars(select(PaperSource.source).where(PaperSource.paper_id == ARXIV_ID))
        return {
            "arxiv_id": paper.arxiv_id,
            "title": paper.title,
            "title_hash": paper.title_hash,
            "abstract": paper.abstract,
            "authors": paper.authors,
            "categories": paper.categories,
            "primary_category": paper.primary_category,
            "categories_predicted": paper.categories_predicted,
            "version": paper.version,
            "versions": paper.versions,
            "published_at": utc(paper.published_at),
            "updated_at": utc(paper.updated_at),
            "comments": paper.comments,
            "journal_ref": paper.journal_ref,
            "doi": paper.doi,
            "license": paper.license,
            "code_urls": paper.code_urls,
            "project_url": paper.project_url,
            "extra": paper.extra,
            "sources": sorted(sources),
            "feed": (entry.day, entry.submitted_by, entry.source, entry.upvotes, entry.num_comments),
        }


def test_the_two_descriptions_differ_where_both_speak(shared_data: Path, hf_file: Path) -> None:
    """What makes the merge visible: each field both sources give has two different values."""
    arxiv, hf = arxiv_record(shared_data), hf_record(hf_file)
    for name in ("title", "abstract", "authors", "published"):
        assert getattr(arxiv, name) and getattr(hf, name) and getattr(arxiv, name) != getattr(hf, name), name
    # What only one of them knows.
    assert arxiv.categories and not hf.categories
    assert arxiv.version == 1 and arxiv.versions and hf.version is None and not hf.versions
    assert arxiv.updated and hf.updated is None
    assert arxiv.comments and hf.comments is None
    assert not arxiv.code_urls and hf.code_urls == ["https://github.com/Aiden0526/EvoArena"]
    assert arxiv.project_url is None and hf.project_url == "https://aiden0526.github.io/EvoArena/"
    assert arxiv.extra == {} and set(hf.extra) == {
        "ai_keywords",
        "ai_summary",
        "github_stars",
        "hf_discussion_id",
        "organization",
    }
    assert arxiv.feed is None and hf.feed is not None
    # Neither gives these.
    assert not (arxiv.journal_ref or arxiv.doi or arxiv.license or hf.journal_ref or hf.doi or hf.license)


@pytest.mark.parametrize("order", ["arxiv-then-huggingface", "huggingface-then-arxiv"])
def test_a_paper_from_arxiv_and_hugging_face_keeps_what_each_owns(
    sessions: sessionmaker[Session], shared_data: Path, hf_file: Path, order: str
) -> None:
    arxiv, hf = arxiv_record(shared_data), hf_record(hf_file)
    ingestor = Ingestor(sessions, now=lambda: NOW)
    arxiv_first = order == "arxiv-then-huggingface"
    first, second = (shared_data / ATOM, hf_file) if arxiv_first else (hf_file, shared_data / ATOM)
    ingestor.ingest_paths([first])
    report = ingestor.ingest_paths([second])
    # The Atom response holds four other papers, which are new.
    assert (report.new, report.updated) == ((0, 1) if arxiv_first else (4, 1))

    assert hf.feed is not None and arxiv.published is not None and arxiv.updated is not None
    assert merged_fields(sessions) == {
        "arxiv_id": ARXIV_ID,
        # arXiv's versioned description wins every field it gives...
        "title": arxiv.title,
        "title_hash": title_hash(arxiv.title),  # so a copied listing finds the paper by arXiv's title
        "abstract": arxiv.abstract,
        "authors": arxiv.authors,
        "categories": arxiv.categories,
        "primary_category": "cs.AI",
        "categories_predicted": False,
        "version": 1,
        "versions": [{"version": 1, "date": arxiv.published.isoformat()}],
        "published_at": arxiv.published,
        "updated_at": arxiv.updated,
        "comments": "22 pages and 5 figures, 9 pages and 2 figures before the appendix",
        # ...what neither gives stays empty...
        "journal_ref": None,
        "doi": None,
        "license": None,
        # ...and Hugging Face fills what arXiv lacks: code, project page, its own facts and the feed.
        "code_urls": ["https://github.com/Aiden0526/EvoArena"],
        "project_url": "https://aiden0526.github.io/EvoArena/",
        "extra": hf.extra,
        "sources": ["arxiv-api", "huggingface"],
        "feed": (date(2026, 6, 12), "zhiyuanhucs", "huggingface", 118, 3),
    }
    assert arxiv.published == datetime(2026, 6, 11, 17, 12, 11, tzinfo=UTC)
    assert hf.extra["github_stars"] >= 0 and hf.extra["ai_keywords"]

    # Reading either source again changes nothing.
    for path in (first, second):
        again = ingestor.ingest_paths([path])
        assert again.new == 0 and again.updated == 0, path

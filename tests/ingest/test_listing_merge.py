"""A paper from a copied listing (no id, authors or date) merges with the same title from any source."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.ingest.formats.atom import parse_atom
from dailypapers.ingest.formats.hf import parse_hf_daily_papers
from dailypapers.ingest.formats.listing import parse_listing
from dailypapers.ingest.formats.oai import parse_oai
from dailypapers.ingest.formats.snapshot import parse_snapshot_line
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import PaperRecord, title_key
from dailypapers.models import Comment, Paper, PaperActivity, Vote
from dailypapers.serialize import bibtex_key, paper_to_bibtex

NOW = datetime(2026, 6, 13, 9, 0, tzinfo=UTC)
HF_FILE = "hf-daily-papers/daily_papers-2026-06-12.sotawhat.json"


@pytest.fixture
def hf_item(shared_data: Path) -> dict[str, Any]:
    items: list[dict[str, Any]] = json.loads((shared_data / HF_FILE).read_text())
    return items[3]


def _listing_of(tmp_path: Path, item: dict[str, Any]) -> Path:
    """The paper as the Hugging Face page shows it when copied: header lines, title, abstract."""
    path = tmp_path / "listing.txt"
    abstract = " ".join(item["paper"]["summary"].split())
    path.write_text(
        f"Daily Papers\n\nby AK and the research community\n\n{item['paper']['title']}\n\n{abstract}\n"
    )
    return path


def _hf_file(tmp_path: Path, item: dict[str, Any]) -> Path:
    path = tmp_path / "daily.json"
    path.write_text(json.dumps([item]))
    return path


def _user(session: Session, name: str) -> int:
    user = store.create_user(
        session, username=name, email=f"{name}@example.org", password_hash="x", security_stamp="s", now=NOW
    )
    session.flush()
    return user.id


def test_a_listing_paper_merges_into_the_arxiv_paper_that_comes_later(
    sessions: sessionmaker[Session], tmp_path: Path, hf_item: dict[str, Any]
) -> None:
    Ingestor(sessions).ingest_paths([_listing_of(tmp_path, hf_item)])
    with sessions() as session:
        (local_id,) = session.scalars(select(Paper.id)).all()
        assert local_id.startswith("dp-")
        # People found it before arXiv did: two votes and a comment on the listing paper.
        ada, bob = _user(session, "ada"), _user(session, "bob")
        store.add_vote(session, user_id=ada, paper_id=local_id, now=NOW)
        store.add_vote(session, user_id=bob, paper_id=local_id, now=NOW)
        store.add_comment(session, paper_id=local_id, user_id=ada, body="Nice", parent_id=None, now=NOW)
        session.commit()

    arxiv_id = hf_item["paper"]["id"]
    report = Ingestor(sessions).ingest_paths([_hf_file(tmp_path, hf_item)])
    assert (report.new, report.updated) == (0, 1)
    with sessions() as session:
        assert session.get(Paper, local_id) is None
        paper = store.get_paper(session, paper_id=arxiv_id)
        assert paper is not None
        assert {s.source for s in paper.sources} == {"listing", "huggingface"}
        assert paper.authors and paper.published_at is not None and paper.feed_entry is not None
        assert sorted(session.scalars(select(Vote.user_id).where(Vote.paper_id == arxiv_id))) == [ada, bob]
        assert session.scalars(select(Comment.paper_id)).all() == [arxiv_id]
        activity = session.get(PaperActivity, arxiv_id)
        assert activity is not None and (activity.upvotes, activity.comments) == (2, 1)
        assert session.get(PaperActivity, local_id) is None
        # A link to the old id still leads to the paper.
        assert store.paper_alias_target(session, paper_id=local_id) == arxiv_id
        assert store.paper_alias_target(session, paper_id=arxiv_id) is None
    # Reading the listing again changes nothing and brings no second paper.
    again = Ingestor(sessions).ingest_paths([_listing_of(tmp_path, hf_item)])
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)


def test_a_listing_read_after_the_arxiv_paper_joins_it(
    sessions: sessionmaker[Session], tmp_path: Path, hf_item: dict[str, Any]
) -> None:
    Ingestor(sessions).ingest_paths([_hf_file(tmp_path, hf_item)])
    report = Ingestor(sessions).ingest_paths([_listing_of(tmp_path, hf_item)])
    assert (report.new, report.updated) == (0, 1)
    with sessions() as session:
        (paper,) = session.scalars(select(Paper)).all()
        assert paper.id == hf_item["paper"]["id"]
        assert {s.source for s in paper.sources} == {"listing", "huggingface"}
        # The listing fills nothing the arXiv paper has; the feed entry is untouched.
        assert paper.feed_entry is not None and paper.feed_entry.upvotes == hf_item["paper"]["upvotes"]


def test_listing_and_arxiv_paper_in_one_batch_are_one_paper(
    sessions: sessionmaker[Session], tmp_path: Path, hf_item: dict[str, Any]
) -> None:
    listing = parse_listing(_listing_of(tmp_path, hf_item).read_bytes())
    hf = parse_hf_daily_papers(_hf_file(tmp_path, hf_item).read_bytes())
    for records in ([*listing, *hf], [*hf, *listing]):
        report = Ingestor(sessions).ingest_records(records, label="both")
        assert report.rejected == 0
        with sessions() as session:
            assert session.scalars(select(Paper.id)).all() == [hf_item["paper"]["id"]]


def _title_keys(records: list[Any]) -> set[str]:
    return {title_key(r.title) for r in records if isinstance(r, PaperRecord)}


def test_the_demo_listing_against_the_arxiv_and_hugging_face_files(
    sessions: sessionmaker[Session], shared_data: Path
) -> None:
    listing = parse_listing((shared_data / "seed" / "000_f44c086a8a650424.txt").read_bytes())
    others: list[Any] = []
    for path in sorted((shared_data / "hf-daily-papers").glob("*.json")):
        others += parse_hf_daily_papers(path.read_bytes())
    for path in sorted((shared_data / "arxiv" / "api-atom").glob("*.xml")):
        others += parse_atom(path.read_bytes()).items
    for path in sorted((shared_data / "arxiv" / "oai-pmh").glob("*.xml")):
        others += parse_oai(path.read_bytes()).items
    snapshot = shared_data / "arxiv" / "oai-snapshot" / "arxiv-metadata-oai-snapshot.first200.jsonl"
    others += [parse_snapshot_line(line, "line") for line in snapshot.read_bytes().splitlines()]
    overlap = _title_keys(listing) & _title_keys(others)

    Ingestor(sessions).ingest_paths(
        [shared_data / "seed", shared_data / "hf-daily-papers", shared_data / "arxiv"]
    )
    with sessions() as session:
        rows = session.execute(select(Paper.id, Paper.title)).all()
        keys = [title_key(title) for _, title in rows]
        # No title twice: every listing paper known elsewhere was merged into its arXiv paper.
        assert len(keys) == len(set(keys))
        merged = {title_key(t) for i, t in rows if not i.startswith("dp-")} & _title_keys(listing)
        assert merged == overlap
        local = session.scalar(select(func.count()).select_from(Paper).where(Paper.id.like("dp-%")))
        assert local == len(_title_keys(listing)) - len(overlap)


def test_bibtex_of_a_listing_paper_has_a_key_from_its_title(
    sessions: sessionmaker[Session], tmp_path: Path, hf_item: dict[str, Any]
) -> None:
    Ingestor(sessions).ingest_paths([_listing_of(tmp_path, hf_item)])
    with sessions() as session:
        (paper,) = session.scalars(select(Paper)).all()
        bibtex = paper_to_bibtex(paper)
    assert paper.title.startswith("Getting Better at Working With You")
    assert bibtex.startswith("@misc{gettingbetter,\n")
    assert "anonymous" not in bibtex and "nd" not in bibtex_key(paper) and "author" not in bibtex
    with sessions() as session:
        Ingestor(sessions).ingest_paths([_hf_file(tmp_path, hf_item)])
        merged = store.get_paper(session, paper_id=hf_item["paper"]["id"])
        assert merged is not None
        surname = merged.authors[0].split()[-1].lower()
        assert bibtex_key(merged) == f"{surname}2026getting"


def test_bibtex_keys_are_ascii_and_skip_small_words(sessions: sessionmaker[Session]) -> None:
    paper = Paper(
        id="x", title="On the Erdős–Rényi Model", authors=["Paul Erdős"], published_at=datetime(1959, 1, 1)
    )
    assert bibtex_key(paper) == "erdos1959erdos"
    untitled = Paper(id="y", title="The A", authors=[])
    assert bibtex_key(untitled) == "paper"

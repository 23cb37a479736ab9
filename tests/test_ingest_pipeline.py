"""The ingest pipeline against a real database: counts, idempotence, merging, bad input, resuming."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.errors import FormatError, IngestError, UnknownFormatError
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.models import FeedEntry, IngestCheckpoint, Paper, PaperCategory, PaperSource
from tests.factories import SNAPSHOT, write_rekeyed_snapshot

SOURCE_FOLDERS = {
    "arxiv-api": "arxiv/api-atom",
    "arxiv-oai": "arxiv/oai-pmh",
    "arxiv-snapshot": "arxiv/oai-snapshot",
    "huggingface": "hf-daily-papers",
    "listing": "seed",
}
EXPECTED_PER_SOURCE = {
    "arxiv-api": 121,
    "arxiv-oai": 191,
    "arxiv-snapshot": 200,
    "huggingface": 35,
    "listing": 41,
}


def dump(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the paper tables, for comparing a database before and after."""
    with sessions() as session:
        return {
            table: sorted(tuple(map(str, row)) for row in session.execute(text(f"SELECT * FROM {table}")))
            for table in ("papers", "paper_categories", "paper_sources", "feed_entries")
        }


def test_each_source_counts_every_paper(sessions: sessionmaker[Session], shared_data: Path) -> None:
    for source, folder in SOURCE_FOLDERS.items():
        report = Ingestor(sessions).ingest_paths([shared_data / folder])
        assert report.rejected == 0, report.errors
        with sessions() as session:
            assert store.stats(session)["sources"][source] == EXPECTED_PER_SOURCE[source]
    with sessions() as session:
        numbers = store.stats(session)
    assert numbers["papers"] == 588
    assert numbers["sources"] == EXPECTED_PER_SOURCE
    assert numbers["feed_entries"] == 35


def test_whole_shared_folder_ingests_and_skips_what_is_not_papers(
    sessions: sessionmaker[Session], shared_data: Path
) -> None:
    report = Ingestor(sessions).ingest_paths([shared_data])
    with sessions() as session:
        numbers = store.stats(session)
    assert numbers["papers"] == 588 + 5183
    assert numbers["sources"]["beir"] == 5183
    skipped = {Path(s["file"]).name for s in report.skipped}
    assert {"README.md", "SHA256SUMS", "queries.jsonl", "ndcg10.csv", "test.tsv"} <= skipped
    assert report.rejected == 0, report.errors
    assert len(report.files) == 11 + 4 + 1 + 2 + 1 + 1  # Atom, OAI, snapshot, HF, listing, BEIR


def test_reingest_reports_zero_new(sessions: sessionmaker[Session], shared_data: Path) -> None:
    paths = [shared_data / folder for folder in SOURCE_FOLDERS.values()]
    first = Ingestor(sessions).ingest_paths(paths)
    assert first.new == 588
    before = dump(sessions)
    second = Ingestor(sessions).ingest_paths(paths)
    assert (second.new, second.updated) == (0, 0)
    assert second.unchanged == first.new + first.updated + first.unchanged
    assert dump(sessions) == before


def _atom_entry_as_new_version(shared_data: Path, tmp_path: Path) -> Path:
    original = (shared_data / "arxiv/api-atom/arxivpy-id_2104.12255v1_s0_m100.xml").read_text()
    assert "2104.12255v1" in original
    changed = original.replace("2104.12255v1", "2104.12255v2").replace(
        "<updated>2021-04-25T21:23:44Z</updated>", "<updated>2021-06-01T10:00:00Z</updated>", 1
    )
    title_start = changed.index("<title>", changed.index("<entry>")) + len("<title>")
    changed = changed[:title_start] + "Revised: " + changed[title_start:]
    path = tmp_path / "v2.xml"
    path.write_text(changed)
    return path


def test_newer_version_updates_the_paper(
    sessions: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    Ingestor(sessions).ingest_paths([shared_data / "arxiv/api-atom/arxivpy-id_2104.12255v1_s0_m100.xml"])
    with sessions() as session:
        paper = store.get_paper(session, paper_id="2104.12255")
        assert paper is not None and paper.version == 1
        old_title = paper.title
    report = Ingestor(sessions).ingest_paths([_atom_entry_as_new_version(shared_data, tmp_path)])
    assert (report.new, report.updated) == (0, 1)
    with sessions() as session:
        paper = store.get_paper(session, paper_id="2104.12255")
        assert paper is not None
        assert paper.version == 2
        assert paper.title == f"Revised: {old_title}"
        assert [v["version"] for v in paper.versions] == [1, 2]
    # Reading the older version again changes nothing back.
    again = Ingestor(sessions).ingest_paths(
        [shared_data / "arxiv/api-atom/arxivpy-id_2104.12255v1_s0_m100.xml"]
    )
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
    with sessions() as session:
        paper = store.get_paper(session, paper_id="2104.12255")
        assert paper is not None and paper.version == 2


def test_same_paper_from_two_sources_is_one_paper(
    sessions: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    hf_items = json.loads((shared_data / "hf-daily-papers/daily_papers-2026-06-12.sotawhat.json").read_text())
    item = hf_items[3]
    # The same paper as a one-entry plain-text listing (as copied from a feed page), read first.
    listing = tmp_path / "listing.txt"
    listing.write_text(
        f"Daily Papers\n\n{item['paper']['title']}\n\n{' '.join(item['paper']['summary'].split())}\n"
    )
    Ingestor(sessions).ingest_paths([listing])
    with sessions() as session:
        (local_id,) = session.scalars(select(Paper.id)).all()
        assert local_id.startswith("dp-")
    report = Ingestor(sessions).ingest_paths(
        [shared_data / "hf-daily-papers/daily_papers-2026-06-12.sotawhat.json"]
    )
    assert report.new == 29 and report.updated == 1
    with sessions() as session:
        assert session.get(Paper, local_id) is None
        paper = store.get_paper(session, paper_id=item["paper"]["id"])
        assert paper is not None
        assert {s.source for s in paper.sources} == {"listing", "huggingface"}
        assert paper.feed_entry is not None and paper.feed_entry.upvotes == item["paper"]["upvotes"]
        assert session.scalar(select(func.count()).select_from(Paper)) == 30
    # And the other way round: a listing read after the arXiv paper joins it.
    again = Ingestor(sessions).ingest_paths([listing])
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)


def test_feed_entry_keeps_day_and_takes_new_counts(
    sessions: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    source = shared_data / "hf-daily-papers/daily_papers-2026-07-31.all-news-ai.json"
    Ingestor(sessions).ingest_paths([source])
    items = json.loads(source.read_text())
    items[0]["paper"]["upvotes"] += 7
    items[0]["numComments"] += 2
    items[0]["paper"]["submittedOnDailyAt"] = "2026-08-02T00:00:00.000Z"
    changed = tmp_path / "later.json"
    changed.write_text(json.dumps(items))
    report = Ingestor(sessions).ingest_paths([changed])
    assert (report.new, report.updated, report.unchanged) == (0, 1, 4)
    with sessions() as session:
        entry = session.scalar(select(FeedEntry).where(FeedEntry.paper_id == items[0]["paper"]["id"]))
        assert entry is not None
        assert entry.upvotes == items[0]["paper"]["upvotes"]
        assert entry.num_comments == items[0]["numComments"]
        assert entry.day.isoformat() == "2026-07-31"


def test_malformed_record_is_rejected_and_the_rest_ingested(
    sessions: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    lines = (shared_data / SNAPSHOT).read_bytes().splitlines(keepends=True)
    broken = tmp_path / "snapshot.jsonl"
    broken.write_bytes(b"".join(lines[:10]) + b'{"id": "0704.9999", "title": \n' + b"".join(lines[10:]))
    report = Ingestor(sessions).ingest_paths([broken])
    assert report.new == 200
    assert report.rejected == 1
    assert report.errors[0]["file"] == str(broken)
    assert report.errors[0]["position"] == "line 11"


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("empty.xml", b"", FormatError),
        ("blank.jsonl", b"\n\n  \n", FormatError),
        ("latin1.txt", "Théorie des champs\n\n".encode("latin-1") + b"x" * 200, FormatError),
        ("data.csv", b"id,title\n1,foo\n2,bar\n", UnknownFormatError),
        ("binary.bin", bytes(range(256)) * 4, FormatError),
    ],
)
def test_broken_file_changes_nothing(
    sessions: sessionmaker[Session], shared_data: Path, tmp_path: Path, name: str, content: bytes, error: type
) -> None:
    Ingestor(sessions).ingest_paths([shared_data / "hf-daily-papers"])
    before = dump(sessions)
    bad = tmp_path / name
    bad.write_bytes(content)
    good = shared_data / "seed"
    with pytest.raises(error) as info:
        Ingestor(sessions).ingest_paths([good, bad])
    assert str(bad) in str(info.value)
    assert "\n" not in str(info.value)
    assert dump(sessions) == before


@pytest.mark.parametrize(
    "source",
    ["arxiv/api-atom/arxivpy-q_testing_s0_m100.xml", "hf-daily-papers/daily_papers-2026-06-12.sotawhat.json"],
)
def test_truncated_document_changes_nothing(
    sessions: sessionmaker[Session], shared_data: Path, tmp_path: Path, source: str
) -> None:
    data = (shared_data / source).read_bytes()
    truncated = tmp_path / Path(source).name
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError):
        Ingestor(sessions).ingest_paths([shared_data / "seed", truncated])
    assert all(rows == [] for rows in dump(sessions).values())


def test_missing_path_is_an_error(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        Ingestor(sessions).ingest_paths([tmp_path / "nope.xml"])


def test_dry_run_counts_but_writes_nothing(sessions: sessionmaker[Session], shared_data: Path) -> None:
    report = Ingestor(sessions, dry_run=True).ingest_paths(
        [shared_data / "arxiv/oai-pmh", shared_data / "arxiv/oai-snapshot"]
    )
    assert report.new == 191 + 200
    assert all(rows == [] for rows in dump(sessions).values())
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(IngestCheckpoint)) == 0


def test_every_paper_is_complete(sessions: sessionmaker[Session], shared_data: Path) -> None:
    Ingestor(sessions).ingest_paths([shared_data / folder for folder in SOURCE_FOLDERS.values()])
    with sessions() as session:
        assert_no_half_written_papers(session)
        paper = store.get_paper(session, paper_id="0704.0001")
        assert paper is not None
        assert paper.authors[0] == "C. Balázs"
        assert paper.categories == ["hep-ph"]
        assert paper.version == 2


def assert_no_half_written_papers(session: Session) -> None:
    without_source = session.scalar(
        select(func.count()).select_from(Paper).where(~Paper.id.in_(select(PaperSource.paper_id)))
    )
    assert without_source == 0
    categorised = select(PaperCategory.paper_id)
    missing_categories = session.scalar(
        select(func.count())
        .select_from(Paper)
        .where(Paper.primary_category.is_not(None), ~Paper.id.in_(categorised))
    )
    assert missing_categories == 0
    duplicates = session.execute(
        select(Paper.title_hash, func.count())
        .where(Paper.arxiv_id.is_(None))
        .group_by(Paper.title_hash)
        .having(func.count() > 1)
    ).all()
    assert duplicates == []


@pytest.mark.slow
def test_sigkill_halfway_then_rerun_resumes_without_duplicates(
    sessions: sessionmaker[Session], shared_data: Path, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    total = 30_000
    snapshot = write_rekeyed_snapshot(shared_data, tmp_path / "snapshot.jsonl", total)
    env = {**os.environ, **cli_env, "DAILYPAPERS_INGEST_BATCH_SIZE": "500"}
    command = [sys.executable, "-m", "dailypapers", "ingest", str(snapshot), "--json"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    committed = 0
    while time.monotonic() < deadline and process.poll() is None:
        with sessions() as session:
            committed = session.scalar(select(func.count()).select_from(Paper)) or 0
        if committed >= 2000:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the ingest finished before it could be killed; make the input larger"
    process.send_signal(signal.SIGKILL)
    process.wait()
    with sessions() as session:
        interrupted_count = session.scalar(select(func.count()).select_from(Paper)) or 0
        assert 0 < interrupted_count < total
        checkpoint = session.scalar(select(IngestCheckpoint))
        assert checkpoint is not None and checkpoint.line > 1
        assert_no_half_written_papers(session)

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert "resuming" in rerun.stderr
    # The resumed run starts at the checkpoint: it never re-reads what was committed before it.
    assert report["new"] == total - interrupted_count
    assert report["rejected"] == 0
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == total
        assert session.scalar(select(func.count()).select_from(IngestCheckpoint)) == 0
        assert session.scalar(select(func.count(func.distinct(PaperSource.paper_id)))) == total
        assert_no_half_written_papers(session)

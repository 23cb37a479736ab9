"""Finding the papers of an imported reference file: by arXiv id, then DOI, then title, in batches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.citations import Citation, read_citations, write_citations
from dailypapers.db import IN_CHUNK
from dailypapers.ingest.merge import title_hash
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.models import Paper, PaperAlias
from dailypapers.store.matching import Match, match_citations
from tests.factories import write_rekeyed_snapshot

NOW = datetime(2026, 6, 13, 9, 0, tzinfo=UTC)

# A reader's Zotero export as Google Scholar, arXiv and a publisher's page filled it in: one entry by
# arXiv id in the journal, one by DOI only, one by a title typed with LaTeX braces, one unknown here.
LIBRARY_BIB = r"""
@article{pan2007evolution,
  title={The evolution of the Earth-Moon system based on the dark matter field fluid model},
  author={Pan, Hongjun},
  journal={arXiv preprint arXiv:0704.0003},
  year={2007}
}

@article{balazs_calculation_2007,
	title = {Prompt diphoton production},
	doi = {10.1103/PhysRevD.76.013009},
	journal = {Physical Review D},
	author = {Bal{\'a}zs, C. and Berger, E. L.},
	year = {2007},
}

@misc{callan_determinant,
	title = {A {Determinant} of {Stirling} Cycle Numbers Counts Unlabeled Acyclic Single-Source Automata},
	author = {Callan, David},
}

@misc{vaswani_attention_2023,
	title = {Attention {Is} {All} {You} {Need}},
	url = {http://arxiv.org/abs/1706.03762},
	year = {2023},
}
"""


@pytest.fixture
def snapshot(sessions: sessionmaker[Session], shared_data: Path) -> sessionmaker[Session]:
    """The 200 real papers of the arXiv snapshot."""
    Ingestor(sessions).ingest_paths([shared_data / "arxiv/oai-snapshot"])
    return sessions


def _matched(sessions: sessionmaker[Session], entries: list[Citation]) -> list[tuple[str | None, str]]:
    with sessions() as session:
        return [(m.paper_id, m.how) for m in match_citations(session, entries)]


def test_a_zotero_export_matches_by_arxiv_id_doi_and_title_in_order(snapshot: sessionmaker[Session]) -> None:
    entries = read_citations(LIBRARY_BIB.encode(), "library.bib").entries
    with snapshot() as session:
        matches = match_citations(session, entries)
    assert [(m.paper_id, m.how) for m in matches] == [
        ("0704.0003", "arxiv"),
        ("0704.0001", "doi"),  # the DOI is stored as 10.1103/PhysRevD...: case does not matter
        ("0704.0004", "title"),
        (None, "missing"),
    ]
    assert [m.citation for m in matches] == entries
    assert matches[0] == Match(entries[0], "0704.0003", "arxiv")


def test_the_arxiv_id_wins_over_the_doi_and_the_doi_over_the_title(snapshot: sessionmaker[Session]) -> None:
    doi_of_0001 = "10.1103/physrevd.76.013009"
    title_of_0002 = "Sparsity-certifying Graph Decompositions"
    assert _matched(
        snapshot,
        [
            Citation(title=title_of_0002, arxiv_id="0704.0003", doi=doi_of_0001),
            Citation(title=title_of_0002, doi=doi_of_0001),
            Citation(title=title_of_0002, arxiv_id="2501.99999", doi="10.9999/unknown"),
        ],
    ) == [("0704.0003", "arxiv"), ("0704.0001", "doi"), ("0704.0002", "title")]


def test_an_unknown_arxiv_id_or_doi_falls_through_to_the_next_kind(snapshot: sessionmaker[Session]) -> None:
    assert _matched(
        snapshot,
        [
            Citation(title="Not a title here", arxiv_id="2501.99999", doi="10.1103/physrevd.76.013009"),
            Citation(title="Nothing like it", arxiv_id="2501.99998", doi="10.9999/unknown"),
        ],
    ) == [("0704.0001", "doi"), (None, "missing")]


def test_a_title_hash_shared_by_another_title_is_no_match(snapshot: sessionmaker[Session]) -> None:
    wanted = "Attention Is All You Need"
    with snapshot() as session:
        # A paper whose stored hash collides with the wanted title's, under a title of its own.
        paper = session.get(Paper, "0704.0010")
        assert paper is not None
        paper.title_hash = title_hash(wanted)
        session.commit()
    assert _matched(snapshot, [Citation(title=wanted)]) == [(None, "missing")]
    # Its own title still finds nothing either: the hash no longer leads there.
    assert _matched(
        snapshot, [Citation(title="Partial cubes: structures, characterizations, and constructions")]
    ) == [(None, "missing")]


def test_a_title_shared_by_two_papers_picks_the_arxiv_paper(snapshot: sessionmaker[Session]) -> None:
    title = "Sparsity-certifying Graph Decompositions"
    with snapshot() as session:
        # The same title known from a pasted listing only: the paper with an arXiv id is the one matched.
        copy = Paper(id="dp-00000000000000aa", title=title, title_hash=title_hash(title), abstract="",
                     authors=[], first_seen_at=NOW, changed_at=NOW)  # fmt: skip
        session.add(copy)
        session.commit()
    assert _matched(snapshot, [Citation(title=title.lower())]) == [("0704.0002", "title")]


def test_an_id_merged_into_another_paper_leads_to_it(snapshot: sessionmaker[Session]) -> None:
    with snapshot() as session:
        session.add(PaperAlias(id="0704.9999", paper_id="0704.0001", created_at=NOW))
        # An id that is a paper again after it was merged away: the paper itself comes first.
        session.add(PaperAlias(id="0704.0002", paper_id="0704.0001", created_at=NOW))
        session.commit()
    entries = [Citation(title="", arxiv_id="0704.9999"), Citation(title="", arxiv_id="0704.0002")]
    assert _matched(snapshot, entries) == [("0704.0001", "arxiv"), ("0704.0002", "arxiv")]


@pytest.mark.parametrize("fmt", ["bibtex", "ris", "csl-json"])
def test_an_exported_collection_imports_as_the_same_papers(snapshot: sessionmaker[Session], fmt: str) -> None:
    with snapshot() as session:
        papers = session.scalars(select(Paper).order_by(Paper.id).limit(40)).all()
        text = write_citations(papers, fmt, {papers[0].id: "Read first"})
        matches = match_citations(session, read_citations(text.encode()).entries)
    assert [(m.paper_id, m.how) for m in matches] == [(p.id, "arxiv") for p in papers]
    assert matches[0].citation.note == "Read first"


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_large_imports_take_one_query_per_kind_and_batch(
    sessions: sessionmaker[Session], engine: Engine, shared_data: Path, tmp_path: Path
) -> None:
    count = IN_CHUNK + 300
    Ingestor(sessions).ingest_paths([write_rekeyed_snapshot(shared_data, tmp_path / "big.jsonl", count)])
    with sessions() as session:
        papers = session.scalars(select(Paper).order_by(Paper.id)).all()
    assert len(papers) == count
    by_id = [Citation(title="", arxiv_id=p.id) for p in papers]
    by_title = [Citation(title=p.title.upper()) for p in papers]
    with sessions() as session, _statements(engine) as seen:
        matches = match_citations(session, by_id + by_title)
    assert [m.paper_id for m in matches] == [p.id for p in papers] * 2
    assert [m.how for m in matches] == ["arxiv"] * count + ["title"] * count
    # Two batches of arXiv ids, two of titles; no entry was left for the DOI look-up.
    assert len(seen) == 4, seen

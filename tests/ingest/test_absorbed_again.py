"""A listing paper absorbed by its arXiv paper, re-created later and absorbed by the same paper again.

Once the arXiv paper takes a new title (a new version), the listing's title matches nothing stored, so
reading the listing again re-creates its local ``dp-`` paper under the same id. The next record of the
arXiv paper with the old title absorbs it a second time: the alias ``dp-... -> arXiv id`` is already
there, and the merge must keep one alias row rather than insert a second (a UNIQUE error once).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.config import Settings
from dailypapers.ingest.pipeline import Ingestor, IngestReport
from dailypapers.ingest.records import FeedRecord, PaperRecord, Source, Version
from dailypapers.models import Comment, FeedEntry, Paper, PaperActivity, PaperAlias, Vote
from dailypapers.web.app import create_app

NOW = datetime(2026, 6, 13, 9, 0, tzinfo=UTC)
ARXIV_ID = "2606.04321"
TITLE = "Retrieval Heads Explain Long Context Recall"
NEW_TITLE = "Retrieval Heads and Long Context Recall, Revisited"
ABSTRACT = "We find the attention heads that retrieve."
V1 = datetime(2026, 6, 10, 17, 0, tzinfo=UTC)
V2 = datetime(2026, 6, 12, 17, 0, tzinfo=UTC)
DAY = date(2026, 6, 12)


def listing() -> PaperRecord:
    """The paper as a copied Daily Papers page shows it: a title and an abstract, nothing else."""
    return PaperRecord(source=Source.LISTING, title=TITLE, abstract=ABSTRACT)


def hugging_face() -> PaperRecord:
    return PaperRecord(
        source=Source.HUGGINGFACE,
        title=TITLE,
        abstract=ABSTRACT,
        arxiv_id=ARXIV_ID,
        feed=FeedRecord(day=DAY, submitted_by="akhaliq", upvotes=7, num_comments=0),
    )


def arxiv(source: Source, title: str, version: int) -> PaperRecord:
    versions = [Version(1, V1), Version(2, V2)][:version]
    return PaperRecord(
        source=source,
        title=title,
        abstract=ABSTRACT,
        arxiv_id=ARXIV_ID,
        authors=["Ada Lovelace"],
        categories=["cs.CL"],
        version=version,
        versions=versions,
        published=V1,
        updated=versions[-1].date,
    )


def ingest(sessions: sessionmaker[Session], record: PaperRecord) -> IngestReport:
    report = Ingestor(sessions, now=lambda: NOW).ingest_records([record], label="test")
    assert report.rejected == 0
    return report


def local_paper_id(sessions: sessionmaker[Session]) -> str:
    with sessions() as session:
        (local_id,) = session.scalars(select(Paper.id).where(Paper.id.like("dp-%"))).all()
        return local_id


def user(session: Session, name: str) -> int:
    created = store.create_user(
        session, username=name, email=f"{name}@example.org", password_hash="x", security_stamp="s", now=NOW
    )
    session.flush()
    return created.id


def test_a_listing_paper_absorbed_twice_by_one_arxiv_paper_keeps_one_alias(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    # 1-2. The listing's paper, then the arXiv paper of the same title, which absorbs it.
    ingest(sessions, listing())
    local_id = local_paper_id(sessions)
    ingest(sessions, hugging_face())
    with sessions() as session:
        assert store.paper_alias_target(session, paper_id=local_id) == ARXIV_ID
        ada = user(session, "ada")
        store.add_vote(session, user_id=ada, paper_id=ARXIV_ID, now=NOW)
        store.add_comment(
            session, paper_id=ARXIV_ID, user_id=ada, body="On the paper", parent_id=None, now=NOW
        )
        session.commit()

    # 3-4. Version 2 renames the paper, so the listing read again re-creates its local paper.
    ingest(sessions, arxiv(Source.ARXIV_API, NEW_TITLE, version=2))
    ingest(sessions, listing())
    assert local_paper_id(sessions) == local_id
    with sessions() as session:
        bob = user(session, "bob")
        store.add_vote(session, user_id=bob, paper_id=local_id, now=NOW)
        store.add_vote(session, user_id=ada, paper_id=local_id, now=NOW)
        store.add_comment(
            session, paper_id=local_id, user_id=bob, body="On the listing", parent_id=None, now=NOW
        )
        session.commit()

    # 5. An older description of the paper from another source, under the first title, absorbs it again.
    ingest(sessions, arxiv(Source.ARXIV_OAI, TITLE, version=1))
    with sessions() as session:
        assert session.get(Paper, local_id) is None
        aliases = session.execute(select(PaperAlias.id, PaperAlias.paper_id)).all()
        assert [tuple(row) for row in aliases] == [(local_id, ARXIV_ID)]
        assert store.paper_alias_target(session, paper_id=local_id) == ARXIV_ID
        paper = session.get(Paper, ARXIV_ID)
        assert paper is not None and paper.title == NEW_TITLE
        # Ada's vote on each counts once; Bob's follows the listing paper; both comments stay.
        voters = session.scalars(select(Vote.user_id).where(Vote.paper_id == ARXIV_ID)).all()
        assert sorted(voters) == [ada, bob]
        bodies = session.scalars(select(Comment.body).where(Comment.paper_id == ARXIV_ID)).all()
        assert sorted(bodies) == ["On the listing", "On the paper"]
        activity = session.get(PaperActivity, ARXIV_ID)
        assert activity is not None and (activity.upvotes, activity.comments) == (2, 2)
        entry = session.scalar(select(FeedEntry).where(FeedEntry.paper_id == ARXIV_ID))
        assert entry is not None and (entry.day, entry.upvotes) == (DAY, 7)
        assert session.scalar(select(func.count()).select_from(FeedEntry)) == 1

    with TestClient(create_app(settings, now=lambda: NOW)) as client:
        page = client.get(f"/papers/{local_id}", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (301, f"/papers/{ARXIV_ID}")


def test_a_local_paper_absorbed_again_by_another_arxiv_paper_moves_its_alias(
    sessions: sessionmaker[Session],
) -> None:
    other_id = "2606.09876"
    ingest(sessions, listing())
    local_id = local_paper_id(sessions)
    ingest(sessions, hugging_face())
    ingest(sessions, arxiv(Source.ARXIV_API, NEW_TITLE, version=2))
    ingest(sessions, listing())
    # Another arXiv paper now carries the listing's title: it absorbs the local paper, and the old id
    # leads to the paper it was absorbed into last.
    other = arxiv(Source.ARXIV_API, TITLE, version=1)
    other.arxiv_id = other_id
    ingest(sessions, other)
    with sessions() as session:
        assert session.get(Paper, local_id) is None
        aliases = session.execute(select(PaperAlias.id, PaperAlias.paper_id)).all()
        assert [tuple(row) for row in aliases] == [(local_id, other_id)]
        assert store.paper_alias_target(session, paper_id=local_id) == other_id
        assert sorted(session.scalars(select(Paper.id))) == [ARXIV_ID, other_id]

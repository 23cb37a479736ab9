"""A paper known only from a pasted listing (``dp-...``) that is later merged into its arXiv paper keeps
its places in collections, notes included, as it keeps its votes and comments."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community import library
from tests.community.support import make_user
from tests.ingest.test_absorbed_again import ARXIV_ID, NOW, hugging_face, ingest, listing, local_paper_id


def test_a_merged_listing_paper_stays_in_its_collections(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, listing())
    local_id = local_paper_id(sessions)
    ada = make_user(sessions, "ada")
    with sessions.begin() as session:
        kept = library.create_collection(session, user=ada, name="To read", now=NOW)
        library.add_paper(
            session, user=ada, collection_id=kept.id, paper_id=local_id, note="from the list", now=NOW
        )
        library.save_paper(session, user=ada, paper_id=local_id, now=NOW)
        collection_id = kept.id
    ingest(sessions, hugging_face())
    with sessions() as session:
        assert not store.paper_exists(session, paper_id=local_id)
        entries = store.collection_entries(session, collection_id=collection_id)
        assert [(e.paper_id, e.note) for e in entries] == [(ARXIV_ID, "from the list")]
        assert store.saved_ids(session, owner_id=ada.id, paper_ids=[ARXIV_ID]) == {ARXIV_ID}

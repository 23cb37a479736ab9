"""The RSS feed of a shared collection: its papers newest-added first, notes escaped, and nothing at all
for a private collection (nor once a shared one is made private again)."""

from __future__ import annotations

import lxml.etree
import lxml.html
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.community import library
from tests.community.support import HF_PAPER, Clock, make_user
from tests.library.support import make_collection

OTHER_PAPER = "2606.13681"


def test_a_shared_collection_has_an_rss_feed(
    client: TestClient, papers: sessionmaker[Session], clock: Clock
) -> None:
    ada = make_user(papers, "ada")
    collection_id = make_collection(papers, ada, "Reading group", shared=True)
    with papers.begin() as session:
        library.add_paper(
            session,
            user=ada,
            collection_id=collection_id,
            paper_id=OTHER_PAPER,
            note="<img src=x onerror=alert(1)>",
            now=clock.now,
        )
        clock.advance(minutes=5)
        library.add_paper(session, user=ada, collection_id=collection_id, paper_id=HF_PAPER, now=clock.now)
    answer = client.get("/u/ada/c/reading-group/rss")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert answer.headers["cache-control"] == "no-cache"
    channel = lxml.etree.fromstring(answer.content).find("channel")
    assert channel.findtext("title") == "Reading group · ada · Daily Papers"
    assert channel.findtext("link") == "http://testserver/u/ada/c/reading-group"
    items = channel.findall("item")
    assert [item.findtext("link") for item in items] == [
        f"http://testserver/papers/{HF_PAPER}",
        f"http://testserver/papers/{OTHER_PAPER}",
    ]
    # The description is HTML whose text is the note: the tag in the note is text, not an element.
    description = lxml.html.fromstring(items[1].findtext("description"))
    assert not description.xpath("//img")
    assert "Note: <img src=x onerror=alert(1)>" in description.text_content()


def test_a_private_collection_has_no_feed(
    client: TestClient, papers: sessionmaker[Session], clock: Clock
) -> None:
    ada = make_user(papers, "ada")
    collection_id = make_collection(papers, ada, "Reading group", papers=(HF_PAPER,))
    assert client.get("/u/ada/c/reading-group/rss").status_code == 404
    with papers.begin() as session:
        library.set_shared(session, user=ada, collection_id=collection_id, shared=True, now=clock.now)
    assert client.get("/u/ada/c/reading-group/rss").status_code == 200
    with papers.begin() as session:
        library.set_shared(session, user=ada, collection_id=collection_id, shared=False, now=clock.now)
    gone = client.get("/u/ada/c/reading-group/rss")
    assert gone.status_code == 404 and HF_PAPER not in gone.text
    assert client.get("/u/nobody/c/reading-group/rss").status_code == 404

"""Collections in the JSON API: the token owner's list, a shared collection for anyone, a private one for
its owner's token alone, and adding and taking out papers with a token, idempotently."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.models import User
from tests.community.support import HF_PAPER, make_token, make_user
from tests.library.support import make_collection

OTHER_PAPER = "2606.13681"


@pytest.fixture
def tokens(papers: sessionmaker[Session]) -> dict[str, str]:
    ada, mallory = make_user(papers, "ada"), make_user(papers, "mallory")
    return {"ada": make_token(papers, ada), "mallory": make_token(papers, mallory)}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _user(sessions: sessionmaker[Session], name: str) -> User:
    with sessions() as session:
        found = store.user_by_name(session, username=name)
        assert found is not None
        return found


def _entries(sessions: sessionmaker[Session], name: str, slug: str) -> list[tuple[str, str]] | None:
    with sessions() as session:
        owner = store.user_by_name(session, username=name)
        assert owner is not None
        found = store.collection_by_slug(session, owner_id=owner.id, slug=slug)
        if found is None:
            return None
        return [(e.paper_id, e.note) for e in store.collection_entries(session, collection_id=found.id)]


def test_the_token_owner_lists_their_collections(
    client: TestClient, papers: sessionmaker[Session], tokens: dict[str, str]
) -> None:
    assert client.get("/api/collections").status_code == 401
    bad = client.get("/api/collections", headers=_auth("dp_not-a-token"))
    assert bad.status_code == 401 and bad.json()["error"].startswith("This API token is not valid")
    make_collection(papers, _user(papers, "ada"), "Reading group", papers=(HF_PAPER,))
    make_collection(papers, _user(papers, "mallory"), "Secret", papers=(HF_PAPER,))
    listed = client.get("/api/collections", headers=_auth(tokens["ada"]))
    assert listed.status_code == 200
    (only,) = listed.json()["collections"]
    assert {k: only[k] for k in ("owner", "slug", "name", "shared", "numPapers", "url")} == {
        "owner": "ada",
        "slug": "reading-group",
        "name": "Reading group",
        "shared": False,
        "numPapers": 1,
        "url": "http://testserver/u/ada/c/reading-group",
    }


def test_a_shared_collection_is_open_and_a_private_one_only_to_its_owner(
    client: TestClient, papers: sessionmaker[Session], tokens: dict[str, str]
) -> None:
    ada = _user(papers, "ada")
    make_collection(papers, ada, "Open", shared=True, papers=(HF_PAPER,), notes={HF_PAPER: "read"})
    make_collection(papers, ada, "Closed", papers=(OTHER_PAPER,), notes={OTHER_PAPER: "secret note"})
    shared = client.get("/api/collections/ada/open")
    assert shared.status_code == 200
    body = shared.json()
    assert (body["shared"], body["numPapers"]) == (True, 1)
    assert [(p["id"], p["note"], p["url"]) for p in body["papers"]] == [
        (HF_PAPER, "read", f"http://testserver/papers/{HF_PAPER}")
    ]
    for headers in ({}, _auth(tokens["mallory"])):
        hidden = client.get("/api/collections/ada/closed", headers=headers)
        assert hidden.status_code == 404 and "secret" not in hidden.text
        assert hidden.json()["error"] == "There is no collection 'closed' of 'ada' here."
    own = client.get("/api/collections/ada/closed", headers=_auth(tokens["ada"]))
    assert own.status_code == 200 and own.json()["papers"][0]["note"] == "secret note"
    assert client.get("/api/collections/ada/open", headers=_auth("dp_wrong")).status_code == 401
    assert client.get("/api/collections/nobody/open").status_code == 404


def test_adding_and_taking_out_papers_with_a_token_is_idempotent(
    client: TestClient, papers: sessionmaker[Session], tokens: dict[str, str]
) -> None:
    url = "/api/collections/ada/saved/papers"
    assert client.post(url, json={"id": HF_PAPER}).status_code == 401
    first = client.post(
        url, json={"id": f"https://arxiv.org/abs/{HF_PAPER}v1", "note": "first"}, headers=_auth(tokens["ada"])
    )
    assert (first.status_code, first.json()) == (
        201,
        {"paperId": HF_PAPER, "inCollection": True, "changed": True},
    )
    again = client.post(url, json={"id": HF_PAPER, "note": "second"}, headers=_auth(tokens["ada"]))
    assert (again.status_code, again.json()["changed"]) == (200, False)
    assert _entries(papers, "ada", "saved") == [(HF_PAPER, "first")]
    for changed in (True, False):
        out = client.delete(f"{url}/{HF_PAPER}", headers=_auth(tokens["ada"]))
        assert out.status_code == 200
        assert out.json() == {"paperId": HF_PAPER, "inCollection": False, "changed": changed}
    assert _entries(papers, "ada", "saved") == []
    nul = client.delete(f"{url}/%00", headers=_auth(tokens["ada"]))
    assert (nul.status_code, nul.json()["changed"]) == (200, False)
    missing = client.post(url, json={"id": "9999.99999"}, headers=_auth(tokens["ada"]))
    assert missing.status_code == 404
    too_long = client.post(url, json={"id": HF_PAPER, "note": "n" * 5_001}, headers=_auth(tokens["ada"]))
    assert too_long.status_code == 422 and "note" in too_long.json()["problems"][0]


def test_another_token_cannot_change_a_collection(
    client: TestClient, papers: sessionmaker[Session], tokens: dict[str, str]
) -> None:
    ada = _user(papers, "ada")
    make_collection(papers, ada, "Open", shared=True, papers=(HF_PAPER,))
    make_collection(papers, ada, "Closed", papers=(HF_PAPER,))
    with papers.begin() as session:
        from dailypapers.community import library

        library.save_paper(session, user=ada, paper_id=HF_PAPER, now=ada.created_at)
    mallory = _auth(tokens["mallory"])
    refused = client.post("/api/collections/ada/open/papers", json={"id": OTHER_PAPER}, headers=mallory)
    assert (refused.status_code, refused.json()["error"]) == (
        403,
        "Only the owner of a collection can change it.",
    )
    assert client.delete(f"/api/collections/ada/open/papers/{HF_PAPER}", headers=mallory).status_code == 403
    for slug in ("closed", "saved"):
        hidden = client.post(f"/api/collections/ada/{slug}/papers", json={"id": OTHER_PAPER}, headers=mallory)
        assert hidden.status_code == 404, slug
        assert (
            client.delete(f"/api/collections/ada/{slug}/papers/{HF_PAPER}", headers=mallory).status_code
            == 404
        )
    for slug in ("open", "closed", "saved"):
        assert _entries(papers, "ada", slug) == [(HF_PAPER, "")], slug
    # Mallory's attempts made her nothing either.
    with papers() as session:
        assert store.collections_of(session, owner_id=_user(papers, "mallory").id) == []

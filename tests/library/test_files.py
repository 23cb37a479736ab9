"""Reference files and collections on the site: export any collection one may read as BibTeX, RIS and
CSL-JSON, import a file into a collection (new or existing) with a summary of what was found, fetch the
papers with an arXiv id the site lacks from arXiv (a recorded answer on loopback), and the round trip:
each format exported and imported again gives the same papers and notes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.config import Settings
from dailypapers.models import Paper, User
from tests.community.support import (
    ATOM_FOR_SUBMISSION,
    SUBMITTED_ID,
    Clock,
    app_client,
    form_fields,
    log_in,
    make_user,
)
from tests.library.support import make_collection
from tests.replay import ReplayServer, Reply
from tests.web.pagecheck import assert_page_hygiene, parse, text_of

PAPERS = ("2607.23193", "2606.13681", "2606.13392")
NOTES = {
    "2607.23193": "Read §3 first.\n\nThen the appendix.",
    "2606.13392": "Sparse attention, a baseline & more",
}
FORMATS = {
    "bibtex": ("application/x-bibtex; charset=utf-8", ".bib"),
    "ris": ("application/x-research-info-systems; charset=utf-8", ".ris"),
    "csl-json": ("application/vnd.citationstyles.csl+json; charset=utf-8", ".json"),
}


@pytest.fixture
def ada(papers: sessionmaker[Session]) -> User:
    return make_user(papers, "ada")


@pytest.fixture
def ada_client(client: TestClient, ada: User) -> TestClient:
    assert log_in(client, "ada").status_code == 303
    return client


def _entries(sessions: sessionmaker[Session], user: User, slug: str) -> dict[str, str]:
    with sessions() as session:
        found = store.collection_by_slug(session, owner_id=user.id, slug=slug)
        assert found is not None, slug
        return {e.paper_id: e.note for e in store.collection_entries(session, collection_id=found.id)}


def _upload(client: TestClient, action: str, filename: str, data: bytes, **fields: str) -> Any:
    csrf = form_fields(client.get("/library").text, "/library")["csrf_token"]
    return client.post(
        action, data={"csrf_token": csrf, **fields}, files={"file": (filename, data)}, follow_redirects=False
    )


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_export_imports_again_as_the_same_papers_and_notes(
    ada_client: TestClient, papers: sessionmaker[Session], ada: User, fmt: str
) -> None:
    make_collection(papers, ada, "Reading group", papers=PAPERS, notes=NOTES)
    exported = ada_client.get(f"/u/ada/c/reading-group/export/{fmt}")
    assert exported.status_code == 200
    media_type, extension = FORMATS[fmt]
    assert exported.headers["content-type"] == media_type
    assert exported.headers["content-disposition"] == f'attachment; filename="ada-reading-group{extension}"'
    assert exported.headers["cache-control"] == "no-store"
    answer = _upload(
        ada_client, "/library/import", f"ada-reading-group{extension}", exported.content, name=f"Again {fmt}"
    )
    assert answer.status_code == 200, answer.text
    tree = parse(answer)
    assert_page_hygiene(tree)
    assert text_of(tree.xpath("//p[@class='import-counts']")[0]) == (
        "3 matched by arXiv id, 0 by DOI, 0 by title, 0 not found."
    )
    assert "3 papers added to the collection." in text_of(tree)
    assert _entries(papers, ada, f"again-{fmt}") == {paper_id: NOTES.get(paper_id, "") for paper_id in PAPERS}


def test_the_collection_page_links_the_exports_and_the_import(
    ada_client: TestClient, papers: sessionmaker[Session], ada: User
) -> None:
    collection_id = make_collection(papers, ada, "Reading group", papers=PAPERS[:1])
    tree = parse(ada_client.get("/u/ada/c/reading-group"))
    assert_page_hygiene(tree)
    links = {text_of(a): a.get("href") for a in tree.xpath("//p[@class='export-links']/a")}
    assert links == {
        "BibTeX": "/u/ada/c/reading-group/export/bibtex",
        "RIS": "/u/ada/c/reading-group/export/ris",
        "CSL-JSON": "/u/ada/c/reading-group/export/csl-json",
    }
    (form,) = tree.xpath(f"//form[@action='/library/{collection_id}/import']")
    assert form.get("enctype") == "multipart/form-data"


def test_a_collection_is_exported_to_whoever_may_read_it(
    settings: Settings, client: TestClient, papers: sessionmaker[Session], clock: Clock, ada: User
) -> None:
    make_collection(papers, ada, "Private", papers=PAPERS[:1], notes={PAPERS[0]: "secret"})
    make_collection(papers, ada, "Open", shared=True, papers=PAPERS[:1])
    make_user(papers, "mallory")
    with app_client(settings, clock) as mallory:
        log_in(mallory, "mallory")
        for reader in (client, mallory):
            hidden = reader.get("/u/ada/c/private/export/bibtex")
            assert hidden.status_code == 404 and "secret" not in hidden.text
            assert reader.get("/u/ada/c/open/export/ris").status_code == 200
    assert PAPERS[0] in client.get("/u/ada/c/open/export/csl-json").text
    unknown = client.get("/u/ada/c/open/export/docx")
    assert unknown.status_code == 404 and "exported as bibtex, ris, csl-json" in text_of(parse(unknown))


BIBTEX = b"""
@article{byid, title = {Something else entirely}, eprint = {2607.23193v2}, archivePrefix = {arXiv}}
@article{bydoi, title = {A title that is not on the site}, doi = {10.1234/EvoArena.2026}}
@misc{bytitle, title = {{MiniMax} Sparse Attention}, author = {Someone}}
@article{missing, title = {A paper nobody has}, author = {Nobody, Noone}, year = {1999}, doi = {10.5555/none}}
@article{broken, title = {Unclosed
"""


def test_an_import_says_what_matched_how_and_lists_what_was_not_found(
    ada_client: TestClient, papers: sessionmaker[Session], ada: User
) -> None:
    with papers.begin() as session:
        session.execute(update(Paper).where(Paper.id == "2606.13681").values(doi="10.1234/evoarena.2026"))
    collection_id = make_collection(papers, ada, "Reading group", papers=("2607.23193",))
    answer = _upload(ada_client, f"/library/{collection_id}/import", "zotero.bib", BIBTEX)
    assert answer.status_code == 200
    tree = parse(answer)
    assert text_of(tree.xpath("//p[@class='import-counts']")[0]) == (
        "1 matched by arXiv id, 1 by DOI, 1 by title, 1 not found."
    )
    assert "2 papers added to the collection, 1 already in it." in text_of(tree)
    (unmatched,) = tree.xpath("//ol[@class='unmatched']/li")
    assert text_of(unmatched) == "A paper nobody has, Noone Nobody (1999) · DOI 10.5555/none"
    assert tree.xpath("//ul[@class='problems']/li"), "the broken entry is named"
    assert set(_entries(papers, ada, "reading-group")) == {"2607.23193", "2606.13681", "2606.13392"}


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"", "The file could not be read"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "The file could not be read"),
        (b"just some words, no references", "The file could not be read"),
    ],
)
def test_an_unreadable_file_gets_a_page_that_says_so(
    ada_client: TestClient, papers: sessionmaker[Session], ada: User, data: bytes, said: str
) -> None:
    collection_id = make_collection(papers, ada)
    answer = _upload(ada_client, f"/library/{collection_id}/import", "file.bib", data)
    assert answer.status_code == 422
    tree = parse(answer)
    assert_page_hygiene(tree)
    assert said in text_of(tree) and "BibTeX (.bib), RIS (.ris) and CSL-JSON" in text_of(tree)
    assert _entries(papers, ada, "reading-group") == {}


def test_an_import_without_a_file_or_into_someone_elses_collection_is_refused(
    settings: Settings, ada_client: TestClient, papers: sessionmaker[Session], clock: Clock, ada: User
) -> None:
    collection_id = make_collection(papers, ada)
    csrf = form_fields(ada_client.get("/library").text, "/library")["csrf_token"]
    empty = ada_client.post(f"/library/{collection_id}/import", data={"csrf_token": csrf})
    assert empty.status_code == 422 and "file: Choose a BibTeX, RIS or CSL-JSON file" in text_of(parse(empty))
    make_user(papers, "mallory")
    with app_client(settings, clock) as mallory:
        log_in(mallory, "mallory")
        answer = _upload(mallory, f"/library/{collection_id}/import", "x.bib", BIBTEX)
        assert answer.status_code == 404
    assert _entries(papers, ada, "reading-group") == {}


@pytest.fixture
def arxiv(shared_data: Path) -> Iterator[ReplayServer]:
    server = ReplayServer()
    recorded = (shared_data / ATOM_FOR_SUBMISSION).read_bytes()
    server.routes["/api/query"] = lambda request: Reply(
        body=recorded, headers={"Content-Type": "application/atom+xml"}
    )
    server.routes["/down/api/query"] = lambda request: Reply(status=503, body=b"down")
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("up", [True, False])
def test_papers_new_to_the_site_are_fetched_from_arxiv(
    settings: Settings, papers: sessionmaker[Session], clock: Clock, arxiv: ReplayServer, up: bool
) -> None:
    configured = settings.model_copy(
        update={"arxiv_api_url": arxiv.url("/api/query" if up else "/down/api/query"), "http_max_retries": 0}
    )
    ada = make_user(papers, "ada")
    file = json.dumps(
        [{"type": "article", "title": "Recorded", "URL": f"https://arxiv.org/abs/{SUBMITTED_ID}"}]
    )
    with app_client(configured, clock) as client:
        log_in(client, "ada")
        answer = _upload(client, "/library/import", "My Library.json", file.encode())
    tree = parse(answer)
    counts = text_of(tree.xpath("//p[@class='import-counts']")[0])
    entries = _entries(papers, ada, "my-library")
    if up:
        assert counts == "1 matched by arXiv id, 0 by DOI, 0 by title, 0 not found."
        assert "1 paper fetched from arXiv, new on this site." in text_of(tree)
        assert list(entries) == [SUBMITTED_ID]
    else:
        assert counts == "0 matched by arXiv id, 0 by DOI, 0 by title, 1 not found."
        (unmatched,) = tree.xpath("//ol[@class='unmatched']/li")
        assert "arXiv could not be reached in time to fetch it" in text_of(unmatched)
        assert entries == {}
        with papers() as session:
            assert not store.paper_exists(session, paper_id=SUBMITTED_ID)


def test_an_unreadable_file_makes_no_new_collection(
    ada_client: TestClient, papers: sessionmaker[Session], ada: User
) -> None:
    answer = _upload(ada_client, "/library/import", "notes.txt", b"just some words, no references")
    assert answer.status_code == 422 and "The file could not be read" in text_of(parse(answer))
    with papers() as session:
        assert store.collections_of(session, owner_id=ada.id) == []
    named = _upload(ada_client, "/library/import", "My Zotero Library.bib", BIBTEX)
    assert named.status_code == 200
    with papers() as session:
        assert [c.name for c in store.collections_of(session, owner_id=ada.id)] == ["My Zotero Library"]

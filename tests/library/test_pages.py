"""The library on the site, read with an HTML parser: Save and Unsave from cards and paper pages without
a script, the reader's library, a collection's page for its owner, for others and for nobody signed in,
notes, and hostile input answered with a page that says what is wrong.

The Save button with a script (fetch, no reload) is in ``test_browser.py``; here its JSON answer is.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.config import Settings
from dailypapers.models import Collection, CollectionPaper, User
from tests.community.support import HF_PAPER, Clock, app_client, form_fields, log_in, make_user
from tests.library.support import make_collection, post_form, save_buttons
from tests.web.pagecheck import assert_page_hygiene, parse, text_of

OTHER_PAPER = "2606.13681"  # on the feed of 2026-06-12
DAY = "/date/2026-06-12"


@pytest.fixture
def ada(papers: sessionmaker[Session]) -> User:
    return make_user(papers, "ada")


@pytest.fixture
def ada_client(client: TestClient, ada: User) -> TestClient:
    assert log_in(client, "ada").status_code == 303
    return client


def _saved(sessions: sessionmaker[Session], user: User) -> list[str]:
    with sessions() as session:
        default = store.find_default_collection_id(session, owner_id=user.id)
        if default is None:
            return []
        return [e.paper_id for e in store.collection_entries(session, collection_id=default)]


def _rows(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Collection)) or 0),
            int(session.scalar(select(func.count()).select_from(CollectionPaper)) or 0),
        )


# -- Save and Unsave ---------------------------------------------------------------------------------


def test_save_from_a_card_without_script_comes_back_and_shows_saved(
    ada_client: TestClient, papers: sessionmaker[Session], ada: User
) -> None:
    (button,) = save_buttons(ada_client.get(DAY).text, OTHER_PAPER)
    assert (button.get("aria-pressed"), text_of(button).split(":")[0]) == ("false", "Save")
    answer = post_form(ada_client, DAY, f"/papers/{OTHER_PAPER}/save")
    assert (answer.status_code, answer.headers["location"]) == (303, DAY)
    page = ada_client.get(DAY).text
    (button,) = save_buttons(page, OTHER_PAPER)
    assert (button.get("aria-pressed"), text_of(button).split(":")[0]) == ("true", "Saved")
    assert form_fields(page, f"/papers/{OTHER_PAPER}/save")["action"] == "remove"
    assert _saved(papers, ada) == [OTHER_PAPER]
    # Saving again (a second tab, an old page) changes nothing.
    fields = {**form_fields(page, f"/papers/{OTHER_PAPER}/save"), "action": "add"}
    assert (
        ada_client.post(f"/papers/{OTHER_PAPER}/save", data=fields, follow_redirects=False).status_code == 303
    )
    assert _saved(papers, ada) == [OTHER_PAPER]
    assert post_form(ada_client, DAY, f"/papers/{OTHER_PAPER}/save").status_code == 303  # the button: remove
    assert _saved(papers, ada) == []
    (button,) = save_buttons(ada_client.get(DAY).text, OTHER_PAPER)
    assert button.get("aria-pressed") == "false"


def test_save_answers_json_to_the_script_and_is_idempotent(
    ada_client: TestClient, papers: sessionmaker[Session], ada: User
) -> None:
    fields = form_fields(ada_client.get(f"/papers/{HF_PAPER}").text, f"/papers/{HF_PAPER}/save")
    json = {"accept": "application/json"}
    for _ in range(2):
        answer = ada_client.post(f"/papers/{HF_PAPER}/save", data={**fields, "action": "add"}, headers=json)
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
        assert answer.json() == {"paperId": HF_PAPER, "saved": True, "collection": "/u/ada/c/saved"}
    assert _saved(papers, ada) == [HF_PAPER]
    for _ in range(2):
        answer = ada_client.post(
            f"/papers/{HF_PAPER}/save", data={**fields, "action": "remove"}, headers=json
        )
        assert answer.json()["saved"] is False
    assert _saved(papers, ada) == []
    missing = ada_client.post("/papers/9999.99999/save", data=fields, headers=json)
    assert missing.status_code == 404


def test_the_paper_page_has_a_save_button_and_asks_visitors_to_log_in(
    client: TestClient, papers: sessionmaker[Session], ada: User
) -> None:
    anonymous = parse(client.get(f"/papers/{HF_PAPER}"))
    (link,) = anonymous.xpath("//section[@id='library']//a[contains(@class, 'save-link')]")
    assert link.get("href") == f"/login?next=/papers/{HF_PAPER}"
    card_link = parse(client.get(DAY)).xpath(
        f"//a[contains(@class, 'save-link')][contains(@href, '{OTHER_PAPER}')]"
    )
    assert len(card_link) == 1
    assert (
        client.post(f"/papers/{HF_PAPER}/save", follow_redirects=False)
        .headers["location"]
        .startswith("/login")
    )
    log_in(client, "ada")
    tree = parse(client.get(f"/papers/{HF_PAPER}"))
    assert_page_hygiene(tree)
    (button,) = tree.xpath("//section[@id='library']//button[contains(@class, 'save-button')]")
    assert text_of(button) == "Save"
    post_form(client, f"/papers/{HF_PAPER}", f"/papers/{HF_PAPER}/save")
    (button,) = parse(client.get(f"/papers/{HF_PAPER}")).xpath("//section[@id='library']//button")
    assert (text_of(button), button.get("aria-pressed")) == ("Saved", "true")
    assert _saved(papers, ada) == [HF_PAPER]


def test_the_profile_shows_what_the_viewer_saved(
    ada_client: TestClient, papers: sessionmaker[Session], ada: User
) -> None:
    with papers.begin() as session:
        store.add_vote(session, user_id=ada.id, paper_id=OTHER_PAPER, now=ada.created_at)
    post_form(ada_client, DAY, f"/papers/{OTHER_PAPER}/save")
    (button,) = save_buttons(ada_client.get("/u/ada").text, OTHER_PAPER)
    assert button.get("aria-pressed") == "true"


# -- the library page --------------------------------------------------------------------------------


def test_the_library_needs_an_account_and_lists_the_readers_collections(
    client: TestClient, papers: sessionmaker[Session], ada: User
) -> None:
    assert client.get("/library", follow_redirects=False).headers["location"] == "/login?next=/library"
    log_in(client, "ada")
    empty = parse(client.get("/library"))
    assert_page_hygiene(empty)
    assert "Nothing saved yet" in text_of(empty)
    made = post_form(client, "/library", "/library", name="Reading group: week 3", description="For Tuesday")
    assert (made.status_code, made.headers["location"]) == (303, "/u/ada/c/reading-group-week-3")
    post_form(client, DAY, f"/papers/{OTHER_PAPER}/save")
    make_collection(papers, make_user(papers, "mallory"), "Mallory's secrets")
    tree = parse(client.get("/library"))
    rows = [text_of(row) for row in tree.xpath("//li[@class='collection-row']")]
    assert len(rows) == 2
    assert rows[0].startswith("Saved 1 paper · private")
    assert rows[1].startswith("Reading group: week 3 0 papers · private") and "For Tuesday" in rows[1]
    assert "Mallory" not in text_of(tree)
    hrefs = [a.get("href") for a in tree.xpath("//h2[@class='collection-name']/a")]
    assert hrefs == ["/u/ada/c/saved", "/u/ada/c/reading-group-week-3"]


def test_a_private_collection_is_a_404_to_others_until_it_is_shared(
    settings: Settings, client: TestClient, papers: sessionmaker[Session], clock: Clock, ada: User
) -> None:
    collection_id = make_collection(
        papers, ada, papers=(HF_PAPER,), notes={HF_PAPER: "Read <b>section</b> 3"}
    )
    make_user(papers, "mallory")
    path = "/u/ada/c/reading-group"
    with app_client(settings, clock) as mallory:
        log_in(mallory, "mallory")
        for reader in (client, mallory):
            hidden = reader.get(path)
            assert hidden.status_code == 404
            assert "There is no collection 'reading-group' of 'ada' here." in text_of(parse(hidden))
            assert "section" not in hidden.text and HF_PAPER not in hidden.text
            assert reader.get(path + "/rss").status_code == 404
        # Answered in the same words as a collection that does not exist.
        nothing, unshared = client.get("/u/ada/c/nothing"), client.get(path)
        assert text_of(parse(nothing)).replace("nothing", "reading-group") == text_of(parse(unshared))
        with app_client(settings, clock) as owner:
            log_in(owner, "ada")
            shared = post_form(owner, "/library", f"/library/{collection_id}/share")
            assert (shared.status_code, shared.headers["location"]) == (303, "/library")
            assert "shared" in text_of(parse(owner.get("/library")).xpath("//li[@class='collection-row']")[0])
        for reader in (client, mallory):
            page = parse(reader.get(path))
            assert_page_hygiene(page)
            assert text_of(page.xpath("//h1")[0]) == "Reading group"
            assert "A collection of ada · 1 paper · shared" in text_of(page)
            (card,) = page.xpath("//ol[contains(@class, 'collection-cards')]/li[@class='card']")
            assert card.xpath(f".//h2/a[@href='/papers/{HF_PAPER}']")
            assert text_of(card.xpath(".//p[@class='note-text']")[0]) == "Note Read <b>section</b> 3"
            assert not page.xpath("//form[starts-with(@action, '/library/')]"), (
                "others get no forms to change it"
            )
            assert page.xpath("//a[text()='RSS']")[0].get("href") == path + "/rss"
        with app_client(settings, clock) as owner:
            log_in(owner, "ada")
            post_form(owner, path, f"/library/{collection_id}/share")  # the button now makes it private
        assert client.get(path).status_code == mallory.get(path).status_code == 404


def test_the_owner_adds_notes_renames_and_deletes_from_the_collection_page(
    ada_client: TestClient, papers: sessionmaker[Session], ada: User
) -> None:
    collection_id = make_collection(papers, ada)
    path = "/u/ada/c/reading-group"
    owner_page = parse(ada_client.get(path))
    assert_page_hygiene(owner_page)
    assert "private: only you see it" in text_of(owner_page)
    added = post_form(
        ada_client, path, f"/library/{collection_id}/papers", paper=f"https://arxiv.org/abs/{HF_PAPER}v2"
    )
    assert (added.status_code, added.headers["location"]) == (303, path)
    note_action = f"/library/{collection_id}/papers/{HF_PAPER}/note"
    noted = post_form(ada_client, path, note_action, note="<script>alert(1)</script>\nthen §4")
    assert noted.headers["location"] == f"{path}#paper-{HF_PAPER}"
    page = ada_client.get(path)
    assert "<script>alert(1)</script>" not in page.text
    (note,) = parse(page).xpath("//p[@class='note-text']")
    assert note.text_content() == "Note <script>alert(1)</script>\nthen §4"
    assert form_fields(page.text, note_action)["note"] == "<script>alert(1)</script>\nthen §4"

    renamed = post_form(ada_client, path, f"/library/{collection_id}/edit", name="Group", slug="group")
    assert renamed.headers["location"] == "/u/ada/c/group"
    assert ada_client.get(path).status_code == 404
    taken_out = post_form(ada_client, "/u/ada/c/group", f"/library/{collection_id}/papers/{HF_PAPER}/remove")
    assert taken_out.headers["location"] == "/u/ada/c/group"
    assert "No papers in this collection yet" in ada_client.get("/u/ada/c/group").text

    # Without the script, deleting leads to a page that asks; nothing is deleted until it is confirmed.
    asked = post_form(ada_client, "/u/ada/c/group", f"/library/{collection_id}/delete")
    assert asked.status_code == 200 and "Delete “Group”?" in text_of(parse(asked))
    assert _rows(papers) == (1, 0)
    deleted = ada_client.post(
        f"/library/{collection_id}/delete",
        data=form_fields(asked.text, f"/library/{collection_id}/delete"),
        follow_redirects=False,
    )
    assert (deleted.status_code, deleted.headers["location"]) == (303, "/library")
    assert _rows(papers) == (0, 0)


def test_another_account_gets_404_from_the_forms_of_a_private_collection(
    settings: Settings, papers: sessionmaker[Session], clock: Clock, ada: User
) -> None:
    collection_id = make_collection(papers, ada, papers=(HF_PAPER,), notes={HF_PAPER: "mine"})
    make_user(papers, "mallory")
    with app_client(settings, clock) as mallory:
        log_in(mallory, "mallory")
        csrf = form_fields(mallory.get("/library").text, "/library")["csrf_token"]
        for action, fields in [
            (f"/library/{collection_id}/edit", {"name": "Taken"}),
            (f"/library/{collection_id}/share", {"shared": "yes"}),
            (f"/library/{collection_id}/delete", {"confirmed": "yes"}),
            (f"/library/{collection_id}/delete", {}),
            (f"/library/{collection_id}/papers", {"paper": "2606.13681"}),
            (f"/library/{collection_id}/papers/{HF_PAPER}/note", {"note": "theirs"}),
            (f"/library/{collection_id}/papers/{HF_PAPER}/remove", {}),
        ]:
            answer = mallory.post(action, data={"csrf_token": csrf, **fields}, follow_redirects=False)
            assert answer.status_code == 404, action
            assert f"There is no collection {collection_id} of yours." in text_of(parse(answer))
    with papers() as session:
        (kept,) = store.collections_of(session, owner_id=ada.id)
        entries = store.collection_entries(session, collection_id=collection_id)
    assert (kept.name, kept.shared, kept.papers) == ("Reading group", False, 1)
    assert [(e.paper_id, e.note) for e in entries] == [(HF_PAPER, "mine")]


@pytest.mark.parametrize(
    ("action", "fields", "status", "said"),
    [
        ("/library", {"name": ""}, 422, "name: Give the collection a name."),
        ("/library", {"name": "x" * 101}, 422, "name: A collection's name can have at most 100 characters"),
        ("/library", {"name": "ok", "slug": "../etc"}, 422, "slug: An address can hold lower-case letters"),
        ("/library", {"name": "n" * 13_000}, 422, "name: is too long: at most 12000 characters"),
        ("/library", {"name": "ok", "description": "d" * 2_001}, 422, "at most 2,000 characters"),
        ("/library/{id}/papers/2607.23193/note", {"note": "n" * 5_001}, 422, "A note can have at most 5,000"),
        ("/library/{id}/papers", {"paper": "not a paper"}, 404, "There is no paper 'not a paper' here."),
        ("/library/{id}/papers", {"paper": ""}, 404, "Type the id or link of a paper"),
        ("/library/99999999999/edit", {"name": "x"}, 422, "collection_id: must be at most 2147483647"),
        ("/library/abc/edit", {"name": "x"}, 422, "collection_id: must be a whole number"),
        ("/library/424242/share", {"shared": "yes"}, 404, "There is no collection 424242 of yours."),
        ("/library/{id}/papers/%00/note", {"note": "x"}, 404, "There is no such paper in the collection"),
        ("/library/{id}/papers", {"paper": "2607.23193\x00"}, 404, "There is no such paper here."),
    ],
)
def test_hostile_form_fields_get_a_page_that_says_what_is_wrong(
    ada_client: TestClient,
    papers: sessionmaker[Session],
    ada: User,
    action: str,
    fields: dict[str, str],
    status: int,
    said: str,
) -> None:
    collection_id = make_collection(papers, ada, papers=(HF_PAPER,))
    before = _rows(papers)
    csrf = form_fields(ada_client.get("/library").text, "/library")["csrf_token"]
    answer = ada_client.post(
        action.replace("{id}", str(collection_id)),
        data={"csrf_token": csrf, **fields},
        follow_redirects=False,
    )
    assert answer.status_code == status
    tree = parse(answer)
    assert_page_hygiene(tree)
    assert said in text_of(tree) and "Traceback" not in answer.text
    assert _rows(papers) == before


@pytest.mark.parametrize(
    "path",
    [
        "/u/nobody/c/saved",
        "/u/ada/c/" + "s" * 500,
        "/u/" + "a" * 300 + "/c/x",
        "/u/ada/c/%00",
        "/u/%00/c/saved",
        "/u/ada/c/Saved%0A",
        "/u/ada/c/saved?page=999",
    ],
)
def test_unknown_collections_are_404_pages(client: TestClient, ada: User, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code in (404, 422) and "Traceback" not in answer.text
    assert_page_hygiene(parse(answer))


@pytest.mark.parametrize(
    "path", ["/u/ada/c/%00/rss", "/api/collections/ada/%00", "/api/collections/%00/saved"]
)
def test_unknown_collections_are_404_in_feeds_and_the_api(client: TestClient, ada: User, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404 and "Traceback" not in answer.text


def test_a_user_name_in_another_case_leads_to_the_collection(
    client: TestClient, papers: sessionmaker[Session], ada: User
) -> None:
    make_collection(papers, ada, shared=True)
    moved = client.get("/u/ADA/c/reading-group", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (301, "/u/ada/c/reading-group")

"""The rules of the library, called as the web and the API call them: who may change and read a
collection, what names, addresses and notes may be, the limits, and what goes when something is deleted.

Each refusal is checked with its exact error and words, and each with what did not change, so that a
check taken out of ``community/library.py`` makes a test here fail.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community import library
from dailypapers.errors import NotAllowed, NotFoundError, TooManyRequests
from dailypapers.models import Collection, CollectionPaper, Paper, User
from tests.community.support import HF_PAPER, NOW, invalid, make_user, refused

OTHER_PAPER = "2606.13681"
SLUG_PROBLEM = (
    "An address can hold lower-case letters, digits and hyphens, 1 to 60 of them, and starts and ends "
    "with a letter or digit (for example reading-group)."
)


@pytest.fixture
def people(papers: sessionmaker[Session]) -> Iterator[tuple[User, User]]:
    yield make_user(papers, "ada"), make_user(papers, "mallory")


def _make(
    sessions: sessionmaker[Session], user: User, name: str = "Reading group", *, shared: bool = False
) -> Collection:
    with sessions.begin() as session:
        made = library.create_collection(session, user=user, name=name, shared=shared, now=NOW)
        session.expunge(made)
    return made


def _entries(sessions: sessionmaker[Session], collection_id: int) -> list[tuple[str, str]]:
    with sessions() as session:
        return [(e.paper_id, e.note) for e in store.collection_entries(session, collection_id=collection_id)]


def _row(sessions: sessionmaker[Session], collection_id: int) -> tuple[str, str, bool, str | None] | None:
    with sessions() as session:
        found = store.get_collection(session, collection_id=collection_id)
        return None if found is None else (found.name, found.slug, found.shared, found.description)


# -- ownership ---------------------------------------------------------------------------------------


def test_another_account_cannot_add_to_rename_or_delete_a_private_collection(
    papers: sessionmaker[Session], people: tuple[User, User]
) -> None:
    ada, mallory = people
    kept = _make(papers, ada)
    with papers.begin() as session:
        library.add_paper(session, user=ada, collection_id=kept.id, paper_id=HF_PAPER, note="mine", now=NOW)
    hidden = f"There is no collection {kept.id} of yours."
    attempts = [
        lambda s: library.add_paper(s, user=mallory, collection_id=kept.id, paper_id=OTHER_PAPER, now=NOW),
        lambda s: library.remove_paper(s, user=mallory, collection_id=kept.id, paper_id=HF_PAPER, now=NOW),
        lambda s: library.set_note(
            s, user=mallory, collection_id=kept.id, paper_id=HF_PAPER, note="x", now=NOW
        ),
        lambda s: library.edit_collection(s, user=mallory, collection_id=kept.id, name="Taken", now=NOW),
        lambda s: library.set_shared(s, user=mallory, collection_id=kept.id, shared=True, now=NOW),
        lambda s: library.delete_collection(s, user=mallory, collection_id=kept.id),
    ]
    for attempt in attempts:
        with refused(NotFoundError, hidden), papers.begin() as session:
            attempt(session)
    assert _row(papers, kept.id) == ("Reading group", "reading-group", False, None)
    assert _entries(papers, kept.id) == [(HF_PAPER, "mine")]


def test_another_account_cannot_change_a_shared_collection(
    papers: sessionmaker[Session], people: tuple[User, User]
) -> None:
    ada, mallory = people
    kept = _make(papers, ada, shared=True)
    with papers.begin() as session:
        library.add_paper(session, user=ada, collection_id=kept.id, paper_id=HF_PAPER, now=NOW)
    attempts = [
        lambda s: library.add_paper(s, user=mallory, collection_id=kept.id, paper_id=OTHER_PAPER, now=NOW),
        lambda s: library.remove_paper(s, user=mallory, collection_id=kept.id, paper_id=HF_PAPER, now=NOW),
        lambda s: library.set_note(
            s, user=mallory, collection_id=kept.id, paper_id=HF_PAPER, note="x", now=NOW
        ),
        lambda s: library.edit_collection(s, user=mallory, collection_id=kept.id, name="Taken", now=NOW),
        lambda s: library.set_shared(s, user=mallory, collection_id=kept.id, shared=False, now=NOW),
        lambda s: library.delete_collection(s, user=mallory, collection_id=kept.id),
    ]
    for attempt in attempts:
        with refused(NotAllowed, "Only the owner of a collection can change it."), papers.begin() as session:
            attempt(session)
    assert _row(papers, kept.id) == ("Reading group", "reading-group", True, None)
    assert _entries(papers, kept.id) == [(HF_PAPER, "")]


def test_the_store_changes_nothing_for_the_wrong_owner(
    papers: sessionmaker[Session], people: tuple[User, User]
) -> None:
    ada, mallory = people
    kept = _make(papers, ada)
    with papers.begin() as session:
        assert not store.update_collection(
            session, collection_id=kept.id, owner_id=mallory.id, values={"name": "x"}, now=NOW
        )
        assert not store.delete_collection(session, collection_id=kept.id, owner_id=mallory.id)
    assert _row(papers, kept.id) == ("Reading group", "reading-group", False, None)


def test_a_private_collection_is_readable_by_its_owner_alone(
    papers: sessionmaker[Session], people: tuple[User, User]
) -> None:
    ada, mallory = people
    kept = _make(papers, ada)
    missing = "There is no collection 'reading-group' of 'ada' here."
    for reader in (mallory, None):
        with refused(NotFoundError, missing), papers() as session:
            library.readable_collection(session, reader=reader, username="ada", slug="reading-group")
    # A private collection is answered in the same words as one that does not exist.
    with refused(NotFoundError, "There is no collection 'nothing' of 'ada' here."), papers() as session:
        library.readable_collection(session, reader=ada, username="ada", slug="nothing")
    with papers() as session:
        own = library.readable_collection(session, reader=ada, username="ADA", slug="reading-group")
        assert (own.collection.id, own.owner.username, own.own) == (kept.id, "ada", True)
    with papers.begin() as session:
        library.set_shared(session, user=ada, collection_id=kept.id, shared=True, now=NOW)
    for reader in (mallory, None):
        with papers() as session:
            found = library.readable_collection(session, reader=reader, username="ada", slug="reading-group")
            assert (found.collection.id, found.own) == (kept.id, False)


def test_sharing_needs_a_confirmed_address_and_keeping_does_not(papers: sessionmaker[Session]) -> None:
    newcomer = make_user(papers, "newcomer", verified=False)
    kept = _make(papers, newcomer)
    with papers.begin() as session:
        assert library.save_paper(session, user=newcomer, paper_id=HF_PAPER, now=NOW)
    message = (
        "Confirm your mail address before you share a collection: use the link we sent you (your account "
        "page can send it again). Your collections stay private until then."
    )
    with refused(NotAllowed, message), papers.begin() as session:
        library.set_shared(session, user=newcomer, collection_id=kept.id, shared=True, now=NOW)
    with refused(NotAllowed, message), papers.begin() as session:
        library.create_collection(session, user=newcomer, name="Public", shared=True, now=NOW)
    assert _row(papers, kept.id) == ("Reading group", "reading-group", False, None)


def test_a_suspended_account_keeps_nothing(papers: sessionmaker[Session]) -> None:
    banned = make_user(papers, "banned")
    kept = _make(papers, banned)
    with papers.begin() as session:
        store.set_ban(session, user_id=banned.id, banned_at=NOW, reason="spam", now=NOW)
    with papers() as session:
        banned = session.get(User, banned.id)  # type: ignore[assignment]
    with refused(NotAllowed, "This account is suspended: spam"), papers.begin() as session:
        library.save_paper(session, user=banned, paper_id=HF_PAPER, now=NOW)
    with refused(NotAllowed, "This account is suspended: spam"), papers.begin() as session:
        library.add_paper(session, user=banned, collection_id=kept.id, paper_id=HF_PAPER, now=NOW)
    assert _entries(papers, kept.id) == []


# -- saving ------------------------------------------------------------------------------------------


def test_saving_makes_the_default_collection_once_and_is_idempotent(
    papers: sessionmaker[Session], people: tuple[User, User]
) -> None:
    ada, _ = people
    with papers() as session:
        assert store.collections_of(session, owner_id=ada.id) == []
    with papers.begin() as session:
        assert library.save_paper(session, user=ada, paper_id=HF_PAPER, now=NOW) is True
    with papers.begin() as session:
        assert library.save_paper(session, user=ada, paper_id=HF_PAPER, now=NOW) is False
    with papers() as session:
        (saved,) = store.collections_of(session, owner_id=ada.id)
        assert (saved.name, saved.slug, saved.shared, saved.papers) == ("Saved", "saved", False, 1)
        assert library.is_saved(session, user=ada, paper_id=HF_PAPER)
    with papers.begin() as session:
        assert library.unsave_paper(session, user=ada, paper_id=HF_PAPER, now=NOW) is True
    with papers.begin() as session:
        assert library.unsave_paper(session, user=ada, paper_id=HF_PAPER, now=NOW) is False
    with papers() as session:
        assert [c.papers for c in store.collections_of(session, owner_id=ada.id)] == [0]
    with refused(NotFoundError, "There is no paper '9999.99999' here."), papers.begin() as session:
        library.save_paper(session, user=ada, paper_id="9999.99999", now=NOW)


def test_a_paper_is_in_a_collection_once_and_keeps_its_first_note(
    papers: sessionmaker[Session], people: tuple[User, User]
) -> None:
    ada, _ = people
    kept = _make(papers, ada)
    with papers.begin() as session:
        assert library.add_paper(
            session, user=ada, collection_id=kept.id, paper_id=HF_PAPER, note="a", now=NOW
        )
        assert not library.add_paper(
            session, user=ada, collection_id=kept.id, paper_id=HF_PAPER, note="b", now=NOW
        )
    assert _entries(papers, kept.id) == [(HF_PAPER, "a")]


def test_notes_are_plain_text_cleaned_and_limited(
    papers: sessionmaker[Session], people: tuple[User, User]
) -> None:
    ada, _ = people
    kept = _make(papers, ada)
    with papers.begin() as session:
        library.add_paper(session, user=ada, collection_id=kept.id, paper_id=HF_PAPER, now=NOW)
        note = library.set_note(
            session,
            user=ada,
            collection_id=kept.id,
            paper_id=HF_PAPER,
            note="  Read §3\r\nthen <b>skip</b>\x00 \x07  ",
            now=NOW,
        )
    assert note == "Read §3\nthen <b>skip</b>"
    assert _entries(papers, kept.id) == [(HF_PAPER, "Read §3\nthen <b>skip</b>")]
    too_long = "n" * (library.MAX_NOTE_CHARS + 1)
    with (
        invalid({"note": "A note can have at most 5,000 characters (this one has 5,001)."}),
        papers.begin() as session,
    ):
        library.set_note(session, user=ada, collection_id=kept.id, paper_id=HF_PAPER, note=too_long, now=NOW)
    with (
        refused(NotFoundError, f"The paper {OTHER_PAPER!r} is not in the collection 'Reading group'."),
        papers.begin() as session,
    ):
        library.set_note(session, user=ada, collection_id=kept.id, paper_id=OTHER_PAPER, note="x", now=NOW)
    assert _entries(papers, kept.id) == [(HF_PAPER, "Read §3\nthen <b>skip</b>")]


# -- names and addresses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Reading group: week 3", "reading-group-week-3"),
        ("  Théorie   des cordes ", "theorie-des-cordes"),
        ("論文", "collection"),
        ("x" * 100, "x" * 60),
    ],
)
def test_the_address_comes_from_the_name(
    papers: sessionmaker[Session], people: tuple[User, User], name: str, slug: str
) -> None:
    made = _make(papers, people[0], name)
    assert made.slug == slug and made.name == " ".join(name.split())


def test_a_taken_address_gets_a_number_unless_it_was_asked_for(
    papers: sessionmaker[Session], people: tuple[User, User]
) -> None:
    ada, mallory = people
    assert [_make(papers, ada, "Reading group").slug for _ in range(3)] == [
        "reading-group",
        "reading-group-2",
        "reading-group-3",
    ]
    assert _make(papers, mallory, "Reading group").slug == "reading-group"  # unique per owner only
    with (
        invalid({"slug": "You have a collection at 'reading-group' already; choose another address."}),
        papers.begin() as session,
    ):
        library.create_collection(session, user=ada, name="Other", slug="reading-group", now=NOW)


@pytest.mark.parametrize(
    ("name", "slug", "problems"),
    [
        ("", "", {"name": "Give the collection a name."}),
        (" \t\x00 ", "", {"name": "Give the collection a name."}),
        ("n" * 101, "", {"name": "A collection's name can have at most 100 characters (this one has 101)."}),
        ("Fine", "Not a slug!", {"slug": SLUG_PROBLEM}),
        ("Fine", "-edge-", {"slug": SLUG_PROBLEM}),
        ("Fine", "a" * 61, {"slug": SLUG_PROBLEM}),
    ],
)
def test_names_and_addresses_are_checked(
    papers: sessionmaker[Session], people: tuple[User, User], name: str, slug: str, problems: dict[str, str]
) -> None:
    with invalid(problems), papers.begin() as session:
        library.create_collection(session, user=people[0], name=name, slug=slug, now=NOW)
    with papers() as session:
        assert store.count_collections(session, owner_id=people[0].id) == 0


def test_renaming_changes_the_address_only_when_asked_and_never_the_default_ones(
    papers: sessionmaker[Session], people: tuple[User, User]
) -> None:
    ada, _ = people
    kept = _make(papers, ada)
    _make(papers, ada, "Taken")
    with papers.begin() as session:
        library.edit_collection(
            session, user=ada, collection_id=kept.id, name="Group", description="Weekly", now=NOW
        )
    assert _row(papers, kept.id) == ("Group", "reading-group", False, "Weekly")
    with papers.begin() as session:
        library.edit_collection(session, user=ada, collection_id=kept.id, name="Group", slug="group", now=NOW)
    assert _row(papers, kept.id) == ("Group", "group", False, "Weekly")
    with (
        invalid({"slug": "You have a collection at 'taken' already; choose another address."}),
        papers.begin() as session,
    ):
        library.edit_collection(session, user=ada, collection_id=kept.id, name="Group", slug="taken", now=NOW)
    with papers.begin() as session:
        library.save_paper(session, user=ada, paper_id=HF_PAPER, now=NOW)
        default = store.find_default_collection_id(session, owner_id=ada.id)
    assert default is not None
    message = "The Saved collection keeps its address; the Save buttons put papers there."
    with invalid({"slug": message}), papers.begin() as session:
        library.edit_collection(session, user=ada, collection_id=default, name="Keep", slug="keep", now=NOW)
    with papers.begin() as session:
        library.edit_collection(session, user=ada, collection_id=default, name="To read", now=NOW)
    assert _row(papers, default) == ("To read", "saved", False, None)


# -- limits ------------------------------------------------------------------------------------------


def test_an_account_keeps_a_limited_number_of_collections_and_papers(
    papers: sessionmaker[Session], people: tuple[User, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, _ = people
    monkeypatch.setattr(library, "MAX_COLLECTIONS", 2)
    monkeypatch.setattr(library, "MAX_PAPERS_PER_COLLECTION", 1)
    kept = _make(papers, ada, "One")
    _make(papers, ada, "Two")
    with pytest.raises(TooManyRequests, match="at most 2 collections"), papers.begin() as session:
        library.create_collection(session, user=ada, name="Three", now=NOW)
    with papers.begin() as session:
        library.add_paper(session, user=ada, collection_id=kept.id, paper_id=HF_PAPER, now=NOW)
    with pytest.raises(TooManyRequests, match="'One' is full"), papers.begin() as session:
        library.add_paper(session, user=ada, collection_id=kept.id, paper_id=OTHER_PAPER, now=NOW)
    with papers.begin() as session:  # saving a paper that is there already is no new paper
        assert not library.add_paper(session, user=ada, collection_id=kept.id, paper_id=HF_PAPER, now=NOW)
    with papers() as session:
        assert store.count_collections(session, owner_id=ada.id) == 2
    assert _entries(papers, kept.id) == [(HF_PAPER, "")]


# -- deleting ----------------------------------------------------------------------------------------


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_deletes_cascade_to_the_papers_of_collections(
    papers: sessionmaker[Session], people: tuple[User, User]
) -> None:
    ada, mallory = people
    first, second = _make(papers, ada, "First"), _make(papers, mallory, "Second")
    with papers.begin() as session:
        for owner, kept in ((ada, first), (mallory, second)):
            for paper_id in (HF_PAPER, OTHER_PAPER):
                library.add_paper(session, user=owner, collection_id=kept.id, paper_id=paper_id, now=NOW)
    assert _count(papers, CollectionPaper) == 4
    with papers.begin() as session:
        library.delete_collection(session, user=ada, collection_id=first.id)
    assert (_count(papers, Collection), _count(papers, CollectionPaper)) == (1, 2)
    with papers.begin() as session:
        session.execute(delete(Paper).where(Paper.id == OTHER_PAPER))
    assert _entries(papers, second.id) == [(HF_PAPER, "")]
    with papers.begin() as session:
        session.execute(delete(User).where(User.id == mallory.id))
    assert (_count(papers, Collection), _count(papers, CollectionPaper)) == (0, 0)

"""The library: who may keep, change and read collections of papers (the SQL is in ``store/library.py``).

Only the owner changes a collection: every change goes through :func:`own_collection`, which answers
someone else's private collection exactly as it answers one that does not exist (a 404 with the same
words), so nobody can learn what another reader keeps, and someone else's shared collection with
:class:`NotAllowed`. Reading is :func:`readable_collection`: shared collections are open to everyone,
private ones to their owner alone.

Keeping papers needs an account that is not banned; the address need not be confirmed, since nobody
else sees a private collection. Sharing one does need a confirmed address: a shared collection puts
the owner's words (name, description, notes) on a public page, which is what confirming guards
elsewhere (comments, submissions).

Names, descriptions and notes are plain text, shown escaped; their lengths are limited here, and so are
the number of collections of an account and the papers of a collection, so that no account can fill
the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from dailypapers import store
from dailypapers.errors import InvalidInput, NotAllowed, NotFoundError, TooManyRequests
from dailypapers.models import Collection, User

MAX_NAME_CHARS = 100
MAX_SLUG_CHARS = 60
MAX_DESCRIPTION_CHARS = 2_000
MAX_NOTE_CHARS = 5_000
MAX_COLLECTIONS = 200
MAX_PAPERS_PER_COLLECTION = 5_000
DEFAULT_SLUG = store.DEFAULT_SLUG

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# A whole day of retries cannot be the wait for a limit that only deleting lifts; say "when you delete".
_NO_RETRY = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class ReadableCollection:
    """A collection someone may read, with its owner and whether the reader is that owner."""

    collection: Collection
    owner: User
    own: bool


def _clean(text: str, *, field: str, limit: int, what: str, one_line: bool) -> str:
    cleaned = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if one_line:
        cleaned = " ".join(cleaned.split())
    cleaned = cleaned.strip()
    if len(cleaned) > limit:
        raise InvalidInput(
            {field: f"{what} can have at most {limit:,} characters (this one has {len(cleaned):,})."}
        )
    return cleaned


def clean_name(text: str) -> str:
    name = _clean(text, field="name", limit=MAX_NAME_CHARS, what="A collection's name", one_line=True)
    if not name:
        raise InvalidInput({"name": "Give the collection a name."})
    return name


def clean_description(text: str) -> str | None:
    return (
        _clean(text, field="description", limit=MAX_DESCRIPTION_CHARS, what="A description", one_line=False)
        or None
    )


def clean_note(text: str) -> str:
    return _clean(text, field="note", limit=MAX_NOTE_CHARS, what="A note", one_line=False)


def slug_from_name(name: str) -> str:
    """The address part made from a name: ``Reading group: week 3`` → ``reading-group-week-3``."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = _NOT_SLUG.sub("-", ascii_text).strip("-")[:MAX_SLUG_CHARS].strip("-")
    return slug or "collection"


def check_slug(text: str) -> str:
    slug = text.strip().lower()
    if not SLUG.fullmatch(slug):
        raise InvalidInput(
            {
                "slug": "An address can hold lower-case letters, digits and hyphens, "
                f"1 to {MAX_SLUG_CHARS} of them, and starts and ends with a letter or digit "
                "(for example reading-group)."
            }
        )
    return slug


def check_may_keep(user: User) -> None:
    if user.is_banned:
        raise NotAllowed("This account is suspended" + (f": {user.ban_reason}" if user.ban_reason else "."))


def check_may_share(user: User) -> None:
    check_may_keep(user)
    if not user.is_verified:
        raise NotAllowed(
            "Confirm your mail address before you share a collection: use the link we sent you (your account "
            "page can send it again). Your collections stay private until then."
        )


def _free_slug(session: Session, owner_id: int, stem: str) -> str:
    taken = store.slugs_like(session, owner_id=owner_id, stem=stem)
    if stem not in taken:
        return stem
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = stem[: MAX_SLUG_CHARS - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        number += 1


def _not_found(username: str, slug: str) -> NotFoundError:
    # The same words for a private collection and a missing one: neither says whether it exists.
    return NotFoundError(f"There is no collection {slug!r} of {username!r} here.")


def _possible_id(paper_id: str) -> bool:
    """Whether ``paper_id`` could name a paper at all (PostgreSQL refuses NUL in a text parameter)."""
    return 0 < len(paper_id) <= 200 and not any(ord(c) < 32 for c in paper_id)


def _require_paper(session: Session, paper_id: str) -> None:
    if not _possible_id(paper_id) or not store.paper_exists(session, paper_id=paper_id):
        raise NotFoundError(f"There is no paper {paper_id!r} here.")


# -- collections -------------------------------------------------------------------------------------


def create_collection(
    session: Session,
    *,
    user: User,
    name: str,
    now: datetime,
    description: str = "",
    slug: str = "",
    shared: bool = False,
) -> Collection:
    """A new collection of ``user``'s; its address comes from the name unless ``slug`` is given."""
    check_may_keep(user)
    if shared:
        check_may_share(user)
    clean = clean_name(name)
    about = clean_description(description)
    if store.count_collections(session, owner_id=user.id) >= MAX_COLLECTIONS:
        raise TooManyRequests(
            f"An account can keep at most {MAX_COLLECTIONS} collections. "
            "Delete one you no longer need first.",
            retry_after=_NO_RETRY,
        )
    if slug.strip():
        address = check_slug(slug)
        if store.slug_taken(session, owner_id=user.id, slug=address):
            raise InvalidInput(
                {"slug": f"You have a collection at {address!r} already; choose another address."}
            )
    else:
        address = _free_slug(session, user.id, slug_from_name(clean))
    collection_id = store.create_collection(
        session, owner_id=user.id, name=clean, slug=address, description=about, shared=shared, now=now
    )
    if collection_id is None:  # made by a parallel request since the check above
        raise InvalidInput({"slug": f"You have a collection at {address!r} already; choose another address."})
    found = store.get_collection(session, collection_id=collection_id)
    assert found is not None
    return found


def own_collection(session: Session, user: User, collection_id: int) -> Collection:
    """``user``'s collection ``collection_id``. Someone else's private one is "not found", like one that
    does not exist; someone else's shared one is "not allowed" (anyone can see that it exists)."""
    collection = store.get_collection(session, collection_id=collection_id)
    if collection is None or (collection.owner_id != user.id and not collection.shared):
        raise NotFoundError(f"There is no collection {collection_id} of yours.")
    if collection.owner_id != user.id:
        raise NotAllowed("Only the owner of a collection can change it.")
    check_may_keep(user)
    return collection


def edit_collection(
    session: Session,
    *,
    user: User,
    collection_id: int,
    name: str,
    now: datetime,
    description: str | None = None,
    slug: str | None = None,
) -> Collection:
    """Rename a collection; ``description`` and ``slug`` change too when given (None keeps them).

    The default collection keeps its address, so that saving keeps finding it."""
    collection = own_collection(session, user, collection_id)
    values: dict[str, object] = {"name": clean_name(name)}
    if description is not None:
        values["description"] = clean_description(description)
    if slug is not None and slug.strip() and slug.strip().lower() != collection.slug:
        address = check_slug(slug)
        if collection.slug == DEFAULT_SLUG:
            raise InvalidInput(
                {"slug": "The Saved collection keeps its address; the Save buttons put papers there."}
            )
        if store.slug_taken(session, owner_id=user.id, slug=address, except_id=collection.id):
            raise InvalidInput(
                {"slug": f"You have a collection at {address!r} already; choose another address."}
            )
        values["slug"] = address
    store.update_collection(session, collection_id=collection.id, owner_id=user.id, values=values, now=now)
    session.refresh(collection)
    return collection


def set_shared(
    session: Session, *, user: User, collection_id: int, shared: bool, now: datetime
) -> Collection:
    collection = own_collection(session, user, collection_id)
    if shared:
        check_may_share(user)
    store.update_collection(
        session, collection_id=collection.id, owner_id=user.id, values={"shared": shared}, now=now
    )
    session.refresh(collection)
    return collection


def delete_collection(session: Session, *, user: User, collection_id: int) -> None:
    """Delete a collection and the notes in it (the papers themselves stay on the site)."""
    collection = own_collection(session, user, collection_id)
    store.delete_collection(session, collection_id=collection.id, owner_id=user.id)


# -- papers in collections ---------------------------------------------------------------------------


def _check_room(session: Session, collection: Collection) -> None:
    if store.count_entries(session, collection_id=collection.id) >= MAX_PAPERS_PER_COLLECTION:
        raise TooManyRequests(
            f"A collection can hold at most {MAX_PAPERS_PER_COLLECTION:,} papers; "
            f"{collection.name!r} is full. Start another collection, or take papers out of this one.",
            retry_after=_NO_RETRY,
        )


def add_paper(
    session: Session, *, user: User, collection_id: int, paper_id: str, now: datetime, note: str = ""
) -> bool:
    """Put a paper in one's collection; False when it was there already (nothing changes then)."""
    collection = own_collection(session, user, collection_id)
    text = clean_note(note)
    _require_paper(session, paper_id)
    if store.collection_paper_ids(session, collection_id=collection.id, paper_ids=[paper_id]):
        return False
    _check_room(session, collection)
    return store.add_to_collection(
        session, collection_id=collection.id, paper_id=paper_id, note=text, now=now
    )


def add_papers(
    session: Session, *, user: User, collection_id: int, papers: Sequence[tuple[str, str]], now: datetime
) -> tuple[int, int, int]:
    """Put many papers, each with a note, in one's collection (an import): how many were added, how many
    were there already, and how many did not fit (the collection was full)."""
    collection = own_collection(session, user, collection_id)
    wanted = list(dict.fromkeys(paper_id for paper_id, _ in papers))
    there = store.collection_paper_ids(session, collection_id=collection.id, paper_ids=wanted)
    room = MAX_PAPERS_PER_COLLECTION - store.count_entries(session, collection_id=collection.id)
    notes: dict[str, str] = {}
    for paper_id, note in papers:
        notes.setdefault(paper_id, clean_note(note[:MAX_NOTE_CHARS]))
    added = not_added = 0
    for paper_id in wanted:
        if paper_id in there:
            continue
        if added >= room:
            not_added += 1
            continue
        added += store.add_to_collection(
            session, collection_id=collection.id, paper_id=paper_id, note=notes[paper_id], now=now
        )
    return added, len(there), not_added


def remove_paper(session: Session, *, user: User, collection_id: int, paper_id: str, now: datetime) -> bool:
    """Take a paper out of one's collection; False when it was not in it."""
    collection = own_collection(session, user, collection_id)
    if not _possible_id(paper_id):
        return False
    return store.remove_from_collection(session, collection_id=collection.id, paper_id=paper_id, now=now)


def set_note(
    session: Session, *, user: User, collection_id: int, paper_id: str, note: str, now: datetime
) -> str:
    """Replace the note on a paper of one's collection (an empty note removes it); returns the note."""
    collection = own_collection(session, user, collection_id)
    text = clean_note(note)
    if not _possible_id(paper_id):
        raise NotFoundError(f"There is no such paper in the collection {collection.name!r}.")
    if not store.set_note(session, collection_id=collection.id, paper_id=paper_id, note=text, now=now):
        raise NotFoundError(f"The paper {paper_id!r} is not in the collection {collection.name!r}.")
    return text


def save_paper(session: Session, *, user: User, paper_id: str, now: datetime) -> bool:
    """Save a paper to the default collection, made now on the first save; False when it was saved."""
    check_may_keep(user)
    _require_paper(session, paper_id)
    collection_id = store.default_collection_id(session, owner_id=user.id, now=now)
    return add_paper(session, user=user, collection_id=collection_id, paper_id=paper_id, now=now)


def unsave_paper(session: Session, *, user: User, paper_id: str, now: datetime) -> bool:
    """Take a paper out of the default collection; False when it was not saved."""
    check_may_keep(user)
    collection_id = store.find_default_collection_id(session, owner_id=user.id)
    if collection_id is None:
        return False
    return remove_paper(session, user=user, collection_id=collection_id, paper_id=paper_id, now=now)


def is_saved(session: Session, *, user: User, paper_id: str) -> bool:
    return bool(store.saved_ids(session, owner_id=user.id, paper_ids=[paper_id]))


# -- reading -----------------------------------------------------------------------------------------


def readable_collection(
    session: Session, *, reader: User | None, username: str, slug: str
) -> ReadableCollection:
    """The collection ``slug`` of ``username`` if ``reader`` may read it: it is shared, or theirs."""
    # Only a well-formed name and address are looked up: PostgreSQL refuses NUL in a text parameter.
    if len(username) > 64 or _CONTROL.search(username) or "\n" in username or not SLUG.fullmatch(slug):
        raise _not_found(username[:64], slug[: MAX_SLUG_CHARS + 4])
    owner = store.user_by_name(session, username=username)
    if owner is None:
        raise _not_found(username, slug)
    collection = store.collection_by_slug(session, owner_id=owner.id, slug=slug)
    own = reader is not None and reader.id == owner.id
    if collection is None or not (collection.shared or own):
        raise _not_found(username, slug)
    return ReadableCollection(collection=collection, owner=owner, own=own)


__all__ = [
    "DEFAULT_SLUG",
    "MAX_COLLECTIONS",
    "MAX_DESCRIPTION_CHARS",
    "MAX_NAME_CHARS",
    "MAX_NOTE_CHARS",
    "MAX_PAPERS_PER_COLLECTION",
    "MAX_SLUG_CHARS",
    "ReadableCollection",
    "add_paper",
    "add_papers",
    "check_may_keep",
    "check_may_share",
    "check_slug",
    "clean_description",
    "clean_name",
    "clean_note",
    "create_collection",
    "delete_collection",
    "edit_collection",
    "is_saved",
    "own_collection",
    "readable_collection",
    "remove_paper",
    "save_paper",
    "set_note",
    "set_shared",
    "slug_from_name",
    "unsave_paper",
]

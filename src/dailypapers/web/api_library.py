"""The library in the JSON API: a token owner's collections, shared collections, adding and removing papers.

Like the community API, it takes ``Authorization: Bearer dp_...`` and never a cookie, so no other site
can make a visitor's browser read a private collection or change one. ``GET /api/collections/{user}/{slug}``
needs no token for a shared collection; for a private one it answers 404 unless the token is its
owner's, in the same words as for a collection that does not exist. Writes need the owner's token: 404
for someone else's private collection, 403 for someone else's shared one.

The default collection (``saved``) is made on first use here as well, so a client can save a paper with
``POST /api/collections/{me}/saved/papers`` before it ever used the site.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import JSONResponse

from dailypapers import store
from dailypapers.community import accounts, library
from dailypapers.models import Collection, User
from dailypapers.store.library import CollectionSummary
from dailypapers.web.common import PaperIdPath, canonical_id, known_paper_id
from dailypapers.web.deps import NowDep, SessionsDep
from dailypapers.web.errors import BEARER_CHALLENGE
from dailypapers.web.render import paper_path, profile_path
from dailypapers.web.schemas import ErrorResponse, hf_time

router = APIRouter(prefix="/api", tags=["library"])

# The same scheme as the community API's (one entry in the OpenAPI description).
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiToken",
    description="A personal API token (dp_...) from your account page or `dailypapers users token NAME`.",
    bearerFormat="dp_...",
)


class CollectionOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    owner: str = Field(description="The user name of the collection's owner.")
    slug: str = Field(description="The collection's address among its owner's: /u/{owner}/c/{slug}.")
    name: str
    description: str | None = None
    shared: bool = Field(description="Shared collections can be read by anyone; private ones by their owner.")
    numPapers: int
    createdAt: str
    updatedAt: str
    url: str = Field(description="The collection's page on this server.")


class CollectionsResponse(BaseModel):
    collections: list[CollectionOut]


class CollectionPaperOut(BaseModel):
    id: str
    title: str
    authors: list[str]
    note: str = Field(description="The owner's note on the paper (empty when there is none).")
    addedAt: str
    url: str


class CollectionDetail(CollectionOut):
    papers: list[CollectionPaperOut] = Field(description="Most recently added first.")


class AddPaperIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": "2104.12255", "note": "Read section 3."}]}
    )

    id: str = Field(min_length=1, max_length=300, description="A paper id on this site, or an arXiv link.")
    note: str = Field("", max_length=library.MAX_NOTE_CHARS, description="A note on the paper (plain text).")


class MembershipOut(BaseModel):
    paperId: str
    inCollection: bool
    changed: bool = Field(description="False when the paper already was (or was not) in the collection.")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("An API token was sent but is unknown or revoked."),
    404: _error("There is no such collection, or it is private and the token is not its owner's."),
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The body is not JSON."),
    401: _error("No API token, or one that is unknown or revoked."),
    403: _error("The collection is someone else's, or the account is suspended."),
    404: _error("There is no such collection of yours, or no such paper."),
    422: _error("The request is not valid; `problems` says what is wrong."),
    429: _error("The collection is full."),
}


def _user_of(sessions: sessionmaker[Session], now: datetime, token: str) -> User:
    with sessions.begin() as session:
        user = accounts.user_for_api_token(session, token=token, now=now)
    if user is None:
        raise HTTPException(
            401,
            "This API token is not valid: it is mistyped or was revoked.",
            headers={"WWW-Authenticate": BEARER_CHALLENGE + ', error="invalid_token"'},
        )
    return user


def token_user(
    sessions: SessionsDep,
    now: NowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if credentials is None:
        raise HTTPException(
            401,
            "Send a personal API token: Authorization: Bearer dp_...",
            headers={"WWW-Authenticate": BEARER_CHALLENGE},
        )
    return _user_of(sessions, now, credentials.credentials)


def maybe_token_user(
    sessions: SessionsDep,
    now: NowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User | None:
    return None if credentials is None else _user_of(sessions, now, credentials.credentials)


TokenUser = Annotated[User, Depends(token_user)]
MaybeTokenUser = Annotated[User | None, Depends(maybe_token_user)]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _page(request: Request, owner: str, slug: str) -> str:
    return f"{_base(request)}{profile_path(owner)}/c/{slug}"


def _summary_out(request: Request, owner: str, summary: CollectionSummary) -> CollectionOut:
    return CollectionOut(
        owner=owner,
        slug=summary.slug,
        name=summary.name,
        description=summary.description,
        shared=summary.shared,
        numPapers=summary.papers,
        createdAt=hf_time(summary.created_at) or "",
        updatedAt=hf_time(summary.updated_at) or "",
        url=_page(request, owner, summary.slug),
    )


@router.get(
    "/collections",
    response_model=CollectionsResponse,
    responses={401: _error("No API token, or one that is unknown or revoked.")},
    summary="Your collections",
)
def my_collections(request: Request, user: TokenUser, sessions: SessionsDep) -> CollectionsResponse:
    """The token owner's collections, private and shared, the default one (Saved) first."""
    with sessions() as session:
        found = store.collections_of(session, owner_id=user.id)
    return CollectionsResponse(collections=[_summary_out(request, user.username, c) for c in found])


@router.get(
    "/collections/{username}/{slug}",
    response_model=CollectionDetail,
    responses=READ_ERRORS,
    summary="A collection and its papers",
)
def collection(
    request: Request, username: str, slug: str, reader: MaybeTokenUser, sessions: SessionsDep
) -> CollectionDetail:
    """A shared collection, for anyone; a private one only with its owner's token."""
    with sessions() as session:
        found = library.readable_collection(session, reader=reader, username=username, slug=slug)
        owner, chosen = found.owner, found.collection
        entries = store.collection_entries(session, collection_id=chosen.id)
        cards = {
            c.id: c for c in store.paper_cards(session, ids=[e.paper_id for e in entries], abstract_chars=0)
        }
        summary = _summary(chosen, len(entries))
    papers = [
        CollectionPaperOut(
            id=entry.paper_id,
            title=cards[entry.paper_id].title,
            authors=cards[entry.paper_id].authors,
            note=entry.note,
            addedAt=hf_time(entry.added_at) or "",
            url=_base(request) + paper_path(entry.paper_id),
        )
        for entry in entries
        if entry.paper_id in cards
    ]
    return CollectionDetail(**_summary_out(request, owner.username, summary).model_dump(), papers=papers)


def _summary(chosen: Collection, papers: int) -> CollectionSummary:
    return CollectionSummary(
        id=chosen.id,
        owner_id=chosen.owner_id,
        name=chosen.name,
        slug=chosen.slug,
        description=chosen.description,
        shared=chosen.shared,
        created_at=chosen.created_at,
        updated_at=chosen.updated_at,
        papers=papers,
    )


def _writable(session: Session, user: User, username: str, slug: str, now: datetime) -> int:
    """The id of the collection ``slug`` of ``username`` as ``user`` may see it (404 for someone else's
    private one); the default one is made on first use. Whether ``user`` may change it is for the rules
    to say (``library.own_collection``: 403 for someone else's shared one)."""
    library.check_may_keep(user)
    if username.casefold() == user.username_key and slug == library.DEFAULT_SLUG:
        return store.default_collection_id(session, owner_id=user.id, now=now)
    return library.readable_collection(session, reader=user, username=username, slug=slug).collection.id


@router.post(
    "/collections/{username}/{slug}/papers",
    response_model=MembershipOut,
    status_code=201,
    responses={**WRITE_ERRORS, 200: {"model": MembershipOut, "description": "The paper was in it already."}},
    summary="Add a paper to one of your collections",
)
def add_paper(
    username: str, slug: str, body: AddPaperIn, user: TokenUser, sessions: SessionsDep, now: NowDep
) -> JSONResponse:
    """Idempotent: adding a paper that is there already changes nothing (not even its note) and
    answers 200 instead of 201."""
    paper_id = known_paper_id(sessions, canonical_id(body.id) or body.id.strip())
    with sessions.begin() as session:
        collection_id = _writable(session, user, username, slug, now)
        added = library.add_paper(
            session, user=user, collection_id=collection_id, paper_id=paper_id, note=body.note, now=now
        )
    result = MembershipOut(paperId=paper_id, inCollection=True, changed=added)
    return JSONResponse(result.model_dump(), status_code=201 if added else 200)


@router.delete(
    "/collections/{username}/{slug}/papers/{paper_id:path}",
    response_model=MembershipOut,
    responses=WRITE_ERRORS,
    summary="Take a paper out of one of your collections",
)
def remove_paper(
    username: str, slug: str, paper_id: PaperIdPath, user: TokenUser, sessions: SessionsDep, now: NowDep
) -> MembershipOut:
    """Idempotent: taking out a paper that is not in the collection changes nothing."""
    paper_id = canonical_id(paper_id) or paper_id
    with sessions.begin() as session:
        collection_id = _writable(session, user, username, slug, now)
        removed = library.remove_paper(
            session, user=user, collection_id=collection_id, paper_id=paper_id, now=now
        )
    return MembershipOut(paperId=paper_id, inCollection=False, changed=removed)


__all__ = ["router"]

"""Library pages and forms: saving papers, the reader's collections, a collection's page and RSS feed.

The Save button on every card and paper page posts ``/papers/{id}/save``: without JavaScript the form
posts and comes back to the page it was on; ``app.js`` sends the same form with
``Accept: application/json`` and gets the new state as JSON, as the upvote button does. Every post goes
through ``FormViewerDep`` (a session, then this browser's CSRF token) before anything is written.

A collection has one page, ``/u/NAME/c/SLUG``: its owner sees it with forms to change it, anyone sees a
shared one read-only, and a private one is a 404 to everyone else, in the same words as a collection
that does not exist. Forms that change a collection name it by id (``/library/{id}/...``); who owns it
is checked by :mod:`dailypapers.community.library`. These pages are never cached: they show what one
reader keeps, and a collection can stop being shared at any moment.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, File, Path, Request, UploadFile
from feedgen.feed import FeedGenerator
from starlette.responses import JSONResponse, RedirectResponse, Response

from dailypapers import __version__, store
from dailypapers.citations import MAX_CITATION_BYTES, CitationError, read_citations
from dailypapers.community import library, library_files
from dailypapers.community.submissions import Fetch
from dailypapers.errors import InvalidInput, NotAllowed, NotFoundError
from dailypapers.store.feeds import PaperCard
from dailypapers.web.auth import (
    NO_STORE,
    FormViewerDep,
    SignedInDep,
    Viewer,
    ViewerDep,
    render_page,
    safe_next,
)
from dailypapers.web.common import FormText, PageQuery, canonical_id, known_paper_id
from dailypapers.web.deps import NowDep, PaperFetcherDep, RendererDep, SessionsDep, SettingsDep
from dailypapers.web.render import SITE_NAME, paper_path, profile_path
from dailypapers.web.submitting import arxiv_fetch

router = APIRouter(include_in_schema=False)

COLLECTION_PAGE = 100
FEED_ITEMS = 100
MAX_DB_INT = 2**31 - 1
CollectionId = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="a collection's number")]
FileField = Annotated[UploadFile | None, File(description="a BibTeX, RIS or CSL-JSON file")]


def collection_path(username: str, slug: str) -> str:
    return f"{profile_path(username)}/c/{quote(slug, safe='')}"


def _back_to(request: Request, default: str) -> str:
    """The page a form was on (same site only), else ``default``."""
    referer = request.headers.get("referer", "")
    if referer:
        parts = urlsplit(referer)
        if parts.netloc == request.url.netloc:
            return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""), default)
    return default


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=NO_STORE)


# -- saving from cards and paper pages ------------------------------------------------------------------


@router.post("/papers/{paper_id:path}/save")
def save(
    paper_id: str,
    request: Request,
    sessions: SessionsDep,
    viewer: FormViewerDep,
    now: NowDep,
    action: FormText = "add",
) -> Response:
    """Save a paper to the reader's Saved collection (``action=remove``: take it out). Idempotent."""
    paper_id = known_paper_id(sessions, paper_id)
    try:
        with sessions.begin() as session:
            if action == "remove":
                library.unsave_paper(session, user=viewer.user, paper_id=paper_id, now=now)
            else:
                library.save_paper(session, user=viewer.user, paper_id=paper_id, now=now)
    except NotAllowed as refused:
        if _wants_json(request):
            return JSONResponse({"error": str(refused), "status": 403}, status_code=403, headers=NO_STORE)
        raise
    with sessions() as session:
        saved = library.is_saved(session, user=viewer.user, paper_id=paper_id)
    if _wants_json(request):
        body = {
            "paperId": paper_id,
            "saved": saved,
            "collection": collection_path(viewer.user.username, library.DEFAULT_SLUG),
        }
        return JSONResponse(body, headers=NO_STORE)
    return _see_other(_back_to(request, paper_path(paper_id)))


# -- the reader's library -------------------------------------------------------------------------------


@router.get("/library")
def library_page(
    request: Request, renderer: RendererDep, sessions: SessionsDep, viewer: SignedInDep
) -> Response:
    with sessions() as session:
        collections = store.collections_of(session, owner_id=viewer.user.id)
    return render_page(
        request,
        renderer,
        "library/index.html",
        viewer=viewer,
        nav="library",
        collections=collections,
        collection_path=collection_path,
        limits={
            "name": library.MAX_NAME_CHARS,
            "description": library.MAX_DESCRIPTION_CHARS,
            "slug": library.MAX_SLUG_CHARS,
            "collections": library.MAX_COLLECTIONS,
        },
    )


@router.post("/library")
def create(
    sessions: SessionsDep,
    viewer: FormViewerDep,
    now: NowDep,
    name: FormText = "",
    description: FormText = "",
    slug: FormText = "",
    shared: FormText = "",
) -> Response:
    with sessions.begin() as session:
        made = library.create_collection(
            session,
            user=viewer.user,
            name=name,
            description=description,
            slug=slug,
            shared=shared == "yes",
            now=now,
        )
        path = collection_path(viewer.user.username, made.slug)
    return _see_other(path)


@router.post("/library/{collection_id}/edit")
def edit(
    collection_id: CollectionId,
    sessions: SessionsDep,
    viewer: FormViewerDep,
    now: NowDep,
    name: FormText = "",
    description: FormText = "",
    slug: FormText = "",
) -> Response:
    with sessions.begin() as session:
        changed = library.edit_collection(
            session,
            user=viewer.user,
            collection_id=collection_id,
            name=name,
            description=description,
            slug=slug,
            now=now,
        )
        path = collection_path(viewer.user.username, changed.slug)
    return _see_other(path)


@router.post("/library/{collection_id}/share")
def share(
    collection_id: CollectionId,
    request: Request,
    sessions: SessionsDep,
    viewer: FormViewerDep,
    now: NowDep,
    shared: FormText = "",
) -> Response:
    with sessions.begin() as session:
        changed = library.set_shared(
            session, user=viewer.user, collection_id=collection_id, shared=shared == "yes", now=now
        )
        path = collection_path(viewer.user.username, changed.slug)
    return _see_other(_back_to(request, path))


@router.post("/library/{collection_id}/delete")
def delete(
    collection_id: CollectionId,
    request: Request,
    renderer: RendererDep,
    sessions: SessionsDep,
    viewer: FormViewerDep,
    confirmed: FormText = "",
) -> Response:
    """Delete a collection once confirmed: ``comments.js`` asks first and sends ``confirmed=yes``; without
    it the form leads to a page that asks (nothing is deleted yet)."""
    if confirmed != "yes":
        with sessions() as session:
            collection = library.own_collection(session, viewer.user, collection_id)
            count = store.count_entries(session, collection_id=collection_id)
            name, slug = collection.name, collection.slug
        return render_page(
            request,
            renderer,
            "library/delete.html",
            viewer=viewer,
            name=name,
            count=count,
            action=f"/library/{collection_id}/delete",
            back=collection_path(viewer.user.username, slug),
        )
    with sessions.begin() as session:
        library.delete_collection(session, user=viewer.user, collection_id=collection_id)
    return _see_other("/library")


@router.post("/library/{collection_id}/papers")
def add_paper(
    collection_id: CollectionId,
    request: Request,
    sessions: SessionsDep,
    viewer: FormViewerDep,
    now: NowDep,
    paper: FormText = "",
    note: FormText = "",
) -> Response:
    """Add a paper by its id or link (arXiv ids with a version or in a URL are read as the paper)."""
    typed = paper.strip()
    paper_id = canonical_id(typed) or typed
    if not paper_id:
        raise NotFoundError("Type the id or link of a paper on this site to add it.")
    paper_id = known_paper_id(sessions, paper_id)
    with sessions.begin() as session:
        library.add_paper(
            session, user=viewer.user, collection_id=collection_id, paper_id=paper_id, note=note, now=now
        )
        collection = store.get_collection(session, collection_id=collection_id)
        assert collection is not None
        path = collection_path(viewer.user.username, collection.slug)
    return _see_other(_back_to(request, path))


@router.post("/library/{collection_id}/papers/{paper_id:path}/note")
def note(
    collection_id: CollectionId,
    paper_id: str,
    sessions: SessionsDep,
    viewer: FormViewerDep,
    now: NowDep,
    note: FormText = "",
) -> Response:
    with sessions.begin() as session:
        library.set_note(
            session, user=viewer.user, collection_id=collection_id, paper_id=paper_id, note=note, now=now
        )
        collection = store.get_collection(session, collection_id=collection_id)
        assert collection is not None
        path = collection_path(viewer.user.username, collection.slug)
    return _see_other(f"{path}#paper-{quote(paper_id, safe='/')}")


@router.post("/library/{collection_id}/papers/{paper_id:path}/remove")
def remove_paper(
    collection_id: CollectionId,
    paper_id: str,
    request: Request,
    sessions: SessionsDep,
    viewer: FormViewerDep,
    now: NowDep,
) -> Response:
    with sessions.begin() as session:
        library.remove_paper(
            session, user=viewer.user, collection_id=collection_id, paper_id=paper_id, now=now
        )
        collection = store.get_collection(session, collection_id=collection_id)
        assert collection is not None
        path = collection_path(viewer.user.username, collection.slug)
    return _see_other(_back_to(request, path))


# -- reference files in and out -------------------------------------------------------------------------


def _file_bytes(upload: UploadFile | None) -> tuple[bytes, str | None]:
    """The uploaded file (one byte more than the largest readable, so that a larger one is told so)."""
    if upload is None or not (upload.filename or "").strip():
        raise InvalidInput(
            {"file": "Choose a BibTeX, RIS or CSL-JSON file to import (a Zotero export, for example)."}
        )
    return upload.file.read(MAX_CITATION_BYTES + 1), upload.filename


def _import(
    request: Request,
    renderer: RendererDep,
    sessions: SessionsDep,
    settings: SettingsDep,
    viewer: FormViewerDep,
    now: NowDep,
    *,
    fetch: Fetch,
    collection_id: int,
    data: bytes,
    filename: str | None,
) -> Response:
    try:
        summary = library_files.import_citations(
            sessions,
            settings,
            user=viewer.user,
            collection_id=collection_id,
            data=data,
            filename=filename,
            fetch=fetch,
            now=now,
        )
    except CitationError as unreadable:
        with sessions() as session:
            collection = library.own_collection(session, viewer.user, collection_id)
            here = collection_path(viewer.user.username, collection.slug)
        return _unreadable(request, renderer, viewer, unreadable, here=here)
    return render_page(
        request,
        renderer,
        "library/imported.html",
        viewer=viewer,
        nav="library",
        failed="",
        summary=summary,
        problems=summary.problems,
        labels=library_files.FORMAT_LABELS,
        here=collection_path(viewer.user.username, summary.collection.slug),
    )


def _unreadable(
    request: Request, renderer: RendererDep, viewer: Viewer, unreadable: CitationError, *, here: str
) -> Response:
    """The page for a file that cannot be read at all: what is wrong with it, and what is accepted."""
    return render_page(
        request,
        renderer,
        "library/imported.html",
        viewer=viewer,
        nav="library",
        status=422,
        failed=str(unreadable),
        problems=unreadable.problems,
        summary=None,
        here=here,
    )


@router.post("/library/{collection_id}/import")
def import_file(
    collection_id: CollectionId,
    request: Request,
    renderer: RendererDep,
    sessions: SessionsDep,
    settings: SettingsDep,
    fetcher: PaperFetcherDep,
    viewer: FormViewerDep,
    now: NowDep,
    file: FileField = None,
) -> Response:
    """Import a reference file into one's collection; the page that answers says what was found."""
    fetch = arxiv_fetch(fetcher)  # the budget of arXiv look-ups starts with the request
    data, filename = _file_bytes(file)
    return _import(
        request,
        renderer,
        sessions,
        settings,
        viewer,
        now,
        fetch=fetch,
        collection_id=collection_id,
        data=data,
        filename=filename,
    )


@router.post("/library/import")
def import_new(
    request: Request,
    renderer: RendererDep,
    sessions: SessionsDep,
    settings: SettingsDep,
    fetcher: PaperFetcherDep,
    viewer: FormViewerDep,
    now: NowDep,
    name: FormText = "",
    file: FileField = None,
) -> Response:
    """Import a reference file into a new collection (named after the file when no name is given)."""
    fetch = arxiv_fetch(fetcher)
    data, filename = _file_bytes(file)
    try:
        # Read once before the collection is made, so that a file that cannot be read leaves none behind.
        read_citations(data, filename)
    except CitationError as unreadable:
        return _unreadable(request, renderer, viewer, unreadable, here="/library")
    stem = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    with sessions.begin() as session:
        made = library.create_collection(
            session,
            user=viewer.user,
            name=name.strip() or stem[: library.MAX_NAME_CHARS] or "Imported",
            now=now,
        )
        collection_id = made.id
    return _import(
        request,
        renderer,
        sessions,
        settings,
        viewer,
        now,
        fetch=fetch,
        collection_id=collection_id,
        data=data,
        filename=filename,
    )


@router.get("/u/{username}/c/{slug}/export/{fmt}")
def export(username: str, slug: str, fmt: str, sessions: SessionsDep, viewer: ViewerDep) -> Response:
    """A collection the viewer may read as BibTeX, RIS or CSL-JSON, to download."""
    reader = viewer.user if viewer is not None else None
    with sessions() as session:
        found = library.readable_collection(session, reader=reader, username=username, slug=slug)
        done = library_files.export_collection(
            session, collection=found.collection, owner=found.owner, fmt=fmt
        )
    return Response(
        done.text.encode(),
        media_type=f"{done.media_type}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{done.filename}"',
            # A private collection's file is its owner's alone, and a shared one may stop being shared.
            "Cache-Control": "no-store",
        },
    )


# -- a collection's page and feed -----------------------------------------------------------------------


@router.get("/u/{username}/c/{slug}")
def collection_page(
    username: str,
    slug: str,
    request: Request,
    renderer: RendererDep,
    sessions: SessionsDep,
    viewer: ViewerDep,
    page: PageQuery = 1,
) -> Response:
    reader = viewer.user if viewer is not None else None
    with sessions() as session:
        found = library.readable_collection(session, reader=reader, username=username, slug=slug)
        owner, collection = found.owner, found.collection
        if owner.username != username:
            return RedirectResponse(collection_path(owner.username, collection.slug), status_code=301)
        total = store.count_entries(session, collection_id=collection.id)
        pages = max(1, -(-total // COLLECTION_PAGE))
        if page > pages:
            raise NotFoundError(f"Page {page} is past the last page ({pages}) of this collection.")
        entries = store.collection_entries(
            session, collection_id=collection.id, limit=COLLECTION_PAGE, offset=(page - 1) * COLLECTION_PAGE
        )
        cards = store.paper_cards(session, ids=[e.paper_id for e in entries])
        ids = [c.id for c in cards]
        voted = store.voted_ids(session, user_id=reader.id, paper_ids=ids) if reader else set()
        saved = store.saved_ids(session, owner_id=reader.id, paper_ids=ids) if reader else set()
    return render_page(
        request,
        renderer,
        "library/collection.html",
        viewer=viewer,
        nav="library" if found.own else "",
        collection=collection,
        owner=owner,
        own=found.own,
        cards=cards,
        notes={e.paper_id: e.note for e in entries},
        total=total,
        page=page,
        pages=pages,
        rank_offset=(page - 1) * COLLECTION_PAGE,
        voted=voted,
        saved=saved,
        here=collection_path(owner.username, collection.slug),
        limits={
            "name": library.MAX_NAME_CHARS,
            "description": library.MAX_DESCRIPTION_CHARS,
            "slug": library.MAX_SLUG_CHARS,
            "note": library.MAX_NOTE_CHARS,
        },
        is_default=collection.slug == library.DEFAULT_SLUG,
        export_formats=[(fmt, library_files.FORMAT_LABELS[fmt]) for fmt in library_files.EXPORT_FORMATS],
    )


def _item_html(card: PaperCard, note: str) -> str:
    """An RSS description: the owner's note, the authors, the abstract; every piece escaped for HTML
    (RSS readers take descriptions as HTML; lxml escapes the result once more, as XML)."""
    parts = [f"<p><strong>Note:</strong> {html.escape(note)}</p>"] if note else []
    if card.authors:
        parts.append(f"<p>{html.escape(', '.join(card.authors[:20]))}</p>")
    if card.abstract:
        parts.append(f"<p>{html.escape(card.abstract)}</p>")
    return "".join(parts)


def _xml(text: str | None) -> str:
    """Text with the characters XML 1.0 cannot carry removed."""
    return "".join(c for c in text or "" if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff"))


@router.get("/u/{username}/c/{slug}/rss")
def collection_rss(username: str, slug: str, request: Request, sessions: SessionsDep) -> Response:
    """RSS 2.0 of a shared collection, the most recently added papers first (private ones: 404)."""
    with sessions() as session:
        found = library.readable_collection(session, reader=None, username=username, slug=slug)
        owner, collection = found.owner, found.collection
        entries = store.collection_entries(session, collection_id=collection.id, limit=FEED_ITEMS)
        cards = {
            c.id: c
            for c in store.paper_cards(session, ids=[e.paper_id for e in entries], abstract_chars=None)
        }
    base = str(request.base_url).rstrip("/")
    page = base + collection_path(owner.username, collection.slug)
    feed = FeedGenerator()
    feed.id(page + "/rss")
    feed.title(_xml(f"{collection.name} · {owner.username} · {SITE_NAME}"))
    feed.description(
        _xml(collection.description or f"Papers {owner.username} collected in {collection.name}.")
    )
    # feedgen takes the RSS <link> from the last link given: the page, after the feed's own address.
    feed.link(href=page + "/rss", rel="self")
    feed.link(href=page, rel="alternate")
    feed.language("en")
    feed.generator(SITE_NAME, version=__version__)
    feed.lastBuildDate(max((e.added_at for e in entries), default=datetime(1970, 1, 1, tzinfo=UTC)))
    for entry in entries:
        card = cards.get(entry.paper_id)
        if card is None:
            continue
        item = feed.add_entry(order="append")
        url = base + paper_path(card.id)
        item.id(url)
        item.guid(url, permalink=True)
        item.title(_xml(card.title) or card.id)
        item.link(href=url)
        item.published(entry.added_at)
        item.description(_xml(_item_html(card, entry.note)))
        for category in card.categories:
            item.category(term=_xml(category))
    return Response(
        feed.rss_str(),
        media_type="application/rss+xml; charset=utf-8",
        # Revalidated on every read: a collection that stops being shared must stop being served.
        headers={"Cache-Control": "no-cache"},
    )


__all__ = ["collection_path", "router"]

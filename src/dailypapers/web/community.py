"""Community pages and forms: upvotes, comments, profiles, moderation (submitting is in ``submit.py``).

Forms post and redirect back (so they work without JavaScript); the upvote form answers JSON instead
when asked for it (``Accept: application/json``), which ``app.js`` uses to vote without a reload. Every
post goes through ``FormViewerDep``: a visitor without a session is sent to the log-in page, and a post
without this browser's CSRF token is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import RedirectResponse, Response

from dailypapers import store
from dailypapers.community import discussion, moderation
from dailypapers.errors import InvalidInput, NotAllowed, NotFoundError
from dailypapers.web.auth import NO_STORE, FormViewerDep, SignedInDep, ViewerDep, render_page, safe_next
from dailypapers.web.common import FormText, known_paper_id
from dailypapers.web.deps import NowDep, RendererDep, SessionsDep, SettingsDep
from dailypapers.web.render import paper_path, profile_path

router = APIRouter(include_in_schema=False)

PROFILE_ITEMS = 50
MODERATION_PAGE = 100


def _back_to(request: Request, default: str) -> str:
    """Where a form should return to: the page it was on (same site only), else ``default``."""
    referer = request.headers.get("referer", "")
    if referer:
        parts = urlsplit(referer)
        if parts.netloc == request.url.netloc:
            return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""), default)
    return default


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


# -- votes ---------------------------------------------------------------------------------------------


@router.post("/papers/{paper_id:path}/upvote")
def vote(
    paper_id: str,
    request: Request,
    sessions: SessionsDep,
    viewer: FormViewerDep,
    now: NowDep,
    renderer: RendererDep,
    action: FormText = "add",
) -> Response:
    paper_id = known_paper_id(sessions, paper_id)
    try:
        with sessions.begin() as session:
            if action == "remove":
                discussion.remove_upvote(session, user=viewer.user, paper_id=paper_id)
            else:
                discussion.upvote(session, user=viewer.user, paper_id=paper_id, now=now)
    except NotAllowed as refused:
        # app.js shows the reason beside the button; without it, a page that says why and leads back.
        if _wants_json(request):
            return JSONResponse({"error": str(refused), "status": 403}, status_code=403, headers=NO_STORE)
        back = _back_to(request, paper_path(paper_id))
        return render_page(
            request,
            renderer,
            "accounts/message.html",
            viewer=viewer,
            status=403,
            heading="Your upvote was not counted",
            paragraphs=[str(refused)],
            links=[("Back to the page you were on", back), ("Your account", "/account#verify")],
            action_url=None,
            nav="",
            q="",
        )
    with sessions() as session:
        counts = store.paper_counts(session, paper_id=paper_id)
        voted = store.has_voted(session, user_id=viewer.user.id, paper_id=paper_id)
    if _wants_json(request):
        return JSONResponse(
            {"paperId": paper_id, "upvotes": counts.upvotes, "upvoted": voted}, headers=NO_STORE
        )
    return RedirectResponse(_back_to(request, paper_path(paper_id)), status_code=303, headers=NO_STORE)


# -- comments ------------------------------------------------------------------------------------------


def _parent(value: str) -> int | None:
    if not value.strip():
        return None
    if not value.strip().isdigit() or len(value.strip()) > 10:
        raise InvalidInput({"parent_id": "The comment to reply to is not valid."})
    return int(value)


def comment_url(
    sessions: sessionmaker[Session], paper_id: str, comment_id: int, *, moderator: bool = False
) -> str:
    """The address of a comment on the page of the discussion that shows it."""
    with sessions() as session:
        threads = discussion.build_threads(
            store.paper_comments(session, paper_id=paper_id), show_hidden=moderator
        )
    page = discussion.page_of(threads, comment_id=comment_id)
    return f"{paper_path(paper_id)}{f'?page={page}' if page > 1 else ''}#comment-{comment_id}"


@router.post("/papers/{paper_id:path}/comments")
def comment(
    paper_id: str,
    sessions: SessionsDep,
    settings: SettingsDep,
    viewer: FormViewerDep,
    now: NowDep,
    text: FormText = "",
    parent_id: FormText = "",
) -> Response:
    paper_id = known_paper_id(sessions, paper_id)
    with sessions.begin() as session:
        comment_id = discussion.post_comment(
            session,
            user=viewer.user,
            paper_id=paper_id,
            text=text,
            parent_id=_parent(parent_id),
            now=now,
            per_hour=settings.comments_per_hour,
        )
    return RedirectResponse(comment_url(sessions, paper_id, comment_id), status_code=303, headers=NO_STORE)


@router.post("/comments/{comment_id}/edit")
def edit(
    comment_id: int, sessions: SessionsDep, viewer: FormViewerDep, now: NowDep, text: FormText = ""
) -> Response:
    with sessions.begin() as session:
        paper_id = discussion.edit_comment(
            session, user=viewer.user, comment_id=comment_id, text=text, now=now
        )
    return RedirectResponse(comment_url(sessions, paper_id, comment_id), status_code=303, headers=NO_STORE)


@router.post("/comments/{comment_id}/delete")
def delete(
    comment_id: int,
    request: Request,
    renderer: RendererDep,
    sessions: SessionsDep,
    viewer: FormViewerDep,
    now: NowDep,
    confirmed: FormText = "",
) -> Response:
    """Delete one's own comment once it is confirmed: the page's script asks first and sends
    ``confirmed=yes``; without the script the form leads to a page that asks (nothing is deleted yet)."""
    if confirmed != "yes":
        with sessions() as session:
            row = store.comment_row(session, comment_id=comment_id)
        if row is None:
            raise NotFoundError(f"There is no comment {comment_id}.")
        if row.user_id != viewer.user.id:
            raise NotAllowed("You can only change your own comments.")
        if row.status != "visible":
            return RedirectResponse(
                f"{paper_path(row.paper_id)}#discussion", status_code=303, headers=NO_STORE
            )
        return render_page(
            request,
            renderer,
            "delete_comment.html",
            viewer=viewer,
            comment=row,
            back=comment_url(sessions, row.paper_id, row.id),
        )
    with sessions.begin() as session:
        paper_id = discussion.delete_comment(session, user=viewer.user, comment_id=comment_id, now=now)
    return RedirectResponse(f"{paper_path(paper_id)}#discussion", status_code=303, headers=NO_STORE)


def _after_moderating(
    sessions: sessionmaker[Session], paper_id: str, comment_id: int, next_path: str, notice: str
) -> Response:
    """Back to the moderation page when the form came from there (with a notice), else to the comment."""
    target = safe_next(next_path, "")
    if urlsplit(target).path == "/moderation":
        joiner = "&" if "?" in target else "?"
        return RedirectResponse(f"{target}{joiner}{notice}={comment_id}", status_code=303, headers=NO_STORE)
    url = comment_url(sessions, paper_id, comment_id, moderator=True)
    return RedirectResponse(url, status_code=303, headers=NO_STORE)


@router.post("/comments/{comment_id}/hide")
def hide(
    comment_id: int,
    sessions: SessionsDep,
    viewer: FormViewerDep,
    now: NowDep,
    reason: FormText = "",
    next: FormText = "",
) -> Response:
    with sessions.begin() as session:
        paper_id = moderation.hide_comment(
            session, moderator=viewer.user, comment_id=comment_id, reason=reason, now=now
        )
    return _after_moderating(sessions, paper_id, comment_id, next, "hidden")


@router.post("/comments/{comment_id}/unhide")
def unhide(
    comment_id: int,
    sessions: SessionsDep,
    viewer: FormViewerDep,
    now: NowDep,
    reason: FormText = "",
    next: FormText = "",
) -> Response:
    with sessions.begin() as session:
        paper_id = moderation.unhide_comment(
            session, moderator=viewer.user, comment_id=comment_id, reason=reason, now=now
        )
    return _after_moderating(sessions, paper_id, comment_id, next, "shown")


# -- profiles ------------------------------------------------------------------------------------------


@router.get("/u/{username}")
def profile(
    username: str, request: Request, renderer: RendererDep, sessions: SessionsDep, viewer: ViewerDep
) -> Response:
    with sessions() as session:
        user = store.user_by_name(session, username=username) if len(username) <= 64 else None
        if user is None:
            raise HTTPException(404, f"There is no account {username!r} here.")
        if user.username != username:
            return RedirectResponse(profile_path(user.username), status_code=301)
        submitted = store.paper_cards(
            session, ids=store.user_submissions(session, user_id=user.id, limit=PROFILE_ITEMS)
        )
        own = viewer is not None and viewer.user.id == user.id
        upvotes_shown = user.show_upvotes or own
        upvoted = (
            store.paper_cards(session, ids=store.user_upvoted(session, user_id=user.id, limit=PROFILE_ITEMS))
            if upvotes_shown
            else []
        )
        comments = store.user_comments(session, user_id=user.id, limit=PROFILE_ITEMS)
        titles = store.paper_texts(session, ids=[c.paper_id for c in comments])
        shown = [c.id for c in submitted + upvoted]
        voted = store.voted_ids(session, user_id=viewer.user.id, paper_ids=shown) if viewer else set()
        saved = store.saved_ids(session, owner_id=viewer.user.id, paper_ids=shown) if viewer else set()
    return render_page(
        request,
        renderer,
        "profile.html",
        viewer=viewer,
        person=user,
        own=own,
        submitted=submitted,
        upvoted=upvoted,
        upvotes_shown=upvotes_shown,
        comments=comments,
        titles={paper_id: title for paper_id, (title, _) in titles.items()},
        voted=voted,
        saved=saved,
    )


def _moderate(
    sessions: sessionmaker[Session], username: str, decide: Callable[..., object], **details: object
) -> Response:
    """Apply one moderation decision (``decide(session, target=..., **details)``) to the account
    ``username`` (404 when there is none), then show its profile."""
    with sessions.begin() as session:
        target = store.user_by_name(session, username=username)
        if target is None:
            raise HTTPException(404, f"There is no account {username!r} here.")
        decide(session, target=target, **details)
    return RedirectResponse(profile_path(username), status_code=303, headers=NO_STORE)


@router.post("/u/{username}/ban")
def ban(
    username: str, sessions: SessionsDep, viewer: FormViewerDep, now: NowDep, reason: FormText = ""
) -> Response:
    return _moderate(sessions, username, moderation.ban, moderator=viewer.user, reason=reason, now=now)


@router.post("/u/{username}/unban")
def unban(
    username: str, sessions: SessionsDep, viewer: FormViewerDep, now: NowDep, reason: FormText = ""
) -> Response:
    return _moderate(sessions, username, moderation.unban, moderator=viewer.user, reason=reason, now=now)


@router.post("/u/{username}/role")
def set_role(
    username: str, sessions: SessionsDep, viewer: FormViewerDep, now: NowDep, role: FormText = ""
) -> Response:
    return _moderate(sessions, username, moderation.set_role, admin=viewer.user, role=role, now=now)


# -- moderation ----------------------------------------------------------------------------------------


MODERATION_NOTICES = {
    "hidden": "Comment {id} is hidden. It is listed under “Hidden comments”, where it can be shown again.",
    "shown": "Comment {id} is shown again.",
}


def _moderation_notice(request: Request) -> str:
    for key, text in MODERATION_NOTICES.items():
        value = request.query_params.get(key, "")
        if value.isdigit() and len(value) <= 12:
            return text.format(id=int(value))
    return ""


@router.get("/moderation")
def moderation_page(
    request: Request, renderer: RendererDep, sessions: SessionsDep, viewer: SignedInDep, page: int = 1
) -> Response:
    if not viewer.user.is_moderator:
        raise NotAllowed("The moderation page is for moderators.")
    page = max(1, min(page, 10_000))
    with sessions() as session:
        log = store.moderation_log(session, limit=MODERATION_PAGE + 1, offset=(page - 1) * MODERATION_PAGE)
        hidden = store.hidden_comments(session)
        recent = store.recent_comments(session)
        banned = store.banned_users(session)
        titles = store.paper_texts(session, ids=[c.paper_id for c in hidden + recent])
    return render_page(
        request,
        renderer,
        "moderation.html",
        viewer=viewer,
        nav="moderation",
        log=log[:MODERATION_PAGE],
        more=len(log) > MODERATION_PAGE,
        page=page,
        hidden=hidden,
        recent=recent,
        banned=banned,
        titles={paper_id: title for paper_id, (title, _) in titles.items()},
        notice=_moderation_notice(request),
        here="/moderation" + (f"?page={page}" if page > 1 else ""),
    )


__all__ = ["router"]

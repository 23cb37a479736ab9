"""API writes with personal API tokens: upvotes, comments, submissions; and the comments of a paper.

Reads stay open to everyone. Writes take ``Authorization: Bearer dp_...`` and nothing else: no cookie
is looked at, so a page on another site cannot make a visitor's browser write through the API (the
browser would have to send the token, which it does not know), and the CORS preflight allows only
reads from other origins anyway.

Errors are the API's usual JSON (``{"error", "status"}``): 401 with ``WWW-Authenticate: Bearer`` for a
missing or unknown token, 403 for a banned or unconfirmed account, 404, 409 (a paper on the feed
already), 422 (invalid body, or a paper too old to submit), 429 (daily submission limit, every attempt
counted, or the hourly comment limit, with ``Retry-After``), 503 (arXiv not reachable within the
budget, or too many look-ups waiting).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import JSONResponse

from dailypapers import store
from dailypapers.community import accounts, discussion
from dailypapers.community.markdown import render_comment
from dailypapers.community.submissions import submit_paper
from dailypapers.errors import AlreadyDone, NotFoundError, UpstreamError
from dailypapers.models import User
from dailypapers.store.community import CommentRow
from dailypapers.web.common import PaperIdPath, known_paper_id
from dailypapers.web.deps import NowDep, PaperFetcherDep, SessionsDep, SettingsDep
from dailypapers.web.errors import BEARER_CHALLENGE
from dailypapers.web.render import paper_path
from dailypapers.web.schemas import (
    CommentIn,
    CommentOut,
    CommentsResponse,
    ErrorResponse,
    SubmitIn,
    SubmitResponse,
    VoteResponse,
    hf_time,
)
from dailypapers.web.submitting import (
    UPSTREAM_RETRY_AFTER_SECONDS,
    arxiv_fetch,
    describe_place,
    upstream_message,
)

router = APIRouter(prefix="/api", tags=["community"])

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiToken",
    description="A personal API token (dp_...) from your account page or `dailypapers users token NAME`.",
    bearerFormat="dp_...",
)


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The body is not JSON."),
    401: _error("No API token, or one that is unknown or revoked."),
    403: _error("The account is banned, or its mail address is not confirmed yet."),
    404: _error("There is no such paper (or comment)."),
    422: _error("The request is not valid; `problems` says what is wrong."),
}


def api_user(
    request: Request,
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
    with sessions.begin() as session:
        user = accounts.user_for_api_token(session, token=credentials.credentials, now=now)
    if user is None:
        raise HTTPException(
            401,
            "This API token is not valid: it is mistyped or was revoked.",
            headers={"WWW-Authenticate": BEARER_CHALLENGE + ', error="invalid_token"'},
        )
    discussion.check_may_write(user)
    return user


ApiUser = Annotated[User, Depends(api_user)]


def _vote_response(sessions: sessionmaker[Session], user: User, paper_id: str) -> VoteResponse:
    with sessions() as session:
        counts = store.paper_counts(session, paper_id=paper_id)
        voted = store.has_voted(session, user_id=user.id, paper_id=paper_id)
    return VoteResponse(paperId=paper_id, upvotes=counts.upvotes, upvoted=voted)


@router.post(
    "/papers/{paper_id:path}/upvote",
    response_model=VoteResponse,
    responses=AUTH_ERRORS,
    summary="Upvote a paper",
)
def upvote(paper_id: PaperIdPath, user: ApiUser, sessions: SessionsDep, now: NowDep) -> VoteResponse:
    """Upvote as the token's account. Idempotent: a second upvote changes nothing."""
    paper_id = known_paper_id(sessions, paper_id)
    with sessions.begin() as session:
        discussion.upvote(session, user=user, paper_id=paper_id, now=now)
    return _vote_response(sessions, user, paper_id)


@router.delete(
    "/papers/{paper_id:path}/upvote",
    response_model=VoteResponse,
    responses=AUTH_ERRORS,
    summary="Take an upvote back",
)
def remove_upvote(paper_id: PaperIdPath, user: ApiUser, sessions: SessionsDep) -> VoteResponse:
    """Idempotent: taking back an upvote that is not there changes nothing."""
    paper_id = known_paper_id(sessions, paper_id)
    with sessions.begin() as session:
        discussion.remove_upvote(session, user=user, paper_id=paper_id)
    return _vote_response(sessions, user, paper_id)


def _comment_out(row: CommentRow) -> CommentOut:
    visible = row.status == "visible"
    return CommentOut(
        id=row.id,
        paperId=row.paper_id,
        parentId=row.parent_id,
        author=row.author if visible else None,
        createdAt=hf_time(row.created_at) or "",
        editedAt=hf_time(row.edited_at) if visible else None,
        status=row.status,
        text=row.body if visible else None,
        html=str(render_comment(row.body)) if visible else None,
    )


MAX_COMMENTS_PER_CALL = 500


@router.get(
    "/papers/{paper_id:path}/comments",
    response_model=CommentsResponse,
    response_model_exclude_none=True,
    responses={
        404: _error("There is no such paper, or the discussion has fewer pages."),
        422: _error("`p` or `limit` is out of range."),
    },
    summary="The discussion of a paper",
)
def paper_comments(
    paper_id: PaperIdPath,
    sessions: SessionsDep,
    p: Annotated[int, Query(ge=0, le=1_000_000, description="page, from 0")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=MAX_COMMENTS_PER_CALL, description="comments per page")
    ] = discussion.COMMENTS_PER_PAGE,
) -> JSONResponse:
    """Comments in reading order, a page at a time; ``parentId`` rebuilds the threads, however deep."""
    paper_id = known_paper_id(sessions, paper_id)
    with sessions() as session:
        threads = discussion.build_threads(store.paper_comments(session, paper_id=paper_id))
        counts = store.paper_counts(session, paper_id=paper_id)
    ordered = discussion.reading_order(threads)
    pages = max(1, -(-len(ordered) // limit))
    if p >= pages:
        raise NotFoundError(f"This discussion has {pages} page(s) of {limit} comments; p counts from 0.")
    body = CommentsResponse(
        paperId=paper_id,
        numComments=counts.comments,
        comments=[_comment_out(node.comment) for node in ordered[p * limit : (p + 1) * limit]],
        p=p,
        pages=pages,
        total=len(ordered),
    )
    return JSONResponse(body.model_dump(mode="json", exclude_none=True))


@router.post(
    "/papers/{paper_id:path}/comments",
    response_model=CommentOut,
    response_model_exclude_none=True,
    status_code=201,
    responses={
        **AUTH_ERRORS,
        429: _error(
            "The account posted its hourly number of comments; Retry-After says when it can post again."
        ),
    },
    summary="Comment on a paper, or reply to a comment",
)
def post_comment(
    paper_id: PaperIdPath,
    body: CommentIn,
    user: ApiUser,
    settings: SettingsDep,
    sessions: SessionsDep,
    now: NowDep,
) -> JSONResponse:
    paper_id = known_paper_id(sessions, paper_id)
    with sessions.begin() as session:
        comment_id = discussion.post_comment(
            session,
            user=user,
            paper_id=paper_id,
            text=body.text,
            parent_id=body.parent_id,
            now=now,
            per_hour=settings.comments_per_hour,
        )
    with sessions() as session:
        row = store.comment_row(session, comment_id=comment_id)
    assert row is not None
    return JSONResponse(_comment_out(row).model_dump(mode="json", exclude_none=True), status_code=201)


@router.post(
    "/papers/submit",
    response_model=SubmitResponse,
    status_code=201,
    responses={
        **AUTH_ERRORS,
        404: _error("arXiv has no paper with this id."),
        409: _error("The paper is on the feed already; the message says since when and who submitted it."),
        422: _error(
            "The id is not an arXiv id, or the paper is too old to submit: `problems` says when it was "
            "first posted and how recent a paper must be."
        ),
        429: _error(
            "The account reached its daily limit (every attempt counts, found or not); Retry-After says when "
            "it resets."
        ),
        503: _error(
            "arXiv could not be reached in time, or too many look-ups are waiting; nothing was added."
        ),
    },
    summary="Submit a paper to today's feed",
)
def submit(
    request: Request,
    body: SubmitIn,
    user: ApiUser,
    settings: SettingsDep,
    sessions: SessionsDep,
    fetcher: PaperFetcherDep,
    now: NowDep,
) -> JSONResponse:
    """Put a recent arXiv paper on today's feed, fetching its metadata from arXiv when it is new here.

    Every call that names a paper not on the feed yet counts toward the account's daily limit."""
    try:
        done = submit_paper(sessions, settings, user=user, text=body.id, fetch=arxiv_fetch(fetcher), now=now)
    except UpstreamError as exc:
        raise HTTPException(
            503,
            upstream_message(exc, not_done="your submission was not added"),
            headers={"Retry-After": str(UPSTREAM_RETRY_AFTER_SECONDS)},
        ) from None
    if not done.added:
        raise AlreadyDone(f"{done.paper_id} is on the feed already. {describe_place(done)}")
    result = SubmitResponse(
        id=done.paper_id,
        title=done.title,
        day=done.place.day.isoformat(),
        submittedBy=user.username,
        url=str(request.base_url).rstrip("/") + paper_path(done.paper_id),
    )
    return JSONResponse(result.model_dump(mode="json"), status_code=201)


__all__ = ["api_user", "bearer", "router"]

"""Submitting a paper to the day's feed, and fetching one from arXiv, from the site: forms and answers.

The rules (who may, how many a day, how recent a paper must be) live in
:mod:`dailypapers.community.submissions`; this module turns their outcomes into pages. arXiv is asked
through the app's :class:`~dailypapers.upstream.PaperFetcher` (``app.state.paper_fetcher``), which bounds
how many requests wait for arXiv at once and how long each waits, so a burst of submissions, or an
arXiv that does not answer, leaves the site's other pages alone. When arXiv fails the visitor reads a
plain sentence; the technical detail goes to the log.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from dailypapers.community.submissions import fetch_paper, submit_paper
from dailypapers.config import Settings
from dailypapers.errors import (
    CommunityError,
    InvalidInput,
    NotFoundError,
    TooManyRequests,
    UpstreamError,
)
from dailypapers.web.auth import FormViewerDep, SignedInDep, Viewer, message_page, render_page
from dailypapers.web.common import FormText
from dailypapers.web.deps import NowDep, PaperFetcherDep, RendererDep, SessionsDep, SettingsDep
from dailypapers.web.render import Renderer, paper_path
from dailypapers.web.submitting import (
    UPSTREAM_RETRY_AFTER_SECONDS,
    arxiv_fetch,
    describe_place,
    upstream_message,
)

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


def refusal(exc: CommunityError | NotFoundError | UpstreamError, *, not_done: str) -> tuple[int, str]:
    """The HTTP status and the sentence for a submission or fetch that did not happen."""
    if isinstance(exc, InvalidInput):
        return 400, " ".join(exc.problems.values())
    if isinstance(exc, NotFoundError):
        return 404, str(exc)
    if isinstance(exc, TooManyRequests):
        return 429, str(exc)
    if isinstance(exc, UpstreamError):
        log.warning("arXiv look-up failed: %s", exc)
        return 503, upstream_message(exc, not_done=not_done)
    return 403, str(exc)


def _with_retry_after(response: Response, exc: Exception) -> Response:
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(int(exc.retry_after + 0.999))
    elif isinstance(exc, UpstreamError):
        response.headers["Retry-After"] = str(UPSTREAM_RETRY_AFTER_SECONDS)
    return response


def _form(
    request: Request,
    renderer: Renderer,
    settings: Settings,
    viewer: Viewer,
    *,
    template: str,
    nav: str = "",
    value: str = "",
    problem: str = "",
    status: int = 200,
) -> Response:
    return render_page(
        request,
        renderer,
        template,
        viewer=viewer,
        status=status,
        nav=nav,
        value=value,
        problems=[problem] if problem else [],
        limit=settings.submissions_per_day,
        max_age_days=settings.submission_max_age_days,
    )


def _refused(
    request: Request,
    renderer: Renderer,
    settings: Settings,
    viewer: Viewer,
    exc: CommunityError | NotFoundError | UpstreamError,
    *,
    template: str,
    nav: str = "",
    value: str,
    not_done: str,
) -> Response:
    """The form again, with the sentence that says why nothing was done (and when to retry)."""
    status, problem = refusal(exc, not_done=not_done)
    page = _form(
        request, renderer, settings, viewer, template=template, nav=nav,
        value=value, problem=problem, status=status,
    )  # fmt: skip
    return _with_retry_after(page, exc)


@router.get("/submit")
def submit_page(
    request: Request, renderer: RendererDep, settings: SettingsDep, viewer: SignedInDep
) -> Response:
    return _form(request, renderer, settings, viewer, template="submit.html", nav="submit")


@router.post("/submit")
def submit(
    request: Request,
    renderer: RendererDep,
    settings: SettingsDep,
    sessions: SessionsDep,
    fetcher: PaperFetcherDep,
    viewer: FormViewerDep,
    now: NowDep,
    paper: FormText = "",
) -> Response:
    try:
        done = submit_paper(
            sessions, settings, user=viewer.user, text=paper, fetch=arxiv_fetch(fetcher), now=now
        )
    except (CommunityError, NotFoundError, UpstreamError) as exc:
        return _refused(
            request, renderer, settings, viewer, exc, template="submit.html", nav="submit",
            value=paper, not_done="your submission was not added",
        )  # fmt: skip
    if done.added:
        heading = "Thank you: the paper is on today's feed"
        text = f"“{done.title}” is on the feed of today, submitted by you."
    else:
        heading = "This paper is on the feed already"
        text = f"“{done.title}”: {describe_place(done)}"
    return message_page(
        request,
        renderer,
        heading,
        text,
        viewer=viewer,
        links=[
            ("Open the paper", paper_path(done.paper_id)),
            ("Today's papers", "/"),
            ("Submit another", "/submit"),
        ],
    )


@router.get("/fetch")
def fetch_page(
    request: Request, renderer: RendererDep, settings: SettingsDep, viewer: SignedInDep, paper: str = ""
) -> Response:
    """The form that fetches one arXiv paper onto the site (search offers it for an id it lacks)."""
    return _form(request, renderer, settings, viewer, template="fetch.html", value=paper[:300])


@router.post("/fetch")
def fetch(
    request: Request,
    renderer: RendererDep,
    settings: SettingsDep,
    sessions: SessionsDep,
    fetcher: PaperFetcherDep,
    viewer: FormViewerDep,
    now: NowDep,
    paper: FormText = "",
) -> Response:
    """Fetch one arXiv paper into the database, off the feed, and open its page."""
    try:
        done = fetch_paper(
            sessions, settings, user=viewer.user, text=paper, fetch=arxiv_fetch(fetcher), now=now
        )
    except (CommunityError, NotFoundError, UpstreamError) as exc:
        return _refused(
            request, renderer, settings, viewer, exc, template="fetch.html",
            value=paper, not_done="the paper was not fetched",
        )  # fmt: skip
    return RedirectResponse(paper_path(done.paper_id), status_code=303)


__all__ = ["refusal", "router"]

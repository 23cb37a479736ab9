"""Submitting a paper to the day's feed from the site: the form, its answers, and the arXiv look-up.

The rules (who may submit, how many a day) live in :mod:`dailypapers.community.submissions`; this module
turns their outcomes into pages.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from dailypapers.community.submissions import Submitted, submit_paper
from dailypapers.config import Settings
from dailypapers.errors import InvalidInput, NotFoundError, TooManyRequests, UpstreamError
from dailypapers.ingest.clients import Clients, make_clients
from dailypapers.ingest.records import ParsedItem
from dailypapers.web.accounts import message_page, render_page
from dailypapers.web.auth import FormViewerDep, SignedInDep, Viewer
from dailypapers.web.common import FormText
from dailypapers.web.deps import NowDep, RendererDep, SessionsDep, SettingsDep
from dailypapers.web.render import Renderer, paper_path

router = APIRouter(include_in_schema=False)

_clients_lock = threading.Lock()


def arxiv_fetch(request: Request) -> Any:
    """``fetch_ids`` of one arXiv client per app, so that its pause between calls holds across requests."""
    with _clients_lock:
        clients: Clients | None = getattr(request.app.state, "clients", None)
        if clients is None:
            clients = make_clients(request.app.state.settings)
            request.app.state.clients = clients

    def fetch(ids: Any) -> list[ParsedItem]:
        return clients.arxiv.fetch_ids(ids)

    return fetch


def _submit_form(
    request: Request,
    renderer: Renderer,
    settings: Settings,
    viewer: Viewer,
    *,
    value: str = "",
    problem: str = "",
    status: int = 200,
) -> Response:
    return render_page(
        request,
        renderer,
        "submit.html",
        viewer=viewer,
        status=status,
        nav="submit",
        value=value,
        problems=[problem] if problem else [],
        limit=settings.submissions_per_day,
    )


@router.get("/submit")
def submit_page(
    request: Request, renderer: RendererDep, settings: SettingsDep, viewer: SignedInDep
) -> Response:
    return _submit_form(request, renderer, settings, viewer)


def describe_place(done: Submitted) -> str:
    place = done.place
    when = f"{place.added_at.day} {place.added_at:%b %Y, %H:%M} UTC"
    day = f"{place.day.day} {place.day:%b %Y}"
    if place.source == "submission" and place.submitted_by:
        return f"It is on the feed of {day}, submitted by {place.submitted_by} on {when}."
    if place.submitted_by:
        return f"It is on the feed of {day}, submitted by {place.submitted_by} (from {place.source})."
    return f"It is on the feed of {day} (from {place.source})."


@router.post("/submit")
def submit(
    request: Request,
    renderer: RendererDep,
    settings: SettingsDep,
    sessions: SessionsDep,
    viewer: FormViewerDep,
    now: NowDep,
    paper: FormText = "",
) -> Response:
    try:
        done = submit_paper(
            sessions, settings, user=viewer.user, text=paper, fetch=arxiv_fetch(request), now=now
        )
    except InvalidInput as exc:
        return _submit_form(
            request,
            renderer,
            settings,
            viewer,
            value=paper,
            problem=" ".join(exc.problems.values()),
            status=400,
        )
    except NotFoundError as exc:
        return _submit_form(request, renderer, settings, viewer, value=paper, problem=str(exc), status=404)
    except TooManyRequests as exc:
        response = _submit_form(
            request, renderer, settings, viewer, value=paper, problem=str(exc), status=429
        )
        response.headers["Retry-After"] = str(int(exc.retry_after + 0.999))
        return response
    except UpstreamError as exc:
        problem = f"arXiv did not answer ({exc}). Try again in a few minutes."
        return _submit_form(request, renderer, settings, viewer, value=paper, problem=problem, status=503)
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


__all__ = ["arxiv_fetch", "describe_place", "router"]

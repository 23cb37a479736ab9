"""What the site's submit forms (``submit.py``) and the API (``api_community.py``) say alike about a
submission: the arXiv look-up they hand to the rules, and the sentences for its outcomes.

The rules themselves live in :mod:`dailypapers.community.submissions`; the fetcher that bounds waiting on
arXiv is the app's (``deps.PaperFetcherDep``).
"""

from __future__ import annotations

from dailypapers.community.submissions import Fetch, Submitted
from dailypapers.errors import UpstreamBusy, UpstreamError
from dailypapers.upstream import PaperFetcher

UPSTREAM_RETRY_AFTER_SECONDS = 120


def upstream_message(exc: UpstreamError, *, not_done: str) -> str:
    """What a visitor reads when arXiv could not be asked: plain words, no exception text."""
    if isinstance(exc, UpstreamBusy):
        return f"Many papers are being looked up on arXiv right now; {not_done}. Try again in a few minutes."
    return f"arXiv could not be reached just now; {not_done}. Try again in a few minutes."


def arxiv_fetch(fetcher: PaperFetcher) -> Fetch:
    """The look-up the submission rules call: the app's bounded fetcher, with a budget that starts now
    (call it first thing in the request)."""
    return fetcher.budgeted()


def describe_place(done: Submitted) -> str:
    """Where a paper that was on the feed already sits, and who put it there."""
    place = done.place
    when = f"{place.added_at.day} {place.added_at:%b %Y, %H:%M} UTC"
    day = f"{place.day.day} {place.day:%b %Y}"
    if place.source == "submission" and place.submitted_by:
        return f"It is on the feed of {day}, submitted by {place.submitted_by} on {when}."
    if place.submitted_by:
        return f"It is on the feed of {day}, submitted by {place.submitted_by} (from {place.source})."
    return f"It is on the feed of {day} (from {place.source})."


__all__ = ["UPSTREAM_RETRY_AFTER_SECONDS", "arxiv_fetch", "describe_place", "upstream_message"]

"""Submitting a paper to the day's feed, as people do on Hugging Face's daily papers, and fetching one.

A signed-in, verified account names a paper by arXiv id or link. A paper already in the database is put
on the feed at once; otherwise its metadata is looked up on arXiv first (outside any database
transaction, through the web app's bounded :class:`~dailypapers.upstream.PaperFetcher`) and merged by
the ingest pipeline like any other record, with ``submission`` as its source. Putting it on the feed is
one ``INSERT ... ON CONFLICT DO NOTHING`` on the feed entry's unique paper id, so a paper submitted by
two people at once is on the feed once, and the second person is told who was first. *Fetching* a paper
brings it into the database without putting it on the feed (a search for an arXiv id that the site does
not have offers it).

The rules:

* Each account may make ``submissions_per_day`` attempts per UTC day, submissions and fetches together
  (moderators and admins: no limit). Every attempt counts, whatever comes of it: one for an id arXiv does
  not have, or one that fails because arXiv cannot be reached, costs arXiv and the site as much as one
  that works. Only a paper already on the feed (for a submission) or already in the database (for a
  fetch) costs nothing, since nothing is asked upstream. The attempt is written, under the account's
  row lock, before any upstream work, so parallel requests of one account cannot pass the limit
  together, and a burst of them asks arXiv at most ``submissions_per_day`` times.
* A paper can be submitted within ``submission_max_age_days`` of its first version on arXiv (the v1
  date), as on Hugging Face; older ones are refused with the date they were first posted. Moderators
  follow the same rule: the window keeps the feed and trending about new work, which is no question of
  trust. Fetching has no age limit, because it puts nothing on the feed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community.discussion import check_may_write
from dailypapers.config import Settings
from dailypapers.errors import (
    InvalidInput,
    NotAllowed,
    NotFoundError,
    TooManyRequests,
    UpstreamBusy,
    UpstreamError,
)
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import PaperRecord, Source
from dailypapers.models import User
from dailypapers.store.community import FeedPlace

Fetch = Callable[[str], PaperRecord | None]
"""Looks one paper up on arXiv by unversioned id: its record, or ``None`` when arXiv has no such paper.
Raises :class:`~dailypapers.errors.UpstreamError` when arXiv cannot be asked or does not answer in time
(``PaperFetcher.fetch``)."""


@dataclass(frozen=True, slots=True)
class Submitted:
    """What became of a submission: ``added`` is False when the paper was on the feed already."""

    paper_id: str
    title: str
    added: bool
    place: FeedPlace


@dataclass(frozen=True, slots=True)
class Fetched:
    """What became of a fetch: ``added`` is False when the paper was on the site already."""

    paper_id: str
    title: str
    added: bool


def arxiv_id_of(text: str) -> str:
    parsed = parse_arxiv_id(text.strip())
    if parsed is None:
        raise InvalidInput(
            {
                "id": "Give an arXiv identifier such as 2104.12255 or a link such as https://arxiv.org/abs/2104.12255."
            }
        )
    return parsed.id


# -- the age window ---------------------------------------------------------------------------------


def _utc_day(moment: datetime) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).date()


def first_version_day(published: datetime | None, version_dates: Iterable[tuple[Any, Any]]) -> date | None:
    """The UTC day of a paper's first version: its ``published`` date (arXiv's v1 date), or else the date
    listed for version 1; ``None`` when neither is known."""
    days = [_utc_day(published)] if published is not None else []
    for number, when in version_dates:
        if number == 1 and when:
            try:
                moment = when if isinstance(when, datetime) else datetime.fromisoformat(str(when))
            except ValueError:  # a malformed stored date says nothing; the other dates still count
                continue
            days.append(_utc_day(moment))
    return min(days) if days else None


def _record_first_day(record: PaperRecord) -> date | None:
    return first_version_day(record.published, ((v.number, v.date) for v in record.versions))


def _known_first_day(known: store.KnownPaper) -> date | None:
    pairs = ((v.get("version"), v.get("date")) for v in known.versions if isinstance(v, dict))
    return first_version_day(known.published_at, pairs)


def check_age(settings: Settings, *, paper_id: str, first: date | None, now: datetime) -> None:
    """Refuse a paper first posted more than ``submission_max_age_days`` (UTC) days before ``now``.

    A paper whose first version's date is unknown is let through: there is nothing to judge it by, and
    every arXiv record has one, so this only concerns papers imported from elsewhere.
    """
    window = settings.submission_max_age_days
    if window == 0 or first is None:
        return
    if (_utc_day(now) - first).days > window:
        days = "1 day" if window == 1 else f"{window} days"
        raise InvalidInput(
            {
                "id": (
                    f"{paper_id} was first posted on {first.isoformat()}; papers can be submitted within "
                    f"{days} of their first version."
                )
            }
        )


# -- the daily limit --------------------------------------------------------------------------------


def _day_start(now: datetime) -> datetime:
    return datetime.combine(_utc_day(now), time(0, 0), tzinfo=UTC)


def _count_attempt(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    user: User,
    paper_id: str,
    action: str,
    now: datetime,
) -> int:
    """Check the daily limit and record the attempt, in one transaction under the account's row lock."""
    with sessions.begin() as session:
        # The lock serialises one account's attempts: two requests at once cannot both see room left.
        store.lock_user_row(session, user_id=user.id)
        if not user.is_moderator:
            limit = settings.submissions_per_day
            if limit == 0:
                raise NotAllowed("Submitting and fetching papers is turned off on this site.")
            start = _day_start(now)
            if store.attempts_since(session, user_id=user.id, since=start) >= limit:
                raise TooManyRequests(
                    f"You have asked for {limit} papers today, the most one account may (every paper you "
                    "submit or fetch counts, found or not); try again after 00:00 UTC.",
                    retry_after=(start + timedelta(days=1) - now).total_seconds(),
                )
        return store.add_attempt(session, user_id=user.id, paper_id=paper_id, action=action, now=now)


def _finish(sessions: sessionmaker[Session], attempt_id: int, outcome: str, now: datetime) -> None:
    with sessions.begin() as session:
        store.finish_attempt(session, attempt_id=attempt_id, outcome=outcome, now=now)


def _look_up(
    sessions: sessionmaker[Session], fetch: Fetch, *, paper_id: str, attempt_id: int, now: datetime
) -> PaperRecord:
    """The arXiv record of ``paper_id``; the attempt is finished with what went wrong if there is none."""
    try:
        record = fetch(paper_id)
    except UpstreamBusy:
        _finish(sessions, attempt_id, "busy", now)
        raise
    except UpstreamError:
        _finish(sessions, attempt_id, "failed", now)
        raise
    if record is None:
        _finish(sessions, attempt_id, "not_found", now)
        raise NotFoundError(f"arXiv has no paper {paper_id}.")
    return record


# -- submitting and fetching -------------------------------------------------------------------------


def _already(session: Session, paper_id: str) -> Submitted | None:
    place = store.feed_place(session, paper_id=paper_id)
    if place is None:
        return None
    paper = store.get_paper(session, paper_id=paper_id)
    return Submitted(paper_id, paper.title if paper else paper_id, False, place)


def submit_paper(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    user: User,
    text: str,
    fetch: Fetch,
    now: datetime,
) -> Submitted:
    """Put the paper named by ``text`` on today's feed, looking it up on arXiv when it is new here."""
    check_may_write(user)
    paper_id = arxiv_id_of(text)
    with sessions() as session:
        done = _already(session, paper_id)
        if done is not None:
            return done
        known = store.known_paper(session, paper_id=paper_id)
    attempt_id = _count_attempt(sessions, settings, user=user, paper_id=paper_id, action="submit", now=now)
    record: PaperRecord | None = None
    if known is not None:
        first = _known_first_day(known)
    else:
        record = _look_up(sessions, fetch, paper_id=paper_id, attempt_id=attempt_id, now=now)
        first = _record_first_day(record)
    try:
        check_age(settings, paper_id=paper_id, first=first, now=now)
    except InvalidInput:
        _finish(sessions, attempt_id, "too_old", now)
        raise
    if record is not None:
        record.source = Source.SUBMISSION
        record.feed = None  # the feed entry is added below, where a race is decided
        Ingestor(sessions, now=lambda: now).ingest_records([record], label=f"submitted by {user.username}")
    with sessions.begin() as session:
        added = store.put_on_feed(
            session,
            paper_id=paper_id,
            day=_utc_day(now),
            user_id=user.id,
            username=user.username,
            now=now,
        )
        store.finish_attempt(session, attempt_id=attempt_id, outcome="added" if added else "already", now=now)
    with sessions() as session:
        paper = store.get_paper(session, paper_id=paper_id)
        place = store.feed_place(session, paper_id=paper_id)
    assert paper is not None and place is not None
    return Submitted(paper_id, paper.title, added, place)


def fetch_paper(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    user: User,
    text: str,
    fetch: Fetch,
    now: datetime,
) -> Fetched:
    """Bring the paper named by ``text`` into the database from arXiv, without putting it on the feed."""
    check_may_write(user)
    paper_id = arxiv_id_of(text)
    with sessions() as session:
        known = store.known_paper(session, paper_id=paper_id)
    if known is not None:
        return Fetched(paper_id, known.title, False)
    attempt_id = _count_attempt(sessions, settings, user=user, paper_id=paper_id, action="fetch", now=now)
    record = _look_up(sessions, fetch, paper_id=paper_id, attempt_id=attempt_id, now=now)
    record.source = Source.ARXIV_API
    record.feed = None
    Ingestor(sessions, now=lambda: now).ingest_records([record], label=f"fetched by {user.username}")
    _finish(sessions, attempt_id, "fetched", now)
    return Fetched(paper_id, record.title, True)


__all__ = [
    "Fetch",
    "Fetched",
    "Submitted",
    "arxiv_id_of",
    "check_age",
    "fetch_paper",
    "first_version_day",
    "submit_paper",
]

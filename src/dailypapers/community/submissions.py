"""Submitting a paper to the day's feed, as people do on Hugging Face's daily papers.

A signed-in, verified account names a paper by arXiv id or link. A paper already in the database is put
on the feed at once; otherwise its metadata is fetched from the arXiv API first (outside any database
transaction: a fetch can take seconds) and merged by the ingest pipeline like any other record, with
``submission`` as its source. Putting it on the feed is one ``INSERT ... ON CONFLICT DO NOTHING`` on the
feed entry's unique paper id, so a paper submitted by two people at once is on the feed once, and the
second person is told who was first.

Each account may submit ``submissions_per_day`` papers per UTC day (moderators and admins: no limit).
The count is checked before fetching and again under the account's row lock in the transaction that
adds the paper, so parallel requests of one account cannot pass the limit together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community.discussion import check_may_write
from dailypapers.config import Settings
from dailypapers.errors import InvalidInput, NotAllowed, NotFoundError, TooManyRequests
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import PaperRecord, ParsedItem, Source
from dailypapers.models import User
from dailypapers.store.community import FeedPlace

Fetch = Callable[[Sequence[str]], list[ParsedItem]]
"""Looks papers up on arXiv by id (``ArxivApiClient.fetch_ids``)."""


@dataclass(frozen=True, slots=True)
class Submitted:
    """What became of a submission: ``added`` is False when the paper was on the feed already."""

    paper_id: str
    title: str
    added: bool
    place: FeedPlace


def arxiv_id_of(text: str) -> str:
    parsed = parse_arxiv_id(text.strip())
    if parsed is None:
        raise InvalidInput(
            {
                "id": "Give an arXiv identifier such as 2104.12255 or a link such as https://arxiv.org/abs/2104.12255."
            }
        )
    return parsed.id


def _day_start(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), time(0, 0), tzinfo=UTC)


def _check_limit(session: Session, settings: Settings, user: User, now: datetime) -> None:
    if user.is_moderator:
        return
    if settings.submissions_per_day == 0:
        raise NotAllowed("Submitting papers is turned off on this site.")
    start = _day_start(now)
    if store.submissions_since(session, user_id=user.id, since=start) >= settings.submissions_per_day:
        tomorrow = start + timedelta(days=1)
        raise TooManyRequests(
            f"You have submitted {settings.submissions_per_day} papers today, the most one account may; "
            f"submit more after 00:00 UTC.",
            retry_after=(tomorrow - now).total_seconds(),
        )


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
    check_may_write(user)
    paper_id = arxiv_id_of(text)
    with sessions() as session:
        done = _already(session, paper_id)
        if done is not None:
            return done
        _check_limit(session, settings, user, now)
        known = store.paper_exists(session, paper_id=paper_id)
    if not known:
        records = [
            item for item in fetch([paper_id]) if isinstance(item, PaperRecord) and item.arxiv_id == paper_id
        ]
        if not records:
            raise NotFoundError(f"arXiv has no paper {paper_id}.")
        record = records[0]
        record.source = Source.SUBMISSION
        record.feed = None  # the feed entry is added below, where a race is decided
        Ingestor(sessions, now=lambda: now).ingest_records([record], label=f"submitted by {user.username}")
    with sessions.begin() as session:
        store.lock_user_row(session, user_id=user.id)
        _check_limit(session, settings, user, now)
        added = store.put_on_feed(
            session,
            paper_id=paper_id,
            day=now.astimezone(UTC).date(),
            user_id=user.id,
            username=user.username,
            now=now,
        )
    with sessions() as session:
        paper = store.get_paper(session, paper_id=paper_id)
        place = store.feed_place(session, paper_id=paper_id)
    assert paper is not None and place is not None
    return Submitted(paper_id, paper.title, added, place)


__all__ = ["Fetch", "Submitted", "arxiv_id_of", "submit_paper"]

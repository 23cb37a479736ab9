"""What the parsers produce: plain records, independent of any wire format and of the database.

Parsers turn bytes into :class:`PaperRecord` (one paper as one source described it) or
:class:`Rejected` (a record that could not be read, with where and why). The pipeline merges records
into the database; nothing here does I/O.

Dataclasses with slots rather than pydantic models: a snapshot ingest builds millions of them and
validation is done by the parsers themselves, where the reason for a rejection is known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Source(StrEnum):
    """Where a record came from. Stored with each paper so that it remembers every source."""

    ARXIV_API = "arxiv-api"
    ARXIV_OAI = "arxiv-oai"
    ARXIV_SNAPSHOT = "arxiv-snapshot"
    HUGGINGFACE = "huggingface"
    LISTING = "listing"
    BEIR = "beir"
    SUBMISSION = "submission"


@dataclass(slots=True)
class Version:
    number: int
    date: datetime | None = None


@dataclass(slots=True)
class FeedRecord:
    """A paper's appearance on the daily feed, as Hugging Face or a submitter recorded it."""

    day: date
    submitted_by: str | None = None
    upvotes: int = 0
    num_comments: int = 0


@dataclass(slots=True)
class PaperRecord:
    """One paper as one source describes it.

    ``arxiv_id`` is the identifier without version (``2104.12255``, ``hep-th/9901001``); papers from
    sources without arXiv ids leave it ``None`` and set ``external_id`` where the source has its own id.
    """

    source: Source
    title: str
    abstract: str = ""
    arxiv_id: str | None = None
    external_id: str | None = None
    dataset: str | None = None
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    version: int | None = None
    versions: list[Version] = field(default_factory=list)
    published: datetime | None = None
    updated: datetime | None = None
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    code_urls: list[str] = field(default_factory=list)
    project_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    feed: FeedRecord | None = None
    position: str = ""

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None


@dataclass(slots=True, frozen=True)
class Rejected:
    """A record that could not be read. ``position`` is human-readable: ``line 12``, ``entry 3``."""

    position: str
    reason: str


ParsedItem = PaperRecord | Rejected


_NOT_ALNUM = re.compile(r"[\W_]+")


def title_key(title: str) -> str:
    """A key under which two spellings of the same title compare equal (case, spacing, punctuation)."""
    return _NOT_ALNUM.sub("", title.casefold())


def new_on_feed(
    records: Iterable[ParsedItem], since: date, until: date | None = None
) -> Iterator[ParsedItem]:
    """Records fetched live from arXiv, with new papers put on the daily feed of their submission day.

    A paper is new when its first version was submitted in ``[since, until]``; updated old papers that a
    harvest also returns stay off the feed.
    """
    for record in records:
        if isinstance(record, PaperRecord) and record.feed is None and record.published is not None:
            day = record.published.date()
            if day >= since and (until is None or day <= until):
                record.feed = FeedRecord(day=day)
        yield record

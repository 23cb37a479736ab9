"""Hugging Face ``/api/daily_papers`` responses: a JSON array of papers featured on the daily page.

Each item pairs a ``paper`` (arXiv id, authors, abstract, AI summary, repository links) with its
appearance on the feed (day, submitter, upvotes, comments), which becomes a :class:`FeedRecord`.
Authors flagged ``hidden`` are kept: the flag only hides them on the Hugging Face page, and dropping
them would change the author list the paper itself gives.

An item whose fields have the wrong JSON type (``"upvotes": "many"``, ``"authors": "x"``, a number for a
date) is rejected with its position and the field at fault rather than read with the field emptied:
such a file was not written by the API, and a silently wrong count or author list would look real.
Missing and ``null`` fields are fine: the API leaves out what it does not know.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from dailypapers.errors import FormatError
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.ingest.formats._lines import json_type
from dailypapers.ingest.records import FeedRecord, PaperRecord, ParsedItem, Rejected, Source
from dailypapers.ingest.text import (
    clean_abstract,
    clean_title,
    code_repositories,
    latex_to_unicode,
    parse_datetime,
    project_page,
)


def parse_hf_daily_papers(data: bytes) -> list[ParsedItem]:
    """Parse a daily papers response; raises :class:`FormatError` when it is not a JSON array."""
    if not data.strip():
        raise FormatError("file is empty")
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as decode_error:
            raise FormatError(
                f"not UTF-8 text: invalid byte at byte offset {decode_error.start}; "
                "the API sends UTF-8, so save the response without re-encoding it"
            ) from None
        raise FormatError(f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
    if not isinstance(items, list):
        raise FormatError(
            f"expected a JSON array of daily papers, found a JSON {type(items).__name__}; "
            "save the response of https://huggingface.co/api/daily_papers as it is"
        )
    return [_parse_item(item, f"item {number}") for number, item in enumerate(items, start=1)]


class _WrongType(Exception):
    """A field holds a value of the wrong JSON type; the message is the rejection reason."""


def _parse_item(item: Any, position: str) -> ParsedItem:
    if not isinstance(item, dict):
        return Rejected(position, f"item is a JSON {json_type(item)}, expected an object")
    paper = item.get("paper")
    if paper is None:
        return Rejected(position, "item has no paper object")
    if not isinstance(paper, dict):
        return Rejected(position, f"paper is a JSON {json_type(paper)}, expected an object")
    try:
        return _record(item, paper, position)
    except _WrongType as problem:
        return Rejected(position, str(problem))


def _record(item: dict[str, Any], paper: dict[str, Any], position: str) -> ParsedItem:
    raw_id = _string(paper, "id", "paper.id")
    if not raw_id:
        return Rejected(position, "item has no paper.id")
    arxiv_id = parse_arxiv_id(raw_id)
    if arxiv_id is None:
        return Rejected(position, f"paper.id {raw_id!r} is not an arXiv id")
    title = clean_title(_string(paper, "title", "paper.title") or _string(item, "title", "title"))
    if not title:
        return Rejected(position, f"paper {arxiv_id.id} has no title")

    summary = _string(paper, "summary", "paper.summary") or _string(item, "summary", "summary")
    abstract = clean_abstract(summary)
    github_repo = _string(paper, "githubRepo", "paper.githubRepo").strip()
    code_urls = list(dict.fromkeys([*_repository_urls(github_repo), *code_repositories(abstract)]))
    published = _date(paper, "publishedAt", "paper.publishedAt") or _date(item, "publishedAt", "publishedAt")
    return PaperRecord(
        source=Source.HUGGINGFACE,
        title=title,
        abstract=abstract,
        arxiv_id=arxiv_id.id,
        version=arxiv_id.version,
        authors=_authors(paper.get("authors")),
        published=published,
        code_urls=code_urls,
        project_url=_string(paper, "projectPage", "paper.projectPage").strip() or project_page(abstract),
        extra=_extra(item, paper),
        feed=_feed(item, paper),
        position=position,
    )


def _authors(authors: Any) -> list[str]:
    if authors is None:
        return []
    if not isinstance(authors, list):
        raise _WrongType(f"paper.authors is a JSON {json_type(authors)}, expected an array of authors")
    names: list[str] = []
    for number, author in enumerate(authors, start=1):
        if not isinstance(author, dict):
            raise _WrongType(f"paper.authors[{number}] is a JSON {json_type(author)}, expected an object")
        name = latex_to_unicode(_string(author, "name", f"paper.authors[{number}].name"))
        if name:
            names.append(name)
    return names


def _repository_urls(github_repo: str) -> list[str]:
    if not github_repo:
        return []
    # Normalise to the owner/name URL the abstract links are reduced to, so the two deduplicate.
    return code_repositories(github_repo) or [github_repo]


def _feed(item: dict[str, Any], paper: dict[str, Any]) -> FeedRecord | None:
    # Counts are checked even when there is no day to put them on: a wrong type is wrong either way.
    upvotes = _count(paper, "upvotes", "paper.upvotes")
    num_comments = _count(item, "numComments", "numComments")
    # The day it was put on the daily page; the item's publishedAt is that day on older responses.
    submitted = _date(paper, "submittedOnDailyAt", "paper.submittedOnDailyAt") or _date(
        item, "publishedAt", "publishedAt"
    )
    if submitted is None:
        return None
    return FeedRecord(
        day=submitted.date(),
        submitted_by=_submitter(item, paper),
        upvotes=upvotes,
        num_comments=num_comments,
    )


def _submitter(item: dict[str, Any], paper: dict[str, Any]) -> str | None:
    by = paper.get("submittedOnDailyBy")
    if isinstance(by, dict):
        name = _string(by, "user", "paper.submittedOnDailyBy.user") or _string(
            by, "name", "paper.submittedOnDailyBy.name"
        )
        if name:
            return name
    by = item.get("submittedBy")
    if isinstance(by, dict):
        return _string(by, "name", "submittedBy.name") or None
    return None


def _extra(item: dict[str, Any], paper: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    keywords = paper.get("ai_keywords")
    if keywords is not None and not isinstance(keywords, list):
        raise _WrongType(f"paper.ai_keywords is a JSON {json_type(keywords)}, expected an array")
    if keywords:
        extra["ai_keywords"] = [str(keyword) for keyword in keywords]
    if summary := _string(paper, "ai_summary", "paper.ai_summary"):
        extra["ai_summary"] = summary
    if paper.get("githubStars") is not None:
        extra["github_stars"] = _count(paper, "githubStars", "paper.githubStars")
    if discussion := _string(paper, "discussionId", "paper.discussionId"):
        extra["hf_discussion_id"] = discussion
    organization = paper.get("organization") or item.get("organization")
    if isinstance(organization, dict) and (name := _string(organization, "name", "organization.name")):
        extra["organization"] = name
    return extra


def _string(obj: dict[str, Any], key: str, where: str) -> str:
    """The string at ``obj[key]``; "" when it is missing or null; any other type rejects the item."""
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _WrongType(f"{where} is a JSON {json_type(value)} ({_shown(value)}), expected a string")
    return value


def _date(obj: dict[str, Any], key: str, where: str) -> datetime | None:
    text = _string(obj, key, where)
    if not text:
        return None
    parsed = parse_datetime(text)
    if parsed is None:
        raise _WrongType(
            f"{where} {_shown(text)} is not a date (expected ISO 8601, e.g. 2026-06-12T08:00:00Z)"
        )
    return parsed


def _count(obj: dict[str, Any], key: str, where: str) -> int:
    value = obj.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        kind = (
            "a negative number"
            if isinstance(value, int) and not isinstance(value, bool)
            else (f"a JSON {json_type(value)}")
        )
        raise _WrongType(f"{where} is {kind} ({_shown(value)}), expected a count (0 or more)")
    return value


def _shown(value: Any) -> str:
    text = orjson.dumps(value).decode("utf-8", "replace")
    return text if len(text) <= 40 else text[:39] + "…"

"""Hugging Face ``/api/daily_papers`` responses: a JSON array of papers featured on the daily page.

Each item pairs a ``paper`` (arXiv id, authors, abstract, AI summary, repository links) with its
appearance on the feed (day, submitter, upvotes, comments), which becomes a :class:`FeedRecord`.
Authors flagged ``hidden`` are kept: the flag only hides them on the Hugging Face page, and dropping
them would change the author list the paper itself gives.
"""

from __future__ import annotations

from typing import Any

import orjson

from dailypapers.errors import FormatError
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.ingest.records import FeedRecord, PaperRecord, ParsedItem, Rejected, Source
from dailypapers.ingest.text import (
    clean_abstract,
    clean_whitespace,
    code_repositories,
    parse_date,
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


def _parse_item(item: Any, position: str) -> ParsedItem:
    if not isinstance(item, dict):
        return Rejected(position, "item is not a JSON object")
    paper = item.get("paper")
    if not isinstance(paper, dict):
        return Rejected(position, "item has no paper object")
    raw_id = _string(paper.get("id"))
    if not raw_id:
        return Rejected(position, "item has no paper.id")
    arxiv_id = parse_arxiv_id(raw_id)
    if arxiv_id is None:
        return Rejected(position, f"paper.id {raw_id!r} is not an arXiv id")
    title = clean_whitespace(_string(paper.get("title")) or _string(item.get("title")))
    if not title:
        return Rejected(position, f"paper {arxiv_id.id} has no title")

    abstract = clean_abstract(_string(paper.get("summary")) or _string(item.get("summary")))
    github_repo = _string(paper.get("githubRepo")).strip()
    code_urls = list(dict.fromkeys([*_repository_urls(github_repo), *code_repositories(abstract)]))
    return PaperRecord(
        source=Source.HUGGINGFACE,
        title=title,
        abstract=abstract,
        arxiv_id=arxiv_id.id,
        version=arxiv_id.version,
        authors=_authors(paper.get("authors")),
        published=parse_datetime(_string(paper.get("publishedAt")) or _string(item.get("publishedAt"))),
        code_urls=code_urls,
        project_url=_string(paper.get("projectPage")).strip() or project_page(abstract),
        extra=_extra(item, paper),
        feed=_feed(item, paper),
        position=position,
    )


def _authors(authors: Any) -> list[str]:
    if not isinstance(authors, list):
        return []
    names = (clean_whitespace(_string(author.get("name"))) for author in authors if isinstance(author, dict))
    return [name for name in names if name]


def _repository_urls(github_repo: str) -> list[str]:
    if not github_repo:
        return []
    # Normalise to the owner/name URL the abstract links are reduced to, so the two deduplicate.
    return code_repositories(github_repo) or [github_repo]


def _feed(item: dict[str, Any], paper: dict[str, Any]) -> FeedRecord | None:
    day = parse_date(_string(paper.get("submittedOnDailyAt"))) or parse_date(_string(item.get("publishedAt")))
    if day is None:
        return None
    return FeedRecord(
        day=day,
        submitted_by=_submitter(item, paper),
        upvotes=_count(paper.get("upvotes")),
        num_comments=_count(item.get("numComments")),
    )


def _submitter(item: dict[str, Any], paper: dict[str, Any]) -> str | None:
    by = paper.get("submittedOnDailyBy")
    if isinstance(by, dict):
        name = _string(by.get("user")) or _string(by.get("name"))
        if name:
            return name
    by = item.get("submittedBy")
    if isinstance(by, dict):
        return _string(by.get("name")) or None
    return None


def _extra(item: dict[str, Any], paper: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    keywords = paper.get("ai_keywords")
    if isinstance(keywords, list) and keywords:
        extra["ai_keywords"] = [str(keyword) for keyword in keywords]
    if summary := _string(paper.get("ai_summary")):
        extra["ai_summary"] = summary
    if isinstance(paper.get("githubStars"), int):
        extra["github_stars"] = paper["githubStars"]
    if discussion := _string(paper.get("discussionId")):
        extra["hf_discussion_id"] = discussion
    organization = paper.get("organization") or item.get("organization")
    if isinstance(organization, dict) and (name := _string(organization.get("name"))):
        extra["organization"] = name
    return extra


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0

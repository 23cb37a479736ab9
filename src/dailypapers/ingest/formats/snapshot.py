"""The arXiv metadata snapshot (Kaggle/Cornell ``arxiv-metadata-oai-snapshot.json``), one object a line.

The full file is about 4 GB and 2.7 million lines, so this parser is written for throughput: orjson,
no regular expressions on the common path, LaTeX conversion only for names that contain markup
(:func:`latex_to_unicode` checks), URL extraction only for texts that contain ``http``, and the
snapshot's one date format ("Mon, 2 Apr 2007 19:18:42 GMT") read by hand instead of through
:mod:`email.utils`. A bad line never stops the file: it becomes a :class:`Rejected` with its line number.

Authors come from ``authors_parsed`` (``[last, first, suffix, affiliation...]``), which has already
split names and dropped affiliations; the free-text ``authors`` field is the fallback.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

import orjson

from dailypapers.ingest.formats._lines import iter_lines, json_error_reason, json_type
from dailypapers.ingest.records import PaperRecord, ParsedItem, Rejected, Source, Version
from dailypapers.ingest.text import (
    clean_abstract,
    clean_title,
    clean_whitespace,
    code_repositories,
    latex_to_unicode,
    parse_datetime,
    project_page,
    split_authors,
)

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}


def parse_snapshot_line(line: bytes, position: str) -> ParsedItem:
    """Parse one snapshot line; any problem with its content gives a :class:`Rejected`, never an exception."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return Rejected(position, json_error_reason(line, error))
    if not isinstance(obj, dict):
        return Rejected(position, f"expected a JSON object, found a JSON {json_type(obj)}")
    try:
        return _record(obj, position)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
        # A field of an unexpected type (a number for a title, a string for the version list).
        return Rejected(position, f"unexpected value in record {obj.get('id')!r}: {error}")


def iter_snapshot(
    stream: BinaryIO, *, start_offset: int = 0, start_line: int = 1
) -> Iterator[tuple[ParsedItem, int, int]]:
    """Yield ``(item, line_number, byte_offset_after_line)`` for each non-blank line from ``start_offset``."""
    for line, number, offset in iter_lines(stream, start_offset=start_offset, start_line=start_line):
        yield parse_snapshot_line(line, f"line {number}"), number, offset


def _record(obj: dict[str, Any], position: str) -> ParsedItem:
    arxiv_id = obj.get("id")
    if not arxiv_id or not isinstance(arxiv_id, str):
        return Rejected(position, "record has no id")
    title = obj.get("title")
    if not title or not isinstance(title, str) or not (title := clean_title(title)):
        return Rejected(position, f"record {arxiv_id} has no title")

    abstract = clean_abstract(obj.get("abstract") or "")
    comments = _optional(obj.get("comments"))
    versions = _versions(obj.get("versions"))
    extra: dict[str, Any] = {}
    if report_no := obj.get("report-no"):
        extra["report_no"] = report_no
    if update_date := obj.get("update_date"):
        extra["update_date"] = update_date

    has_links = "http" in abstract or (comments is not None and "http" in comments)
    return PaperRecord(
        source=Source.ARXIV_SNAPSHOT,
        title=title,
        abstract=abstract,
        arxiv_id=arxiv_id.strip(),
        authors=_authors(obj),
        categories=(obj.get("categories") or "").split(),
        version=versions[-1].number if versions else None,
        versions=versions,
        published=versions[0].date if versions else None,
        updated=versions[-1].date if versions else None,
        comments=comments,
        journal_ref=_optional(obj.get("journal-ref")),
        doi=_optional(obj.get("doi")),
        license=_optional(obj.get("license")),
        code_urls=code_repositories(abstract, comments) if has_links else [],
        project_url=project_page(abstract, comments) if has_links else None,
        extra=extra,
        position=position,
    )


def _authors(obj: dict[str, Any]) -> list[str]:
    parsed = obj.get("authors_parsed")
    if parsed:
        names = []
        for parts in parsed:
            # [last, first, suffix, affiliation...]; the affiliation is not part of the name.
            last = parts[0] if parts else ""
            first = parts[1] if len(parts) > 1 else ""
            suffix = parts[2] if len(parts) > 2 else ""
            if ". -" in first:
                first = first.replace(". -", ".-")  # the splitter writes "C.-P." as "C. -P."
            name = " ".join(part for part in (first, last, suffix) if part)
            if name:
                names.append(latex_to_unicode(name))
        if names:
            return names
    authors = obj.get("authors")
    return split_authors(authors) if authors else []


def _versions(raw: list[dict[str, str]] | None) -> list[Version]:
    if not raw:
        return []
    return [Version(int(entry["version"].lstrip("v")), _version_date(entry.get("created"))) for entry in raw]


def _version_date(value: str | None) -> datetime | None:
    """Read "Mon, 2 Apr 2007 19:18:42 GMT" without the general (and slow) RFC 2822 parser."""
    if not value:
        return None
    parts = value.split()
    if len(parts) == 6 and parts[5] == "GMT" and parts[2] in _MONTHS:
        clock = parts[4].split(":")
        if len(clock) == 3:
            try:
                return datetime(
                    int(parts[3]), _MONTHS[parts[2]], int(parts[1]),
                    int(clock[0]), int(clock[1]), int(clock[2]), tzinfo=UTC,
                )  # fmt: skip
            except ValueError:
                pass
    return parse_datetime(value)


def _optional(value: Any) -> str | None:
    if not value or not isinstance(value, str):
        return None
    return clean_whitespace(value) or None

"""arXiv query API responses (``/api/query``): an Atom feed of papers plus OpenSearch paging totals.

Two shapes are in use and both are read: the API of 2016 and before (``<title type="html">ArXiv
Query…``, ``http`` links, ``xmlns`` declared on each ``opensearch:``/``arxiv:`` element) and the
front-end of 2025 on (namespaces on the root, ``https`` links). Elements are looked up by qualified
name, so neither layout nor element order matters.

Atom names only the current version of a paper. ``published`` is the date of version 1 and ``updated``
the date of that current version, so those two versions are recorded and no others are invented.

Some responses carry author names whose UTF-8 bytes were decoded as Latin-1 once too often
(``Dirk WÃ¼bben``); such text is repaired when, and only when, it round-trips exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from dailypapers.errors import FormatError
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.ingest.formats._xml import element_text, local_name, parse_xml
from dailypapers.ingest.records import PaperRecord, ParsedItem, Rejected, Source, Version
from dailypapers.ingest.text import (
    clean_abstract,
    clean_title,
    clean_whitespace,
    code_repositories,
    latex_to_unicode,
    parse_datetime,
    project_page,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_NS = "http://arxiv.org/schemas/atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"

_A = f"{{{ATOM_NS}}}"
_X = f"{{{ARXIV_NS}}}"
_OS = f"{{{OPENSEARCH_NS}}}"

# A UTF-8 lead byte followed by a continuation byte, both read as Latin-1 characters.
_MOJIBAKE_RE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf]")


@dataclass(slots=True)
class AtomPage:
    """One page of query results; the totals come from the OpenSearch elements when present."""

    items: list[ParsedItem] = field(default_factory=list)
    total_results: int | None = None
    start_index: int | None = None
    items_per_page: int | None = None


def parse_atom(data: bytes) -> AtomPage:
    """Parse an arXiv API response. Raises :class:`FormatError` when the document itself is unusable."""
    root = parse_xml(data)
    if root.tag != f"{_A}feed":
        raise FormatError(
            f"not an Atom feed: the root element is <{local_name(str(root.tag))}>, "
            f'expected <feed xmlns="{ATOM_NS}"> as returned by the arXiv API'
        )
    page = AtomPage(
        total_results=_int_or_none(root.findtext(f"{_OS}totalResults")),
        start_index=_int_or_none(root.findtext(f"{_OS}startIndex")),
        items_per_page=_int_or_none(root.findtext(f"{_OS}itemsPerPage")),
    )
    for number, entry in enumerate(root.iterfind(f"{_A}entry"), start=1):
        page.items.append(_parse_entry(entry, f"entry {number}"))
    return page


def _parse_entry(entry: etree._Element, position: str) -> ParsedItem:
    raw_id = clean_whitespace(element_text(entry.find(f"{_A}id")))
    title = clean_title(_text(entry, f"{_A}title"))
    if "/api/errors" in raw_id:
        # arXiv answers a malformed id in id_list with an entry whose summary names the problem.
        reason = _text(entry, f"{_A}summary") or title or raw_id
        return Rejected(position, f"arXiv API error: {reason}")
    if not raw_id:
        return Rejected(position, "entry has no <id>")
    arxiv_id = parse_arxiv_id(raw_id)
    if arxiv_id is None:
        return Rejected(position, f"entry id {raw_id!r} is not an arXiv abs URL")
    if not title:
        return Rejected(position, f"entry {arxiv_id} has no title")

    abstract = clean_abstract(_repair_mojibake(element_text(entry.find(f"{_A}summary"))))
    comments = _text(entry, f"{_X}comment") or None
    published = parse_datetime(entry.findtext(f"{_A}published"))
    updated = parse_datetime(entry.findtext(f"{_A}updated"))
    return PaperRecord(
        source=Source.ARXIV_API,
        title=title,
        abstract=abstract,
        arxiv_id=arxiv_id.id,
        authors=_authors(entry),
        categories=_categories(entry),
        version=arxiv_id.version,
        versions=_versions(arxiv_id.version, published, updated),
        published=published,
        updated=updated,
        comments=comments,
        journal_ref=_text(entry, f"{_X}journal_ref") or None,
        doi=_text(entry, f"{_X}doi") or None,
        code_urls=code_repositories(abstract, comments),
        project_url=project_page(abstract, comments),
        position=position,
    )


def _versions(number: int | None, published: datetime | None, updated: datetime | None) -> list[Version]:
    if number is None:
        return []
    if number == 1:
        return [Version(1, published)]
    return [Version(1, published), Version(number, updated)]


def _authors(entry: etree._Element) -> list[str]:
    names: list[str] = []
    for author in entry.iterfind(f"{_A}author"):
        name = latex_to_unicode(_repair_mojibake(element_text(author.find(f"{_A}name"))))
        if name:
            names.append(name)
    return names


def _categories(entry: etree._Element) -> list[str]:
    terms: dict[str, None] = {}
    primary = entry.find(f"{_X}primary_category")
    if primary is not None and primary.get("term"):
        terms[primary.get("term", "").strip()] = None
    for category in entry.iterfind(f"{_A}category"):
        term = (category.get("term") or "").strip()
        if term:
            terms.setdefault(term, None)
    return list(terms)


def _text(entry: etree._Element, tag: str) -> str:
    return clean_whitespace(_repair_mojibake(element_text(entry.find(tag))))


def _repair_mojibake(text: str) -> str:
    if not _MOJIBAKE_RE.search(text):
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        # Characters beyond Latin-1, or bytes that are not UTF-8: the text was right all along.
        return text


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None

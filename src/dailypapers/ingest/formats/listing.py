"""Plain-text paper listings, as copied from the Hugging Face papers page.

The text is a few page-header lines ("Daily Papers", "Subscribe"), then for each paper a title line,
a blank line and the abstract as one long line. There are no ids, dates or authors, so records are
keyed by their title later on.

A block after a title counts as its abstract when it is at least :data:`MIN_ABSTRACT` characters long;
a title may be up to :data:`MAX_TITLE`. The two ranges overlap (a 200-character line could be either),
and the alternation title/abstract settles it: the block after a title is taken as its abstract.
Short lines before the first paper are page furniture and are skipped; a title without an abstract
later on is reported, since there it most likely means a paper was cut off while copying.
"""

from __future__ import annotations

import re

from dailypapers.errors import FormatError
from dailypapers.ingest.records import PaperRecord, ParsedItem, Rejected, Source
from dailypapers.ingest.text import clean_abstract, clean_title, code_repositories, project_page

MAX_TITLE = 300
MIN_ABSTRACT = 150

# Lines that make a text Markdown, a table or a data file rather than a copied listing.
_NOT_LISTING_RE = re.compile(r"^(?:#{1,6}\s|```|~~~|[-*+]\s|>|\||[{<]|\d+\.\s)|\]\(|\t")


def parse_listing(data: bytes) -> list[ParsedItem]:
    """Parse a copied listing into records without ids; see the module docstring for the layout."""
    text = _decode(data)
    if not text.strip():
        raise FormatError("file is empty")
    blocks = _blocks(text)
    items: list[ParsedItem] = []
    in_header = True
    index = 0
    while index < len(blocks):
        line_number, title = blocks[index]
        following = blocks[index + 1][1] if index + 1 < len(blocks) else None
        if len(title) > MAX_TITLE:
            items.append(
                Rejected(f"line {line_number}", f"paragraph without a title ({len(title)} characters)")
            )
            index += 1
        elif following is not None and len(following) >= MIN_ABSTRACT:
            items.append(_record(title, following, line_number))
            in_header = False
            index += 2
        else:
            if not in_header:
                items.append(Rejected(f"line {line_number}", "title without an abstract"))
            index += 1
    return items


def looks_like_listing(text: str) -> bool:
    """Whether text has the listing layout: one-line blocks, mostly pairs of a short and a long line.

    Markdown, CSV/TSV, JSON and XML fail it: their blocks span several lines, or their lines start with
    markup (``#``, ``-``, ``|``, ``{``, ``<``) or hold tabs or Markdown links.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    raw_blocks = re.split(r"\n[ \t]*\n", text.strip())
    if not raw_blocks or any("\n" in block.strip() for block in raw_blocks):
        return False
    lines = [block.strip() for block in raw_blocks]
    if any(_NOT_LISTING_RE.search(line) for line in lines):
        return False
    paired = 0
    index = 0
    while index < len(lines) - 1:
        if len(lines[index]) <= MAX_TITLE and len(lines[index + 1]) >= MIN_ABSTRACT:
            paired += 2
            index += 2
        else:
            index += 1
    return paired > 0 and paired * 2 >= len(lines)


def _record(title: str, abstract: str, line_number: int) -> PaperRecord:
    title = clean_title(title)
    abstract = clean_abstract(abstract)
    return PaperRecord(
        source=Source.LISTING,
        title=title,
        abstract=abstract,
        code_urls=code_repositories(abstract),
        project_url=project_page(abstract),
        position=f"line {line_number}",
    )


def _blocks(text: str) -> list[tuple[int, str]]:
    """Blank-line separated blocks as (first line number, lines joined by a space)."""
    blocks: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not current:
                start = number
            current.append(line.strip())
        elif current:
            blocks.append((start, " ".join(current)))
            current = []
    if current:
        blocks.append((start, " ".join(current)))
    return blocks


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FormatError(
            f"not UTF-8 text: invalid byte 0x{data[error.start]:02x} at byte offset {error.start}; "
            "convert the file first, e.g. iconv -f WINDOWS-1252 -t UTF-8 listing.txt > listing-utf8.txt"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")

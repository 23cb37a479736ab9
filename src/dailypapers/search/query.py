"""Parsing what people type into the search box.

Grammar (forgiving: nothing a person types is an error):

* words, and ``"quoted phrases"`` that must appear as written (an unbalanced quote quotes to the end);
* filters ``author:NAME`` (or ``author:"first last"``), ``cat:cs.CL`` (``cat:cs`` matches the whole
  archive), ``since:YYYY[-MM[-DD]]`` and ``until:YYYY[-MM[-DD]]``;
* an arXiv id or arxiv.org URL anywhere in the query names that paper.

Unknown ``name:value`` pairs are searched as text and reported in ``notices``. A filter that is ignored
always gets a notice too: one with no value (``cat:``), an author with no name in it (``author:%``,
which would match nobody) and a date that does not parse. Very long queries are cut to
``MAX_QUERY_CHARS`` with a notice.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.search.analyzer import words as folded_words

MAX_QUERY_CHARS = 1000
FILTERS = ("author", "cat", "since", "until")
KNOWN_FILTERS = frozenset({*FILTERS, "category"})

_PIECE = re.compile(
    r"""(?P<filter>(?P<name>[A-Za-z][\w-]*):(?:"(?P<qvalue>[^"]*)"?|(?P<value>\S+)))
      | "(?P<phrase>[^"]*)"?
      | (?P<word>\S+)""",
    re.VERBOSE,
)
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


@dataclass
class ParsedQuery:
    """A query split into text, phrases, filters and notices for the person who typed it."""

    raw: str
    text: str = ""
    phrases: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    since: date | None = None
    until: date | None = None
    arxiv_ids: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def has_filters(self) -> bool:
        return bool(self.authors or self.categories or self.since or self.until)

    @property
    def is_empty(self) -> bool:
        return not (self.text.strip() or self.phrases or self.arxiv_ids)

    @property
    def is_only_ids(self) -> bool:
        """The query names papers by id and holds nothing else to search for."""
        return bool(self.arxiv_ids) and not (self.text.strip() or self.phrases or self.has_filters)

    @property
    def search_text(self) -> str:
        """The words to rank by: free text and the words of every phrase."""
        return " ".join([self.text, *self.phrases]).strip()


def _parse_date(value: str, *, end: bool) -> date | None:
    match = _DATE.match(value)
    if not match:
        return None
    year, month, day = int(match.group(1)), match.group(2), match.group(3)
    try:
        if month is None:
            return date(year, 12, 31) if end else date(year, 1, 1)
        if day is None:
            last = calendar.monthrange(year, int(month))[1]
            return date(year, int(month), last if end else 1)
        return date(year, int(month), int(day))
    except ValueError:
        return None


def _add_author(query: ParsedQuery, value: str) -> None:
    """An author filter, unless it holds no name to look for (``author:%``), which would match nobody."""
    if any(len(word) > 1 for word in folded_words(value)):
        query.authors.append(value)
    else:
        query.notices.append(
            f"author:{value} has no name in it (a word of two or more letters or digits); ignored."
        )


def _add_filter(
    query: ParsedQuery, match: re.Match[str], words: list[str], date_values: dict[str, str]
) -> None:
    """Read one ``name:value`` piece into ``query``: a filter, or words when it is a URL, an arXiv id or
    no filter we know (``date_values`` keeps the dates as typed, in case since: and until: are swapped)."""
    name = match.group("name").lower()
    value = (match.group("qvalue") if match.group("qvalue") is not None else match.group("value")) or ""
    value = value.strip()
    if name in {"http", "https"}:
        words.append(match.group(0))
    elif name in KNOWN_FILTERS and not value:
        query.notices.append(f"{name}: has no value after it; ignored.")
    elif name == "author":
        _add_author(query, value)
    elif name in {"cat", "category"}:
        query.categories.append(value)
    elif name in {"since", "until"}:
        parsed = _parse_date(value, end=name == "until")
        if parsed is None:
            query.notices.append(f"{name}:{value} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD); ignored.")
        else:
            date_values[name] = value
            setattr(query, name, parsed)
    elif parse_arxiv_id(match.group(0)):
        words.append(match.group(0))
    else:
        query.notices.append(
            f"Unknown filter {name}: searched as text. Filters: author:, cat: (or category:), since:, until:."
        )
        words.append(f"{name} {value}")


def parse_query(raw: str) -> ParsedQuery:
    query = ParsedQuery(raw=raw)
    if len(raw) > MAX_QUERY_CHARS:
        query.notices.append(f"The query was cut to its first {MAX_QUERY_CHARS} characters.")
        raw = raw[:MAX_QUERY_CHARS]
    raw = raw.replace("\x00", " ")
    words: list[str] = []
    date_values: dict[str, str] = {}
    for match in _PIECE.finditer(raw):
        if match.group("filter"):
            _add_filter(query, match, words, date_values)
        elif match.group("phrase") is not None:
            phrase = " ".join(match.group("phrase").split())
            if phrase:
                query.phrases.append(phrase)
        elif (
            match.group("word").lower().removesuffix(":") in KNOWN_FILTERS and match.group("word")[-1] == ":"
        ):
            query.notices.append(f"{match.group('word').lower()} has no value after it; ignored.")
        else:
            words.append(match.group("word"))
    text_words = []
    for word in words:
        arxiv = parse_arxiv_id(word.strip("<>()[],;"))
        if arxiv:
            query.arxiv_ids.append(arxiv.id)
        else:
            text_words.append(word)
    query.text = " ".join(text_words)
    if query.since and query.until and query.since > query.until:
        query.notices.append("since: is after until:, so nothing could match; the two dates were swapped.")
        query.since = _parse_date(date_values["until"], end=False)
        query.until = _parse_date(date_values["since"], end=True)
    return query

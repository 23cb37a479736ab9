"""Reference files a reader exchanges with Zotero and its peers: BibTeX, RIS and CSL-JSON, read and written.

Reading is pure (bytes in, :class:`Citation` records out) and forgiving where exports differ: the format
is told from the content (the file name only breaks a tie), UTF-8 with or without a byte-order mark is
expected but UTF-16 and Windows-1252 files are read too, and an arXiv id is looked for wherever Zotero,
arXiv, DBLP and Google Scholar put one (``eprint``, ``journal = {arXiv preprint arXiv:...}``, the URL, the
arXiv DOI ``10.48550/arXiv.*``, Zotero's ``note``/``N1``/``number``). A bad entry does not spoil a file:
the good ones are read and the bad ones listed in plain words. A file that is empty, binary, too large
or in no known format raises :class:`CitationError`.

The parsing and writing are the maintained libraries' (bibtexparser, rispy, the standard ``json``);
this module only maps their fields to ours. BibTeX keeps its LaTeX conventions on the way in (accents
and ``{Protected}`` words become Unicode through :func:`~dailypapers.ingest.latex.latex_text`, formulas
stay) and on the way out (the characters that break BibTeX are escaped, formulas are left alone), so
that an exported file reads back to the same arXiv ids, DOIs and titles.
"""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import lxml.html
import rispy
from bibtexparser.entrypoint import parse_string, write_string
from bibtexparser.library import Library
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import DuplicateBlockKeyBlock, Entry, Field, ParsingFailedBlock
from bibtexparser.writer import BibtexFormat

from dailypapers.errors import DailyPapersError
from dailypapers.ingest.arxiv_ids import abs_url, parse_arxiv_id
from dailypapers.ingest.latex import latex_text

if TYPE_CHECKING:
    from dailypapers.models import Paper

CITATION_FORMATS: dict[str, tuple[str, str]] = {
    "bibtex": ("application/x-bibtex", ".bib"),
    "ris": ("application/x-research-info-systems", ".ris"),
    "csl-json": ("application/vnd.citationstyles.csl+json", ".json"),
}
"""Each format written by :func:`write_citations`: its media type and file extension (with the dot)."""

MAX_CITATION_BYTES = 10 * 1024 * 1024
"""The largest file read: a Zotero library of 10,000 items with abstracts is about 10 MB of BibTeX."""

_ACCEPTED = (
    "Accepted are BibTeX (.bib), RIS (.ris) and CSL-JSON (.json) files as Zotero, Mendeley, JabRef or "
    "arXiv export them, in UTF-8."
)


class CitationError(DailyPapersError):
    """A reference file that cannot be read at all; ``problems`` lists what was wrong with its entries."""

    exit_code = 65  # EX_DATAERR

    def __init__(self, message: str, *, problems: Sequence[str] = ()) -> None:
        self.problems = list(problems)
        super().__init__(f"{message} {_ACCEPTED}")


@dataclass(frozen=True)
class Citation:
    """One entry of a reference file, reduced to what finds its paper and what the reader wrote about it.

    ``arxiv_id`` is without version (``1706.03762``); ``doi`` is lower-case without ``https://doi.org/``.
    """

    title: str
    authors: tuple[str, ...] = ()
    year: int | None = None
    arxiv_id: str | None = None
    doi: str | None = None
    note: str | None = None


@dataclass
class CitationFile:
    """What a file held: its entries in order, a sentence per entry that could not be read, the format."""

    entries: list[Citation]
    problems: list[str] = field(default_factory=list)
    format: str = "bibtex"


# --------------------------------------------------------------------------------------------------
# Shared: text, arXiv ids, DOIs
# --------------------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
# An arXiv id in free text only counts after "arXiv" or in an arxiv.org link: a bare "1234.5678" in a
# note may be anything. Each candidate is then checked by parse_arxiv_id.
_ARXIV_IN_TEXT = re.compile(
    r"arxiv(?:\.org/(?:abs|pdf|html)/|[\s:.]*(?:preprint\s+)?(?:arxiv\s*[:.]?\s*)?)"
    r"(?P<id>\d{4}\.\d{4,5}(?:v\d+)?|[a-z]+(?:-[a-z]+)*(?:\.[a-z]{2})?/\d{7}(?:v\d+)?)",
    re.IGNORECASE,
)
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|2\d\d\d)(?!\d)")
# A line of Zotero's "Extra" that only repeats the arXiv id ("arXiv:1706.03762 [cs]") is no note.
# Zotero 7 with Better BibTeX also keeps "Citation Key: ..." there.
_ARXIV_MARKER_LINE = re.compile(
    r"^\s*(?:arxiv\s*:?\s*(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[a-z]{2})?/\d{7})(?:v\d+)?(?:\s*\[[^\]]*\])?"
    r"|citation key\s*:.*)\s*$",
    re.IGNORECASE,
)


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", _SPACES.sub(" ", text).strip())


def normalize_doi(value: str | None) -> str | None:
    """``https://doi.org/10.1000/ABC`` -> ``10.1000/abc``; ``None`` for anything that is not a DOI."""
    if not value:
        return None
    text = _DOI_PREFIX.sub("", value.strip())
    match = _DOI.match(text)
    if match is None:
        return None
    return match.group(0).rstrip(".,;").lower()


def arxiv_id_in(value: str | None, *, bare: bool = False) -> str | None:
    """The arXiv id (without version) in ``value``: an id, an arxiv.org link, ``arXiv:...`` anywhere in
    free text, the arXiv DOI; a bare number only when ``bare`` (the field is known to hold an arXiv id)."""
    if not value:
        return None
    text = value.strip()
    parsed = (
        parse_arxiv_id(text) if bare or text.lower().startswith(("arxiv", "http", "www.", "oai:")) else None
    )
    if parsed is not None:
        return parsed.id
    for match in _ARXIV_IN_TEXT.finditer(text):
        found = parse_arxiv_id(match.group("id"))
        if found is not None:
            return found.id
    return None


def _first_arxiv_id(candidates: Iterable[tuple[str | None, bool]]) -> str | None:
    for value, bare in candidates:
        found = arxiv_id_in(value, bare=bare)
        if found:
            return found
    return None


def _year_in(*values: Any) -> int | None:
    for value in values:
        if value is None:
            continue
        match = _YEAR.search(str(value))
        if match:
            return int(match.group(1))
    return None


def _user_note(texts: Iterable[str | None]) -> str | None:
    """The reader's own words: the texts as paragraphs, without Zotero's lines that repeat an arXiv id."""
    paragraphs = []
    for text in texts:
        if not text:
            continue
        lines = [line.rstrip() for line in text.split("\n") if not _ARXIV_MARKER_LINE.match(line)]
        paragraph = "\n".join(lines).strip()
        if paragraph:
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs) or None


def _display_name(name: str) -> str:
    """``Vaswani, Ashish`` -> ``Ashish Vaswani`` (BibTeX's own rules for von, Jr and braces)."""
    if "," not in name:
        return name
    try:
        parts = parse_single_name_into_parts(name, strict=False)
    except InvalidNameError:
        return name
    return " ".join([*parts.first, *parts.von, *parts.last, *parts.jr]) or name


def _name_parts(name: str) -> tuple[str, str] | None:
    """``(family, given)`` of a display name, or ``None`` when it has no recognisable parts."""
    try:
        parts = parse_single_name_into_parts(name, strict=False)
    except InvalidNameError:
        return None
    family = " ".join([*parts.von, *parts.last])
    if not family:
        return None
    given = " ".join([*parts.first, *parts.jr])
    return family, given


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------

_BINARY_SIGNATURES = {
    b"%PDF-": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or a Word or OpenDocument file)",
    b"\x1f\x8b": "a gzip archive",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"SQLite format 3": "an SQLite database",
}
_RIS_START = re.compile(r"^[ \t]*TY {1,2}-", re.MULTILINE)
_BIBTEX_START = re.compile(r"^[ \t]*@[ \t]*[A-Za-z]+[ \t]*[{(]", re.MULTILINE)
_HINTS = {".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".json": "csl-json", ".csljson": "csl-json"}


def read_citations(data: bytes, filename: str | None = None) -> CitationFile:
    """The entries of a BibTeX, RIS or CSL-JSON file; the format is told from the content.

    ``filename`` only breaks a tie (a file that looks like two formats). Raises :class:`CitationError`
    for a file that is empty, binary, larger than :data:`MAX_CITATION_BYTES`, in no known format, or
    without a single readable entry.
    """
    if len(data) > MAX_CITATION_BYTES:
        raise CitationError(
            f"The file is {len(data) / 1e6:.1f} MB; at most {MAX_CITATION_BYTES // (1024 * 1024)} MB "
            "can be imported at once. Export smaller collections and import them one by one."
        )
    text = _decode(data)
    if not text.strip():
        raise CitationError("The file is empty: it holds no references.")
    fmt = _detect(text, filename)
    if fmt == "csl-json":
        result = _read_csl_json(text)
    elif fmt == "ris":
        result = _read_ris(text)
    else:
        result = _read_bibtex(text)
    if not result.entries and result.problems:
        shown = "; ".join(result.problems[:3]) + (" ..." if len(result.problems) > 3 else "")
        raise CitationError(
            f"No entry of this {_FORMAT_NAMES[fmt]} file could be read: {shown}.", problems=result.problems
        )
    if not result.entries:
        raise CitationError(f"This {_FORMAT_NAMES[fmt]} file holds no references.")
    return result


_FORMAT_NAMES = {"bibtex": "BibTeX", "ris": "RIS", "csl-json": "CSL-JSON"}


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise CitationError("The file says it is UTF-16 but is not valid UTF-16.") from None
    for signature, what in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise CitationError(f"This is {what}, not a reference file.")
    if b"\x00" in data:
        raise CitationError("This is a binary file, not a reference file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Not UTF-8: older Windows tools (EndNote, Citavi) write Windows-1252; Latin-1 takes any byte.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    controls = sum(
        1 for char in text[:65536] if unicodedata.category(char) == "Cc" and char not in "\t\n\r\f"
    )
    if controls > max(8, len(text[:65536]) // 100):
        raise CitationError("This is a binary file, not a reference file.")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _detect(text: str, filename: str | None) -> str:
    starts: dict[str, int] = {}
    stripped = text.lstrip()
    if stripped[:1] in ("[", "{"):
        starts["csl-json"] = len(text) - len(stripped)
    for fmt, pattern in (("ris", _RIS_START), ("bibtex", _BIBTEX_START)):
        found = pattern.search(text)
        if found:
            starts[fmt] = found.start()
    hint = _HINTS.get(PurePath(filename).suffix.lower()) if filename else None
    if hint in starts:
        return hint
    if starts:
        return min(starts, key=lambda fmt: starts[fmt])
    expected = {
        "bibtex": "a BibTeX file has entries starting with @article{ or similar",
        "ris": "an RIS file has records starting with a line 'TY  - '",
        "csl-json": "a CSL-JSON file is a JSON list of items",
    }
    if hint:
        raise CitationError(f"The file is named like {_FORMAT_NAMES[hint]} but is not: {expected[hint]}.")
    raise CitationError("This file is not in a reference format this site reads.")


def _entry_label(index: int, key: str | None, line: int | None) -> str:
    label = f"entry {index}"
    if key:
        label += f" ({key})"
    if line is not None:
        label += f" at line {line}"
    return label


def _citation_or_problem(
    label: str,
    title: str,
    authors: Sequence[str],
    year: int | None,
    arxiv_id: str | None,
    doi: str | None,
    note: str | None,
) -> Citation | str:
    if not (title or arxiv_id or doi):
        return f"{label} has no title, arXiv id or DOI, so it cannot be matched to a paper"
    return Citation(
        title=title,
        authors=tuple(a for a in (_clean(name) for name in authors) if a),
        year=year,
        arxiv_id=arxiv_id,
        doi=doi,
        note=note,
    )


# -- BibTeX ----------------------------------------------------------------------------------------

_MATH_SPAN = re.compile(r"\\\$|\$\$.+?\$\$|\\\[.+?\\\]|\$(?:\\\$|[^$])+?\$|\\\(.+?\\\)", re.DOTALL)
_UNESCAPED_BRACE = re.compile(r"(?<!\\)[{}]")
_ESCAPED_BRACE = re.compile(r"\\([{}])")
_KEY_OF_RAW = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s]*)")


def _from_latex(value: str, *, keep_lines: bool = False) -> str:
    """A BibTeX value as text: accents to Unicode, ``{Protected}`` braces dropped, formulas kept;
    white space collapsed unless ``keep_lines`` (a note)."""
    text = latex_text(value)
    pieces: list[str] = []
    position = 0
    for match in _MATH_SPAN.finditer(text):
        pieces.append(_plain_braces(text[position : match.start()]))
        pieces.append(match.group(0))
        position = match.end()
    pieces.append(_plain_braces(text[position:]))
    joined = "".join(pieces)
    return unicodedata.normalize("NFC", joined.strip()) if keep_lines else _clean(joined)


def _plain_braces(text: str) -> str:
    return _ESCAPED_BRACE.sub(r"\1", _UNESCAPED_BRACE.sub("", text))


def _bibtex_abort_reason(error: Exception | None) -> str:
    reason = str(getattr(error, "abort_reason", "") or error or "")
    if "end of file" in reason:
        return "the file ends inside this entry (it seems cut off)"
    if "Unexpected block start" in reason:
        return "a brace or quote is not closed before the next entry starts"
    if "Duplicate" in reason and "field" in reason.lower():
        return reason
    return f"it is not valid BibTeX ({reason.strip() or 'no reason given'})"


def _read_bibtex(text: str) -> CitationFile:
    library = parse_string(text)
    result = CitationFile(entries=[], format="bibtex")
    index = 0
    for block in library.blocks:
        line = block.start_line + 1 if block.start_line is not None else None
        if isinstance(block, DuplicateBlockKeyBlock) and isinstance(block.ignore_error_block, Entry):
            block = block.ignore_error_block  # two entries with one key are still two references
        if isinstance(block, ParsingFailedBlock):
            index += 1
            raw_key = _KEY_OF_RAW.match(block.raw or "")
            label = _entry_label(index, raw_key.group(2) if raw_key else None, line)
            result.problems.append(f"{label} could not be read: {_bibtex_abort_reason(block.error)}")
        elif isinstance(block, Entry):
            index += 1
            outcome = _bibtex_citation(block, _entry_label(index, block.key, line))
            if isinstance(outcome, str):
                result.problems.append(outcome)
            else:
                result.entries.append(outcome)
    return result


def _bibtex_citation(entry: Entry, label: str) -> Citation | str:
    fields = {f.key.lower(): f.value for f in entry.fields if isinstance(f.value, str)}
    get = fields.get
    arxiv_id = _first_arxiv_id(
        [
            (get("eprint"), True),
            (get("url"), False),
            (get("doi"), False),
            (get("journal"), False),
            (get("journaltitle"), False),
            (get("number"), False),
            (get("howpublished"), False),
            (get("note"), False),
        ]
    )
    names = [n for n in split_multiple_persons_names(get("author") or "") if n.strip().lower() != "others"]
    return _citation_or_problem(
        label,
        _from_latex(get("title") or ""),
        [_from_latex(_display_name(name)) for name in names],
        _year_in(get("year"), get("date")),
        arxiv_id,
        normalize_doi(get("doi")),
        _user_note([_from_latex(get("annote") or "", keep_lines=True)]),
    )


# -- RIS -------------------------------------------------------------------------------------------

# Some tools write "TY - " with one space; rispy expects the two of the RIS specification.
_RIS_TAG_SPACING = re.compile(r"^[ \t]*([A-Z][A-Z0-9]) {1,2}-(?: |$)", re.MULTILINE)
_HTML_TAG = re.compile(r"<[^>]+>")


def _ris_records(text: str) -> Iterator[tuple[int, str | None, list[str]]]:
    """Each record as (first line number, the reason it is incomplete or None, its lines)."""
    parser = rispy.RisParser()
    start: int | None = None
    lines: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        tag = parser.parse_line(line)[0]
        if tag == "TY":
            if start is not None:
                yield start, "it has no end (a line 'ER  - ') before the next record starts", lines
            start, lines = number, [line]
        elif start is not None:
            lines.append(line)
            if tag == "ER":
                yield start, None, lines
                start, lines = None, []
    if start is not None:
        yield start, "it has no end (a line 'ER  - '): the file seems cut off", lines


def _read_ris(text: str) -> CitationFile:
    text = _RIS_TAG_SPACING.sub(r"\1  - ", text)
    result = CitationFile(entries=[], format="ris")
    for index, (line, incomplete, lines) in enumerate(_ris_records(text), start=1):
        label = _entry_label(index, None, line)
        if incomplete:
            result.problems.append(f"{label} could not be read: {incomplete}")
            continue
        records = rispy.loads("\n".join(lines), skip_unknown_tags=True)
        if len(records) != 1:
            result.problems.append(f"{label} could not be read: it is not a complete RIS record")
            continue
        outcome = _ris_citation(records[0], label)
        if isinstance(outcome, str):
            result.problems.append(outcome)
        else:
            result.entries.append(outcome)
    return result


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v]
    return [str(value)]


def _html_to_text(note: str) -> str:
    # Zotero exports its notes as HTML in N1.
    if not _HTML_TAG.search(note):
        return note
    try:
        return str(lxml.html.fromstring(note).text_content())
    except Exception:  # lxml raises assorted errors on odd fragments; the tags stripped will do
        return _HTML_TAG.sub(" ", note)


def _ris_citation(record: Mapping[str, Any], label: str) -> Citation | str:
    get = record.get
    title = get("title") or get("primary_title") or ""
    doi_text = get("doi") or (get("type_of_work") if normalize_doi(get("type_of_work")) else None)
    notes = [_html_to_text(n) for n in _as_list(get("notes"))]
    arxiv_id = _first_arxiv_id(
        [
            *((url, False) for url in _as_list(get("urls"))),
            (get("doi"), False),
            *(
                (url, False)
                for url in _as_list(get("file_attachments1")) + _as_list(get("file_attachments2"))
            ),
            (get("accession_number"), False),
            (get("type_of_work"), False),
            (get("number"), False),
            (get("journal_name"), False),
            (get("alternate_title3"), False),
            (get("secondary_title"), False),
            (get("note"), False),
            *((note, False) for note in notes),
        ]
    )
    return _citation_or_problem(
        label,
        _clean(str(title)),
        [_display_name(a) for a in _as_list(get("authors")) + _as_list(get("first_authors"))],
        _year_in(get("year"), get("publication_year"), get("date")),
        arxiv_id,
        normalize_doi(doi_text),
        _user_note(notes),
    )


# -- CSL-JSON --------------------------------------------------------------------------------------

_CSL_FIELDS = frozenset({"type", "title", "author", "DOI", "URL", "issued", "id", "container-title"})


def _read_csl_json(text: str) -> CitationFile:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise CitationError(
            f"The file is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from None
    except RecursionError:
        raise CitationError("The file is JSON nested too deeply to be CSL-JSON.") from None
    if isinstance(document, dict) and _CSL_FIELDS & document.keys():
        document = [document]
    if not isinstance(document, list) or not any(
        isinstance(item, dict) and _CSL_FIELDS & item.keys() for item in document
    ):
        raise CitationError(
            "The file is JSON but not CSL-JSON: CSL-JSON is a list of items with a type and a title, "
            "as Zotero's 'CSL JSON' export writes."
        )
    result = CitationFile(entries=[], format="csl-json")
    for index, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            result.problems.append(f"{_entry_label(index, None, None)} is not a CSL-JSON item (an object)")
            continue
        key = item.get("id")
        label = _entry_label(index, str(key) if isinstance(key, str | int) else None, None)
        outcome = _csl_citation(item, label)
        if isinstance(outcome, str):
            result.problems.append(outcome)
        else:
            result.entries.append(outcome)
    return result


def _csl_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]
    return None


def _csl_name(person: Any) -> str | None:
    if not isinstance(person, dict):
        return _csl_text(person)
    literal = _csl_text(person.get("literal"))
    if literal:
        return literal
    parts = [
        _csl_text(person.get(part))
        for part in ("given", "dropping-particle", "non-dropping-particle", "family", "suffix")
    ]
    return " ".join(p for p in parts if p) or None


def _csl_year(issued: Any) -> int | None:
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            return _year_in(parts[0][0])
        return _year_in(issued.get("raw"), issued.get("literal"))
    return _year_in(_csl_text(issued))


def _csl_citation(item: Mapping[str, Any], label: str) -> Citation | str:
    def text(name: str) -> str | None:
        return _csl_text(item.get(name))

    about_arxiv = " ".join(
        t for t in (text("container-title"), text("publisher"), text("archive"), text("source")) if t
    ).lower()
    arxiv_id = _first_arxiv_id(
        [
            (text("URL"), False),
            (text("DOI"), False),
            (text("number"), "arxiv" in about_arxiv),
            (text("archive_location"), "arxiv" in about_arxiv),
            (text("container-title"), False),
            (text("note"), False),
        ]
    )
    authors = item.get("author")
    names = [_csl_name(person) for person in authors] if isinstance(authors, list) else []
    return _citation_or_problem(
        label,
        _clean(text("title") or ""),
        [name for name in names if name],
        _csl_year(item.get("issued")),
        arxiv_id,
        normalize_doi(text("DOI")),
        _user_note([text("annote") or text("note")]),
    )


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------

# Words that make a poor citation key: "On the ...", "Towards a ...".
_KEY_STOPWORDS = frozenset(
    """a an and are as at be by can do does for from how in into is it its of on or our the their to
    toward towards via what when where which why with without""".split()
)


def _ascii_words(text: str) -> list[str]:
    # Erdős -> erdos: keys are ASCII so that every BibTeX tool accepts them.
    folded = (
        unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode("ascii")
        for word in re.findall(r"[^\W_]+", text)
    )
    return [word for word in (re.sub(r"[^A-Za-z0-9]", "", w) for w in folded) if word]


def citation_key(paper: Paper) -> str:
    """``surname`` + ``year`` + first telling word of the title (``vaswani2017attention``).

    A paper without authors or date (one from a copied listing) takes its key from the title alone,
    from its first two telling words (``matryoshkarepresentation``), never an invented author or year.
    """
    words = [w.lower() for w in _ascii_words(paper.title or "") if w.lower() not in _KEY_STOPWORDS]
    words = [w for w in words if len(w) > 1] or ["paper"]
    surname = ""
    if paper.authors:
        names = _ascii_words(paper.authors[0])
        surname = names[-1].lower() if names else ""
    year = str(paper.published_at.year) if paper.published_at else ""
    if not surname and not year:
        return "".join(words[:2])
    return f"{surname}{year}{words[0]}"


def _unique_keys(papers: Sequence[Paper]) -> list[str]:
    """Each paper's key, with a, b, ... added to the second and later papers that share one."""
    seen: set[str] = set()
    keys: list[str] = []
    for paper in papers:
        base = key = citation_key(paper)
        suffix = 0
        while key in seen:
            suffix += 1
            key = base + _letters(suffix)
        seen.add(key)
        keys.append(key)
    return keys


def _letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


_BIBTEX_SPECIAL = re.compile(r"(?<!\\)([&%#_])")
# bibtexparser starts a new entry at "@word{" or "@word(" anywhere, even inside a value; "{@}" is read
# back as "@" and starts nothing.
_BLOCK_START_IN_VALUE = re.compile(r"@(?=\w*[ \t]*[{(])")


def _bibtex_value(text: str, *, latex: bool) -> str:
    """``text`` safe inside a braced BibTeX value.

    Titles are LaTeX already (``latex``): ``& % # _`` outside math are escaped, and the braces that do
    not pair up (they would end the value early); the pairs are LaTeX groups. Other text (a reader's
    note) has all its braces escaped.
    """
    text = _SPACES.sub(" ", text).strip() if latex else text.replace("\r\n", "\n").strip()
    parts = re.split(r"(\$[^$]*\$)", text)
    text = "".join(part if part.startswith("$") else _BIBTEX_SPECIAL.sub(r"\\\1", part) for part in parts)
    if latex:
        text = _escape_unmatched_braces(text)
    else:
        text = _UNESCAPED_BRACE.sub(lambda m: "\\" + m.group(0), text)
    text = _BLOCK_START_IN_VALUE.sub("{@}", text)
    if text.endswith("\\"):
        text += " "  # a final backslash would escape the closing brace
    return text


def _escape_unmatched_braces(text: str) -> str:
    """``text`` with every brace that has no partner escaped; the pairs stay LaTeX groups."""
    unmatched: list[int] = []
    opened: list[int] = []
    for match in _UNESCAPED_BRACE.finditer(text):
        if match.group(0) == "{":
            opened.append(match.start())
        elif opened:
            opened.pop()
        else:
            unmatched.append(match.start())
    for position in sorted(unmatched + opened, reverse=True):
        text = text[:position] + "\\" + text[position:]
    return text


def _bibtex_fields(paper: Paper, note: str | None) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = [
        ("title", "{" + _bibtex_value(paper.title or "", latex=True) + "}"),
        ("author", " and ".join(_bibtex_value(a, latex=True) for a in paper.authors or [])),
    ]
    if paper.published_at:
        fields.append(("year", str(paper.published_at.year)))
    if paper.arxiv_id:
        fields += [("eprint", paper.arxiv_id), ("archivePrefix", "arXiv")]
        if paper.primary_category:
            fields.append(("primaryClass", paper.primary_category))
        fields.append(("url", abs_url(paper.arxiv_id)))
    if paper.doi:
        fields.append(("doi", paper.doi))
    if paper.journal_ref:
        fields.append(("note", _bibtex_value(paper.journal_ref, latex=True)))
    if note and note.strip():
        fields.append(("annote", _bibtex_value(note, latex=False)))
    return [(name, value) for name, value in fields if value]


def _write_bibtex(papers: Sequence[Paper], keys: Sequence[str], notes: Mapping[str, str]) -> str:
    library = Library()
    for paper, key in zip(papers, keys, strict=True):
        fields = [Field(name, value) for name, value in _bibtex_fields(paper, notes.get(paper.id))]
        library.add(Entry("misc", key, fields))
    bibtex_format = BibtexFormat()  # type: ignore[no-untyped-call]  # bibtexparser leaves __init__ unannotated
    bibtex_format.indent = "  "
    bibtex_format.block_separator = "\n"
    return str(write_string(library, bibtex_format=bibtex_format))


def paper_bibtex(paper: Paper, note: str | None = None) -> str:
    """One paper as a BibTeX ``@misc`` entry, the way the paper page and the CLI show it."""
    return _write_bibtex([paper], [citation_key(paper)], {paper.id: note} if note else {})


class _RisWriter(rispy.RisWriter):  # type: ignore[misc]  # rispy has no type hints
    """rispy's writer without the "1." counter line it puts before each record, which Zotero and
    EndNote do not write and some readers stumble on."""

    def set_header(self, count: int) -> str:
        return ""


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _ris_record(paper: Paper, note: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {"type_of_reference": "JOUR" if paper.journal_ref else "GEN"}
    record["title"] = _one_line(paper.title or "")
    authors = []
    for name in paper.authors or []:
        parts = _name_parts(name)
        authors.append(f"{parts[0]}, {parts[1]}".rstrip(", ") if parts else _one_line(name))
    if authors:
        record["authors"] = authors
    if paper.published_at:
        record["year"] = str(paper.published_at.year)
        record["date"] = paper.published_at.strftime("%Y/%m/%d/")
    if paper.journal_ref:
        record["journal_name"] = _one_line(paper.journal_ref)
    if paper.doi:
        record["doi"] = paper.doi
    if paper.arxiv_id:
        record["urls"] = [abs_url(paper.arxiv_id)]
        record["accession_number"] = f"arXiv:{paper.arxiv_id}"
        record["name_of_database"] = "arXiv"
    elif paper.doi:
        record["urls"] = [f"https://doi.org/{paper.doi}"]
    if note and note.strip():
        # RIS is one value per line: each paragraph of the note is an N1 line of its own.
        paragraphs = [_one_line(p) for p in re.split(r"\n\s*\n", note.replace("\r\n", "\n"))]
        record["notes"] = [p for p in paragraphs if p]
    return record


def _csl_item(paper: Paper, key: str, note: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": key,
        "citation-key": key,
        "type": "article-journal" if paper.journal_ref else "article",
        "title": _one_line(paper.title or ""),
    }
    authors: list[dict[str, str]] = []
    for name in paper.authors or []:
        parts = _name_parts(name)
        if parts and parts[1]:
            authors.append({"family": parts[0], "given": parts[1]})
        else:
            authors.append({"literal": _one_line(name)})
    if authors:
        item["author"] = authors
    if paper.published_at:
        published = paper.published_at
        item["issued"] = {"date-parts": [[published.year, published.month, published.day]]}
    if paper.journal_ref:
        item["container-title"] = _one_line(paper.journal_ref)
    if paper.doi:
        item["DOI"] = paper.doi
    if paper.arxiv_id:
        item["URL"] = abs_url(paper.arxiv_id)
        item["number"] = f"arXiv:{paper.arxiv_id}"
        if not paper.journal_ref:
            item["publisher"] = "arXiv"
    elif paper.doi:
        item["URL"] = f"https://doi.org/{paper.doi}"
    if note and note.strip():
        item["note"] = note.strip()
    return item


def write_citations(papers: Sequence[Paper], fmt: str, notes: Mapping[str, str] | None = None) -> str:
    """``papers`` as a file of format ``fmt`` (a key of :data:`CITATION_FORMATS`), in their order.

    ``notes`` maps a paper id to the reader's note on it, written as ``annote`` (BibTeX), ``N1`` (RIS)
    or ``note`` (CSL-JSON). Citation keys follow :func:`citation_key`, made unique within the file.
    """
    if fmt not in CITATION_FORMATS:
        raise ValueError(f"unknown citation format {fmt!r}; expected one of {', '.join(CITATION_FORMATS)}")
    notes = notes or {}
    keys = _unique_keys(papers)
    if fmt == "bibtex":
        return _write_bibtex(papers, keys, notes)
    if fmt == "ris":
        records = [_ris_record(paper, notes.get(paper.id)) for paper in papers]
        return str(rispy.dumps(records, implementation=_RisWriter))
    items = [_csl_item(paper, key, notes.get(paper.id)) for paper, key in zip(papers, keys, strict=True)]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


__all__ = [
    "CITATION_FORMATS",
    "MAX_CITATION_BYTES",
    "Citation",
    "CitationError",
    "CitationFile",
    "arxiv_id_in",
    "citation_key",
    "normalize_doi",
    "paper_bibtex",
    "read_citations",
    "write_citations",
]

"""Tell the supported input formats apart by their first bytes.

Only content is looked at, never the file name: users rename downloads (``export.xml``, ``papers.txt``)
and the same ``.jsonl`` extension covers an arXiv snapshot, a BEIR corpus and BEIR queries. Detection
reads at most :data:`HEAD_SIZE` bytes, so it is cheap on a 4 GB snapshot and must cope with a head
that ends in the middle of an element, a JSON value or a multi-byte character.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import orjson

from dailypapers.errors import FormatError, UnknownFormatError
from dailypapers.ingest.formats._xml import local_name, refuse_entity_declarations, root_tag
from dailypapers.ingest.formats.atom import ATOM_NS
from dailypapers.ingest.formats.listing import looks_like_listing

HEAD_SIZE = 64 * 1024

_BOM = b"\xef\xbb\xbf"
_KEY_RE = re.compile(r'"([A-Za-z_-]+)"\s*:')
_HF_START_RE = re.compile(r'\[\s*\{\s*"paper"\s*:\s*\{')


class Format(StrEnum):
    ARXIV_ATOM = "arxiv-atom"
    OAI_PMH = "oai-pmh"
    ARXIV_SNAPSHOT = "arxiv-snapshot"
    HF_DAILY_PAPERS = "hf-daily-papers"
    LISTING = "listing"
    BEIR_CORPUS = "beir-corpus"


FORMAT_DESCRIPTIONS: dict[Format, str] = {
    Format.ARXIV_ATOM: "arXiv query API response (Atom XML from export.arxiv.org/api/query)",
    Format.OAI_PMH: "arXiv OAI-PMH response, metadataPrefix arXiv or oai_dc (XML from export.arxiv.org/oai2)",
    Format.ARXIV_SNAPSHOT: "arXiv metadata snapshot, JSON lines (Kaggle arxiv-metadata-oai-snapshot.json)",
    Format.HF_DAILY_PAPERS: "Hugging Face daily papers (JSON array from huggingface.co/api/daily_papers)",
    Format.LISTING: "plain-text listing copied from huggingface.co/papers (title, blank line, abstract)",
    Format.BEIR_CORPUS: "BEIR corpus.jsonl (JSON lines with _id, title and text)",
}


def detect_format(head: bytes, *, first_line_length: Callable[[], int] | None = None) -> Format:
    """The format of a file, from its first bytes (up to :data:`HEAD_SIZE` are looked at).

    Raises :class:`FormatError` for empty or non-UTF-8 input and :class:`UnknownFormatError` for text
    that matches no supported format. ``first_line_length`` measures the file's first line when it
    is longer than the head, so that the error can say how long it is.
    """
    head = head[:HEAD_SIZE]
    try:
        return _detect(head)
    except UnknownFormatError:
        if len(head) < HEAD_SIZE or b"\n" in head:
            raise
        length = first_line_length() if first_line_length is not None else None
        shown = f"{length:,} bytes long" if length is not None else f"longer than {HEAD_SIZE:,} bytes"
        raise UnknownFormatError(
            f"unrecognised input format: the first line is {shown}: not a format dailypapers reads "
            "(only JSON can have lines that long, and this is not JSON). "
            f"Supported formats: {_supported()}"
        ) from None


def _detect(head: bytes) -> Format:
    skipped = len(_BOM) if head.startswith(_BOM) else 0
    stripped = head[skipped:].lstrip()
    offset = len(head) - len(stripped)
    if not stripped:
        raise FormatError("file is empty" if not head[skipped:] else "file contains only whitespace")
    text = _decode_head(stripped, offset)

    if text.startswith("<"):
        return _detect_xml(stripped)
    if text.startswith("["):
        detected = _detect_json_array(text)
        if detected is not None:
            return detected
    elif text.startswith("{"):
        return _detect_json_lines(text)
    if looks_like_listing(text):
        return Format.LISTING
    raise UnknownFormatError(_unknown("it is text, but not a copied listing of titles and abstracts"))


def _decode_head(data: bytes, offset: int) -> str:
    nul = data.find(b"\x00")
    if nul != -1:
        raise FormatError(
            f"not UTF-8 text: NUL byte at byte offset {offset + nul} (binary data, or UTF-16 text); "
            "convert text with iconv, e.g. iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data" and error.end == len(data):
            # The head ends inside a multi-byte character: the rest of it is in the next block.
            return data[: error.start].decode("utf-8")
        raise FormatError(
            f"not UTF-8 text: invalid byte 0x{data[error.start]:02x} at byte offset {offset + error.start}; "
            "if it is Latin-1 or Windows-1252, convert it: iconv -f WINDOWS-1252 -t UTF-8 FILE > FILE.utf8"
        ) from None


def _detect_xml(data: bytes) -> Format:
    refuse_entity_declarations(data)
    tag = root_tag(data)
    if tag is None:
        raise UnknownFormatError(_unknown("it starts with '<' but is not well-formed XML"))
    if tag == f"{{{ATOM_NS}}}feed":
        return Format.ARXIV_ATOM
    if local_name(tag) == "OAI-PMH":
        return Format.OAI_PMH
    raise UnknownFormatError(_unknown(f"it is XML with root element <{local_name(tag)}>"))


def _detect_json_array(text: str) -> Format | None:
    first: Any = None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        # Usually a head cut mid-array: decode the first element on its own.
        try:
            first, _end = json.JSONDecoder().raw_decode(text[1:].lstrip())
        except (ValueError, RecursionError):
            # The first item is cut too (or this is not JSON, maybe a listing title such as "[Re] ...").
            # The API writes "paper" as the first key of every item.
            return Format.HF_DAILY_PAPERS if _HF_START_RE.match(text) else None
    else:
        if not isinstance(value, list):
            return None
        if not value:
            raise UnknownFormatError(_unknown("it is an empty JSON array"))
        first = value[0]
    if isinstance(first, dict) and isinstance(first.get("paper"), dict):
        return Format.HF_DAILY_PAPERS
    raise UnknownFormatError(_unknown('it is a JSON array whose first item has no "paper" object'))


def _detect_json_lines(text: str) -> Format:
    first_line, newline, _rest = text.partition("\n")
    keys: set[str]
    try:
        obj = orjson.loads(first_line)
    except orjson.JSONDecodeError:
        if newline:
            raise UnknownFormatError(
                _unknown("it is a JSON document spread over several lines, not JSON lines of papers")
            ) from None
        # One line longer than the head (a paper with thousands of authors): go by the keys seen so far.
        keys = set(_KEY_RE.findall(first_line))
    else:
        if not isinstance(obj, dict):
            raise UnknownFormatError(_unknown("its first line is not a JSON object"))
        keys = set(obj)
    if "id" in keys and (
        ("abstract" in keys and ("versions" in keys or "authors_parsed" in keys))
        or ("submitter" in keys and "authors" in keys)
    ):
        return Format.ARXIV_SNAPSHOT
    if "_id" in keys and "text" in keys:
        if "title" in keys:
            return Format.BEIR_CORPUS
        raise UnknownFormatError(
            "this looks like BEIR queries.jsonl (_id and text, no title): queries are not papers; "
            "ingest the corpus.jsonl next to it"
        )
    shown = ", ".join(sorted(keys)[:10])
    raise UnknownFormatError(_unknown(f"it is JSON lines whose objects have the keys {shown or '(none)'}"))


def _unknown(reason: str) -> str:
    return f"unrecognised input format: {reason}. Supported formats: {_supported()}"


def _supported() -> str:
    return "; ".join(f"{fmt.value}: {description}" for fmt, description in FORMAT_DESCRIPTIONS.items())

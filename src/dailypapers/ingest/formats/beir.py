"""BEIR ``corpus.jsonl`` files: ``{"_id", "title", "text", "metadata"}`` one document a line.

BEIR corpora are evaluation data (SciFact, NFCorpus, ...): their documents become papers without arXiv
ids, keyed by the dataset name and the corpus's own ``_id`` so that relevance judgements (qrels) can be
matched to them. Some corpora leave titles empty; a paper needs one, so the first sentence of the
text stands in and ``extra["title_from_text"]`` says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from dailypapers.ingest.formats._lines import iter_lines, json_error_reason
from dailypapers.ingest.records import PaperRecord, ParsedItem, Rejected, Source
from dailypapers.ingest.text import clean_abstract, clean_title, clean_whitespace

MAX_DERIVED_TITLE = 200

_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s")


def parse_beir_line(line: bytes, position: str, *, dataset: str) -> ParsedItem:
    """Parse one corpus line; problems with its content give a :class:`Rejected`, never an exception."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return Rejected(position, json_error_reason(line, error))
    if not isinstance(obj, dict):
        return Rejected(position, "expected a JSON object with _id, title and text")
    doc_id = obj.get("_id")
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if not isinstance(doc_id, str) or not doc_id.strip():
        return Rejected(position, "document has no _id")
    text = clean_abstract(_string(obj.get("text")))
    title = clean_title(_string(obj.get("title")))
    extra: dict[str, Any] = {}
    if not title:
        if not text:
            return Rejected(position, f"document {doc_id} has neither title nor text")
        title = title_from_text(text)
        extra["title_from_text"] = True
    return PaperRecord(
        source=Source.BEIR,
        title=title,
        abstract=text,
        external_id=doc_id.strip(),
        dataset=dataset,
        extra=extra,
        position=position,
    )


def iter_beir(
    stream: BinaryIO, *, dataset: str, start_offset: int = 0, start_line: int = 1
) -> Iterator[tuple[ParsedItem, int, int]]:
    """Yield ``(item, line_number, byte_offset_after_line)`` for each non-blank line from ``start_offset``."""
    for line, number, offset in iter_lines(stream, start_offset=start_offset, start_line=start_line):
        yield parse_beir_line(line, f"line {number}", dataset=dataset), number, offset


def dataset_name_for(path: Path) -> str:
    """The dataset a corpus belongs to, from its folder: ``.../beir-scifact/corpus.jsonl`` -> ``scifact``."""
    name = path.parent.name.lower()
    for prefix in ("beir-", "beir_"):
        name = name.removeprefix(prefix)
    return name or "beir"


def title_from_text(text: str) -> str:
    """The first sentence of ``text``, cut at a word boundary to at most 200 characters."""
    sentence = _SENTENCE_END_RE.split(clean_whitespace(text), maxsplit=1)[0]
    if len(sentence) <= MAX_DERIVED_TITLE:
        return sentence
    cut = sentence[: MAX_DERIVED_TITLE - 1].rsplit(" ", 1)[0] or sentence[: MAX_DERIVED_TITLE - 1]
    return cut + "…"


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""

"""Safe XML parsing shared by the Atom and OAI-PMH parsers.

The parser never resolves entities and never fetches anything (no DTDs, no XInclude): the bytes come
from the network or from a user's file, and an entity bomb or an external entity must not be able to
expand memory or read local files. ``huge_tree`` stays off, which also caps text node sizes.

A document that declares entities at all (``<!ENTITY`` in its DOCTYPE) is refused before it is parsed,
with a message that says so: arXiv and OAI-PMH responses declare none, and "billion laughs" files
otherwise end up reported as an unknown format, or read with their references left empty.
"""

from __future__ import annotations

from lxml import etree

from dailypapers.errors import FormatError
from dailypapers.ingest.text import clean_whitespace


def safe_parser() -> etree.XMLParser:
    # A fresh parser per call: parser objects keep state and are not meant to be shared across threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def refuse_entity_declarations(data: bytes) -> None:
    """Raise :class:`FormatError` when the document's DOCTYPE declares entities."""
    doctype = data.find(b"<!DOCTYPE")
    if doctype != -1 and data.find(b"<!ENTITY", doctype) != -1:
        raise FormatError(
            "XML entity expansion refused: the document declares entities in its DOCTYPE (<!ENTITY ...>), "
            "as an entity bomb does; arXiv API and OAI-PMH responses declare none"
        )


def parse_xml(data: bytes) -> etree._Element:
    """Parse a whole document, turning every failure into a one-line :class:`FormatError`."""
    if not data.strip():
        raise FormatError("file is empty")
    refuse_entity_declarations(data)
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as error:
        line = error.lineno or (error.position[0] if error.position else 0)
        message = clean_whitespace(error.msg or str(error))
        raise FormatError(f"truncated or malformed XML at line {line}: {message}") from None
    if root is None:
        raise FormatError("the XML document has no root element")
    return root


def element_text(element: etree._Element | None) -> str:
    """All text inside an element (its children's too), or "" for a missing element."""
    if element is None:
        return ""
    return "".join(element.itertext())


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def root_tag(head: bytes) -> str | None:
    """The qualified tag (``{namespace}name``) of a document's root element, read from its first bytes.

    Uses an incremental parser, so a head cut anywhere after the root's start tag is fine. ``None``
    when the bytes are not XML up to the root element.
    """
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True, load_dtd=False)
    try:
        parser.feed(head)
        for _event, element in parser.read_events():
            return str(element.tag)
    except etree.XMLSyntaxError:
        return None
    return None

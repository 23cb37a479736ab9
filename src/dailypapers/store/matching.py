"""Finding the papers that the entries of a reference file (a Zotero export) are about.

Each entry is matched by the surest thing it carries: its arXiv id (also an id the paper was known by
before a merge, from ``paper_aliases``), else its DOI (case does not matter in a DOI), else its title,
looked up by the same ``title_hash`` the ingest stores and confirmed by comparing the titles' keys,
since two titles may share a hash. Every kind is one query per batch of at most ``IN_CHUNK`` values, and
only for the entries that the kinds before it left unmatched.

``papers.doi`` has no index, so the DOI look-up reads the table once per batch; it only runs for the
entries without a known arXiv id, which in an arXiv reader's library are few.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from dailypapers.citations import Citation
from dailypapers.db import chunked
from dailypapers.ingest.merge import title_hash
from dailypapers.ingest.records import title_key
from dailypapers.models import Paper, PaperAlias

MATCH_KINDS = ("arxiv", "doi", "title", "missing")
"""What a :class:`Match` was found by, surest first; ``missing``: no paper here."""


@dataclass(frozen=True)
class Match:
    """An entry and the paper it is about (``None`` when ``how`` is ``missing``)."""

    citation: Citation
    paper_id: str | None
    how: str


def match_citations(session: Session, entries: Sequence[Citation]) -> list[Match]:
    """A :class:`Match` for every entry, in the order of ``entries``."""
    found: dict[int, tuple[str, str]] = {}

    wanted_ids = {e.arxiv_id for e in entries if e.arxiv_id}
    by_arxiv = _papers_by_arxiv_id(session, wanted_ids)
    for index, entry in enumerate(entries):
        if entry.arxiv_id and entry.arxiv_id in by_arxiv:
            found[index] = (by_arxiv[entry.arxiv_id], "arxiv")

    wanted_dois = {e.doi for i, e in enumerate(entries) if i not in found and e.doi}
    by_doi = _papers_by_doi(session, wanted_dois)
    for index, entry in enumerate(entries):
        if index not in found and entry.doi and entry.doi in by_doi:
            found[index] = (by_doi[entry.doi], "doi")

    wanted_titles = {e.title for i, e in enumerate(entries) if i not in found and title_key(e.title)}
    by_title = _papers_by_title(session, wanted_titles)
    for index, entry in enumerate(entries):
        if index not in found and title_key(entry.title) in by_title:
            found[index] = (by_title[title_key(entry.title)], "title")

    return [
        Match(entry, *found[index]) if index in found else Match(entry, None, "missing")
        for index, entry in enumerate(entries)
    ]


def _papers_by_arxiv_id(session: Session, ids: set[str]) -> dict[str, str]:
    """Paper id by arXiv id: arXiv papers are keyed by their id; a merged-away id leads on by its alias."""
    result: dict[str, str] = {}
    aliased: dict[str, str] = {}
    for chunk in chunked(sorted(ids)):
        direct = select(Paper.id.label("wanted"), Paper.id.label("paper_id"), literal(0).label("alias"))
        direct = direct.where(Paper.id.in_(chunk))
        alias = select(PaperAlias.id, PaperAlias.paper_id, literal(1)).where(PaperAlias.id.in_(chunk))
        for wanted, paper_id, is_alias in session.execute(union_all(direct, alias)):
            (aliased if is_alias else result)[wanted] = paper_id
    return {**aliased, **result}


def _papers_by_doi(session: Session, dois: set[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for chunk in chunked(sorted(dois)):
        lowered = func.lower(Paper.doi)
        # An arXiv paper before one known by its DOI alone, then the smallest id: the same paper each time.
        rows = session.execute(
            select(lowered, Paper.id).where(lowered.in_(chunk)).order_by(Paper.arxiv_id.is_(None), Paper.id)
        )
        for doi, paper_id in rows:
            result.setdefault(doi, paper_id)
    return result


def _papers_by_title(session: Session, titles: set[str]) -> dict[str, str]:
    """Paper id by title key, for titles whose hash and key both agree with a paper's."""
    keys_by_hash: dict[int, set[str]] = {}
    for title in titles:
        keys_by_hash.setdefault(title_hash(title), set()).add(title_key(title))
    result: dict[str, str] = {}
    for chunk in chunked(sorted(keys_by_hash)):
        rows = session.execute(
            select(Paper.title_hash, Paper.title, Paper.id)
            .where(Paper.title_hash.in_(chunk))
            .order_by(Paper.arxiv_id.is_(None), Paper.id)
        )
        for hashed, title, paper_id in rows:
            key = title_key(title)
            if key in keys_by_hash.get(hashed, ()):
                result.setdefault(key, paper_id)
    return result


__all__ = ["MATCH_KINDS", "Match", "match_citations"]

"""Plain-dict and BibTeX views of papers, shared by the CLI, the exports and the JSON API.

The BibTeX comes from :mod:`dailypapers.citations`, so the paper page and the library's exports agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from dailypapers.citations import citation_key, paper_bibtex
from dailypapers.ingest.arxiv_ids import abs_url, html_url, pdf_url
from dailypapers.models import Paper


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


def external_links(arxiv_id: str | None, doi: str | None) -> dict[str, str]:
    """Where a paper is read elsewhere: ``abs``, ``pdf`` and ``html`` on arXiv, and ``doi``, those it has."""
    links: dict[str, str] = {}
    if arxiv_id:
        links.update(abs=abs_url(arxiv_id), pdf=pdf_url(arxiv_id), html=html_url(arxiv_id))
    if doi:
        links["doi"] = f"https://doi.org/{doi}"
    return links


def paper_links(paper: Paper) -> dict[str, Any]:
    return {
        "code": list(paper.code_urls or []),
        "project": paper.project_url,
        **external_links(paper.arxiv_id, paper.doi),
    }


def paper_to_dict(paper: Paper) -> dict[str, Any]:
    feed = paper.feed_entry
    return {
        "id": paper.id,
        "arxiv_id": paper.arxiv_id,
        "version": paper.version,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": list(paper.authors or []),
        "categories": list(paper.categories or []),
        "primary_category": paper.primary_category,
        # Categories no source gave, predicted from the nearest papers (shown with a "predicted" marker).
        "categories_predicted": bool(paper.categories_predicted),
        "published": iso(paper.published_at),
        "updated": iso(paper.updated_at),
        "versions": list(paper.versions or []),
        "comments": paper.comments,
        "journal_ref": paper.journal_ref,
        "doi": paper.doi,
        "license": paper.license,
        "links": paper_links(paper),
        "sources": sorted(
            ({"source": s.source, "external_id": s.external_id} for s in paper.sources),
            key=lambda s: s["source"],
        ),
        "feed": None
        if feed is None
        else {
            "day": iso(feed.day),
            "submitted_by": feed.submitted_by,
            "upvotes": feed.upvotes,
            "num_comments": feed.num_comments,
        },
        "extra": dict(paper.extra or {}),
    }


# BibTeX is written by citations.py, which also writes RIS and CSL-JSON; these names stay for callers.
bibtex_key = citation_key


def paper_to_bibtex(paper: Paper) -> str:
    """A paper as a BibTeX ``@misc`` entry (the paper page, the API and ``dailypapers export``)."""
    return paper_bibtex(paper)

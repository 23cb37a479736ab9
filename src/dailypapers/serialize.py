"""Plain-dict and BibTeX views of papers, shared by the CLI, the exports and the JSON API."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

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


_BIBTEX_SPECIAL = re.compile(r"(?<!\\)([&%#_])")


def _bibtex_escape(text: str) -> str:
    # Titles and abstracts are already LaTeX; only the characters that break BibTeX outside math are escaped.
    parts = re.split(r"(\$[^$]*\$)", text)
    return "".join(part if part.startswith("$") else _BIBTEX_SPECIAL.sub(r"\\\1", part) for part in parts)


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


def bibtex_key(paper: Paper) -> str:
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


def paper_to_bibtex(paper: Paper) -> str:
    fields: list[tuple[str, str]] = [
        ("title", "{" + _bibtex_escape(paper.title) + "}"),
        ("author", " and ".join(paper.authors or [])),
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
        fields.append(("note", _bibtex_escape(paper.journal_ref)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@misc{{{bibtex_key(paper)},\n{body}\n}}\n"

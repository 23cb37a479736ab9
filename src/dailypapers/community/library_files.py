"""Reference files and collections: importing a BibTeX, RIS or CSL-JSON file (a Zotero export) into a
collection, and exporting a collection as one.

Reading the file is :func:`dailypapers.citations.read_citations` (pure); finding each entry's paper is
:func:`dailypapers.store.matching.match_citations`, by arXiv id, then DOI, then title. An entry with an
arXiv id that the site does not have is fetched from arXiv by the rules of fetching a paper from the site
(:func:`dailypapers.community.submissions.fetch_paper`: a confirmed address, the daily limit of look-ups,
and one time budget shared by every look-up of the import, since ``fetch`` is the web app's budgeted
fetcher). An entry that still has no paper, because arXiv has none, could not be reached in time or the
limit was reached, is listed as not found with the reason, and the rest of the file is imported anyway.

Only the owner imports into a collection (checked before the file is read); the reader's note on an
entry (Zotero's "Extra" and notes) becomes the note on the paper, cut to the length a note may have.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.citations import CITATION_FORMATS, Citation, read_citations, write_citations
from dailypapers.community import library
from dailypapers.community.submissions import Fetch, fetch_paper
from dailypapers.config import Settings
from dailypapers.errors import CommunityError, InvalidInput, NotFoundError, UpstreamError
from dailypapers.models import Collection, User
from dailypapers.store.matching import match_citations

EXPORT_FORMATS = tuple(CITATION_FORMATS)
FORMAT_LABELS = {"bibtex": "BibTeX", "ris": "RIS", "csl-json": "CSL-JSON"}


@dataclass(frozen=True, slots=True)
class Unmatched:
    """An entry of the file that has no paper here, and why (empty: nothing to look up by)."""

    citation: Citation
    reason: str = ""


@dataclass(slots=True)
class ImportSummary:
    """What an import did: entries matched by each kind, fetched from arXiv, added, and the rest."""

    collection: Collection
    format: str
    by_arxiv: int = 0
    by_doi: int = 0
    by_title: int = 0
    fetched: int = 0
    added: int = 0
    already: int = 0
    not_added: int = 0
    unmatched: list[Unmatched] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return self.by_arxiv + self.by_doi + self.by_title


def _fetch_missing(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    user: User,
    arxiv_ids: Sequence[str],
    fetch: Fetch,
    now: datetime,
) -> tuple[dict[str, str], dict[str, str]]:
    """Paper ids of the arXiv ids fetched, and why each of the others was not."""
    fetched: dict[str, str] = {}
    failed: dict[str, str] = {}
    stop = ""
    for arxiv_id in arxiv_ids:
        if stop:
            failed[arxiv_id] = stop
            continue
        try:
            done = fetch_paper(sessions, settings, user=user, text=arxiv_id, fetch=fetch, now=now)
        except NotFoundError:
            failed[arxiv_id] = f"arXiv has no paper {arxiv_id}."
        except UpstreamError:
            # The budget is shared: once arXiv did not answer in time, the next look-up would not either.
            stop = failed[arxiv_id] = "arXiv could not be reached in time to fetch it; try again later."
        except InvalidInput as refused:
            failed[arxiv_id] = f"Not fetched from arXiv: {refused}"
        except CommunityError as refused:  # not confirmed, suspended, the daily limit: so are the next ones
            stop = failed[arxiv_id] = f"Not fetched from arXiv: {refused}"
        else:
            fetched[arxiv_id] = done.paper_id
    return fetched, failed


def import_citations(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    user: User,
    collection_id: int,
    data: bytes,
    filename: str | None,
    fetch: Fetch,
    now: datetime,
) -> ImportSummary:
    """Add the papers of a reference file to one's collection. Raises ``CitationError`` for a file that
    cannot be read at all; entries that cannot be read are in ``problems``, the others are imported."""
    with sessions() as session:
        collection = library.own_collection(session, user, collection_id)
    parsed = read_citations(data, filename)
    summary = ImportSummary(collection=collection, format=parsed.format, problems=list(parsed.problems))
    with sessions() as session:
        matches = match_citations(session, parsed.entries)
    to_fetch = list(
        dict.fromkeys(m.citation.arxiv_id for m in matches if m.how == "missing" and m.citation.arxiv_id)
    )
    fetched, failed = _fetch_missing(sessions, settings, user=user, arxiv_ids=to_fetch, fetch=fetch, now=now)
    chosen: list[tuple[str, str]] = []
    for match in matches:
        paper_id, how = match.paper_id, match.how
        arxiv_id = match.citation.arxiv_id
        if paper_id is None and arxiv_id in fetched:
            paper_id, how = fetched[arxiv_id], "arxiv"
            summary.fetched += 1
        if paper_id is None:
            summary.unmatched.append(Unmatched(match.citation, failed.get(arxiv_id or "", "")))
            continue
        summary.by_arxiv += how == "arxiv"
        summary.by_doi += how == "doi"
        summary.by_title += how == "title"
        chosen.append((paper_id, (match.citation.note or "")[: library.MAX_NOTE_CHARS]))
    with sessions.begin() as session:
        summary.added, summary.already, summary.not_added = library.add_papers(
            session, user=user, collection_id=collection.id, papers=chosen, now=now
        )
    return summary


@dataclass(frozen=True, slots=True)
class Export:
    """A collection written as a reference file."""

    text: str
    media_type: str
    filename: str


def export_collection(session: Session, *, collection: Collection, owner: User, fmt: str) -> Export:
    """A collection the reader may read (``library.readable_collection``) as a file of format ``fmt``."""
    if fmt not in CITATION_FORMATS:
        raise NotFoundError(f"Collections are exported as {', '.join(EXPORT_FORMATS)}, not {fmt[:40]!r}.")
    entries = store.collection_entries(session, collection_id=collection.id)
    papers = store.papers_by_ids(session, ids=[e.paper_id for e in entries])
    notes = {e.paper_id: e.note for e in entries if e.note}
    media_type, extension = CITATION_FORMATS[fmt]
    return Export(
        text=write_citations(papers, fmt, notes),
        media_type=media_type,
        filename=f"{owner.username}-{collection.slug}{extension}",
    )


__all__ = [
    "EXPORT_FORMATS",
    "FORMAT_LABELS",
    "Export",
    "ImportSummary",
    "Unmatched",
    "export_collection",
    "import_citations",
]

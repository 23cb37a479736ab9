"""arXiv identifiers: recognise them in ids, URLs and free text, and split off the version.

Two schemes exist (https://info.arxiv.org/help/arxiv_identifier.html):

* new style since April 2007: ``YYMM.NNNN`` (until 2014) or ``YYMM.NNNNN``, e.g. ``2104.12255v1``;
* old style: ``archive[.SUBJECT]/YYMMNNN``, e.g. ``hep-th/9901001``, ``math.GT/0309136``. The subject
  class is not part of the identity, so ``math.GT/0309136`` and ``math/0309136`` are one paper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NEW = r"(?P<new>\d{4}\.\d{4,5})"
_OLD = r"(?P<old>(?P<archive>[a-z]+(?:-[a-z]+)*)(?:\.[A-Z]{2})?/(?P<number>\d{7}))"
_VERSION = r"(?:v(?P<version>\d+))?"

_ID_RE = re.compile(rf"^(?:arxiv:)?(?:{_NEW}|{_OLD}){_VERSION}$", re.IGNORECASE)
_URL_RE = re.compile(
    rf"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(?:{_NEW}|{_OLD}){_VERSION}(?:\.pdf)?/?"
    r"(?:[?#].*)?$",
    re.IGNORECASE,
)
_OAI_RE = re.compile(rf"^oai:arXiv\.org:(?:{_NEW}|{_OLD}){_VERSION}$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ArxivId:
    """An arXiv identifier without version, and the version when one was given."""

    id: str
    version: int | None = None

    def __str__(self) -> str:
        return f"{self.id}v{self.version}" if self.version is not None else self.id


def _from_match(match: re.Match[str]) -> ArxivId:
    if match.group("new"):
        ident = match.group("new")
        # New-style numbers are 4 digits until 1412 and 5 digits from 1501; anything else is not an id.
        yymm, number = ident.split(".")
        month = int(yymm[2:])
        if not 1 <= month <= 12:
            raise ValueError(ident)
        if (int(yymm) >= 1501) != (len(number) == 5):
            raise ValueError(ident)
    else:
        ident = f"{match.group('archive').lower()}/{match.group('number')}"
    version = match.group("version")
    if version is not None and int(version) == 0:
        raise ValueError(ident)  # versions count from 1; "v0" would not survive str() and back
    return ArxivId(ident, int(version) if version else None)


def parse_arxiv_id(text: str) -> ArxivId | None:
    """Parse an id, ``arXiv:`` id, OAI identifier or arxiv.org URL; ``None`` if it is none of these."""
    text = text.strip()
    for pattern in (_ID_RE, _URL_RE, _OAI_RE):
        match = pattern.match(text)
        if match:
            try:
                return _from_match(match)
            except ValueError:
                return None
    return None


def is_arxiv_id(text: str) -> bool:
    return parse_arxiv_id(text) is not None


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"


def html_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/html/{arxiv_id}"


# Categories ------------------------------------------------------------------------------------

_UPPER_SUBJECT_ARCHIVES = frozenset(
    {"astro-ph", "cs", "econ", "eess", "math", "nlin", "q-bio", "q-fin", "stat"}
)
_LOWER_SUBJECT_ARCHIVES = frozenset({"cond-mat", "physics"})
_PLAIN_ARCHIVES = frozenset(
    {
        "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nucl-ex", "nucl-th", "quant-ph",
        # Retired archives: their papers still carry these categories.
        "acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an", "chao-dyn", "chem-ph",
        "cmp-lg", "comp-gas", "dg-ga", "funct-an", "mtrl-th", "patt-sol", "plasm-ph", "q-alg",
        "solv-int", "supr-con",
    }
)  # fmt: skip
_CATEGORY_RE = re.compile(r"^(?P<archive>[a-z]+(?:-[a-z]+)*)(?:\.(?P<subject>[A-Za-z]+(?:-[a-z]+)*))?$")


def validate_category(category: str) -> str:
    """Return ``category`` if it is an arXiv category (``cs.CL``, ``hep-th``); raise ``ValueError`` if not."""
    hint = "expected an arXiv category such as cs.CL, hep-th or math.AG (https://arxiv.org/category_taxonomy)"
    match = _CATEGORY_RE.match(category)
    if not match:
        raise ValueError(f"{category!r} is not an arXiv category; {hint}")
    archive, subject = match.group("archive"), match.group("subject")
    if archive in _PLAIN_ARCHIVES:
        if subject is not None:
            raise ValueError(
                f"{category!r} is not an arXiv category: {archive} has no subject classes; {hint}"
            )
        return category
    if archive in _UPPER_SUBJECT_ARCHIVES:
        if subject is not None and not re.fullmatch(r"[A-Z]{2}", subject):
            suggestion = f"; did you mean {archive}.{subject.upper()}?" if len(subject) == 2 else f"; {hint}"
            raise ValueError(
                f"{category!r} is not an arXiv category: "
                f"{archive} subject classes are two capitals{suggestion}"
            )
        return category
    if archive in _LOWER_SUBJECT_ARCHIVES:
        if subject is not None and subject != subject.lower():
            raise ValueError(
                f"{category!r} is not an arXiv category: {archive} subject classes are lower-case; "
                f"did you mean {archive}.{subject.lower()}?"
            )
        return category
    raise ValueError(f"{category!r} is not an arXiv category: unknown archive {archive!r}; {hint}")


# -- arXiv query API ---------------------------------------------------------------------------------

"""Text clean-up shared by the parsers: whitespace, LaTeX markup, links, dates.

Titles and abstracts keep their math (``$\\alpha$``), which the pages render as MathML, but their text
markup (accents, ``\\emph{}``) becomes Unicode (see :mod:`dailypapers.ingest.latex`). Author names are
plain text through and through: displayed, sorted and searched, so all their LaTeX (``Bal\\'azs``) goes.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache

from dailypapers.ingest.latex import latex_text

# arXiv abstracts wrap lines at ~80 columns and start a new paragraph with an indented line.
_PARAGRAPH_RE = re.compile(r"\n[ \t]{2,}(?=\S)")
_BLANK_LINE_RE = re.compile(r"\n\s*\n")

_URL_RE = re.compile(r"https?://[^\s<>\"'{}|\\^`\]\[]+", re.IGNORECASE)
_HF_SPACE_RE = re.compile(
    r"https?://(?:www\.)?huggingface\.co/(spaces|datasets)/([^/\s#?]+)/([^/\s#?]+)", re.I
)
_CODE_HOSTS = (
    "github.com",
    "gitlab.com",
    "bitbucket.org",
    "codeberg.org",
    "huggingface.co",
    "sourceforge.net",
)
_NOT_A_REPO = {"features", "about", "pricing", "orgs", "topics", "sponsors", "marketplace", "collections"}


def clean_whitespace(text: str) -> str:
    """Collapse every run of whitespace (line wraps included) to one space."""
    # str.split() splits on exactly the characters that the regex ``\s`` matches and is several times
    # faster than re.sub: this runs for every title, abstract and author of a multi-million-line snapshot.
    return " ".join(text.split())


def clean_title(text: str) -> str:
    """A title on one line, its LaTeX text markup as Unicode (math kept). Idempotent."""
    return latex_text(clean_whitespace(text))


def clean_abstract(text: str) -> str:
    """Join wrapped lines, keep paragraph breaks as a blank line, LaTeX text markup as Unicode.

    A paragraph starts after a blank line or at a line indented more than the lines around it (arXiv's
    convention). Math is kept for the MathML renderer. Cleaning a cleaned abstract again changes nothing.
    """
    return latex_text(_join_lines(text))


def _join_lines(text: str) -> str:
    text = text.strip("\n").rstrip()
    if "\n " not in text and "\n\t" not in text and "\n\n" not in text and "\n\r" not in text:
        return clean_whitespace(text)  # no blank or indented line, so one paragraph: skip the regexes
    paragraphs: list[str] = []
    for block in _BLANK_LINE_RE.split(text):
        pieces = _PARAGRAPH_RE.split(block)
        if len(pieces) > 1:
            # Pretty-printed XML indents every line; only indentation beyond the common one marks a paragraph.
            pieces = _PARAGRAPH_RE.split(_dedent_continuation_lines(block))
        paragraphs.extend(pieces)
    return "\n\n".join(p for p in (clean_whitespace(p) for p in paragraphs) if p)


def _dedent_continuation_lines(text: str) -> str:
    first, *rest = text.split("\n")
    indents = [len(line) - len(line.lstrip(" \t")) for line in rest if line.strip()]
    common = min(indents, default=0)
    if not common:
        return text
    return "\n".join([first, *(line[common:] for line in rest)])


@lru_cache(maxsize=65536)
def _latex_to_text(text: str) -> str:
    from pylatexenc.latex2text import LatexNodes2Text

    return clean_whitespace(LatexNodes2Text(math_mode="verbatim").latex_to_text(text))


def latex_to_unicode(text: str) -> str:
    """Turn accent macros and braces into plain Unicode text (``Bal\\'azs`` -> ``Balázs``)."""
    if "\\" not in text and "{" not in text and "~" not in text:
        return clean_whitespace(text)
    return _latex_to_text(text)


def split_authors(authors: str) -> list[str]:
    """Split arXiv's author string ("A, B and C", "A, B, and C") into names, keeping their order.

    Parenthesised affiliations are dropped; commas inside braces or parentheses do not split.
    """
    names: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in authors.replace("\n", " "):
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            names.append("".join(current))
            current = []
        else:
            current.append(ch)
    names.append("".join(current))
    result: list[str] = []
    for chunk in names:
        for name in re.split(r"\s+and\s+", chunk.strip()):
            name = re.sub(r"^and\s+", "", name.strip())
            name = _strip_affiliation(name)
            if name:
                result.append(latex_to_unicode(name))
    return result


def _strip_affiliation(name: str) -> str:
    while True:
        stripped = re.sub(r"\s*\([^()]*\)\s*$", "", name)
        if stripped == name:
            return name.strip()
        name = stripped


def find_urls(*texts: str | None) -> list[str]:
    """Every http(s) URL in the given texts, in order, without trailing punctuation, deduplicated."""
    seen: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        for match in _URL_RE.finditer(text.replace("\n", " ")):
            url = match.group(0).rstrip(".,;:)")
            seen.setdefault(url, None)
    return list(seen)


def code_repositories(*texts: str | None) -> list[str]:
    """URLs of code repositories (GitHub, GitLab, ...) mentioned in the text, as owner/name URLs."""
    repos: dict[str, None] = {}
    for url in find_urls(*texts):
        match = re.match(r"https?://(?:www\.)?([^/]+)/([^/\s#?]+)/([^/\s#?]+)", url, re.IGNORECASE)
        if not match:
            continue
        host, owner, name = match.group(1).lower(), match.group(2), match.group(3)
        if host not in _CODE_HOSTS or owner.lower() in _NOT_A_REPO:
            continue
        if host == "huggingface.co":
            # huggingface.co/<org>/<model> is a model; code lives in spaces (spaces/<org>/<name>).
            space = _HF_SPACE_RE.match(url)
            if not space:
                continue
            kind, org, repo = space.groups()
            repos.setdefault(f"https://huggingface.co/{kind.lower()}/{org}/{repo}", None)
            continue
        name = re.sub(r"\.git$", "", name)
        repos.setdefault(f"https://{host}/{owner}/{name}", None)
    return list(repos)


def project_page(*texts: str | None) -> str | None:
    """The first URL that looks like a project page (github.io and similar hosted sites)."""
    for url in find_urls(*texts):
        host = re.sub(r"^https?://", "", url).split("/")[0].lower()
        if host.endswith((".github.io", ".gitlab.io", ".pages.dev", ".netlify.app")):
            return url
    return None


def parse_datetime(value: str | None) -> datetime | None:
    """Parse the date forms arXiv and Hugging Face use; naive results are taken as UTC."""
    if not value:
        return None
    value = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)  # RFC 2822, as in the snapshot's version list
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: str | None) -> date | None:
    parsed = parse_datetime(value)
    return parsed.date() if parsed else None

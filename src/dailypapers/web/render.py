"""Server-side HTML: the Jinja2 environment, its filters, and static files addressed by content hash.

Autoescaping is on for every template, so text from papers (titles with ``<``, ``&``, tag-like strings)
is escaped unless a filter returns ``Markup`` on purpose; the only such filters are the math renderers in
:mod:`dailypapers.mathml`, which escape text themselves and sanitise the MathML they produce.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import jinja2

from dailypapers import __version__
from dailypapers.community.markdown import render_comment
from dailypapers.mathml import render_math, render_math_excerpt, render_paragraphs, strip_math_delimiters
from dailypapers.trending import readable_number

SITE_NAME = "Daily Papers"
STATIC_DIR = Path(str(files("dailypapers.web") / "static"))
TEMPLATES_DIR = Path(str(files("dailypapers.web") / "templates"))
CARD_EXCERPT_CHARS = 300
AUTHORS_SHOWN = 3


def paper_path(paper_id: str) -> str:
    """The page of a paper; old-style ids keep their slash (``/papers/hep-th/9901001``)."""
    return "/papers/" + quote(paper_id, safe="/")


def url_with(path: str, params: Mapping[str, object] | None = None, **more: object) -> str:
    """``path`` with the non-empty parameters as a query string, in the order given."""
    merged = {**(params or {}), **more}
    pairs = [(k, str(v)) for k, v in merged.items() if v not in (None, "", False)]
    return f"{path}?{urlencode(pairs)}" if pairs else path


def is_http_url(value: object) -> bool:
    """Only http(s) links from paper data become ``href``s: a ``javascript:`` URL would run when clicked."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value.strip())
    return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc)


def short_authors(authors: Iterable[str], shown: int = AUTHORS_SHOWN) -> str:
    names = list(authors)
    if not names:
        return ""
    if len(names) <= shown:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return ", ".join(names[:shown]) + " et al."


def human_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return f"{value.day} {value:%b %Y}"


def human_time(value: datetime | None) -> str:
    """``1 Aug 2026, 12:05 UTC`` (stored times are UTC; SQLite returns them without their zone)."""
    if value is None:
        return ""
    return f"{value.day} {value:%b %Y, %H:%M} UTC"


def iso_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def hf_discussion_url(arxiv_id: str | None) -> str | None:
    """The Hugging Face page of a paper, at its discussion; Hugging Face knows papers by arXiv id only."""
    return f"https://huggingface.co/papers/{quote(arxiv_id, safe='/')}#community" if arxiv_id else None


def arxiv_search_url(title: str) -> str:
    """arXiv's own search for a title: how a reader finds a paper we know by its title alone."""
    return "https://arxiv.org/search/?" + urlencode({"query": title, "searchtype": "title"})


def profile_path(username: str) -> str:
    return "/u/" + quote(username, safe="")


def avatar_path(name: str) -> str:
    return "/avatars/" + quote(name, safe="") + ".svg"


def thumbnail_path(paper_id: str) -> str:
    return "/thumbnails/" + quote(paper_id, safe="/") + ".svg"


def count_label(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


def _asset_hashes(folder: Path) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            name = path.relative_to(folder).as_posix()
            hashes[name] = hashlib.blake2b(path.read_bytes(), digest_size=6).hexdigest()
    return hashes


class Renderer:
    """Renders templates to strings (so that pages can be cached as bytes)."""

    def __init__(self) -> None:
        self.assets = _asset_hashes(STATIC_DIR)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=False,
        )
        self.env.filters.update(
            math=render_math,
            math_excerpt=lambda text, limit=CARD_EXCERPT_CHARS: render_math_excerpt(text, limit),
            paragraphs=render_paragraphs,
            plain=strip_math_delimiters,
            short_authors=short_authors,
            human_date=human_date,
            paper_path=paper_path,
            comment=render_comment,
            when=human_time,
            iso_time=iso_time,
            profile_path=profile_path,
            score=readable_number,
        )
        self.env.tests["http_url"] = is_http_url
        self.env.globals.update(
            site_name=SITE_NAME,
            version=__version__,
            static=self.static_url,
            url_with=url_with,
            paper_path=paper_path,
            count_label=count_label,
            profile_path=profile_path,
            hf_discussion_url=hf_discussion_url,
            arxiv_search_url=arxiv_search_url,
            avatar_path=avatar_path,
            thumbnail_path=thumbnail_path,
            # Pages for visitors without a session; signed-in pages pass their own (see web/auth.py).
            viewer=None,
            csrf_token="",
        )

    def static_url(self, name: str) -> str:
        digest = self.assets.get(name)
        if digest is None:
            raise KeyError(f"no static file {name!r}")
        return f"/static/{name}?v={digest}"

    def render(self, template: str, **context: object) -> str:
        return self.env.get_template(template).render(**context)


__all__ = [
    "SITE_NAME",
    "Renderer",
    "arxiv_search_url",
    "avatar_path",
    "hf_discussion_url",
    "human_date",
    "human_time",
    "is_http_url",
    "paper_path",
    "profile_path",
    "short_authors",
    "thumbnail_path",
    "url_with",
]

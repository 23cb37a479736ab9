"""RSS 2.0 and Atom feeds: the daily feed, trending, and the newest papers of each category.

Generated with feedgen, which builds the XML with lxml, so titles and abstracts are escaped by the XML
serialiser, never by string formatting.

Summaries are the authors and the abstract (formulas left as LaTeX). RSS 2.0 has no way to say that a
``<description>`` is plain text, and readers take it as HTML: escaped only once, by the XML serialiser,
an abstract holding ``<img src=x onerror=...>`` would reach the reader as a live tag. So RSS descriptions
are HTML made here, every piece of text escaped for HTML (then escaped again, as XML, by lxml). Atom
says what its summaries are: they go out as ``type="text"``, where readers show the characters as they
are, so they stay plain text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum

from fastapi import APIRouter, Request
from feedgen.feed import FeedGenerator
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import Response

from dailypapers import __version__, store, trending
from dailypapers.store.feeds import PaperCard
from dailypapers.web.cache import CachedPage, make_page, serve_cached
from dailypapers.web.common import CategoryQuery, clock_slot, trending_cards
from dailypapers.web.deps import NowDep, PageCacheDep, SessionsDep
from dailypapers.web.render import SITE_NAME, paper_path

FEED_DAYS = 7
FEED_ITEMS = 100
TRENDING_ITEMS = 50
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class FeedFormat(StrEnum):
    rss = "rss"
    atom = "atom"


MEDIA_TYPES = {
    FeedFormat.rss: "application/rss+xml; charset=utf-8",
    FeedFormat.atom: "application/atom+xml; charset=utf-8",
}


def xml_text(text: str | None) -> str:
    """Text with the characters XML 1.0 cannot carry removed."""
    return _NOT_XML.sub("", text or "")


def html_summary(authors: str, abstract: str) -> str:
    """The HTML of an RSS description: the authors, then the abstract's paragraphs, all text escaped."""
    paragraphs = [authors] if authors else []
    paragraphs += [part.strip() for part in re.split(r"\n\s*\n", abstract) if part.strip()]
    return "".join(f"<p>{html.escape(part, quote=True)}</p>" for part in paragraphs)


def _when(card: PaperCard) -> datetime:
    if card.day is not None:
        return trending.posted_at(card.day)
    if card.published_at is not None:
        return card.published_at
    return datetime(1970, 1, 1, tzinfo=UTC)


def build_feed(
    cards: Iterable[PaperCard],
    *,
    fmt: FeedFormat,
    base_url: str,
    title: str,
    description: str,
    page_path: str,
    self_path: str,
) -> bytes:
    base = base_url.rstrip("/")
    cards = list(cards)
    generator = FeedGenerator()
    generator.id(base + self_path)
    generator.title(xml_text(title))
    generator.description(xml_text(description))
    generator.subtitle(xml_text(description))
    generator.link(href=base + page_path, rel="alternate")
    generator.link(href=base + self_path, rel="self")
    generator.language("en")
    generator.generator(SITE_NAME, version=__version__)
    generator.updated(max((_when(c) for c in cards), default=datetime(1970, 1, 1, tzinfo=UTC)))
    for card in cards:
        entry = generator.add_entry(order="append")
        url = base + paper_path(card.id)
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(xml_text(card.title) or card.id)
        entry.link(href=url)
        entry.published(_when(card))
        entry.updated(_when(card))
        names = ""
        if card.authors:
            names = xml_text(", ".join(card.authors[:20]) + (" et al." if len(card.authors) > 20 else ""))
            for name in card.authors[:20]:
                entry.author({"name": xml_text(name)})
        abstract = xml_text(card.abstract)
        if fmt is FeedFormat.rss:
            entry.description(html_summary(names, abstract))
        else:
            entry.description("\n\n".join(part for part in (names, abstract) if part), isSummary=True)
        for category in card.categories:
            entry.category(term=xml_text(category))
    data: bytes = generator.rss_str() if fmt is FeedFormat.rss else generator.atom_str()
    return data


def feed_page(data: bytes, fmt: FeedFormat) -> CachedPage:
    return make_page(data, media_type=MEDIA_TYPES[fmt], cache_control="public, max-age=600")


def daily_feed(
    sessions: sessionmaker[Session],
    *,
    fmt: FeedFormat,
    base_url: str,
    category: str | None,
    today: date,
    self_path: str,
) -> CachedPage:
    """The papers of the last ``FEED_DAYS`` days of the feed, or the newest papers of a category."""
    with sessions() as session:
        if category:
            cards = store.category_cards(session, category=category, limit=FEED_ITEMS, abstract_chars=None)
            title, description = f"{SITE_NAME}: {category}", f"The newest papers in {category}."
            page = f"/?category={category}"
        else:
            newest = store.newest_feed_day(session, on_or_before=today) or store.newest_feed_day(session)
            cards = []
            if newest is not None:
                start = newest.fromordinal(newest.toordinal() - FEED_DAYS + 1)
                cards = store.feed_cards(
                    session,
                    start=start,
                    end=newest,
                    order=store.FeedOrder.date,
                    limit=FEED_ITEMS,
                    abstract_chars=None,
                )
            title, description = SITE_NAME, "The papers of the daily feed, most recent days first."
            page = "/"
    data = build_feed(
        cards,
        fmt=fmt,
        base_url=base_url,
        title=title,
        description=description,
        page_path=page,
        self_path=self_path,
    )
    return feed_page(data, fmt)


def trending_feed(
    ranked: list[tuple[PaperCard, trending.TrendingScore]], *, fmt: FeedFormat, base_url: str, self_path: str
) -> CachedPage:
    data = build_feed(
        (card for card, _ in ranked),
        fmt=fmt,
        base_url=base_url,
        title=f"{SITE_NAME}: trending",
        description="Papers with the most votes and comments for their age.",
        page_path="/trending",
        self_path=self_path,
    )
    return feed_page(data, fmt)


# --------------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------------

router = APIRouter(include_in_schema=False)


def _feed_route(fmt: FeedFormat) -> None:
    async def daily(
        request: Request,
        sessions: SessionsDep,
        cache: PageCacheDep,
        now: NowDep,
        category: CategoryQuery = None,
    ) -> Response:
        category = category or None
        base_url = str(request.base_url)
        today = now.date()
        self_path = str(request.url.path) + (f"?category={category}" if category else "")
        key = ("feed-xml", fmt.value, category, today, base_url)
        return await serve_cached(
            request,
            cache,
            key,
            lambda: daily_feed(
                sessions, fmt=fmt, base_url=base_url, category=category, today=today, self_path=self_path
            ),
        )

    async def trending_xml(
        request: Request,
        sessions: SessionsDep,
        cache: PageCacheDep,
        now: NowDep,
        category: CategoryQuery = None,
    ) -> Response:
        category = category or None
        base_url = str(request.base_url)
        self_path = str(request.url.path) + (f"?category={category}" if category else "")

        def make() -> CachedPage:
            ranked = trending_cards(
                sessions, now=now, category=category, limit=TRENDING_ITEMS, abstract_chars=None
            )
            return trending_feed(ranked, fmt=fmt, base_url=base_url, self_path=self_path)

        key = ("trending-xml", fmt.value, category, clock_slot(now), base_url)
        return await serve_cached(request, cache, key, make)

    daily.__name__ = f"daily_{fmt.value}"
    trending_xml.__name__ = f"trending_{fmt.value}"
    router.add_api_route(f"/{fmt.value}", daily, methods=["GET"])
    router.add_api_route(f"/trending/{fmt.value}", trending_xml, methods=["GET"])


_feed_route(FeedFormat.rss)
_feed_route(FeedFormat.atom)


__all__ = ["FeedFormat", "build_feed", "daily_feed", "html_summary", "router", "trending_feed", "xml_text"]

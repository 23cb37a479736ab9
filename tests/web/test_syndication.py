"""RSS 2.0 and Atom feeds, checked with feedparser."""

from __future__ import annotations

import feedparser
import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from tests.web.support import make_client


def parsed(client: TestClient, path: str):  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200, path
    feed = feedparser.parse(response.content)
    assert not feed.bozo, f"{path}: {feed.get('bozo_exception')}"
    return response, feed


@pytest.mark.parametrize(("path", "version"), [("/rss", "rss20"), ("/atom", "atom10")])
def test_daily_feed(client: TestClient, path: str, version: str) -> None:
    response, feed = parsed(client, path)
    assert feed.version == version
    assert response.headers["content-type"].startswith("application/" + path[1:] + "+xml")
    assert feed.feed.title == "Daily Papers"
    # The last seven days of the feed: the five papers of 31 July (12 June is further back).
    assert len(feed.entries) == 5
    entry = next(e for e in feed.entries if e.link.endswith("/papers/2607.23193"))
    assert entry.title.startswith("OmniScope")
    assert entry.link == "http://testserver/papers/2607.23193"
    assert "Jinsen Su" in entry.summary and "training-free token compression" in entry.summary
    assert entry.published_parsed[:3] == (2026, 7, 31)


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_trending_feed_in_trending_order(client: TestClient, fmt: str) -> None:
    _, feed = parsed(client, f"/trending/{fmt}")
    titles = [e.title for e in feed.entries]
    assert len(titles) == 35 and titles[0].startswith("β-OPSD")
    page = client.get("/api/daily_papers", params={"sort": "trending", "limit": 100}).json()
    assert titles == [item["title"] for item in page]


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_category_feed_has_the_newest_papers_of_the_category(client: TestClient, fmt: str) -> None:
    _, feed = parsed(client, f"/{fmt}?category=cs.CG")
    links = [e.link for e in feed.entries]
    assert "http://testserver/papers/0704.0002" in links
    assert feed.feed.title == "Daily Papers: cs.CG"
    dates = [e.published_parsed for e in feed.entries]
    assert dates == sorted(dates, reverse=True)
    assert {t.term for e in feed.entries for t in e.tags} >= {"cs.CG"}


def test_bad_category_is_refused(client: TestClient) -> None:
    response = client.get("/rss?category=a%20b")
    assert response.status_code == 422


def test_empty_feeds_are_still_valid(settings: Settings) -> None:
    with make_client(settings) as client:
        for path in ("/rss", "/atom", "/trending/rss", "/trending/atom", "/rss?category=cs.CL"):
            _, feed = parsed(client, path)
            assert feed.entries == []

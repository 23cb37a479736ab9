"""One trending list: the page, the API, the RSS and Atom feeds rank the same papers in the same order.

The corpora are built to break a candidate rule that scores a fixed slice of the feed: a thousand older
papers with many votes beside a few fresh ones (which the thousand most upvoted entries leave out), and an
older paper with votes behind a thousand new ones without any and a thousand old ones with more (which
both the most recent and the most upvoted thousand leave out). The expected order is computed here, from
the published formula, over every paper of the corpus.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import lxml.etree
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import trending
from dailypapers.config import Settings
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import FeedRecord, PaperRecord, Source
from dailypapers.web.app import create_app
from tests.web.pagecheck import parse

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
TODAY, YESTERDAY = date(2026, 8, 1), date(2026, 7, 31)
SHOWN = 50  # the page, the feeds and the API's default page all show 50
ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass(frozen=True, slots=True)
class Entry:
    """A paper of the corpus as the formula sees it."""

    id: str
    day: date
    upvotes: int
    category: str = "cs.CL"
    comments: int = 0
    code: bool = False

    def record(self) -> PaperRecord:
        return PaperRecord(
            source=Source.HUGGINGFACE,
            title=f"Paper {self.id}",
            abstract=f"The abstract of paper {self.id}.",
            arxiv_id=self.id,
            categories=[self.category],
            published=datetime.combine(self.day - timedelta(days=1), datetime.min.time(), tzinfo=UTC),
            code_urls=[f"https://github.com/example/{self.id}"] if self.code else [],
            feed=FeedRecord(day=self.day, upvotes=self.upvotes, num_comments=self.comments),
        )

    def score(self) -> float:
        return trending.trending_score(
            upvotes=self.upvotes,
            comments=self.comments,
            has_code=self.code,
            day=self.day,
            now=NOW,
            published=self.day - timedelta(days=1),
        ).score


def by_formula(entries: list[Entry], category: str | None = None) -> list[str]:
    """The corpus ranked by the published formula: highest score first, ties to the smaller id."""
    chosen = [e for e in entries if category is None or e.category == category]
    return [e.id for e in sorted(chosen, key=lambda e: (-e.score(), e.id))]


def heavy_old_and_light_fresh() -> list[Entry]:
    """1,000 papers of June and July at 100 votes (20 a day from 1 June to 20 July), and 50 fresh ones at
    1 vote (25 today, 25 yesterday); half of each in cs.CL, half in cs.LG, some with comments or code."""
    entries = []
    for n in range(1000):
        day = date(2026, 6, 1) + timedelta(days=n // 20)
        category = "cs.CL" if n % 2 else "cs.LG"
        entries.append(Entry(f"2606.{10000 + n}", day, 100, category, comments=n % 3, code=n % 7 == 0))
    for n in range(50):
        day = TODAY if n < 25 else YESTERDAY
        category = "cs.CL" if n % 2 else "cs.LG"
        entries.append(Entry(f"2607.{90000 + n}", day, 1, category, code=n % 5 == 0))
    return entries


def buried_between_new_and_old() -> list[Entry]:
    """1,000 papers of today without votes, 1,000 of last year with 500 votes, and one of five days ago
    with 100 votes, which the formula puts first: neither 1,000 more recent nor 1,000 more voted."""
    entries = [Entry(f"2607.{10000 + n}", TODAY, 0) for n in range(1000)]
    entries += [
        Entry(f"2507.{10000 + n}", date(2025, 7, 1) + timedelta(days=n // 10), 500) for n in range(1000)
    ]
    entries.append(Entry("2607.05000", date(2026, 7, 27), 100))
    return entries


@contextmanager
def client_for(
    settings: Settings, sessions: sessionmaker[Session], entries: list[Entry]
) -> Iterator[TestClient]:
    Ingestor(sessions).ingest_records([e.record() for e in entries], label="trending corpus")
    with TestClient(create_app(settings, now=lambda: NOW)) as client:
        yield client


@pytest.fixture
def heavy_old(
    settings: Settings, sessions: sessionmaker[Session]
) -> Iterator[tuple[TestClient, list[Entry]]]:
    entries = heavy_old_and_light_fresh()
    with client_for(settings, sessions, entries) as client:
        yield client, entries


@pytest.fixture
def buried(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[tuple[TestClient, list[Entry]]]:
    entries = buried_between_new_and_old()
    with client_for(settings, sessions, entries) as client:
        yield client, entries


def page_order(client: TestClient, query: str = "") -> list[str]:
    tree = parse(client.get(f"/trending{query}"))
    return [href.removeprefix("/papers/") for href in tree.xpath("//ol[@class='cards']//h2/a/@href")]


def api_order(client: TestClient, query: str = "") -> list[str]:
    response = client.get(f"/api/daily_papers?sort=trending{query}")
    assert response.status_code == 200, response.text
    return [item["paper"]["id"] for item in response.json()]


def feed_order(client: TestClient, fmt: str, query: str = "") -> list[str]:
    response = client.get(f"/trending/{fmt}{query}")
    assert response.status_code == 200
    root = lxml.etree.fromstring(response.content)
    if fmt == "rss":
        links = [link.text for link in root.iter("link") if link.getparent().tag == "item"]
    else:
        links = [
            link.get("href") for link in root.iter(f"{ATOM}link") if link.getparent().tag == f"{ATOM}entry"
        ]
    return [str(link).split("/papers/", 1)[1] for link in links]


def test_page_api_and_feeds_agree_when_old_papers_have_far_more_votes(
    heavy_old: tuple[TestClient, list[Entry]],
) -> None:
    client, entries = heavy_old
    expected = by_formula(entries)
    page = page_order(client)
    assert page == expected[:SHOWN]
    assert page[0].startswith("2607.9")  # a fresh paper with one vote leads
    assert api_order(client) == page
    assert feed_order(client, "rss") == page
    assert feed_order(client, "atom") == page
    # Fresh and old papers mix: today's 25, yesterday's 5 with code (4 points), then 20 of 20 July.
    assert {e.day for e in entries if e.id in page} == {TODAY, YESTERDAY, date(2026, 7, 20)}


def test_the_api_pages_through_the_same_list_down_to_its_end(
    heavy_old: tuple[TestClient, list[Entry]],
) -> None:
    client, entries = heavy_old
    expected = by_formula(entries)[: trending.CANDIDATES]
    pages = [api_order(client, f"&limit=100&p={p}") for p in range(11)]
    assert [len(page) for page in pages] == [100] * 10 + [0]  # the list is CANDIDATES long at most
    assert [paper for page in pages for paper in page] == expected


def test_a_category_gets_the_same_list_everywhere(heavy_old: tuple[TestClient, list[Entry]]) -> None:
    client, entries = heavy_old
    expected = by_formula(entries, category="cs.CL")[:SHOWN]
    query = "?category=cs.CL"
    assert page_order(client, query) == expected
    assert api_order(client, "&category=cs.CL") == expected
    assert feed_order(client, "rss", query) == expected


def test_an_older_paper_with_votes_is_found_behind_new_and_old_thousands(
    buried: tuple[TestClient, list[Entry]],
) -> None:
    client, entries = buried
    expected = by_formula(entries)
    assert expected[0] == "2607.05000"
    page = page_order(client)
    assert page == expected[:SHOWN]
    assert api_order(client) == page
    assert feed_order(client, "rss") == page


def test_the_bound_counts_the_comments_and_code_of_a_paper_left_out_of_the_recent_thousand(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    # A thousand papers of today with 4 votes (5 points) fill the most recent thousand; one more of today
    # with no votes is left out of it, yet leads with 6 comments and code (0 + 3 + 2 + 1 = 6 points).
    entries = [Entry(f"2607.{10000 + n}", TODAY, 4) for n in range(1000)]
    entries.append(Entry("2607.99999", TODAY, 0, comments=6, code=True))
    expected = by_formula(entries)
    assert expected[0] == "2607.99999"
    with client_for(settings, sessions, entries) as client:
        page = page_order(client)
        assert page == expected[:SHOWN]
        assert api_order(client, "&limit=1") == ["2607.99999"]
        assert feed_order(client, "atom") == page


def test_every_page_of_a_long_mixed_feed_is_the_exact_ranking(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    # 3,000 papers over 400 days with long-tailed votes, comments and code: deep pages reach back into
    # the older bands, where an old paper needs many votes to pass a recent one.
    rng = random.Random(7)
    entries = [
        Entry(
            f"2607.{20000 + n}",
            TODAY - timedelta(days=int(n * 400 / 3000)),
            int(rng.paretovariate(1.1)) - 1,
            comments=rng.choice([0, 0, 0, 1, 2, 7]),
            code=rng.random() < 0.3,
        )
        for n in range(3000)
    ]
    expected = by_formula(entries)[: trending.CANDIDATES]
    with client_for(settings, sessions, entries) as client:
        assert page_order(client) == expected[:SHOWN]
        pages = [api_order(client, f"&limit=100&p={p}") for p in range(10)]
    assert [paper for page in pages for paper in page] == expected

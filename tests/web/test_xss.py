"""Text from papers is text everywhere: a hostile title, abstract, author and submitter never become markup.

The paper below is ingested like any other; every page, feed and API answer that carries it must show
its fields as the characters they are. (In a real browser, ``test_browser.py`` checks that no dialog
opens.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import lxml.etree
import lxml.html
import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import FeedRecord, PaperRecord, Source
from tests.web.pagecheck import assert_page_hygiene, parse, text_of
from tests.web.support import build_test_index, make_client

EVIL_ID = "2607.66666"
EVIL_TITLE = "<script>alert(1)</script>"
EVIL_ABSTRACT = "<img src=x onerror=alert(1)> and $x<y$ & \"quotes\" 'apostrophes' onerror alert"
EVIL_AUTHOR = "<b onmouseover=alert(3)>Mallory</b>"
EVIL_SUBMITTER = '"><svg onload=alert(4)>'


def evil_paper() -> PaperRecord:
    return PaperRecord(
        source=Source.HUGGINGFACE,
        title=EVIL_TITLE,
        abstract=EVIL_ABSTRACT,
        arxiv_id=EVIL_ID,
        authors=[EVIL_AUTHOR, "Eve"],
        categories=["cs.CR"],
        code_urls=["javascript:alert(5)"],
        project_url="javascript:alert(6)",
        extra={"ai_summary": "<iframe src=javascript:alert(7)>", "ai_keywords": ["<u>kw</u>"]},
        feed=FeedRecord(day=date(2026, 7, 31), submitted_by=EVIL_SUBMITTER, upvotes=1000, num_comments=3),
    )


def add_evil_paper(settings: Settings) -> None:
    engine = create_engine_from_settings(settings)
    try:
        Ingestor(make_session_factory(engine)).ingest_records([evil_paper()], label="hostile")
    finally:
        engine.dispose()


@pytest.fixture
def evil_client(demo_settings: Settings) -> Iterator[TestClient]:
    add_evil_paper(demo_settings)
    build_test_index(demo_settings)
    with make_client(demo_settings) as client:
        yield client


def assert_no_injected_markup(html: str) -> None:
    tree = lxml.html.fromstring(html)
    assert_page_hygiene(tree)
    for tag in ("img", "iframe", "svg", "b", "u"):
        for element in tree.iter(tag):
            if tag == "img" and element.get("src", "").startswith(("/thumbnails/", "/avatars/")):
                continue  # drawn by the server from escaped text (web/images.py)
            # The only SVG on the pages is the logo; nothing else may appear.
            assert tag == "svg" and "brand-mark" in element.get("class", ""), f"injected <{tag}>"
    # Hostile text may sit in attribute values (a meta description, a MathML alttext), quoted and escaped,
    # but never in an attribute that a browser would follow or run.
    for element in tree.iter():
        if isinstance(element.tag, str):
            for name in ("href", "src", "action", "formaction"):
                assert "javascript:" not in element.get(name, "").lower()


PAGES = [
    "/",
    "/date/2026-07-31",
    "/week/2026-W31",
    "/month/2026-07",
    "/trending",
    f"/papers/{EVIL_ID}",
    "/search?q=alert+onerror&mode=bm25",
    "/search?q=script&mode=bm25",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_show_the_hostile_text_as_text(evil_client: TestClient, path: str) -> None:
    response = evil_client.get(path)
    assert response.status_code == 200
    assert_no_injected_markup(response.text)
    text = text_of(parse(response))
    assert EVIL_TITLE in text
    if path.startswith("/papers/"):
        assert "<img src=x onerror=alert(1)> and" in text
        assert EVIL_AUTHOR in text and EVIL_SUBMITTER in text
        assert "<iframe src=javascript:alert(7)>" in text and "<u>kw</u>" in text
    else:
        assert "<img src=x onerror=alert(1)>" in text


def test_formula_next_to_hostile_text_is_still_math(evil_client: TestClient) -> None:
    tree = parse(evil_client.get(f"/papers/{EVIL_ID}"))
    abstract = tree.xpath("//section[@class='abstract']")[0]
    (formula,) = abstract.xpath(".//math")
    assert formula.get("alttext") == "x<y"


@pytest.mark.parametrize("path", ["/rss", "/atom", "/trending/rss", "/trending/atom", "/rss?category=cs.CR"])
def test_feeds_escape_the_hostile_text(evil_client: TestClient, path: str) -> None:
    import feedparser

    response = evil_client.get(path)
    root = lxml.etree.fromstring(response.content)
    names = {lxml.etree.QName(e).localname for e in root.iter() if isinstance(e.tag, str)}
    assert not names & {"script", "img", "svg", "iframe", "b"}
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content
    feed = feedparser.parse(response.content)
    assert not feed.bozo
    entry = next(e for e in feed.entries if e.link.endswith(EVIL_ID))
    assert "alert(1)" in entry.title


def test_api_carries_the_hostile_text_verbatim_as_json(evil_client: TestClient) -> None:
    for path in (
        "/api/daily_papers?date=2026-07-31",
        f"/api/papers/{EVIL_ID}",
        "/api/papers/search?q=alert+onerror&mode=bm25",
    ):
        response = evil_client.get(path)
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-content-type-options"] == "nosniff"
        body = response.json()
        paper = body if "title" in body and "results" not in body else None
        if isinstance(body, list):
            paper = next(item["paper"] for item in body if item["paper"]["id"] == EVIL_ID)
        elif "results" in body:
            paper = next(item["paper"] for item in body["results"] if item["paper"]["id"] == EVIL_ID)
        assert paper is not None
        assert paper["title"] == EVIL_TITLE and paper["summary"] == EVIL_ABSTRACT
        assert paper["authors"][0]["name"] == EVIL_AUTHOR
        assert "githubRepo" not in paper and "projectPage" not in paper  # javascript: links are dropped


def test_thumbnail_escapes_the_title(evil_client: TestClient) -> None:
    response = evil_client.get(f"/thumbnails/{EVIL_ID}.svg")
    root = lxml.etree.fromstring(response.content)
    names = {lxml.etree.QName(e).localname for e in root.iter() if isinstance(e.tag, str)}
    assert names <= {"svg", "title", "rect", "text"}
    assert "default-src 'none'" in response.headers["content-security-policy"]

"""Edges of the site: request bodies over the limit, RSS descriptions as readers see them, the end of the
calendar, papers not indexed yet or merged into others, and parameters refused in plain words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import lxml.etree
import lxml.html
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import FeedRecord, PaperRecord, Source
from dailypapers.models import PaperAlias
from tests.web.pagecheck import parse, text_of
from tests.web.support import make_client
from tests.web.test_xss import EVIL_ABSTRACT, EVIL_ID, add_evil_paper

PAPER = "2607.23193"


def add_papers(settings: Settings, *records: PaperRecord) -> None:
    engine = create_engine_from_settings(settings)
    try:
        Ingestor(make_session_factory(engine)).ingest_records(list(records), label="test")
    finally:
        engine.dispose()


def paper_on(day: date, arxiv_id: str) -> PaperRecord:
    return PaperRecord(
        source=Source.HUGGINGFACE,
        title=f"A paper of {day}",
        abstract="Words about a paper.",
        arxiv_id=arxiv_id,
        authors=["Ada Lovelace"],
        categories=["cs.CL"],
        feed=FeedRecord(day=day, upvotes=1),
    )


# -- request bodies ----------------------------------------------------------------------------------


@pytest.fixture
def small_body_client(demo_settings: Settings) -> Iterator[TestClient]:
    with make_client(demo_settings.model_copy(update={"max_request_body_bytes": 2048})) as client:
        yield client


def test_an_api_body_over_the_limit_is_refused_with_json(small_body_client: TestClient) -> None:
    body = b'{"id": "' + b"1" * 5000 + b'"}'
    response = small_body_client.post(
        "/api/papers/submit", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {
        "error": "The request body is larger than 2 KiB, the most this site accepts.",
        "status": 413,
    }
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_a_chunked_body_is_counted_as_it_arrives(small_body_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"id": "'
        for _ in range(10):
            yield b"1" * 500
        yield b'"}'

    response = small_body_client.post(
        "/api/papers/submit", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413 and "larger than 2 KiB" in response.json()["error"]


def test_a_form_over_the_limit_gets_an_html_page(small_body_client: TestClient) -> None:
    response = small_body_client.post("/login", data={"username": "ada", "password": "x" * 3000})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "larger than 2 KiB, the most this site accepts" in text_of(parse(response))


def test_a_body_within_the_limit_is_read(small_body_client: TestClient) -> None:
    response = small_body_client.post("/api/papers/submit", json={"id": "2104.12255"})
    assert response.status_code == 401  # read, then refused for the missing token


# -- RSS descriptions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/rss", "/trending/rss", "/rss?category=cs.CR", "/trending/rss?category=cs.CR"]
)
def test_rss_descriptions_are_html_with_the_text_escaped(demo_settings: Settings, path: str) -> None:
    add_evil_paper(demo_settings)
    with make_client(demo_settings) as client:
        response = client.get(path)
    assert response.status_code == 200
    item = next(
        i
        for i in lxml.etree.fromstring(response.content).iter("item")
        if i.findtext("link").endswith(EVIL_ID)
    )
    description = item.findtext("description")
    # What a reader does with a description: parse it as HTML. The hostile text must stay text.
    fragment = lxml.html.fragment_fromstring(description, create_parent="div")
    tags = {element.tag for element in fragment.iter()} - {"div", "p"}
    assert tags == set(), description
    assert EVIL_ABSTRACT in fragment.text_content()
    assert "<b onmouseover=alert(3)>Mallory</b>, Eve" in fragment.text_content()


def test_atom_summaries_stay_plain_text(demo_settings: Settings) -> None:
    add_evil_paper(demo_settings)
    with make_client(demo_settings) as client:
        root = lxml.etree.fromstring(client.get("/atom").content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entry = next(
        e for e in root.findall("a:entry", ns) if e.findtext("a:id", namespaces=ns).endswith(EVIL_ID)
    )
    summary = entry.find("a:summary", ns)
    assert summary.get("type", "text") == "text"
    assert EVIL_ABSTRACT in summary.text


# -- the end of the calendar --------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*(f"/date/9999-12-{day}" for day in range(27, 32)), "/week/9999-W52"])
def test_periods_past_the_calendar_are_not_found(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "is past the last date this site can show (26 December 9999)" in text_of(parse(response))


@pytest.mark.parametrize(
    "params", [{"week": "9999-W52"}, {"date": "9999-12-31"}, {"date": "9999-12-27", "sort": "trending"}]
)
def test_api_periods_past_the_calendar_are_out_of_range(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/api/daily_papers", params=params)
    assert response.status_code == 422
    assert "past the last date this site can show" in response.json()["error"]


def test_the_last_days_and_links_near_the_edge_answer(demo_settings: Settings) -> None:
    # A feed day at the very end of the calendar: the month page's week tab and the next links near it
    # are built from it and must not overflow.
    add_papers(demo_settings, paper_on(date(9999, 12, 30), "2612.99991"))
    with make_client(demo_settings) as client:
        for path in (
            "/month/9999-12",
            "/date/9999-12-26",
            "/week/9999-W51",
            "/api/daily_papers?month=9999-12",
        ):
            assert client.get(path).status_code == 200, path
        month = parse(client.get("/month/9999-12"))
        tabs = [a.get("href") for a in month.xpath("//nav[@class='period-tabs']//a")]
        assert "/week/9999-W52" in tabs


# -- the feed's pager, navigation, categories, scores -------------------------------------------------


def test_the_pager_names_a_distant_week_as_later_papers(demo_settings: Settings) -> None:
    add_papers(demo_settings, paper_on(date(2026, 6, 16), "2606.99991"))  # week 25, just after week 24
    with make_client(demo_settings) as client:
        week24 = parse(client.get("/week/2026-W24"))
        week25 = parse(client.get("/week/2026-W25"))
    (next24,) = week24.xpath("//a[@rel='next' and contains(@class, 'pager-link')]")
    assert text_of(next24).startswith("Next week") and next24.get("href") == "/week/2026-W25"
    (next25,) = week25.xpath("//a[@rel='next' and contains(@class, 'pager-link')]")
    assert text_of(next25).startswith("Later papers") and "Week 31 of 2026" in text_of(next25)
    (previous25,) = week25.xpath("//a[@rel='prev' and contains(@class, 'pager-link')]")
    assert text_of(previous25).startswith("← Previous week")


@pytest.mark.parametrize(
    ("path", "daily"),
    [("/", True), ("/date/2026-07-31", True), ("/week/2026-W31", False), ("/month/2026-07", False)],
)
def test_the_main_navigation_marks_daily_only_on_day_pages(
    client: TestClient, path: str, daily: bool
) -> None:
    tree = parse(client.get(path))
    current = [text_of(a) for a in tree.xpath("//nav[@class='site-nav']//a[@aria-current]")]
    assert current == (["Daily"] if daily else [])


def test_an_unknown_category_says_so_and_links_back(client: TestClient) -> None:
    tree = parse(client.get("/?category=bogus.XX"))
    text = text_of(tree)
    assert "No papers on the feed yet" not in text
    assert "No papers in bogus.XX" in text and "the category is unknown here or has no papers yet" in text
    assert tree.xpath("//main//a[@href='/' and text()='Show every category']")


def test_trending_scores_are_printed_without_exponents(client: TestClient) -> None:
    trending = text_of(parse(client.get("/trending")))
    scores = re.findall(r"Score (\S+)", trending)
    assert scores and all(re.fullmatch(r"[0-9][0-9,]*(\.[0-9]+)?", s) for s in scores), scores
    assert any(s.startswith("0.0000") for s in scores)  # the old papers: tiny, and still readable
    # The seed paper 0704.0002 reached the feed years after its first version: a tiny score.
    paper = text_of(parse(client.get("/papers/0704.0002")))
    assert not re.search(r"\de[+-]\d", paper), re.findall(r"\S*\de[+-]\d\S*", paper)


# -- papers: not indexed yet, merged ------------------------------------------------------------------


def test_similar_papers_of_a_paper_not_indexed_yet_is_an_empty_list(indexed_settings: Settings) -> None:
    add_papers(indexed_settings, paper_on(date(2026, 7, 31), "2607.99992"))
    with make_client(indexed_settings) as client:
        response = client.get("/api/papers/2607.99992/similar")
        indexed = client.get(f"/api/papers/{PAPER}/similar")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "2607.99992" and body["results"] == []
    assert body["notices"] == [
        "Paper '2607.99992' is not in the search index yet, so no similar papers are known for it."
    ]
    assert indexed.status_code == 200 and indexed.json()["results"] and indexed.json()["notices"] == []


def test_a_merged_paper_id_redirects_to_the_paper_it_became(demo_settings: Settings) -> None:
    engine = create_engine_from_settings(demo_settings)
    try:
        with make_session_factory(engine)() as session, session.begin():
            session.execute(
                insert(PaperAlias).values(
                    id="hf-listing-omniscope", paper_id=PAPER, created_at=datetime(2026, 7, 31, tzinfo=UTC)
                )
            )
    finally:
        engine.dispose()
    with make_client(demo_settings) as client:
        page = client.get("/papers/hf-listing-omniscope", follow_redirects=False)
        api = client.get("/api/papers/hf-listing-omniscope", follow_redirects=False)
        similar = client.get("/api/papers/hf-listing-omniscope/similar?limit=3", follow_redirects=False)
        unknown = client.get("/api/papers/hf-listing-nothing", follow_redirects=False)
        followed = client.get("/papers/hf-listing-omniscope")
    assert (page.status_code, page.headers["location"]) == (301, f"/papers/{PAPER}")
    assert (api.status_code, api.headers["location"]) == (308, f"/api/papers/{PAPER}")
    assert (similar.status_code, similar.headers["location"]) == (308, f"/api/papers/{PAPER}/similar?limit=3")
    assert unknown.status_code == 404
    assert followed.status_code == 200 and "OmniScope" in text_of(parse(followed))


# -- parameters refused in plain words, and what the API description says ------------------------------


def test_validation_errors_are_plain_words(client: TestClient) -> None:
    api = client.get("/api/papers/search", params={"q": "a" * 2001}).json()
    assert api["problems"] == ["q: is too long: at most 2000 characters"]
    cases = {
        "/api/daily_papers?limit=1000": "limit: must be at most 100",
        "/api/daily_papers?p=x": "p: must be a whole number",
        "/api/papers/search": "q: is required",
        "/api/daily_papers?category=%3Cb%3E": (
            "category: must be an arXiv category or archive such as cs.CL or cs"
        ),
    }
    for path, says in cases.items():
        assert client.get(path).json()["problems"] == [says], path
    page = text_of(parse(client.get("/", params={"page": "0"})))
    assert "page: must be at least 1" in page and "Input should" not in page
    search = text_of(parse(client.get("/search", params={"q": "a" * 2001})))
    assert "should have" not in search and "String" not in search


def test_the_api_description_says_the_periods_exclude_each_other(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/daily_papers"]["get"]
    assert "exclude each other" in operation["description"]
    described = {p["name"]: p["description"] for p in operation["parameters"]}
    assert "not with week or month" in described["date"]
    assert "not with date or month" in described["week"]
    assert "not with date or week" in described["month"]
    similar = client.get("/openapi.json").json()["components"]["schemas"]["SimilarResponse"]
    assert "notices" in similar["properties"]

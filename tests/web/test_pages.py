"""The feed pages, read with an HTML parser: what they show, their links, their errors and headers."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import FeedRecord, PaperRecord, Source
from dailypapers.models import Paper
from tests.web.pagecheck import assert_page_hygiene, links, parse, text_of
from tests.web.support import make_client

JULY_31 = date(2026, 7, 31)
OMNISCOPE_TITLE = "OmniScope: Modality-Decoupled Token Compression for Omnimodal Large Language Models"
# Every kind of page of the demo site: the status it answers with, its heading, a piece of what it
# shows, and how many cards or results it lists (None: at least one, where the count is up to policy).
PAGES = [
    ("/", 200, "Daily Papers Friday 31 July 2026", "β-OPSD: Deriving with Policy Optimization", 5),
    ("/date/2026-06-12", 200, "Daily Papers Friday 12 June 2026", "MiniMax Sparse Attention", 30),
    ("/week/2026-W31", 200, "Weekly Papers Week 31 of 2026", "27 Jul – 2 Aug 2026", 5),
    ("/month/2026-06", 200, "Monthly Papers June 2026", "EvoArena: Tracking Memory Evolution", 30),
    ("/trending", 200, "Trending papers", "How the score is made", None),
    ("/about", 200, "About Daily Papers", "a daily feed of new papers", 0),
    ("/search", 200, "Search papers", "What to search for", 0),
    ("/search?q=graphs", 200, "Search papers", "Sparsity-certifying Graph Decompositions", 18),
    ("/papers/0704.0002", 200, "Sparsity-certifying Graph Decompositions", "Ileana Streinu", 0),
    ("/papers/astro-ph/0601001", 200, "Frequency of Hot Jupiters", "Andrew Gould", 0),
    ("/papers/2607.23193", 200, OMNISCOPE_TITLE, "submitted by Consonnm", 0),
    ("/docs", 200, "API", "/openapi.json", 0),
    ("/nowhere", 404, "Not found", "There is no page at /nowhere.", 0),
]


def card_titles(tree) -> list[str]:  # type: ignore[no-untyped-def]
    return [text_of(a) for a in tree.xpath("//ol[@class='cards']//h2/a")]


def add_papers(settings: Settings, records: list[PaperRecord]) -> None:
    engine = create_engine_from_settings(settings)
    try:
        Ingestor(make_session_factory(engine)).ingest_records(records, label="test")
    finally:
        engine.dispose()


def test_home_shows_the_latest_day_with_papers(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    tree = parse(response)
    assert text_of(tree.xpath("//h1")[0]) == "Daily Papers Friday 31 July 2026"
    assert text_of(tree.xpath("//title")[0]) == "Daily Papers · Friday 31 July 2026"  # the name once
    week = parse(client.get("/week/2026-W31"))
    assert text_of(week.xpath("//title")[0]) == "Weekly Papers · Week 31 of 2026 · Daily Papers"
    assert len(tree.xpath("//ol[@class='cards']/li")) == 5
    first = tree.xpath("//ol[@class='cards']/li")[0]
    title = first.xpath(".//h2/a")[0]
    assert text_of(title).startswith("β-OPSD") and title.get("href") == "/papers/2607.28582"
    assert text_of(first.xpath(".//p[@class='card-authors']")[0]).endswith("et al.")
    assert text_of(first.xpath(".//div[@class='votes']")[0]) == "▲ 17 upvotes"
    assert text_of(first.xpath(".//p[@class='card-abstract']")[0]).endswith("…")
    assert "2 comments" in text_of(first)
    omniscope = tree.xpath("//li[.//a[@href='/papers/2607.23193']]")[0]
    assert links(omniscope)["Code · ★ 3"] == "https://github.com/MAC-AutoML/OmniScope"
    nav = links(tree.xpath("//nav[@aria-label='Previous and next day']")[0])
    assert nav == {"← Previous day Friday 12 June 2026": "/date/2026-06-12"}
    assert "No later papers" in text_of(tree.xpath("//nav[@aria-label='Previous and next day']")[0])


def test_previous_day_links_back(client: TestClient) -> None:
    tree = parse(client.get("/date/2026-06-12"))
    assert len(card_titles(tree)) == 30
    nav = links(tree.xpath("//nav[@aria-label='Previous and next day']")[0])
    assert nav == {"Next day → Friday 31 July 2026": "/date/2026-07-31"}


def test_weeks_and_months_link_to_the_nearest_period_with_papers(client: TestClient) -> None:
    week = parse(client.get("/week/2026-W31"))
    assert "Week 31 of 2026" in text_of(week.xpath("//h1")[0])
    assert text_of(week.xpath("//p[@class='subtitle']")[0]) == "27 Jul – 2 Aug 2026"
    assert len(card_titles(week)) == 5
    assert links(week.xpath("//nav[@aria-label='Previous and next week']")[0]) == {
        "← Earlier papers Week 24 of 2026": "/week/2026-W24"
    }
    month = parse(client.get("/month/2026-06"))
    assert len(card_titles(month)) == 30
    assert links(month.xpath("//nav[@aria-label='Previous and next month']")[0]) == {
        "Next month → July 2026": "/month/2026-07"
    }
    tabs = links(month.xpath("//nav[@aria-label='Period length']")[0])
    # The tabs lead to the newest day with papers in the month.
    assert tabs == {"Daily": "/date/2026-06-12", "Weekly": "/week/2026-W24", "Monthly": "/month/2026-06"}


def test_a_day_without_papers_points_to_the_nearest_days(client: TestClient) -> None:
    response = client.get("/date/2026-07-01")
    assert response.status_code == 200
    tree = parse(response)
    empty = tree.xpath("//div[@class='empty']")[0]
    assert "No papers on Wednesday 1 July 2026" in text_of(empty)
    assert set(links(empty).values()) == {"/date/2026-06-12", "/date/2026-07-31"}


def test_sort_by_date_and_by_votes(client: TestClient) -> None:
    by_votes = card_titles(parse(client.get("/month/2026-06")))
    by_date = card_titles(parse(client.get("/month/2026-06?sort=date")))
    assert sorted(by_votes) == sorted(by_date) and by_votes != by_date
    tree = parse(client.get("/month/2026-06?sort=date"))
    current = tree.xpath("//nav[@aria-label='Sort']//a[@aria-current='true']")[0]
    assert text_of(current) == "Newest"
    # Period links keep the order chosen.
    assert links(tree.xpath("//nav[@aria-label='Previous and next month']")[0]) == {
        "Next month → July 2026": "/month/2026-07?sort=date"
    }


def test_category_filter(demo_settings: Settings) -> None:
    add_papers(
        demo_settings,
        [
            PaperRecord(
                source=Source.HUGGINGFACE,
                title=f"Paper {n}",
                arxiv_id=f"2607.9000{n}",
                categories=[category],
                feed=FeedRecord(day=JULY_31, upvotes=n),
            )
            for n, category in enumerate(["cs.CL", "cs.CL", "stat.ML"], start=1)
        ],
    )
    with make_client(demo_settings) as client:
        tree = parse(client.get("/?category=cs.CL"))
        assert card_titles(tree) == ["Paper 2", "Paper 1"]
        options = [text_of(o) for o in tree.xpath("//select[@name='category']/option")]
        assert options == ["All categories", "cs.CL (2)", "stat.ML (1)"]
        assert tree.xpath("//option[@value='cs.CL']")[0].get("selected") is not None
        assert card_titles(parse(client.get("/date/2026-07-31?category=stat"))) == ["Paper 3"]
        assert len(card_titles(parse(client.get("/?category=")))) == 8
        tags = links(parse(client.get("/")).xpath("//ol[@class='cards']")[0])
        assert tags["cs.CL"] == "/?category=cs.CL"


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/date/2026-02-30", 400, "use YYYY-MM-DD"),
        ("/date/yesterday", 400, "use YYYY-MM-DD"),
        ("/week/2026-W60", 400, "use YYYY-Www"),
        ("/month/2026-13", 400, "use YYYY-MM"),
        ("/?sort=best", 422, "sort: must be one of 'upvotes' or 'date'"),
        ("/?page=0", 422, "page: must be at least 1"),
        ("/?page=2", 404, "Page 2 is past the last page (1)"),
        ("/?page=abc", 422, "page: must be a whole number"),
        ("/?category=%3Cscript%3E", 422, "category: must be an arXiv category or archive"),
        ("/search?since=2026-99-01", 400, "since: '2026-99-01' is not a date"),
        ("/search?mode=magic", 422, "mode: must be one of 'bm25', 'dense' or 'hybrid'"),
    ],
)
def test_bad_parameters_say_what_is_accepted(client: TestClient, path: str, status: int, says: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    tree = parse(response)
    assert says in text_of(tree.xpath("//div[@class='error-page']")[0])
    assert tree.xpath("//form[@role='search']//input[@name='q']")


def test_unknown_paper_is_a_404_page_with_a_search_box(client: TestClient) -> None:
    response = client.get("/papers/2607.99999")
    assert response.status_code == 404
    tree = parse(response)
    assert "There is no paper '2607.99999' here." in text_of(tree)
    assert tree.xpath("//main//form[@role='search' and @action='/search']//input[@name='q']")
    assert client.get("/no/such/page").status_code == 404


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/papers/2104.12255v1", "/papers/2104.12255"),
        ("/papers/arXiv:2104.12255", "/papers/2104.12255"),
        ("/papers/https://arxiv.org/abs/2104.12255v2", "/papers/2104.12255"),
        ("/papers/https:/arxiv.org/pdf/2104.12255v1.pdf", "/papers/2104.12255"),
        ("/papers/astro-ph/0601001v1", "/papers/astro-ph/0601001"),
        ("/papers/math.GT/0309136", "/papers/math/0309136"),
    ],
)
def test_versioned_and_url_ids_redirect_to_the_canonical_page(
    client: TestClient, path: str, target: str
) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == target


def test_every_kind_of_id_has_a_page(demo_settings: Settings) -> None:
    add_papers(
        demo_settings,
        [PaperRecord(source=Source.BEIR, title="A claim's evidence", dataset="scifact", external_id="4983")],
    )
    engine = create_engine_from_settings(demo_settings)
    try:
        with make_session_factory(engine)() as session:
            local_id = session.scalars(select(Paper.id).where(Paper.id.like("dp-%")).limit(1)).one()
    finally:
        engine.dispose()
    with make_client(demo_settings) as client:
        for paper_id in ("2104.12255", "astro-ph/0601001", local_id, "scifact-4983"):
            response = client.get(f"/papers/{paper_id}")
            assert response.status_code == 200, paper_id
            assert parse(response).xpath("//h1[@id='paper-title']")
            assert client.get(f"/api/papers/{paper_id}").json()["id"] == paper_id


@pytest.mark.parametrize(("path", "status", "heading", "says", "items"), PAGES)
def test_pages_keep_to_the_rules(
    indexed_client: TestClient, path: str, status: int, heading: str, says: str, items: int | None
) -> None:
    response = indexed_client.get(path)
    assert response.status_code == status, path
    tree = parse(response)
    assert_page_hygiene(tree)
    assert text_of(tree.xpath("//h1")[0]).startswith(heading)
    assert says in text_of(tree.xpath("//main")[0])
    listed = tree.xpath("//main//ol[@class='cards' or @class='results']/li")
    if items is None:
        assert listed, f"{path} lists nothing"
    else:
        assert len(listed) == items, path


@pytest.mark.parametrize(
    "path", ["/", "/papers/0704.0002", "/api/daily_papers", "/rss", "/static/style.css", "/nowhere", "/api/x"]
)
def test_security_headers_on_every_response(client: TestClient, path: str) -> None:
    response = client.get(path)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"


def test_redirects_carry_the_headers_too(client: TestClient) -> None:
    response = client.get("/papers/2104.12255v1", follow_redirects=False)
    assert "content-security-policy" in response.headers


def test_static_files_are_served_with_long_caching(client: TestClient) -> None:
    tree = parse(client.get("/"))
    stylesheet = tree.xpath("//link[@rel='stylesheet']")[0].get("href")
    script = tree.xpath("//script")[0].get("src")
    css = client.get(stylesheet)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]
    assert "prefers-color-scheme: dark" in css.text and ":focus-visible" in css.text
    js = client.get(script)
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert client.get("/favicon.ico", follow_redirects=False).status_code == 301


def test_cached_pages_revalidate_and_compress(client: TestClient) -> None:
    first = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    etag = first.headers["etag"]
    again = client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    plain = client.get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == first.text


def test_cached_feed_follows_new_votes(demo_settings: Settings) -> None:
    with make_client(demo_settings, cache_check_seconds=0) as client:
        assert card_titles(parse(client.get("/")))[0].startswith("β-OPSD")
        add_papers(
            demo_settings,
            [
                PaperRecord(
                    source=Source.HUGGINGFACE,
                    title=OMNISCOPE_TITLE,
                    arxiv_id="2607.23193",
                    feed=FeedRecord(day=JULY_31, upvotes=99, num_comments=2),
                )
            ],
        )
        assert card_titles(parse(client.get("/")))[0].startswith("OmniScope")


def test_an_empty_site_explains_how_to_fill_it(settings: Settings) -> None:
    with make_client(settings) as client:
        home = parse(client.get("/"))
        assert "dailypapers ingest" in text_of(home.xpath("//div[@class='empty']")[0])
        trending = parse(client.get("/trending"))
        assert "Nothing is trending yet" in text_of(trending.xpath("//div[@class='empty']")[0])
        search = client.get("/search?q=anything")
        assert search.status_code == 200
        assert "no search index" in text_of(parse(search).xpath("//div[@class='empty']")[0])


def test_head_requests_are_answered_without_a_body(client: TestClient) -> None:
    for path in ("/", "/rss", "/api/daily_papers", "/papers/0704.0002"):
        response = client.head(path)
        assert response.status_code == 200, path
        assert response.content == b"" and "content-security-policy" in response.headers

"""The search page: results with marked terms, filters, notices, paging, empty states, redirects."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from dailypapers.config import Settings
from tests.web.pagecheck import links, parse, text_of
from tests.web.support import make_client


def result_ids(tree) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.get("href").removeprefix("/papers/") for a in tree.xpath("//ol[@class='results']/li/h2/a")]


def test_no_query_shows_how_to_search(indexed_client: TestClient) -> None:
    tree = parse(indexed_client.get("/search"))
    tips = tree.xpath("//div[contains(@class, 'tips')]")[0]
    assert "author:Hinton" in text_of(tips)
    assert tree.xpath("//form[@role='search']//input[@id='q' and @name='q']")
    assert tree.xpath("//label[@for='q']")
    checked = tree.xpath("//input[@name='mode' and @checked]")[0]
    assert checked.get("value") == "hybrid"


def test_keyword_results_mark_the_query_terms(indexed_client: TestClient) -> None:
    tree = parse(indexed_client.get("/search", params={"q": "pebble game", "mode": "bm25"}))
    assert result_ids(tree)[0] == "0704.0002"
    first = tree.xpath("//ol[@class='results']/li")[0]
    marked = {text_of(m).lower() for m in first.xpath(".//mark")}
    assert marked == {"pebble", "game"}
    assert first.xpath(".//p[@class='card-abstract']//math")  # formulas in snippets are MathML too
    assert text_of(tree.xpath("//p[@class='count']")[0]) == "5 results"


def test_stemmed_forms_are_marked(indexed_client: TestClient) -> None:
    tree = parse(indexed_client.get("/search", params={"q": "graph", "mode": "bm25"}))
    marked = {text_of(m).lower() for m in tree.xpath("//ol[@class='results']//mark")}
    assert {"graph", "graphs"} <= marked


def test_hybrid_without_the_model_falls_back_with_a_notice(indexed_client: TestClient) -> None:
    # The shared test index was built without the embedding model, so semantic ranking cannot run.
    tree = parse(indexed_client.get("/search", params={"q": "pebble game"}))
    notice = text_of(tree.xpath("//div[@class='notices']")[0])
    assert "Hybrid search is not available" in notice and "keyword (BM25)" in notice
    assert result_ids(tree)[0] == "0704.0002"
    assert "(keyword ranking)" in text_of(tree.xpath("//p[@class='count']")[0])


def test_parser_notices_are_shown(indexed_client: TestClient) -> None:
    tree = parse(indexed_client.get("/search", params={"q": "foo:bar graphs since:soon", "mode": "bm25"}))
    notices = [text_of(li) for li in tree.xpath("//div[@class='notices']//li")]
    assert any(n.startswith("Unknown filter foo") for n in notices)
    assert any("since:soon is not a date" in n for n in notices)
    assert result_ids(tree)


def test_filters_narrow_the_results(indexed_client: TestClient) -> None:
    by_syntax = result_ids(
        parse(indexed_client.get("/search", params={"q": "graphs cat:math.CO", "mode": "bm25"}))
    )
    by_field = result_ids(
        parse(indexed_client.get("/search", params={"q": "graphs", "category": "math.CO", "mode": "bm25"}))
    )
    assert by_syntax == by_field == ["0704.0002", "1605.08386", "0704.0010", "0912.3200"]
    recent = indexed_client.get(
        "/search", params={"q": "graphs", "mode": "bm25", "since": "2015-01-01", "until": ""}
    )
    ids = result_ids(parse(recent))
    assert ids and "0704.0002" not in ids
    api = indexed_client.get(
        "/api/papers/search", params={"q": "graphs since:2015-01-01", "mode": "bm25"}
    ).json()
    assert [r["paper"]["id"] for r in api["results"]] == ids
    for item in api["results"]:
        assert date.fromisoformat(item["paper"]["publishedAt"][:10]) >= date(2015, 1, 1)


def test_pages_of_results(indexed_client: TestClient) -> None:
    first = parse(indexed_client.get("/search", params={"q": "quantum", "mode": "bm25"}))
    assert len(result_ids(first)) == 20
    pager = links(first.xpath("//nav[@aria-label='Result pages']")[0])
    assert pager == {"Next →": "/search?q=quantum&mode=bm25&page=2"}
    second = parse(indexed_client.get(pager["Next →"]))
    assert len(result_ids(second)) == 20 and not set(result_ids(second)) & set(result_ids(first))
    assert second.xpath("//ol[@class='results']")[0].get("start") == "21"
    assert "Page 2 of 5" in text_of(second.xpath("//nav[@aria-label='Result pages']")[0])


def test_no_results_suggests_what_to_try(indexed_client: TestClient) -> None:
    tree = parse(indexed_client.get("/search", params={"q": "zzyzx", "mode": "bm25", "category": "cs.CL"}))
    empty = tree.xpath("//div[@class='empty']")[0]
    assert "No papers match “zzyzx”" in text_of(empty)
    suggestions = links(empty)
    assert suggestions["Search again without the category and dates"] == "/search?q=zzyzx&mode=bm25"
    assert suggestions["Try hybrid ranking"] == "/search?q=zzyzx&category=cs.CL"


def test_an_arxiv_id_or_link_opens_the_paper(indexed_client: TestClient) -> None:
    for query in ("2104.12255", "arXiv:2104.12255v1", "https://arxiv.org/abs/2104.12255v2"):
        response = indexed_client.get("/search", params={"q": query}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/papers/2104.12255"
    old_style = indexed_client.get("/search", params={"q": "astro-ph/0601001"}, follow_redirects=False)
    assert old_style.headers["location"] == "/papers/astro-ph/0601001"


def test_an_unknown_arxiv_id_links_to_arxiv(indexed_client: TestClient) -> None:
    response = indexed_client.get("/search", params={"q": "2607.99999"})
    assert response.status_code == 200
    notices = parse(response).xpath("//div[@class='notices missing']")[0]
    assert links(notices)["Open it on arXiv"] == "https://arxiv.org/abs/2607.99999"


def test_without_an_index_search_says_so_and_never_fails(client: TestClient) -> None:
    for mode in ("hybrid", "bm25", "dense"):
        response = client.get("/search", params={"q": "graphs", "mode": mode})
        assert response.status_code == 200
        message = text_of(parse(response).xpath("//div[@class='empty']")[0])
        assert "no search index" in message and "dailypapers index" in message
    api = client.get("/api/papers/search", params={"q": "graphs"})
    assert api.status_code == 503 and "no search index" in api.json()["error"]


def test_a_broken_index_is_reported_not_raised(demo_settings: Settings) -> None:
    version = demo_settings.data_dir / "index" / "v000001"
    version.mkdir(parents=True)
    (version / "manifest.json").write_text('{"format": 1, "embedder": "x"}')
    (demo_settings.data_dir / "index" / "CURRENT").write_text("v000001\n")
    with make_client(demo_settings) as client:
        page = client.get("/search", params={"q": "graphs"})
        assert page.status_code == 200
        assert "cannot be opened" in text_of(parse(page).xpath("//div[@class='empty']")[0])
        api = client.get("/api/papers/search", params={"q": "graphs"})
        assert api.status_code == 503 and "cannot be opened" in api.json()["error"]
        assert client.get("/papers/0704.0002").status_code == 200

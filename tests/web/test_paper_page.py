"""A paper's page: everything about it, math drawn as MathML, BibTeX, similar papers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory
from dailypapers.search.runtime import make_search_service
from dailypapers.web.render import paper_path
from tests.web.pagecheck import links, math_elements, parse, text_of


def test_paper_page_shows_the_whole_record(client: TestClient) -> None:
    tree = parse(client.get("/papers/0704.0002"))
    assert text_of(tree.xpath("//h1")[0]) == "Sparsity-certifying Graph Decompositions"
    assert text_of(tree.xpath("//p[@class='kicker']")[0]) == "arXiv:0704.0002v2 · math.CO"
    authors = [text_of(a) for a in tree.xpath("//ul[@class='author-list']//a")]
    assert authors == ["Ileana Streinu", "Louis Theran"]
    facts = {
        text_of(d.xpath("dt")[0]): text_of(d.xpath("dd")[0]) for d in tree.xpath("//dl[@class='facts']/div")
    }
    assert facts["Published"] == "31 Mar 2007"
    assert facts["Updated"] == "13 Dec 2008"
    assert facts["Versions"] == "v1 (2007-03-31), v2 (2008-12-13)"
    assert facts["Comments"] == "To appear in Graphs and Combinatorics"
    actions = links(tree.xpath("//nav[@aria-label='Read and get the code']")[0])
    assert actions == {
        "arXiv page": "https://arxiv.org/abs/0704.0002",
        "PDF": "https://arxiv.org/pdf/0704.0002",
        "HTML": "https://arxiv.org/html/0704.0002",
    }
    categories = links(tree.xpath("//ul[@aria-label='Categories']")[0])
    assert categories == {"math.CO": "/search?category=math.CO", "cs.CG": "/search?category=cs.CG"}


def test_abstract_math_is_mathml(client: TestClient) -> None:
    tree = parse(client.get("/papers/0704.0002"))
    abstract = tree.xpath("//section[@class='abstract']")[0]
    formulas = math_elements(abstract)
    assert len(formulas) == 3
    assert formulas[0].get("alttext") == r"(k,\ell)"
    assert "$" not in text_of(abstract)


def test_bibtex_and_placeholders_for_votes_and_comments(client: TestClient) -> None:
    tree = parse(client.get("/papers/2607.23193"))
    bibtex = text_of(tree.xpath("//pre[@id='bibtex-text']")[0])
    assert bibtex.startswith("@misc{su2026omniscope,") and "eprint = {2607.23193}" in bibtex
    assert tree.xpath("//div[@class='copy-slot' and @data-copy-target='bibtex-text']")
    votes = tree.xpath("//section[@id='votes']")[0]
    assert text_of(votes.xpath(".//p[@class='big-number']")[0]) == "3"
    assert "Hugging Face" in text_of(votes)
    comments = tree.xpath("//section[@id='comments']")[0]
    assert text_of(comments.xpath(".//p[@class='big-number']")[0]) == "2"
    actions = links(tree.xpath("//nav[@aria-label='Read and get the code']")[0])
    assert actions["Code · ★ 3"] == "https://github.com/MAC-AutoML/OmniScope"
    facts = {
        text_of(d.xpath("dt")[0]): text_of(d.xpath("dd")[0]) for d in tree.xpath("//dl[@class='facts']/div")
    }
    assert facts["On the feed"] == "31 Jul 2026, submitted by Consonnm"


def test_hugging_face_summary_is_shown_and_labelled(client: TestClient) -> None:
    tree = parse(client.get("/papers/2606.00467"))
    summary = tree.xpath("//section[@aria-labelledby='summary-heading']")[0]
    assert "Large language models exhibit limited ability" in text_of(summary)
    assert len(summary.xpath(".//ul[@class='keywords']/li")) == 14


def test_without_an_index_the_similar_section_is_left_out(client: TestClient) -> None:
    response = client.get("/papers/0704.0002")
    assert response.status_code == 200
    assert not parse(response).xpath("//section[@id='similar']")


def test_similar_papers_from_the_index(indexed_client: TestClient, indexed_settings: Settings) -> None:
    tree = parse(indexed_client.get("/papers/0704.0002"))
    similar = [a.get("href") for a in tree.xpath("//section[@id='similar']//ol/li/a")]
    engine = create_engine_from_settings(indexed_settings)
    try:
        service = make_search_service(indexed_settings, make_session_factory(engine))
        expected = [paper_path(hit.id) for hit in service.similar("0704.0002", k=6).hits]
    finally:
        engine.dispose()
    assert similar == expected and len(similar) == 6
    assert "/papers/0704.0002" not in similar

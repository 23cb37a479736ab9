"""Lists of papers and the paper page as a reader meets them, checked with an HTML parser.

Comment counts say whose they are and lead to the discussion they count; every feed page invites to
the mail digest; cards carry the thumbnail and the submitter's avatar the server draws; the compact
view is chosen by a link and kept in a cookie; a paper known only from a pasted listing says so and
leads to arXiv's search; the math font is shipped with its licence.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from fastapi.testclient import TestClient

from dailypapers import store
from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory
from tests.community.support import log_in, make_user
from tests.web.support import make_client

HF_PAPER = "2606.13681"  # EvoArena: 3 comments and 118 upvotes on Hugging Face, submitted by zhiyuanhucs
LISTING_PAPER = "dp-02201810d58ae4b2"  # a title from the copied listing that matched no other paper
LISTING_TITLE = "Towards Analyzing and Mitigating Sycophancy in Large Vision-Language Models"


def _cls(name: str) -> str:
    """XPath for "has the class ``name``"."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def _is_compact(page: lxml.html.HtmlElement) -> bool:
    return "is-compact" in page.xpath("//ol[starts-with(@class, 'cards')]")[0].get("class")


def _html(client: TestClient, path: str) -> lxml.html.HtmlElement:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return lxml.html.fromstring(response.text)


def _card(page: lxml.html.HtmlElement, paper_id: str) -> lxml.html.HtmlElement:
    for card in page.xpath(f"//ol[{_cls('cards')}]/li[{_cls('card')}]"):
        if card.xpath(f".//h2//a[@href='/papers/{paper_id}']"):
            return card
    raise AssertionError(f"no card for {paper_id}")


def test_card_comment_counts_say_whose_and_link_hugging_face(client: TestClient) -> None:
    card = _card(_html(client, "/date/2026-06-12"), HF_PAPER)
    upstream = card.xpath(f".//a[{_cls('comments-upstream')}]")
    assert [a.text_content() for a in upstream] == ["3 comments on Hugging Face"]
    assert upstream[0].get("href") == f"https://huggingface.co/papers/{HF_PAPER}#community"
    here = card.xpath(f".//a[{_cls('comments-here')}]")
    assert [(a.text_content(), a.get("href")) for a in here] == [("0 here", f"/papers/{HF_PAPER}#discussion")]


def test_paper_page_links_the_hugging_face_discussion(client: TestClient) -> None:
    page = _html(client, f"/papers/{HF_PAPER}")
    discussion = page.get_element_by_id("discussion")
    links = discussion.xpath(".//a[starts-with(@href, 'https://huggingface.co/')]")
    assert [a.get("href") for a in links] == [f"https://huggingface.co/papers/{HF_PAPER}#community"]
    assert links[0].text_content() == "3 comments on Hugging Face"
    panel = page.get_element_by_id("comments")
    assert panel.xpath(f".//a[@href='https://huggingface.co/papers/{HF_PAPER}#community']")


@pytest.mark.parametrize(
    "path",
    ["/", "/date/2026-06-12", "/week/2026-W24", "/month/2026-06", "/trending", "/date/2026-07-31"],
)
def test_every_feed_page_invites_to_the_digest(client: TestClient, path: str) -> None:
    head = _html(client, path).xpath(f"//*[{_cls('page-head')}]")[0]
    banner = head.xpath(f".//*[{_cls('digest-banner')}]")
    assert banner, "no digest invitation in the page head"
    assert "Get trending papers in your email inbox" in banner[0].text_content()
    assert [a.text_content() for a in banner[0].xpath(".//a[@href='/subscribe']")] == ["Subscribe"]


def test_subscribe_form_has_the_finish_of_the_other_forms(client: TestClient) -> None:
    page = _html(client, "/subscribe")
    form = page.xpath("//form[@action='/subscribe']")[0]
    assert "stacked-form" in form.get("class").split()
    zone = form.xpath(".//*[@id='sub-timezone']")[0]
    assert zone.get("data-browser-timezone") is not None  # app.js fills the reader's zone in
    for field in ("sub-categories", "sub-keywords", "sub-timezone"):
        help_id = form.xpath(f".//*[@id='{field}']")[0].get("aria-describedby")
        assert help_id and form.xpath(f".//*[@id='{help_id}' and {_cls('help')}]")
    assert not form.xpath(".//br"), "fields are laid out by the stylesheet, not line breaks"
    # A form sent back with problems keeps what the reader chose: no zone is filled over it.
    csrf_token = form.xpath(".//input[@name='csrf_token']/@value")[0]
    again = client.post(
        "/subscribe", data={"email": "nobody", "timezone": "Asia/Tokyo", "csrf_token": csrf_token}
    )
    assert again.status_code == 400
    zone = lxml.html.fromstring(again.text).get_element_by_id("sub-timezone")
    assert zone.get("value") == "Asia/Tokyo" and zone.get("data-browser-timezone") is None


def test_cards_show_the_thumbnail_and_the_submitters_avatar(client: TestClient) -> None:
    card = _card(_html(client, "/date/2026-06-12"), HF_PAPER)
    thumbs = card.xpath(f".//img[{_cls('card-thumb')}]")
    assert [img.get("src") for img in thumbs] == [f"/thumbnails/{HF_PAPER}.svg"]
    assert thumbs[0].get("alt") == ""  # the title beside it says the same
    avatars = card.xpath(f".//*[{_cls('submitter')}]//img[{_cls('avatar')}]")
    assert [img.get("src") for img in avatars] == ["/avatars/zhiyuanhucs.svg"]
    for src in (thumbs[0].get("src"), avatars[0].get("src")):
        image = client.get(src)
        assert image.status_code == 200 and image.headers["content-type"].startswith("image/svg+xml")


def test_compact_view_is_chosen_by_a_link_and_kept(client: TestClient) -> None:
    page = _html(client, "/date/2026-06-12")
    assert not _is_compact(page)
    toggle = {a.text_content(): a.get("href") for a in page.xpath(f"//*[{_cls('view-toggle')}]//a")}
    assert parse_qs(urlsplit(toggle["Compact"]).query)["view"] == ["compact"]
    response = client.get(toggle["Compact"])
    assert "card_view=compact" in response.headers["set-cookie"]
    compact = lxml.html.fromstring(response.text)
    assert _is_compact(compact)
    assert (
        compact.xpath(f"//*[{_cls('view-toggle')}]//a[@aria-current='true']")[0].text_content() == "Compact"
    )
    # The cookie keeps the choice on the next pages, trending included, until the reader switches back.
    for path in ("/date/2026-06-12", "/trending", "/"):
        assert _is_compact(_html(client, path)), path
    client.get("/trending?view=cards")
    assert not _is_compact(_html(client, "/date/2026-06-12"))


def test_a_paper_from_a_pasted_listing_says_so_and_offers_a_search(client: TestClient) -> None:
    page = _html(client, f"/papers/{LISTING_PAPER}")
    notice = page.xpath(f"//*[{_cls('listing-notice')}]")
    assert notice and "pasted listing" in notice[0].text_content()
    searches = page.xpath("//a[starts-with(@href, 'https://arxiv.org/search/')]")
    assert searches
    for link in searches:
        query = parse_qs(urlsplit(link.get("href")).query)
        assert query == {"query": [LISTING_TITLE], "searchtype": ["title"]}
    bibtex = page.get_element_by_id("bibtex-text").text_content()
    assert "anonymous" not in bibtex and "nd" not in bibtex.split(",")[0]
    assert bibtex.startswith("@misc{analyzingmitigating,")
    # A paper with an arXiv id has its own links and no such notice.
    assert not _html(client, f"/papers/{HF_PAPER}").xpath(f"//*[{_cls('listing-notice')}]")


def test_the_math_font_is_shipped_with_its_licence(client: TestClient) -> None:
    page = _html(client, "/")
    css_href = page.xpath("//link[@rel='stylesheet']")[0].get("href")
    css = client.get(css_href).text
    assert '@font-face {\n  font-family: "STIX Two Math";' in css
    assert 'font-family: "STIX Two Math", math;' in css
    font_url = css.split('src: url("', 1)[1].split('"', 1)[0]
    font = client.get("/static/" + font_url)
    assert font.status_code == 200 and font.content[:4] == b"wOF2"
    licence = Path(__file__).parents[2] / "src/dailypapers/web/static/fonts/STIXTwoMath-OFL.txt"
    assert "SIL Open Font License, Version 1.1" in licence.read_text()


def test_a_refused_upvote_without_script_explains_and_leads_back(demo_settings: Settings) -> None:
    engine = create_engine_from_settings(demo_settings)
    try:
        user = make_user(make_session_factory(engine), "unconfirmed", verified=False)
    finally:
        engine.dispose()
    with make_client(demo_settings) as client:
        assert log_in(client, "unconfirmed").status_code == 303
        page = client.get("/date/2026-06-12")
        form = next(
            f for f in lxml.html.fromstring(page.text).forms if f.get("action", "").endswith("/upvote")
        )
        back = "/date/2026-06-12"
        response = client.post(
            form.get("action"),
            data=dict(form.form_values()),
            headers={"referer": str(client.base_url) + back},
            follow_redirects=False,
        )
        assert response.status_code == 403
        answer = lxml.html.fromstring(response.text)
        assert "Confirm your mail address" in answer.xpath("//main")[0].text_content()
        hrefs = [a.get("href") for a in answer.xpath("//main//a")]
        assert back in hrefs and "/account#verify" in hrefs
        # With script the same refusal comes as JSON that app.js shows beside the button.
        as_json = client.post(
            form.get("action"), data=dict(form.form_values()), headers={"accept": "application/json"}
        )
        assert as_json.status_code == 403
        assert as_json.json()["error"].startswith("Confirm your mail address")
    engine = create_engine_from_settings(demo_settings)
    try:
        with make_session_factory(engine)() as session:
            paper_id = form.get("action").removeprefix("/papers/").removesuffix("/upvote")
            assert not store.has_voted(session, user_id=user.id, paper_id=paper_id)
    finally:
        engine.dispose()

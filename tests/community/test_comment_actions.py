"""Where comment actions lead: hiding from the moderation page returns there with a notice, and
deleting one's comment asks first (a page that asks, for browsers without scripts)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from dailypapers.models import Comment
from tests.community.support import HF_PAPER, Clock, app_client, form_fields, log_in, make_user
from tests.web.pagecheck import assert_page_hygiene, parse, text_of

PAPER_PATH = f"/papers/{HF_PAPER}"


def _comment(client: TestClient, text: str) -> int:
    fields = form_fields(client.get(PAPER_PATH).text, f"{PAPER_PATH}/comments")
    fields["text"] = text
    response = client.post(f"{PAPER_PATH}/comments", data=fields, follow_redirects=False)
    assert response.status_code == 303
    return int(response.headers["location"].rsplit("#comment-", 1)[1])


def test_hiding_from_the_moderation_page_returns_there_with_a_notice(
    client: TestClient, papers: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    make_user(papers, "ada")
    make_user(papers, "moe", role="moderator")
    log_in(client, "ada")
    spam = _comment(client, "Buy cheap pills")
    other = _comment(client, "A fair question about the bound")
    with app_client(settings, clock) as moe:
        log_in(moe, "moe")
        fields = form_fields(moe.get("/moderation").text, f"/comments/{spam}/hide")
        fields["reason"] = "spam"
        hidden = moe.post(f"/comments/{spam}/hide", data=fields, follow_redirects=False)
        assert hidden.status_code == 303 and hidden.headers["location"] == f"/moderation?hidden={spam}"
        tree = parse(moe.get(hidden.headers["location"]))
        assert_page_hygiene(tree)
        assert f"Comment {spam} is hidden." in text_of(tree.xpath("//div[@role='status']")[0])
        fields = form_fields(moe.get("/moderation").text, f"/comments/{spam}/unhide")
        shown = moe.post(f"/comments/{spam}/unhide", data=fields, follow_redirects=False)
        assert shown.headers["location"] == f"/moderation?shown={spam}"
        assert f"Comment {spam} is shown again." in moe.get(shown.headers["location"]).text
        # From the paper page, hiding still leads back to the comment there.
        fields = form_fields(moe.get(PAPER_PATH).text, f"/comments/{other}/hide")
        there = moe.post(f"/comments/{other}/hide", data=fields, follow_redirects=False)
        assert there.headers["location"] == f"{PAPER_PATH}#comment-{other}"
        # A "next" that leads off the site is ignored.
        fields = form_fields(moe.get("/moderation").text, f"/comments/{other}/unhide")
        fields["next"] = "https://evil.example/moderation"
        away = moe.post(f"/comments/{other}/unhide", data=fields, follow_redirects=False)
        assert away.headers["location"] == f"{PAPER_PATH}#comment-{other}"


def test_deleting_a_comment_asks_first(client: TestClient, papers: sessionmaker[Session]) -> None:
    make_user(papers, "ada")
    log_in(client, "ada")
    comment = _comment(client, "A comment to think twice about")
    form = parse(client.get(PAPER_PATH)).xpath(f"//form[@action='/comments/{comment}/delete']")[0]
    assert form.get("data-confirm")  # comments.js asks with confirm() before the form goes
    fields = form_fields(client.get(PAPER_PATH).text, f"/comments/{comment}/delete")
    asked = client.post(f"/comments/{comment}/delete", data=fields, follow_redirects=False)
    assert asked.status_code == 200
    tree = parse(asked)
    assert_page_hygiene(tree)
    assert text_of(tree.xpath("//h1")[0]) == "Delete your comment?"
    assert "A comment to think twice about" in text_of(tree.xpath("//main")[0])
    assert tree.xpath("//a[text()='Keep it']/@href") == [f"{PAPER_PATH}#comment-{comment}"]
    with papers() as session:
        assert session.get(Comment, comment).status == "visible"  # type: ignore[union-attr]
    confirmed = client.post(
        f"/comments/{comment}/delete", data=form_fields(asked.text, f"/comments/{comment}/delete")
    )
    assert confirmed.status_code == 200
    with papers() as session:
        assert session.get(Comment, comment).status == "deleted"  # type: ignore[union-attr]

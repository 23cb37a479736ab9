"""Upvotes and threaded comments through the site's forms: counts, threads, own edits, moderation."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community import discussion
from dailypapers.config import Settings
from dailypapers.models import Comment, ModerationAction, Vote
from tests.community.support import HF_PAPER, NOW, Clock, app_client, form_fields, log_in, make_user
from tests.web.pagecheck import assert_page_hygiene, math_elements, parse, text_of

PAPER_PATH = f"/papers/{HF_PAPER}"


def comment_on(client: TestClient, text: str, parent_id: int | None = None) -> int:
    page = client.get(PAPER_PATH).text
    fields = form_fields(page, f"{PAPER_PATH}/comments")
    fields["text"] = text
    if parent_id is not None:
        fields["parent_id"] = str(parent_id)
    response = client.post(f"{PAPER_PATH}/comments", data=fields, follow_redirects=False)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("#comment-", 1)[1])


def delete_own_comment(client: TestClient, comment_id: int) -> None:
    """Delete as a browser without scripts does: the form, then the page that asks, then its button."""
    fields = form_fields(client.get(PAPER_PATH).text, f"/comments/{comment_id}/delete")
    asked = client.post(f"/comments/{comment_id}/delete", data=fields, follow_redirects=False)
    assert asked.status_code == 200 and "Delete your comment?" in asked.text
    confirm = form_fields(asked.text, f"/comments/{comment_id}/delete")
    done = client.post(f"/comments/{comment_id}/delete", data=confirm, follow_redirects=False)
    assert done.status_code == 303


def card_votes(client: TestClient, path: str = "/date/2026-07-31") -> str:
    tree = parse(client.get(path))
    card = next(c for c in tree.xpath("//li[@class='card']") if HF_PAPER in c.xpath(".//h2/a/@href")[0])
    return text_of(card.xpath(".//span[@class='votes-count']")[0])


def test_upvotes_toggle_and_show_everywhere(client: TestClient, papers: sessionmaker[Session]) -> None:
    make_user(papers, "ada")
    assert card_votes(client) == "3"
    log_in(client, "ada")
    page = client.get(PAPER_PATH)
    assert page.headers["cache-control"] == "private, no-store"
    fields = form_fields(page.text, f"{PAPER_PATH}/upvote")
    assert fields["action"] == "add"
    voted = client.post(f"{PAPER_PATH}/upvote", data=fields, headers={"accept": "application/json"})
    assert voted.json() == {"paperId": HF_PAPER, "upvotes": 4, "upvoted": True}
    # The same form sent twice (a double click) counts once.
    assert (
        client.post(f"{PAPER_PATH}/upvote", data=fields, headers={"accept": "application/json"}).json()[
            "upvotes"
        ]
        == 4
    )
    tree = parse(client.get(PAPER_PATH))
    assert text_of(tree.xpath("//p[@id='paper-upvotes']")[0]) == "4"
    assert tree.xpath("//form[@class='vote-form']//button/@aria-pressed") == ["true"]
    assert card_votes(client) == "4"
    api = client.get(f"/api/papers/{HF_PAPER}").json()
    assert api["upvotes"] == 4 and api["trending"]["upvotes"] == 4
    daily = client.get("/api/daily_papers?date=2026-07-31").json()
    assert next(i for i in daily if i["paper"]["id"] == HF_PAPER)["paper"]["upvotes"] == 4
    # Taking it back, without JavaScript: the form posts and comes back to the page.
    fields = form_fields(client.get(PAPER_PATH).text, f"{PAPER_PATH}/upvote")
    assert fields["action"] == "remove"
    back = client.post(
        f"{PAPER_PATH}/upvote",
        data=fields,
        headers={"referer": f"http://testserver{PAPER_PATH}"},
        follow_redirects=False,
    )
    assert back.status_code == 303
    assert card_votes(client) == "3"
    client.cookies.clear()
    assert card_votes(client) == "3"  # the page everyone sees follows too


def test_votes_are_exact_under_concurrency(papers: sessionmaker[Session]) -> None:
    users = [make_user(papers, f"voter{n}") for n in range(12)]
    barrier = threading.Barrier(len(users))

    def vote_twice_and_back(index: int) -> None:
        user = users[index]
        barrier.wait()
        for action in ("add", "add", "remove", "add"):
            with papers.begin() as session:
                if action == "add":
                    discussion.upvote(session, user=user, paper_id=HF_PAPER, now=NOW)
                else:
                    discussion.remove_upvote(session, user=user, paper_id=HF_PAPER)

    with ThreadPoolExecutor(len(users)) as pool:
        list(pool.map(vote_twice_and_back, range(len(users))))
    with papers() as session:
        rows = session.scalar(select(func.count()).select_from(Vote).where(Vote.paper_id == HF_PAPER))
        assert rows == len(users)
        assert store.paper_counts(session, paper_id=HF_PAPER).upvotes == 3 + len(users)
        assert store.check_counts(session) == {"upvote_mismatches": 0, "comment_mismatches": 0}


def test_threaded_comments_with_math(
    client: TestClient, papers: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    make_user(papers, "ada")
    make_user(papers, "bob")
    log_in(client, "ada")
    first = comment_on(client, "Energy: $E=mc^2$, and *emphasis*.")
    with app_client(settings, clock) as bob:
        log_in(bob, "bob")
        reply = comment_on(bob, "A reply with $$\\sum_{i=1}^n x_i$$", parent_id=first)
    nested = comment_on(client, "And a reply to the reply.", parent_id=reply)
    tree = parse(client.get(PAPER_PATH))
    assert_page_hygiene(tree)
    thread = tree.xpath("//section[@id='discussion']/ol[contains(@class, 'thread-root')]")[0]
    top = thread.xpath("./li")
    assert [li.get("id") for li in top] == [f"comment-{first}"]
    assert top[0].xpath("./ol/li/@id") == [f"comment-{reply}"]
    assert top[0].xpath("./ol/li/ol/li/@id") == [f"comment-{nested}"]
    formulas = math_elements(top[0])
    assert [f.get("alttext") for f in formulas] == ["E=mc^2", "\\sum_{i=1}^n x_i"]
    assert formulas[1].get("display") == "block"
    assert top[0].xpath(".//em")[0].text == "emphasis"
    # Comment counts: 2 from Hugging Face plus the 3 here, on the paper page, the cards and the API.
    assert text_of(tree.xpath("//section[@id='comments']//p[@class='big-number']")[0]) == "5"
    listing = client.get("/api/papers/2607.23193/comments").json()
    assert listing["numComments"] == 5
    assert [c["id"] for c in listing["comments"]] == [first, reply, nested]
    assert listing["comments"][1]["parentId"] == first


def test_edit_and_delete_own_comments_only(
    client: TestClient, papers: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    make_user(papers, "ada")
    make_user(papers, "mallory")
    log_in(client, "ada")
    first = comment_on(client, "Original text")
    reply = comment_on(client, "A reply that keeps the thread", parent_id=first)
    with app_client(settings, clock) as mallory:
        log_in(mallory, "mallory")
        page = mallory.get(PAPER_PATH).text
        # Mallory sees no edit or delete forms for Ada's comments...
        assert f"/comments/{first}/edit" not in page and f"/comments/{first}/delete" not in page
        # ...and posting them anyway, with her own valid CSRF token, is refused.
        token = form_fields(page, f"{PAPER_PATH}/comments")["csrf_token"]
        edit = mallory.post(f"/comments/{first}/edit", data={"csrf_token": token, "text": "defaced"})
        delete = mallory.post(f"/comments/{first}/delete", data={"csrf_token": token})
        assert edit.status_code == delete.status_code == 403
        assert "your own comments" in edit.text
    with papers() as session:
        assert session.get(Comment, first).body == "Original text"  # type: ignore[union-attr]

    fields = form_fields(client.get(PAPER_PATH).text, f"/comments/{first}/edit")
    fields["text"] = "Edited text"
    client.post(f"/comments/{first}/edit", data=fields)
    assert "Edited text" in client.get(PAPER_PATH).text and "(edited)" in client.get(PAPER_PATH).text
    delete_own_comment(client, first)
    tree = parse(client.get(PAPER_PATH))
    removed = tree.xpath(f"//li[@id='comment-{first}']")[0]
    assert "[deleted]" in text_of(removed.xpath("./article")[0]) and "Edited text" not in text_of(removed)
    assert removed.xpath(f".//li[@id='comment-{reply}']")  # the reply keeps its place under it
    # A deleted comment without replies leaves no trace.
    delete_own_comment(client, reply)
    tree = parse(client.get(PAPER_PATH))
    assert not tree.xpath("//li[contains(@class, 'comment')]")
    with papers() as session:
        assert store.paper_counts(session, paper_id=HF_PAPER).comments == 2
        assert store.check_counts(session)["comment_mismatches"] == 0


def test_moderators_hide_comments_and_everything_is_logged(
    client: TestClient, papers: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    make_user(papers, "ada")
    make_user(papers, "moe", role="moderator")
    log_in(client, "ada")
    spam = comment_on(client, "Buy cheap pills")
    with app_client(settings, clock) as moe:
        log_in(moe, "moe")
        fields = form_fields(moe.get(PAPER_PATH).text, f"/comments/{spam}/hide")
        assert moe.post(f"/comments/{spam}/hide", data=fields, follow_redirects=False).status_code == 303
        # Moderators still see it, marked, with a way back.
        page = moe.get(PAPER_PATH).text
        assert "Buy cheap pills" in page and "hidden by a moderator" in page
        log_page = moe.get("/moderation")
        assert log_page.status_code == 200
        tree = parse(log_page)
        assert_page_hygiene(tree)
        row = tree.xpath("//table[contains(@class, 'moderation-log')]/tbody/tr")[0]
        assert [text_of(td) for td in row.xpath("td")][1:5] == [
            "moe",
            "hide comment",
            "ada",
            f"comment {spam}",
        ]
        fields = form_fields(moe.get("/moderation").text, f"/comments/{spam}/unhide")
        fields["reason"] = "a second look"
        moe.post(f"/comments/{spam}/unhide", data=fields)
    assert "Buy cheap pills" in client.get(PAPER_PATH).text
    client.cookies.clear()
    # Ordinary users cannot moderate or see the log.
    log_in(client, "ada")
    token = form_fields(client.get(PAPER_PATH).text, f"{PAPER_PATH}/comments")["csrf_token"]
    assert client.post(f"/comments/{spam}/hide", data={"csrf_token": token}).status_code == 403
    assert client.get("/moderation").status_code == 403
    with papers() as session:
        actions = session.scalars(select(ModerationAction.action).order_by(ModerationAction.id)).all()
    assert actions == ["hide_comment", "unhide_comment"]


def test_replies_must_belong_to_the_paper_and_text_is_required(
    client: TestClient, papers: sessionmaker[Session]
) -> None:
    make_user(papers, "ada")
    log_in(client, "ada")
    first = comment_on(client, "Hello")
    other = "/papers/2607.27958"
    with papers.begin() as session:
        assert store.paper_exists(session, paper_id="2607.27958")
    token = form_fields(client.get(PAPER_PATH).text, f"{PAPER_PATH}/comments")["csrf_token"]
    wrong_paper = client.post(
        f"{other}/comments", data={"csrf_token": token, "text": "x", "parent_id": str(first)}
    )
    assert wrong_paper.status_code == 422
    empty = client.post(f"{PAPER_PATH}/comments", data={"csrf_token": token, "text": "   "})
    assert empty.status_code == 422 and "Write something first" in empty.text
    unknown = client.post("/papers/9999.99999/comments", data={"csrf_token": token, "text": "hello"})
    assert unknown.status_code == 404


def test_profiles_show_upvotes_only_when_their_owner_chooses(
    client: TestClient, papers: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    make_user(papers, "ada")
    make_user(papers, "bob")
    log_in(client, "ada")
    page = client.get(PAPER_PATH).text
    client.post(f"{PAPER_PATH}/upvote", data=form_fields(page, f"{PAPER_PATH}/upvote"))
    comment_on(client, "My *view* of it")
    own = parse(client.get("/u/ada"))
    assert own.xpath(f"//section[@aria-labelledby='upvoted-heading']//a[@href='{PAPER_PATH}']")
    with app_client(settings, clock) as bob:
        log_in(bob, "bob")
        other = parse(bob.get("/u/ada"))
        upvoted = text_of(other.xpath("//section[@aria-labelledby='upvoted-heading']")[0])
        assert "keeps their upvotes private" in upvoted
        assert other.xpath("//ol[@class='profile-comments']//em")[0].text == "view"
        fields = form_fields(client.get("/account").text, "/account/preferences")
        fields["show_upvotes"] = "on"
        client.post("/account/preferences", data=fields)
        shown = parse(bob.get("/u/ada"))
        assert shown.xpath(f"//section[@aria-labelledby='upvoted-heading']//a[@href='{PAPER_PATH}']")
    assert client.get("/u/nobody").status_code == 404
    assert client.get("/u/ADA", follow_redirects=False).headers["location"] == "/u/ada"

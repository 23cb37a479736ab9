"""Reply chains of any depth: the paper page, the comments API and moderation keep working, long
discussions come in pages, and replies below the deepest shown level are listed flat under their last
ancestor shown nested, saying whom they answer."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community import discussion
from dailypapers.community.discussion import COMMENTS_PER_PAGE, MAX_DEPTH_SHOWN
from dailypapers.config import Settings
from dailypapers.store.community import CommentRow
from tests.community.support import HF_PAPER, NOW, Clock, app_client, form_fields, log_in, make_user
from tests.web.pagecheck import assert_page_hygiene, parse, text_of

PAPER_PATH = f"/papers/{HF_PAPER}"
CHAIN = 1200  # far past the depths that made the page (about 250) and the API (about 490) fail


def _reply_chain(sessions: sessionmaker[Session], user_id: int, length: int) -> list[int]:
    """A chain of ``length`` comments, each replying to the one before."""
    ids: list[int] = []
    with sessions.begin() as session:
        for n in range(length):
            ids.append(
                store.add_comment(
                    session,
                    paper_id=HF_PAPER,
                    user_id=user_id,
                    body=f"reply number {n}",
                    parent_id=ids[-1] if ids else None,
                    now=NOW - timedelta(days=1) + timedelta(seconds=n),
                )
            )
    return ids


def _nesting(tree: object) -> int:
    """How deep comment lists nest inside the discussion."""
    deepest = 0
    for item in tree.xpath("//section[@id='discussion']//li[contains(@class, 'comment')]"):  # type: ignore[attr-defined]
        deepest = max(deepest, len(item.xpath("ancestor::ol[contains(@class, 'thread')]")))
    return deepest


def test_a_deep_reply_chain_keeps_the_paper_page_and_the_api_working(
    client: TestClient, papers: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    ada = make_user(papers, "ada")
    moe = make_user(papers, "moe", role="moderator")
    ids = _reply_chain(papers, ada.id, CHAIN)
    pages = -(-CHAIN // COMMENTS_PER_PAGE)

    first = client.get(PAPER_PATH)
    assert first.status_code == 200
    tree = parse(first)
    assert_page_hygiene(tree)
    shown = tree.xpath("//section[@id='discussion']//li[contains(@class, 'comment')]/@id")
    assert shown == [f"comment-{i}" for i in ids[:COMMENTS_PER_PAGE]]
    assert _nesting(tree) == MAX_DEPTH_SHOWN + 1  # the root list plus MAX_DEPTH_SHOWN levels of replies
    # Below the deepest level, replies are listed flat and name the comment they answer.
    flat = tree.xpath(f"//li[@id='comment-{ids[MAX_DEPTH_SHOWN + 1]}']")[0]
    assert flat.xpath(".//a[contains(@href, '#comment-')]/@href")[-1] == f"#comment-{ids[MAX_DEPTH_SHOWN]}"
    assert "in reply to ada" in text_of(flat.xpath("./article/p[@class='comment-head']")[0])
    assert tree.xpath("//a[@rel='next']/@href")[0] == f"{PAPER_PATH}?page=2#discussion"

    last = parse(client.get(f"{PAPER_PATH}?page={pages}"))
    last_ids = last.xpath("//section[@id='discussion']//li[contains(@class, 'comment')]/@id")
    assert last_ids == [f"comment-{i}" for i in ids[(pages - 1) * COMMENTS_PER_PAGE :]]
    # The first comment of a later page says whom it answers, with a link to the page before.
    opener = last.xpath(f"//li[@id='comment-{ids[(pages - 1) * COMMENTS_PER_PAGE]}']")[0]
    assert opener.xpath(".//span[contains(@class, 'comment-reply-to')]/a/@href") == [
        f"{PAPER_PATH}?page={pages - 1}#comment-{ids[(pages - 1) * COMMENTS_PER_PAGE - 1]}"
    ]
    past = client.get(f"{PAPER_PATH}?page={pages + 1}")
    assert past.status_code == 404 and f"This discussion has {pages} pages" in past.text
    assert client.get(f"{PAPER_PATH}?page=nonsense").status_code == 422

    api = client.get(f"/api/papers/{HF_PAPER}/comments")
    assert api.status_code == 200
    body = api.json()
    assert (body["total"], body["pages"], body["p"]) == (CHAIN, pages, 0)
    assert [c["id"] for c in body["comments"]] == ids[:COMMENTS_PER_PAGE]
    tail = client.get(f"/api/papers/{HF_PAPER}/comments", params={"p": 2, "limit": 500}).json()
    assert [c["id"] for c in tail["comments"]] == ids[1000:]
    assert tail["comments"][0]["parentId"] == ids[999]
    assert client.get(f"/api/papers/{HF_PAPER}/comments", params={"p": 3, "limit": 500}).status_code == 404
    assert client.get(f"/api/papers/{HF_PAPER}/comments", params={"limit": 501}).status_code == 422

    # A moderator hides the root: the chain stays readable under the placeholder, for everyone.
    with app_client(settings, clock) as moderator:
        log_in(moderator, "moe")
        fields = form_fields(moderator.get(PAPER_PATH).text, f"/comments/{ids[0]}/hide")
        assert moderator.post(f"/comments/{ids[0]}/hide", data=fields).status_code == 200
        assert moderator.get(PAPER_PATH).status_code == 200
    assert moe.is_moderator
    page = client.get(PAPER_PATH)
    assert page.status_code == 200 and "This comment was hidden by a moderator." in page.text
    assert client.get(f"/api/papers/{HF_PAPER}/comments").status_code == 200


def test_a_reply_deep_in_a_chain_leads_to_the_page_that_shows_it(
    client: TestClient, papers: sessionmaker[Session]
) -> None:
    ada = make_user(papers, "ada")
    ids = _reply_chain(papers, ada.id, 450)
    log_in(client, "ada")
    fields = form_fields(client.get(f"{PAPER_PATH}?page=5").text, f"/comments/{ids[-1]}/edit")
    fields = {"csrf_token": fields["csrf_token"], "text": "The deepest reply yet", "parent_id": str(ids[-1])}
    posted = client.post(f"{PAPER_PATH}/comments", data=fields, follow_redirects=False)
    assert posted.status_code == 303
    location = posted.headers["location"]
    assert location.startswith(f"{PAPER_PATH}?page=5#comment-")
    new_id = location.rsplit("-", 1)[1]
    shown = parse(client.get(location.split("#")[0])).xpath(f"//li[@id='comment-{new_id}']")
    assert shown and "The deepest reply yet" in shown[0].text_content()


def _row(comment_id: int, parent_id: int | None, status: str = "visible") -> CommentRow:
    return CommentRow(comment_id, HF_PAPER, parent_id, 1, "ada", "text", status, NOW, None)


def test_threads_are_built_without_recursion_whatever_the_depth() -> None:
    rows = [_row(n, n - 1 if n > 1 else None) for n in range(1, 100_001)]
    rows[0] = _row(1, None, "deleted")  # a removed root keeps its place while it has replies
    started = time.perf_counter()
    threads = discussion.build_threads(rows)
    assert discussion.count_shown(threads) == 99_999
    page = discussion.thread_page(threads, page=1000)
    assert time.perf_counter() - started < 60  # a sanity bound, not a speed target
    # The page's comments hang under an ancestor on an earlier page: each is listed at the deepest
    # level and names the comment it answers.
    assert [entry.comment.id for entry in page] == list(range(99_901, 100_001))
    assert {entry.depth for entry in page} == {MAX_DEPTH_SHOWN}
    assert [entry.reply_to.id for entry in page if entry.reply_to] == list(range(99_900, 100_000))
    assert discussion.page_of(threads, comment_id=100_000) == 1000
    # A chain whose replies were all removed leaves nothing, however long.
    gone = [_row(n, n - 1 if n > 1 else None, "deleted") for n in range(1, 50_001)]
    assert discussion.build_threads(gone) == []

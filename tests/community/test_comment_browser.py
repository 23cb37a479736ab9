"""Comment actions and the moderation page in a real browser (Debian's Chromium driven by Playwright)
against a real uvicorn server: deleting asks with confirm() (no means nothing happens), replies beyond
the deepest level read well on a phone, and the moderation page fits a 390 px wide screen.
Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community import moderation
from dailypapers.config import Settings
from tests.community.support import HF_PAPER, NOW, PASSWORD, Clock, load_hf_papers, make_user
from tests.live_server import LiveServer
from tests.web.test_browser import ARTIFACTS, browser, pytestmark  # noqa: F401

PAPER_PATH = f"/papers/{HF_PAPER}"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site(
    settings: Settings, sessions: sessionmaker[Session], shared_data: Path
) -> Iterator[tuple[str, dict[str, int]]]:
    load_hf_papers(sessions, shared_data)
    ada = make_user(sessions, "ada")
    moe = make_user(sessions, "moe", role="moderator")
    ids: dict[str, int] = {}
    with sessions.begin() as session:
        parent = None
        for n in range(12):  # a chain deeper than the levels shown nested
            parent = store.add_comment(
                session,
                paper_id=HF_PAPER,
                user_id=ada.id,
                body=f"Reply number {n} in a long exchange about the second theorem and its bound.",
                parent_id=parent,
                now=NOW - timedelta(days=1, minutes=-n),
            )
        ids["deep"] = parent or 0
        ids["mine"] = store.add_comment(
            session, paper_id=HF_PAPER, user_id=ada.id, body="Delete me, maybe.", parent_id=None, now=NOW
        )
        spam = store.add_comment(
            session, paper_id=HF_PAPER, user_id=ada.id, body="Buy pills", parent_id=None, now=NOW
        )
        target = store.user_by_name(session, username="ada")
        moderator = store.user_by_name(session, username="moe")
        assert target is not None and moderator is not None
        moderation.hide_comment(
            session,
            moderator=moderator,
            comment_id=spam,
            reason="advertising that is not about the paper at all, posted many times over",
            now=NOW,
        )
    assert moe.is_moderator
    with LiveServer(settings, Clock()) as server:
        yield server.url, ids


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:  # noqa: F811
    page = browser.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    try:
        yield page
    finally:
        page.close()


def _shot(tab: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"community-{name}.png"), full_page=True)


def _log_in(tab: Any, base: str, name: str) -> None:
    tab.goto(f"{base}/login")
    tab.get_by_label("User name or mail address").fill(name)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(f"{base}/")


def test_deleting_a_comment_asks_with_confirm(site: tuple[str, dict[str, int]], tab: Any) -> None:
    base, ids = site
    _log_in(tab, base, "ada")
    tab.goto(base + PAPER_PATH)
    mine = tab.locator(f"#comment-{ids['mine']}")
    questions: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    tab.once("dialog", lambda dialog: answer(dialog, False))
    mine.get_by_role("button", name="Delete").first.click()
    tab.wait_for_timeout(300)
    assert questions == ["Delete this comment? This cannot be undone."]
    assert tab.url == base + PAPER_PATH  # "no": the page stays, the comment too
    assert "Delete me, maybe." in mine.inner_text()

    tab.once("dialog", lambda dialog: answer(dialog, True))
    mine.get_by_role("button", name="Delete").first.click()
    tab.wait_for_url(f"{base}{PAPER_PATH}#discussion")
    assert len(questions) == 2
    assert tab.locator(f"#comment-{ids['mine']}").count() == 0  # deleted, and it had no replies
    assert tab.problems == []


def test_the_moderation_page_and_deep_replies_fit_a_phone(site: tuple[str, dict[str, int]], tab: Any) -> None:
    base, ids = site
    tab.set_viewport_size(PHONE)
    _log_in(tab, base, "moe")
    tab.goto(f"{base}/moderation")
    _shot(tab, "moderation-390")
    width = tab.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the moderation page is {width}px wide on a 390px screen"
    # Each entry of the log reads as labelled lines, all of it within the screen.
    row = tab.locator("table.moderation-log tbody tr").first
    box = row.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    reason = row.locator("td[data-label='Reason']")
    assert "advertising" in reason.inner_text()
    assert reason.evaluate("cell => getComputedStyle(cell, '::before').content") == '"Reason"'
    place = reason.bounding_box()
    assert place is not None and place["x"] + place["width"] <= PHONE["width"]

    tab.goto(f"{base}{PAPER_PATH}#comment-{ids['deep']}")
    _shot(tab, "deep-replies-390")
    assert tab.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    deep = tab.locator(f"#comment-{ids['deep']} > article").bounding_box()
    assert deep is not None and deep["width"] > PHONE["width"] * 0.6  # still a readable width
    assert "in reply to ada" in tab.locator(f"#comment-{ids['deep']} .comment-head").inner_text()
    assert tab.problems == []

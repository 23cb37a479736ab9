"""The community in a real browser (Debian's Chromium driven by Playwright) against a real uvicorn server.

One reader's journey: sign up, confirm the address with the link that arrives at a real SMTP server on
loopback, submit an arXiv paper (the arXiv API is a local server answering with a recorded response),
upvote it without a page reload, comment with math, reply, and find it all on the feed and the paper's
page. The content security policy must never be violated along the way. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from tests.community.support import ATOM_FOR_SUBMISSION, SUBMITTED_ID, Clock, load_hf_papers
from tests.digest.smtp import SmtpServer
from tests.live_server import LiveServer
from tests.replay import ReplayServer, Reply
from tests.web.test_browser import ARTIFACTS, CHROMIUM, browser, page, pytestmark  # noqa: F401

MATHML = "http://www.w3.org/1998/Math/MathML"
PASSWORD = "seven quiet lanterns glow"


@pytest.fixture
def community_site(
    settings: Settings, sessions: sessionmaker[Session], shared_data: Path, smtp: SmtpServer
) -> Iterator[tuple[str, SmtpServer]]:
    load_hf_papers(sessions, shared_data)
    arxiv = ReplayServer()
    recorded = (shared_data / ATOM_FOR_SUBMISSION).read_bytes()
    arxiv.routes["/api/query"] = lambda request: Reply(
        body=recorded, headers={"Content-Type": "application/atom+xml"}
    )
    arxiv.start()
    configured = smtp.settings_for(
        settings,
        secret="browser-tests-secret-0123456789-abcdefghijklmnop",
        arxiv_api_url=arxiv.url("/api/query"),
        submission_max_age_days=0,
    )
    try:
        with LiveServer(configured, Clock()) as server:
            yield server.url, smtp
    finally:
        arxiv.stop()


def _shot(tab: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"community-{name}.png"), full_page=True)


def _verification_link(smtp: SmtpServer, base: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for message in smtp.sink.messages():
            body = message.get_body(preferencelist=("plain",)).get_content()
            found = re.search(rf"{re.escape(base)}/verify/\S+", body)
            if found:
                return found.group(0)
        time.sleep(0.05)
    raise AssertionError("no verification mail arrived")


def test_sign_up_submit_upvote_and_discuss(community_site: tuple[str, SmtpServer], page: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base, smtp = community_site
    reloads: list[str] = []
    page.on("framenavigated", lambda frame: reloads.append(frame.url) if frame == page.main_frame else None)
    page.goto(base + "/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("User name").fill("marie")
    page.get_by_label("Mail address").fill("marie@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("The password again").fill(PASSWORD)
    _shot(page, "1-signup")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(base + "/signup")
    assert page.locator("h1").inner_text() == "Check your inbox"

    page.goto(_verification_link(smtp, base))
    page.get_by_role("button", name="Confirm my address").click()
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("User name or mail address").fill("marie")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/")
    page.goto(base + "/account")
    assert page.locator(".badge", has_text="confirmed").count() == 1
    _shot(page, "2-account")

    page.get_by_role("link", name="Submit", exact=True).click()
    page.get_by_label("arXiv id or link").fill(f"https://arxiv.org/abs/{SUBMITTED_ID}")
    page.get_by_role("button", name="Submit").click()
    assert "on today's feed" in page.locator("h1").inner_text()
    _shot(page, "3-submitted")
    page.get_by_role("link", name="Open the paper").click()
    page.wait_for_url(f"{base}/papers/{SUBMITTED_ID}")
    assert "submitted by marie" in page.locator("dl.facts").inner_text()

    # Upvote: the script sends the form and updates the count in place.
    navigations = len(reloads)
    vote = page.locator("#votes button.vote-button")
    assert vote.get_attribute("aria-pressed") == "false"
    vote.click()
    # expect() polls from Playwright's own context: a wait_for_function would need eval, which CSP forbids.
    expect(page.locator("#paper-upvotes")).to_have_text("1")
    assert vote.get_attribute("aria-pressed") == "true"
    assert page.locator("#votes .vote-label").inner_text() == "Upvoted"
    assert len(reloads) == navigations, "the vote reloaded the page"

    page.get_by_label("Add a comment").fill("The key identity is $E=mc^2$, as **always**.")
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_url(re.compile(r".*#comment-\d+$"))
    comment = page.locator("li.comment").first
    formula = comment.locator(".comment-body math")
    assert formula.count() == 1
    assert formula.evaluate("element => element.namespaceURI") == MATHML
    assert formula.get_attribute("alttext") == "E=mc^2"
    box = formula.bounding_box()
    assert box is not None and box["width"] > 10

    comment.locator("summary", has_text="Reply").click()
    comment.get_by_label("Your reply to marie").fill("Replying to myself: $a^2 + b^2 = c^2$")
    comment.get_by_role("button", name="Post reply").click()
    page.wait_for_url(re.compile(r".*#comment-\d+$"))
    reply = page.locator("li.comment li.comment")
    assert reply.count() == 1 and reply.locator("math").count() == 1
    assert page.locator("#comments .big-number").inner_text() == "2"
    _shot(page, "4-paper")

    page.goto(base + "/")
    card = page.locator("li.card", has=page.locator(f"a[href='/papers/{SUBMITTED_ID}']")).first
    assert "Submitted by marie" in card.inner_text()
    assert card.locator(".votes-count").inner_text() == "1"
    assert card.locator(".vote-button").get_attribute("aria-pressed") == "true"
    assert "2 comments" in card.inner_text()
    _shot(page, "5-feed")

    # Logged out, the feed is the shared page: the same counts, a link to log in instead of the button.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(base + "/")
    card = page.locator("li.card", has=page.locator(f"a[href='/papers/{SUBMITTED_ID}']")).first
    assert card.locator("a.vote-link .votes-count").inner_text() == "1"
    assert page.problems == []

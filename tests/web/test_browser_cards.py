"""Card lists and votes in a real browser (Debian's Chromium through Playwright, see test_browser.py).

What needs script: an upvote refused for an unconfirmed address is explained beside the button, an
upvote updates every count of the paper on the page, the compact switch works in place and is kept,
and the subscribe form starts with the browser's time zone. The heights of a 30-paper day in both
views at 1280 and 390 px are printed (``-s`` shows them) and must shrink in the compact view.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory
from tests.community.support import PASSWORD, make_user
from tests.live_server import LiveServer
from tests.web import test_browser
from tests.web.support import fixed_clock
from tests.web.test_browser import screenshot

pytestmark = test_browser.pytestmark  # the same reasons to skip
browser = test_browser.browser  # the fixtures of the browser tests
page = test_browser.page

HF_PAPER = "2606.13681"  # 118 upvotes counted on Hugging Face


@pytest.fixture
def site(demo_settings: Settings) -> Iterator[str]:
    engine = create_engine_from_settings(demo_settings)
    try:
        sessions = make_session_factory(engine)
        make_user(sessions, "unconfirmed", verified=False)
        make_user(sessions, "reader")
    finally:
        engine.dispose()
    with LiveServer(demo_settings, fixed_clock) as server:
        yield server.url


def _log_in(page: Any, site: str, login: str) -> None:
    page.goto(site + "/login")
    page.get_by_label("User name or mail address").fill(login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(site + "/")


def test_a_refused_upvote_is_explained_beside_the_button(site: str, page: Any) -> None:
    from playwright.sync_api import expect

    _log_in(page, site, "unconfirmed")
    page.goto(site + "/date/2026-06-12")
    button = page.locator("ol.cards > li").first.locator("button.vote-button")
    button.click()
    problem = page.locator("ol.cards > li").first.locator(".vote-problem")
    expect(problem).to_contain_text("Confirm your mail address")
    assert page.url == site + "/date/2026-06-12", "the reader stays on the page"
    assert button.locator(".votes-count").inner_text() == "118"
    screenshot(page, "vote-refused")


def test_an_upvote_updates_every_count_of_the_paper(site: str, page: Any) -> None:
    from playwright.sync_api import expect

    _log_in(page, site, "reader")
    page.goto(site + f"/papers/{HF_PAPER}")
    assert page.locator("#paper-upvotes").inner_text() == "118"
    here = page.locator("#votes [data-upvotes-minus]")
    assert here.inner_text() == "0"
    page.get_by_role("button", name="Upvote").click()
    expect(page.locator("#paper-upvotes")).to_have_text("119")
    expect(here).to_have_text("1")
    page.get_by_role("button", name="Upvoted").click()
    expect(page.locator("#paper-upvotes")).to_have_text("118")
    expect(here).to_have_text("0")
    assert page.problems == []


def _height(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollHeight"))


def test_the_compact_switch_works_in_place_and_is_kept(site: str, browser: Any) -> None:
    heights: dict[tuple[int, str], int] = {}
    page = browser.new_page()
    try:
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.context.clear_cookies()
            page.goto(site + "/date/2026-06-12")
            assert page.locator("ol.cards > li").count() == 30
            page.wait_for_load_state("load")
            heights[(width, "cards")] = _height(page)
            page.locator(".view-toggle").get_by_role("link", name="Compact").click()
            assert "is-compact" in (page.locator("ol.cards").get_attribute("class") or "")
            assert page.url == site + "/date/2026-06-12", "switched in place"
            heights[(width, "compact")] = _height(page)
            page.reload()  # the choice is kept
            assert "is-compact" in (page.locator("ol.cards").get_attribute("class") or "")
            screenshot(page, f"day-compact-{width}")
            page.locator(".view-toggle").get_by_role("link", name="Cards").click()
            page.reload()
            assert "is-compact" not in (page.locator("ol.cards").get_attribute("class") or "")
    finally:
        page.close()
    print("\n30-paper day, page height in px:", heights)
    for width in (1280, 390):
        assert heights[(width, "compact")] < 0.7 * heights[(width, "cards")]


def test_the_subscribe_form_starts_with_the_browsers_time_zone(site: str, browser: Any) -> None:
    context = browser.browser.new_context(timezone_id="Europe/Paris") if browser.browser else None
    if context is None:
        pytest.skip("this Playwright gives no way to open a context with another time zone")
    try:
        page = context.new_page()
        page.goto(site + "/subscribe")
        assert page.locator("#sub-timezone").input_value() == "Europe/Paris"
    finally:
        context.close()

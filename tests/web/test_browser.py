"""The site in a real browser: Debian's Chromium driven by Playwright against a real uvicorn server.

Covers what only a browser can tell: that the journey from the home page to a paper works by clicking
and typing, that formulas are MathML in the DOM, that the keyboard reaches every control, that the
content security policy is never violated, and that hostile text runs nothing. A screenshot of each
page goes to ``test-artifacts/`` for a person to look at.

Playwright is used with the system Chromium only (``executable_path``): no browser is downloaded.
``make test`` installs Chromium (``scripts/system-deps.sh``); without it these tests are skipped.
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dailypapers.config import Settings
from tests.live_server import LiveServer
from tests.web.support import build_test_index, fixed_clock
from tests.web.test_xss import EVIL_ID, EVIL_TITLE, add_evil_paper

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, "
    "[tabindex]:not([tabindex='-1'])"
)

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Chromium is not installed at /usr/bin/chromium (sh scripts/system-deps.sh installs it)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="Playwright for Python is not installed (pip install -e '.[test]')",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def site(demo_settings: Settings) -> Iterator[str]:
    add_evil_paper(demo_settings)
    build_test_index(demo_settings)
    with LiveServer(demo_settings, fixed_clock) as server:
        yield server.url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page()
    page.problems = []  # console errors (CSP violations among them) and dialogs
    page.on(
        "console",
        lambda m: page.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))

    def on_dialog(dialog: Any) -> None:
        page.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        yield page
    finally:
        page.close()


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_from_the_home_page_to_a_paper(site: str, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(site + "/")
    assert page.locator("h1").inner_text().startswith("Daily Papers")
    assert "31 July 2026" in page.locator("h1").inner_text()
    screenshot(page, "home")

    page.get_by_role("link", name="Previous day").click()
    page.wait_for_url(site + "/date/2026-06-12")
    assert page.locator("ol.cards > li").count() == 30
    screenshot(page, "previous-day")

    page.get_by_label("Search papers").fill("pebble game")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=pebble+game")
    first = page.locator("ol.results > li h2 a").first
    assert first.inner_text() == "Sparsity-certifying Graph Decompositions"
    assert page.locator("ol.results mark").count() >= 2
    screenshot(page, "search")

    first.click()
    page.wait_for_url(site + "/papers/0704.0002")
    formulas = page.locator("section.abstract math")
    assert formulas.count() == 3
    namespace = formulas.first.evaluate("element => element.namespaceURI")
    assert namespace == "http://www.w3.org/1998/Math/MathML"
    box = formulas.first.bounding_box()
    assert box is not None and box["width"] > 10 and box["height"] > 5
    screenshot(page, "paper")

    copy = page.get_by_role("button", name="Copy BibTeX")
    copy.click()
    # expect() polls from Playwright's own context; wait_for_function would need eval, which the CSP forbids.
    expect(page.locator(".copy-status")).not_to_have_text("")
    assert page.problems == []


def _tab_through(page: Any) -> None:
    """Press Tab until focus has gone round the page; assert every control was reached."""
    expected = page.evaluate(
        """selector => {
            const all = [...document.querySelectorAll(selector)].filter(el => {
                if (el.type === 'radio' && !el.checked) return false;  // one tab stop per radio group
                const style = getComputedStyle(el);
                return style.visibility !== 'hidden' && style.display !== 'none';
            });
            all.forEach((el, i) => el.setAttribute('data-focus-id', String(i)));
            return all.length;
        }""",
        FOCUSABLE,
    )
    assert expected > 5
    page.evaluate("document.activeElement && document.activeElement.blur()")
    reached: list[str] = []
    outlines: set[str] = set()
    for _ in range(expected + 10):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || el === document.body) return null;
                const style = getComputedStyle(el);
                const outline = style.outlineStyle + " " + style.outlineWidth;
                return [el.getAttribute("data-focus-id"), outline + " " + el.tagName + ":" + (el.type || "")];
            }"""
        )
        if focused is None:
            continue
        if focused[0] is not None:
            reached.append(focused[0])
        outlines.add(focused[1])
    missing = set(map(str, range(expected))) - set(reached)
    assert not missing, f"never focused: {missing}"
    # Focus is always visible: a 3px outline (style.css, :focus-visible).
    assert all(o.startswith("solid 3px") for o in outlines), outlines


@pytest.mark.parametrize(
    "path", ["/", "/papers/0704.0002", "/search?q=graphs&mode=bm25", "/trending", "/about"]
)
def test_the_keyboard_reaches_every_control(site: str, page: Any, path: str) -> None:
    page.goto(site + path)
    _tab_through(page)
    # On a freshly loaded page the first Tab stop is the skip link, and it leads to the content.
    page.goto(site + path)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    assert page.problems == []


def test_hostile_text_runs_nothing(site: str, page: Any) -> None:
    for path in ("/", f"/papers/{EVIL_ID}", "/search?q=alert+onerror&mode=bm25", "/trending"):
        page.goto(site + path)
        page.wait_for_load_state("load")
        assert page.get_by_text(EVIL_TITLE).count() >= 1
        # The only images are the ones the server draws (thumbnails, avatars), never one from paper text.
        sources = page.locator("img").evaluate_all("images => images.map(i => i.getAttribute('src'))")
        assert all(src.startswith(("/thumbnails/", "/avatars/")) for src in sources), sources
        page.mouse.move(10, 10)
        page.locator("body").hover()
    screenshot(page, "hostile-paper")
    assert page.problems == []


def test_small_screens_and_dark_mode(site: str, browser: Any) -> None:
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    try:
        page.goto(site + "/papers/0704.0002")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "no sideways scrolling on a phone"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(21, 26, 32)"
        screenshot(page, "paper-phone-dark")
        page.goto(site + "/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "home-phone-dark")
    finally:
        page.close()


def test_api_docs_render_offline(site: str, page: Any) -> None:
    page.goto(site + "/docs")
    page.locator(".opblock-summary-path", has_text="/api/daily_papers").first.wait_for(timeout=15000)
    screenshot(page, "docs")
    assert page.problems == []

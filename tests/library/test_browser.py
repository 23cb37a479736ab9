"""The library in a real browser (Debian's Chromium driven by Playwright) against a real uvicorn server.

A reader signs up, confirms the address with the link that arrives at a real SMTP server on loopback,
saves a paper from a card of the feed without the page reloading, finds it in the library, shares the
Saved collection, imports a BibTeX file into a new collection and, logged out, opens the shared
collection's public address. The content security policy must never be violated along the way.
Screenshots of the library, a collection and an import at 1280 and 390 pixels wide go to
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
from tests.community.support import HF_PAPER, Clock, load_hf_papers
from tests.digest.smtp import SmtpServer
from tests.live_server import LiveServer
from tests.web.test_browser import ARTIFACTS, CHROMIUM, browser, page, pytestmark  # noqa: F401

PASSWORD = "seven quiet lanterns glow"
OTHER_PAPER = "2606.13681"
ZOTERO_EXPORT = b"""@article{hu2026evoarena,
  title = {EvoArena},
  eprint = {2606.13681},
  archivePrefix = {arXiv},
}
@article{nobody1999,
  title = {A paper nobody has},
  author = {Nobody, Noone},
  doi = {10.5555/none},
  year = {1999},
}
"""


@pytest.fixture
def library_site(
    settings: Settings, sessions: sessionmaker[Session], shared_data: Path, smtp: SmtpServer
) -> Iterator[tuple[str, SmtpServer]]:
    load_hf_papers(sessions, shared_data)
    configured = smtp.settings_for(settings, secret="library-browser-tests-secret-0123456789-abcdefgh")
    with LiveServer(configured, Clock()) as server:
        yield server.url, smtp


def _shots(tab: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1280, 390):
        tab.set_viewport_size({"width": width, "height": 900})
        tab.screenshot(path=str(ARTIFACTS / f"library-{name}-{width}.png"), full_page=True)
    tab.set_viewport_size({"width": 1280, "height": 900})


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


def test_save_from_a_card_share_and_read_signed_out(library_site: tuple[str, SmtpServer], page: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base, smtp = library_site
    reloads: list[str] = []
    page.on("framenavigated", lambda frame: reloads.append(frame.url) if frame == page.main_frame else None)
    page.goto(base + "/signup")
    page.get_by_label("User name").fill("marie")
    page.get_by_label("Mail address").fill("marie@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("The password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(base + "/signup")
    page.goto(_verification_link(smtp, base))
    page.get_by_role("button", name="Confirm my address").click()
    page.goto(base + "/login")
    page.get_by_label("User name or mail address").fill("marie")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/")

    # Save from a card of the feed: the script sends the form and the button changes in place.
    card = page.locator("li.card", has=page.locator(f"h2 a[href='/papers/{HF_PAPER}']"))
    save = card.locator("button.save-button")
    expect(save).to_have_attribute("aria-pressed", "false")
    navigations = len(reloads)
    save.click()
    expect(save).to_have_attribute("aria-pressed", "true")
    expect(save.locator(".save-label")).to_have_text("Saved")
    assert len(reloads) == navigations, "saving reloaded the page"

    page.get_by_role("link", name="Library", exact=True).click()
    page.wait_for_url(base + "/library")
    row = page.locator("li.collection-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Saved")
    expect(row).to_contain_text("1 paper")
    expect(row).to_contain_text("private")
    _shots(page, "index")

    row.get_by_role("link", name="Saved").click()
    page.wait_for_url(base + "/u/marie/c/saved")
    expect(page.locator(f"li.card h2 a[href='/papers/{HF_PAPER}']")).to_have_count(1)
    page.locator("summary", has_text="Add a note").click()
    page.get_by_label("Your note on this paper").fill("Compare with last week's paper.\nSection 4 first.")
    page.get_by_role("button", name="Keep note").click()
    expect(page.locator("p.note-text")).to_contain_text("Section 4 first.")
    page.locator(".collection-tools").get_by_role("button", name="Share").click()
    expect(page.locator(".subtitle .badge")).to_have_text("shared")
    _shots(page, "collection")

    # A Zotero export into a new collection: the summary says what was found and lists what was not.
    page.goto(base + "/library")
    page.get_by_label("Name of the new collection").fill("From Zotero")
    page.locator("#import-file").set_input_files(
        files=[{"name": "zotero.bib", "mimeType": "text/plain", "buffer": ZOTERO_EXPORT}]
    )
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("p.import-counts")).to_have_text(
        "1 matched by arXiv id, 0 by DOI, 0 by title, 1 not found."
    )
    expect(page.locator("ol.unmatched li")).to_contain_text("A paper nobody has")
    _shots(page, "imported")
    page.get_by_role("link", name="Open the collection").click()
    page.wait_for_url(base + "/u/marie/c/from-zotero")
    expect(page.locator(f"li.card h2 a[href='/papers/{OTHER_PAPER}']")).to_have_count(1)

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(base + "/")
    page.goto(base + "/u/marie/c/saved")
    assert page.locator("h1").inner_text() == "Saved"
    expect(page.locator("p.subtitle")).to_contain_text("A collection of marie")
    expect(page.locator("p.note-text")).to_contain_text("Compare with last week's paper.")
    expect(page.locator("form[action^='/library/']")).to_have_count(0)
    _shots(page, "shared")
    assert page.problems == []

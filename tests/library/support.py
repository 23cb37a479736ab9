"""Helpers for the library tests: signed-in clients, the forms of a page, collections made directly."""

from __future__ import annotations

from typing import Any

import lxml.html
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.community import library
from dailypapers.models import User
from tests.community.support import NOW, form_fields


def post_form(client: TestClient, page_path: str, action: str, **values: str) -> Any:
    """Send the form of ``page_path`` that posts to ``action`` as a browser would, with ``values`` typed
    in, coming from that page (its address as the referer)."""
    fields = form_fields(client.get(page_path).text, action)
    fields.update(values)
    return client.post(
        action, data=fields, headers={"referer": f"http://testserver{page_path}"}, follow_redirects=False
    )


def make_collection(
    sessions: sessionmaker[Session],
    user: User,
    name: str = "Reading group",
    *,
    shared: bool = False,
    papers: tuple[str, ...] = (),
    notes: dict[str, str] | None = None,
) -> int:
    with sessions.begin() as session:
        made = library.create_collection(session, user=user, name=name, shared=shared, now=NOW)
        for paper_id in papers:
            note = (notes or {}).get(paper_id, "")
            library.add_paper(
                session, user=user, collection_id=made.id, paper_id=paper_id, note=note, now=NOW
            )
        return made.id


def save_buttons(html: str, paper_id: str) -> list[Any]:
    """The Save buttons of ``paper_id`` on a page."""
    tree = lxml.html.fromstring(html)
    return tree.xpath(f"//form[@class='save-form' and @action='/papers/{paper_id}/save']//button")

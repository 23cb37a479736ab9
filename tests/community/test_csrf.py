"""Every form that changes something refuses a post without this browser's CSRF token, with 403 and a
page that says what to do, before anything is written."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.community import discussion, library
from dailypapers.config import Settings
from dailypapers.models import (
    ApiToken,
    Collection,
    CollectionPaper,
    Comment,
    FeedEntry,
    ModerationAction,
    Subscription,
    User,
    UserSession,
    Vote,
)
from dailypapers.web import account_page, community, sign_in, submit, subscriptions
from dailypapers.web import library as library_pages
from tests.community.support import HF_PAPER, NOW, Clock, app_client, csrf_of, log_in, make_token, make_user
from tests.web.pagecheck import assert_page_hygiene, parse, text_of

FORM_ROUTERS = (
    sign_in.router,
    account_page.router,
    community.router,
    submit.router,
    subscriptions.router,
    library_pages.router,
)
# Posts whose secret token in the address is the whole credential: confirming a subscription from its mail,
# and RFC 8058's one-click unsubscribe, which a mail client sends without cookies or form fields.
TOKEN_IS_THE_CREDENTIAL = {"/subscriptions/confirm/{token}", "/subscriptions/unsubscribe/{token}"}


def post_routes() -> list[str]:
    paths = [
        route.path
        for router in FORM_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and "POST" in route.methods
    ]
    assert set(paths) >= TOKEN_IS_THE_CREDENTIAL and len(paths) >= 24
    return [path for path in paths if path not in TOKEN_IS_THE_CREDENTIAL]


def concrete(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: ids[m.group(1)], path)


COUNTED = (
    User,
    UserSession,
    ApiToken,
    Vote,
    Comment,
    ModerationAction,
    Subscription,
    FeedEntry,
    Collection,
    CollectionPaper,
)


def snapshot(sessions: sessionmaker[Session]) -> tuple[int, ...]:
    with sessions() as session:
        counts = [int(session.scalar(select(func.count()).select_from(model)) or 0) for model in COUNTED]
        removed = select(func.count()).select_from(Comment).where(Comment.status != "visible")
        return (*counts, int(session.scalar(removed) or 0))


@pytest.fixture
def world(papers: sessionmaker[Session]) -> dict[str, str]:
    admin = make_user(papers, "root_admin", role="admin")
    target = make_user(papers, "ada")
    with papers.begin() as session:
        comment_id = discussion.post_comment(
            session, user=target, paper_id=HF_PAPER, text="hello", parent_id=None, now=NOW
        )
    with papers.begin() as session:
        kept = library.create_collection(session, user=admin, name="Kept", now=NOW)
        library.add_paper(session, user=admin, collection_id=kept.id, paper_id=HF_PAPER, now=NOW)
        collection_id = kept.id
    make_token(papers, admin)
    with papers() as session:
        token_id = session.scalar(select(ApiToken.id))
    return {
        "paper_id": HF_PAPER,
        "comment_id": str(comment_id),
        "token_id": str(token_id),
        "collection_id": str(collection_id),
        "username": "ada",
        "token": "WzEsImFkYUBleGFtcGxlLm9yZyIsMTc4NTU4NTYwMF0.forged",
    }


@pytest.mark.parametrize("token", ["", "0" * 40, "from-another-session"])
def test_every_form_refuses_a_post_without_a_valid_token(
    settings: Settings, papers: sessionmaker[Session], clock: Clock, world: dict[str, str], token: str
) -> None:
    with app_client(settings, clock) as client, app_client(settings, clock) as other:
        assert log_in(client, "root_admin").status_code == 303
        assert log_in(other, "ada").status_code == 303
        if token == "from-another-session":
            token = csrf_of(other.get("/account").text)
        before = snapshot(papers)
        for path in post_routes():
            url = concrete(path, world)
            fields = {
                "text": "x",
                "note": "x",
                "shared": "yes",
                "confirmed": "yes",
                "action": "add",
                "reason": "r",
                "role": "user",
                "name": "n",
                "paper": "2104.12255",
                "login": "ada",
                "password": "quiet orange lantern 42",
                "username": "newname",
                "email": "new@example.org",
                "password_again": "quiet orange lantern 42",
                "current_password": "quiet orange lantern 42",
                "new_password": "another fine passphrase",
                "new_password_again": "another fine passphrase",
            }
            if token:
                fields["csrf_token"] = token
            response = client.post(url, data=fields, follow_redirects=False)
            assert response.status_code == 403, (url, response.status_code)
            tree = parse(response)
            assert_page_hygiene(tree)
            assert "did not come from this site" in text_of(tree.xpath("//p[@class='error-message']")[0])
        assert snapshot(papers) == before
        assert client.get("/account").status_code == 200  # still logged in: logout was refused too


def test_anonymous_forms_are_bound_to_their_cookie(client: TestClient, papers: sessionmaker[Session]) -> None:
    """Log-in CSRF: a log-in form posted from another site (which cannot read our cookie) is refused."""
    make_user(papers, "ada")
    page = client.get("/login")
    token = csrf_of(page.text)
    assert "dp_csrf" in page.headers["set-cookie"]
    fields = {"csrf_token": token, "login": "ada", "password": "quiet orange lantern 42"}
    with TestClient(client.app) as attacker_browser:
        assert attacker_browser.post("/login", data=fields).status_code == 403
    assert client.post("/login", data=fields, follow_redirects=False).status_code == 303
    # After logging in, the pre-log-in token is worthless.
    assert client.post("/logout", data={"csrf_token": token}).status_code == 403

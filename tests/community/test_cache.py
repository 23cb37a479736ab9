"""Page caching stays correct with accounts: nothing personal enters the shared cache, nothing from it
reaches a signed-in visitor, and votes and comment edits reach the cached pages."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from tests.community.support import HF_PAPER, Clock, app_client, form_fields, log_in, make_user
from tests.web.pagecheck import parse, text_of

PAGES = ["/", "/date/2026-07-31", "/trending", f"/papers/{HF_PAPER}", "/about", "/search?q=video"]


def test_personal_pages_bypass_the_shared_cache(
    settings: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    make_user(papers, "ada")
    with app_client(settings, clock) as app_client_:
        app = app_client_.app
        with TestClient(app) as ada, TestClient(app) as anonymous:
            log_in(ada, "ada")
            for path in PAGES:
                warm = anonymous.get(path)  # the shared page is cached first
                assert warm.status_code == 200, path
                assert "etag" in warm.headers
                mine = ada.get(path)
                assert mine.headers["cache-control"] == "private, no-store", path
                assert "etag" not in mine.headers
                assert "Log out" in mine.text and "ada" in text_of(
                    parse(mine).xpath("//nav[@aria-label='Account']")[0]
                )
                shared = anonymous.get(path)
                assert "Log out" not in shared.text and "csrf_token" not in shared.text, path
                assert "Cookie" in shared.headers["vary"]


def test_cached_pages_follow_votes_and_comment_edits(
    client: TestClient, settings: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    make_user(papers, "ada")
    with app_client(settings, clock) as anonymous:
        before = parse(anonymous.get(f"/papers/{HF_PAPER}"))
        assert text_of(before.xpath("//p[@id='paper-upvotes']")[0]) == "3"
        log_in(client, "ada")
        page = client.get(f"/papers/{HF_PAPER}").text
        client.post(f"/papers/{HF_PAPER}/upvote", data=form_fields(page, f"/papers/{HF_PAPER}/upvote"))
        fields = form_fields(page, f"/papers/{HF_PAPER}/comments")
        fields["text"] = "first words"
        comment = client.post(f"/papers/{HF_PAPER}/comments", data=fields, follow_redirects=False)
        comment_id = comment.headers["location"].rsplit("-", 1)[1]
        after = parse(anonymous.get(f"/papers/{HF_PAPER}"))
        assert text_of(after.xpath("//p[@id='paper-upvotes']")[0]) == "4"
        assert "first words" in text_of(after)
        fields = form_fields(client.get(f"/papers/{HF_PAPER}").text, f"/comments/{comment_id}/edit")
        fields["text"] = "second thoughts"
        client.post(f"/comments/{comment_id}/edit", data=fields)
        edited = text_of(parse(anonymous.get(f"/papers/{HF_PAPER}")))
        assert "second thoughts" in edited and "first words" not in edited

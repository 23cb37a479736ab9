"""The API's writes with personal API tokens, and its errors: JSON always, 401 with a Bearer challenge."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community import moderation
from dailypapers.config import Settings
from dailypapers.models import FeedEntry
from tests.community.support import (
    HF_PAPER,
    NOW,
    Clock,
    app_client,
    form_fields,
    log_in,
    make_token,
    make_user,
)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_writes_need_a_valid_token(client: TestClient, papers: sessionmaker[Session]) -> None:
    ada = make_user(papers, "ada")
    token = make_token(papers, ada)
    for method, path, body in (
        ("POST", f"/api/papers/{HF_PAPER}/upvote", None),
        ("DELETE", f"/api/papers/{HF_PAPER}/upvote", None),
        ("POST", f"/api/papers/{HF_PAPER}/comments", {"text": "hi"}),
        ("POST", "/api/papers/submit", {"id": HF_PAPER}),
    ):
        for headers in ({}, bearer("dp_not-a-real-token"), {"Authorization": f"Basic {token}"}):
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.headers["content-type"] == "application/json"
            assert response.headers["www-authenticate"].startswith('Bearer realm="Daily Papers"')
            assert response.json()["status"] == 401
    # Cookies do not count: a signed-in browser cannot write through the API.
    log_in(client, "ada")
    assert client.post(f"/api/papers/{HF_PAPER}/upvote").status_code == 401


def test_upvote_and_take_back(client: TestClient, papers: sessionmaker[Session]) -> None:
    token = make_token(papers, make_user(papers, "ada"))
    first = client.post(f"/api/papers/{HF_PAPER}/upvote", headers=bearer(token))
    assert first.status_code == 200 and first.json() == {"paperId": HF_PAPER, "upvotes": 4, "upvoted": True}
    assert client.post(f"/api/papers/{HF_PAPER}/upvote", headers=bearer(token)).json()["upvotes"] == 4
    versioned = client.post(f"/api/papers/{HF_PAPER}v2/upvote", headers=bearer(token))
    assert versioned.json()["upvotes"] == 4  # a versioned id is the same paper
    gone = client.delete(f"/api/papers/{HF_PAPER}/upvote", headers=bearer(token))
    assert gone.json() == {"paperId": HF_PAPER, "upvotes": 3, "upvoted": False}
    assert client.delete(f"/api/papers/{HF_PAPER}/upvote", headers=bearer(token)).json()["upvotes"] == 3
    missing = client.post("/api/papers/9999.99999/upvote", headers=bearer(token))
    assert missing.status_code == 404 and missing.json()["status"] == 404


def test_comments_and_replies(client: TestClient, papers: sessionmaker[Session]) -> None:
    token = make_token(papers, make_user(papers, "ada"))
    created = client.post(
        f"/api/papers/{HF_PAPER}/comments", json={"text": "Nice: $a^2+b^2=c^2$"}, headers=bearer(token)
    )
    assert created.status_code == 201
    comment = created.json()
    assert comment["author"] == "ada" and comment["status"] == "visible" and "parentId" not in comment
    assert "<math" in comment["html"]
    reply = client.post(
        f"/api/papers/{HF_PAPER}/comments",
        json={"text": "Agreed", "parent_id": comment["id"]},
        headers=bearer(token),
    ).json()
    assert reply["parentId"] == comment["id"]
    listing = client.get(f"/api/papers/{HF_PAPER}/comments").json()
    assert listing["numComments"] == 4 and [c["id"] for c in listing["comments"]] == [
        comment["id"],
        reply["id"],
    ]
    for body, field in (
        ({"text": ""}, "text"),
        ({"text": "x" * 10_001}, "text"),
        ({}, "text"),
        ({"text": "x", "parent_id": 0}, "parent_id"),
        ({"text": "x", "parent_id": 10**12}, "parent_id"),
        ({"text": "x", "parent_id": 999_999}, "parent_id"),
        ({"text": "   \x00  "}, "text"),
    ):
        response = client.post(f"/api/papers/{HF_PAPER}/comments", json=body, headers=bearer(token))
        assert response.status_code == 422, body
        answer = response.json()
        assert answer["status"] == 422
        assert any(field in problem or "Write something" in problem for problem in answer["problems"]), answer
    bad_json = client.post(
        f"/api/papers/{HF_PAPER}/comments",
        content=b"{not json",
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 422


def test_banned_unconfirmed_and_revoked(client: TestClient, papers: sessionmaker[Session]) -> None:
    ada = make_user(papers, "ada")
    newbie = make_user(papers, "newbie", verified=False)
    ada_token = make_token(papers, ada)
    newbie_token = make_token(papers, newbie)
    refused = client.post(f"/api/papers/{HF_PAPER}/upvote", headers=bearer(newbie_token))
    assert refused.status_code == 403 and "Confirm your mail address" in refused.json()["error"]
    with papers.begin() as session:
        moderation.ban(session, moderator=None, target=ada, reason="spam", now=NOW)
    assert client.post(f"/api/papers/{HF_PAPER}/upvote", headers=bearer(ada_token)).status_code == 403
    with papers.begin() as session:
        moderation.unban(session, moderator=None, target=ada, reason=None, now=NOW)
    assert client.post(f"/api/papers/{HF_PAPER}/upvote", headers=bearer(ada_token)).status_code == 200
    # Revoking from the account page.
    log_in(client, "ada")
    page = client.get("/account").text
    with papers() as session:
        token_id = store.api_tokens(session, user_id=ada.id)[0].id
    fields = form_fields(page, f"/account/tokens/{token_id}/revoke")
    client.post(f"/account/tokens/{token_id}/revoke", data=fields)
    assert client.post(f"/api/papers/{HF_PAPER}/upvote", headers=bearer(ada_token)).status_code == 401


def test_a_token_is_shown_once_and_stored_hashed(client: TestClient, papers: sessionmaker[Session]) -> None:
    make_user(papers, "ada")
    log_in(client, "ada")
    fields = form_fields(client.get("/account").text, "/account/tokens")
    fields["name"] = "my script"
    page = client.post("/account/tokens", data=fields)
    assert page.headers["cache-control"].startswith("no-store")
    token = page.text.split('id="new-token" class="token-value" type="text" value="', 1)[1].split('"', 1)[0]
    assert token.startswith("dp_") and len(token) > 40
    assert token not in client.get("/account").text
    with papers() as session:
        stored = store.api_tokens(session, user_id=1)[0]
    assert stored.token_hash != token and len(stored.token_hash) == 64 and token.startswith(stored.prefix)
    assert client.post(f"/api/papers/{HF_PAPER}/upvote", headers=bearer(token)).status_code == 200


def test_openapi_documents_the_token(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["apiToken"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "dp_...")
    assert "dailypapers users token NAME" in scheme["description"]
    upvote = spec["paths"]["/api/papers/{paper_id}/upvote"]["post"]
    assert upvote["security"] == [{"apiToken": []}]
    assert {"401", "403", "404", "422"} <= set(upvote["responses"])
    assert "security" not in spec["paths"]["/api/papers/{paper_id}/comments"]["get"]
    submit = spec["paths"]["/api/papers/submit"]["post"]
    assert {"409", "429"} <= set(submit["responses"])


def test_submit_answers_409_when_on_the_feed_and_429_past_the_limit(
    settings: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    token = make_token(papers, make_user(papers, "ada"))
    with papers.begin() as session:
        session.execute(
            FeedEntry.__table__.delete().where(FeedEntry.paper_id.in_(["2607.27958", "2607.28582"]))
        )
    limited = settings.model_copy(update={"submissions_per_day": 1})
    with app_client(limited, clock) as client:
        on_feed = client.post("/api/papers/submit", json={"id": HF_PAPER}, headers=bearer(token))
        assert on_feed.status_code == 409
        assert "submitted by Consonnm" in on_feed.json()["error"]
        added = client.post("/api/papers/submit", json={"id": "arXiv:2607.27958v1"}, headers=bearer(token))
        assert added.status_code == 201
        assert added.json() == {
            "id": "2607.27958",
            "title": added.json()["title"],
            "day": "2026-08-01",
            "submittedBy": "ada",
            "url": "http://testserver/papers/2607.27958",
        }
        over = client.post("/api/papers/submit", json={"id": "2607.28582"}, headers=bearer(token))
        assert over.status_code == 429 and int(over.headers["retry-after"]) == 12 * 3600
        bad = client.post("/api/papers/submit", json={"id": "not an id"}, headers=bearer(token))
        assert bad.status_code == 422 and bad.json()["problems"][0].startswith("id: ")

"""The hourly comment limit of an account: on the page (a message saying when), in the API (429 with
Retry-After), exact under concurrency on both databases, and none for moderators."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.community import discussion
from dailypapers.config import Settings
from dailypapers.errors import TooManyRequests
from dailypapers.models import Comment, User
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

PAPER_PATH = f"/papers/{HF_PAPER}"
LIMIT = 3


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return settings.model_copy(update={"comments_per_hour": LIMIT})


def _post(client: TestClient, text: str):  # type: ignore[no-untyped-def]
    fields = form_fields(client.get(PAPER_PATH).text, f"{PAPER_PATH}/comments")
    fields["text"] = text
    return client.post(f"{PAPER_PATH}/comments", data=fields, follow_redirects=False)


def _comments(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Comment)) or 0)


def test_the_page_refuses_comments_past_the_hourly_limit_and_says_when(
    limited: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    make_user(papers, "ada")
    with app_client(limited, clock) as client:
        log_in(client, "ada")
        for n in range(LIMIT):
            assert _post(client, f"comment {n}").status_code == 303
            clock.advance(minutes=10)
        refused = _post(client, "one too many")
        assert refused.status_code == 429
        assert "You have posted 3 comments in the last hour" in refused.text
        assert "You can post again in 30 minutes" in refused.text
        assert int(refused.headers["retry-after"]) == 30 * 60
        assert "Traceback" not in refused.text
        # Deleting a comment does not give its place back.
        with papers.begin() as session:
            newest = session.scalars(select(Comment).order_by(Comment.id.desc())).first()
            assert newest is not None
            store.delete_comment(session, comment_id=newest.id, user_id=newest.user_id, now=clock.now)
        clock.advance(minutes=29)
        assert _post(client, "still too soon").status_code == 429
        clock.advance(minutes=1)
        assert _post(client, "the first one is an hour old now").status_code == 303
    assert _comments(papers) == LIMIT + 1


def test_the_api_answers_429_with_retry_after(
    limited: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    ada = make_user(papers, "ada")
    token = make_token(papers, ada)
    moe = make_user(papers, "moe", role="moderator")
    moe_token = make_token(papers, moe)
    with app_client(limited, clock) as client:
        for n in range(LIMIT):
            answer = client.post(
                f"/api/papers/{HF_PAPER}/comments",
                json={"text": f"comment {n}"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 201
        refused = client.post(
            f"/api/papers/{HF_PAPER}/comments",
            json={"text": "one too many"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert refused.status_code == 429
        assert refused.json()["status"] == 429 and "in the last hour" in refused.json()["error"]
        assert int(refused.headers["retry-after"]) == 3600
        # Moderators have no limit.
        for n in range(LIMIT + 2):
            answer = client.post(
                f"/api/papers/{HF_PAPER}/comments",
                json={"text": f"moderator note {n}"},
                headers={"Authorization": f"Bearer {moe_token}"},
            )
            assert answer.status_code == 201
    assert _comments(papers) == 2 * LIMIT + 2


def test_comments_posted_at_once_never_pass_the_limit(papers: sessionmaker[Session]) -> None:
    """Twelve comments at the same moment from threads of their own, each in its own transaction:
    exactly the limit gets through, on SQLite and PostgreSQL alike."""
    ada = make_user(papers, "ada")
    start = threading.Barrier(12)

    def post(n: int) -> str:
        with papers() as session:
            user = session.get(User, ada.id)
        assert user is not None
        start.wait()
        try:
            with papers.begin() as session:
                discussion.post_comment(
                    session,
                    user=user,
                    paper_id=HF_PAPER,
                    text=f"at once {n}",
                    parent_id=None,
                    now=NOW,
                    per_hour=LIMIT,
                )
        except TooManyRequests:
            return "refused"
        return "posted"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(post, range(12)))
    assert outcomes.count("posted") == LIMIT and outcomes.count("refused") == 12 - LIMIT
    assert _comments(papers) == LIMIT

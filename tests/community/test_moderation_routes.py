"""The moderation forms on a profile: ban, unban and role each do their own decision through the site,
refuse a second ban, and answer 404 for an account that does not exist."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.models import ModerationAction, User
from tests.community.support import csrf_of, log_in, make_user


def _account(sessions: sessionmaker[Session], username: str) -> User:
    with sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return user


def _decisions(sessions: sessionmaker[Session]) -> list[tuple[str, str | None]]:
    with sessions() as session:
        rows = session.scalars(select(ModerationAction).order_by(ModerationAction.id))
        return [(row.action, row.reason) for row in rows]


def test_ban_unban_and_role_each_do_their_own_decision(
    client: TestClient, papers: sessionmaker[Session]
) -> None:
    make_user(papers, "root_admin", role="admin")
    make_user(papers, "ada")
    assert log_in(client, "root_admin").status_code == 303
    token = csrf_of(client.get("/u/ada").text)

    banned = client.post("/u/ada/ban", data={"csrf_token": token, "reason": "spam"}, follow_redirects=False)
    assert banned.status_code == 303 and banned.headers["location"] == "/u/ada"
    assert _account(papers, "ada").is_banned
    again = client.post("/u/ada/ban", data={"csrf_token": token, "reason": "spam"}, follow_redirects=False)
    assert again.status_code == 409

    unbanned = client.post(
        "/u/ada/unban", data={"csrf_token": token, "reason": "sorry"}, follow_redirects=False
    )
    assert unbanned.status_code == 303
    assert not _account(papers, "ada").is_banned

    promoted = client.post(
        "/u/ada/role", data={"csrf_token": token, "role": "moderator"}, follow_redirects=False
    )
    assert promoted.status_code == 303
    assert _account(papers, "ada").role == "moderator"
    actions = [action for action, _ in _decisions(papers)]
    assert actions[:2] == ["ban", "unban"] and len(actions) == 3

    missing = client.post("/u/nobody/ban", data={"csrf_token": token, "reason": "x"}, follow_redirects=False)
    assert missing.status_code == 404
    assert len(_decisions(papers)) == 3

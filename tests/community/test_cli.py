"""``dailypapers users``: create (password from stdin), token, list, ban and unban, role."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.models import ModerationAction, User
from tests.community.support import HF_PAPER, PASSWORD, log_in


def run(env: dict[str, str], *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env=env, input=stdin)


def test_users_commands(cli_env: dict[str, str], client: TestClient, papers: sessionmaker[Session]) -> None:
    created = run(
        cli_env,
        "users",
        "create",
        "ada",
        "--email",
        "Ada@Example.org",
        "--role",
        "moderator",
        stdin=PASSWORD + "\n",
    )
    assert created.exit_code == 0, created.output
    assert "Created ada (moderator, ada@example.org)" in created.output
    again = run(cli_env, "users", "create", "ada", "--email", "other@example.org", stdin=PASSWORD + "\n")
    assert again.exit_code != 0 and "taken" in again.output and "Traceback" not in again.output
    weak = run(cli_env, "users", "create", "bob", "--email", "bob@example.org", stdin="password123\n")
    assert weak.exit_code != 0 and "common passwords" in weak.output
    no_password = run(cli_env, "users", "create", "bob", "--email", "bob@example.org", stdin="")
    assert no_password.exit_code == 78

    token = run(cli_env, "users", "token", "ada")
    assert token.exit_code == 0
    value = token.stdout.strip()
    assert value.startswith("dp_")
    voted = client.post(f"/api/papers/{HF_PAPER}/upvote", headers={"Authorization": f"Bearer {value}"})
    assert voted.status_code == 200

    listed = run(cli_env, "users", "list", "--json")
    rows = json.loads(listed.stdout)
    assert [(r["username"], r["role"], r["verified"], r["banned"]) for r in rows] == [
        ("ada", "moderator", True, False)
    ]
    assert "ada" in run(cli_env, "users", "list").stdout

    assert log_in(client, "ada").status_code == 303
    banned = run(cli_env, "users", "ban", "ada", "--reason", "testing")
    assert banned.exit_code == 0, banned.output
    assert client.get("/account", follow_redirects=False).status_code == 303
    assert (
        client.post(
            f"/api/papers/{HF_PAPER}/upvote", headers={"Authorization": f"Bearer {value}"}
        ).status_code
        == 403
    )
    assert run(cli_env, "users", "ban", "ada").exit_code != 0  # already banned: says so
    assert run(cli_env, "users", "unban", "ada").exit_code == 0
    assert run(cli_env, "users", "role", "ada", "admin").exit_code == 0
    assert run(cli_env, "users", "token", "nobody").exit_code == 66
    with papers() as session:
        assert session.scalar(select(User.role)) == "admin"
        log = session.scalars(select(ModerationAction.action).order_by(ModerationAction.id)).all()
        assert log == ["ban", "unban", "set_role"]
        assert session.scalars(select(ModerationAction.moderator_id)).all() == [None, None, None]

"""``dailypapers subscribers`` and ``dailypapers digest preview/send --dry-run`` through Typer's runner."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import time_machine
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.config import Settings
from dailypapers.models import OutboxMessage
from tests.digest.conftest import SATURDAY
from tests.digest.smtp import SmtpServer
from tests.digest.test_send import cli_mail_env


def run(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), env={**env, "COLUMNS": "200"}, terminal_width=200)
    assert result.exit_code == code, result.output
    return result.output


def test_subscribers_add_list_and_remove(
    papers: sessionmaker[Session], mail_settings: Settings, smtp: SmtpServer, cli_env: dict[str, str]
) -> None:
    env = cli_mail_env(cli_env, mail_settings)
    with time_machine.travel(SATURDAY):
        out = run(
            env, "subscribers", "add", "Ada@Example.org", "--name", "Ada", "-c", "cs.LG", "-k", "diffusion"
        )
        assert "waiting for confirmation" in out and "Mail sent" in out
        run(
            env,
            "subscribers",
            "add",
            "bob@example.org",
            "--confirmed",
            "--frequency",
            "weekly",
            "--papers",
            "5",
        )
    (confirmation,) = smtp.sink.messages()
    assert confirmation["Subject"] == "Confirm your subscription to Daily Papers"
    listed = json.loads(run(env, "subscribers", "list", "--json"))
    assert [(s["email"], s["status"], s["frequency"]) for s in listed] == [
        ("ada@example.org", "pending", "daily"),
        ("bob@example.org", "active", "weekly"),
    ]
    table = run(env, "subscribers", "list")
    assert "ada@example.org" in table and "cs.LG" in table
    assert "Removed ada@example.org" in run(env, "subscribers", "remove", "ADA@example.org")
    assert "not subscribed" in run(env, "subscribers", "remove", "ada@example.org", code=66)


def test_bad_input_is_one_line_with_an_exit_code(
    engine: Engine, mail_settings: Settings, smtp: SmtpServer, cli_env: dict[str, str]
) -> None:
    env = cli_mail_env(cli_env, mail_settings)
    out = run(env, "subscribers", "add", "not-an-address", "--timezone", "Mars/Base", code=65)
    assert out.count("\n") == 1 and out.startswith("Error: cannot subscribe")
    out = run(env, "digest", "send", "--to", "nobody@example.org", code=66)
    assert out.count("\n") == 1


def test_sending_real_mail_with_a_weak_secret_is_refused(
    engine: Engine, mail_settings: Settings, smtp: SmtpServer, cli_env: dict[str, str]
) -> None:
    env = {**cli_mail_env(cli_env, mail_settings), "DAILYPAPERS_SECRET_KEY": "changeme"}
    out = run(env, "digest", "send", code=78)
    assert "DAILYPAPERS_SECRET_KEY" in out and out.count("\n") == 1


def test_preview_writes_an_eml_and_dry_run_writes_nothing(
    papers: sessionmaker[Session],
    mail_settings: Settings,
    smtp: SmtpServer,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    env = cli_mail_env(cli_env, mail_settings)
    run(env, "subscribers", "add", "ada@example.org", "--confirmed", "--papers", "4")
    eml = tmp_path / "digest.eml"
    with time_machine.travel(SATURDAY):
        run(env, "digest", "preview", "--to", "ada@example.org", "--date", "2026-06-12", "--out", str(eml))
        printed = run(env, "digest", "preview")
        plan = json.loads(run(env, "digest", "send", "--dry-run", "--date", "2026-06-12", "--json"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Daily Papers: 4 trending papers of 31 July 2026".replace(
        "31 July", "12 June"
    )
    assert "Trending papers of 31 July 2026" in printed  # the newest feed day, for a sample reader
    assert plan["would_compose"] == 1 and len(plan["digests"][0]["papers"]) == 4
    with papers() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
    assert smtp.sink.messages() == []

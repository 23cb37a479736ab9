"""The ``users`` commands: make accounts, give them API tokens, list, ban and unban them, set roles.

The operator runs these, so what they do needs no moderator: bans and role changes are written to the
moderation log with "operator (command line)" as who did it. A password is read from a hidden prompt,
asked twice, or, when stdin is not a terminal (a script, a pipe), from its first line.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from dailypapers import store
from dailypapers.cli.common import AsJson, Group, app, console, print_json, runtime
from dailypapers.community import accounts, moderation
from dailypapers.community.passwords import password_problem
from dailypapers.errors import ConfigurationError, InvalidInput
from dailypapers.models import ROLES

users_app = typer.Typer(cls=Group, help="Manage accounts: create, tokens, list, ban.", no_args_is_help=True)

Username = Annotated[str, typer.Argument(help="The account's user name.")]
Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the moderation log).")]


def _now() -> datetime:
    return datetime.now(UTC)


def _read_password(username: str, email: str) -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ConfigurationError("no password on stdin: give it as the first line, or run in a terminal")
        return line
    while True:
        password = str(typer.prompt("Password", hide_input=True))
        if problem := password_problem(password, username=username, email=email):
            console.print(f"[yellow]{problem}[/]", highlight=False)
            continue
        if typer.prompt("The password again", hide_input=True) == password:
            return password
        console.print("[yellow]The two passwords are not the same; again.[/]")


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    username: Username,
    email: Annotated[
        str, typer.Option("--email", help="Mail address; made as confirmed (you vouch for it).")
    ],
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")] = "user",
) -> None:
    """Make an account. The password is asked for (hidden, twice), or read from stdin."""
    rt = runtime(ctx)
    address = accounts.clean_email(email)
    if problem := accounts.username_problem(username):
        raise InvalidInput({"username": f"{username!r}: {problem}"})
    password = _read_password(username, address)
    with rt.sessions.begin() as session:
        user = accounts.sign_up(
            session, username=username, email=address, password=password, now=_now(), role=role, verified=True
        )
    console.print(f"Created {user.username} ({user.role}, {user.email}).", highlight=False)


@users_app.command("token")
def users_token(
    ctx: typer.Context,
    username: Username,
    name: Annotated[str, typer.Option("--name", help="A name to tell the token apart.")] = "command line",
) -> None:
    """Print a new API token for the account (only its hash is kept: save it now)."""
    rt = runtime(ctx)
    with rt.sessions.begin() as session:
        user = accounts.require_user(session, username=username)
        token = accounts.issue_api_token(session, user=user, name=name, now=_now())
    sys.stdout.write(token + "\n")


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Every account, with its role and state."""
    rt = runtime(ctx)
    with rt.session() as session:
        users = store.list_users(session)
    rows = [
        {
            "username": u.username,
            "email": u.email,
            "role": u.role,
            "verified": u.is_verified,
            "banned": u.is_banned,
            "created": u.created_at.date().isoformat(),
            "last_login": u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else None,
        }
        for u in users
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(users)} account{'s' if len(users) != 1 else ''}", title_justify="left")
    for column in ("user", "mail", "role", "confirmed", "state", "since", "last log-in"):
        table.add_column(column)
    for user in users:
        table.add_row(
            Text(user.username),  # Text, not markup: names are typed by their owners
            user.email,
            user.role,
            "yes" if user.is_verified else "no",
            Text("banned", style="red") if user.is_banned else "active",
            user.created_at.date().isoformat(),
            user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "never",
        )
    console.print(table)


@users_app.command("ban")
def users_ban(ctx: typer.Context, username: Username, reason: Reason = "") -> None:
    """Ban an account: its sessions end and its API tokens stop working."""
    rt = runtime(ctx)
    with rt.sessions.begin() as session:
        user = accounts.require_user(session, username=username)
        moderation.ban(session, moderator=None, target=user, reason=reason, now=_now())
    console.print(f"Banned {user.username}.", highlight=False)


@users_app.command("unban")
def users_unban(ctx: typer.Context, username: Username, reason: Reason = "") -> None:
    """Lift a ban."""
    rt = runtime(ctx)
    with rt.sessions.begin() as session:
        user = accounts.require_user(session, username=username)
        moderation.unban(session, moderator=None, target=user, reason=reason, now=_now())
    console.print(f"Unbanned {user.username}.", highlight=False)


@users_app.command("role")
def users_role(
    ctx: typer.Context,
    username: Username,
    role: Annotated[str, typer.Argument(help=f"One of {', '.join(ROLES)}.")],
) -> None:
    """Make an account a user, moderator or admin."""
    rt = runtime(ctx)
    with rt.sessions.begin() as session:
        user = accounts.require_user(session, username=username)
        moderation.set_role(session, admin=None, target=user, role=role, now=_now())
    console.print(f"{username} is now {role}.", highlight=False)


app.add_typer(users_app, name="users")


__all__ = ["users_app"]

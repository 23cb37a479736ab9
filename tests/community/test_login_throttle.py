"""The log-in throttle under real concurrency: a burst of parallel wrong passwords against a live
server, and the library from many threads at once, on SQLite and PostgreSQL alike.

Each attempt is counted in the statement that checks the lockout, so a burst gets exactly as many
tries as the limit allows, the lockout stays short, and the owner, from another address, gets in.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.community import accounts
from dailypapers.config import Settings
from dailypapers.errors import LoginFailed, TooManyRequests
from dailypapers.models import LoginThrottle
from tests.community.support import NOW, PASSWORD, Clock, make_user
from tests.live_server import LiveServer

BURST = 40
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


def _login_form(client: httpx.Client) -> str:
    page = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _failures(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {row.key: row.failures for row in session.scalars(select(LoginThrottle))}


def test_a_burst_of_parallel_wrong_passwords_gets_only_the_limit(
    settings: Settings, papers: sessionmaker[Session]
) -> None:
    ada = make_user(papers, "ada")
    limit = settings.login_failures_per_account
    with LiveServer(settings, Clock()) as server:
        # uvicorn takes the client's address from X-Forwarded-For when the proxy is on loopback.
        clients = [
            httpx.Client(base_url=server.url, headers={"X-Forwarded-For": ATTACKER}, timeout=60)
            for _ in range(BURST)
        ]
        tokens = [_login_form(client) for client in clients]
        start = threading.Barrier(BURST)

        def attempt(n: int) -> httpx.Response:
            start.wait()
            form = {"csrf_token": tokens[n], "login": "ada", "password": f"wrong guess {n:02d}", "next": "/"}
            return clients[n].post("/login", data=form)

        try:
            with ThreadPoolExecutor(max_workers=BURST) as pool:
                answers = list(pool.map(attempt, range(BURST)))
        finally:
            for client in clients:
                client.close()
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [400] * (limit - 1) + [429] * (BURST - limit + 1)
        # The lockout is the first step of the back-off, not the one of 40 counted failures.
        waits = {int(answer.headers["retry-after"]) for answer in answers if answer.status_code == 429}
        assert waits == {int(settings.login_lockout_seconds)}
        assert _failures(papers)[f"pair:account:{ada.id}|{ATTACKER}"] == limit

        with httpx.Client(base_url=server.url, headers={"X-Forwarded-For": ATTACKER}) as attacker:
            form = {"csrf_token": _login_form(attacker), "login": "ada", "password": PASSWORD, "next": "/"}
            assert attacker.post("/login", data=form).status_code == 429  # even the right password
        with httpx.Client(base_url=server.url, headers={"X-Forwarded-For": OWNER}) as owner:
            form = {"csrf_token": _login_form(owner), "login": "ada", "password": PASSWORD, "next": "/"}
            answer = owner.post("/login", data=form)
            assert answer.status_code == 303, answer.text  # the owner is not locked out


def test_the_check_and_the_count_are_one_step_in_the_library(
    settings: Settings, papers: sessionmaker[Session]
) -> None:
    """The library from many threads at once, each attempt in its own transactions."""
    ada = make_user(papers, "ada")
    start = threading.Barrier(BURST)

    def attempt(n: int) -> str:
        start.wait()
        try:
            accounts.log_in(
                papers, settings, login="ada", password=f"guess {n}", client_address=ATTACKER, now=NOW
            )
        except LoginFailed:
            return "checked"
        except TooManyRequests as exc:
            return f"refused {exc.retry_after:.0f}"
        return "logged in"

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        outcomes = list(pool.map(attempt, range(BURST)))
    limit = settings.login_failures_per_account
    assert outcomes.count("checked") == limit - 1
    assert outcomes.count("refused 60") == BURST - limit + 1
    failures = _failures(papers)
    assert failures[f"pair:account:{ada.id}|{ATTACKER}"] == limit
    assert failures[f"address:{ATTACKER}"] == limit
    user = accounts.log_in(papers, settings, login="ada", password=PASSWORD, client_address=OWNER, now=NOW)
    assert user.id == ada.id


def test_the_wait_doubles_up_to_the_longest_lockout(
    settings: Settings, papers: sessionmaker[Session]
) -> None:
    make_user(papers, "ada")
    capped = settings.model_copy(
        update={"login_lockout_max_seconds": 200.0, "login_failures_per_address": 1000}
    )
    clock = Clock()
    waits: list[float] = []
    for _ in range(capped.login_failures_per_account - 1):
        with pytest.raises(LoginFailed):
            accounts.log_in(
                papers, capped, login="ada", password="nope", client_address=ATTACKER, now=clock.now
            )
    for _ in range(4):
        try:
            accounts.log_in(
                papers, capped, login="ada", password="nope", client_address=ATTACKER, now=clock.now
            )
        except TooManyRequests as exc:
            waits.append(exc.retry_after)
            clock.advance(seconds=exc.retry_after)
    assert waits == [60.0, 120.0, 200.0, 200.0]

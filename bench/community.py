"""Upvotes and comments under load: 200 clients for 60 s against a served instance, then exact counts.

Usage: ``python bench/community.py [--database sqlite|postgresql|both] [--clients 200] [--duration 60]
[--workers N] [--json]``

For each database it makes a fresh one (a SQLite file, or a throwaway PostgreSQL server started with
``tests/pg_server.py``), loads the real Hugging Face daily papers from ``../shared/data`` (35 papers, so
that votes and comments pile up on the same rows), makes one confirmed account and API token per client,
and serves the site with uvicorn (``--workers`` processes, as ``dailypapers serve --workers`` does). Then
``--clients`` asyncio clients, each with its own account, token and HTTP connection, loop for
``--duration`` seconds: toggle their upvote on a random paper (``POST``, or ``DELETE`` when they upvoted it
already) or post a comment with a text no other request uses.

Afterwards it checks, with SQL on the database itself, that every stored count equals the rows it counts
(``paper_activity.upvotes`` against ``votes``, ``paper_activity.comments`` against visible comments), that
the votes table holds exactly the votes the clients were told they have, that every comment the server
accepted is stored once and nothing else was stored, and that the API shows each paper with the upstream
count plus its votes. It prints requests/s, p50 and p99 latency and errors per operation; it asserts
nothing about time. Any error (a non-2xx answer, a refused or dropped connection, a timeout) is counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from serving import free_port, wait_until_serving  # noqa: E402

SECRET = "bench-community-secret-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
COMMENT_SHARE = 0.3
OPERATIONS = ("upvote", "un-upvote", "comment")


def shared_data() -> Path:
    path = Path(os.environ.get("DAILYPAPERS_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not (path / "hf-daily-papers").exists():
        raise SystemExit(f"the real data is not at {path} (set DAILYPAPERS_SHARED_DATA)")
    return path


# --------------------------------------------------------------------------------------------------
# The instance
# --------------------------------------------------------------------------------------------------


def prepare(database_url: str, data_dir: Path, clients: int) -> tuple[list[str], list[str]]:
    """Migrate, load the papers, make one account and token per client; returns (paper ids, tokens)."""
    from sqlalchemy import select

    from dailypapers import store
    from dailypapers.community import accounts
    from dailypapers.community.passwords import hash_password
    from dailypapers.config import Settings
    from dailypapers.db import create_engine_from_settings, make_session_factory, upgrade_schema
    from dailypapers.ingest.pipeline import Ingestor
    from dailypapers.models import FeedEntry

    settings = Settings(data_dir=data_dir, database_url=database_url, auto_index=False)
    engine = create_engine_from_settings(settings)
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    Ingestor(sessions).ingest_paths([shared_data() / "hf-daily-papers"])
    now = datetime.now(UTC)
    # The accounts never log in, so they share one hash: 200 argon2 hashes would only cost time.
    password_hash = hash_password("bench accounts do not log in")
    tokens = []
    with sessions.begin() as session:
        for n in range(clients):
            user = store.create_user(
                session,
                username=f"bench{n:04d}",
                email=f"bench{n:04d}@example.org",
                password_hash=password_hash,
                security_stamp=f"{n:032d}",
                now=now,
                verified=True,
            )
            tokens.append(accounts.issue_api_token(session, user=user, name="bench", now=now))
        papers = list(session.scalars(select(FeedEntry.paper_id).order_by(FeedEntry.paper_id)))
    engine.dispose()
    return papers, tokens


class Server:
    """``uvicorn --factory`` with several workers in a subprocess, as ``dailypapers serve --workers``."""

    def __init__(self, database_url: str, data_dir: Path, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable, "-m", "uvicorn", "--factory", "dailypapers.web.app:create_app_from_env",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
            "--log-level", "warning", "--no-access-log", "--backlog", "4096",
        ]  # fmt: skip
        self.env = {
            **os.environ,
            "DAILYPAPERS_DATA_DIR": str(data_dir),
            "DAILYPAPERS_DATABASE_URL": database_url,
            "DAILYPAPERS_SECRET_KEY": SECRET,
            "DAILYPAPERS_AUTO_INDEX": "0",
        }
        self.log = data_dir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        handle = self.log.open("wb")
        self.process = subprocess.Popen(self.command, env=self.env, stdout=handle, stderr=subprocess.STDOUT)
        wait_until_serving(self.process, self.url + "/api/daily_papers?limit=1", log=self.log)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def server_errors(self) -> list[str]:
        text = self.log.read_text(errors="replace")
        return [line for line in text.splitlines() if "Traceback" in line or "locked" in line]


# --------------------------------------------------------------------------------------------------
# The load
# --------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    votes: set[tuple[int, str]] = field(default_factory=set)
    comments: list[str] = field(default_factory=list)

    def error(self, operation: str, what: str) -> None:
        self.errors[operation] += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(f"{operation}: {what}")


async def one_client(
    number: int, url: str, token: str, papers: list[str], deadline: float, tally: Tally, seed: int
) -> None:
    import httpx

    rng = random.Random(seed * 100_003 + number)
    voted: set[str] = set()
    sequence = 0
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as client:
        while time.monotonic() < deadline:
            paper = rng.choice(papers)
            if rng.random() < COMMENT_SHARE:
                operation = "comment"
                sequence += 1
                text = f"bench comment {number}-{sequence}: $x_{{{sequence}}}^2$"
                request = client.post(f"/api/papers/{paper}/comments", json={"text": text})
            elif paper in voted:
                operation = "un-upvote"
                request = client.delete(f"/api/papers/{paper}/upvote")
            else:
                operation = "upvote"
                request = client.post(f"/api/papers/{paper}/upvote")
            started = time.perf_counter()
            try:
                response = await request
            except httpx.HTTPError as exc:
                # The outcome is unknown (the vote comparison below then reports it as a difference).
                tally.error(operation, f"{type(exc).__name__}: {exc}")
                continue
            tally.latencies[operation].append(time.perf_counter() - started)
            if response.status_code not in (200, 201):
                tally.error(operation, f"{response.status_code} {response.text[:200]}")
                continue
            if operation == "comment":
                tally.comments.append(text)
            else:
                answer = response.json()
                if answer["upvoted"]:
                    voted.add(paper)
                else:
                    voted.discard(paper)
    tally.votes.update((number, paper) for paper in voted)


async def load(
    url: str, tokens: list[str], papers: list[str], duration: float, seed: int
) -> tuple[Tally, float]:
    tally = Tally()
    started = time.monotonic()
    deadline = started + duration
    await asyncio.gather(
        *(one_client(n, url, token, papers, deadline, tally, seed) for n, token in enumerate(tokens))
    )
    return tally, time.monotonic() - started


# --------------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------------


def verify(database_url: str, data_dir: Path, url: str, tally: Tally) -> dict[str, Any]:
    import httpx
    from sqlalchemy import func, select

    from dailypapers import store
    from dailypapers.config import Settings
    from dailypapers.db import create_engine_from_settings, make_session_factory
    from dailypapers.models import Comment, FeedEntry, User, Vote

    settings = Settings(data_dir=data_dir, database_url=database_url)
    engine = create_engine_from_settings(settings)
    sessions = make_session_factory(engine)
    with sessions() as session:
        counts = store.check_counts(session)
        names = {user_id: name for user_id, name in session.execute(select(User.id, User.username))}
        stored_votes = {
            (int(names[user_id].removeprefix("bench")), paper_id)
            for user_id, paper_id in session.execute(select(Vote.user_id, Vote.paper_id))
        }
        duplicates = session.scalar(
            select(func.count()).select_from(
                select(Comment.body).group_by(Comment.body).having(func.count() > 1).subquery()
            )
        )
        stored_comments = {body for (body,) in session.execute(select(Comment.body))}
        upstream = dict(session.execute(select(FeedEntry.paper_id, FeedEntry.upvotes)).all())
        vote_rows = dict(session.execute(select(Vote.paper_id, func.count()).group_by(Vote.paper_id)).all())
    engine.dispose()
    accepted = set(tally.comments)
    shown_wrong = 0
    with httpx.Client(base_url=url, timeout=30) as client:
        for paper_id, upvotes in upstream.items():
            shown = client.get(f"/api/papers/{paper_id}").json()["upvotes"]
            shown_wrong += shown != upvotes + vote_rows.get(paper_id, 0)
    return {
        "upvote_count_mismatches": counts["upvote_mismatches"],
        "comment_count_mismatches": counts["comment_mismatches"],
        "votes_rows": len(stored_votes),
        "votes_as_clients_know_them": len(tally.votes),
        "votes_differing_from_clients": len(stored_votes ^ tally.votes),
        "comments_accepted": len(tally.comments),
        "comments_stored": len(stored_comments),
        "comments_stored_twice": int(duplicates or 0),
        "comments_lost_or_extra": len(stored_comments ^ accepted),
        "api_counts_wrong": shown_wrong,
    }


# --------------------------------------------------------------------------------------------------
# A run per database
# --------------------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_one(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"dailypapers-bench-{kind}-"))
    pg = None
    try:
        if kind == "sqlite":
            database_url = f"sqlite:///{folder / 'dailypapers.db'}"
        else:
            from sqlalchemy import create_engine, text
            from tests.pg_server import PostgresServer

            pg = PostgresServer.start()
            admin = create_engine(pg.url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text("CREATE DATABASE bench"))
            admin.dispose()
            database_url = pg.url("bench")
        papers, tokens = prepare(database_url, folder, args.clients)
        with Server(database_url, folder, args.workers) as server:
            tally, elapsed = asyncio.run(load(server.url, tokens, papers, args.duration, args.seed))
            checks = verify(database_url, folder, server.url, tally)
            server_errors = server.server_errors()
        operations = {}
        for operation in OPERATIONS:
            latencies = tally.latencies.get(operation, [])
            done = len(latencies) + tally.errors.get(operation, 0)
            operations[operation] = {
                "requests": done,
                "rps": round(done / elapsed, 1),
                "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
                "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
                "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0.0,
                "errors": tally.errors.get(operation, 0),
            }
        total = sum(o["requests"] for o in operations.values())
        return {
            "database": kind,
            "elapsed_s": round(elapsed, 1),
            "requests": total,
            "rps": round(total / elapsed, 1),
            "errors": sum(o["errors"] for o in operations.values()),
            "error_samples": tally.error_samples,
            "server_log_errors": server_errors[:10],
            "operations": operations,
            "checks": checks,
        }
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(folder, ignore_errors=True)


def checks_pass(checks: dict[str, Any]) -> bool:
    return (
        checks["upvote_count_mismatches"] == 0
        and checks["comment_count_mismatches"] == 0
        and checks["votes_differing_from_clients"] == 0
        and checks["comments_stored_twice"] == 0
        and checks["comments_lost_or_extra"] == 0
        and checks["api_counts_wrong"] == 0
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per database")
    parser.add_argument("--workers", type=int, default=min(4, max(2, os.cpu_count() or 2)))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        pass
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = [run_one(kind, args) for kind in kinds]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(
        title=(
            f"{args.clients} clients (own account and token each), {args.duration:g} s per database, "
            f"{args.workers} uvicorn workers, {os.cpu_count()} CPUs (clients on the same machine)"
        )
    )
    for column in ("database", "operation", "requests", "requests/s", "p50 ms", "p99 ms", "errors"):
        table.add_column(column, justify="left" if column in ("database", "operation") else "right")
    for result in results:
        for name, row in result["operations"].items():
            table.add_row(
                result["database"],
                name,
                f"{row['requests']:,}",
                f"{row['rps']:,.0f}",
                f"{row['p50_ms']:.1f}",
                f"{row['p99_ms']:.1f}",
                str(row["errors"]),
            )
        table.add_row(
            result["database"],
            "[bold]all[/]",
            f"{result['requests']:,}",
            f"{result['rps']:,.0f}",
            "",
            "",
            str(result["errors"]),
            end_section=True,
        )
    console.print(table)
    for result in results:
        checks = result["checks"]
        verdict = "[green]exact[/]" if checks_pass(checks) else "[bold red]WRONG[/]"
        console.print(
            f"{result['database']}: counts {verdict} — {checks['votes_rows']:,} vote rows "
            f"({checks['votes_differing_from_clients']} differing from what clients were told), "
            f"{checks['comments_stored']:,} comments stored of {checks['comments_accepted']:,} accepted "
            f"({checks['comments_stored_twice']} twice, {checks['comments_lost_or_extra']} lost or extra), "
            f"stored-count mismatches: {checks['upvote_count_mismatches']} upvotes, "
            f"{checks['comment_count_mismatches']} comments; API counts wrong: {checks['api_counts_wrong']}",
            highlight=False,
        )
        for sample in result["error_samples"] + result["server_log_errors"]:
            console.print(f"  [red]{sample}[/]", highlight=False)


if __name__ == "__main__":
    main()

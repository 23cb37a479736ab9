"""Digests for many subscribers: compose (select, render, store) and deliver to a local SMTP server.

    python bench/digest.py [--subscribers 10000] [--senders 1] [--database-url URL]

The papers are the real ones in ../shared/data (the Hugging Face daily papers of 2026-06-12 and
2026-07-31, and the recorded arXiv cs.LG papers of 2026-06-11 put on the feed as ``fetch`` does). The
subscribers get varied preferences (daily or weekly, trending or new, categories, keywords to include
and exclude, 3 to 20 papers, time zones, names with non-ASCII letters), drawn from a fixed seed. The
digests of 2026-06-12 are composed into the outbox and delivered over SMTP to an aiosmtpd server
running in a process of its own on loopback, which counts what it accepts.

The table puts the time of each phase beside the time spent rendering alone (Jinja2 and the email
package), measured in the same run, so the cost of selection, storage and SMTP shows against it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from dailypapers.config import Settings  # noqa: E402
from dailypapers.db import create_engine_from_settings, make_session_factory, upgrade_schema  # noqa: E402
from dailypapers.digest.compose import compose_digests  # noqa: E402
from dailypapers.digest.delivery import DeliveryReport, OutboxSender  # noqa: E402
from dailypapers.digest.render import MailRenderer  # noqa: E402
from dailypapers.digest.tokens import Tokens  # noqa: E402
from dailypapers.ingest.formats.atom import parse_atom  # noqa: E402
from dailypapers.ingest.pipeline import Ingestor  # noqa: E402
from dailypapers.ingest.records import new_on_feed as on_feed  # noqa: E402
from dailypapers.mail import SmtpMailer, connection  # noqa: E402
from dailypapers.models import OutboxMessage, Subscription  # noqa: E402
from serving import free_port  # noqa: E402

DAY = date(2026, 6, 12)
NOW = datetime(2026, 6, 13, 9, 0, tzinfo=UTC)
SECRET = "benchmark-secret-0123456789abcdef-0123456789"
KEYWORDS = [
    "agent",
    "language model",
    "diffusion",
    "benchmark",
    "reasoning",
    "memory",
    "vision",
    "robot",
    "attention",
    "multimodal",
    "reinforcement",
    "transformer",
    "safety",
    "evaluation",
    "graph",
]
CATEGORIES = ["cs.LG", "cs.CV", "cs.AI", "cs.RO", "cs", "cs.CL", "stat.ML"]
ZONES = [
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Africa/Lagos",
    "Europe/Berlin",
]
NAMES = ["Ada Lovelace", "Zoë Ångström", "李雷", "José Ñúñez", "Émile Zola", None, None, "Grace Hopper"]


def smtp_server(
    port: int,
    ready: Any,
    stop: Any,
    counts: Any,
) -> None:
    from aiosmtpd.controller import Controller

    class Counter:
        def __init__(self) -> None:
            self.messages = 0
            self.bytes = 0

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            self.messages += 1
            self.bytes += len(envelope.original_content)  # type: ignore[attr-defined]
            return "250 2.0.0 OK"

    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    counts.send((handler.messages, handler.bytes))


def make_subscribers(count: int, seed: int) -> list[Subscription]:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        kind = rng.random()
        categories = rng.sample(CATEGORIES, rng.randint(1, 2)) if kind < 0.2 else []
        keywords = rng.sample(KEYWORDS, rng.randint(1, 3)) if 0.2 <= kind < 0.5 else []
        exclude = rng.sample(KEYWORDS, 1) if rng.random() < 0.1 else []
        rows.append(
            Subscription(
                email=f"reader{n}@example.org",
                name=rng.choice(NAMES),
                status="active",
                frequency="weekly" if rng.random() < 0.2 else "daily",
                selection="new" if rng.random() < 0.3 else "trending",
                categories=categories,
                keywords=keywords,
                exclude_keywords=[k for k in exclude if k not in keywords],
                max_papers=rng.randint(3, 20),
                timezone=rng.choice(ZONES),
                send_hour=rng.randint(0, 23),
                token_key=f"key{n:06d}",
                source="bench",
                hard_bounces=0,
                created_at=NOW,
                updated_at=NOW,
                confirmed_at=NOW,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--senders", type=int, default=1, help="senders working on the outbox at once")
    parser.add_argument("--database-url", default="", help="default: a SQLite file in a temporary folder")
    parser.add_argument(
        "--shared-data",
        type=Path,
        default=Path(os.environ.get("DAILYPAPERS_SHARED_DATA", REPO.parent / "shared" / "data")),
    )
    args = parser.parse_args()
    console = Console(width=120)

    with tempfile.TemporaryDirectory(prefix="dp-bench-digest-") as folder:
        port = free_port()
        settings = Settings(
            data_dir=Path(folder),
            database_url=args.database_url,
            base_url="https://papers.example.org",
            mail_from="Daily Papers <digest@papers.example.org>",
            secret_key=SecretStr(SECRET),
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
        )
        engine = create_engine_from_settings(settings)
        upgrade_schema(engine)
        sessions = make_session_factory(engine)
        ingestor = Ingestor(sessions)
        ingestor.ingest_paths([args.shared_data / "hf-daily-papers"])
        atom = (args.shared_data / "arxiv/api-atom/sotawhat-arxiv_transformer.xml").read_bytes()
        ingestor.ingest_records(
            on_feed(parse_atom(atom).items, date(2026, 6, 11), date(2026, 6, 11)), label="arXiv"
        )
        with sessions.begin() as session:
            session.add_all(make_subscribers(args.subscribers, args.seed))

        context = multiprocessing.get_context("spawn")
        ready, stop = context.Event(), context.Event()
        receiver, sender_end = context.Pipe(duplex=False)
        server = context.Process(target=smtp_server, args=(port, ready, stop, sender_end), daemon=True)
        server.start()
        if not ready.wait(30):
            raise SystemExit("the SMTP server did not start")

        renderer = MailRenderer(settings, Tokens(SECRET))
        started = time.perf_counter()
        composed = compose_digests(sessions, renderer, now=NOW, day=DAY)
        compose_seconds = time.perf_counter() - started

        reports: list[DeliveryReport] = []

        def deliver() -> None:
            mailer = SmtpMailer.from_settings(settings)
            reports.append(
                OutboxSender.from_settings(settings, sessions, mailer, clock=lambda: NOW).deliver()
            )

        started = time.perf_counter()
        senders = [threading.Thread(target=deliver) for _ in range(args.senders)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        deliver_seconds = time.perf_counter() - started
        delivered = DeliveryReport(
            sent=sum(r.sent for r in reports),
            retried=sum(r.retried for r in reports),
            failed=sum(r.failed for r in reports),
        )
        # The floor under delivery: the same server taking one typical digest over and over, no database.
        with sessions() as session:
            sample = session.scalars(select(OutboxMessage.message).limit(1)).first() or b""
        floor_count = min(1000, max(composed.composed, 1))
        started = time.perf_counter()
        with connection(SmtpMailer.from_settings(settings)) as smtp:
            for _ in range(floor_count):
                smtp.send(sample, sender="digest@papers.example.org", recipients=["floor@example.org"])
        smtp_alone_seconds = (time.perf_counter() - started) / floor_count * composed.composed
        stop.set()
        received, received_bytes = receiver.recv()
        received -= floor_count
        received_bytes -= floor_count * len(sample)
        server.join(10)
        engine.dispose()

    mails = composed.composed
    total = compose_seconds + deliver_seconds
    database = "SQLite" if not args.database_url else args.database_url.split(":", 1)[0]
    table = Table(title=f"{args.subscribers:,} subscribers, digests of {DAY} ({database})")
    table.add_column("phase", no_wrap=True)
    table.add_column("seconds", justify="right")
    table.add_column("ms per mail", justify="right")
    table.add_column("mails/s", justify="right")
    for label, seconds in (
        ("render alone (Jinja2 + email package)", composed.render_seconds),
        ("compose: select + render + store", compose_seconds),
        (
            f"deliver: claim + SMTP + mark sent ({args.senders} sender{'s' if args.senders > 1 else ''})",
            deliver_seconds,
        ),
        ("  of which the SMTP server's own pace (no database)", smtp_alone_seconds),
        ("total (compose + deliver)", total),
    ):
        table.add_row(
            label,
            f"{seconds:.1f}",
            f"{1000 * seconds / max(mails, 1):.2f}",
            f"{mails / seconds:,.0f}" if seconds else "",
        )
    console.print(table)
    console.print(
        f"{mails:,} digests composed ({composed.nothing_new:,} subscribers had nothing new); "
        f"{delivered.sent:,} sent, {delivered.retried} to retry, {delivered.failed} failed; "
        f"the server accepted {received:,} mails, {received_bytes / 1e6:.1f} MB "
        f"({received_bytes / max(received, 1) / 1000:.1f} kB each).",
        highlight=False,
    )
    if received != mails or delivered.sent != mails:
        raise SystemExit("not every digest arrived exactly once")


if __name__ == "__main__":
    main()

"""Submissions while arXiv is unreachable: do they hold the server, and how long does each one wait?

Usage: ``python bench/submissions.py [--submissions 40] [--upstream silent,blackhole,refused]
[--budget 10] [--daily-limit 1000] [--baseline-seconds 3] [--max-seconds 120] [--code SRC] [--json]``

For each upstream scenario it makes a fresh SQLite database with one confirmed account and an API token
(through the ``dailypapers users`` commands), points the arXiv URL at a loopback port that is

* ``silent``: accepts every connection and never answers;
* ``blackhole``: never accepts (its listen queue is full, so new connections wait for a reply that never
  comes, as with a firewalled host);
* ``refused``: has nothing listening,

and serves the site with uvicorn (one worker, as ``dailypapers serve`` does). A reader then fetches
``/about`` one request after another for ``--baseline-seconds`` with nothing else going on (the
baseline), and again while ``--submissions`` submissions of ids unknown to the site, all from the one
account, are sent at once through the API. It prints the reader's p50/p99/max latency in both phases,
its errors, the slowest submission answer and how the submissions were answered. ``--daily-limit`` is
high by default so that every submission gets as far as asking arXiv: what is measured is the bound on
upstream work, not the per-account limit (with the default limit of 10, 30 of the 40 would be refused at
once). Every request has a timeout and the whole run is bounded by ``--max-seconds`` per phase, so a
server that hangs shows up as errors rather than as a bench that never ends. ``--code`` runs the server
and the commands from another checkout's ``src`` folder, to measure an older version the same way.

Nothing leaves the loopback interface. It asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from serving import free_port, wait_until_serving  # noqa: E402

SECRET = "bench-submissions-secret-5d4c3b2a19f8e7d6c5b4a39281706f5e"
PASSWORD = "bench account password 7"
SCENARIOS = ("silent", "blackhole", "refused")


# --------------------------------------------------------------------------------------------------
# Upstreams that fail
# --------------------------------------------------------------------------------------------------


class Upstream:
    """A loopback port that fails in one of the ways of :data:`SCENARIOS`."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.port = free_port()

    def __enter__(self) -> Upstream:
        if self.kind == "refused":
            return self  # the port was bound and closed again: nothing listens there
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", self.port))
        if self.kind == "blackhole":
            # A queue of one, never accepted from: once it is full, the kernel drops further handshakes.
            self.listener.listen(0)
            filler = socket.create_connection(("127.0.0.1", self.port))
            self.sockets.append(filler)
            return self
        self.listener.listen(256)
        self.listener.settimeout(0.2)
        self.thread = threading.Thread(target=self._hold, daemon=True)
        self.thread.start()
        return self

    def _hold(self) -> None:
        assert self.listener is not None
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.sockets.append(connection)  # kept open, never read from, never answered

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=2)
        for sock in self.sockets:
            sock.close()
        if self.listener is not None:
            self.listener.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/query"


# --------------------------------------------------------------------------------------------------
# The instance
# --------------------------------------------------------------------------------------------------


class Instance:
    """A fresh database with one confirmed account, served by uvicorn in a subprocess."""

    def __init__(self, folder: Path, upstream: Upstream, args: argparse.Namespace) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        code = Path(args.code).resolve() if args.code else REPO / "src"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(code),
            "DAILYPAPERS_DATA_DIR": str(folder),
            "DAILYPAPERS_DATABASE_URL": f"sqlite:///{folder / 'dailypapers.db'}",
            "DAILYPAPERS_SECRET_KEY": SECRET,
            "DAILYPAPERS_AUTO_INDEX": "0",
            "DAILYPAPERS_ARXIV_API_URL": upstream.url,
            "DAILYPAPERS_SUBMISSIONS_PER_DAY": str(args.daily_limit),
            "DAILYPAPERS_SUBMISSION_FETCH_BUDGET_SECONDS": str(args.budget),
        }
        self.log = folder / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.token = ""

    def _cli(self, *arguments: str, stdin: str = "") -> str:
        done = subprocess.run(
            [sys.executable, "-m", "dailypapers", *arguments],
            input=stdin.encode(),
            env=self.env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"dailypapers {' '.join(arguments)} failed: {done.stderr.decode()[-2000:]}")
        return done.stdout.decode()

    def prepare(self) -> None:
        self._cli(
            "users", "create", "bench", "--email", "bench@example.org", stdin=f"{PASSWORD}\n{PASSWORD}\n"
        )
        lines = [line.strip() for line in self._cli("users", "token", "bench").splitlines()]
        tokens = [line for line in lines if line.startswith("dp_")]
        if not tokens:
            raise SystemExit(f"no token in the output of `dailypapers users token`: {lines}")
        self.token = tokens[0]

    def __enter__(self) -> Instance:
        command = [
            sys.executable, "-m", "uvicorn", "--factory", "dailypapers.web.app:create_app_from_env",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        handle = self.log.open("wb")
        self.process = subprocess.Popen(command, env=self.env, stdout=handle, stderr=subprocess.STDOUT)
        wait_until_serving(self.process, self.url + "/about", log=self.log)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --------------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------------


@dataclass
class Reader:
    """Every /about request's latency, failed ones included, and how many failed."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def summary(self) -> dict[str, Any]:
        values = sorted(self.latencies_ms)
        if not values:
            return {"requests": 0, "errors": self.errors, "p50_ms": None, "p99_ms": None, "max_ms": None}
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        return {
            "requests": len(values),
            "errors": self.errors,
            "p50_ms": round(statistics.median(values), 2),
            "p99_ms": round(p99, 2),
            "max_ms": round(values[-1], 2),
        }


async def read_about(client: httpx.AsyncClient, reader: Reader, stop: asyncio.Event, until: float) -> None:
    """GET /about one request after another until ``stop`` is set or ``until`` (monotonic) passes."""
    while not stop.is_set() and time.monotonic() < until:
        started = time.perf_counter()
        try:
            response = await client.get("/about", timeout=max(0.1, until - time.monotonic()))
            failed = response.status_code != 200
        except httpx.HTTPError:
            failed = True
        # A request that failed or timed out counts with the time it took: that is what a reader waited.
        reader.latencies_ms.append((time.perf_counter() - started) * 1000)
        reader.errors += failed


async def one_submission(
    client: httpx.AsyncClient, token: str, paper_id: str, limit: float
) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        response = await client.post(
            "/api/papers/submit",
            json={"id": paper_id},
            headers={"Authorization": f"Bearer {token}"},
            timeout=limit,
        )
        outcome = str(response.status_code)
    except httpx.TimeoutException:
        outcome = "no answer"
    except httpx.HTTPError as exc:
        outcome = type(exc).__name__
    return outcome, time.perf_counter() - started


async def measure(instance: Instance, args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(
        max_connections=args.submissions + 10, max_keepalive_connections=args.submissions + 10
    )
    async with httpx.AsyncClient(base_url=instance.url, limits=limits) as client:
        baseline = Reader()
        await read_about(client, baseline, asyncio.Event(), time.monotonic() + args.baseline_seconds)

        loaded = Reader()
        stop = asyncio.Event()
        reading = asyncio.create_task(read_about(client, loaded, stop, time.monotonic() + args.max_seconds))
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(
                one_submission(client, instance.token, f"2607.{90000 + n:05d}", args.max_seconds)
                for n in range(args.submissions)
            )
        )
        window = time.perf_counter() - started
        stop.set()
        await reading
    statuses: dict[str, int] = {}
    for outcome, _ in answers:
        statuses[outcome] = statuses.get(outcome, 0) + 1
    waits = sorted(seconds for _, seconds in answers)
    return {
        "about_baseline": baseline.summary(),
        "about_under_submissions": loaded.summary(),
        "submissions": {
            "sent": args.submissions,
            "statuses": dict(sorted(statuses.items())),
            "p50_s": round(statistics.median(waits), 3),
            "slowest_s": round(waits[-1], 3),
            "window_s": round(window, 3),
        },
    }


def run_scenario(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix=f"dp-bench-submissions-{kind}-") as tmp,
        Upstream(kind) as upstream,
    ):
        instance = Instance(Path(tmp), upstream, args)
        instance.prepare()
        with instance:
            return {"upstream": kind, **asyncio.run(measure(instance, args))}


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def print_table(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"{args.submissions} concurrent submissions of unknown ids from one account, "
        f"budget {args.budget:g} s, daily limit {args.daily_limit}; a reader fetches /about throughout\n"
    )
    header = (
        f"{'upstream':<10} {'phase':<18} {'/about req':>10} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} "
        f"{'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        for phase, label in (("about_baseline", "baseline"), ("about_under_submissions", "with submissions")):
            row = result[phase]
            print(
                f"{result['upstream']:<10} {label:<18} {row['requests']:>10} {_ms(row['p50_ms']):>9} "
                f"{_ms(row['p99_ms']):>9} {_ms(row['max_ms']):>9} {row['errors']:>7}"
            )
    print()
    header = f"{'upstream':<10} {'answers (status: count)':<40} {'p50 s':>8} {'slowest s':>10}"
    print(header)
    print("-" * len(header))
    for result in results:
        sub = result["submissions"]
        statuses = ", ".join(f"{status}: {count}" for status, count in sub["statuses"].items())
        print(f"{result['upstream']:<10} {statuses:<40} {sub['p50_s']:>8.2f} {sub['slowest_s']:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument(
        "--upstream", default=",".join(SCENARIOS), help="comma-separated: " + ", ".join(SCENARIOS)
    )
    parser.add_argument(
        "--budget", type=float, default=10.0, help="DAILYPAPERS_SUBMISSION_FETCH_BUDGET_SECONDS"
    )
    parser.add_argument("--daily-limit", type=int, default=1000, help="DAILYPAPERS_SUBMISSIONS_PER_DAY")
    parser.add_argument("--baseline-seconds", type=float, default=3.0)
    parser.add_argument("--max-seconds", type=float, default=120.0, help="cap on each request and phase")
    parser.add_argument("--code", help="the src folder to serve from (default: this checkout's)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args()
    kinds = [kind.strip() for kind in args.upstream.split(",") if kind.strip()]
    unknown = sorted(set(kinds) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown upstream {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    results = [run_scenario(kind, args) for kind in kinds]
    if args.json:
        print(
            json.dumps({"settings": {k: v for k, v in vars(args).items() if k != "json"}, "results": results})
        )
    else:
        print_table(results, args)


if __name__ == "__main__":
    main()

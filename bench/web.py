"""Requests/s and latency of the site at 100,000 papers, under 32 concurrent connections, with baselines.

Usage: ``python bench/web.py [--papers 100000] [--connections 32] [--duration 20] [--workers 2] [--json]``

It builds (once, cached in ``bench/out/web-N``) a SQLite database of N papers by ingesting a snapshot made
from the real 200 arXiv records with new ids (``tests/factories.py``), gives every paper a feed entry
(50 a day, ending on 2026-07-31, with heavy-tailed upvotes and comments like Hugging Face's), written
with the bulk insert path, and builds the search index with the production ``IndexBuilder`` from vectors
made without running the model on every paper: the 200 real abstracts are embedded with the configured
model, and each copy gets a noisy copy of its source's vector (``synthetic.noisy_vectors``). The index
records the model's key, so the server embeds queries with the real model, as in production.

Then it serves the site with uvicorn (``--workers`` processes, as ``dailypapers serve --workers`` does) and
drives it with wrk for ``--duration`` seconds after a warm-up, in this order:

* ``static file``: a stylesheet served by the same server, the floor of what any page can cost;
* ``/ (no cache)`` and ``search (no cache)``: the same server with page caching switched off, so every
  request queries the database, renders the template and, for search, ranks the papers;
* ``/`` and ``search``: the site as it runs, rendered pages and search answers cached per parameters and
  emptied when the data changes.

Search requests cycle through ``--queries`` different queries (words of the real titles), in the default
(hybrid) mode. The benchmark prints numbers; it asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from serving import free_port, wait_until_serving  # noqa: E402

TARGETS = {"home_rps": 300.0, "home_p99_ms": 100.0, "search_p99_ms": 150.0}
LAST_DAY = date(2026, 7, 31)
PAPERS_PER_DAY = 50
SUBMITTERS = [f"reader{n:03d}" for n in range(300)]
THREADS_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# --------------------------------------------------------------------------------------------------
# The database and the index
# --------------------------------------------------------------------------------------------------


def _settings(data_dir: Path) -> Any:
    from dailypapers.config import Settings

    return Settings(
        data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'dailypapers.db'}", auto_index=False
    )


def _snapshot(n: int) -> Path:
    from tests.factories import write_rekeyed_snapshot

    import synthetic

    path = OUT / f"snapshot-{n}.jsonl"
    if path.exists():
        with path.open("rb") as handle:
            if sum(1 for _ in handle) == n:
                return path
    return write_rekeyed_snapshot(synthetic.shared_data(), path, n)


def _feed_rows(ids: list[str], seed: int = 7) -> list[dict[str, Any]]:
    """One feed entry per paper, 50 a day back from LAST_DAY, votes heavy-tailed like Hugging Face's."""
    import numpy as np

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(ids))
    upvotes = np.minimum((rng.pareto(1.3, len(ids)) * 4).astype(int), 3000)
    comments = (upvotes * rng.uniform(0, 0.25, len(ids))).astype(int)
    created = datetime(2026, 8, 1, tzinfo=UTC)
    rows = []
    for position, index in enumerate(order):
        rows.append(
            {
                "id": position + 1,
                "paper_id": ids[index],
                "day": LAST_DAY - timedelta(days=position // PAPERS_PER_DAY),
                "submitted_by": SUBMITTERS[int(rng.integers(len(SUBMITTERS)))],
                "source": "huggingface",
                "upvotes": int(upvotes[position]),
                "num_comments": int(comments[position]),
                "created_at": created,
            }
        )
    return rows


def _vectors(settings: Any, ids: list[str]) -> Any:
    """``precomputed`` for IndexBuilder: noisy copies of the real vectors of each paper's source record."""
    import numpy as np
    from tests.factories import SNAPSHOT, new_style_ids

    import synthetic
    from dailypapers.search.build import VectorFunction
    from dailypapers.search.embedders import load_embedder

    originals = [json.loads(line) for line in (synthetic.shared_data() / SNAPSHOT).read_text().splitlines()]
    embedder = load_embedder(settings)
    texts = [f"{' '.join(r['title'].split())}. {' '.join(r['abstract'].split())}" for r in originals]
    base = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
    generator = new_style_ids()
    source_of = {next(generator): n % len(originals) for n in range(len(ids))}
    rng = np.random.default_rng(11)

    def make(wanted: list[str]) -> tuple[Any, Any]:
        sources = np.asarray([source_of[i] for i in wanted], dtype=np.int64)
        papers = synthetic.noisy_vectors(base, sources, synthetic.COPY_COSINE, rng)
        count = synthetic.PASSAGES_PER_PAPER
        passages = synthetic.noisy_vectors(
            papers, np.repeat(np.arange(len(wanted)), count), synthetic.PASSAGE_COSINE, rng
        )
        return papers, passages

    return VectorFunction(make, synthetic.PASSAGES_PER_PAPER), embedder.key


def _index_opens(data_dir: Path) -> bool:
    """Whether the index in ``data_dir`` opens with the code as it is now (its format may have moved on)."""
    from dailypapers.search.index import IndexStore, OpenIndex

    path = IndexStore(data_dir).current_path()
    if path is None:
        return False
    try:
        OpenIndex(path).close()
    except Exception:
        return False
    return True


def build(n: int, rebuild: bool) -> dict[str, Any]:
    """The database and the index for N papers, each reused from an earlier run when it is still good."""
    from sqlalchemy import select

    from dailypapers import store
    from dailypapers.db import bulk_insert, create_engine_from_settings, make_session_factory, upgrade_schema
    from dailypapers.ingest.pipeline import Ingestor
    from dailypapers.search.build import IndexBuilder
    from dailypapers.search.index import IndexStore, iter_index_docs
    from dailypapers.store.feeds import FEED, PAPERS

    data_dir = OUT / f"web-{n}"
    marker = data_dir / "built.json"
    figures: dict[str, Any] = json.loads(marker.read_text()) if marker.exists() and not rebuild else {}
    settings = _settings(data_dir)
    if not figures:
        if data_dir.exists():
            shutil.rmtree(data_dir)
        data_dir.mkdir(parents=True)
        snapshot = _snapshot(n)
        engine = create_engine_from_settings(settings)
        upgrade_schema(engine)
        sessions = make_session_factory(engine)
        figures = {"papers": n}
        started = time.perf_counter()
        report = Ingestor(sessions, batch_size=5000).ingest_paths([snapshot])
        figures["ingest_seconds"] = round(time.perf_counter() - started, 1)
        assert report.new == n, report.to_json()
        started = time.perf_counter()
        with sessions() as session:
            ids = list(session.scalars(select(PAPERS.c.id).order_by(PAPERS.c.id)))
            rows = _feed_rows(ids)
            for start in range(0, len(rows), 20_000):
                bulk_insert(session, FEED, rows[start : start + 20_000])
            session.commit()
        figures["feed_entries"] = len(rows)
        figures["feed_days"] = (len(rows) + PAPERS_PER_DAY - 1) // PAPERS_PER_DAY
        figures["feed_seconds"] = round(time.perf_counter() - started, 1)
        engine.dispose()
        marker.write_text(json.dumps(figures, indent=2))
        figures["reused"] = False
    else:
        figures["reused"] = True
    if rebuild or not _index_opens(data_dir):
        engine = create_engine_from_settings(settings)
        sessions = make_session_factory(engine)
        shutil.rmtree(data_dir / "index", ignore_errors=True)
        started = time.perf_counter()
        with sessions() as session:
            ids = list(session.scalars(select(PAPERS.c.id).order_by(PAPERS.c.id)))
            docs = list(iter_index_docs(store.iter_index_rows(session)))
        make_vectors, model_key = _vectors(settings, ids)
        built = IndexBuilder(IndexStore(data_dir), None, precomputed=make_vectors).build(
            docs, total=len(docs)
        )
        manifest_path = IndexStore(data_dir).current_path() / "manifest.json"  # type: ignore[operator]
        manifest = json.loads(manifest_path.read_text())
        # The vectors stand in for the model's (see the module docstring), so queries use the real model.
        manifest.update(
            embedder=model_key, vectors="synthetic: noisy copies of the model's vectors of the sources"
        )
        manifest_path.write_text(json.dumps(manifest, indent=2))
        engine.dispose()
        figures["index_seconds"] = round(time.perf_counter() - started, 1)
        figures["index_documents"] = built.documents
        figures["index_reused"] = False
        marker.write_text(
            json.dumps({k: v for k, v in figures.items() if not k.endswith("reused")}, indent=2)
        )
    else:
        figures["index_reused"] = True
    return figures


def queries(count: int) -> list[str]:
    """Search queries: three to five words of the real titles, as people type them."""
    from tests.factories import SNAPSHOT

    import synthetic
    from dailypapers.search.analyzer import STOP_WORDS

    found: list[str] = []
    for line in (synthetic.shared_data() / SNAPSHOT).read_text().splitlines():
        words = [
            w
            for w in re.findall(r"[A-Za-z][A-Za-z-]+", json.loads(line)["title"])
            if w.lower() not in STOP_WORDS
        ]
        if len(words) >= 3:
            size = 3 + int(hashlib.blake2b(line.encode(), digest_size=1).digest()[0]) % 3
            found.append(" ".join(words[:size]).lower())
    return list(dict.fromkeys(found))[:count]


# --------------------------------------------------------------------------------------------------
# Serving and loading
# --------------------------------------------------------------------------------------------------


class Server:
    """``uvicorn --factory`` in a subprocess, as ``dailypapers serve --workers`` runs it."""

    def __init__(self, data_dir: Path, *, workers: int, cached: bool) -> None:
        self.port = free_port()
        factory = "dailypapers.web.app:create_app_from_env" if cached else "web:create_uncached_app"
        self.command = [
            sys.executable, "-m", "uvicorn", "--factory", factory, "--app-dir", str(REPO / "bench"),
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        self.env = {
            **os.environ,
            **THREADS_ENV,
            "DAILYPAPERS_DATA_DIR": str(data_dir),
            "DAILYPAPERS_AUTO_INDEX": "0",
        }
        self.env["DAILYPAPERS_DATABASE_URL"] = f"sqlite:///{data_dir / 'dailypapers.db'}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(self.command, env=self.env)
        wait_until_serving(self.process, self.url + "/about", seconds=120)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


_LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, paths: list[str], *, connections: int, duration: int, threads: int = 2) -> dict[str, Any]:
    """Run wrk over ``paths`` (cycled), return requests/s, latency percentiles (ms) and errors."""
    script = (
        "local paths = {"
        + ",".join(json.dumps(p) for p in paths)
        + "}\n"
        + (
            "local i = 0\n"
            "request = function()\n"
            "  i = i + 1\n"
            "  return wrk.format('GET', paths[(i % #paths) + 1])\n"
            "end\n"
        )
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        done = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
             "--timeout", "10s", "-s", handle.name, url],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        os.unlink(handle.name)
    text = done.stdout
    latency = {f"p{p}_ms": round(float(v) * _UNITS[u], 2) for p, v, u in _LATENCY.findall(text)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(x) for x in socket_errors.groups()) if socket_errors else 0
    )
    return {"rps": round(rps, 1), **latency, "requests": total, "errors": errors}


def _static_path(url: str) -> str:
    import httpx

    html = httpx.get(url + "/").text
    return re.search(r'href="(/static/style\.css\?v=[^"]+)"', html).group(1)  # type: ignore[union-attr]


def _settle(url: str) -> None:
    """Wait until the server has finished what a warm-up left queued (its answers come back fast)."""
    import httpx

    for _ in range(100):
        started = time.perf_counter()
        httpx.get(url + "/about", timeout=30)
        if time.perf_counter() - started < 0.02:
            return
        time.sleep(0.2)


def measure(data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    from urllib.parse import urlencode

    search_paths = [f"/api/papers/search?{urlencode({'q': q})}" for q in queries(args.queries)]
    load = {"connections": args.connections, "duration": args.duration}
    results: dict[str, Any] = {}
    with Server(data_dir, workers=args.workers, cached=False) as server:
        static = _static_path(server.url)
        # Warm-up: the model loaded in every worker, the database and index in the OS page cache.
        wrk(server.url, ["/", *search_paths[:16]], connections=args.connections, duration=5)
        _settle(server.url)
        results["static file"] = wrk(server.url, [static], **load)
        _settle(server.url)
        results["/ (no cache)"] = wrk(server.url, ["/"], **load)
        _settle(server.url)
        results["search (no cache)"] = wrk(server.url, search_paths, **load)
    with Server(data_dir, workers=args.workers, cached=True) as server:
        # Warm-up: every query asked of every worker at least once, as on a site that has run a while.
        wrk(server.url, ["/", *search_paths], connections=args.connections, duration=max(10, args.duration))
        _settle(server.url)
        results["/"] = wrk(server.url, ["/"], **load)
        _settle(server.url)
        results["search"] = wrk(server.url, search_paths, **load)
    return results


def create_uncached_app() -> Any:
    """The site with page caching switched off (the baseline), for ``uvicorn --factory``."""
    from dailypapers.config import Settings
    from dailypapers.web.app import create_app

    return create_app(Settings(), cache_pages=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per run")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--queries", type=int, default=150, help="distinct search queries cycled through")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the database and index")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/web.py needs wrk: `sh scripts/system-deps.sh bench` (or apt-get install wrk)")
    OUT.mkdir(parents=True, exist_ok=True)
    built = build(args.papers, args.rebuild)
    load_before = round(os.getloadavg()[0], 1)
    results = measure(OUT / f"web-{args.papers}", args)
    home, search = results["/"], results["search"]
    met = {
        "home_rps": home["rps"] >= TARGETS["home_rps"],
        "home_p99": home["p99_ms"] <= TARGETS["home_p99_ms"],
        "search_p99": search["p99_ms"] <= TARGETS["search_p99_ms"],
        "no_errors": all(r["errors"] == 0 for r in results.values()),
    }
    figures = {
        "papers": args.papers,
        "workers": args.workers,
        "connections": args.connections,
        "duration_s": args.duration,
        "search_queries": args.queries,
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "build": built,
        "results": results,
        "targets_met": met,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(
        title=(
            f"The site at {args.papers:,} papers: {args.connections} connections, {args.duration} s each, "
            f"{args.workers} uvicorn workers, {os.cpu_count()} CPUs (wrk on the same machine)"
        )
    )
    for column in ("run", "requests/s", "p50 ms", "p90 ms", "p99 ms", "requests", "errors"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for name, row in results.items():
        table.add_row(
            name,
            f"{row['rps']:,.0f}",
            f"{row.get('p50_ms', 0):.1f}",
            f"{row.get('p90_ms', 0):.1f}",
            f"{row.get('p99_ms', 0):.1f}",
            f"{row['requests']:,}",
            str(row["errors"]),
        )
    console.print(table)
    load = os.getloadavg()
    console.print(
        f"Search cycles through {args.queries} distinct queries (hybrid mode); the cached runs follow a "
        "warm-up that asked each of them of every worker. Load average before/after: "
        f"{figures['load_before']} / {load[0]:.1f} (other processes share the machine). Database "
        + ("built earlier (bench/out)" if built.get("reused") else "built in this run")
        + (", index built earlier" if built.get("index_reused") else ", index built in this run")
        + f"; ingest {built.get('ingest_seconds')} s, feed entries {built.get('feed_seconds')} s, "
        f"index {built.get('index_seconds')} s; {built.get('feed_days')} feed days, "
        f"{PAPERS_PER_DAY} papers each."
    )
    console.print(f"Targets (/ ≥ 300 req/s with p99 ≤ 100 ms; search p99 ≤ 150 ms; no errors): {met}")


if __name__ == "__main__":
    main()

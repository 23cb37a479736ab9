"""Ingest throughput and memory on a large arXiv snapshot.

Builds an N-line snapshot by re-keying the real 200 lines of ../shared/data (each copy gets a fresh,
valid new-style arXiv id and a numbered title), then runs ``dailypapers ingest`` on it in a child
process against a fresh database, and reports papers/s and the peak RSS of the ingest (its writer
and parser processes together).

In the same run, two baselines on a slice of the same file:

* ``parse only``: reading and parsing the lines with no database (the ceiling for the pipeline);
* ``naive ORM``: ``json.loads`` and one ``session.merge`` per paper, committed every 2,000 — the obvious way
  to write an importer, which is what the batched pipeline is measured against.

Usage: ``python bench/ingest.py [--lines 1000000] [--baseline-lines 20000] [--database-url URL] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from tests.factories import write_rekeyed_snapshot  # noqa: E402

TARGET_PAPERS_PER_S = 10_000
TARGET_RSS_MB = 500


def shared_data() -> Path:
    path = Path(os.environ.get("DAILYPAPERS_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not (path / "arxiv").exists():
        sys.exit(f"bench/ingest.py needs the real data at {path} (set DAILYPAPERS_SHARED_DATA)")
    return path


def make_snapshot(lines: int, out_dir: Path) -> Path:
    path = out_dir / f"snapshot-{lines}.jsonl"
    if not path.exists() or path.stat().st_size == 0:
        tmp = path.with_suffix(".tmp")
        write_rekeyed_snapshot(shared_data(), tmp, lines)
        tmp.replace(path)
    return path


def run_pipeline(snapshot: Path, database_url: str | None, data_dir: Path) -> dict[str, float]:
    env = {**os.environ, "DAILYPAPERS_DATA_DIR": str(data_dir)}
    if database_url:
        env["DAILYPAPERS_DATABASE_URL"] = database_url
    start = time.perf_counter()
    process = subprocess.Popen(
        # Ingest alone: updating the search index afterwards (the default) would embed every paper.
        [sys.executable, "-m", "dailypapers", "ingest", str(snapshot), "--json", "--no-index"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Peak RSS of the whole process tree (the writer and its parser process), sampled every 100 ms.
    peak_bytes = 0
    tree = psutil.Process(process.pid)
    while process.poll() is None:
        try:
            members = [tree, *tree.children(recursive=True)]
            peak_bytes = max(peak_bytes, sum(p.memory_info().rss for p in members if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.1)
    stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"ingest failed: {stderr.strip()}")
    report = json.loads(stdout)
    peak_mb = peak_bytes / 2**20
    return {
        "papers": report["new"],
        "seconds": elapsed,
        "papers_per_s": report["new"] / elapsed,
        "peak_rss_mb": peak_mb,
    }


def parse_only(snapshot: Path, limit: int) -> dict[str, float]:
    from dailypapers.ingest.formats.snapshot import iter_snapshot

    start = time.perf_counter()
    count = 0
    with snapshot.open("rb") as handle:
        for _item, _line, _offset in iter_snapshot(handle):
            count += 1
            if count >= limit:
                break
    elapsed = time.perf_counter() - start
    return {"papers": count, "seconds": elapsed, "papers_per_s": count / elapsed}


def naive_orm(snapshot: Path, limit: int, data_dir: Path) -> dict[str, float]:
    """One ORM object per paper, merged one at a time: the baseline the batched pipeline replaces."""
    from datetime import UTC, datetime

    from dailypapers.config import Settings
    from dailypapers.db import create_engine_from_settings, make_session_factory, upgrade_schema
    from dailypapers.ingest.merge import title_hash
    from dailypapers.models import Paper, PaperCategory, PaperSource

    engine = create_engine_from_settings(Settings(data_dir=data_dir))
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    start = time.perf_counter()
    count = 0
    now = datetime.now(UTC)
    with sessions() as session, snapshot.open("rb") as handle:
        for line in handle:
            raw = json.loads(line)
            categories = raw["categories"].split()
            paper = Paper(
                id=raw["id"],
                arxiv_id=raw["id"],
                title=" ".join(raw["title"].split()),
                title_hash=title_hash(raw["title"]),
                abstract=" ".join(raw["abstract"].split()),
                authors=[" ".join(reversed(a[:2])).strip() for a in raw["authors_parsed"]],
                categories=categories,
                primary_category=categories[0],
                versions=[],
                code_urls=[],
                extra={},
                first_seen_at=now,
                changed_at=now,
            )
            session.merge(paper)
            for position, category in enumerate(categories):
                session.merge(PaperCategory(paper_id=raw["id"], category=category, position=position))
            session.merge(PaperSource(paper_id=raw["id"], source="arxiv-snapshot", first_seen_at=now))
            count += 1
            if count % 2000 == 0:
                session.commit()
            if count >= limit:
                break
        session.commit()
    elapsed = time.perf_counter() - start
    engine.dispose()
    return {"papers": count, "seconds": elapsed, "papers_per_s": count / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000, help="snapshot lines for the pipeline run")
    parser.add_argument("--baseline-lines", type=int, default=20_000, help="lines for the two baselines")
    parser.add_argument("--database-url", help="database for the pipeline run (default: a fresh SQLite file)")
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "out", help="folder for the generated snapshot"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    console = Console(stderr=True)
    args.out.mkdir(parents=True, exist_ok=True)
    with console.status(f"writing a {args.lines:,}-line snapshot from the real 200 lines"):
        snapshot = make_snapshot(args.lines, args.out)
    with tempfile.TemporaryDirectory(prefix="dp-bench-") as tmp:
        with console.status("baseline: parse only"):
            parse = parse_only(snapshot, args.baseline_lines)
        with console.status("baseline: naive ORM importer"):
            naive = naive_orm(snapshot, args.baseline_lines, Path(tmp) / "naive")
        with console.status(f"dailypapers ingest of {args.lines:,} lines"):
            pipeline = run_pipeline(snapshot, args.database_url, Path(tmp) / "pipeline")

    results = {
        "lines": args.lines,
        "snapshot_bytes": snapshot.stat().st_size,
        "database": args.database_url.split("://")[0] if args.database_url else "sqlite",
        "pipeline": pipeline,
        "baseline_parse_only": parse,
        "baseline_naive_orm": naive,
        "speedup_over_naive": pipeline["papers_per_s"] / naive["papers_per_s"],
        "targets": {"papers_per_s": TARGET_PAPERS_PER_S, "peak_rss_mb": TARGET_RSS_MB},
        "meets_targets": pipeline["papers_per_s"] >= TARGET_PAPERS_PER_S
        and pipeline["peak_rss_mb"] <= TARGET_RSS_MB,
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    table = Table(title=f"Ingest of {args.lines:,} re-keyed snapshot lines ({results['database']})")
    for column in ("run", "papers", "seconds", "papers/s", "peak RSS MB"):
        table.add_column(column, justify="right" if column != "run" else "left")
    table.add_row(
        "dailypapers ingest",
        f"{pipeline['papers']:,}",
        f"{pipeline['seconds']:.1f}",
        f"{pipeline['papers_per_s']:,.0f}",
        f"{pipeline['peak_rss_mb']:.0f}",
    )
    table.add_row(
        "baseline: parse only",
        f"{parse['papers']:,}",
        f"{parse['seconds']:.1f}",
        f"{parse['papers_per_s']:,.0f}",
        "",
    )
    table.add_row(
        "baseline: naive ORM",
        f"{naive['papers']:,}",
        f"{naive['seconds']:.1f}",
        f"{naive['papers_per_s']:,.0f}",
        "",
    )
    Console().print(table)
    verdict = "meets" if results["meets_targets"] else "MISSES"
    Console().print(
        f"{results['speedup_over_naive']:.1f}x the naive importer; {verdict} the targets "
        f"(>= {TARGET_PAPERS_PER_S:,} papers/s, <= {TARGET_RSS_MB} MB peak RSS)."
    )


if __name__ == "__main__":
    main()

"""Plain functions that build test inputs from the real data in ../shared/data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

SNAPSHOT = Path("arxiv/oai-snapshot/arxiv-metadata-oai-snapshot.first200.jsonl")


def new_style_ids() -> Iterator[str]:
    """Valid new-style arXiv ids (5-digit numbers, months 2015-01 to 2026-12), never seen in the real data."""
    for year in range(15, 27):
        for month in range(1, 13):
            for number in range(1, 100000):
                yield f"{year:02d}{month:02d}.{number:05d}"


def rekeyed_snapshot_lines(shared_data: Path, count: int) -> Iterator[bytes]:
    """``count`` snapshot lines made from the real 200 by giving each copy a new arXiv id.

    Titles get the copy number appended so that the papers stay distinguishable.
    """
    originals = [
        json.loads(line) for line in (shared_data / SNAPSHOT).read_bytes().splitlines() if line.strip()
    ]
    ids = new_style_ids()
    for index in range(count):
        record = dict(originals[index % len(originals)])
        record["id"] = next(ids)
        if index >= len(originals):
            record["title"] = f"{record['title']} ({index // len(originals)})"
        yield json.dumps(record).encode() + b"\n"


def write_rekeyed_snapshot(shared_data: Path, path: Path, count: int) -> Path:
    with path.open("wb") as handle:
        for line in rekeyed_snapshot_lines(shared_data, count):
            handle.write(line)
    return path

"""Progress of long work: rows that fit 80 columns, and an embedding bar that moves while a chunk embeds."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from rich.console import Console

from dailypapers.cli import common
from dailypapers.search.build import IndexBuilder
from dailypapers.search.index import IndexDoc, IndexStore


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> Console:
    """An 80-column terminal that records what the bars draw."""
    # Not a terminal: the live display draws no intermediate frames, only the final rows when it stops.
    console = Console(width=80, record=True, force_terminal=False, color_system=None, file=io.StringIO())
    monkeypatch.setattr(common, "err_console", console)
    return console


def _rows(console: Console) -> list[str]:
    return [line.rstrip() for line in console.export_text().splitlines() if line.strip()]


FILES = [
    ("/srv/data/arxiv/oai-snapshot/arxiv-metadata-oai-snapshot.first200.jsonl", 287_303),
    ("/srv/data/arxiv/oai-pmh/invenio-sample_arxiv_response_listrecords_physics.xml", 1_265_004),
    ("/srv/data/hf-daily-papers/daily_papers-2026-06-12.sotawhat.json", 126_031),
]


def test_file_rows_stay_readable_at_80_columns(screen: Console) -> None:
    with common.progress_bar(True) as update:
        assert update is not None
        for label, size in FILES:
            update(label, size // 3, size)
    rows = _rows(screen)
    assert len(rows) == len(FILES)
    for row, (label, _size) in zip(rows, FILES, strict=True):
        assert len(row) <= 80, row
        name = Path(label).name
        # The file is recognisable (its name, or the end of a long one), and the figures are all there.
        assert name in row or name[-12:] in row, row
        assert re.search(r"\d+(\.\d+)?/\d+(\.\d+)? [kM]B", row), row
        assert "━" in row and re.search(r"\d+:\d\d:\d\d|-:--:--", row), row


def test_index_rows_show_papers_done_rate_and_time_left(screen: Console) -> None:
    with common.progress_bar(True, unit="items") as update:
        assert update is not None
        update("Reading papers", 588, 588)
        for done in (0, 40, 80, 120):
            update("Embedding", done, 588)
            time.sleep(0.05)
    rows = _rows(screen)
    embedding = next(row for row in rows if row.startswith("Embedding"))
    assert len(embedding) <= 80
    assert "120/588" in embedding
    assert re.search(r"\d[\d,.]*/s", embedding), embedding  # papers per second
    assert re.search(r"\d+:\d\d:\d\d", embedding), embedding  # and the time left


def test_embedding_progress_moves_within_a_chunk(tmp_path: Path) -> None:
    pytest.importorskip("wordllama")
    from dailypapers.search.embedders.word_llama import WordLlamaEmbedder

    reports: list[tuple[str, int, int | None]] = []
    builder = IndexBuilder(
        IndexStore(tmp_path), WordLlamaEmbedder(batch_size=4), progress=lambda *r: reports.append(r)
    )
    docs = [
        IndexDoc(id=f"p{n:03d}", title=f"Paper {n}", abstract="One sentence. Another sentence here. " * 3)
        for n in range(30)
    ]
    builder.build(docs)
    embedding = [done for label, done, total in reports if label == "Embedding" and total == 30]
    # 30 papers are one chunk; the bar still moves batch by batch, from 0 to all of them.
    assert embedding[0] == 0 and embedding[-1] == 30
    assert embedding == sorted(embedding)
    assert len(set(embedding)) >= 10

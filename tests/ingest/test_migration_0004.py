"""Migration 0004 on a database with papers: their LaTeX text becomes Unicode, as ingest now makes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, inspect

from dailypapers.db import _alembic_config
from dailypapers.ingest.merge import title_hash
from dailypapers.search.index import IndexDoc

BEFORE = datetime(2026, 1, 1, tzinfo=UTC)

PAPERS = sa.table(
    "papers",
    *(sa.column(name) for name in ("id", "arxiv_id", "title", "title_hash", "abstract", "primary_category")),
    *(sa.column(name, sa.JSON) for name in ("authors", "categories", "versions", "code_urls", "extra")),
    *(sa.column(name, sa.DateTime(timezone=True)) for name in ("first_seen_at", "changed_at")),
)


def _paper(paper_id: str, title: str, abstract: str, authors: list[str]) -> dict[str, Any]:
    return {
        "id": paper_id,
        "arxiv_id": paper_id,
        "title": title,
        "title_hash": title_hash(title),
        "abstract": abstract,
        "primary_category": "math.PR",
        "authors": authors,
        "categories": ["math.PR"],
        "versions": [],
        "code_urls": [],
        "extra": {},
        "first_seen_at": BEFORE,
        "changed_at": BEFORE,
    }


def _migrate(engine: Engine, target: str, *, down: bool = False) -> None:
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, target)


def test_stored_papers_are_rewritten_in_batches_and_marked_changed(engine: Engine) -> None:
    _migrate(engine, "0003", down=True)
    assert "categories_predicted" not in {c["name"] for c in inspect(engine).get_columns("papers")}
    stored = [
        _paper(
            "0704.0019", r"Extinction and the Gr\"obner basis", r"Using $\alpha$ and Gr\"obner bases.", []
        ),
        _paper("0704.0028", "A plain title", r"The bound of R\'ev\'esz and 10% more.", [r"P\'eter Major"]),
        _paper("0704.0062", "Untouched $\\alpha$ math", r"Keeps $\'e$ and \cite{x}.", ["Ada Lovelace"]),
    ]
    # More than one batch of the migration, most without markup.
    stored += [_paper(f"2601.{n:05d}", f"Paper {n}", "Plain text.", ["A. Author"]) for n in range(1200)]
    stored += [_paper("2602.00001", r"Last: Erd{\H{o}}s", "Text.", [])]
    with engine.begin() as connection:
        connection.execute(sa.insert(PAPERS), stored)
    before = {p["id"]: IndexDoc(p["id"], p["title"], p["abstract"]).content_hash for p in stored}

    _migrate(engine, "head")
    columns = [*PAPERS.c, sa.column("categories_predicted")]
    with engine.connect() as connection:
        rows = {row.id: row for row in connection.execute(sa.select(*columns).select_from(PAPERS))}
    grobner, revesz, untouched = rows["0704.0019"], rows["0704.0028"], rows["0704.0062"]
    assert grobner.title == "Extinction and the Gröbner basis"
    assert grobner.abstract == r"Using $\alpha$ and Gröbner bases."
    assert grobner.title_hash == title_hash("Extinction and the Gröbner basis")
    assert revesz.abstract == "The bound of Révész and 10% more."
    assert revesz.authors == ["Péter Major"]
    assert rows["2602.00001"].title == "Last: Erdős"
    assert (untouched.title, untouched.abstract) == ("Untouched $\\alpha$ math", r"Keeps $\'e$ and \cite{x}.")

    def changed(row: Any) -> bool:
        return bool(
            (row.changed_at if row.changed_at.tzinfo else row.changed_at.replace(tzinfo=UTC)) > BEFORE
        )

    # The rewritten papers are marked changed, and the index sees new text to embed; the others are not.
    assert {paper_id for paper_id, row in rows.items() if changed(row)} == {
        "0704.0019",
        "0704.0028",
        "2602.00001",
    }
    after = {
        paper_id: IndexDoc(paper_id, row.title, row.abstract).content_hash for paper_id, row in rows.items()
    }
    assert {paper_id for paper_id in rows if after[paper_id] != before[paper_id]} == {
        "0704.0019",
        "0704.0028",
        "2602.00001",
    }
    assert not any(row.categories_predicted for row in rows.values())


def test_the_downgrade_takes_predicted_categories_away(engine: Engine) -> None:
    paper = _paper("2606.00001", "A paper", "Text.", [])
    with engine.begin() as connection:
        connection.execute(sa.insert(PAPERS), [paper])
        connection.execute(sa.text("UPDATE papers SET categories_predicted = true"))
        connection.execute(
            sa.text("INSERT INTO paper_categories (paper_id, category, position) VALUES (:id, 'math.PR', 0)"),
            {"id": "2606.00001"},
        )
    _migrate(engine, "0003", down=True)
    tables = inspect(engine).get_table_names()
    assert "paper_aliases" not in tables
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT primary_category FROM papers")).scalar_one() is None
        assert connection.execute(sa.text("SELECT count(*) FROM paper_categories")).scalar_one() == 0
    _migrate(engine, "head")
    assert "paper_aliases" in inspect(engine).get_table_names()

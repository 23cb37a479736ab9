"""Paper metadata: Unicode text from LaTeX, categories that are predicted

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 12:00:00

* ``papers.categories_predicted``: categories that no source gave, predicted from similar papers;
* ``paper_aliases``: the old ids of papers merged into another (a copied listing's paper into its arXiv
  paper), so that links to them keep working;
* a data migration that converts the LaTeX text markup of stored titles, abstracts and author names to
  Unicode, as ingest now does, with the same code, so a stored paper equals the same paper ingested
  today. Rewritten papers get a new ``changed_at``; their text changed, so the next index update
  (``dailypapers index``, or the one after an ingest) embeds them again. Papers are read and written
  in batches, so the migration's memory does not grow with the database.

The downgrade drops the column and the table and takes predicted categories away again (an older
version would show them as real); the text stays converted, since the LaTeX source is not kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 1000

_papers = sa.table(
    "papers",
    sa.column("id", sa.String),
    sa.column("title", sa.Text),
    sa.column("title_hash", sa.BigInteger),
    sa.column("abstract", sa.Text),
    sa.column("authors", sa.JSON),
    sa.column("categories", sa.JSON),
    sa.column("primary_category", sa.String),
    sa.column("categories_predicted", sa.Boolean),
    sa.column("changed_at", sa.DateTime(timezone=True)),
)
_categories = sa.table("paper_categories", sa.column("paper_id", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("papers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("categories_predicted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "paper_aliases",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("paper_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_paper_aliases_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_aliases")),
    )
    with op.batch_alter_table("paper_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_aliases_paper_id"), ["paper_id"], unique=False)
    convert_latex_in_stored_papers(op.get_bind(), now=datetime.now(UTC))


def convert_latex_in_stored_papers(connection: sa.Connection, *, now: datetime) -> int:
    """Rewrite the papers whose title, abstract or authors hold LaTeX markup; returns how many changed."""
    from dailypapers.ingest.latex import latex_text
    from dailypapers.ingest.merge import title_hash
    from dailypapers.ingest.text import latex_to_unicode

    # Only text with a backslash can hold markup; LIKE with an escape character works on both databases.
    has_markup = sa.or_(
        _papers.c.title.contains("\\", autoescape=True),
        _papers.c.abstract.contains("\\", autoescape=True),
        sa.cast(_papers.c.authors, sa.Text).contains("\\", autoescape=True),
    )
    changed = 0
    last = ""
    while True:
        rows = connection.execute(
            sa.select(_papers.c.id, _papers.c.title, _papers.c.abstract, _papers.c.authors)
            .where(_papers.c.id > last, has_markup)
            .order_by(_papers.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return changed
        updates: list[dict[str, Any]] = []
        for paper_id, title, abstract, authors in rows:
            new_title = latex_text(title or "")
            new_abstract = latex_text(abstract or "")
            new_authors = [latex_to_unicode(name) for name in authors or []]
            if (new_title, new_abstract, new_authors) != (title, abstract, list(authors or [])):
                updates.append(
                    {
                        "_id": paper_id,
                        "title": new_title,
                        "title_hash": title_hash(new_title),
                        "abstract": new_abstract,
                        "authors": new_authors,
                        "changed_at": now,
                    }
                )
        if updates:
            connection.execute(
                sa.update(_papers)
                .where(_papers.c.id == sa.bindparam("_id"))
                .values(
                    title=sa.bindparam("title"),
                    title_hash=sa.bindparam("title_hash"),
                    abstract=sa.bindparam("abstract"),
                    authors=sa.bindparam("authors"),
                    changed_at=sa.bindparam("changed_at"),
                ),
                updates,
            )
            changed += len(updates)
        last = rows[-1][0]


def downgrade() -> None:
    connection = op.get_bind()
    predicted = sa.select(_papers.c.id).where(_papers.c.categories_predicted.is_(True))
    connection.execute(sa.delete(_categories).where(_categories.c.paper_id.in_(predicted)))
    connection.execute(
        sa.update(_papers)
        .where(_papers.c.categories_predicted.is_(True))
        .values(categories=[], primary_category=None)
    )
    with op.batch_alter_table("paper_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_aliases_paper_id"))
    op.drop_table("paper_aliases")
    with op.batch_alter_table("papers", schema=None) as batch_op:
        batch_op.drop_column("categories_predicted")

"""The library: collections of papers kept by accounts, with a note per paper

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:00:00

Adds ``collections`` (private unless shared, a slug unique per owner) and ``collection_papers``. Both go
with the account, collection or paper they belong to (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("shared", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_collections_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
        sa.UniqueConstraint("owner_id", "slug", name="uq_collections_owner_id_slug"),
    )
    op.create_table(
        "collection_papers",
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_collection_papers_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_collection_papers_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("collection_id", "paper_id", name=op.f("pk_collection_papers")),
    )
    with op.batch_alter_table("collection_papers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_collection_papers_collection_id_added_at", ["collection_id", "added_at"], unique=False
        )
        batch_op.create_index("ix_collection_papers_paper_id", ["paper_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("collection_papers", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_papers_paper_id")
        batch_op.drop_index("ix_collection_papers_collection_id_added_at")
    op.drop_table("collection_papers")
    op.drop_table("collections")

"""Submissions: every attempt counts toward the daily limit

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 12:00:00

Adds ``submission_attempts``, one row per paper an account asked to submit or fetch, and fills it from
``submissions`` so that the papers already submitted today still count after the upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("action IN ('submit', 'fetch')", name=op.f("ck_submission_attempts_action")),
        sa.CheckConstraint(
            "outcome IN ('pending', 'added', 'already', 'fetched', 'not_found', 'too_old', 'failed', 'busy')",
            name=op.f("ck_submission_attempts_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_submission_attempts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_attempts")),
    )
    with op.batch_alter_table("submission_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_submission_attempts_user_id_created_at", ["user_id", "created_at"], unique=False
        )
    op.execute(
        "INSERT INTO submission_attempts (user_id, paper_id, action, outcome, created_at, finished_at) "
        "SELECT user_id, paper_id, 'submit', 'added', created_at, created_at FROM submissions"
    )


def downgrade() -> None:
    with op.batch_alter_table("submission_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_submission_attempts_user_id_created_at")
    op.drop_table("submission_attempts")

"""subscriptions, outbox messages, digest papers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 13:29:08.508760
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("selection", sa.String(length=8), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("exclude_keywords", sa.JSON(), nullable=False),
        sa.Column("max_papers", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("send_hour", sa.Integer(), nullable=False),
        sa.Column("token_key", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("hard_bounces", sa.Integer(), nullable=False),
        sa.Column("last_bounce", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmation_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("frequency IN ('daily', 'weekly')", name=op.f("ck_subscriptions_frequency")),
        sa.CheckConstraint("selection IN ('trending', 'new')", name=op.f("ck_subscriptions_selection")),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'paused', 'unsubscribed')", name=op.f("ck_subscriptions_status")
        ),
        sa.CheckConstraint("max_papers >= 1 AND max_papers <= 100", name=op.f("ck_subscriptions_max_papers")),
        sa.CheckConstraint("send_hour >= 0 AND send_hour <= 23", name=op.f("ck_subscriptions_send_hour")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint("email", name=op.f("uq_subscriptions_email")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscriptions_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscriptions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("message", sa.LargeBinary(), nullable=False),
        sa.Column("paper_count", sa.Integer(), nullable=False),
        sa.Column("covers_from", sa.Date(), nullable=True),
        sa.Column("covers_to", sa.Date(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')",
            name=op.f("ck_outbox_messages_status"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_outbox_messages_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_messages_message_id")),
        sa.UniqueConstraint("subscription_id", "period", name="uq_outbox_messages_subscription_period"),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_messages_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index("ix_outbox_messages_period", ["period"], unique=False)
        batch_op.create_index("ix_outbox_messages_covers_to", ["covers_to"], unique=False)

    op.create_table(
        "digest_papers",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=64), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox_messages.id"],
            name=op.f("fk_digest_papers_outbox_id_outbox_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_digest_papers_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_digest_papers_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscription_id", "paper_id", name=op.f("pk_digest_papers")),
    )
    with op.batch_alter_table("digest_papers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_papers_outbox_id"), ["outbox_id"], unique=False)
        batch_op.create_index("ix_digest_papers_paper_id", ["paper_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("digest_papers", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_papers_paper_id")
        batch_op.drop_index(batch_op.f("ix_digest_papers_outbox_id"))

    op.drop_table("digest_papers")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_covers_to")
        batch_op.drop_index("ix_outbox_messages_period")
        batch_op.drop_index("ix_outbox_messages_status_next_attempt_at")

    op.drop_table("outbox_messages")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_user_id"))
        batch_op.drop_index(batch_op.f("ix_subscriptions_status"))

    op.drop_table("subscriptions")

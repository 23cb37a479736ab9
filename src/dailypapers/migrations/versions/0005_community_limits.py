"""Community limits: log-in throttling per account and address pair, comment rate limits

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 12:00:00

Failed log-ins are now counted per account and client address together (``pair:...`` keys) and per
address, no longer per account alone: the old ``account:...`` rows (and ``name:...``, their form for
names without an account) are never read again, and a lockout they hold would only linger, so they are
dropped (a downgrade starts those counts from zero, which is what they do a day after the last failure
anyway). Comments get an index on (user, time) for the hourly comment limit.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index("ix_comments_user_id_created_at", ["user_id", "created_at"], unique=False)
    op.execute("DELETE FROM login_throttle WHERE key LIKE 'account:%' OR key LIKE 'name:%'")


def downgrade() -> None:
    op.execute("DELETE FROM login_throttle WHERE key LIKE 'pair:%'")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_user_id_created_at")

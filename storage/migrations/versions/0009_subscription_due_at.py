"""Each digest subscription says when planning next has a digest to record for it (`due_at`),
so a tick looks only at the subscriptions due

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: planning looks at it at the next tick (so every existing subscription), then
    # stores its schedule's next occurrence
    op.add_column("digest_subscriptions", sa.Column("due_at", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_digest_subscriptions_due_at"), "digest_subscriptions", ["due_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_digest_subscriptions_due_at"), table_name="digest_subscriptions")
    op.drop_column("digest_subscriptions", "due_at")

"""Bot tokens Slack has refused for good (app uninstalled, token revoked, account inactive):
while one is recorded for the token a process holds, that process neither plans nor sends

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_access_refusals",
        sa.Column("token_key", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_key", name=op.f("pk_slack_access_refusals")),
    )


def downgrade() -> None:
    op.drop_table("slack_access_refusals")

"""The portfolio's working hours (portfolio_settings) and each digest's grace window

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 15:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portfolio_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_portfolio_settings")),
    )
    with op.batch_alter_table("digest_subscriptions") as batch:
        batch.add_column(sa.Column("grace_hours", sa.Integer(), server_default="2", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("digest_subscriptions") as batch:
        batch.drop_column("grace_hours")
    op.drop_table("portfolio_settings")

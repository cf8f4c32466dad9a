"""What the planning watch needs: each project's score for the database to sort by, the PM's
word on the team's capacity in each report, and what was raised once (a project under the cut
line, a person over 100 % in a month) with how bad it was

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 23:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of projects would cascade-delete on SQLite (see 0016).
    # The scores are computed by the bot (bot/priorities/stored.py) when it starts.
    op.add_column("projects", sa.Column("rank_score", sa.Numeric(18, 4), nullable=True))
    op.add_column("status_reports", sa.Column("capacity_pulse", sa.String(8), nullable=True))
    op.create_table(
        "alerts",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("level", sa.Numeric(18, 4), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "subject", "period", name=op.f("pk_alerts")),
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_column("status_reports", "capacity_pulse")
    op.drop_column("projects", "rank_score")

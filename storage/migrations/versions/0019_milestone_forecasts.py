"""Milestones carry a forecast (issue 16): the PM's latest in the status modal, on the
milestone, and each change of it, with the report it came with

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 01:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of milestones would cascade-delete on SQLite (see 0016).
    op.add_column("milestones", sa.Column("forecast", sa.Date(), nullable=True))
    op.create_table(
        "milestone_forecasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("forecast", sa.Date(), nullable=False),
        sa.Column("said_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_milestone_forecasts_milestone_id_milestones"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["status_reports.id"],
            name=op.f("fk_milestone_forecasts_report_id_status_reports"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_forecasts")),
    )
    op.create_index(
        op.f("ix_milestone_forecasts_milestone_id"), "milestone_forecasts", ["milestone_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_milestone_forecasts_milestone_id"), table_name="milestone_forecasts")
    op.drop_table("milestone_forecasts")
    op.drop_column("milestones", "forecast")

"""What earned value needs beyond the report: a project's planned progress curve (`plan`) and
tolerances, and the PM's own forecast at completion in each report

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 18:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("plan", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("tolerances", sa.JSON(), nullable=True))
    with op.batch_alter_table("status_reports") as batch:
        batch.add_column(
            sa.Column("forecast_at_completion", sa.Numeric(precision=18, scale=2), nullable=True)
        )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35 and later): a batch operation would copy each table and
    # drop the old one, which on SQLite cascades to the rows pointing at it (every report of
    # the projects, and what points at the reports).
    op.drop_column("status_reports", "forecast_at_completion")
    op.drop_column("projects", "tolerances")
    op.drop_column("projects", "plan")

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
    with op.batch_alter_table("status_reports") as batch:
        batch.drop_column("forecast_at_completion")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("tolerances")
        batch.drop_column("plan")

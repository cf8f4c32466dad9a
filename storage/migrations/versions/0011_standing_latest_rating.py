"""Each standing keeps its latest report's overall rating, whatever its period: `/pmo list red`
finds the red projects from one index, not one report look-up per standing rated in an
earlier period

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 05:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("project_standings", sa.Column("latest_rating", sa.String(8), nullable=True))
    op.create_index(
        op.f("ix_project_standings_latest_rating"), "project_standings", ["latest_rating"]
    )
    # every standing is recomputed (by the next tick or reader), now with its latest rating
    op.execute("UPDATE project_standings SET valid_until = NULL, generation = generation + 1")


def downgrade() -> None:
    op.drop_index(op.f("ix_project_standings_latest_rating"), table_name="project_standings")
    op.drop_column("project_standings", "latest_rating")

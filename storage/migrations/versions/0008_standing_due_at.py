"""The standing says when planning next has something to record for the project (`due_at`),
so a tick looks only at the projects due

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 22:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("project_standings", sa.Column("due_at", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_project_standings_due_at"), "project_standings", ["due_at"])
    # every standing is recomputed (by the next tick or reader), now with its due_at
    op.execute("UPDATE project_standings SET valid_until = NULL, generation = generation + 1")


def downgrade() -> None:
    op.drop_index(op.f("ix_project_standings_due_at"), table_name="project_standings")
    op.drop_column("project_standings", "due_at")

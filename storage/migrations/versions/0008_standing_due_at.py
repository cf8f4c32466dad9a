"""The standing says when planning next has something to record for the project (`due_at`)
and whether planning looked at it since the last write it rests on (`planned`), so a tick
looks only at the projects due

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
    op.add_column(
        "project_standings",
        sa.Column("planned", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(op.f("ix_project_standings_planned"), "project_standings", ["planned"])
    # every standing is recomputed (by the next tick or reader), now with its due_at, and
    # every project has one: planning reads what is due from this table alone
    op.execute("UPDATE project_standings SET valid_until = NULL, generation = generation + 1")
    op.execute(
        "INSERT INTO project_standings (project_id, generation) SELECT id, 1 FROM projects"
        " WHERE id NOT IN (SELECT project_id FROM project_standings)"
    )
    # whose profiles a tick refreshes: those fetched longest ago
    op.create_index(op.f("ix_slack_users_fetched_at"), "slack_users", ["fetched_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_slack_users_fetched_at"), table_name="slack_users")
    op.drop_index(op.f("ix_project_standings_planned"), table_name="project_standings")
    op.drop_column("project_standings", "planned")
    op.drop_index(op.f("ix_project_standings_due_at"), table_name="project_standings")
    op.drop_column("project_standings", "due_at")

"""Actions a decision sets (a title, one owner, a due date, tracked to done), and the deciders a
digest subscription names (who may decide the asks of the projects it covers)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digest_subscriptions") as batch:
        batch.add_column(sa.Column("deciders", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "decision_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_decision_actions_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_decision_actions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_actions")),
    )
    op.create_index(op.f("ix_decision_actions_decision_id"), "decision_actions", ["decision_id"])
    op.create_index(op.f("ix_decision_actions_project_id"), "decision_actions", ["project_id"])
    op.create_index("ix_decision_actions_owner_state", "decision_actions", ["owner", "state"])


def downgrade() -> None:
    op.drop_index("ix_decision_actions_owner_state", table_name="decision_actions")
    op.drop_index(op.f("ix_decision_actions_project_id"), table_name="decision_actions")
    op.drop_index(op.f("ix_decision_actions_decision_id"), table_name="decision_actions")
    op.drop_table("decision_actions")
    with op.batch_alter_table("digest_subscriptions") as batch:
        batch.drop_column("deciders")

"""Gates and change requests (issue 17): each request, each baseline kept, and the kind of a
decision (a report's ask, a gate's or a change's)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 03:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (see 0016): every decision so far is a report's ask.
    op.add_column(
        "decisions", sa.Column("kind", sa.String(16), nullable=False, server_default="ask")
    )
    op.create_table(
        "stage_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(32), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("from_phase", sa.String(50), nullable=True),
        sa.Column("to_phase", sa.String(50), nullable=True),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("new_end", sa.Date(), nullable=True),
        sa.Column("new_budget", sa.Numeric(18, 2), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("decided_by", sa.String(32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_stage_requests_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_stage_requests_decision_id_decisions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_requests")),
    )
    op.create_index(op.f("ix_stage_requests_project_id"), "stage_requests", ["project_id"])
    op.create_index(
        "uq_stage_requests_pending",
        "stage_requests",
        ["project_id", "kind"],
        unique=True,
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_table(
        "project_baselines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("budget", sa.Numeric(18, 2), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("milestones", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_baselines_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["stage_requests.id"],
            name=op.f("fk_project_baselines_request_id_stage_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_baselines")),
        sa.UniqueConstraint("project_id", "number", name="uq_project_baselines"),
    )


def downgrade() -> None:
    op.drop_table("project_baselines")
    op.drop_index("uq_stage_requests_pending", table_name="stage_requests")
    op.drop_index(op.f("ix_stage_requests_project_id"), table_name="stage_requests")
    op.drop_table("stage_requests")
    # A gate's or a change's decision (and the conditions it set) goes with its request: left,
    # it would read as the project's ask to the code before this revision, and come back up
    # as one.
    op.execute(
        "DELETE FROM decision_actions WHERE decision_id IN"
        " (SELECT id FROM decisions WHERE kind <> 'ask')"
    )
    op.execute("DELETE FROM decisions WHERE kind <> 'ask'")
    op.drop_column("decisions", "kind")

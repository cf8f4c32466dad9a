"""The read model: each project's standing, kept by the writes it rests on; the projects'
version token (a process's copy of the projects holds while it is current)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 21:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "project_standings",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=True),
        sa.Column("computed_at", sa.BigInteger(), nullable=True),
        sa.Column("basis", sa.String(length=80), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("period_start", sa.BigInteger(), nullable=True),
        sa.Column("period_end", sa.BigInteger(), nullable=True),
        sa.Column("period_since", sa.BigInteger(), nullable=True),
        sa.Column("period_tz", sa.String(length=64), nullable=True),
        sa.Column("late_at", sa.BigInteger(), nullable=True),
        sa.Column("stale_since", sa.BigInteger(), nullable=True),
        sa.Column("prompt_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.String(length=8), nullable=True),
        sa.Column("attention", sa.String(length=16), nullable=True),
        sa.Column("needed_by", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_standings_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_standings")),
    )
    op.create_index(op.f("ix_project_standings_valid_until"), "project_standings", ["valid_until"])
    op.create_table(
        "versions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_versions")),
    )
    op.execute("INSERT INTO versions (name, token) VALUES ('projects', 'migrated')")


def downgrade() -> None:
    op.drop_table("versions")
    op.drop_index(op.f("ix_project_standings_valid_until"), table_name="project_standings")
    op.drop_table("project_standings")

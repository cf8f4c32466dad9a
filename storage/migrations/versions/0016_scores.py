"""How a project is ranked: its scores on the portfolio's criteria, whether it is mandatory,
its business case (benefits by year, and its cost when not the budget), its roles (RACI) and
its allocations of people's time

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 21:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN (SQLite takes a NOT NULL column with a default): a
    # batch operation would copy the projects table, and dropping the old one on SQLite
    # cascades to the rows that point at it.
    op.add_column("projects", sa.Column("scores", sa.JSON(), nullable=True))
    op.add_column(
        "projects",
        sa.Column("mandatory", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("projects", sa.Column("benefits", sa.JSON(), nullable=True))
    op.add_column("projects", sa.Column("cost", sa.Numeric(precision=18, scale=2), nullable=True))
    op.add_column("projects", sa.Column("roles", sa.JSON(), nullable=True))
    op.add_column("projects", sa.Column("allocations", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35 and later), for the same reason as above.
    for column in ("allocations", "roles", "cost", "benefits", "mandatory", "scores"):
        op.drop_column("projects", column)

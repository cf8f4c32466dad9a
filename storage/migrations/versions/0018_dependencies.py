"""What a project needs from others (issue 16): its dependencies on another project's
milestone or end

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 00:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of projects would cascade-delete on SQLite (see 0016).
    op.add_column("projects", sa.Column("depends_on", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("projects", "depends_on")

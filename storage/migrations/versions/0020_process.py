"""Each project's phase in the delivery process (issue 17; the process itself is a setting)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 01:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of projects would cascade-delete on SQLite (see 0016).
    op.add_column("projects", sa.Column("phase", sa.String(50), nullable=True))


def downgrade() -> None:
    op.drop_column("projects", "phase")

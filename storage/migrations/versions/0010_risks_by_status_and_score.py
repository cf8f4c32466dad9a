"""Open risks by probability and impact: `/pmo risks` counts the open risks of each score and
reads only those it shows from one index, not every risk of every project

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 04:30:00
"""

from alembic import op


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # status first (the open ones), then what a score is made of, then the project (what a
    # reader may see): counting them reads the index alone, the first scores are its ranges
    op.create_index(
        "ix_risks_status_probability_impact",
        "risks",
        ["status", "probability", "impact", "project_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_risks_status_probability_impact", table_name="risks")

"""Closed projects' archived records (Markdown, with the closing summary and lessons)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ArchiveRow


def save_archive(
    session: Session,
    *,
    project_id: int,
    closed_by: str,
    closed_at: datetime,
    summary: str,
    lessons: str,
    markdown: str,
) -> None:
    session.add(
        ArchiveRow(
            project_id=project_id,
            closed_by=closed_by,
            closed_at=closed_at,
            summary=summary,
            lessons=lessons,
            markdown=markdown,
        )
    )


def archived_since(session: Session, project_id: int, since: datetime) -> bool:
    """Whether the project was archived at or after `since` (its last closing)."""
    found = session.scalar(
        select(ArchiveRow.id).where(
            ArchiveRow.project_id == project_id, ArchiveRow.closed_at >= since
        )
    )
    return found is not None

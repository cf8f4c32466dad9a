"""Closed projects' archived records (Markdown, with the closing summary and lessons)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ArchiveRow
from storage.records import Closing


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


def find_closing(session: Session, project_id: int, closed_at: datetime) -> Closing | None:
    """The project's closing archived at `closed_at` (each closing has its own), or None."""
    row = session.scalars(
        select(ArchiveRow)
        .where(ArchiveRow.project_id == project_id, ArchiveRow.closed_at == closed_at)
        .order_by(ArchiveRow.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return Closing(row.project_id, row.closed_by, row.closed_at, row.summary, row.lessons)

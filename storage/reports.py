"""Status reports: save one in its period, read the latest ones for many projects at once."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import ReportRow
from storage.records import Rag, Report, ReportDraft
from storage.upsert import insert_for


def _to_report(row: ReportRow) -> Report:
    return Report(
        id=row.id,
        project_id=row.project_id,
        period_start=row.period_start,
        submitted_by=row.submitted_by,
        submitted_at=row.submitted_at,
        overall=Rag(row.overall),
        schedule=Rag(row.schedule),
        budget=Rag(row.budget),
        scope=Rag(row.scope),
        summary=row.summary,
        path_to_green=row.path_to_green,
        forecast_end=row.forecast_end,
        percent_complete=row.percent_complete,
        accomplishments=row.accomplishments,
        next_steps=row.next_steps,
        risks=tuple(row.risks or ()),
        blockers=tuple(row.blockers or ()),
        help_needed=row.help_needed,
    )


def save_report(
    session: Session,
    draft: ReportDraft,
    *,
    project_id: int,
    period_start: datetime,
    submitted_by: str,
    submitted_at: datetime,
) -> Report:
    """Store the report of a period in one statement; a second answer for the same period
    replaces the first (an atomic upsert, so two concurrent answers cannot both insert)."""
    values = {
        "project_id": project_id,
        "period_start": period_start,
        "overall": draft.overall.value,
        "schedule": draft.schedule.value,
        "budget": draft.budget.value,
        "scope": draft.scope.value,
        "summary": draft.summary,
        "path_to_green": draft.path_to_green,
        "forecast_end": draft.forecast_end,
        "percent_complete": draft.percent_complete,
        "accomplishments": draft.accomplishments,
        "next_steps": draft.next_steps,
        "risks": list(draft.risks),
        "blockers": list(draft.blockers),
        "help_needed": draft.help_needed,
        "submitted_by": submitted_by,
        "submitted_at": submitted_at,
    }
    insert = insert_for(session, ReportRow.__table__).values(**values)
    updates = {k: insert.excluded[k] for k in values if k not in ("project_id", "period_start")}
    statement = insert.on_conflict_do_update(
        index_elements=["project_id", "period_start"], set_=updates
    ).returning(ReportRow.__table__.c.id)
    report_id = session.execute(statement).scalar_one()
    return Report(
        id=report_id,
        project_id=project_id,
        period_start=period_start,
        submitted_by=submitted_by,
        submitted_at=submitted_at,
        **{f: getattr(draft, f) for f in ReportDraft.__dataclass_fields__},
    )


def latest_reports(
    session: Session,
    project_ids: Collection[int],
    *,
    before: datetime | None = None,
    per_project: int = 2,
) -> dict[int, list[Report]]:
    """The newest `per_project` reports of each project (only those whose period began before
    `before`, if given), newest first, in one statement whatever the number of projects."""
    if not project_ids:
        return {}
    rank = (
        func.row_number()
        .over(partition_by=ReportRow.project_id, order_by=ReportRow.period_start.desc())
        .label("rank")
    )
    query = select(ReportRow.id, rank).where(ReportRow.project_id.in_(list(project_ids)))
    if before is not None:
        query = query.where(ReportRow.period_start < before)
    inner = query.subquery()
    rows = session.scalars(
        select(ReportRow)
        .join(inner, inner.c.id == ReportRow.id)
        .where(inner.c.rank <= per_project)
        .order_by(ReportRow.project_id, ReportRow.period_start.desc())
    )
    result: dict[int, list[Report]] = {pid: [] for pid in project_ids}
    for row in rows:
        result[row.project_id].append(_to_report(row))
    return result

"""Status reports: save one in its period, read the latest ones for many projects at once."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from storage.bulk import among, insert_rows, rows_by_id
from storage.models import ProjectRow, ReportRow, SkipRow, plain
from storage.records import (
    CapacityPulse,
    NewReport,
    Rag,
    Report,
    ReportDraft,
    ReportMark,
    ReportRatings,
    Skip,
    SkipReason,
)
from storage.standings import invalidate
from storage.upsert import insert_for


def _to_report(row: Any) -> Report:
    """A report from a row of status_reports: an ORM `ReportRow`, or a plain result row of its
    columns (reading many: an ORM object each costs more than the rest of the read)."""
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
        help_needed_by=row.help_needed_by,
        budget_spent=row.budget_spent,
        forecast_at_completion=row.forecast_at_completion,
        copied_from_id=row.copied_from_id,
        capacity_pulse=CapacityPulse(row.capacity_pulse) if row.capacity_pulse else None,
    )


def _report_values(
    draft: ReportDraft,
    *,
    project_id: int,
    period_start: datetime,
    submitted_by: str,
    submitted_at: datetime,
    copied_from_id: int | None,
) -> dict[str, Any]:
    """The columns of a stored report, one rule for saving one and adding many."""
    return {
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
        "help_needed_by": draft.help_needed_by,
        "budget_spent": draft.budget_spent,
        "forecast_at_completion": draft.forecast_at_completion,
        "capacity_pulse": draft.capacity_pulse.value if draft.capacity_pulse else None,
        "submitted_by": submitted_by,
        "submitted_at": submitted_at,
        "copied_from_id": copied_from_id,
    }


def save_report(
    session: Session,
    draft: ReportDraft,
    *,
    project_id: int,
    period_start: datetime,
    submitted_by: str,
    submitted_at: datetime,
    copied_from_id: int | None = None,
) -> Report:
    """Store the report of a period in one statement; a second answer for the same period
    replaces the first (an atomic upsert, so two concurrent answers cannot both insert).
    A report replaces a skip of the same period: the answer is what counts."""
    session.execute(
        delete(SkipRow).where(
            SkipRow.project_id == project_id, SkipRow.period_start == period_start
        )
    )
    values = _report_values(
        draft,
        project_id=project_id,
        period_start=period_start,
        submitted_by=submitted_by,
        submitted_at=submitted_at,
        copied_from_id=copied_from_id,
    )
    insert = insert_for(session, ReportRow.__table__).values(**values)
    updates = {k: insert.excluded[k] for k in values if k not in ("project_id", "period_start")}
    statement = insert.on_conflict_do_update(
        index_elements=["project_id", "period_start"], set_=updates
    ).returning(ReportRow.__table__.c.id)
    report_id = session.execute(statement).scalar_one()
    invalidate(session, [project_id])
    return Report(
        id=report_id,
        project_id=project_id,
        period_start=period_start,
        submitted_by=submitted_by,
        submitted_at=submitted_at,
        copied_from_id=copied_from_id,
        **{f: getattr(draft, f) for f in ReportDraft.__dataclass_fields__},
    )


def add_reports(session: Session, batch: Sequence[NewReport]) -> None:
    """Add reports in bulk (storage.bulk), for periods that have none yet (a report already
    stored for a period fails the whole batch). A "No change" copy names the period of the
    report it copies (`copy_of`), which is in the batch or stored: its id is filled in after
    the insert, in one UPDATE run for every copy."""
    insert_rows(
        session,
        ReportRow,
        [
            _report_values(
                report.draft,
                project_id=report.project_id,
                period_start=report.period_start,
                submitted_by=report.submitted_by,
                submitted_at=report.submitted_at,
                copied_from_id=None,
            )
            for report in batch
        ],
    )
    invalidate(session, {report.project_id for report in batch})
    copies = [
        {"project": r.project_id, "period": r.period_start, "source": r.copy_of}
        for r in batch
        if r.copy_of is not None
    ]
    if not copies:
        return
    table, source = cast(Table, ReportRow.__table__), aliased(ReportRow)
    session.execute(
        update(table)
        .where(
            table.c.project_id == bindparam("project"),
            table.c.period_start == bindparam("period"),
        )
        .values(
            copied_from_id=select(source.id)
            .where(
                source.project_id == bindparam("project"),
                source.period_start == bindparam("source"),
            )
            .scalar_subquery()
        ),
        copies,
    )


T = TypeVar("T")
Chosen = TypeVar("Chosen", bound="Select[*tuple[Any, ...]]")


def _newest(
    session: Session,
    project_ids: Collection[int],
    before: datetime | None,
    per_project: int,
    select_: Chosen,
) -> Chosen:
    """`select_` (of status_reports' columns) narrowed to the newest `per_project` reports of
    these projects (only those whose period began before `before`, if given), by project and
    newest first. Each project's cut, the period start of its report just older than those, is
    found first by a seek on (project_id, period_start), so only the reports kept are read:
    ranking every report (ROW_NUMBER) read all of them, 52 weeks of 5,000 projects to keep
    four each, three times as long on SQLite (storage/test_reports.py compares both)."""
    older = aliased(ReportRow)
    floor = select(older.period_start).where(older.project_id == ProjectRow.id)
    if before is not None:
        floor = floor.where(older.period_start < before)
    cut = (
        select(
            ProjectRow.id.label("project_id"),
            floor.order_by(older.period_start.desc())
            .limit(1)
            .offset(per_project)
            .scalar_subquery()
            .label("floor"),
        )
        .where(among(session, ProjectRow.id, project_ids))
        .cte("cut")
        .prefix_with("MATERIALIZED")  # one seek per project, not one per report
    )
    query = select_.join(cut, cut.c.project_id == ReportRow.project_id).where(
        or_(cut.c.floor.is_(None), ReportRow.period_start > cut.c.floor)
    )
    if before is not None:
        query = query.where(ReportRow.period_start < before)
    return query.order_by(ReportRow.project_id, ReportRow.period_start.desc())


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
    rows = session.execute(_newest(session, project_ids, before, per_project, plain(ReportRow)))
    result: dict[int, list[Report]] = {pid: [] for pid in project_ids}
    for row in rows:
        result[row.project_id].append(_to_report(row))
    return result


def report_marks(
    session: Session,
    project_ids: Collection[int],
    *,
    before: datetime | None = None,
    per_project: int = 2,
) -> dict[int, list[ReportMark]]:
    """The marks (rating, percent complete, what it copies) of the newest `per_project`
    reports of each project (only those whose period began before `before`, if given), newest
    first, in one statement: what trends need, without the reports' text."""
    if not project_ids:
        return {}
    marks = select(
        ReportRow.project_id,
        ReportRow.id,
        ReportRow.period_start,
        ReportRow.overall,
        ReportRow.percent_complete,
        ReportRow.copied_from_id,
        ReportRow.capacity_pulse,
    )
    rows = session.execute(_newest(session, project_ids, before, per_project, marks))
    result: dict[int, list[ReportMark]] = {pid: [] for pid in project_ids}
    ratings = {rag.value: rag for rag in Rag}
    for pid, rid, start, overall, percent, copied, pulse in rows:
        said = CapacityPulse(pulse) if pulse else None
        result[pid].append(ReportMark(rid, start, ratings[overall], percent, copied, said))
    return result


def report_ratings(
    session: Session, project_ids: Collection[int], *, per_project: int
) -> dict[int, list[ReportRatings]]:
    """The ratings and figures (`ReportRatings`) of the newest `per_project` reports of each
    project, newest first, in one statement, without the reports' text."""
    if not project_ids:
        return {}
    columns = select(
        ReportRow.project_id,
        ReportRow.period_start,
        ReportRow.overall,
        ReportRow.schedule,
        ReportRow.budget,
        ReportRow.scope,
        ReportRow.percent_complete,
        ReportRow.budget_spent,
        ReportRow.forecast_end,
    )
    query = _newest(session, project_ids, None, per_project, columns)
    # Streamed in batches: 60,000 rows at 5,000 projects would otherwise be held twice, as
    # fetched rows and as records (30 MB more at the peak).
    rows = session.execute(query, execution_options={"yield_per": 2_000})
    result: dict[int, list[ReportRatings]] = {pid: [] for pid in project_ids}
    ratings = {rag.value: rag for rag in Rag}
    for pid, start, overall, schedule, budget, scope, percent, spent, end in rows:
        result[pid].append(
            ReportRatings(
                start,
                ratings[overall],
                ratings[schedule],
                ratings[budget],
                ratings[scope],
                percent,
                spent,
                end,
            )
        )
    return result


def find_reports(session: Session, report_ids: Collection[int]) -> dict[int, Report]:
    """Reports by id (those that exist), in one statement."""
    return rows_by_id(session, ReportRow, report_ids, _to_report)


def overall_ratings(session: Session, report_ids: Collection[int]) -> dict[int, Rag]:
    """The overall rating of each of these reports (by id, those that exist), the rest of them
    unread: what `/pmo list red` filters the latest reports on, in one statement."""
    if not report_ids:
        return {}
    query = select(ReportRow.id, ReportRow.overall).where(among(session, ReportRow.id, report_ids))
    return {rid: Rag(overall) for rid, overall in session.execute(query)}


def first_reports_from(
    session: Session, project_ids: Collection[int], at: datetime
) -> dict[int, datetime]:
    """For each project that has one, the earliest period start of its reports at or after
    `at` (one statement): when a report stored ahead of `at` starts to count."""
    if not project_ids:
        return {}
    query = (
        select(ReportRow.project_id, func.min(ReportRow.period_start))
        .where(among(session, ReportRow.project_id, project_ids), ReportRow.period_start >= at)
        .group_by(ReportRow.project_id)
    )
    return {row[0]: row[1] for row in session.execute(query)}


def latest_reports_from(
    session: Session, project_ids: Collection[int], at: datetime
) -> dict[int, Report]:
    """The latest report of each of these projects whose latest report's period begins at or
    after `at` (stored ahead of `at`: a clock moved back, replicas out of step), in one
    statement on the (project, period) index that finds nothing in the usual case: what a
    reader of the latest report before `at` (a standing's) adds to know the latest of all."""
    if not project_ids:
        return {}
    later = aliased(ReportRow)
    newer = select(later.id).where(
        later.project_id == ReportRow.project_id, later.period_start > ReportRow.period_start
    )
    query = plain(ReportRow).where(
        among(session, ReportRow.project_id, project_ids),
        ReportRow.period_start >= at,
        ~newer.exists(),
    )
    return {row.project_id: _to_report(row) for row in session.execute(query)}


def _to_skip(row: Any) -> Skip:
    return Skip(
        project_id=row.project_id,
        period_start=row.period_start,
        reason=SkipReason(row.reason),
        note=row.note,
        skipped_by=row.skipped_by,
        skipped_at=row.skipped_at,
    )


def save_skip(
    session: Session,
    *,
    project_id: int,
    period_start: datetime,
    reason: SkipReason,
    note: str | None,
    skipped_by: str,
    skipped_at: datetime,
) -> Skip:
    """Record that a period is skipped (an upsert: skipping again updates the reason)."""
    values = {
        "project_id": project_id,
        "period_start": period_start,
        "reason": reason.value,
        "note": note,
        "skipped_by": skipped_by,
        "skipped_at": skipped_at,
    }
    insert = insert_for(session, SkipRow.__table__).values(**values)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["project_id", "period_start"],
            set_={k: insert.excluded[k] for k in ("reason", "note", "skipped_by", "skipped_at")},
        )
    )
    invalidate(session, [project_id])
    return Skip(project_id, period_start, reason, note, skipped_by, skipped_at)


def add_skips(session: Session, batch: Sequence[Skip]) -> None:
    """Add skipped periods in bulk (storage.bulk), for periods without a report or a skip."""
    insert_rows(
        session,
        SkipRow,
        [
            {
                "project_id": skip.project_id,
                "period_start": skip.period_start,
                "reason": skip.reason.value,
                "note": skip.note,
                "skipped_by": skip.skipped_by,
                "skipped_at": skip.skipped_at,
            }
            for skip in batch
        ],
    )
    invalidate(session, {skip.project_id for skip in batch})


def find_skips(
    session: Session, periods: Collection[tuple[int, datetime]]
) -> dict[tuple[int, datetime], Skip]:
    """The skips of the given (project id, period start) pairs, in one statement."""
    return _by_period(session, SkipRow, periods, _to_skip)


def find_period_reports(
    session: Session, periods: Collection[tuple[int, datetime]]
) -> dict[tuple[int, datetime], Report]:
    """The reports of the given (project id, period start) pairs, in one statement."""
    return _by_period(session, ReportRow, periods, _to_report)


def _by_period(
    session: Session,
    model: type[ReportRow] | type[SkipRow],
    periods: Collection[tuple[int, datetime]],
    convert: Callable[[Any], T],
) -> dict[tuple[int, datetime], T]:
    """The rows of `model` for these (project id, period start) pairs, by pair."""
    if not periods:
        return {}
    wanted = set(periods)
    rows = session.execute(plain(model).where(_of_periods(session, model, wanted)))
    return {
        (row.project_id, row.period_start): convert(row)
        for row in rows
        if (row.project_id, row.period_start) in wanted
    }


def _of_periods(
    session: Session,
    model: type[ReportRow] | type[SkipRow],
    periods: Collection[tuple[int, datetime]],
) -> ColumnElement[bool]:
    """The rows of these projects (ids as one parameter, `among`) for any of these period
    starts (a few: periods are shared by the projects of a cadence and zone): a superset of
    the (project, period start) pairs, which the reader keeps. As pairs (`(a, b) IN (…)`),
    5,000 projects' periods were 10,000 parameters, 0.2 s on PostgreSQL to bind."""
    starts = sorted({start for _, start in periods})
    return among(session, model.project_id, {pid for pid, _ in periods}) & model.period_start.in_(
        starts
    )

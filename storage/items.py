"""Risks, blockers and milestones: records that live across reporting periods.

A PM reviews the open risks and blockers of a project in each period's modal (updates them,
closes them, adds new ones); the portfolio file describes milestones, and the PM marks them
reached. Every read takes many projects at once, in one statement.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from storage.bulk import among, insert_rows
from storage.models import (
    BlockerRow,
    MilestoneForecastRow,
    MilestoneRow,
    ProjectRow,
    RiskRow,
    as_python_orders,
    plain,
)
from storage.records import (
    Blocker,
    BlockerSpec,
    ItemStatus,
    Milestone,
    MilestoneForecast,
    MilestoneSpec,
    Risk,
    RiskSpec,
)
from storage.standings import invalidate


def _to_risk(row: Any) -> Risk:
    return Risk(
        id=row.id,
        project_id=row.project_id,
        title=row.title,
        probability=row.probability,
        impact=row.impact,
        owner=row.owner,
        mitigation=row.mitigation,
        status=ItemStatus(row.status),
        opened_period=row.opened_period,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
    )


def _to_blocker(row: Any) -> Blocker:
    return Blocker(
        id=row.id,
        project_id=row.project_id,
        title=row.title,
        unblocker=row.unblocker,
        needs_leadership=row.needs_leadership,
        status=ItemStatus(row.status),
        raised_period=row.raised_period,
        raised_at=row.raised_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
    )


def _to_milestone(row: Any) -> Milestone:
    return Milestone(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        due=row.due,
        done_on=row.done_on,
        forecast=row.forecast,
    )


def open_risks(session: Session, project_ids: Collection[int]) -> dict[int, list[Risk]]:
    """Each project's open risks, highest score first."""
    result: dict[int, list[Risk]] = {pid: [] for pid in project_ids}
    if not project_ids:
        return result
    rows = session.execute(
        plain(RiskRow)
        .where(
            among(session, RiskRow.project_id, project_ids), RiskRow.status == ItemStatus.OPEN.value
        )
        .order_by(RiskRow.project_id, RiskRow.id)
    )
    for row in rows:
        result[row.project_id].append(_to_risk(row))
    for risks in result.values():
        risks.sort(key=lambda r: (-r.score, r.id or 0))
    return result


@dataclass(frozen=True, slots=True)
class OpenTally:
    """What a project has open, counted: its open risks and their highest score
    (probability times impact; None without one), its open blockers."""

    risks: int = 0
    top_risk_score: int | None = None
    blockers: int = 0


def open_tallies(session: Session, project_ids: Collection[int]) -> dict[int, OpenTally]:
    """Each project's `OpenTally`, counted by the database in one aggregate statement per
    table whatever the number of projects (ids as one parameter, `among`): what the status
    export shows of the risks and blockers, without reading any."""
    result = dict.fromkeys(project_ids, OpenTally())
    if not result:
        return result
    risks = (
        select(RiskRow.project_id, func.count(), func.max(RiskRow.probability * RiskRow.impact))
        .where(
            RiskRow.status == ItemStatus.OPEN.value,
            among(session, RiskRow.project_id, project_ids),
        )
        .group_by(RiskRow.project_id)
    )
    for pid, count, top in session.execute(risks):
        result[pid] = OpenTally(count, top, 0)
    blockers = (
        select(BlockerRow.project_id, func.count())
        .where(
            BlockerRow.status == ItemStatus.OPEN.value,
            among(session, BlockerRow.project_id, project_ids),
        )
        .group_by(BlockerRow.project_id)
    )
    for pid, count in session.execute(blockers):
        result[pid] = replace(result[pid], blockers=count)
    return result


def ranked_open_risks(
    session: Session,
    project_ids: Collection[int] | None,
    *,
    limit: int,
    excluding: Collection[int] = (),
) -> tuple[list[Risk], int]:
    """The open risks of these projects, highest score first (probability times impact), then by
    their project's priority (none after 5) and key, then by id: the first `limit`, and how
    many there are in all, in two statements whatever the number of projects or risks. The
    first counts the open risks by probability and impact (25 pairs at most): their total,
    and the lowest score the first `limit` reach. The second reads and ranks only the risks
    scored at least that, each probability from its least impact that reaches it (ranges of
    the index on status, probability, impact and project), not every open risk. Of the
    projects `project_ids` (every one when None) but those `excluding`: a viewer who sees
    nearly every project names the few they do not, and the database checks those alone."""
    if project_ids is not None and not project_ids:
        return [], 0
    is_open = [RiskRow.status == ItemStatus.OPEN.value]
    if project_ids is not None:
        is_open.append(among(session, RiskRow.project_id, project_ids))
    if excluding:
        is_open.append(~among(session, RiskRow.project_id, excluding))
    pairs = (
        select(RiskRow.probability, RiskRow.impact, func.count())
        .where(*is_open)
        .group_by(RiskRow.probability, RiskRow.impact)
    )
    counted = {(probability, impact): n for probability, impact, n in session.execute(pairs)}
    total = sum(counted.values())
    if not total or limit <= 0:
        return [], total
    lowest = _lowest_score_shown(counted, limit)
    least: dict[int, int] = {}  # each probability's least impact scoring at least `lowest`
    for probability, impact in counted:
        if probability * impact >= lowest:
            least[probability] = min(impact, least.get(probability, impact))
    score = RiskRow.probability * RiskRow.impact  # RiskSpec.score
    query = (
        plain(RiskRow)
        .join(ProjectRow, ProjectRow.id == RiskRow.project_id)
        .where(
            *is_open,
            or_(
                *(
                    and_(RiskRow.probability == probability, RiskRow.impact >= impact)
                    for probability, impact in sorted(least.items())
                )
            ),
            score >= lowest,
        )
        .order_by(
            score.desc(),
            func.coalesce(ProjectRow.priority, 9),
            as_python_orders(session, ProjectRow.key),
            RiskRow.id,
        )
        .limit(limit)
    )
    return [_to_risk(row) for row in session.execute(query)], total


def _lowest_score_shown(counted: Mapping[tuple[int, int], int], limit: int) -> int:
    """The lowest score among the first `limit` risks, given how many there are of each
    (probability, impact)."""
    scores: dict[int, int] = {}
    for (probability, impact), n in counted.items():
        scores[probability * impact] = scores.get(probability * impact, 0) + n
    reached = 0
    for score in sorted(scores, reverse=True):
        reached += scores[score]
        if reached >= limit:
            return score
    return min(scores)


def open_blockers(session: Session, project_ids: Collection[int]) -> dict[int, list[Blocker]]:
    """Each project's open blockers, oldest first."""
    result: dict[int, list[Blocker]] = {pid: [] for pid in project_ids}
    if not project_ids:
        return result
    rows = session.execute(
        plain(BlockerRow)
        .where(
            among(session, BlockerRow.project_id, project_ids),
            BlockerRow.status == ItemStatus.OPEN.value,
        )
        .order_by(BlockerRow.project_id, BlockerRow.raised_at, BlockerRow.id)
    )
    for row in rows:
        result[row.project_id].append(_to_blocker(row))
    return result


def save_risks(
    session: Session,
    project_id: int,
    specs: Sequence[RiskSpec],
    *,
    period_start: datetime,
    now: datetime,
) -> list[Risk]:
    """Apply the PM's review: update or close the risks named by id (only this project's;
    other ids are ignored), open the new ones. Returns the project's open risks after."""
    known = {
        row.id: row
        for row in session.scalars(select(RiskRow).where(RiskRow.project_id == project_id))
    }
    for spec in specs:
        row = known.get(spec.id) if spec.id is not None else None
        if spec.id is not None and row is None:
            continue
        if row is None:
            row = RiskRow(project_id=project_id, opened_period=period_start, opened_at=now)
            session.add(row)
        row.title, row.probability, row.impact = spec.title, spec.probability, spec.impact
        row.owner, row.mitigation, row.updated_at = spec.owner, spec.mitigation, now
        closing = spec.status is ItemStatus.CLOSED
        row.closed_at = (row.closed_at or now) if closing else None
        row.status = spec.status.value
    session.flush()
    invalidate(session, [project_id])  # open risks raise a flag
    return open_risks(session, [project_id])[project_id]


def save_blockers(
    session: Session,
    project_id: int,
    specs: Sequence[BlockerSpec],
    *,
    period_start: datetime,
    now: datetime,
) -> list[Blocker]:
    """Apply the PM's review of blockers, as `save_risks` does for risks."""
    known = {
        row.id: row
        for row in session.scalars(select(BlockerRow).where(BlockerRow.project_id == project_id))
    }
    for spec in specs:
        row = known.get(spec.id) if spec.id is not None else None
        if spec.id is not None and row is None:
            continue
        if row is None:
            row = BlockerRow(project_id=project_id, raised_period=period_start, raised_at=now)
            session.add(row)
        row.title, row.unblocker = spec.title, spec.unblocker
        row.needs_leadership, row.updated_at = spec.needs_leadership, now
        resolving = spec.status is ItemStatus.CLOSED
        row.resolved_at = (row.resolved_at or now) if resolving else None
        row.status = spec.status.value
    session.flush()
    return open_blockers(session, [project_id])[project_id]


def add_risks(session: Session, batch: Sequence[Risk]) -> None:
    """Add risks in bulk (storage.bulk), each as the reviews of its periods left it (open, or
    closed with when); their ids are the database's, whatever the values say."""
    insert_rows(
        session,
        RiskRow,
        [
            {
                "project_id": risk.project_id,
                "title": risk.title,
                "probability": risk.probability,
                "impact": risk.impact,
                "owner": risk.owner,
                "mitigation": risk.mitigation,
                "status": risk.status.value,
                "opened_period": risk.opened_period,
                "opened_at": risk.opened_at,
                "updated_at": risk.updated_at,
                "closed_at": risk.closed_at,
            }
            for risk in batch
        ],
    )
    invalidate(session, {risk.project_id for risk in batch})


def add_blockers(session: Session, batch: Sequence[Blocker]) -> None:
    """Add blockers in bulk, as `add_risks` does risks."""
    insert_rows(
        session,
        BlockerRow,
        [
            {
                "project_id": blocker.project_id,
                "title": blocker.title,
                "unblocker": blocker.unblocker,
                "needs_leadership": blocker.needs_leadership,
                "status": blocker.status.value,
                "raised_period": blocker.raised_period,
                "raised_at": blocker.raised_at,
                "updated_at": blocker.updated_at,
                "resolved_at": blocker.resolved_at,
            }
            for blocker in batch
        ],
    )


def add_milestones(session: Session, milestones: Mapping[int, Sequence[MilestoneSpec]]) -> None:
    """Add the milestones of projects that have none yet, by project id, in bulk (names are
    unique within a project, as the portfolio file requires)."""
    insert_rows(
        session,
        MilestoneRow,
        [
            {"project_id": project_id, "name": spec.name, "due": spec.due, "done_on": spec.done_on}
            for project_id, specs in milestones.items()
            for spec in specs
        ],
    )


def all_risks(session: Session, project_id: int) -> list[Risk]:
    """Every risk a project ever had, open or closed, in the order they were raised."""
    rows = session.scalars(
        select(RiskRow)
        .where(RiskRow.project_id == project_id)
        .order_by(RiskRow.opened_at, RiskRow.id)
    )
    return [_to_risk(row) for row in rows]


def all_blockers(session: Session, project_id: int) -> list[Blocker]:
    """Every blocker a project ever had, open or resolved, in the order they were raised."""
    rows = session.scalars(
        select(BlockerRow)
        .where(BlockerRow.project_id == project_id)
        .order_by(BlockerRow.raised_at, BlockerRow.id)
    )
    return [_to_blocker(row) for row in rows]


def list_milestones(session: Session, project_ids: Collection[int]) -> dict[int, list[Milestone]]:
    """Each project's milestones, by due date."""
    result: dict[int, list[Milestone]] = {pid: [] for pid in project_ids}
    if not project_ids:
        return result
    rows = session.execute(
        plain(MilestoneRow)
        .where(among(session, MilestoneRow.project_id, project_ids))
        .order_by(MilestoneRow.project_id, MilestoneRow.due, MilestoneRow.name)
    )
    for row in rows:
        result[row.project_id].append(_to_milestone(row))
    return result


def replace_milestones(session: Session, project_id: int, specs: Sequence[MilestoneSpec]) -> None:
    """Make the project's milestones those of the portfolio file (by name). A milestone the PM
    marked reached stays reached unless the file gives its own `done` date; a kept milestone
    keeps the PM's forecast and its history (a milestone no longer in the file loses both)."""
    existing = {
        row.name: row
        for row in session.scalars(
            select(MilestoneRow).where(MilestoneRow.project_id == project_id)
        )
    }
    wanted = {spec.name for spec in specs}
    stale = [row.id for name, row in existing.items() if name not in wanted]
    if stale:
        session.execute(delete(MilestoneRow).where(MilestoneRow.id.in_(stale)))
    for spec in specs:
        row = existing.get(spec.name)
        if row is None:
            session.add(
                MilestoneRow(
                    project_id=project_id, name=spec.name, due=spec.due, done_on=spec.done_on
                )
            )
        else:
            row.due = spec.due
            row.done_on = spec.done_on or row.done_on
    session.flush()


def mark_milestones_done(
    session: Session, project_id: int, milestone_ids: Collection[int], *, on: date
) -> None:
    """Mark this project's milestones reached (ids of other projects are ignored)."""
    if not milestone_ids:
        return
    session.execute(
        update(MilestoneRow)
        .where(
            MilestoneRow.project_id == project_id,
            MilestoneRow.id.in_(list(milestone_ids)),
            MilestoneRow.done_on.is_(None),
        )
        .values(done_on=on)
    )


def forecast_milestones(
    session: Session,
    project_id: int,
    forecasts: Mapping[int, date],
    *,
    report_id: int | None,
    now: datetime,
) -> list[Milestone]:
    """Store the PM's forecasts of this project's open milestones (ids of other projects and
    milestones reached are ignored) and add a history row for each that changed; return the
    milestones whose forecast changed, as they are now.

    A forecast changes when it differs from the stored one, except that a forecast equal to
    the due date while none was given is no news (the modal prefills the due date): the
    milestone keeps no forecast and the history no row."""
    if not forecasts:
        return []
    rows = session.scalars(
        select(MilestoneRow).where(
            MilestoneRow.project_id == project_id,
            MilestoneRow.id.in_(list(forecasts)),
            MilestoneRow.done_on.is_(None),
        )
    ).all()
    changed: list[Milestone] = []
    for row in sorted(rows, key=lambda r: r.id):
        said = forecasts[row.id]
        if said == row.forecast or (row.forecast is None and said == row.due):
            continue
        row.forecast = said
        session.add(
            MilestoneForecastRow(
                milestone_id=row.id, forecast=said, said_at=now, report_id=report_id
            )
        )
        changed.append(_to_milestone(row))
    session.flush()
    return changed


def forecast_history(
    session: Session, milestone_ids: Collection[int]
) -> dict[int, list[MilestoneForecast]]:
    """Each milestone's forecasts, oldest first."""
    result: dict[int, list[MilestoneForecast]] = {mid: [] for mid in milestone_ids}
    if not milestone_ids:
        return result
    rows = session.execute(
        plain(MilestoneForecastRow)
        .where(among(session, MilestoneForecastRow.milestone_id, milestone_ids))
        .order_by(
            MilestoneForecastRow.milestone_id,
            MilestoneForecastRow.said_at,
            MilestoneForecastRow.id,
        )
    )
    for row in rows:
        result[row.milestone_id].append(
            MilestoneForecast(row.milestone_id, row.forecast, row.said_at, row.report_id)
        )
    return result

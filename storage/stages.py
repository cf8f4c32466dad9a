"""Stage requests (gates and change requests) and the baselines they record (issue 17; the
rule: bot/stages/requests.py).

At most one pending request of each kind per project: a partial unique index makes it a
constraint, and the rule locks the project's row first (storage.decisions.lock_project), so
two submissions at once are taken one after the other. A request is decided in one
conditional statement (`settle`): whichever replica a double click reaches, once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.bulk import among
from storage.models import BaselineRow, ProjectRow, StageRequestRow, plain
from storage.portfolio import projects_changed
from storage.records import (
    Baseline,
    ChangeKind,
    ChecklistAnswer,
    RequestKind,
    RequestState,
    StageRequest,
)
from storage.standings import invalidate


def _to_request(row: Any) -> StageRequest:
    return StageRequest(
        id=row.id,
        project_id=row.project_id,
        kind=RequestKind(row.kind),
        state=RequestState(row.state),
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        reason=row.reason,
        from_phase=row.from_phase,
        to_phase=row.to_phase,
        checklist=tuple(
            ChecklistAnswer(
                str(item.get("name")),
                bool(item.get("mandatory")),
                bool(item.get("done")),
                item.get("link") or None,
            )
            for item in row.checklist or ()
        ),
        changes=tuple(ChangeKind(c) for c in row.changes or ()),
        new_end=row.new_end,
        new_budget=row.new_budget,
        decision_id=row.decision_id,
        outcome=row.outcome,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def add_request(
    session: Session,
    *,
    project_id: int,
    kind: RequestKind,
    requested_by: str,
    at: datetime,
    reason: str | None = None,
    from_phase: str | None = None,
    to_phase: str | None = None,
    checklist: Sequence[ChecklistAnswer] = (),
    changes: Sequence[ChangeKind] = (),
    new_end: date | None = None,
    new_budget: Decimal | None = None,
) -> StageRequest:
    """Record a pending request (the caller checked there is none pending of its kind)."""
    row = StageRequestRow(
        project_id=project_id,
        kind=kind.value,
        state=RequestState.PENDING.value,
        requested_by=requested_by,
        requested_at=at,
        reason=reason,
        from_phase=from_phase,
        to_phase=to_phase,
        checklist=[
            {"name": i.name, "mandatory": i.mandatory, "done": i.done, "link": i.link}
            for i in checklist
        ],
        changes=[c.value for c in changes],
        new_end=new_end,
        new_budget=new_budget,
    )
    session.add(row)
    session.flush()
    invalidate(session, [project_id])  # once it waits too long, it needs attention
    return _to_request(row)


def find_request(session: Session, request_id: int) -> StageRequest | None:
    row = session.execute(plain(StageRequestRow).where(StageRequestRow.id == request_id)).first()
    return _to_request(row) if row is not None else None


def pending_request(session: Session, project_id: int, kind: RequestKind) -> StageRequest | None:
    row = session.execute(
        plain(StageRequestRow).where(
            StageRequestRow.project_id == project_id,
            StageRequestRow.kind == kind.value,
            StageRequestRow.state == RequestState.PENDING.value,
        )
    ).first()
    return _to_request(row) if row is not None else None


def requests_of(
    session: Session,
    project_ids: Collection[int] | None = None,
    *,
    state: RequestState | None = None,
) -> list[StageRequest]:
    """The requests of these projects (every project's, if None), in `state` if given,
    oldest first."""
    query = plain(StageRequestRow)
    if project_ids is not None:
        query = query.where(among(session, StageRequestRow.project_id, project_ids))
    if state is not None:
        query = query.where(StageRequestRow.state == state.value)
    rows = session.execute(query.order_by(StageRequestRow.requested_at, StageRequestRow.id))
    return [_to_request(row) for row in rows]


def settle(
    session: Session,
    request_id: int,
    *,
    state: RequestState,
    at: datetime,
    outcome: str | None = None,
    by: str | None = None,
    decision_id: int | None = None,
) -> bool:
    """Decide (or withdraw) a pending request, in one statement: True if this call did; a
    request decided or withdrawn already is left as it is (the project's standing is
    recomputed: a request no longer waiting needs no attention; an approved plan lifts a flag)."""
    project_id = session.execute(
        update(StageRequestRow)
        .where(
            StageRequestRow.id == request_id,
            StageRequestRow.state == RequestState.PENDING.value,
        )
        .values(state=state.value, outcome=outcome, decided_by=by, decided_at=at)
        .returning(StageRequestRow.project_id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if project_id is None:
        return False
    invalidate(session, [project_id])
    if decision_id is not None:
        link_decision(session, request_id, decision_id)
    return True


def link_decision(session: Session, request_id: int, decision_id: int) -> None:
    session.execute(
        update(StageRequestRow)
        .where(StageRequestRow.id == request_id)
        .values(decision_id=decision_id)
        .execution_options(synchronize_session=False)
    )


def set_stage_fields(
    session: Session,
    project_id: int,
    *,
    at: datetime,
    phase: str | None = None,
    budget: Decimal | None = None,
    end: date | None = None,
    fields: Collection[str] = (),
) -> None:
    """Write what a decided request changes of a project: the `fields` named (of phase,
    budget, end) to the values given; its copies lapse and its standing is recomputed."""
    values: dict[str, Any] = {}
    if "phase" in fields:
        values["phase"] = phase
    if "budget" in fields:
        values["budget"] = budget
    if "end" in fields:
        values["end_date"] = end
    if not values:
        return
    session.execute(
        update(ProjectRow)
        .where(ProjectRow.id == project_id)
        .values(**values, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    projects_changed(session)
    invalidate(session, [project_id])


def _to_baseline(row: Any) -> Baseline:
    return Baseline(
        id=row.id,
        project_id=row.project_id,
        number=row.number,
        budget=row.budget,
        end=row.end_date,
        milestones=tuple(
            (str(m.get("name")), date.fromisoformat(m["due"]) if m.get("due") else None)
            for m in row.milestones or ()
        ),
        source=row.source,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        request_id=row.request_id,
    )


def add_baseline(
    session: Session,
    *,
    project_id: int,
    budget: Decimal | None,
    end: date | None,
    milestones: Sequence[tuple[str, date | None]],
    source: str,
    by: str,
    at: datetime,
    request_id: int | None = None,
) -> Baseline:
    """Record the project's next baseline (the earlier ones are kept)."""
    number = session.execute(
        select(func.coalesce(func.max(BaselineRow.number), 0)).where(
            BaselineRow.project_id == project_id
        )
    ).scalar_one()
    row = BaselineRow(
        project_id=project_id,
        number=int(number) + 1,
        budget=budget,
        end_date=end,
        milestones=[{"name": n, "due": d.isoformat() if d else None} for n, d in milestones],
        source=source,
        request_id=request_id,
        recorded_by=by,
        recorded_at=at,
    )
    session.add(row)
    session.flush()
    return _to_baseline(row)


def baselines_of(session: Session, project_ids: Collection[int]) -> list[Baseline]:
    """These projects' baselines, by project then number."""
    rows = session.execute(
        plain(BaselineRow)
        .where(among(session, BaselineRow.project_id, project_ids))
        .order_by(BaselineRow.project_id, BaselineRow.number)
    )
    return [_to_baseline(row) for row in rows]

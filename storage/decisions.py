"""Decisions asked of leadership (the rule: bot/governance/decisions.py).

At most one undecided (open or lapsed) decision per project: a partial unique index makes it
a constraint; and the rule locks the project's row first (`lock_project`), so two answers
saved at once for one project are noted one after the other rather than failing on it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.bulk import among
from storage.models import DecisionRow, ProjectRow, plain
from storage.records import UNDECIDED, Decision, DecisionState


def _to_decision(row: Any) -> Decision:
    return Decision(
        id=row.id,
        project_id=row.project_id,
        question=row.question,
        needed_by=row.needed_by,
        report_id=row.report_id,
        state=DecisionState(row.state),
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        outcome=row.outcome,
        rationale=row.rationale,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def lock_project(session: Session, project_id: int) -> None:
    """Lock the project's row until the transaction ends (PostgreSQL; SQLite has one writer
    at a time anyway): what notes an ask for it waits for any other doing the same."""
    session.execute(select(ProjectRow.id).where(ProjectRow.id == project_id).with_for_update())


def undecided(session: Session, project_id: int, *, lock: bool = False) -> Decision | None:
    """The project's undecided decision (open or lapsed), if any; with `lock`, its row is
    locked until the transaction ends."""
    query = plain(DecisionRow).where(
        DecisionRow.project_id == project_id,
        DecisionRow.state.in_([s.value for s in UNDECIDED]),
    )
    if lock:
        query = query.with_for_update()
    row = session.execute(query).first()
    return _to_decision(row) if row is not None else None


def latest(session: Session, project_id: int) -> Decision | None:
    """The project's newest decision, whatever its state."""
    row = session.execute(
        plain(DecisionRow)
        .where(DecisionRow.project_id == project_id)
        .order_by(DecisionRow.opened_at.desc(), DecisionRow.id.desc())
        .limit(1)
    ).first()
    return _to_decision(row) if row is not None else None


def open_decision(
    session: Session,
    *,
    project_id: int,
    question: str,
    needed_by: date | None,
    report_id: int | None,
    now: datetime,
) -> Decision:
    row = DecisionRow(
        project_id=project_id,
        question=question,
        needed_by=needed_by,
        report_id=report_id,
        state=DecisionState.OPEN.value,
        opened_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return _to_decision(row)


def reask(
    session: Session,
    decision_id: int,
    *,
    question: str,
    needed_by: date | None,
    report_id: int,
    state: DecisionState,
    now: datetime,
) -> None:
    """The project's undecided decision as its newest report asks it: question, date,
    report and state (open again when the ask changed)."""
    session.execute(
        update(DecisionRow)
        .where(DecisionRow.id == decision_id)
        .values(
            question=question,
            needed_by=needed_by,
            report_id=report_id,
            state=state.value,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def set_state(session: Session, decision_id: int, state: DecisionState, *, now: datetime) -> None:
    session.execute(
        update(DecisionRow)
        .where(DecisionRow.id == decision_id)
        .values(state=state.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def lapse(session: Session, decision_id: int, *, before: date, now: datetime) -> bool:
    """Lapse the decision if it is still open with a needed-by date before `before`, in one
    statement: True if this call lapsed it (two replicas ticking at once, a decision taken or
    asked anew meanwhile: only a decision still due to lapse lapses, once)."""
    lapsed = session.execute(
        update(DecisionRow)
        .where(
            DecisionRow.id == decision_id,
            DecisionRow.state == DecisionState.OPEN.value,
            DecisionRow.needed_by < before,
        )
        .values(state=DecisionState.LAPSED.value, updated_at=now)
        .returning(DecisionRow.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return lapsed is not None


def due_to_lapse(session: Session, *, before: date) -> list[Decision]:
    """The open decisions whose needed-by date is before `before`."""
    rows = session.execute(
        plain(DecisionRow).where(
            DecisionRow.state == DecisionState.OPEN.value, DecisionRow.needed_by < before
        )
    )
    return [_to_decision(row) for row in rows]


def of_projects(
    session: Session, project_ids: Collection[int], *, states: Collection[DecisionState] = ()
) -> list[Decision]:
    """The decisions of these projects (only in `states`, if given), newest first."""
    query = plain(DecisionRow).where(among(session, DecisionRow.project_id, project_ids))
    if states:
        query = query.where(DecisionRow.state.in_([s.value for s in states]))
    rows = session.execute(query.order_by(DecisionRow.opened_at.desc(), DecisionRow.id.desc()))
    return [_to_decision(row) for row in rows]


def record_decision(
    session: Session,
    decision_id: int,
    *,
    outcome: str,
    rationale: str | None,
    by: str,
    at: datetime,
) -> bool:
    """Decide an undecided decision, in one statement: True if this call decided it, False
    if it was decided (or withdrawn) already, so a double click or a resubmitted modal never
    records a decision twice, whichever replica it reaches."""
    decided = session.execute(
        update(DecisionRow)
        .where(
            DecisionRow.id == decision_id,
            DecisionRow.state.in_([s.value for s in UNDECIDED]),
        )
        .values(
            state=DecisionState.DECIDED.value,
            outcome=outcome,
            rationale=rationale,
            decided_by=by,
            decided_at=at,
            updated_at=at,
        )
        .returning(DecisionRow.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return decided is not None


def find_decision(session: Session, decision_id: int) -> Decision | None:
    row = session.execute(plain(DecisionRow).where(DecisionRow.id == decision_id)).first()
    return _to_decision(row) if row is not None else None

"""Decisions asked of leadership (the rule: bot/governance/decisions.py) and the actions they
set (the rule: bot/governance/actions.py).

At most one undecided (open or lapsed) decision per project: a partial unique index makes it
a constraint; and the rule locks the project's row first (`lock_project`), so two answers
saved at once for one project are noted one after the other rather than failing on it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.bulk import among
from storage.models import ActionRow, DecisionRow, ProjectRow, plain
from storage.records import (
    UNDECIDED,
    Action,
    ActionState,
    Decision,
    DecisionKind,
    DecisionState,
)
from storage.standings import invalidate


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
        kind=DecisionKind(row.kind),
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
        DecisionRow.kind == DecisionKind.ASK.value,
        DecisionRow.state.in_([s.value for s in UNDECIDED]),
    )
    if lock:
        query = query.with_for_update()
    row = session.execute(query).first()
    return _to_decision(row) if row is not None else None


def latest(session: Session, project_id: int) -> Decision | None:
    """The project's newest ask's decision, whatever its state (a gate's or a change's are
    not asks)."""
    row = session.execute(
        plain(DecisionRow)
        .where(DecisionRow.project_id == project_id, DecisionRow.kind == DecisionKind.ASK.value)
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


def latest_of_projects(session: Session, project_ids: Collection[int]) -> dict[int, Decision]:
    """Each project's newest ask's decision (whatever its state), for those that have one, in
    one statement (ids grow with time: the newest is the highest)."""
    newest = (
        select(func.max(DecisionRow.id))
        .where(
            among(session, DecisionRow.project_id, project_ids),
            DecisionRow.kind == DecisionKind.ASK.value,
        )
        .group_by(DecisionRow.project_id)
    )
    rows = session.execute(plain(DecisionRow).where(DecisionRow.id.in_(newest)))
    return {row.project_id: _to_decision(row) for row in rows}


def record_decision(
    session: Session,
    decision_id: int,
    *,
    outcome: str,
    rationale: str | None,
    by: str,
    at: datetime,
    question: str | None = None,
) -> bool:
    """Decide an undecided decision, in one statement: True if this call decided it, False
    if it was decided (or withdrawn) already, so a double click or a resubmitted modal never
    records a decision twice, whichever replica it reaches; with `question`, only if the ask
    is still that one (the PM may change it meanwhile)."""
    conditions = [
        DecisionRow.id == decision_id,
        DecisionRow.state.in_([s.value for s in UNDECIDED]),
    ]
    if question is not None:
        conditions.append(DecisionRow.question == question)
    decided = session.execute(
        update(DecisionRow)
        .where(*conditions)
        .values(
            state=DecisionState.DECIDED.value,
            outcome=outcome,
            rationale=rationale,
            decided_by=by,
            decided_at=at,
            updated_at=at,
        )
        .returning(DecisionRow.project_id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if decided is None:
        return False
    invalidate(session, [decided])  # a decided ask no longer needs attention (read model)
    return True


def record_decided(
    session: Session,
    *,
    project_id: int,
    kind: DecisionKind,
    question: str,
    outcome: str,
    rationale: str | None,
    by: str,
    at: datetime,
) -> Decision:
    """Record a decision taken on a stage request (a gate's or a change's): decided as it is
    recorded, so never undecided."""
    row = DecisionRow(
        project_id=project_id,
        question=question,
        needed_by=None,
        report_id=None,
        state=DecisionState.DECIDED.value,
        opened_at=at,
        updated_at=at,
        outcome=outcome,
        rationale=rationale,
        decided_by=by,
        decided_at=at,
        kind=kind.value,
    )
    session.add(row)
    session.flush()
    return _to_decision(row)


def find_decision(session: Session, decision_id: int) -> Decision | None:
    row = session.execute(plain(DecisionRow).where(DecisionRow.id == decision_id)).first()
    return _to_decision(row) if row is not None else None


def decided_since(
    session: Session, project_ids: Collection[int], *, since: datetime | None, until: datetime
) -> list[Decision]:
    """The decisions of these projects decided after `since` (ever, if None) and at or before
    `until`, oldest first."""
    query = plain(DecisionRow).where(
        among(session, DecisionRow.project_id, project_ids),
        DecisionRow.state == DecisionState.DECIDED.value,
        DecisionRow.decided_at <= until,
    )
    if since is not None:
        query = query.where(DecisionRow.decided_at > since)
    rows = session.execute(query.order_by(DecisionRow.decided_at, DecisionRow.id))
    return [_to_decision(row) for row in rows]


def _to_action(row: Any) -> Action:
    return Action(
        id=row.id,
        decision_id=row.decision_id,
        project_id=row.project_id,
        title=row.title,
        owner=row.owner,
        due_on=row.due_on,
        state=ActionState(row.state),
        created_at=row.created_at,
        done_at=row.done_at,
        done_by=row.done_by,
    )


def add_actions(
    session: Session,
    decision: Decision,
    actions: Collection[tuple[str, str, date]],
    *,
    now: datetime,
) -> list[Action]:
    """Record the actions (title, owner, due date) a decision sets, open, in their order."""
    rows = [
        ActionRow(
            decision_id=decision.id,
            project_id=decision.project_id,
            title=title,
            owner=owner,
            due_on=due_on,
            state=ActionState.OPEN.value,
            created_at=now,
        )
        for title, owner, due_on in actions
    ]
    session.add_all(rows)
    session.flush()
    return [_to_action(row) for row in rows]


def find_action(session: Session, action_id: int) -> Action | None:
    row = session.execute(plain(ActionRow).where(ActionRow.id == action_id)).first()
    return _to_action(row) if row is not None else None


def actions_of(
    session: Session,
    *,
    decision_ids: Collection[int] | None = None,
    project_ids: Collection[int] | None = None,
    owner: str | None = None,
    state: ActionState | None = None,
    due_before: date | None = None,
    due_from: date | None = None,
) -> list[Action]:
    """The actions that match every filter given, by due date then id."""
    query = plain(ActionRow)
    if decision_ids is not None:
        query = query.where(among(session, ActionRow.decision_id, decision_ids))
    if project_ids is not None:
        query = query.where(among(session, ActionRow.project_id, project_ids))
    if owner is not None:
        query = query.where(ActionRow.owner == owner)
    if state is not None:
        query = query.where(ActionRow.state == state.value)
    if due_before is not None:
        query = query.where(ActionRow.due_on < due_before)
    if due_from is not None:
        query = query.where(ActionRow.due_on >= due_from)
    rows = session.execute(query.order_by(ActionRow.due_on, ActionRow.id))
    return [_to_action(row) for row in rows]


def mark_action_done(session: Session, action_id: int, *, by: str, at: datetime) -> bool:
    """Mark an open action done, in one statement: True if this call did (a double click or
    a second surface finds it done already and changes nothing)."""
    done = session.execute(
        update(ActionRow)
        .where(ActionRow.id == action_id, ActionRow.state == ActionState.OPEN.value)
        .values(state=ActionState.DONE.value, done_at=at, done_by=by)
        .returning(ActionRow.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return done is not None

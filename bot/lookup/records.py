"""`/pmo risks`, `/pmo blockers`, `/pmo decisions` and `/pmo actions`: records across
projects, ranked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.governance.actions import is_overdue
from bot.slack.people import known_names
from bot.slack.user_ids import Person, person
from storage import decisions, items, portfolio
from storage.records import (
    UNDECIDED,
    Action,
    ActionState,
    Blocker,
    Decision,
    DecisionState,
    Project,
    Risk,
)


@dataclass(frozen=True, slots=True)
class RiskLine:
    project: Project
    risk: Risk
    owner: Person | None


@dataclass(frozen=True, slots=True)
class DecisionLine:
    project: Project
    decision: Decision


@dataclass(frozen=True, slots=True)
class ActionLine:
    project: Project
    action: Action
    owner: Person | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class BlockerLine:
    project: Project
    blocker: Blocker
    unblocker: Person | None
    age_days: int


def ranked_risks(
    session: Session, projects: Sequence[Project], *, limit: int
) -> tuple[list[RiskLine], int]:
    """The open risks of these projects, highest score first (then the project's priority),
    at most `limit` of them, and how many there are in all: ranked by the database, so only
    those shown are read."""
    by_id = {p.id: p for p in projects}
    hidden = {p.id for p in portfolio.list_projects(session)} - by_id.keys()
    if len(hidden) < len(by_id):  # the smaller list of ids goes to the database
        found, total = items.ranked_open_risks(session, None, excluding=hidden, limit=limit)
    else:
        found, total = items.ranked_open_risks(session, by_id, limit=limit)
    names = known_names(session, [r.owner for r in found])
    return [RiskLine(by_id[r.project_id], r, person(r.owner, names)) for r in found], total


def ranked_blockers(
    session: Session, projects: Sequence[Project], *, now: datetime, limit: int
) -> tuple[list[BlockerLine], int]:
    """The open blockers of these projects, those asking leadership first, then the oldest,
    at most `limit` of them, and how many there are in all."""
    found = items.open_blockers(session, [p.id for p in projects])
    pairs = [(p, b) for p in projects for b in found[p.id]]
    pairs.sort(key=lambda pb: (not pb[1].needs_leadership, pb[1].raised_at, pb[0].key))
    names = known_names(session, [b.unblocker for _, b in pairs[:limit]])
    return [
        BlockerLine(p, b, person(b.unblocker, names), b.age_days(now)) for p, b in pairs[:limit]
    ], len(pairs)


def listed_decisions(
    session: Session, projects: Sequence[Project], *, undecided_only: bool, limit: int
) -> tuple[list[DecisionLine], int]:
    """The decisions of these projects, at most `limit`, and how many there are. Undecided
    only (what leadership owes): lapsed ones first, then by needed-by date (none last), then
    the oldest ask. Otherwise (one project's record) every decision, newest first."""
    by_id = {p.id: p for p in projects}
    # every visible project's history would be read for the few undecided: filtered in SQL
    found = decisions.of_projects(session, by_id, states=UNDECIDED if undecided_only else ())
    if undecided_only:
        found.sort(
            key=lambda d: (
                d.state is not DecisionState.LAPSED,
                d.needed_by is None,
                d.needed_by,
                d.opened_at,
            )
        )
    return [DecisionLine(by_id[d.project_id], d) for d in found[:limit]], len(found)


def listed_actions(
    session: Session,
    projects: Sequence[Project],
    *,
    today: date,
    owner: str | None = None,
    overdue_only: bool = False,
    limit: int,
) -> tuple[list[ActionLine], int]:
    """The actions of these projects (of one `owner`, or only the open ones past their due
    date), at most `limit`, and how many there are: open ones first, soonest due first (the
    most overdue at the top), then done ones, the latest done first."""
    by_id = {p.id: p for p in projects}
    found = decisions.actions_of(
        session,
        project_ids=list(by_id),
        owner=owner,
        state=ActionState.OPEN if owner is not None or overdue_only else None,
        due_before=today if overdue_only else None,
    )
    found.sort(
        key=lambda a: (
            a.state is not ActionState.OPEN,
            a.due_on if a.state is ActionState.OPEN else date.max,
            -(a.done_at.timestamp() if a.done_at else 0),
            a.id,
        )
    )
    names = known_names(session, {a.owner for a in found[:limit]})
    return [
        ActionLine(by_id[a.project_id], a, person(a.owner, names), is_overdue(a, today))
        for a in found[:limit]
    ], len(found)

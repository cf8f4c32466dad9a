"""Actions a decision sets, tracked to done: the one rule for who may close one, and when one
is overdue or due for its reminder.

An action has a title, one owner (a Slack user) and a due date. Its owner marks it done (the
Done button of its DM, the App Home, or `/pmo actions done ID`); so may a PMO admin, and the
person who took the decision that set it. Done once: a second click changes nothing and says
by whom and when. Open past its due date, it is overdue (the digest lists it under its
project). On its due date its owner gets one reminder, in their working hours.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.access.permissions import can_close_action
from bot.periods.hours import is_working_day
from bot.slack.user_ids import is_user_id
from storage import audit, decisions, portfolio
from storage.deliveries import Claim
from storage.records import Action, ActionState, Calendar, DeliveryKind, ProjectState


@dataclass(frozen=True, slots=True)
class MarkedDone:
    outcome: str  # done, already_done, not_found, not_allowed
    action: Action | None


def is_overdue(action: Action, today: date) -> bool:
    """Open after its due date (in PMO_TIMEZONE's `today`)."""
    return action.state is ActionState.OPEN and action.due_on < today


REMINDER_LEAD = timedelta(days=8)  # the furthest a reminder day falls before its due date


def reminder_day(due_on: date, calendar: Calendar, holidays: Collection[date] = ()) -> date:
    """The day an action's owner is reminded: its due date, or when that is no working day (a
    Sunday, a holiday), the last working day before it, so the reminder comes while there is
    still time; never further back than REMINDER_LEAD (then the due date itself)."""
    day = due_on
    while not is_working_day(day, calendar, holidays):
        day -= timedelta(days=1)
        if due_on - day >= REMINDER_LEAD:
            return due_on
    return day


def reminders_due(session: Session, *, today: date, zone: ZoneInfo) -> list[Claim]:
    """The reminders to record at a tick of `today` (in `zone`, PMO_TIMEZONE): one per open
    action of an open project due from yesterday to a week ahead (its composer waits for the
    reminder day in its owner's zone), except those set on their due date, in `zone` (the owner
    was just told), and those of an owner erased (pmo-bot forget-user)."""
    window = decisions.actions_of(
        session,
        state=ActionState.OPEN,
        due_from=today - timedelta(days=1),
        due_before=today + REMINDER_LEAD,
    )
    open_projects = {
        p.id
        for p in portfolio.find_projects(session, {a.project_id for a in window})
        if p.state is not ProjectState.CLOSED
    }
    return [
        Claim(
            DeliveryKind.ACTION_REMINDER,
            f"action:{action.id}",
            datetime.combine(action.due_on, time(0), UTC),
            project_id=action.project_id,
            payload={"action": action.id, "user": action.owner},
        )
        for action in window
        if action.project_id in open_projects
        and action.created_at.astimezone(zone).date() < action.due_on
        and is_user_id(action.owner)
    ]


def mark_done(
    session: Session, *, actor: str, action_id: int, admins: Collection[str], now: datetime
) -> MarkedDone:
    """Mark the action done, once, if `actor` may; audited. Nothing changes otherwise."""
    action = decisions.find_action(session, action_id)
    if action is None:
        return MarkedDone("not_found", None)
    decision = decisions.find_decision(session, action.decision_id)
    decider = decision.decided_by if decision is not None else None
    if not can_close_action(actor, action.owner, decider, admins):
        return MarkedDone("not_allowed", action)
    if not decisions.mark_action_done(session, action_id, by=actor, at=now):
        return MarkedDone("already_done", decisions.find_action(session, action_id))
    audit.record(
        session,
        actor=actor,
        at=now,
        action="action_done",
        project_id=action.project_id,
        changes={
            "action": [None, action.id],
            "state": [ActionState.OPEN.value, ActionState.DONE.value],
        },
    )
    return MarkedDone("done", decisions.find_action(session, action_id))

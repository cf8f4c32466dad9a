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

from sqlalchemy.orm import Session

from bot.access.permissions import can_close_action
from bot.slack.user_ids import is_user_id
from storage import audit, decisions
from storage.deliveries import Claim
from storage.records import Action, ActionState, DeliveryKind


@dataclass(frozen=True, slots=True)
class MarkedDone:
    outcome: str  # done, already_done, not_found, not_allowed
    action: Action | None


def is_overdue(action: Action, today: date) -> bool:
    """Open after its due date (in PMO_TIMEZONE's `today`)."""
    return action.state is ActionState.OPEN and action.due_on < today


def reminders_due(session: Session, *, today: date) -> list[Claim]:
    """The reminders to record at a tick of `today` (PMO_TIMEZONE): one per open action due
    from yesterday to tomorrow (its owner's own date decides, when it is composed), except
    those set on their due date (the owner was just told)."""
    window = decisions.actions_of(
        session,
        state=ActionState.OPEN,
        due_from=today - timedelta(days=1),
        due_before=today + timedelta(days=2),
    )
    return [
        Claim(
            DeliveryKind.ACTION_REMINDER,
            f"action:{action.id}",
            datetime.combine(action.due_on, time(0), UTC),
            project_id=action.project_id,
            payload={"action": action.id, "user": action.owner},
        )
        for action in window
        if action.created_at.astimezone(UTC).date() < action.due_on
        and is_user_id(action.owner)  # an erased owner (pmo-bot forget-user) is told nothing
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

"""Every ask becomes a decision record: the one rule for a decision's life.

A report whose "help needed" is filled asks leadership for a decision. The project's newest
report speaks for it:

* it asks, and the project has no undecided decision: one is **opened** (the question, the
  needed-by date, the report it came from) — unless it asks exactly what the project's last
  decision already decided (a "No change" copy of last week's ask is not a new one);
* it asks, and the project has an undecided one: that one is **updated** (question, date,
  report), open again if its new date is ahead;
* it no longer asks: the undecided one is **withdrawn**;
* an answer for an earlier period (a late report) changes nothing: it does not speak for the
  project now.

An open decision whose needed-by date has passed **lapses** (the tick, `lapse_overdue`); it
may still be decided. At most one undecided decision per project (a constraint in storage).

**Deciding** (`decide`): the project's sponsor, a PMO admin, or a decider a digest
subscription names (bot.access.permissions.can_decide) records an outcome (approved,
rejected, deferred, more information needed) and a rationale, required unless approved. A
decision is decided once: the second click, a resubmitted modal or another replica gets
`AlreadyDecided` (by whom, when), never a second record.

Every change is in the audit log, by the report's author, the decider, or "bot" for a lapse.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from bot.access.permissions import can_decide
from storage import audit, decisions, portfolio, reports
from storage.records import Decision, DecisionState, Report

BOT = "bot"  # who the audit log says lapsed a decision
MAX_RATIONALE = 2000


class DecisionOutcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    MORE_INFORMATION = "more_information"


@dataclass(frozen=True, slots=True)
class Decided:
    decision: Decision  # as recorded now


@dataclass(frozen=True, slots=True)
class AlreadyDecided:
    """Someone decided it first (or it was withdrawn): nothing was recorded now."""

    decision: Decision


@dataclass(frozen=True, slots=True)
class DecisionRefused:
    reason: str  # not_found, not_allowed, withdrawn (the project no longer asks), invalid
    problems: tuple[str, ...] = ()  # the form's, by field: rationale_required, rationale_long


def decide(
    session: Session,
    *,
    actor: str,
    decision_id: int,
    outcome: str,
    rationale: str | None,
    admins: Collection[str],
    deciders: Collection[str] = (),
    now: datetime,
) -> Decided | AlreadyDecided | DecisionRefused:
    """Record `actor`'s decision, once, or say why not; nothing changes when refused."""
    found = decisions.find_decision(session, decision_id)
    project = portfolio.find_project_by_id(session, found.project_id) if found else None
    if found is None or project is None:
        return DecisionRefused("not_found")
    if not can_decide(actor, project, admins, deciders):
        return DecisionRefused("not_allowed")
    if found.state is DecisionState.WITHDRAWN:
        return DecisionRefused("withdrawn")
    if found.state is DecisionState.DECIDED:
        return AlreadyDecided(found)
    try:
        chosen = DecisionOutcome(outcome)
    except ValueError:
        return DecisionRefused("invalid", ("outcome_unknown",))
    why = (rationale or "").strip() or None
    if chosen is not DecisionOutcome.APPROVED and why is None:
        return DecisionRefused("invalid", ("rationale_required",))
    if why is not None and len(why) > MAX_RATIONALE:
        return DecisionRefused("invalid", ("rationale_long",))
    if not decisions.record_decision(
        session, decision_id, outcome=chosen.value, rationale=why, by=actor, at=now
    ):
        taken = decisions.find_decision(session, decision_id)
        if taken is None or taken.state is not DecisionState.DECIDED:  # withdrawn meanwhile
            return DecisionRefused("withdrawn")
        return AlreadyDecided(taken)
    changes = {
        "state": [found.state.value, DecisionState.DECIDED.value],
        "outcome": [None, chosen.value],
    }
    if why is not None:
        changes["rationale"] = [None, why]
    _audit(session, actor, now, "decision_decided", found, changes)
    decided = decisions.find_decision(session, decision_id)
    assert decided is not None
    return Decided(decided)


def note_ask(
    session: Session, report: Report, *, now: datetime, today: date | None = None
) -> str | None:
    """After `report` is saved (in the same transaction): open, update or withdraw its
    project's decision. `today` (in PMO_TIMEZONE; `now`'s UTC date if not given) tells
    whether a changed ask's date is still ahead. Returns what changed ("opened", "updated",
    "withdrawn"), or None."""
    project_id = report.project_id
    decisions.lock_project(session, project_id)  # two answers at once: one after the other
    newest = reports.latest_reports(session, [project_id], per_project=1)[project_id]
    if not newest or newest[0].id != report.id:
        return None
    current = decisions.undecided(session, project_id, lock=True)
    question = (report.help_needed or "").strip()
    if not question:
        if current is None:
            return None
        decisions.set_state(session, current.id, DecisionState.WITHDRAWN, now=now)
        _audit(session, report.submitted_by, now, "decision_withdrawn", current, {})
        return "withdrawn"
    if current is None:
        last = decisions.latest(session, project_id)
        if last is not None and last.state is DecisionState.DECIDED and last.question == question:
            return None
        opened = decisions.open_decision(
            session,
            project_id=project_id,
            question=question,
            needed_by=report.help_needed_by,
            report_id=report.id,
            now=now,
        )
        changes = {"question": [None, question], "needed_by": [None, _day(opened.needed_by)]}
        _audit(session, report.submitted_by, now, "decision_opened", opened, changes)
        return "opened"
    changes = {}
    if current.question != question:
        changes["question"] = [current.question, question]
    if current.needed_by != report.help_needed_by:
        changes["needed_by"] = [_day(current.needed_by), _day(report.help_needed_by)]
    # A changed ask is open again unless its date has passed already; the same ask stays
    # as it was (lapsed stays lapsed).
    ahead = report.help_needed_by is None or report.help_needed_by >= (today or now.date())
    state = DecisionState.OPEN if changes and ahead else current.state
    decisions.reask(
        session,
        current.id,
        question=question,
        needed_by=report.help_needed_by,
        report_id=report.id,
        state=state,
        now=now,
    )
    if not changes:
        return None  # the same ask, from the newer report (a "No change" copy)
    _audit(session, report.submitted_by, now, "decision_updated", current, changes)
    return "updated"


def lapse_overdue(session: Session, *, today: date, now: datetime) -> list[Decision]:
    """Lapse the open decisions whose needed-by date is before `today`; those lapsed."""
    lapsed = [
        decision
        for decision in decisions.due_to_lapse(session, before=today)
        if decisions.lapse(session, decision.id, before=today, now=now)
    ]
    for decision in lapsed:
        changes = {"state": [DecisionState.OPEN.value, DecisionState.LAPSED.value]}
        _audit(session, BOT, now, "decision_lapsed", decision, changes)
    return lapsed


def _audit(
    session: Session,
    actor: str,
    now: datetime,
    action: str,
    decision: Decision,
    changes: dict[str, Any],
) -> None:
    audit.record(
        session,
        actor=actor,
        at=now,
        action=action,
        project_id=decision.project_id,
        changes={"decision": [None, decision.id], **changes},
    )


def _day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None

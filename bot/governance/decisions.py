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
Every change is in the audit log, by the report's author (or "bot" for a lapse).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from storage import audit, decisions, reports
from storage.records import Decision, DecisionState, Report

BOT = "bot"  # who the audit log says lapsed a decision


def note_ask(session: Session, report: Report, *, now: datetime) -> str | None:
    """After `report` is saved (in the same transaction): open, update or withdraw its
    project's decision. Returns what changed ("opened", "updated", "withdrawn"), or None."""
    project_id = report.project_id
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
    state = DecisionState.OPEN if changes else current.state  # the same ask stays lapsed
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
    lapsed = decisions.due_to_lapse(session, before=today)
    for decision in lapsed:
        decisions.set_state(session, decision.id, DecisionState.LAPSED, now=now)
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

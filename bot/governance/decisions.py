"""Every ask becomes a decision record: the one rule for a decision's life.

A report whose "help needed" is filled asks leadership for a decision. The project's newest
report speaks for it:

* it asks, and the project has no undecided decision: one is **opened** (the question, the
  needed-by date, the report it came from) — unless it is a "No change" copy of the report
  whose ask was decided (a copy asks nothing new; the same question typed again does: the
  modal never prefills it, so it is asked again on purpose);
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

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from bot.access.audience import selects
from bot.access.permissions import can_decide, kept_informed
from bot.slack.user_ids import is_user_id, user_id_or_none
from storage import audit, decisions, deliveries, portfolio, reports, stages
from storage.deliveries import Claim
from storage.records import (
    Action,
    Decision,
    DecisionKind,
    DecisionState,
    DeliveryKind,
    Project,
    ProjectState,
    Report,
    RequestState,
)

BOT = "bot"  # who the audit log says lapsed a decision
MAX_RATIONALE = 2000
MAX_ACTIONS = 3  # per decision, in its modal
MAX_ACTION_TITLE = 200


class DecisionOutcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    MORE_INFORMATION = "more_information"


@dataclass(frozen=True, slots=True)
class ActionDraft:
    """One action row of the decision modal, as typed (any part may be missing)."""

    title: str | None = None
    owner: str | None = None
    due_on: str | None = None  # as the date picker sends it, YYYY-MM-DD


@dataclass(frozen=True, slots=True)
class DigestThread:
    """Where a decision's announcement replies: the digest message the Decide… button was on."""

    channel: str
    ts: str


@dataclass(frozen=True, slots=True)
class Decided:
    decision: Decision  # as recorded now
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True, slots=True)
class AlreadyDecided:
    """Someone decided it first (or it was withdrawn): nothing was recorded now."""

    decision: Decision


@dataclass(frozen=True, slots=True)
class DecisionRefused:
    # not_found, not_allowed, withdrawn (the project no longer asks), changed (the PM changed
    # the ask while the modal was open), invalid
    reason: str
    # the form's, as (field, code): (rationale, required|long), (outcome, unknown),
    # (action.N.title, required|long), (action.N.owner, required), (action.N.due, required|past)
    problems: tuple[tuple[str, str], ...] = ()


def deciders_for(session: Session, project: Project) -> frozenset[str]:
    """The deciders named by the digest subscriptions that show the project (besides its
    sponsor and the admins, who may always decide)."""
    return frozenset(
        user
        for subscription in portfolio.list_subscriptions(session)
        if selects(subscription, project)
        for user in subscription.deciders
    )


def ask_fingerprint(decision: Decision) -> str:
    """What the decider was shown of an ask (its question and date), in 16 characters: the
    modal carries it, so that an ask the PM changed meanwhile is not decided unseen."""
    seen = f"{decision.question}\n{decision.needed_by or ''}"
    return hashlib.sha256(seen.encode()).hexdigest()[:16]


def may_decide(
    session: Session, actor: str, decision_id: int, *, admins: Collection[str]
) -> tuple[Decision, Project] | DecisionRefused:
    """The decision and its project when `actor` may decide it (or see who did); else why
    not. What the Decide… button asks before it opens the modal."""
    found = decisions.find_decision(session, decision_id)
    project = portfolio.find_project_by_id(session, found.project_id) if found else None
    if found is None or project is None:
        return DecisionRefused("not_found")
    if not can_decide(actor, project, admins, deciders_for(session, project)):
        return DecisionRefused("not_allowed")
    if found.state is DecisionState.WITHDRAWN:
        return DecisionRefused("withdrawn")
    return found, project


def check_form(
    outcome: str, rationale: str | None, actions: Sequence[ActionDraft], *, today: date
) -> tuple[DecisionOutcome | None, str | None, list[tuple[str, str, date]], list[tuple[str, str]]]:
    """The decision modal's answers, checked: the outcome, the rationale (required unless
    approved), the actions filled in (title, owner, due date, each required once any is given;
    the date not before `today`); and every problem, by field."""
    problems: list[tuple[str, str]] = []
    try:
        chosen: DecisionOutcome | None = DecisionOutcome(outcome)
    except ValueError:
        chosen = None
        problems.append(("outcome", "unknown"))
    why = (rationale or "").strip() or None
    if chosen is not None and chosen is not DecisionOutcome.APPROVED and why is None:
        problems.append(("rationale", "required"))
    if why is not None and len(why) > MAX_RATIONALE:
        problems.append(("rationale", "long"))
    kept: list[tuple[str, str, date]] = []
    for number, draft in enumerate(actions[:MAX_ACTIONS], start=1):
        title = (draft.title or "").strip()
        owner = user_id_or_none(draft.owner)
        if not title and draft.owner is None and draft.due_on is None:
            continue  # an empty row
        try:
            due = date.fromisoformat(draft.due_on) if draft.due_on is not None else None
        except ValueError:
            due = None
        field = f"action.{number}"
        if not title:
            problems.append((f"{field}.title", "required"))
        elif len(title) > MAX_ACTION_TITLE:
            problems.append((f"{field}.title", "long"))
        if owner is None:
            problems.append((f"{field}.owner", "required"))
        if due is None:
            problems.append((f"{field}.due", "required"))
        elif due < today:
            problems.append((f"{field}.due", "past"))
        if title and owner and due is not None and due >= today:
            kept.append((title, owner, due))
    return chosen, why, kept, problems


def decide(
    session: Session,
    *,
    actor: str,
    decision_id: int,
    outcome: str,
    rationale: str | None,
    admins: Collection[str],
    now: datetime,
    actions: Sequence[ActionDraft] = (),
    today: date | None = None,
    thread: DigestThread | None = None,
    seen: str | None = None,
) -> Decided | AlreadyDecided | DecisionRefused:
    """Record `actor`'s decision and its actions, once, and queue its announcements (in the
    same transaction: recorded once, announced once); or say why not, changing nothing.
    `today` (PMO_TIMEZONE; `now`'s UTC date if not given) is the earliest due date an action
    may have; `thread`, the digest it was decided from; `seen`, the ask's fingerprint as the
    modal showed it (`ask_fingerprint`): a different one is refused as "changed"."""
    allowed = may_decide(session, actor, decision_id, admins=admins)
    if isinstance(allowed, DecisionRefused):
        return allowed
    found, project = allowed
    if found.state is DecisionState.DECIDED:
        return AlreadyDecided(found)
    if seen is not None and seen != ask_fingerprint(found):
        return DecisionRefused("changed")
    chosen, why, kept, problems = check_form(outcome, rationale, actions, today=today or now.date())
    if problems or chosen is None:
        return DecisionRefused("invalid", tuple(problems))
    if not decisions.record_decision(
        session,
        decision_id,
        outcome=chosen.value,
        rationale=why,
        by=actor,
        at=now,
        question=found.question,
    ):
        taken = decisions.find_decision(session, decision_id)
        if taken is None or taken.state is DecisionState.WITHDRAWN:
            return DecisionRefused("withdrawn")
        if taken.state is not DecisionState.DECIDED:  # the PM changed the ask meanwhile
            return DecisionRefused("changed")
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
    recorded = record_actions(session, decided, kept, actor=actor, now=now)
    announce(session, decided, project, recorded, thread=thread, now=now)
    return Decided(decided, tuple(recorded))


def record_actions(
    session: Session,
    decision: Decision,
    kept: Sequence[tuple[str, str, date]],
    *,
    actor: str,
    now: datetime,
) -> list[Action]:
    """Record the actions (title, owner, due date) a decision sets, each in the audit log by
    `actor`, the decider (an ask's, a gate's or a change's conditions)."""
    recorded = decisions.add_actions(session, decision, kept, now=now)
    for action in recorded:
        audit.record(
            session,
            actor=actor,
            at=now,
            action="action_created",
            project_id=action.project_id,
            changes={
                "decision": [None, decision.id],
                "action": [None, action.id],
                "title": [None, action.title],
                "owner": [None, action.owner],
                "due_on": [None, action.due_on.isoformat()],
            },
        )
    return recorded


def announce(
    session: Session,
    decision: Decision,
    project: Project,
    actions: Sequence[Action],
    *,
    thread: DigestThread | None,
    now: datetime,
) -> None:
    """Queue who hears a decision, once each (the outbox's unique key): a reply in the
    digest's thread (the one it was decided from, else the latest posted digest that shows the
    project), a DM to the PM, the delegates and, for a gate or a change, the one who asked it
    (an admin, say), and a read-only one to those its roles name accountable or informed (not
    to the decider: they know), a DM to each action's owner."""
    where = _thread(session, project, thread)
    claims = []
    if where is not None:
        claims.append(
            Claim(
                DeliveryKind.DECISION_THREAD,
                f"decision:{decision.id}",
                now,
                project_id=project.id,
                subscription_id=where[0],
                payload={"decision": decision.id, "channel": where[1], "ts": where[2]},
            )
        )
    # The PM, delegates and asker first: someone also named informed hears it once, as them.
    told: dict[str, str | None] = {
        u: None
        for u in (project.pm, *project.delegates, *_asker(session, decision))
        if is_user_id(u)
    }
    for user, named in kept_informed(project).items():
        told.setdefault(user, named)
    for user, role in told.items():
        if user == decision.decided_by:
            continue
        payload: dict[str, Any] = {"decision": decision.id, "user": user}
        if role is not None:
            payload["role"] = role  # told as informed (or accountable): a read-only notice
        claims.append(
            Claim(
                DeliveryKind.DECISION_NOTICE,
                f"{user}:decision:{decision.id}",
                now,
                project_id=project.id,
                payload=payload,
            )
        )
    for action in actions:
        claims.append(
            Claim(
                DeliveryKind.ACTION_ASSIGNED,
                f"action:{action.id}",
                now,
                project_id=project.id,
                payload={"action": action.id, "user": action.owner},
            )
        )
    deliveries.enqueue(session, claims, now=now)


def _asker(session: Session, decision: Decision) -> tuple[str, ...]:
    """Who asked for the gate or change `decision` decides (none for a report's ask)."""
    if decision.kind is DecisionKind.ASK:
        return ()
    decided = stages.requests_of(session, [decision.project_id], state=RequestState.DECIDED)
    return tuple(r.requested_by for r in decided if r.decision_id == decision.id)


def _thread(
    session: Session, project: Project, thread: DigestThread | None
) -> tuple[int | None, str, str] | None:
    """(subscription id, channel, ts) of the digest to reply in: `thread` when it is a posted
    digest that shows the project (a payload cannot name another channel), else the latest
    posted digest of a subscription that shows it; None when no digest ever showed it."""
    shown = [s for s in portfolio.list_subscriptions(session) if selects(s, project)]
    if thread is not None:
        posted = deliveries.find_sent_digest(session, channel=thread.channel, ts=thread.ts)
        if posted is not None and any(s.id == posted.subscription_id for s in shown):
            return posted.subscription_id, thread.channel, thread.ts
    latest = deliveries.latest_sent_digests(session, [s.id for s in shown])
    if latest is None or not latest.channel or not latest.ts:
        return None
    return latest.subscription_id, latest.channel, latest.ts


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
        copied = report.copied_from_id is not None
        if copied and last is not None and last.state is DecisionState.DECIDED:
            return None  # a "No change" copy of the report whose ask was decided
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
    due = decisions.due_to_lapse(session, before=today)
    closed = {
        p.id
        for p in portfolio.find_projects(session, {d.project_id for d in due})
        if p.state is ProjectState.CLOSED
    }
    lapsed = [
        decision
        for decision in due
        if decision.project_id not in closed  # a closed project is asked nothing more
        and decisions.lapse(session, decision.id, before=today, now=now)
    ]
    for decision in lapsed:
        changes = {"state": [DecisionState.OPEN.value, DecisionState.LAPSED.value]}
        _audit(session, BOT, now, "decision_lapsed", decision, changes)
    # its sponsor hears it once (the lapse happens once: a conditional update)
    sponsored = {
        p.id: p
        for p in portfolio.find_projects(session, {d.project_id for d in lapsed})
        if p.sponsor and is_user_id(p.sponsor)
    }
    deliveries.enqueue(
        session,
        [
            Claim(
                DeliveryKind.DECISION_LAPSED,
                f"decision:{decision.id}",
                now,
                project_id=decision.project_id,
                payload={"decision": decision.id, "user": sponsored[decision.project_id].sponsor},
            )
            for decision in lapsed
            if decision.project_id in sponsored
        ],
        now=now,
    )
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

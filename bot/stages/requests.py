"""Gates and change requests (issue 17): the one rule for a stage request's life.

**Asking.** The PM, a delegate or a PMO admin (bot.access.permissions.can_submit) asks:

* to pass the gate out of the project's phase (`request_gate`): every mandatory checklist
  item ticked, a link given for each ticked item that asks for one;
* to change the project's baseline (`request_change`): what changes (scope, schedule, cost),
  the new end date and budget if any, and why.

At most one request of each kind waits per project (a constraint in storage); each asks its
approvers in a DM (bot.delivery.stages): the gate's, or for a change the planning gate's
(bot.stages.phases.change_approvers); `sponsor` and `admins` are read when it is decided.
Someone who becomes an approver while it waits (a new sponsor, a new admin, a process naming
someone else) is asked too, once (`ask_new_approvers`, after an edit, a grant or an import).

**Deciding** (`decide_request`): an approver records **approved**, **approved with
conditions** (each condition an action with an owner and a due date, issue 10's) or
**rejected** (a rationale required unless approved). A request is decided once: the second
click, another approver or another replica gets `RequestAlreadyDecided`. The decision is a decision
record (storage.decisions, kind gate or change), announced as every decision is
(bot.governance.decisions.announce). A gate whose mandatory items (as the process says
today) are not all ticked is never approved; a gate whose project moved on meanwhile is
withdrawn.

**On approval** a gate moves the project to the next phase and records its baseline (budget,
end date, milestones' due dates); a change writes the new end date and budget (each field
audited) and records a new baseline, the earlier ones kept: earned value and tolerances read
the project's budget and end, so they use it from then on.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from sqlalchemy.orm import Session

from bot.access.permissions import can_submit
from bot.governance.decisions import (
    ActionDraft,
    DecisionOutcome,
    announce,
    check_form,
    record_actions,
)
from bot.stages.phases import approvers, change_approvers, next_gate, phase_of
from storage import audit, decisions, deliveries, items, portfolio, stages
from storage.deliveries import Claim
from storage.records import (
    Action,
    Baseline,
    ChangeKind,
    ChecklistAnswer,
    Decision,
    DecisionKind,
    DeliveryKind,
    Gate,
    Process,
    Project,
    ProjectState,
    RequestKind,
    RequestState,
    StageRequest,
)

MAX_REASON = 2000
MAX_LINK = 500
MAX_BUDGET = Decimal("1e15")
WAITING_DAYS = 7  # a request waiting longer needs its approvers' attention (the digest)


class RequestOutcome(StrEnum):
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    REJECTED = "rejected"


APPROVALS = (RequestOutcome.APPROVED, RequestOutcome.APPROVED_WITH_CONDITIONS)


@dataclass(frozen=True, slots=True)
class StageRefused:
    """Why nothing was recorded. reason: not_found, not_allowed, no_process, closed, last_phase
    (no gate out of it), pending (one waits already: `pending`), changed (the project moved on
    while the modal was open), withdrawn, mandatory (an item the process requires is not
    ticked: `problems` names them), invalid (`problems`, by field)."""

    reason: str
    problems: tuple[tuple[str, str], ...] = ()
    pending: StageRequest | None = None


@dataclass(frozen=True, slots=True)
class Requested:
    request: StageRequest
    approvers: frozenset[str]


@dataclass(frozen=True, slots=True)
class RequestDecided:
    request: StageRequest  # as it is now
    decision: Decision
    actions: tuple[Action, ...] = ()
    baseline: Baseline | None = None


@dataclass(frozen=True, slots=True)
class RequestAlreadyDecided:
    request: StageRequest


@dataclass(frozen=True, slots=True)
class Asking:
    """What a request modal is opened on: the project, its process, and its gate (a gate)."""

    project: Project
    process: Process
    gate: Gate | None


def gated(requests: Iterable[StageRequest]) -> set[int]:
    """The projects that passed a gate in Slack (`requests`: any, in any state): from then on
    only their gates move their phase (an import that says otherwise is refused, unless its
    entry says `rebaseline: true`)."""
    return {
        r.project_id
        for r in requests
        if r.kind is RequestKind.GATE and r.state is RequestState.DECIDED and r.outcome in APPROVALS
    }


def may_ask(
    session: Session, actor: str, key: str, kind: RequestKind, *, admins: Collection[str]
) -> Asking | StageRefused:
    """The project (by key) when `actor` may ask for `kind` now; else why not."""
    project = portfolio.find_project(session, key.upper())
    if project is None:
        return StageRefused("not_found")
    return _may_ask(session, actor, project, kind, admins=admins)


def _may_ask(
    session: Session, actor: str, project: Project, kind: RequestKind, *, admins: Collection[str]
) -> Asking | StageRefused:
    if not can_submit(actor, project, admins):
        return StageRefused("not_allowed")
    if project.state is ProjectState.CLOSED:
        return StageRefused("closed")
    process = portfolio.load_process(session)
    if not process.phases:
        return StageRefused("no_process")
    gate = next_gate(project, process) if kind is RequestKind.GATE else None
    if kind is RequestKind.GATE and gate is None:
        return StageRefused("last_phase")
    waiting = stages.pending_request(session, project.id, kind)
    if waiting is not None:
        return StageRefused("pending", pending=waiting)
    return Asking(project, process, gate)


def approvers_of(
    request: StageRequest, project: Project, process: Process, admins: Collection[str]
) -> frozenset[str]:
    """Who may decide `request` today (never nobody: bot.stages.phases.approvers)."""
    if request.kind is RequestKind.GATE:
        gate = next((g for g in process.gates if g.from_phase == request.from_phase), None)
        named = gate.approvers if gate is not None else ("admins",)
    else:
        named = change_approvers(process)
    return approvers(named, project, admins)


def check_checklist(
    gate: Gate, ticked: Collection[str], links: Mapping[str, str | None]
) -> tuple[list[ChecklistAnswer], list[tuple[str, str]]]:
    """The gate's checklist as answered (item names ticked, links by item name), and every
    problem: (item.N, mandatory) for a mandatory item not ticked, (item.N.link, required |
    long | invalid) for a ticked item that asks for a link without a good one."""
    answers: list[ChecklistAnswer] = []
    problems: list[tuple[str, str]] = []
    for number, item in enumerate(gate.checklist, start=1):
        done = item.name in ticked
        link = (links.get(item.name) or "").strip() or None
        if item.mandatory and not done:
            problems.append((f"item.{number}", "mandatory"))
        if item.link and done:
            if link is None:
                problems.append((f"item.{number}.link", "required"))
            elif len(link) > MAX_LINK:
                problems.append((f"item.{number}.link", "long"))
            elif not link.startswith(("https://", "http://")):
                problems.append((f"item.{number}.link", "invalid"))
        answers.append(ChecklistAnswer(item.name, item.mandatory, done, link if done else None))
    return answers, problems


def request_gate(
    session: Session,
    *,
    actor: str,
    project_id: int,
    phase: str | None,
    ticked: Collection[str],
    links: Mapping[str, str | None],
    note: str | None,
    admins: Collection[str],
    now: datetime,
) -> Requested | StageRefused:
    """Ask the approvers to pass the gate out of the project's phase (`phase`: as the modal
    showed it; another one now is "changed")."""
    decisions.lock_project(session, project_id)  # two submissions at once: one after the other
    project = portfolio.find_project_by_id(session, project_id)
    if project is None:
        return StageRefused("not_found")
    asking = _may_ask(session, actor, project, RequestKind.GATE, admins=admins)
    if isinstance(asking, StageRefused):
        return asking
    assert asking.gate is not None
    if phase != phase_of(project, asking.process):
        return StageRefused("changed")
    answers, problems = check_checklist(asking.gate, ticked, links)
    why = (note or "").strip() or None
    if why is not None and len(why) > MAX_REASON:
        problems.append(("note", "long"))
    if problems:
        return StageRefused("invalid", tuple(problems))
    request = stages.add_request(
        session,
        project_id=project.id,
        kind=RequestKind.GATE,
        requested_by=actor,
        at=now,
        reason=why,
        from_phase=asking.gate.from_phase,
        to_phase=asking.gate.to_phase,
        checklist=answers,
    )
    changes: dict[str, object] = {
        "request": [None, request.id],
        "gate": [None, f"{request.from_phase} -> {request.to_phase}"],
        "checklist": [None, [a.name for a in answers if a.done]],
    }
    if why is not None:
        changes["note"] = [None, why]
    return _asked(session, request, project, asking.process, admins, actor, now, changes)


def parse_budget(text: str | None) -> Decimal | str | None:
    """A budget as the change modal's number input sends it (Slack checks it is a number and
    sends it as one, "1200000.5", whatever the asker's language): the amount, None when empty,
    or the problem code (invalid, negative, large). Nothing else is guessed: "1 200 000,50"
    read by stripping its commas would be a hundred times the amount meant."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return "invalid"
    if not amount.is_finite():
        return "invalid"
    if amount >= MAX_BUDGET:
        return "large"
    amount = amount.quantize(Decimal("0.01"))  # as stored: 0.004 is no budget
    if amount <= 0:
        return "negative"
    return amount


def request_change(
    session: Session,
    *,
    actor: str,
    project_id: int,
    changes: Collection[str],
    new_end: str | None,
    new_budget: str | None,
    reason: str | None,
    admins: Collection[str],
    now: datetime,
) -> Requested | StageRefused:
    """Ask the approvers to change the project's baseline: what changes, the new end date
    (YYYY-MM-DD, as the date picker sends it) and budget if any, and why (required)."""
    decisions.lock_project(session, project_id)
    project = portfolio.find_project_by_id(session, project_id)
    if project is None:
        return StageRefused("not_found")
    asking = _may_ask(session, actor, project, RequestKind.CHANGE, admins=admins)
    if isinstance(asking, StageRefused):
        return asking
    problems: list[tuple[str, str]] = []
    kinds: list[ChangeKind] = []
    for value in changes:
        try:
            kinds.append(ChangeKind(value))
        except ValueError:
            problems.append(("changes", "unknown"))
    if not kinds:
        problems.append(("changes", "required"))
    end: date | None = None
    if new_end:
        try:
            end = date.fromisoformat(new_end)
        except ValueError:
            problems.append(("end", "invalid"))
        else:
            if project.start is not None and end < project.start:
                problems.append(("end", "before_start"))
            elif end == project.end:
                problems.append(("end", "same"))
    budget = parse_budget(new_budget)
    if isinstance(budget, str):
        problems.append(("budget", budget))
        budget = None
    elif budget is not None and budget == project.budget:
        problems.append(("budget", "same"))
    # a figure given is a change of its kind: the ticks say what the approvers approve
    if kinds and end is not None and ChangeKind.SCHEDULE not in kinds:
        problems.append(("end", "unticked"))
    if kinds and budget is not None and ChangeKind.COST not in kinds:
        problems.append(("budget", "unticked"))
    why = (reason or "").strip() or None
    if why is None:
        problems.append(("reason", "required"))
    elif len(why) > MAX_REASON:
        problems.append(("reason", "long"))
    if problems:
        return StageRefused("invalid", tuple(dict.fromkeys(problems)))
    ordered = tuple(k for k in ChangeKind if k in kinds)
    request = stages.add_request(
        session,
        project_id=project.id,
        kind=RequestKind.CHANGE,
        requested_by=actor,
        at=now,
        reason=why,
        changes=ordered,
        new_end=end,
        new_budget=budget,
    )
    audited: dict[str, object] = {
        "request": [None, request.id],
        "changes": [None, [k.value for k in ordered]],
        "reason": [None, why],
    }
    if end is not None:
        audited["end"] = [_day(project.end), end.isoformat()]
    if budget is not None:
        audited["budget"] = [_amount(project.budget), str(budget)]
    return _asked(session, request, project, asking.process, admins, actor, now, audited)


def _asked(
    session: Session,
    request: StageRequest,
    project: Project,
    process: Process,
    admins: Collection[str],
    actor: str,
    now: datetime,
    changes: dict[str, object],
) -> Requested:
    """Audit the request and queue a DM to each of its approvers, once each."""
    action = "gate_requested" if request.kind is RequestKind.GATE else "change_requested"
    audit.record(
        session, actor=actor, at=now, action=action, project_id=project.id, changes=changes
    )
    people = approvers_of(request, project, process, admins)
    _ask(session, request, people, now)
    return Requested(request, people)


def _ask(session: Session, request: StageRequest, people: Collection[str], now: datetime) -> int:
    """Queue the request's DM to each of `people`; one already asked (the delivery's key) is
    never asked again. How many were queued."""
    return len(deliveries.enqueue(session, _claims(request, people), now=now))


def _claims(request: StageRequest, people: Collection[str]) -> list[Claim]:
    return [
        Claim(  # one per approver and request: asked when, it is the same news
            DeliveryKind.STAGE_REQUEST,
            f"{user}:request:{request.id}",
            request.requested_at,
            project_id=request.project_id,
            payload={"request": request.id, "user": user},
        )
        for user in sorted(people)
    ]


def ask_new_approvers(
    session: Session,
    *,
    admins: Collection[str],
    now: datetime,
    project_ids: Collection[int] | None = None,
) -> int:
    """Ask the approvers a pending request (of these projects; every project's if None) has
    now and had not when it was asked: a new sponsor, a new PMO admin, someone the process
    now names. Those asked before are not asked again; those no longer approvers are dropped
    when their DM is composed (bot.delivery.stages). How many DMs were queued."""
    pending = stages.requests_of(session, project_ids, state=RequestState.PENDING)
    if not pending:
        return 0
    projects = {p.id: p for p in portfolio.find_projects(session, {r.project_id for r in pending})}
    process = portfolio.load_process(session)
    claims = [
        claim
        for request in pending
        if (project := projects.get(request.project_id)) is not None
        and _stale(request, project, process) is None
        for claim in _claims(request, approvers_of(request, project, process, admins))
    ]
    return len(deliveries.enqueue(session, claims, now=now))  # in one go, whatever their number


def may_decide_request(
    session: Session, actor: str, request_id: int, *, admins: Collection[str]
) -> tuple[StageRequest, Project, Process] | StageRefused:
    """The request, its project and the process when `actor` is one of its approvers (who
    may see who decided it, too); else why not. What an approver's button asks first."""
    request = stages.find_request(session, request_id)
    project = portfolio.find_project_by_id(session, request.project_id) if request else None
    if request is None or project is None:
        return StageRefused("not_found")
    process = portfolio.load_process(session)
    if actor not in approvers_of(request, project, process, admins):
        return StageRefused("not_allowed")
    if request.state is RequestState.WITHDRAWN:
        return StageRefused("withdrawn")
    return request, project, process


def decide_request(
    session: Session,
    *,
    actor: str,
    request_id: int,
    outcome: str,
    rationale: str | None,
    admins: Collection[str],
    now: datetime,
    conditions: Sequence[ActionDraft] = (),
    today: date | None = None,
) -> RequestDecided | RequestAlreadyDecided | StageRefused:
    """Record `actor`'s decision on a request, once, with what it changes and announce it (in
    the same transaction); or say why not, changing nothing. The project is locked first (as
    when asking), so the baseline an approval records is the project as committed, never as
    it was before an edit or an import that commits meanwhile."""
    found = stages.find_request(session, request_id)
    if found is None:
        return StageRefused("not_found")
    decisions.lock_project(session, found.project_id)
    allowed = may_decide_request(session, actor, request_id, admins=admins)
    if isinstance(allowed, StageRefused):
        return allowed
    request, project, process = allowed
    if request.state is RequestState.DECIDED:
        return RequestAlreadyDecided(request)
    stale = _stale(request, project, process)
    if stale is not None:
        if not _withdraw(session, request, actor=actor, now=now, why=stale):
            return _settled_meanwhile(session, request.id)
        return StageRefused("withdrawn")
    chosen, why, kept, problems = _check_decision(outcome, rationale, conditions, today, now)
    if chosen is None or problems:
        return StageRefused("invalid", tuple(problems))
    if chosen in APPROVALS and request.kind is RequestKind.GATE:
        missing = _mandatory_missing(request, process)
        if missing:
            return StageRefused("mandatory", tuple(("item", name) for name in missing))
    kind = DecisionKind.GATE if request.kind is RequestKind.GATE else DecisionKind.CHANGE
    if not stages.settle(
        session, request.id, state=RequestState.DECIDED, at=now, outcome=chosen.value, by=actor
    ):
        return _settled_meanwhile(session, request.id)
    decision = decisions.record_decided(
        session,
        project_id=project.id,
        kind=kind,
        question=_question(request),
        outcome=chosen.value,
        rationale=why,
        by=actor,
        at=now,
    )
    stages.link_decision(session, request.id, decision.id)
    audit.record(
        session,
        actor=actor,
        at=now,
        action="gate_decided" if kind is DecisionKind.GATE else "change_decided",
        project_id=project.id,
        changes={
            "request": [None, request.id],
            "decision": [None, decision.id],
            "outcome": [None, chosen.value],
            **({"rationale": [None, why]} if why else {}),
        },
    )
    baseline = None
    if chosen in APPROVALS:
        baseline = _apply(session, request, project, actor, now)
    recorded = record_actions(session, decision, kept, actor=actor, now=now)
    after = portfolio.find_project_by_id(session, project.id) or project
    announce(session, decision, after, recorded, thread=None, now=now)
    decided = stages.find_request(session, request.id)
    assert decided is not None
    return RequestDecided(decided, decision, tuple(recorded), baseline)


def withdraw_request(
    session: Session, *, actor: str, request_id: int, admins: Collection[str], now: datetime
) -> StageRequest | RequestAlreadyDecided | StageRefused:
    """Withdraw a request still waiting, on the asker's side: the project's PM, a delegate or
    an admin (those who may ask; bot.access.permissions.can_submit). Audited (why "asker");
    its approvers' DMs not sent yet are dropped, a click on one sent is told it is withdrawn,
    and the next may be asked at once. One decided meanwhile stays decided (who decided it
    is said)."""
    found = stages.find_request(session, request_id)
    if found is None:
        return StageRefused("not_found")
    decisions.lock_project(session, found.project_id)
    request = stages.find_request(session, request_id)
    project = portfolio.find_project_by_id(session, found.project_id)
    if request is None or project is None:
        return StageRefused("not_found")
    if not can_submit(actor, project, admins):
        return StageRefused("not_allowed")
    if request.state is not RequestState.PENDING or not _withdraw(
        session, request, actor=actor, now=now, why="asker"
    ):
        return _settled_meanwhile(session, request.id)
    withdrawn = stages.find_request(session, request.id)
    assert withdrawn is not None
    return withdrawn


def _settled_meanwhile(session: Session, request_id: int) -> RequestAlreadyDecided | StageRefused:
    """What a decision that lost the race says: who decided first, or that it was withdrawn."""
    taken = stages.find_request(session, request_id)
    if taken is None or taken.state is not RequestState.DECIDED:
        return StageRefused("withdrawn")
    return RequestAlreadyDecided(taken)


def _stale(request: StageRequest, project: Project, process: Process) -> str | None:
    """Why a pending request can no longer be decided, if it cannot: its project closed, the
    portfolio no longer describes a process, or (a gate) the project is no longer in the phase
    it was asked from or the process no longer has that gate."""
    if project.state is ProjectState.CLOSED:
        return "closed"
    if not process.phases:
        return "process"
    if request.kind is RequestKind.GATE:
        if phase_of(project, process) != request.from_phase:
            return "phase"
        if not any(g.from_phase == request.from_phase for g in process.gates):
            return "process"
    return None


def withdraw_stale(
    session: Session, *, actor: str, now: datetime, project_ids: Collection[int] | None = None
) -> list[StageRequest]:
    """Withdraw the pending requests (of these projects; every project's if None) that can no
    longer be decided (`_stale`): after an import moved a project's phase or changed the
    process, after a project closed. Each withdrawal audited; those withdrawn."""
    pending = stages.requests_of(session, project_ids, state=RequestState.PENDING)
    if not pending:
        return []
    projects = {p.id: p for p in portfolio.find_projects(session, {r.project_id for r in pending})}
    process = portfolio.load_process(session)
    withdrawn = []
    for request in pending:
        project = projects.get(request.project_id)
        why = _stale(request, project, process) if project is not None else None
        if why is not None and _withdraw(session, request, actor=actor, now=now, why=why):
            withdrawn.append(request)
    return withdrawn


def _withdraw(
    session: Session, request: StageRequest, *, actor: str, now: datetime, why: str
) -> bool:
    """Withdraw a pending request and audit it (`why`: asker, closed, phase, process); False,
    and nothing audited, when it was decided or withdrawn meanwhile."""
    if not stages.settle(session, request.id, state=RequestState.WITHDRAWN, at=now):
        return False
    audit.record(
        session,
        actor=actor,
        at=now,
        action="request_withdrawn",
        project_id=request.project_id,
        changes={"request": [None, request.id], "why": [None, why]},
    )
    return True


def _check_decision(
    outcome: str,
    rationale: str | None,
    conditions: Sequence[ActionDraft],
    today: date | None,
    now: datetime,
) -> tuple[RequestOutcome | None, str | None, list[tuple[str, str, date]], list[tuple[str, str]]]:
    """The outcome, the rationale (required to reject), the conditions (rows checked as
    a decision's actions are; at least one to approve with conditions, none otherwise)."""
    try:
        chosen: RequestOutcome | None = RequestOutcome(outcome)
    except ValueError:
        return None, None, [], [("outcome", "unknown")]
    rows = conditions if chosen is RequestOutcome.APPROVED_WITH_CONDITIONS else ()
    # The rows and the rationale's length as a decision checks them (bot.governance).
    _, why, kept, problems = check_form(
        DecisionOutcome.APPROVED.value, rationale, rows, today=today or now.date()
    )
    if chosen is RequestOutcome.REJECTED and why is None:
        problems.append(("rationale", "required"))
    if chosen is RequestOutcome.APPROVED_WITH_CONDITIONS and not kept and not problems:
        problems.append(("action.1.title", "required"))
    return chosen, why, kept, problems


def _mandatory_missing(request: StageRequest, process: Process) -> list[str]:
    """The mandatory items of the gate (as the process says today) the request did not tick."""
    gate = next((g for g in process.gates if g.from_phase == request.from_phase), None)
    ticked = {a.name for a in request.checklist if a.done}
    items_now = gate.checklist if gate is not None else ()
    return [i.name for i in items_now if i.mandatory and i.name not in ticked]


def _question(request: StageRequest) -> str:
    """What the decision record says was asked (the PMO's own phase names; the reason)."""
    if request.kind is RequestKind.GATE:
        return f"{request.from_phase} → {request.to_phase}"
    return request.reason or ""


def _apply(
    session: Session, request: StageRequest, project: Project, actor: str, now: datetime
) -> Baseline:
    """What an approval changes: a gate's phase, a change's end and budget (each field
    audited), then the baseline as it now stands."""
    changes: dict[str, list[object]] = {}
    budget, end = project.budget, project.end
    fields: list[str] = []
    if request.kind is RequestKind.GATE:
        fields.append("phase")
        changes["phase"] = [request.from_phase, request.to_phase]  # the first, when implicit
    else:
        if request.new_end is not None and request.new_end != project.end:
            fields.append("end")
            changes["end"] = [_day(project.end), request.new_end.isoformat()]
            end = request.new_end
        if request.new_budget is not None and request.new_budget != project.budget:
            fields.append("budget")
            changes["budget"] = [_amount(project.budget), str(request.new_budget)]
            budget = request.new_budget
    stages.set_stage_fields(
        session,
        project.id,
        at=now,
        phase=request.to_phase,
        budget=budget,
        end=end,
        fields=fields,
    )
    if changes:
        audit.record(
            session,
            actor=actor,
            at=now,
            action="project_updated",
            project_id=project.id,
            changes={"request": [None, request.id], **changes},
        )
    return record_baseline(
        session,
        project,
        budget=budget,
        end=end,
        source=request.kind.value,
        by=actor,
        now=now,
        request_id=request.id,
    )


def record_baseline(
    session: Session,
    project: Project,
    *,
    budget: Decimal | None,
    end: date | None,
    source: str,
    by: str,
    now: datetime,
    request_id: int | None = None,
) -> Baseline:
    """Record the project's baseline now (its milestones' due dates as stored), audited."""
    milestones = items.list_milestones(session, [project.id]).get(project.id, [])
    baseline = stages.add_baseline(
        session,
        project_id=project.id,
        budget=budget,
        end=end,
        milestones=[(m.name, m.due) for m in milestones],
        source=source,
        by=by,
        at=now,
        request_id=request_id,
    )
    audit.record(
        session,
        actor=by,
        at=now,
        action="baseline_recorded",
        project_id=project.id,
        changes={
            "baseline": [None, baseline.number],
            "source": [None, source],
            "budget": [None, _amount(budget)],
            "end": [None, _day(end)],
        },
    )
    return baseline


def _day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _amount(amount: Decimal | None) -> str | None:
    return str(amount) if amount is not None else None

"""`/pmo gate KEY`, `/pmo change KEY` and the approvers' buttons, as Slack surfaces ask them
(issue 17); the rules are bot/stages/requests.py's.

Each function takes the actor from Slack's signed request (never from the payload's own
fields) and asks the rules; what it returns is rendered in the actor's language: a modal view,
an ephemeral answer (a dict with "response_type"), or a modal's inline errors (block id ->
words). A modal carries only ids in its private_metadata (the project and the phase it showed,
or the request and the outcome chosen): everything is read again when it is submitted.

The modals' block ids (read by handlers/forms.py):

* the gate's: `item.N` (checkboxes, the one option `done`) for the checklist's Nth item,
  `item.N.link` (a URL input) for an item that asks for a link, `note`;
* the change's: `changes` (checkboxes scope, schedule, cost), `end` (a date picker),
  `budget`, `reason`;
* the decision's: `rationale` and, to approve with conditions, `action.N.title`,
  `action.N.owner`, `action.N.due` (as the decision modal of bot/governance/surface.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import ids
from bot.access.admins import current_admins
from bot.access.audience import Audience
from bot.governance.decisions import MAX_ACTION_TITLE, MAX_ACTIONS
from bot.governance.surface import DecisionForm, Recorded
from bot.render import Message, as_message
from bot.services import Services
from bot.slack.people import user_locale, user_zone
from bot.stages.phases import approvers, change_approvers
from bot.stages.requests import (
    MAX_LINK,
    MAX_REASON,
    Asking,
    RequestAlreadyDecided,
    RequestDecided,
    Requested,
    RequestOutcome,
    StageRefused,
    approvers_of,
    decide_request,
    may_ask,
    may_decide_request,
    request_change,
    request_gate,
    withdraw_request,
)
from storage import decisions, portfolio, stages
from storage.records import (
    ChangeKind,
    Decision,
    Gate,
    Project,
    RequestKind,
    RequestState,
)

# What each of an approver's buttons decides (its value: the request id), in their order.
BUTTONS: Mapping[str, RequestOutcome] = {
    ids.STAGE_APPROVE: RequestOutcome.APPROVED,
    ids.STAGE_APPROVE_WITH_CONDITIONS: RequestOutcome.APPROVED_WITH_CONDITIONS,
    ids.STAGE_REJECT: RequestOutcome.REJECTED,
}


def request_buttons() -> list[tuple[str, str]]:
    """(action id, outcome) of an approver's buttons, for the DM's template."""
    return [(action_id, outcome.value) for action_id, outcome in BUTTONS.items()]


MAX_VIEW_BLOCKS = 100  # Slack's limit for a modal
GATE_MODAL_FRAME = 4  # the gate modal's blocks besides its checklist: heading, note, two notes


@dataclass(frozen=True, slots=True)
class GateForm:
    """The gate modal's answers, as submitted: the numbers (1, 2, ...) of the checklist's
    items ticked, the links typed by item number, the note."""

    ticked: tuple[int, ...] = ()
    links: tuple[tuple[int, str | None], ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeForm:
    """The change modal's answers, as submitted."""

    changes: tuple[str, ...] = ()
    new_end: str | None = None  # YYYY-MM-DD, as the date picker sends it
    new_budget: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DecidedMessage:
    """Where the approver's DM with the buttons is, to show it decided once it is."""

    channel: str
    ts: str


# --- pure pieces --------------------------------------------------------------------------


def fits_in_modal(gate: Gate) -> bool:
    """Whether the gate's checklist fits in one modal (a block per item, one more per link)."""
    blocks = GATE_MODAL_FRAME + sum(2 if item.link else 1 for item in gate.checklist)
    return blocks <= MAX_VIEW_BLOCKS


def checklist_fingerprint(gate: Gate) -> str:
    """What the PM was shown of the checklist (its items, in order, and what each asks), in
    16 characters: the modal carries it, so that a checklist the PMO changed meanwhile is not
    answered by the numbers of another."""
    seen = "\n".join(f"{i.name}\t{i.mandatory}\t{i.link}" for i in gate.checklist)
    seen = f"{gate.from_phase}\t{gate.to_phase}\n{seen}"
    return hashlib.sha256(seen.encode()).hexdigest()[:16]


def gate_answers(gate: Gate, form: GateForm) -> tuple[set[str], dict[str, str | None]]:
    """The items ticked and the links, by item name, from the modal's numbers."""
    names = {n: item.name for n, item in enumerate(gate.checklist, start=1)}
    ticked = {names[n] for n in form.ticked if n in names}
    links = {names[n]: link for n, link in form.links if n in names}
    return ticked, links


def stage_error_texts(
    words: Mapping[str, Any], problems: Sequence[tuple[str, str]], gate: Gate | None = None
) -> dict[str, str]:
    """The inline errors of a stage modal (block id -> words) for the rules' problems:

    * a gate's (item.N, mandatory), (item.N.link, required|long|invalid), (note, long);
    * a change's (changes, required|unknown), (end, invalid|before_start|same), (budget,
      invalid|negative|large|same), (reason, required|long);
    * a decision's (rationale, required|long), (outcome, unknown), (action.N.title|owner|due,
      ...), and (item, NAME) for a mandatory item not ticked, shown on the rationale.

    The first problem of a block is its error (Slack shows one a block)."""
    texts = words["stages"]["errors"]
    names = {f"item.{n}": item.name for n, item in enumerate(gate.checklist, 1)} if gate else {}
    errors: dict[str, str] = {}
    for field, code in problems:
        if field == "item":  # a decision: a mandatory item the request did not tick
            block, text = "rationale", texts["mandatory_missing"] % {"item": code}
        elif field.startswith("action."):
            block, text = field, texts.get(f"{field.rsplit('.', 1)[1]}_{code}")
        elif field.startswith("item."):
            item = names.get(field.removesuffix(".link"), "")
            kind = "link" if field.endswith(".link") else "item"
            block = field
            text = texts.get(f"{kind}_{code}")
            text = text % {"item": item, "limit": MAX_LINK} if text else None
        elif field == "outcome":
            block, text = "rationale", texts.get("outcome_unknown")
        else:
            block, text = field, texts.get(f"{field}_{code}")
            text = text % {"limit": MAX_REASON} if text and "%(" in text else text
        errors.setdefault(block, text or texts["other"])
    return errors


def _metadata(private_metadata: str) -> dict[str, Any]:
    try:
        found = json.loads(private_metadata or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _number(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


# --- in the actor's language ----------------------------------------------------------------


def _locale(services: Services, actor: str) -> str:
    return user_locale(services.sessions, services.gateway, actor, now=services.clock())


def _zone(services: Services, actor: str) -> ZoneInfo:
    return user_zone(services.sessions, actor, services.settings.timezone)


def _today(services: Services) -> date:
    return services.clock().astimezone(services.settings.timezone).date()


def _answer(services: Services, actor: str, language: str, **context: Any) -> dict[str, Any]:
    """An ephemeral answer (stage_answer.json.j2) for the actor only."""
    context.setdefault("project", None)
    context.setdefault("request", None)
    context.setdefault("approvers", [])
    context.setdefault("decision", None)
    return dict(
        services.renderer.render("stage_answer", language, tz=_zone(services, actor), **context)
    )


def _view(services: Services, name: str, language: str, **context: Any) -> dict[str, Any]:
    """A modal without its `text` (a description for tests and logs, not a field of views)."""
    rendered = services.renderer.render(name, language, **context)
    return {key: value for key, value in rendered.items() if key != "text"}


def _result(services: Services, actor: str, language: str, **context: Any) -> Recorded:
    """The modal replaced by what came of it (stage_result.json.j2)."""
    for name in ("project", "request", "decision", "baseline", "currency"):
        context.setdefault(name, None)
    context.setdefault("approvers", [])
    context.setdefault("actions", [])
    return Recorded(_view(services, "stage_result", language, tz=_zone(services, actor), **context))


# --- asking: /pmo gate KEY and /pmo change KEY -----------------------------------------------


def _refused_to_ask(
    session: Session,
    refused: StageRefused,
    project: Project,
    kind: RequestKind,
    admins: Collection[str],
) -> dict[str, Any]:
    """What an ephemeral refusal (or the modal's result) needs: who a waiting request waits on."""
    waiting = refused.pending
    people: list[str] = []
    if waiting is not None:
        current = portfolio.find_project_by_id(session, waiting.project_id) or project
        process = portfolio.load_process(session)
        people = sorted(approvers_of(waiting, current, process, admins))
    return {
        "reason": refused.reason,
        "kind": kind.value,
        "project": project,
        "request": waiting,
        "approvers": people,
    }


def open_request(
    services: Services,
    *,
    actor: str,
    project: Project,
    kind: RequestKind,
    language: str,
    admins: Collection[str],
) -> dict[str, Any]:
    """The gate's checklist modal or the change modal for `actor`, or why not (ephemeral):
    not theirs to ask, the project closed, no process, no gate after its phase, one waiting
    already (since when, on whom)."""
    with services.sessions.begin() as session:
        asking = may_ask(session, actor, project.key, kind, admins=admins)
        if isinstance(asking, StageRefused):
            why = _refused_to_ask(session, asking, project, kind, admins)
            return _answer(services, actor, language, step="ask", **why)
        money = portfolio.load_money(session)
    if kind is RequestKind.GATE:
        return _gate_modal(services, actor, asking, language, admins)
    return _view(
        services,
        "stage_change_modal",
        language,
        callback_id=ids.CHANGE_SUBMIT,
        metadata=json.dumps({"project": asking.project.id}),
        project=asking.project,
        currency=money.currency,
        changes=[c.value for c in ChangeKind],
        approvers=sorted(approvers(change_approvers(asking.process), asking.project, admins)),
        max_reason=MAX_REASON,
    )


def _gate_modal(
    services: Services, actor: str, asking: Asking, language: str, admins: Collection[str]
) -> dict[str, Any]:
    gate, project = asking.gate, asking.project
    assert gate is not None
    if not fits_in_modal(gate):
        return _answer(
            services, actor, language, step="ask", reason="too_long", kind="gate", project=project
        )
    metadata = {
        "project": project.id,
        "phase": gate.from_phase,
        "checklist": checklist_fingerprint(gate),
    }
    return _view(
        services,
        "stage_gate_modal",
        language,
        callback_id=ids.GATE_SUBMIT,
        metadata=json.dumps(metadata),
        project=project,
        gate=gate,
        items=list(enumerate(gate.checklist, start=1)),
        approvers=sorted(approvers(gate.approvers, project, admins)),
        max_note=MAX_REASON,
        max_link=MAX_LINK,
    )


def _asked(
    session: Session,
    result: Requested | StageRefused,
    project: Project | None,
    kind: RequestKind,
    admins: Collection[str],
) -> dict[str, Any]:
    """The result view's context: who was asked, or why not."""
    if isinstance(result, Requested):
        return {
            "reason": "asked",
            "kind": kind.value,
            "project": project,
            "request": result.request,
            "approvers": sorted(result.approvers),
        }
    if project is None:
        return {"reason": result.reason, "kind": kind.value}
    return _refused_to_ask(session, result, project, kind, admins)


def _who_may_submit(
    session: Session,
    actor: str,
    project: Project | None,
    kind: RequestKind,
    admins: Collection[str],
) -> tuple[Project | None, StageRefused | None]:
    """A submitted form's project as `actor` may know it, and why they may not ask, checked
    before anything the form holds: a project gone, or one they may not see, is not found
    (None: its key and PM are not named); one they may see is refused as /pmo gate and /pmo
    change refuse it (bot.stages.requests.may_ask: not theirs to ask, closed, one waiting...)."""
    if project is None or not Audience(actor, admins).sees(project):
        return None, StageRefused("not_found")
    asking = may_ask(session, actor, project.key, kind, admins=admins)
    return project, asking if isinstance(asking, StageRefused) else None


def _problems(result: Requested | StageRefused) -> tuple[tuple[str, str], ...] | None:
    """The form's problems, when the rules found some (the modal stays, with its errors)."""
    if isinstance(result, StageRefused) and result.reason == "invalid":
        return result.problems
    return None


def submit_gate(
    services: Services, *, actor: str, private_metadata: str, form: GateForm
) -> Recorded | dict[str, str]:
    """Ask the gate's approvers (bot.stages.requests.request_gate) and replace the modal with
    who was asked, or return the inline errors; a refusal replaces the modal with why. Who
    asks is checked first (_who_may_submit); then a checklist changed since the modal opened
    is refused as "changed"."""
    metadata = _metadata(private_metadata)
    project_id, phase = _number(metadata.get("project")), metadata.get("phase")
    admins = current_admins(services)
    language = _locale(services, actor)
    with services.sessions.begin() as session:
        project, refused = _who_may_submit(
            session,
            actor,
            portfolio.find_project_by_id(session, project_id),
            RequestKind.GATE,
            admins,
        )
        process = portfolio.load_process(session)
        gate = next((g for g in process.gates if g.from_phase == phase), None)
        result: Requested | StageRefused = refused if refused else StageRefused("changed")
        if (
            refused is None
            and gate is not None
            and checklist_fingerprint(gate) == metadata.get("checklist")
        ):
            ticked, links = gate_answers(gate, form)
            result = request_gate(
                session,
                actor=actor,
                project_id=project_id,
                phase=phase if isinstance(phase, str) else None,
                ticked=ticked,
                links=links,
                note=form.note,
                admins=admins,
                now=services.clock(),
            )
        problems = _problems(result)
        context = {} if problems else _asked(session, result, project, RequestKind.GATE, admins)
    if problems:
        return stage_error_texts(services.renderer.words(language), problems, gate)
    return _result(services, actor, language, step="ask", **context)


def submit_change(
    services: Services, *, actor: str, private_metadata: str, form: ChangeForm
) -> Recorded | dict[str, str]:
    """Ask the change's approvers (bot.stages.requests.request_change), as submit_gate."""
    project_id = _number(_metadata(private_metadata).get("project"))
    admins = current_admins(services)
    language = _locale(services, actor)
    with services.sessions.begin() as session:
        project, refused = _who_may_submit(
            session,
            actor,
            portfolio.find_project_by_id(session, project_id),
            RequestKind.CHANGE,
            admins,
        )
        result: Requested | StageRefused | None = refused
        if result is None:
            result = request_change(
                session,
                actor=actor,
                project_id=project_id,
                changes=form.changes,
                new_end=form.new_end,
                new_budget=form.new_budget,
                reason=form.reason,
                admins=admins,
                now=services.clock(),
            )
        problems = _problems(result)
        currency = portfolio.load_money(session).currency
        context = {} if problems else _asked(session, result, project, RequestKind.CHANGE, admins)
    if problems:
        return stage_error_texts(services.renderer.words(language), problems)
    return _result(services, actor, language, step="ask", currency=currency, **context)


# --- deciding: the approvers' buttons and modal ----------------------------------------------


def withdraw_clicked(services: Services, *, actor: str, request_id: int) -> dict[str, Any]:
    """The asker's side withdraws the request its waiting answer showed (bot.stages.requests.
    withdraw_request, checked again on the server): the answer, ephemeral, says it is
    withdrawn and how to ask again; or why not (not theirs, decided meanwhile: by whom, gone)."""
    admins = current_admins(services)
    language = _locale(services, actor)
    with services.sessions.begin() as session:
        result = withdraw_request(
            session, actor=actor, request_id=request_id, admins=admins, now=services.clock()
        )
        if not isinstance(result, StageRefused):
            decided = isinstance(result, RequestAlreadyDecided)
            request = result.request if isinstance(result, RequestAlreadyDecided) else result
            project = portfolio.find_project_by_id(session, request.project_id)
            decision = decisions.find_decision(session, request.decision_id or 0)
    if isinstance(result, StageRefused):  # naming no project: it may be one they may not see
        return _answer(services, actor, language, step="withdraw", reason=result.reason)
    return _answer(
        services,
        actor,
        language,
        step="ask",
        reason="decided" if decided else "withdrawn_by_you",
        kind=request.kind.value,
        project=project,
        request=request,
        decision=decision,
    )


def open_stage_decision(
    services: Services,
    *,
    actor: str,
    request_id: int,
    action_id: str,
    message: DecidedMessage | None,
) -> dict[str, Any]:
    """The decision modal of the button clicked (approve, approve with conditions, reject)
    for `actor`, or why not (ephemeral): not an approver of this request, withdrawn, gone, or
    decided already (by whom, what, when)."""
    admins = current_admins(services)
    language = _locale(services, actor)
    outcome = BUTTONS.get(action_id, RequestOutcome.APPROVED)
    with services.sessions.begin() as session:
        allowed = may_decide_request(session, actor, request_id, admins=admins)
        if not isinstance(allowed, StageRefused):
            request, project, _ = allowed
            decision = decisions.find_decision(session, request.decision_id or 0)
            currency = portfolio.load_money(session).currency
    if isinstance(allowed, StageRefused):
        return _answer(services, actor, language, step="decide", reason=allowed.reason)
    if request.state is RequestState.DECIDED:
        return _answer(
            services,
            actor,
            language,
            step="decide",
            reason="decided",
            kind=request.kind.value,
            project=project,
            request=request,
            decision=decision,
        )
    metadata: dict[str, Any] = {"request": request.id, "outcome": outcome.value}
    if message is not None:
        metadata |= {"channel": message.channel, "ts": message.ts}
    return _view(
        services,
        "stage_decision_modal",
        language,
        callback_id=ids.STAGE_DECIDE_SUBMIT,
        metadata=json.dumps(metadata),
        outcome=outcome.value,
        request=request,
        project=project,
        currency=currency,
        slots=range(1, MAX_ACTIONS + 1),
        max_rationale=MAX_REASON,
        max_title=MAX_ACTION_TITLE,
        tz=_zone(services, actor),
    )


def submit_decision(
    services: Services, *, actor: str, private_metadata: str, form: DecisionForm
) -> Recorded | dict[str, str]:
    """Record the approver's decision (bot.stages.requests.decide_request: the phase moves
    or the baseline changes, conditions become actions, everyone is told) and replace the
    modal with what came of it (recorded; decided first by another; or theirs, recorded
    already when they submit it again), or return the inline errors (a mandatory item the
    request did not tick, said on the rationale)."""
    metadata = _metadata(private_metadata)
    request_id, outcome = _number(metadata.get("request")), str(metadata.get("outcome") or "")
    admins = current_admins(services)
    language = _locale(services, actor)
    with services.sessions.begin() as session:
        result = decide_request(
            session,
            actor=actor,
            request_id=request_id,
            outcome=outcome,
            rationale=form.rationale,
            admins=admins,
            now=services.clock(),
            conditions=form.actions,
            today=_today(services),
        )
        if not isinstance(result, StageRefused):
            project = portfolio.find_project_by_id(session, result.request.project_id)
            currency = portfolio.load_money(session).currency
            decision = (
                result.decision
                if isinstance(result, RequestDecided)
                else decisions.find_decision(session, result.request.decision_id or 0)
            )
    if isinstance(result, StageRefused) and result.reason in ("invalid", "mandatory"):
        return stage_error_texts(services.renderer.words(language), result.problems)
    if isinstance(result, StageRefused):
        return _result(services, actor, language, step="decide", reason=result.reason)
    if isinstance(result, RequestDecided):
        reason = "recorded"
    elif result.request.decided_by == actor:
        reason = "yours"  # the same approver again (a slow ack, a resubmit): theirs stands
    else:
        reason = "decided"  # another approver was first
    return _result(
        services,
        actor,
        language,
        step="decide",
        reason=reason,
        kind=result.request.kind.value,
        project=project,
        request=result.request,
        decision=decision,
        actions=list(result.actions) if isinstance(result, RequestDecided) else [],
        baseline=result.baseline if isinstance(result, RequestDecided) else None,
        currency=currency,
    )


def decided_message(
    services: Services, *, actor: str, private_metadata: str
) -> tuple[DecidedMessage, Message] | None:
    """The approver's DM as it reads once its request is decided (no buttons left), and where
    it is; None when the modal was not opened from a DM, or the request is not decided by
    `actor` (the one whose modal it was)."""
    metadata = _metadata(private_metadata)
    channel, ts = metadata.get("channel"), metadata.get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str):
        return None
    with services.sessions.begin() as session:
        request = stages.find_request(session, _number(metadata.get("request")))
        if request is None or request.state is not RequestState.DECIDED:
            return None
        if request.decided_by != actor:  # only the one who decided updates their own DM
            return None
        project = portfolio.find_project_by_id(session, request.project_id)
        decision: Decision | None = decisions.find_decision(session, request.decision_id or 0)
        currency = portfolio.load_money(session).currency
    if project is None or decision is None:
        return None
    rendered = services.renderer.render(
        "stage_request",
        _locale(services, actor),
        tz=_zone(services, actor),
        project=project,
        request=request,
        decision=decision,
        approvers=[],
        currency=currency,
        buttons=request_buttons(),
    )
    return DecidedMessage(channel, ts), as_message(rendered)

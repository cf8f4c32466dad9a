"""The Decide… button, the decision modal and the Done button, as Slack surfaces ask them.

Each function takes the clicker from Slack's signed request (never from the payload's own
fields) and asks the rules (bot/governance/decisions.py, actions.py); what it returns is
rendered in the clicker's language: a modal view, an ephemeral answer (a dict with
"response_type"), or the modal's inline errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot import ids
from bot.access.admins import current_admins
from bot.governance import actions as action_rules
from bot.governance.decisions import (
    MAX_ACTION_TITLE,
    MAX_ACTIONS,
    MAX_RATIONALE,
    ActionDraft,
    AlreadyDecided,
    Decided,
    DecisionOutcome,
    DecisionRefused,
    DigestThread,
    ask_fingerprint,
    decide,
    may_decide,
)
from bot.services import Services
from bot.slack.people import user_locale, user_zone
from storage import decisions, portfolio
from storage.records import Action, Decision, DecisionState, Project


@dataclass(frozen=True, slots=True)
class DecisionForm:
    """The decision modal's answers, as submitted."""

    outcome: str | None
    rationale: str | None
    actions: tuple[ActionDraft, ...] = ()


@dataclass(frozen=True, slots=True)
class Recorded:
    """The modal closes (acked without errors); `view`, when set, replaces it first."""

    view: dict[str, Any] | None = None


def _locale(services: Services, actor: str) -> str:
    return user_locale(services.sessions, services.gateway, actor, now=services.clock())


def _zone(services: Services, actor: str) -> ZoneInfo:
    """Dates in an answer are the reader's (after _locale, which caches their profile)."""
    return user_zone(services.sessions, actor, services.settings.timezone)


def _today(services: Services) -> date:
    return services.clock().astimezone(services.settings.timezone).date()


def _answer(
    services: Services,
    actor: str,
    locale: str,
    reason: str,
    *,
    decision: Decision | None = None,
    project: Project | None = None,
) -> dict[str, Any]:
    return dict(
        services.renderer.render(
            "decision_answer",
            locale,
            reason=reason,
            decision=decision,
            project=project,
            tz=_zone(services, actor),
        )
    )


def open_decide(
    services: Services, *, actor: str, decision_id: int, thread: DigestThread | None
) -> dict[str, Any]:
    """The decision modal for `actor`, or why not (ephemeral): not theirs to decide, no longer
    asked, or decided already (by whom, when)."""
    admins = current_admins(services)
    with services.sessions.begin() as session:
        allowed = may_decide(session, actor, decision_id, admins=admins)
    locale = _locale(services, actor)
    if isinstance(allowed, DecisionRefused):
        return _answer(services, actor, locale, allowed.reason)
    decision, project = allowed
    if decision.state is DecisionState.DECIDED:
        return _answer(services, actor, locale, "decided", decision=decision, project=project)
    metadata: dict[str, object] = {"decision": decision.id, "ask": ask_fingerprint(decision)}
    if thread is not None:
        metadata |= {"channel": thread.channel, "ts": thread.ts}
    return dict(
        services.renderer.render(
            "decision_modal",
            locale,
            callback_id=ids.SUBMIT_DECISION,
            metadata=json.dumps(metadata),
            decision=decision,
            project=project,
            outcomes=[o.value for o in DecisionOutcome],
            slots=range(1, MAX_ACTIONS + 1),
            max_rationale=MAX_RATIONALE,
            max_title=MAX_ACTION_TITLE,
        )
    )


def submit_decide(
    services: Services, *, actor: str, private_metadata: str, form: DecisionForm
) -> Recorded | dict[str, str]:
    """Record the decision (bot.governance.decisions.decide) and close the modal on a
    confirmation, or return the inline errors (block id -> words); a refusal, or a decision
    someone took first, replaces the modal with why."""
    try:
        metadata = json.loads(private_metadata or "{}")
        decision_id = int(metadata.get("decision") or 0)
        channel, ts, seen = metadata.get("channel"), metadata.get("ts"), metadata.get("ask")
    except (ValueError, TypeError, AttributeError):
        decision_id, channel, ts, seen = 0, None, None, None
    thread = DigestThread(channel, ts) if isinstance(channel, str) and isinstance(ts, str) else None
    with services.sessions.begin() as session:
        result = decide(
            session,
            actor=actor,
            decision_id=decision_id,
            outcome=form.outcome or "",
            rationale=form.rationale,
            admins=current_admins(services),
            now=services.clock(),
            actions=form.actions,
            today=_today(services),
            thread=thread,
            seen=seen if isinstance(seen, str) else "",
        )
        project = (
            portfolio.find_project_by_id(session, result.decision.project_id)
            if isinstance(result, Decided | AlreadyDecided)
            else None
        )
    locale = _locale(services, actor)
    if isinstance(result, DecisionRefused) and result.reason == "invalid":
        rendered = services.renderer.render("decision_errors", locale, problems=result.problems)
        return {str(k): str(v) for k, v in rendered.items()}
    if isinstance(result, DecisionRefused):
        reason, decision = result.reason, None
    else:
        reason = "recorded" if isinstance(result, Decided) else "decided"
        decision = result.decision
    view = services.renderer.render(
        "decision_result",
        locale,
        reason=reason,
        decision=decision,
        project=project,
        actions=list(result.actions) if isinstance(result, Decided) else [],
        tz=_zone(services, actor),
    )
    return Recorded(dict(view))


@dataclass(frozen=True, slots=True)
class DoneAnswer:
    """What Done came to (done, already_done, not_found, not_allowed) and the answer to show."""

    outcome: str
    message: dict[str, Any]

    @property
    def settled(self) -> bool:
        """The action is done now (by this click or an earlier one): its button has served."""
        return self.outcome in ("done", "already_done")


def done_clicked(services: Services, *, actor: str, action_id: int) -> DoneAnswer:
    """Mark an action done from its Done button or `/pmo actions done ID`: the answer (an
    ephemeral message) says done, done already (by whom, when), or why not."""
    with services.sessions.begin() as session:
        result = action_rules.mark_done(
            session,
            actor=actor,
            action_id=action_id,
            admins=current_admins(services),
            now=services.clock(),
        )
        project = (
            portfolio.find_project_by_id(session, result.action.project_id)
            if result.action is not None
            else None
        )
        decision = (
            decisions.find_decision(session, result.action.decision_id)
            if result.action is not None
            else None
        )
    return DoneAnswer(
        result.outcome,
        action_answer(services, actor, result.outcome, result.action, project, decision),
    )


def action_answer(
    services: Services,
    actor: str,
    outcome: str,
    action: Action | None,
    project: Project | None,
    decision: Decision | None,
) -> dict[str, Any]:
    return dict(
        services.renderer.render(
            "action_done",
            _locale(services, actor),
            outcome=outcome,
            action=action,
            project=project,
            decision=decision,
            tz=_zone(services, actor),
        )
    )

"""The status modal: open it from a prompt, and take its submission."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot import ids
from bot.access.admins import current_admins
from bot.finance.earned_value import project_figures
from bot.languages import DEFAULT_LANGUAGE
from bot.render import Message, as_message
from bot.reporting.form import NEW_BLOCKER_SLOTS, NEW_RISK_SLOTS, FieldError, ReportForm
from bot.reporting.submit import (
    Denied,
    OpenItems,
    ReportSaved,
    ReportTarget,
    find_target,
    open_items,
    submit_report,
)
from bot.services import Services
from storage import users
from storage.records import Project, Report


def actor_locale(session: Session, actor: str) -> str | None:
    """The Slack locale of whoever is answering (cached from users.info), e.g. "fr-FR"."""
    cached = users.find_users(session, [actor]).get(actor)
    return cached.locale if cached else None


def open_modal(services: Services, *, actor: str, delivery_id: int) -> dict[str, Any]:
    """The modal view for a prompt, in the actor's language, or (if the actor may not report)
    an ephemeral refusal (a dict with "response_type")."""
    with services.sessions.begin() as session:
        language = actor_locale(session, actor) or DEFAULT_LANGUAGE
        target = find_target(
            session,
            actor=actor,
            delivery_id=delivery_id,
            admins=current_admins(services),
            default_tz=services.settings.timezone,
        )
        if isinstance(target, Denied):
            refusal = {"reason": target.reason, "project": target.project}
            return dict(services.renderer.render("denied", language, **refusal))
        context = _modal_context(target, open_items(session, target), delivery_id)
    return dict(services.renderer.render("report_modal", language, **context))


def _modal_context(target: ReportTarget, found: OpenItems, delivery_id: int) -> dict[str, Any]:
    previous = target.previous
    return {
        "project": target.project,
        "period_start": target.period.start.astimezone(target.tz).date(),
        "period_end": target.period.end.astimezone(target.tz).date() if target.period.end else None,
        "previous": previous,
        "forecast_end": (previous.forecast_end if previous else None) or target.project.end,
        "metadata": json.dumps({"delivery": delivery_id}),
        "callback_id": ids.SUBMIT_REPORT,
        "tz": target.tz,
        "items": found,
        "new_risk_slots": NEW_RISK_SLOTS,
        "new_blocker_slots": NEW_BLOCKER_SLOTS,
        # the hint of the PM's forecast at completion: budget / CPI at the last report
        "eac_hint": (
            project_figures(target.project, previous, tz=target.tz).eac_cpi if previous else None
        ),
    }


def delivery_from_metadata(private_metadata: str) -> int | None:
    """The prompt a modal answers, from the ids we put in its private_metadata."""
    try:
        value = json.loads(private_metadata or "{}").get("delivery")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class Submitted:
    """A stored report and the confirmation to send to its author."""

    report: Report
    project: Project
    confirmation: Message


def submit_modal(
    services: Services, *, actor: str, private_metadata: str, form: ReportForm
) -> Submitted | dict[str, str]:
    """Store the answer, or return the inline errors (block_id -> words, in the actor's
    language) to show in the modal; nothing is stored when there is any error, including a
    refusal."""
    delivery_id = delivery_from_metadata(private_metadata)
    outcome: ReportSaved | Denied | list[FieldError] = Denied("not_found")
    with services.sessions.begin() as session:
        language = actor_locale(session, actor) or DEFAULT_LANGUAGE
        if delivery_id is not None:
            outcome = submit_report(
                session,
                actor=actor,
                delivery_id=delivery_id,
                form=form,
                admins=current_admins(services),
                default_tz=services.settings.timezone,
                now=services.clock(),
            )
    render = services.renderer.render
    if isinstance(outcome, Denied):
        errors = [FieldError("overall", outcome.reason)]
        return dict(render("modal_errors", language, errors=errors, project=outcome.project))
    if isinstance(outcome, list):
        return dict(
            render("modal_errors", language, errors=_first_per_block(outcome), project=None)
        )
    target = outcome.target
    confirmation = as_message(
        render(
            "report_saved",
            language,
            project=target.project,
            report=outcome.report,
            period_start=target.period.start.astimezone(target.tz).date(),
            milestones=outcome.milestones,
        )
    )
    return Submitted(outcome.report, target.project, confirmation)


def _first_per_block(errors: list[FieldError]) -> list[FieldError]:
    """Slack shows one error per block: keep the first found for each."""
    seen: dict[str, FieldError] = {}
    for error in errors:
        seen.setdefault(error.field, error)
    return list(seen.values())

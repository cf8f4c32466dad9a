"""The status modal: open it from a prompt, and take its submission."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot import ids
from bot.render import Message, as_message
from bot.reports import (
    Denied,
    FieldError,
    ReportForm,
    ReportTarget,
    Saved,
    find_target,
    submit_report,
)
from bot.services import Services
from storage.records import Project, Report


def open_modal(services: Services, *, actor: str, delivery_id: int) -> dict[str, Any]:
    """The modal view for a prompt, or (if the actor may not report) an ephemeral refusal
    (a dict with "response_type")."""
    with services.sessions.begin() as session:
        target = find_target(
            session,
            actor=actor,
            delivery_id=delivery_id,
            admins=services.settings.admins,
            default_tz=services.settings.timezone,
        )
    if isinstance(target, Denied):
        return dict(
            services.renderer.render("denied", reason=target.reason, project=target.project)
        )
    return dict(services.renderer.render("report_modal", **_modal_context(target, delivery_id)))


def _modal_context(target: ReportTarget, delivery_id: int) -> dict[str, Any]:
    previous = target.previous
    return {
        "project": target.project,
        "period_start": target.period.start.astimezone(target.tz).date(),
        "period_end": target.period.end.astimezone(target.tz).date() if target.period.end else None,
        "previous": previous,
        "forecast_end": (previous.forecast_end if previous else None) or target.project.end,
        "metadata": json.dumps({"delivery": delivery_id}),
        "callback_id": ids.SUBMIT_REPORT,
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
    """Store the answer, or return the inline errors (block_id -> words) to show in the modal;
    nothing is stored when there is any error, including a refusal."""
    delivery_id = delivery_from_metadata(private_metadata)
    outcome: Saved | Denied | list[FieldError] = Denied("not_found")
    if delivery_id is not None:
        with services.sessions.begin() as session:
            outcome = submit_report(
                session,
                actor=actor,
                delivery_id=delivery_id,
                form=form,
                admins=services.settings.admins,
                default_tz=services.settings.timezone,
                now=services.clock(),
            )
    if isinstance(outcome, Denied):
        errors = [FieldError("overall", outcome.reason)]
        return dict(
            services.renderer.render("modal_errors", errors=errors, project=outcome.project)
        )
    if isinstance(outcome, list):
        return dict(services.renderer.render("modal_errors", errors=outcome, project=None))
    target = outcome.target
    confirmation = as_message(
        services.renderer.render(
            "report_saved",
            project=target.project,
            report=outcome.report,
            period_start=target.period.start.astimezone(target.tz).date(),
        )
    )
    return Submitted(outcome.report, target.project, confirmation)

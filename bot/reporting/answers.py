"""The two quick answers to a prompt: "No change" (copy the last report into this period) and
"Skip this period" (say why no report is coming, so the digest shows it as skipped, not missing).

Like bot/reporting/modal.py, these take Services and plain values, never Slack objects; the handlers
in handlers/prompts.py turn a click or a submission into one call here and the result into an
answer. Every click and every submission resolves the prompt again with `find_target`, exactly as
the status modal does: a forged delivery id, or a user who is neither the PM, a delegate nor a PMO
admin, gets a refusal and nothing is stored.

A period holds one answer: a report (typed, or a "No change" copy) or a skip. A report replaces a
skip (`save_report` deletes it); neither quick answer ever overwrites a report, because "Submit
status" is the way to correct one (it opens the modal prefilled with it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot import ids
from bot.access.admins import current_admins
from bot.governance.decisions import note_ask
from bot.render import Message, as_message
from bot.reporting.form import FieldError
from bot.reporting.late import note_late_report
from bot.reporting.submit import Denied, ReportTarget, find_target
from bot.services import Services
from bot.slack.people import user_locale
from storage import reports
from storage.records import Project, Report, ReportDraft, Skip, SkipReason

MAX_NOTE = 300  # characters of a skip's note: one line in the digest


@dataclass(frozen=True, slots=True)
class SkipForm:
    """The skip modal's answers as Slack sent them: text, or None where left empty."""

    reason: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """A quick answer that cannot be taken for this period; `reason` is a code the templates
    turn into words: nothing_to_copy, already_reported, stale (the report shown has changed)."""

    reason: str
    target: ReportTarget
    report: Report | None = None  # the period's own report, when already_reported


@dataclass(frozen=True, slots=True)
class Answered:
    """A stored quick answer and the confirmation to send to its author."""

    project: Project
    confirmation: Message


@dataclass(frozen=True, slots=True)
class _Period:
    """A prompt's period as it stands: its own report, or the report "No change" would copy."""

    target: ReportTarget
    own: Report | None
    source: Report | None  # the newest report of an earlier period


def _resolve(
    session: Session, services: Services, *, actor: str, delivery_id: int | None
) -> _Period | Denied:
    if delivery_id is None:
        return Denied("not_found")
    target = find_target(
        session,
        actor=actor,
        delivery_id=delivery_id,
        admins=current_admins(services),
        default_tz=services.settings.timezone,
    )
    if isinstance(target, Denied):
        return target
    # `previous` is the newest report up to this period: its own when it has one, else the
    # newest of an earlier period.
    previous = target.previous
    if previous is not None and previous.period_start == target.period.start:
        return _Period(target, previous, None)
    return _Period(target, None, previous)


def _metadata_id(private_metadata: str, key: str) -> int | None:
    """An id we put in a modal's private_metadata (which a forged payload may change)."""
    try:
        value = json.loads(private_metadata or "{}").get(key)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _period_context(target: ReportTarget) -> dict[str, Any]:
    return {
        "project": target.project,
        "period_start": target.period.start.astimezone(target.tz).date(),
        "period_end": target.period.end.astimezone(target.tz).date() if target.period.end else None,
    }


def _locale(services: Services, actor: str) -> str:
    """The actor's Slack locale: every modal, refusal and confirmation is in their language."""
    return user_locale(services.sessions, services.gateway, actor, now=services.clock())


def _ephemeral(services: Services, outcome: Denied | Refused, locale: str) -> dict[str, Any]:
    """A refusal shown only to the one who clicked."""
    if isinstance(outcome, Denied):
        return dict(
            services.renderer.render(
                "denied", locale, reason=outcome.reason, project=outcome.project
            )
        )
    return dict(
        services.renderer.render(
            "answer_refused",
            locale,
            reason=outcome.reason,
            report=outcome.report,
            **_period_context(outcome.target),
        )
    )


# --- No change ---------------------------------------------------------------------------------


def _copyable(period: _Period | Denied) -> _Period | Denied | Refused:
    if isinstance(period, Denied):
        return period
    if period.own is not None:
        return Refused("already_reported", period.target, period.own)
    if period.source is None:
        return Refused("nothing_to_copy", period.target)
    return period


def open_no_change(services: Services, *, actor: str, delivery_id: int) -> dict[str, Any]:
    """The confirmation modal showing the report "No change" would copy (the newest report of
    an earlier period), or an ephemeral refusal (a dict with "response_type"): not allowed, no
    earlier report to copy, or this period already has a report. A reported period is refused
    rather than overwritten: "Submit status" opens that report to correct it."""
    with services.sessions.begin() as session:
        outcome = _copyable(_resolve(session, services, actor=actor, delivery_id=delivery_id))
    locale = _locale(services, actor)
    if not isinstance(outcome, _Period):
        return _ephemeral(services, outcome, locale)
    assert outcome.source is not None  # _copyable checked it
    return dict(
        services.renderer.render(
            "no_change_modal",
            locale,
            source=outcome.source,
            source_start=outcome.source.period_start.astimezone(outcome.target.tz).date(),
            metadata=json.dumps({"delivery": delivery_id, "source": outcome.source.id}),
            callback_id=ids.CONFIRM_NO_CHANGE,
            **_period_context(outcome.target),
        )
    )


@dataclass(frozen=True, slots=True)
class _Copied:
    report: Report
    source: Report
    target: ReportTarget


def _copy_shown(
    session: Session, services: Services, *, actor: str, delivery_id: int | None, shown: int | None
) -> _Copied | Denied | Refused:
    outcome = _copyable(_resolve(session, services, actor=actor, delivery_id=delivery_id))
    if not isinstance(outcome, _Period):
        return outcome
    target, source = outcome.target, outcome.source
    if source is None or source.id != shown:
        return Refused("stale", target)
    now = services.clock()
    report = reports.save_report(
        session,
        ReportDraft(**{f: getattr(source, f) for f in ReportDraft.__dataclass_fields__}),
        project_id=target.project.id,
        period_start=target.period.start,
        submitted_by=actor,
        submitted_at=now,
        copied_from_id=source.id,
    )
    # its "help needed": the decision asked of leadership
    note_ask(session, report, now=now, today=now.astimezone(services.settings.timezone).date())
    note_late_report(
        session,
        project=target.project,
        report=report,
        replaced=False,  # a period that has a report is refused by _copyable
        now=now,
        default_tz=services.settings.timezone,
    )
    return _Copied(report, source, target)


def confirm_no_change(
    services: Services, *, actor: str, private_metadata: str
) -> Answered | dict[str, Any]:
    """Store a copy of the report the modal showed as this period's report (every field,
    marked with `copied_from_id`, sent by `actor` now), or return the view that replaces the
    modal to say why not. Everything is checked again on submission: the actor's rights, that
    the period is still unreported, and that the report shown is still the newest earlier one
    (else "stale": a report came in meanwhile, and copying one the PM did not see would be
    wrong)."""
    with services.sessions.begin() as session:
        outcome = _copy_shown(
            session,
            services,
            actor=actor,
            delivery_id=_metadata_id(private_metadata, "delivery"),
            shown=_metadata_id(private_metadata, "source"),
        )
    locale = _locale(services, actor)
    if isinstance(outcome, Denied):
        return dict(
            services.renderer.render(
                "no_change_refused", locale, reason=outcome.reason, project=outcome.project
            )
        )
    if isinstance(outcome, Refused):
        return dict(
            services.renderer.render(
                "no_change_refused", locale, reason=outcome.reason, project=outcome.target.project
            )
        )
    confirmation = services.renderer.render(
        "no_change_saved",
        locale,
        report=outcome.report,
        source_start=outcome.source.period_start.astimezone(outcome.target.tz).date(),
        **_period_context(outcome.target),
    )
    return Answered(outcome.target.project, as_message(confirmation))


# --- Skip this period --------------------------------------------------------------------------


def validate_skip(form: SkipForm) -> tuple[SkipReason, str | None] | list[FieldError]:
    """A reason from the list, and a note of at most MAX_NOTE characters, required when the
    reason is "other" (leadership should know why). The note is kept on one line."""
    errors: list[FieldError] = []
    reason: SkipReason | None = None
    if form.reason is None:
        errors.append(FieldError("reason", "reason_required"))
    elif form.reason not in SkipReason.__members__.values():
        errors.append(FieldError("reason", "invalid_reason"))
    else:
        reason = SkipReason(form.reason)
    note = " ".join((form.note or "").split()) or None
    if note is None and reason is SkipReason.OTHER:
        errors.append(FieldError("note", "note_required"))
    elif note is not None and len(note) > MAX_NOTE:
        errors.append(FieldError("note", "note_too_long", {"limit": MAX_NOTE}))
    if errors or reason is None:
        return errors
    return reason, note


def open_skip(services: Services, *, actor: str, delivery_id: int) -> dict[str, Any]:
    """The skip modal (prefilled when the period is already skipped), or an ephemeral refusal
    (a dict with "response_type"): not allowed, or this period already has a report."""
    with services.sessions.begin() as session:
        outcome: _Period | Denied | Refused = _resolve(
            session, services, actor=actor, delivery_id=delivery_id
        )
        skip: Skip | None = None
        if isinstance(outcome, _Period) and outcome.own is not None:
            outcome = Refused("already_reported", outcome.target, outcome.own)
        elif isinstance(outcome, _Period):
            key = (outcome.target.project.id, outcome.target.period.start)
            skip = reports.find_skips(session, [key]).get(key)
    locale = _locale(services, actor)
    if not isinstance(outcome, _Period):
        return _ephemeral(services, outcome, locale)
    return dict(
        services.renderer.render(
            "skip_modal",
            locale,
            skip=skip,
            reasons=list(SkipReason),
            max_note=MAX_NOTE,
            metadata=json.dumps({"delivery": delivery_id}),
            callback_id=ids.SUBMIT_SKIP,
            **_period_context(outcome.target),
        )
    )


@dataclass(frozen=True, slots=True)
class _Skipped:
    skip: Skip
    target: ReportTarget


def _store_skip(
    session: Session, services: Services, *, actor: str, delivery_id: int | None, form: SkipForm
) -> _Skipped | tuple[list[FieldError], Project | None]:
    period = _resolve(session, services, actor=actor, delivery_id=delivery_id)
    if isinstance(period, Denied):
        return [FieldError("reason", period.reason)], period.project
    if period.own is not None:
        return [FieldError("reason", "already_reported", {"report": period.own})], None
    answer = validate_skip(form)
    if isinstance(answer, list):
        return answer, None
    skip = reports.save_skip(
        session,
        project_id=period.target.project.id,
        period_start=period.target.period.start,
        reason=answer[0],
        note=answer[1],
        skipped_by=actor,
        skipped_at=services.clock(),
    )
    return _Skipped(skip, period.target)


def submit_skip(
    services: Services, *, actor: str, private_metadata: str, form: SkipForm
) -> Answered | dict[str, str]:
    """Record the skip of the prompt's period (skipping again updates the reason), or return
    the inline errors (block_id -> words) to show in the modal. Nothing is stored when there is
    any error, including a refusal and a period that already has a report: Submit status
    corrects that one, and a reported period is not skipped."""
    with services.sessions.begin() as session:
        outcome = _store_skip(
            session,
            services,
            actor=actor,
            delivery_id=_metadata_id(private_metadata, "delivery"),
            form=form,
        )
    locale = _locale(services, actor)
    if not isinstance(outcome, _Skipped):
        errors, project = outcome
        rendered = services.renderer.render("skip_errors", locale, errors=errors, project=project)
        return {str(k): str(v) for k, v in rendered.items()}
    confirmation = services.renderer.render(
        "skip_saved", locale, skip=outcome.skip, **_period_context(outcome.target)
    )
    return Answered(outcome.target.project, as_message(confirmation))

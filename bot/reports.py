"""The status report: validating the modal's answers, and storing them in their period."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import cadence
from bot.late import note_late_report
from bot.permissions import can_submit
from storage import deliveries, portfolio, reports, users
from storage.records import DeliveryKind, Project, Rag, Report, ReportDraft

MAX_TEXT = 3000
MAX_ITEMS = 20
MAX_ITEM_LENGTH = 500
RATINGS = ("overall", "schedule", "budget", "scope")


@dataclass(frozen=True, slots=True)
class ReportForm:
    """The modal's answers as Slack sent them: text, or None where left empty."""

    overall: str | None = None
    schedule: str | None = None
    budget: str | None = None
    scope: str | None = None
    summary: str | None = None
    path_to_green: str | None = None
    forecast_end: str | None = None
    percent_complete: str | None = None
    accomplishments: str | None = None
    next_steps: str | None = None
    risks: str | None = None
    blockers: str | None = None
    help_needed: str | None = None


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one field, as a code the templates turn into words."""

    field: str
    code: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)


def _text(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


_BULLET = re.compile(r"^\s*[-•*]\s+")


def _items(value: str | None) -> tuple[str, ...]:
    """One item per line, without a leading bullet ("- ", "• ", "* "); "-20%" stays as is."""
    lines = (_BULLET.sub("", line).strip() for line in (value or "").splitlines())
    return tuple(line for line in lines if line and line not in ("-", "•", "*"))


def validate_report(form: ReportForm) -> ReportDraft | list[FieldError]:
    """Check every field at once; return the draft, or every error found."""
    errors: list[FieldError] = []
    ratings: dict[str, Rag] = {}
    for name in RATINGS:
        raw = getattr(form, name)
        if raw is None:
            errors.append(FieldError(name, "required"))
        elif raw not in Rag.__members__.values():
            errors.append(FieldError(name, "invalid_rating"))
        else:
            ratings[name] = Rag(raw)
    summary = _text(form.summary)
    if summary is None:
        errors.append(FieldError("summary", "summary_required"))
    path = _text(form.path_to_green)
    if path is None and any(r is not Rag.GREEN for r in ratings.values()):
        errors.append(FieldError("path_to_green", "path_required"))
    forecast: date | None = None
    if form.forecast_end:
        try:
            forecast = date.fromisoformat(form.forecast_end)
        except ValueError:
            errors.append(FieldError("forecast_end", "invalid_date"))
    percent: int | None = None
    if form.percent_complete not in (None, ""):
        try:
            percent = int(str(form.percent_complete))
        except ValueError:
            percent = -1
        if not 0 <= percent <= 100:
            errors.append(FieldError("percent_complete", "invalid_percent"))
    for name in ("summary", "path_to_green", "accomplishments", "next_steps", "help_needed"):
        if len(_text(getattr(form, name)) or "") > MAX_TEXT:
            errors.append(FieldError(name, "too_long", {"limit": MAX_TEXT}))
    items = {name: _items(getattr(form, name)) for name in ("risks", "blockers")}
    for name, values in items.items():
        if len(values) > MAX_ITEMS:
            errors.append(FieldError(name, "too_many_items", {"limit": MAX_ITEMS}))
        elif any(len(v) > MAX_ITEM_LENGTH for v in values):
            errors.append(FieldError(name, "item_too_long", {"limit": MAX_ITEM_LENGTH}))
    if errors or summary is None:
        return errors
    return ReportDraft(
        summary=summary,
        path_to_green=path,
        forecast_end=forecast,
        percent_complete=percent,
        accomplishments=_text(form.accomplishments),
        next_steps=_text(form.next_steps),
        risks=items["risks"],
        blockers=items["blockers"],
        help_needed=_text(form.help_needed),
        overall=ratings["overall"],
        schedule=ratings["schedule"],
        budget=ratings["budget"],
        scope=ratings["scope"],
    )


@dataclass(frozen=True, slots=True)
class ReportTarget:
    """What a prompt asks for: a project and the period it reports on, in the PM's timezone."""

    project: Project
    period: cadence.Period
    tz: ZoneInfo
    previous: Report | None


@dataclass(frozen=True, slots=True)
class Denied:
    reason: str  # a code the templates turn into words: not_found, not_allowed
    project: Project | None = None


@dataclass(frozen=True, slots=True)
class Saved:
    report: Report
    target: ReportTarget


def find_target(
    session: Session, *, actor: str, delivery_id: int, admins: Collection[str], default_tz: ZoneInfo
) -> ReportTarget | Denied:
    """Resolve a prompt into its project and period, if `actor` may report on it.

    `previous` is the newest report up to this period (this period's own, when the PM is
    correcting an answer), used to prefill the ratings and the forecast."""
    delivery = deliveries.find_delivery(session, delivery_id)
    if delivery is None or delivery.kind is not DeliveryKind.PROMPT or delivery.project_id is None:
        return Denied("not_found")
    project = portfolio.find_project_by_id(session, delivery.project_id)
    if project is None:
        return Denied("not_found")
    if not can_submit(actor, project, admins):
        return Denied("not_allowed", project)
    cached = users.find_users(session, [project.pm]).get(project.pm)
    tz = cadence.zone(cached.tz if cached else None, default_tz)
    end = cadence.next_occurrence(
        project.cadence, tz, after=delivery.occurrence, anchor=project.start
    )
    history = reports.latest_reports(
        session, [project.id], before=delivery.occurrence + timedelta(microseconds=1), per_project=1
    )
    previous = history[project.id][0] if history[project.id] else None
    return ReportTarget(project, cadence.Period(delivery.occurrence, end), tz, previous)


def submit_report(
    session: Session,
    *,
    actor: str,
    delivery_id: int,
    form: ReportForm,
    admins: Collection[str],
    default_tz: ZoneInfo,
    now: datetime,
) -> Saved | Denied | list[FieldError]:
    """Store a valid answer in the period of the prompt it answers, whenever it arrives."""
    target = find_target(
        session, actor=actor, delivery_id=delivery_id, admins=admins, default_tz=default_tz
    )
    if isinstance(target, Denied):
        return target
    draft = validate_report(form)
    if isinstance(draft, list):
        return draft
    period = (target.project.id, target.period.start)
    replaced = bool(reports.find_period_reports(session, [period]))
    report = reports.save_report(
        session,
        draft,
        project_id=target.project.id,
        period_start=target.period.start,
        submitted_by=actor,
        submitted_at=now,
    )
    note_late_report(
        session,
        project=target.project,
        report=report,
        replaced=replaced,
        now=now,
        default_tz=default_tz,
    )
    return Saved(report, target)
